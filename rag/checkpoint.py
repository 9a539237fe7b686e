"""The checkpoint of one ingest: its staged papers and its progress, in a SQLite file of its own
(`<index>/ingest-run.sqlite`, deleted when the ingest ends).

The read pass merges every corpus entry into the `staged` table, keyed by paper id, so
duplicates and arXiv versions collapse on disk, not in memory; the embed pass walks the
staged papers in order and records how far it got. Knows nothing about the index.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from rag.corpus_formats import merge_duplicates, merge_into
from rag.records import Paper

RUN_FILE = "ingest-run.sqlite"


class Checkpoint:
    def __init__(self, path: Path):
        self.path = path
        self.db = sqlite3.connect(str(path), timeout=30)
        self.db.executescript("""
            CREATE TABLE IF NOT EXISTS staged (seq INTEGER PRIMARY KEY AUTOINCREMENT,
                                               paper_id TEXT UNIQUE NOT NULL, paper TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        """)

    @classmethod
    def open(cls, path: Path) -> "Checkpoint":
        """The checkpoint at `path`; a damaged one is only lost progress: it starts over."""
        try:
            checkpoint = cls(path)
            checkpoint.get("fingerprint")
            return checkpoint
        except sqlite3.DatabaseError:
            path.unlink(missing_ok=True)
            return cls(path)

    def restart(self) -> "Checkpoint":
        """An empty checkpoint in the same file."""
        self.close()
        self.path.unlink(missing_ok=True)
        return Checkpoint(self.path)

    def get(self, key: str, default: Any = None) -> Any:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return default if row is None else json.loads(row[0])

    def _set(self, **values: Any) -> None:
        self.db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", [(k, json.dumps(v)) for k, v in values.items()])

    def set(self, **values: Any) -> None:
        with self.db:
            self._set(**values)

    def stage(self, papers: list[Paper], **progress: Any) -> None:
        """Merge a batch into the staged papers and record the read position, atomically."""
        merged = {p.paper_id: p for p in merge_duplicates(papers)}
        ids = list(merged)
        earlier = {}
        for start in range(0, len(ids), 500):
            part = ids[start:start + 500]
            rows = self.db.execute(f"SELECT paper_id, paper FROM staged WHERE paper_id IN ({','.join('?' * len(part))})", part)
            earlier.update((pid, Paper(**json.loads(blob))) for pid, blob in rows)
        with self.db:
            for pid, paper in merged.items():
                if pid in earlier:
                    merge_into(earlier[pid], paper)
                    self.db.execute("UPDATE staged SET paper = ? WHERE paper_id = ?", (_dump(earlier[pid]), pid))
                else:
                    self.db.execute("INSERT INTO staged(paper_id, paper) VALUES (?, ?)", (pid, _dump(paper)))
            self._set(**progress)

    def staged_count(self, after: int = 0) -> int:
        return self.db.execute("SELECT COUNT(*) FROM staged WHERE seq > ?", (after,)).fetchone()[0]

    def staged_after(self, seq: int, limit: int) -> list[tuple[int, Paper]]:
        rows = self.db.execute("SELECT seq, paper FROM staged WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit))
        return [(s, Paper(**json.loads(blob))) for s, blob in rows]

    def staged_ids(self, paper_ids: list[str]) -> set[str]:
        """Those of these paper ids that are staged."""
        found: set[str] = set()
        for start in range(0, len(paper_ids), 500):
            part = paper_ids[start:start + 500]
            rows = self.db.execute(f"SELECT paper_id FROM staged WHERE paper_id IN ({','.join('?' * len(part))})", part)
            found.update(r[0] for r in rows)
        return found

    def close(self) -> None:
        self.db.close()

    def delete(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)


def _dump(paper: Paper) -> str:
    return json.dumps(paper.to_dict(), ensure_ascii=False)
