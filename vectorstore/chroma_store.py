"""Chunk embeddings in Chroma, with paper metadata for filters: the embedded persistent store
in the index folder, or a Chroma server (`chroma run`) given by URL.

We always pass embeddings in, so Chroma's default embedding function (which would download
a model) is never used. Distances are cosine; `query` returns cosine similarities.
Filters are metadata flags: `has_code` and one `src:<file name>` flag per corpus file,
because Chroma metadata values must be scalars.
On a server, each index keeps its vectors in a collection of its own (`paper_chunks_<id>`),
so several indexes can share one server. Knows nothing about papers beyond the metadata it
is given.

Chroma's quirks live here and nowhere else: it writes to its folder even to answer a query
(a read-only folder is queried from a temporary copy), chromadb keeps one client per folder
for the life of the process (`forget_open_clients`), and its many exception types become
`StoreError`s with a message fit for the user, which the index translates.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator, Sequence
from urllib.parse import urlsplit

import numpy as np

COLLECTION = "paper_chunks"
SOURCE_PREFIX = "src:"
# Chroma's HNSW search is approximate. At its defaults (ef 100) some builds of the shipped
# corpus's 541 chunks missed a query's true nearest chunk, so a paper that both retrievers
# rank first fell out of the fused top 5 (a flaky CI failure). At ef 200 no build of it
# missed any of the exact top 10 of a test or dev question or of a chunk (bench/bench_hnsw.py),
# with no measurable change in retrieval latency at this size — but two CI runs of 2026-11-28
# built a graph whose search at ef 200 left one chunk out of a dev question's 50 candidates
# (p0c7921cf49c7dba:1, both times, under the load of the test run); at ef 400 a search of the
# 541 chunks visits most of them. An index opened with a lower ef is raised to this one.
SEARCH_EF = 400
HNSW = {"space": "cosine", "ef_construction": 200, "ef_search": SEARCH_EF}
READ_ONLY_COPY_MAX = 1_000_000_000  # bytes of vectors copied to query a read-only store


def source_flag(file_name: str) -> str:
    return SOURCE_PREFIX + file_name


def where_clause(sources: Sequence[str] | None = None, has_code: bool | None = None) -> dict[str, Any] | None:
    parts: list[dict[str, Any]] = []
    if sources:
        flags = [{source_flag(s): True} for s in sources]
        parts.append(flags[0] if len(flags) == 1 else {"$or": flags})
    if has_code is not None:
        parts.append({"has_code": has_code})
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else {"$and": parts}


class StoreError(Exception):
    """The store cannot be used; the message is fit for the user."""


class ServerUnreachable(StoreError):
    """The Chroma server at the URL did not answer."""


class StoreDamaged(StoreError):
    """The embedded store's folder is missing or cannot be opened."""


class ReadOnlyTooLarge(StoreError):
    """A read-only store too large to query from a temporary copy."""


def folder_size(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(root, name))
            except OSError:
                pass
    return total


def looks_intact(folder: Path) -> bool:
    """A cheap check, without importing chromadb, that an embedded store is still there: its
    SQLite file exists and starts as one does (a copy of it is trusted only while it is)."""
    try:
        with open(Path(folder) / "chroma.sqlite3", "rb") as handle:
            return handle.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


def writable(folder: Path) -> bool:
    return os.access(folder, os.W_OK) and os.access(folder / "chroma.sqlite3", os.W_OK)


def read_only_copy(folder: Path) -> Path:
    """Chroma writes to its folder even to answer a query; for a read-only store (a shared
    or archived index) it works on a temporary copy, removed at exit."""
    size = folder_size(folder)
    if size > READ_ONLY_COPY_MAX:
        raise ReadOnlyTooLarge(f"its vector store ({size / 1e6:,.0f} MB) is too large to query from a temporary copy "
                               "(Chroma writes even to query)")
    scratch = Path(tempfile.mkdtemp(prefix="paper-qa-readonly-"))
    atexit.register(shutil.rmtree, scratch, True)
    copy = scratch / "chroma"
    shutil.copytree(folder, copy, copy_function=shutil.copyfile)
    for path in [copy, *copy.rglob("*")]:
        path.chmod(path.stat().st_mode | 0o700 if path.is_dir() else path.stat().st_mode | 0o600)
    return copy


def forget_open_clients() -> None:
    """chromadb keeps one client per folder path for the life of the process, open files
    included: after a folder is swapped or damaged, that path must open what is there now."""
    from chromadb.api.client import SharedSystemClient

    SharedSystemClient.clear_system_cache()


def _reason(exc: Exception) -> str:
    return str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__


def drop_collection(url: str, collection: str, token: str | None = None) -> None:
    """Delete a collection on a server (an index being replaced), without creating it first."""
    client = _server_client(url, token)
    try:
        client.delete_collection(collection)
    except Exception as exc:  # not found, refused: chromadb raises many types
        raise StoreError(_reason(exc)) from None


def _chroma_settings():
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


def _server_client(url: str, token: str | None):
    import chromadb

    host, port, ssl = parse_url(url)
    headers = {"Authorization": f"Bearer {token}"} if token else None
    try:
        client = chromadb.HttpClient(host=host, port=port, ssl=ssl, headers=headers, settings=_chroma_settings())
        client.heartbeat()
    except Exception as exc:  # connection refused, DNS, TLS: chromadb wraps them variously
        raise ServerUnreachable(f"cannot reach the Chroma server at {url} ({_reason(exc)}): start it "
                                "(`chroma run --path DIR --host 127.0.0.1 --port PORT`) or fix --chroma-url") from None
    return client


