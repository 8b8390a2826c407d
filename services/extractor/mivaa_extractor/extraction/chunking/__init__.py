"""Structure-aware chunks of a document's pages, sized in the text model's tokens (see chunker.py)."""

from mivaa_extractor.extraction.chunking.chunker import Chunker
from mivaa_extractor.extraction.chunking.segments import TextChunk
from mivaa_extractor.extraction.chunking.tokens import estimate_tokens

__all__ = ["Chunker", "TextChunk", "estimate_tokens"]
