"""Vector stores. Only Chroma today; the index talks to it through `ChromaStore`."""

from vectorstore.chroma_store import ChromaStore

__all__ = ["ChromaStore"]