def parse_url(url: str) -> tuple[str, int, bool]:
    """http(s)://HOST[:PORT] -> (host, port, ssl); ValueError with the reason otherwise."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{url!r} is not a Chroma server URL: give http://HOST:PORT (e.g. http://127.0.0.1:8000)")
    if parts.path not in ("", "/") or parts.query:
        raise ValueError(f"{url!r}: give the server's address only (http://HOST:PORT), without a path")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 8000)
    except ValueError:
        raise ValueError(f"{url!r} has a bad port number: give http://HOST:PORT") from None
    return parts.hostname, port, parts.scheme == "https"


class ChromaStore:
    def __init__(self, path: Path | None = None, *, url: str | None = None, collection: str = COLLECTION,
                 token: str | None = None, existing: bool = False):
        """The embedded store at `path`, or the server at `url` (with an optional bearer token,
        for a server behind an authenticating proxy). `existing`: the folder must already hold
        a store (a query), and a read-only one is opened from a temporary copy."""
        self.path = None if path is None else Path(path)
        self.url = url
        if url is not None:
            self.client = _server_client(url, token)
            self.collection = self.client.get_or_create_collection(
                collection, configuration={"hnsw": HNSW}, embedding_function=None)
        else:
            self._open_folder(collection, existing)
        self.kind = "chroma"
        self.max_batch = int(self.client.get_max_batch_size())
        self._count: int | None = None

    def _open_folder(self, collection: str, existing: bool) -> None:
        import chromadb

        folder = self.path
        if existing:
            if not folder.is_dir():
                raise StoreDamaged(f"{folder} is missing")
            if not writable(folder):
                folder = read_only_copy(folder)
        try:
            self.client = chromadb.PersistentClient(path=str(folder), settings=_chroma_settings())
            self.collection = self.client.get_or_create_collection(
                collection, configuration={"hnsw": HNSW}, embedding_function=None)
        except Exception as exc:  # chromadb raises many types for a damaged folder
            raise StoreDamaged(_reason(exc)) from None

    def search_ef(self) -> int:
        return int((self.collection.configuration_json.get("hnsw") or {}).get("ef_search") or 0)

    def widen_search(self) -> None:
        """Raise the search breadth of an index built with Chroma's default (ingest calls
        this; queries never write)."""
        if self.search_ef() < SEARCH_EF:
            self.collection.modify(configuration={"hnsw": {"ef_search": SEARCH_EF}})

    def count(self) -> int:
        """Cached: counting costs tens of ms at 100k vectors, and every query needs it."""
        if self._count is None:
            self._count = int(self.collection.count())
        return self._count

    def upsert(self, ids: list[str], embeddings: np.ndarray, metadatas: list[dict[str, Any]]) -> None:
        """Vectors and filter metadata only: chunk texts live in the catalog, so Chroma does
        not keep (and full-text index) a second copy of the corpus."""
        self._count = None
        for start in range(0, len(ids), self.max_batch):
            end = start + self.max_batch
            self.collection.upsert(ids=ids[start:end], embeddings=embeddings[start:end],
                                   metadatas=metadatas[start:end])

    def update_metadata(self, ids: list[str], metadatas: list[dict[str, Any]]) -> None:
        """Replace these chunks' metadata. Chroma's update merges (keys it is not given stay),
        so a flag the new metadata lacks (a corpus file the paper left) is deleted explicitly."""
        for start in range(0, len(ids), self.max_batch):
            end = start + self.max_batch
            old = self.collection.get(ids=ids[start:end], include=["metadatas"])
            old_keys = {i: set(m or {}) for i, m in zip(old["ids"], old["metadatas"])}
            full = [{**dict.fromkeys(old_keys.get(i, set()) - set(m)), **m} for i, m in zip(ids[start:end], metadatas[start:end])]
            self.collection.update(ids=ids[start:end], metadatas=full)

    def delete(self, ids: list[str]) -> None:
        self._count = None
        for start in range(0, len(ids), self.max_batch):
            self.collection.delete(ids=ids[start:start + self.max_batch])

    def vectors(self, ids: list[str]) -> dict[str, np.ndarray]:
        """Chunk id -> its stored vector, for those of these ids the store holds."""
        out: dict[str, np.ndarray] = {}
        for start in range(0, len(ids), self.max_batch):
            got = self.collection.get(ids=ids[start:start + self.max_batch], include=["embeddings"])
            out.update(zip(got["ids"], np.asarray(got["embeddings"], dtype=np.float32)))
        return out

    def export(self, batch: int = 5000) -> Iterator[tuple[list[str], np.ndarray, list[dict[str, Any]]]]:
        """Every (ids, vectors, metadatas), a batch at a time: what an exact copy is written from."""
        for offset in range(0, self.count(), batch):
            got = self.collection.get(include=["embeddings", "metadatas"], limit=batch, offset=offset)
            yield list(got["ids"]), np.asarray(got["embeddings"], dtype=np.float32), list(got["metadatas"])

    def query(self, embedding: np.ndarray, n: int, where: dict[str, Any] | None = None) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) for the n nearest chunks, best first."""
        n = min(n, self.count())
        if n <= 0:
            return []
        result = self.collection.query(
            query_embeddings=np.asarray(embedding, dtype=np.float32).reshape(1, -1),
            n_results=n, where=where, include=["distances"],
        )
        return [(cid, 1.0 - float(d)) for cid, d in zip(result["ids"][0], result["distances"][0])]
