"""Structure-aware chunks of a document's pages, sized in the text model's tokens."""

from mivaa_extractor.extraction.chunking.chunker import Chunker, TextChunk, estimate_tokens

__all__ = ["Chunker", "TextChunk", "estimate_tokens"]
