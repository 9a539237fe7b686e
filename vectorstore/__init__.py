"""Vector stores: Chroma (the store of record, embedded or a server) through `ChromaStore`, and
an exact NumPy copy of a small embedded store (`ExactStore`) that queries can search without
importing chromadb. Every chromadb import is in vectorstore/chroma_store.py, inside a function."""

from vectorstore.chroma_store import (SOURCE_PREFIX, ChromaStore, ReadOnlyTooLarge, ServerUnreachable, StoreDamaged,
                                      StoreError, drop_collection, folder_size, forget_open_clients, looks_intact,
                                      source_flag, where_clause)
from vectorstore.exact import ExactStore, remove_exact, write_exact

__all__ = ["SOURCE_PREFIX", "ChromaStore", "ExactStore", "ReadOnlyTooLarge", "ServerUnreachable", "StoreDamaged",
           "StoreError", "drop_collection", "folder_size", "forget_open_clients", "looks_intact",
           "remove_exact", "source_flag", "where_clause", "write_exact"]
