"""When a query may search the exact NumPy copy of an index's vectors instead of Chroma, and
keeping that copy in step with Chroma (the copy itself: vectorstore.ExactStore).

Only a small embedded index has one (`exact_search_max_chunks`, 20,000 chunks by default):
there, importing chromadb costs a query more than searching every vector does. The copy lives
in `<index_dir>/exact/`; the catalog's `exact_copy` fact says what it copies: {"token": the
copy's token, "version": the catalog version, "chunks": the chunk count}. A query trusts the
copy only while all three still hold and Chroma's own folder is still there; otherwise it
searches Chroma, as every query did before, and never a copy that may be behind.

The copy is written from Chroma, the store of record, at the end of every ingest that changed
the index (and by the first query that finds it missing or stale, when it can take the write
lock). Like BM25 it is derived data, rebuilt whole rather than patched, so a killed, resumed
or failed ingest, removed papers or re-chunked ones cannot leave it wrong, only stale.
"""

from __future__ import annotations

from pathlib import Path

from rag.catalog import Catalog
from vectorstore import SOURCE_PREFIX, ExactStore, looks_intact, remove_exact, write_exact

EXACT_DIR = "exact"
FACT = "exact_copy"


def eligible(catalog: Catalog, embedded: bool, max_chunks: int) -> bool:
    return embedded and 0 < catalog.count_chunks() <= max_chunks


def _recorded(catalog: Catalog) -> dict | None:
    """The fact, when it still describes the catalog as it is now."""
    fact = catalog.get_meta(FACT)
    if not isinstance(fact, dict) or fact.get("version") != catalog.get_meta("version", 0):
        return None
    return fact if fact.get("chunks") == catalog.count_chunks() else None


def current_copy(catalog: Catalog, index_dir: Path) -> ExactStore | None:
    """The copy, when it is whole and copies the index as it is now; else None."""
    fact = _recorded(catalog)
    if fact is None or not looks_intact(index_dir / "chroma"):
        return None
    try:
        store = ExactStore(index_dir / EXACT_DIR)
    except (OSError, ValueError, KeyError, TypeError):
        return None  # missing or damaged: derived data, searched through Chroma instead
    return store if store.token == fact.get("token") and store.count() == fact["chunks"] else None


def open_copy(catalog: Catalog, index_dir: Path, embedded: bool, max_chunks: int) -> ExactStore | None:
    """What a query searches instead of Chroma, or None (then it searches Chroma)."""
    return current_copy(catalog, index_dir) if eligible(catalog, embedded, max_chunks) else None


def refresh_copy(catalog: Catalog, index_dir: Path, chroma, max_chunks: int) -> bool:
    """Bring the copy in line with `chroma` (the index's ChromaStore); the caller holds the write
    lock and Chroma holds what the catalog records. Writes it when the index may have one and
    it is missing or stale, removes it when the index may not. Returns whether one is current."""
    folder = index_dir / EXACT_DIR
    if not eligible(catalog, chroma.url is None, max_chunks):
        if folder.exists() or catalog.get_meta(FACT) is not None:
            catalog.set_meta(**{FACT: None})
            remove_exact(folder)
        return False
    if current_copy(catalog, index_dir) is not None:
        return True
    catalog.set_meta(**{FACT: None})  # while it is rewritten, no query trusts it
    token = write_exact(folder, chroma.export(), SOURCE_PREFIX)
    chunks = catalog.all_chunk_ids()
    if sorted(ExactStore(folder).ids.tolist()) != chunks:  # Chroma and the catalog disagree: no copy beats a wrong one
        remove_exact(folder)
        return False
    catalog.set_meta(**{FACT: {"token": token, "version": catalog.get_meta("version", 0), "chunks": len(chunks)}})
    return True
