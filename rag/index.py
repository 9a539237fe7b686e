"""The on-disk index: a folder with the catalog (SQLite), the Chroma store and BM25.

    <index_dir>/catalog.sqlite   papers, chunks, facts (model, build times, state)
    <index_dir>/chroma/          chunk embeddings (vectorstore.ChromaStore)
    <index_dir>/bm25/            BM25 over chunk texts + filter masks
    <index_dir>/.lock            held while an ingest writes

Opening checks everything a user can get wrong (a file where the folder should be, an
unreadable or damaged folder, another embedding model) and says how to fix it. The BM25
part is derived from the catalog, so when it is missing or stale it is rebuilt, not feared.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from rag.bm25 import BM25Index
from rag.catalog import Catalog
from rag.errors import IndexUnavailable

INDEX_FORMAT = 1
READY = "ready"


def folder_size(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(root, name))
            except OSError:
                pass
    return total


def check_folder(index_dir: Path) -> None:
    if index_dir.exists() and not index_dir.is_dir():
        raise IndexUnavailable(f"index path {index_dir} is a file, not a folder: move it away or set RAG_INDEX_DIR / --index-dir to a folder")
    if index_dir.exists() and not os.access(index_dir, os.R_OK | os.X_OK):
        raise IndexUnavailable(f"cannot read index folder {index_dir}: permission denied (fix its permissions or choose another --index-dir)")


def damaged(index_dir: Path, part: str, exc: Exception) -> IndexUnavailable:
    reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return IndexUnavailable(f"index at {index_dir} is damaged ({part}: {reason}): rebuild it with `rag ingest --rebuild`")


def is_ready(index_dir: Path) -> bool:
    """True when a complete index is there (an interrupted ingest leaves it not ready)."""
    check_folder(index_dir)
    if not (index_dir / "catalog.sqlite").exists():
        return False
    catalog = open_catalog(index_dir)
    try:
        return catalog.get_meta("state") == READY
    finally:
        catalog.close()


def open_catalog(index_dir: Path) -> Catalog:
    try:
        return Catalog(index_dir / "catalog.sqlite")
    except sqlite3.DatabaseError as exc:
        raise damaged(index_dir, "catalog", exc) from None


def check_model(catalog: Catalog, index_dir: Path, model: str) -> None:
    built_with = catalog.get_meta("embed_model")
    if built_with is not None and built_with != model:
        raise IndexUnavailable(
            f"index at {index_dir} was built with embedding model {built_with}, not {model}: "
            f"use RAG_EMBED_MODEL={built_with}, or rebuild with `rag ingest --rebuild`"
        )


@contextmanager
def write_lock(index_dir: Path) -> Iterator[None]:
    """One writer at a time; a second ingest fails at once instead of corrupting the index."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IndexUnavailable(f"another ingest is writing the index at {index_dir}: wait for it to finish") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def open_store(index_dir: Path):
    from vectorstore import ChromaStore

    try:
        return ChromaStore(index_dir / "chroma")
    except Exception as exc:  # chromadb raises many types for a damaged folder
        raise damaged(index_dir, "vector store", exc) from None


def build_bm25(catalog: Catalog, index_dir: Path) -> BM25Index:
    papers = list(catalog.iter_papers())
    bm25 = BM25Index.build(catalog.iter_chunks(),
                           has_code={p.paper_id: p.code_url is not None for p in papers},
                           sources={p.paper_id: p.sources for p in papers})
    bm25.save(index_dir / "bm25")
    catalog.set_meta(bm25_version=catalog.get_meta("version", 0))
    return bm25


class Index:
    """A ready index opened for querying."""

    def __init__(self, index_dir: Path, embed_model: str):
        self.dir = Path(index_dir)
        check_folder(self.dir)
        if not (self.dir / "catalog.sqlite").exists():
            raise IndexUnavailable(f"no index at {self.dir}: build it with `rag ingest`")
        self.catalog = open_catalog(self.dir)
        try:
            state = self.catalog.get_meta("state")
        except sqlite3.DatabaseError as exc:
            raise damaged(self.dir, "catalog", exc) from None
        if state != READY:
            raise IndexUnavailable(f"index at {self.dir} is incomplete (an ingest was interrupted): run `rag ingest` to finish it")
        check_model(self.catalog, self.dir, embed_model)
        self.embed_model = embed_model
        self.store = open_store(self.dir)
        self.bm25 = self._load_bm25()

    @classmethod
    def for_stats(cls, index_dir: Path) -> "Index":
        """Open an index whatever model built it (stats describe it, they do not query it)."""
        check_folder(Path(index_dir))
        if not (Path(index_dir) / "catalog.sqlite").exists():
            raise IndexUnavailable(f"no index at {index_dir}: build it with `rag ingest`")
        catalog = open_catalog(Path(index_dir))
        model = catalog.get_meta("embed_model")
        catalog.close()
        return cls(Path(index_dir), model)

    def _load_bm25(self) -> BM25Index:
        fresh = self.catalog.get_meta("bm25_version") == self.catalog.get_meta("version", 0)
        if fresh:
            try:
                return BM25Index.load(self.dir / "bm25")
            except (OSError, ValueError, KeyError):
                pass  # derived data: rebuild below
        return build_bm25(self.catalog, self.dir)

    def stats(self) -> dict:
        meta = self.catalog.all_meta()
        return {
            "index_dir": str(self.dir),
            "papers": self.catalog.count_papers(),
            "chunks": self.catalog.count_chunks(),
            "vectors": self.store.count(),
            "size_bytes": folder_size(self.dir),
            "embed_model": meta.get("embed_model"),
            "embed_dim": meta.get("embed_dim"),
            "chunking": meta.get("chunking"),
            "bm25": "bm25s (English stemmer, stopwords)",
            "vector_store": "chroma (embedded, cosine)",
            "corpus_files": self.catalog.source_files(),
            "built_at": meta.get("built_at"),
            "updated_at": meta.get("updated_at"),
            "format": meta.get("format"),
        }
