"""Exact cosine search over a NumPy copy of a Chroma collection: what a small embedded index
searches instead of Chroma, so a query does not import chromadb (about a second here).

Chroma stays the store of record: the copy is written from it (`write_exact`, from
`ChromaStore.export`), whole, into a temporary folder renamed into place, and a reader only
ever sees a complete copy. Deciding whether a copy is current is the caller's job (the token
in its meta.json is what the caller records next to the state it copied). Searching every
vector costs one matrix-vector product: well under a millisecond at a thousand chunks, a few
at twenty thousand; it returns the true nearest chunks, where HNSW returns nearly them.

    <folder>/vectors.npy  float32 (n, dim), every row scaled to unit length (cosine = dot)
    <folder>/ids.npy      chunk ids, in row order
    <folder>/flags.npy    bool (n, columns): the metadata flags filters use (has_code, src:<file>)
    <folder>/meta.json    {"format", "token", "count", "dim", "columns"}

Filters are the grammar `where_clause` writes ({flag: value}, "$and", "$or"), evaluated over
the flags; a flag a chunk lacks is false, as a missing key never matches in Chroma.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

FORMAT = 1
HAS_CODE = "has_code"


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (a zero row stays zero), as Chroma's cosine space does."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0).astype(np.float32)


def write_exact(folder: Path, batches: Iterable[tuple[Sequence[str], np.ndarray, Sequence[dict[str, Any]]]],
                flag_prefix: str) -> str:
    """Write the copy of (ids, vectors, metadatas) batches to `folder`, replacing what is there;
    returns the new copy's token. Metadata keys `has_code` and `flag_prefix…` become flags."""
    ids: list[str] = []
    parts: list[np.ndarray] = []
    metas: list[dict[str, Any]] = []
    for batch_ids, vectors, metadatas in batches:
        ids.extend(batch_ids)
        parts.append(unit_rows(vectors))
        metas.extend(metadatas)
    vectors = np.concatenate(parts) if parts else np.zeros((0, 0), np.float32)
    columns = [HAS_CODE] + sorted({k for m in metas for k in m if k.startswith(flag_prefix)})
    flags = np.zeros((len(ids), len(columns)), dtype=bool)
    for row, meta in enumerate(metas):
        flags[row] = [bool(meta.get(c, False)) for c in columns]
    token = uuid.uuid4().hex
    folder = Path(folder)
    scratch = Path(tempfile.mkdtemp(prefix=folder.name + ".", dir=folder.parent))
    try:
        scratch.chmod(0o755)  # mkdtemp's 0700 would hide the copy from other users of a shared index
        np.save(scratch / "vectors.npy", vectors)
        np.save(scratch / "ids.npy", np.array(ids, dtype=str))
        np.save(scratch / "flags.npy", flags)
        meta = {"format": FORMAT, "token": token, "count": len(ids), "dim": int(vectors.shape[1]) if ids else 0,
                "columns": columns}
        (scratch / "meta.json").write_text(json.dumps(meta))
        remove_exact(folder)
        os.replace(scratch, folder)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise
    return token


def remove_exact(folder: Path) -> None:
    """Drop a copy (an index grown past the size searched exactly); the old one is moved aside
    first, so a reader never opens half a folder."""
    folder = Path(folder)
    if folder.exists():
        aside = folder.with_name(f"{folder.name}.old-{uuid.uuid4().hex[:8]}")
        os.replace(folder, aside)
        shutil.rmtree(aside, ignore_errors=True)


class ExactStore:
    """A read-only copy, searched exactly. Raises ValueError or OSError when the folder does
    not hold a whole, consistent copy (the caller then searches Chroma)."""

    kind = "exact"

    def __init__(self, folder: Path):
        self.path = Path(folder)
        meta = json.loads((self.path / "meta.json").read_text())
        if meta.get("format") != FORMAT:
            raise ValueError(f"format {meta.get('format')!r}, expected {FORMAT}")
        self.token: str = meta["token"]
        self.columns = {name: at for at, name in enumerate(meta["columns"])}
        self.ids = np.load(self.path / "ids.npy", allow_pickle=False)
        self.matrix = np.load(self.path / "vectors.npy", allow_pickle=False)
        self.flags = np.load(self.path / "flags.npy", allow_pickle=False)
        n = meta["count"]
        if (len(self.ids) != n or self.flags.shape != (n, len(self.columns))
                or (n and self.matrix.shape != (n, meta["dim"])) or self.matrix.dtype != np.float32):
            raise ValueError("its arrays do not agree with its meta.json")
        self._rows: dict[str, int] | None = None

    def count(self) -> int:
        return len(self.ids)

    def _mask(self, where: dict[str, Any]) -> np.ndarray:
        if "$and" in where:
            return np.logical_and.reduce([self._mask(w) for w in where["$and"]])
        if "$or" in where:
            return np.logical_or.reduce([self._mask(w) for w in where["$or"]])
        if len(where) != 1:
            raise ValueError(f"unsupported filter {where!r}")
        (key, value), = where.items()
        if not isinstance(value, bool) or (key != HAS_CODE and value is not True):
            raise ValueError(f"unsupported filter {where!r}")  # where_clause writes only these
        at = self.columns.get(key)
        if at is None:
            return np.zeros(len(self.ids), dtype=bool)
        return self.flags[:, at] == value

    def query(self, embedding: np.ndarray, n: int, where: dict[str, Any] | None = None) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) for the n nearest chunks, best first (ties: row order)."""
        if n <= 0 or not len(self.ids):
            return []
        query = unit_rows(np.asarray(embedding, dtype=np.float32).reshape(-1))
        rows = np.arange(len(self.ids)) if where is None else np.flatnonzero(self._mask(where))
        sims = self.matrix[rows] @ query if where is not None else self.matrix @ query
        order = np.argsort(-sims, kind="stable")[:n]  # a full sort: ~1 ms at 20k chunks, and ties stay in row order
        return [(str(self.ids[rows[i]]), float(sims[i])) for i in order]

    def vectors(self, ids: list[str]) -> dict[str, np.ndarray]:
        """Chunk id -> its (unit-length) vector, for those of these ids the copy holds."""
        if self._rows is None:
            self._rows = {chunk_id: row for row, chunk_id in enumerate(self.ids.tolist())}
        return {i: self.matrix[self._rows[i]] for i in ids if i in self._rows}
