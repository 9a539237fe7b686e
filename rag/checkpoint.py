"""The checkpoint of one ingest: its staged papers and its progress, in a SQLite file of its own
(`<index>/ingest-run.sqlite`, deleted when the ingest ends).

The read pass folds every corpus entry into the `staged` table, so repeats (the same paper
id, or the same title and abstract under another id: rag.corpus_formats) and arXiv versions
collapse on disk, not in memory; `keys` maps each identity key seen to the staged paper it
went to. The embed pass walks the staged papers in order and records how far it got. Knows
nothing about the index.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from rag.corpus_formats import identity_keys, merge_into
from rag.records import Paper

RUN_FILE = "ingest-run.sqlite"
FORMAT = 2  # part of an ingest's fingerprint: a checkpoint of another format is started over


class Checkpoint:
    def __init__(self, path: Path):
        self.path = path
        self.db = sqlite3.connect(str(path), timeout=30)
        self.db.executescript("""
            CREATE TABLE IF NOT EXISTS staged (seq INTEGER PRIMARY KEY AUTOINCREMENT,
                                               paper_id TEXT UNIQUE NOT NULL, paper TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS keys (key TEXT PRIMARY KEY, paper_id TEXT NOT NULL);
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

    def stage(self, papers: list[Paper], **progress: Any) -> int:
        """Fold a batch into the staged papers and record the read position, atomically.
        Returns how many of the entries were repeats of a paper already staged."""
        keys = [identity_keys(p) for p in papers]
        owner = self._lookup("SELECT key, paper_id FROM keys WHERE key IN ({})", [k for ks in keys for k in ks])
        touched: dict[str, Paper] = {}  # paper id -> the staged paper as it now is
        new: set[str] = set()
        repeats = 0
        for paper, paper_keys in zip(papers, keys):
            target = next((owner[k] for k in paper_keys if k in owner), None)
            if target is None:
                target = paper.paper_id
                touched[target] = paper
                new.add(target)
            else:
                repeats += 1
                if target not in touched:
                    touched[target] = self._staged(target)
                merge_into(touched[target], paper)
            for key in paper_keys:
                owner.setdefault(key, target)
        with self.db:
            for pid, paper in touched.items():
                if pid in new:
                    self.db.execute("INSERT INTO staged(paper_id, paper) VALUES (?, ?)", (pid, _dump(paper)))
                else:
                    self.db.execute("UPDATE staged SET paper = ? WHERE paper_id = ?", (_dump(paper), pid))
            self.db.executemany("INSERT OR IGNORE INTO keys VALUES (?, ?)", owner.items())
            self._set(**progress, repeats=self.get("repeats", 0) + repeats)
        return repeats

    def _lookup(self, query: str, values: list[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for start in range(0, len(values), 500):
            part = values[start:start + 500]
            found.update(self.db.execute(query.format(",".join("?" * len(part))), part))
        return found

    def _staged(self, paper_id: str) -> Paper:
        row = self.db.execute("SELECT paper FROM staged WHERE paper_id = ?", (paper_id,)).fetchone()
        return Paper(**json.loads(row[0]))

    def staged_count(self, after: int = 0) -> int:
        return self.db.execute("SELECT COUNT(*) FROM staged WHERE seq > ?", (after,)).fetchone()[0]

    def staged_after(self, seq: int, limit: int) -> list[tuple[int, Paper]]:
        rows = self.db.execute("SELECT seq, paper FROM staged WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit))
        return [(s, Paper(**json.loads(blob))) for s, blob in rows]

    def staged_ids(self, paper_ids: list[str]) -> set[str]:
        """Those of these paper ids that are staged."""
        return set(self._lookup("SELECT paper_id, paper_id FROM staged WHERE paper_id IN ({})", paper_ids))

    def close(self) -> None:
        self.db.close()

    def delete(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)


def _dump(paper: Paper) -> str:
    return json.dumps(paper.to_dict(), ensure_ascii=False)
