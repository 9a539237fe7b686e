"""The index's catalog: papers, their chunks and the index's own facts, in one SQLite file.

It is the source of truth for incremental ingest (content and metadata hashes per paper),
for the BM25 rebuild (chunk texts) and for showing papers at query time, so nothing needs
the corpus files after ingest. Chroma holds only vectors (and copies of chunk text).
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np

from rag.records import Chunk, Paper

SCHEMA = """
CREATE TABLE IF NOT EXISTS papers (
    paper_id TEXT PRIMARY KEY, title TEXT NOT NULL, abstract TEXT NOT NULL,
    sources TEXT NOT NULL, truncated INTEGER NOT NULL, code_url TEXT, metadata TEXT NOT NULL,
    content_hash TEXT NOT NULL, meta_hash TEXT NOT NULL, record_ids TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id TEXT PRIMARY KEY, paper_id TEXT NOT NULL, ordinal INTEGER NOT NULL, text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_by_paper ON chunks(paper_id);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS evidence (paper_id TEXT PRIMARY KEY, dim INTEGER NOT NULL, vectors BLOB NOT NULL);
"""


def _paper(row: sqlite3.Row) -> Paper:
    record_ids = json.loads(row["record_ids"]) if "record_ids" in row.keys() else []  # a read-only older index
    return Paper(paper_id=row["paper_id"], title=row["title"], abstract=row["abstract"],
                 sources=json.loads(row["sources"]), truncated=bool(row["truncated"]),
                 code_url=row["code_url"], metadata=json.loads(row["metadata"]), record_ids=record_ids)


class Catalog:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.db = sqlite3.connect(str(self.path), timeout=30)
        self.db.row_factory = sqlite3.Row
        self.db.executescript(SCHEMA)
        columns = {r["name"] for r in self.db.execute("PRAGMA table_info(papers)")}
        if "record_ids" not in columns:  # a catalog from before record ids were kept
            try:
                with self.db:
                    self.db.execute("ALTER TABLE papers ADD COLUMN record_ids TEXT NOT NULL DEFAULT '[]'")
            except sqlite3.OperationalError:
                pass  # read-only: it is read as it is

    def close(self) -> None:
        self.db.close()

    # -- facts about the index -------------------------------------------------------
    def get_meta(self, key: str, default: Any = None) -> Any:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row["value"])

    def set_meta(self, **values: Any) -> None:
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)",
                                [(k, json.dumps(v)) for k, v in values.items()])

    def all_meta(self) -> dict[str, Any]:
        return {r["key"]: json.loads(r["value"]) for r in self.db.execute("SELECT key, value FROM meta")}

    # -- papers and chunks ----------------------------------------------------------------
    def hashes_for(self, paper_ids: list[str]) -> dict[str, tuple[str, str]]:
        """(content hash, metadata hash) of those of these papers that are indexed."""
        found: dict[str, tuple[str, str]] = {}
        for start in range(0, len(paper_ids), 500):
            part = paper_ids[start:start + 500]
            rows = self.db.execute("SELECT paper_id, content_hash, meta_hash FROM papers "
                                   f"WHERE paper_id IN ({','.join('?' * len(part))})", part)
            found.update((r[0], (r[1], r[2])) for r in rows)
        return found

    def put_papers(self, items: Iterable[tuple[Paper, str, str, list[Chunk] | None]],
                   evidence: dict[str, np.ndarray] | None = None) -> None:
        """Insert or replace papers; chunks=None keeps the paper's stored chunks. `evidence`:
        paper id -> one vector per abstract sentence (rag.evidence), kept as float16. One
        transaction, so a paper's row, chunks and evidence are written together or not at all."""
        with self.db:
            for pid, vectors in (evidence or {}).items():
                self.db.execute("INSERT OR REPLACE INTO evidence VALUES (?, ?, ?)",
                                (pid, int(vectors.shape[1]), np.asarray(vectors, dtype=np.float16).tobytes()))
            for paper, content_hash, meta_hash, chunks in items:
                self.db.execute(
                    "INSERT OR REPLACE INTO papers(paper_id, title, abstract, sources, truncated, code_url, metadata, "
                    "content_hash, meta_hash, record_ids) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (paper.paper_id, paper.title, paper.abstract, json.dumps(paper.sources),
                     int(paper.truncated), paper.code_url, json.dumps(paper.metadata, ensure_ascii=False),
                     content_hash, meta_hash, json.dumps(paper.record_ids, ensure_ascii=False)))
                if chunks is not None:
                    self.db.execute("DELETE FROM chunks WHERE paper_id = ?", (paper.paper_id,))
                    self.db.executemany("INSERT INTO chunks VALUES (?, ?, ?, ?)",
                                        [(c.chunk_id, c.paper_id, c.ordinal, c.text) for c in chunks])

    def delete_papers(self, paper_ids: Iterable[str]) -> None:
        with self.db:
            for pid in paper_ids:
                self.db.execute("DELETE FROM chunks WHERE paper_id = ?", (pid,))
                self.db.execute("DELETE FROM evidence WHERE paper_id = ?", (pid,))
                self.db.execute("DELETE FROM papers WHERE paper_id = ?", (pid,))

    def paper_ids_after(self, last: str, limit: int) -> list[str]:
        """Up to `limit` indexed paper ids after `last`, in id order (a walk over every paper)."""
        rows = self.db.execute("SELECT paper_id FROM papers WHERE paper_id > ? ORDER BY paper_id LIMIT ?", (last, limit))
        return [r[0] for r in rows]

    def sample_paper_ids(self, n: int) -> list[str]:
        """About `n` paper ids spread evenly over the whole index (in id order: ids are hashes, so
        a fixed, topic-blind sample) — a reference for what a typical paper looks like."""
        step = max(1, self.count_papers() // max(1, n))
        rows = self.db.execute("SELECT paper_id FROM (SELECT paper_id, ROW_NUMBER() OVER (ORDER BY paper_id) AS r "
                               "FROM papers) WHERE r % ? = 0 LIMIT ?", (step, n))
        return [r[0] for r in rows]

    def chunk_ids(self, paper_ids: Iterable[str]) -> list[str]:
        out: list[str] = []
        for pid in paper_ids:
            out.extend(r[0] for r in self.db.execute("SELECT chunk_id FROM chunks WHERE paper_id = ?", (pid,)))
        return out

    def all_chunk_ids(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT chunk_id FROM chunks ORDER BY chunk_id")]

    def evidence(self, paper_ids: Iterable[str]) -> dict[str, np.ndarray]:
        """Paper id -> its sentence vectors (float32), for those of these papers that have them."""
        ids = list(dict.fromkeys(paper_ids))
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(ids), 500):
            part = ids[start:start + 500]
            rows = self.db.execute(f"SELECT paper_id, dim, vectors FROM evidence WHERE paper_id IN ({','.join('?' * len(part))})", part)
            for pid, dim, blob in rows:
                found[pid] = np.frombuffer(blob, dtype=np.float16).reshape(-1, dim).astype(np.float32)
        return found

    def papers(self, paper_ids: Iterable[str]) -> dict[str, Paper]:
        ids = list(dict.fromkeys(paper_ids))
        found: dict[str, Paper] = {}
        for start in range(0, len(ids), 500):
            part = ids[start:start + 500]
            rows = self.db.execute(f"SELECT * FROM papers WHERE paper_id IN ({','.join('?' * len(part))})", part)
            found.update((r["paper_id"], _paper(r)) for r in rows)
        return found

    def iter_papers(self) -> Iterator[Paper]:
        for row in self.db.execute("SELECT * FROM papers ORDER BY paper_id"):
            yield _paper(row)

    def iter_chunks(self) -> Iterator[tuple[str, str, str]]:
        """(chunk_id, paper_id, text) in a stable order."""
        yield from self.db.execute("SELECT chunk_id, paper_id, text FROM chunks ORDER BY chunk_id")

    def iter_chunks_for_bm25(self) -> Iterator[tuple[str, str, bool, list[str]]]:
        """(chunk_id, text, has code, source files) in chunk id order, streamed."""
        rows = self.db.execute(
            "SELECT c.chunk_id, c.text, p.code_url IS NOT NULL, p.sources FROM chunks c "
            "JOIN papers p ON p.paper_id = c.paper_id ORDER BY c.chunk_id")
        for chunk_id, text, has_code, sources in rows:
            yield chunk_id, text, bool(has_code), json.loads(sources)

    def chunk_text(self, chunk_id: str) -> str | None:
        row = self.db.execute("SELECT text FROM chunks WHERE chunk_id = ?", (chunk_id,)).fetchone()
        return None if row is None else row[0]

    def count_papers(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM papers").fetchone()[0]

    def count_chunks(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]

