"""Vector stores. Only Chroma today; the index talks to it through `ChromaStore`."""

from vectorstore.chroma_store import (SOURCE_PREFIX, ChromaStore, ReadOnlyTooLarge, ServerUnreachable, StoreDamaged,
                                      StoreError, drop_collection, folder_size, forget_open_clients, source_flag,
                                      where_clause)

__all__ = ["SOURCE_PREFIX", "ChromaStore", "ReadOnlyTooLarge", "ServerUnreachable", "StoreDamaged", "StoreError",
           "drop_collection", "folder_size", "forget_open_clients", "source_flag", "where_clause"]
