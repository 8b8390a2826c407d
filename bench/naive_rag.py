"""The naive retrieval pipeline a new user writes in 30 lines, the baseline of bench/retrieval_quality.py.

pypdf reads each page, llama-index's SentenceSplitter cuts the pages into 256-token
chunks with 32 tokens of overlap, and an in-memory VectorStoreIndex ranks them by
cosine similarity. The embeddings come from the project's own exported
all-MiniLM-L6-v2 run in-process (mivaa_embedder.text_model.OnnxTextEmbedder, the
same class and precision the embedder service uses), so both sides embed
identically and the comparison measures retrieval, not the model.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from llama_index.core import Document, VectorStoreIndex
from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.node_parser import SentenceSplitter
from pydantic import PrivateAttr

CHUNK_SIZE = 256
CHUNK_OVERLAP = 32
# Where a chunk came from; kept out of the embedded text (only the page's words are embedded).
DOC_KEY = "doc"
PAGE_KEY = "page"


class MiniLMEmbedding(BaseEmbedding):
    """A llama-index embedding model backed by the project's ONNX export of all-MiniLM-L6-v2."""

    _model: object = PrivateAttr()

    def __init__(self, model_dir: str | os.PathLike, **kwargs):
        from mivaa_embedder.text_model import OnnxTextEmbedder

        model = OnnxTextEmbedder(model_dir)
        super().__init__(model_name=model.name, embed_batch_size=64, **kwargs)
        self._model = model

    def _vectors(self, texts: Sequence[str]) -> list[list[float]]:
        return self._model.embed(list(texts)).vectors.tolist()  # type: ignore[attr-defined]

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._vectors([query])[0]

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._vectors([text])[0]

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return self._vectors(texts)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)

    async def _aget_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embedding(text)


@dataclass(frozen=True)
class NaiveHit:
    doc: str
    page_start: int
    page_end: int
    text: str


def page_documents(pages: Iterable[tuple[str, int, str]]) -> list[Document]:
    """One llama-index Document per page (document key, 1-based number, pypdf's text), as llama-index's PDF reader builds them."""
    return [
        Document(
            text=text,
            metadata={DOC_KEY: key, PAGE_KEY: number},
            excluded_embed_metadata_keys=[DOC_KEY, PAGE_KEY],
            excluded_llm_metadata_keys=[DOC_KEY, PAGE_KEY],
        )
        for key, number, text in pages
    ]


class NaivePipeline:
    """pypdf pages -> SentenceSplitter(256, 32) -> in-memory VectorStoreIndex -> top-k retriever."""

    def __init__(self, pages: Iterable[tuple[str, int, str]], embed_model: BaseEmbedding):
        splitter = SentenceSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP)
        self.nodes = splitter.get_nodes_from_documents(page_documents(pages))
        self.index = VectorStoreIndex(self.nodes, embed_model=embed_model)

    def search(self, query: str, top_k: int) -> list[NaiveHit]:
        retriever = self.index.as_retriever(similarity_top_k=top_k)
        hits = []
        for scored in retriever.retrieve(query):
            page = int(scored.node.metadata[PAGE_KEY])
            hits.append(NaiveHit(str(scored.node.metadata[DOC_KEY]), page, page, scored.node.get_content()))
        return hits
