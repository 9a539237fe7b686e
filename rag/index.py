"""The on-disk index: a folder with the catalog (SQLite), the Chroma store and BM25.

    <index_dir>/catalog.sqlite   papers, chunks, facts (model, build times, state)
    <index_dir>/chroma/          chunk embeddings (vectorstore.ChromaStore), unless they are
                                 kept on a Chroma server (`--chroma-url`)
    <index_dir>/bm25/            BM25 over chunk texts + filter masks
    <index_dir>/exact/           a small embedded index's vectors, copied from Chroma for exact
                                 search without chromadb (rag.exact_search)
    <index_dir>/.lock            held while an ingest writes
    <index_dir>/ingest-run.sqlite  an unfinished ingest's checkpoint (rag.ingest)

Opening checks everything a user can get wrong (a file where the folder should be, an
unreadable or damaged folder, another embedding model) and says how to fix it. The BM25
part is derived from the catalog, so when it is missing or stale it is rebuilt, not feared.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import sqlite3
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from rag.bm25 import BM25Index
from rag.catalog import Catalog
from rag.errors import IndexUnavailable
from rag.exact_search import current_copy, eligible, open_copy, refresh_copy
from vectorstore import folder_size

INDEX_FORMAT = 1
READY = "ready"


def check_folder(index_dir: Path) -> None:
    if index_dir.exists() and not index_dir.is_dir():
        raise IndexUnavailable(f"index path {index_dir} is a file, not a folder: move it away or set RAG_INDEX_DIR / --index-dir to a folder")
    if index_dir.exists() and not os.access(index_dir, os.R_OK | os.X_OK):
        raise IndexUnavailable(f"cannot read index folder {index_dir}: permission denied (fix its permissions or choose another --index-dir)")


def check_writable(index_dir: Path) -> None:
    """Before an ingest changes anything: a read-only folder is one line, not a stack of
    SQLite errors half-way through."""
    if index_dir.exists() and not os.access(index_dir, os.W_OK):
        raise IndexUnavailable(f"index folder {index_dir} is read-only, so nothing was changed: make it writable "
                               "or choose another --index-dir (queries still work)")


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


def store_location(catalog: Catalog, index_dir: Path, chroma_url: str | None, creating: bool = False) -> dict:
    """Where an index keeps its vectors: {"kind": "embedded"} (its chroma/ folder) or
    {"kind": "server", "url": …, "collection": …}. Fixed when the index is first built;
    `chroma_url` may then only move a server index to another address."""
    recorded = catalog.get_meta("vector_store")
    if recorded is None:
        new = creating and catalog.count_papers() == 0 and not (index_dir / "chroma").exists()
        if new and chroma_url:
            recorded = {"kind": "server", "url": chroma_url, "collection": f"paper_chunks_{uuid.uuid4().hex[:12]}"}
        else:
            recorded = {"kind": "embedded"}
        if creating:
            catalog.set_meta(vector_store=recorded)
    if recorded["kind"] == "embedded" and chroma_url:
        raise IndexUnavailable(
            f"index at {index_dir} keeps its vectors in its own folder, not on a Chroma server: drop --chroma-url "
            f"(RAG_CHROMA_URL), or move it to the server with `rag ingest --rebuild --chroma-url {chroma_url}`")
    if recorded["kind"] == "server" and chroma_url and chroma_url != recorded["url"] and creating:
        recorded = {**recorded, "url": chroma_url}
        catalog.set_meta(vector_store=recorded)
    return recorded


def _server_location(index_dir: Path) -> dict | None:
    """The Chroma server collection an existing index keeps its vectors in, if any; None too
    for a damaged catalog (what --rebuild is for: it must not stop it)."""
    if not (index_dir / "catalog.sqlite").exists():
        return None
    try:
        catalog = open_catalog(index_dir)
        try:
            where = catalog.get_meta("vector_store")
        finally:
            catalog.close()
    except (IndexUnavailable, sqlite3.DatabaseError):
        return None
    return where if where and where.get("kind") == "server" else None


def open_store(index_dir: Path, catalog: Catalog | None = None, chroma_url: str | None = None,
               chroma_token: str | None = None, creating: bool = False):
    """The index's vector store; the store's own errors become `IndexUnavailable`."""
    from vectorstore import ChromaStore, ReadOnlyTooLarge, ServerUnreachable, StoreError

    where = store_location(catalog, index_dir, chroma_url, creating) if catalog is not None else {"kind": "embedded"}
    try:
        if where["kind"] == "server":
            return ChromaStore(url=chroma_url or where["url"], collection=where["collection"], token=chroma_token)
        return ChromaStore(index_dir / "chroma", existing=not creating)
    except ServerUnreachable as exc:
        raise IndexUnavailable(str(exc)) from None
    except ReadOnlyTooLarge as exc:
        raise IndexUnavailable(f"index folder {index_dir} is read-only and {exc}: make it writable or copy the "
                               "index elsewhere") from None
    except StoreError as exc:
        raise damaged(index_dir, "vector store", exc) from None


def swap_in(fresh: Path, final: Path, chroma_url: str | None, chroma_token: str | None) -> str | None:
    """Replace the index at `final` with the one built at `fresh` (a rebuild); the old index's
    vectors on a Chroma server go with it. Returns a warning when they could not be deleted."""
    from vectorstore import StoreError, drop_collection, forget_open_clients

    replaced = _server_location(final)
    old = final.with_name(final.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if final.exists():
        final.rename(old)
    fresh.rename(final)
    forget_open_clients()  # the path must now open the new store, not the one moved away
    shutil.rmtree(old, ignore_errors=True)
    if replaced is None:
        return None
    try:
        drop_collection(chroma_url or replaced["url"], replaced["collection"], chroma_token)
    except StoreError as exc:
        return f"could not delete the old index's collection {replaced['collection']} on the Chroma server: {exc}"
    return None


def build_bm25(catalog: Catalog, index_dir: Path) -> BM25Index:
    bm25 = BM25Index.build(catalog.iter_chunks_for_bm25(), spill_dir=index_dir)
    bm25.save(index_dir / "bm25")
    catalog.set_meta(bm25_version=catalog.get_meta("version", 0))
    return bm25


class Index:
    """A ready index opened for querying. `store` is what queries search: the exact copy of a
    small embedded index's vectors when it is current (rag.exact_search; chromadb is then not
    even imported), else Chroma. `chroma` is Chroma either way, opened on first use."""

    def __init__(self, index_dir: Path, embed_model: str, chroma_url: str | None = None,
                 chroma_token: str | None = None, exact_max_chunks: int = 0):
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
        self.version = self.catalog.get_meta("version", 0)  # before any store is opened
        self._chroma_args = (chroma_url, chroma_token)
        self._chroma = None
        self.location = store_location(self.catalog, self.dir, chroma_url)
        embedded = self.location["kind"] == "embedded"
        self.store = open_copy(self.catalog, self.dir, embedded, exact_max_chunks)
        if self.store is None:
            self.store = self.chroma
            if eligible(self.catalog, embedded, exact_max_chunks):
                self._write_copy(exact_max_chunks)
        self.bm25 = self._load_bm25()

    @property
    def chroma(self):
        """The Chroma store (the store of record), checked to hold the index's vectors."""
        if self._chroma is None:
            store = open_store(self.dir, self.catalog, *self._chroma_args)
            if store.count() == 0 and self.catalog.count_chunks() > 0:
                if self.location["kind"] == "embedded":
                    raise damaged(self.dir, "vector store", ValueError("it holds no vectors"))
                raise IndexUnavailable(
                    f"the Chroma server at {store.url} has no vectors for the index at {self.dir} (collection "
                    f"{self.location['collection']}): point --chroma-url at the server it was built on, or rebuild with `rag ingest --rebuild`")
            self._chroma = store
        return self._chroma

    def _write_copy(self, max_chunks: int) -> None:
        """A query that found the exact copy missing or stale writes it for the next one, when
        it may: the folder is writable, no ingest holds the lock, and none ran since this
        index was opened (this process's Chroma would not show what it wrote)."""
        if not os.access(self.dir, os.W_OK):
            return
        try:
            with write_lock(self.dir):
                if self.catalog.get_meta("state") == READY and self.catalog.get_meta("version", 0) == self.version:
                    refresh_copy(self.catalog, self.dir, self.chroma, max_chunks)
        except (IndexUnavailable, OSError, sqlite3.Error):
            pass  # derived data: the next query or ingest writes it

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
            except (OSError, ValueError, KeyError, EOFError):
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
            "bm25": "BM25 (bm25s lucene scoring, English stemmer, stopwords)",
            "vector_store": ("chroma (embedded, cosine)" if self.location["kind"] == "embedded" else
                             f"chroma server {self.store.url}, collection {self.location['collection']} (cosine)"),
            "exact_copy": copy.count() if (copy := current_copy(self.catalog, self.dir)) else None,
            "embed_backend": meta.get("embed_backend", "torch"),
            "corpus_files": self.bm25.source_files(),  # the catalog would scan every paper
            "built_at": meta.get("built_at"),
            "updated_at": meta.get("updated_at"),
            "format": meta.get("format"),
        }
