"""Corpus -> index, incrementally and resumably: embed only new or changed papers, drop papers
that left, in constant memory whatever the corpus size.

Two passes, both checkpointed in `<index>/ingest-run.sqlite` (deleted when the ingest ends):
1. read: the corpus is streamed in batches; every entry is merged into a staging table keyed
   by paper id (duplicates and arXiv versions collapse here, on disk, not in memory). The
   index itself is not touched, so queries keep working.
2. embed: the staged papers are compared, a batch at a time, with the catalog's hashes; new
   and changed ones are chunked, embedded and written, then the catalog rows; papers that
   are no longer in the corpus are removed at the end, and BM25 is rebuilt.
A killed ingest, rerun on the same corpus (same files, sizes, dates, filters and settings),
goes on from its last checkpoint; anything else starts the read pass again. Either way no
paper is lost or duplicated: vectors are upserted by chunk id before the catalog row that
records them, and a paper whose catalog row matches is never embedded twice.

A paper's content hash covers what its vectors depend on (title, abstract, embedding model,
chunking settings); its metadata hash covers what only the filters and display use (source
files, code link, extra metadata), which is updated without re-embedding. The index is marked
ready only at the very end. `--rebuild` builds in a sibling folder and swaps it in, so the
old index is never lost to a failed rebuild.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from itertools import islice
from pathlib import Path
from typing import Any, Iterator

from rag.corpus import CorpusLoad, CorpusReader, Position
from rag.corpus_formats import merge_duplicates, merge_into
from rag.errors import IndexUnavailable, UsageError
from rag.index import (INDEX_FORMAT, READY, build_bm25, check_folder, check_model, check_writable, drop_server_vectors,
                       open_catalog, open_store, write_lock)
from rag.records import Paper
from rag.settings import Settings
from vectorstore import forget_open_clients, source_flag

READ_BATCH = 2000  # corpus entries staged per transaction
BATCH_PAPERS = 128  # papers embedded and written per transaction
RUN_FILE = "ingest-run.sqlite"
COUNTS = ("added", "changed", "metadata_only", "unchanged", "chunks_embedded")


@dataclass
class IngestReport:
    index_dir: str
    papers: int
    added: int
    changed: int
    metadata_only: int
    removed: int
    unchanged: int
    chunks_embedded: int
    seconds: float
    embed_seconds: float
    entries: int = 0  # corpus entries read (after filters), before merging
    filtered_out: int = 0
    skipped_lines: int = 0
    resumed: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def abstracts_per_second(self) -> float:
        embedded = self.added + self.changed
        return embedded / self.embed_seconds if self.embed_seconds > 0 else 0.0

    def summary(self) -> str:
        rate = f", {self.abstracts_per_second:.1f} abstracts/s" if self.chunks_embedded else ""
        extra = f"; {self.filtered_out} entries left out by the filters" if self.filtered_out else ""
        resumed = " (resumed an interrupted ingest)" if self.resumed else ""
        return (f"indexed {self.papers} papers at {self.index_dir}{resumed}: {self.added} new, {self.changed} changed, "
                f"{self.metadata_only} metadata-only, {self.removed} removed, {self.unchanged} unchanged; "
                f"{self.chunks_embedded} chunks embedded in {self.seconds:.1f} s{rate}{extra}")


def _hash(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:24]


def content_hash(paper: Paper, config: dict) -> str:
    return _hash([paper.title, paper.abstract, config])


def meta_hash(paper: Paper) -> str:
    return _hash([paper.sources, paper.code_url, paper.truncated, paper.metadata])


def chunk_metadata(paper: Paper, ordinal: int) -> dict[str, Any]:
    meta: dict[str, Any] = {"paper_id": paper.paper_id, "ordinal": ordinal, "has_code": paper.code_url is not None}
    meta.update({source_flag(s): True for s in paper.sources})
    return meta


class LoadedSource:
    """A corpus already in memory (load_corpus) as a stream, for tests and small corpora."""

    def __init__(self, corpus: CorpusLoad):
        self.papers = corpus.papers
        self.entries_read, self.filtered_out, self.skipped_lines = corpus.entries, 0, len(corpus.warnings)
        self.warnings = corpus.warnings

    def check(self) -> None:
        pass

    def fingerprint(self) -> str:
        return _hash([p.to_dict() for p in self.papers])

    @property
    def total_bytes(self) -> int:
        return len(self.papers)

    def bytes_done(self, position: Position) -> int:
        return position.offset

    def entries(self, start: Position | None = None) -> Iterator[tuple[Paper, Position]]:
        for at in range(start.offset if start else 0, len(self.papers)):
            yield self.papers[at], Position(0, at + 1)


class Run:
    """The checkpoint of one ingest: staged papers and progress, in a SQLite file of its own."""

    def __init__(self, path: Path):
        self.path = path
        self.db = sqlite3.connect(str(path), timeout=30)
        self.db.executescript("""
            CREATE TABLE IF NOT EXISTS staged (seq INTEGER PRIMARY KEY AUTOINCREMENT,
                                               paper_id TEXT UNIQUE NOT NULL, paper TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        """)

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

    def staged_count(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM staged").fetchone()[0]

    def staged_after(self, seq: int, limit: int) -> list[tuple[int, Paper]]:
        rows = self.db.execute("SELECT seq, paper FROM staged WHERE seq > ? ORDER BY seq LIMIT ?", (seq, limit))
        return [(s, Paper(**json.loads(blob))) for s, blob in rows]

    def close(self) -> None:
        self.db.close()


def _dump(paper: Paper) -> str:
    return json.dumps(paper.to_dict(), ensure_ascii=False)


def ingest(settings: Settings, corpus: CorpusLoad | CorpusReader, *, rebuild: bool = False, progress: bool = True,
           encoder=None) -> IngestReport:
    """`corpus`: a CorpusReader (streamed) or a loaded corpus. `encoder` replaces the
    configured model (tests pass a fake with a `name`)."""
    source = LoadedSource(corpus) if isinstance(corpus, CorpusLoad) else corpus
    source.check()  # a bad corpus file fails here, before anything is written
    index_dir = Path(settings.index_dir)
    check_folder(index_dir)
    check_writable(index_dir)
    if rebuild:
        return _rebuild(settings, source, progress, encoder)
    with write_lock(index_dir):
        return _ingest_locked(settings, source, index_dir, progress, encoder)


def _rebuild(settings: Settings, source, progress: bool, encoder) -> IngestReport:
    final = Path(settings.index_dir)
    fresh = final.with_name(final.name + ".rebuild")
    with write_lock(final):
        if not (fresh / RUN_FILE).exists():  # else an interrupted rebuild: go on with it
            shutil.rmtree(fresh, ignore_errors=True)
        report = _ingest_locked(settings.model_copy(update={"index_dir": fresh}), source, fresh, progress, encoder)
        replaced = _server_collection(final)
        old = final.with_name(final.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if final.exists():
            final.rename(old)
        fresh.rename(final)
        forget_open_clients()
        shutil.rmtree(old, ignore_errors=True)
        if replaced is not None:  # the old index's vectors on the server go with it
            token = settings.chroma_token.get_secret_value() if settings.chroma_token else None
            warning = drop_server_vectors(replaced, settings.chroma_url, token)
            if warning:
                report.warnings.append(warning)
    report.index_dir = str(final)
    return report


def _server_collection(index_dir: Path) -> dict | None:
    """The Chroma server collection an existing index keeps its vectors in, if any."""
    if not (index_dir / "catalog.sqlite").exists():
        return None
    try:  # a damaged catalog is what --rebuild is for: it must not stop it
        catalog = open_catalog(index_dir)
        try:
            where = catalog.get_meta("vector_store")
        finally:
            catalog.close()
    except (IndexUnavailable, sqlite3.DatabaseError):
        return None
    return where if where and where.get("kind") == "server" else None


def _ingest_locked(settings: Settings, source, index_dir: Path, progress: bool, encoder) -> IngestReport:
    from rag.embed import canonical_model_name

    started = time.perf_counter()
    index_dir.mkdir(parents=True, exist_ok=True)
    model = encoder.name if encoder is not None else canonical_model_name(settings.embed_model)
    catalog = open_catalog(index_dir)
    check_model(catalog, index_dir, model)
    from rag.evidence import EVIDENCE_FORMAT

    config = {"embed_model": model, "chunk_tokens": settings.chunk_tokens, "chunk_overlap": settings.chunk_overlap,
              "evidence": f"{EVIDENCE_FORMAT}/{settings.evidence_vectors}"}
    fingerprint = _hash([source.fingerprint(), config])

    run_path = index_dir / RUN_FILE
    run = _open_run(run_path)
    resumed = run.get("fingerprint") == fingerprint
    if not resumed:
        run.close()
        run_path.unlink(missing_ok=True)
        run = _open_run(run_path)
        run.set(fingerprint=fingerprint, phase="read", position=None, entries=0, filtered_out=0, skipped_lines=0,
                seq_done=0, embed_seconds=0.0, building=False, **dict.fromkeys(COUNTS, 0))
    counts = {k: run.get(k, 0) for k in COUNTS}

    if run.get("phase") == "read":
        _read_pass(source, run, progress)
        run.set(phase="embed")
    if run.staged_count() == 0 and run.get("filtered_out", 0):
        # The index mirrors what passes the filters: an index emptied by a mistyped filter
        # is never what was meant, so refuse before anything is removed.
        total = run.get("entries", 0)
        catalog.close()
        run.close()
        run_path.unlink(missing_ok=True)
        raise UsageError(f"the filters leave out all {total:,} corpus entries, so nothing was changed: check "
                         "--category/--since/--until (page dumps have no dates or categories)")

    was_ready = catalog.get_meta("state") == READY
    state = {"building": False}

    def building() -> None:
        """Mark the index incomplete before its first change (queries refuse it until the end)."""
        if not state["building"]:
            catalog.set_meta(state="building", format=INDEX_FORMAT, embed_model=model, chunking=config,
                             embed_backend=settings.embed_backend)
            state["building"] = True

    if not was_ready:
        building()
    token = settings.chroma_token.get_secret_value() if settings.chroma_token else None
    store = open_store(index_dir, catalog, settings.chroma_url, token, creating=True)
    store.widen_search()  # indexes built before the search breadth was raised
    dim = _embed_pass(settings, run, catalog, store, config, counts, building, progress, encoder)
    if dim is not None:
        catalog.set_meta(embed_dim=dim)

    removed = _remove_missing(run_path, catalog, store, building)
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    touched = not was_ready or bool(removed or counts["added"] or counts["changed"] or counts["metadata_only"])
    if touched:
        catalog.set_meta(version=catalog.get_meta("version", 0) + 1, updated_at=now)
    if catalog.get_meta("built_at") is None:
        catalog.set_meta(built_at=now)
    if touched or catalog.get_meta("bm25_version") != catalog.get_meta("version", 0) or not (index_dir / "bm25" / "meta.json").exists():
        build_bm25(catalog, index_dir)
    catalog.set_meta(state=READY)
    report = IngestReport(
        index_dir=str(index_dir), papers=catalog.count_papers(), removed=removed,
        seconds=time.perf_counter() - started, embed_seconds=run.get("embed_seconds", 0.0),
        entries=run.get("entries", 0), filtered_out=run.get("filtered_out", 0),
        skipped_lines=run.get("skipped_lines", 0), resumed=resumed, warnings=list(getattr(source, "warnings", [])),
        **counts)
    catalog.close()
    run.close()
    run_path.unlink(missing_ok=True)
    return report


def _open_run(path: Path) -> Run:
    try:
        run = Run(path)
        run.get("fingerprint")
        return run
    except sqlite3.DatabaseError:  # a damaged checkpoint is only lost progress: start over
        path.unlink(missing_ok=True)
        return Run(path)


def _bar(progress: bool, **kw):
    from tqdm import tqdm

    return tqdm(file=sys.stderr, disable=not progress, dynamic_ncols=True, **kw)


def _read_pass(source, run: Run, progress: bool) -> None:
    position = run.get("position")
    start = Position(**position) if position else None
    base = {k: run.get(k, 0) for k in ("entries", "filtered_out", "skipped_lines")}
    total = source.total_bytes
    bytes_unit = isinstance(source, CorpusReader)
    bar = _bar(progress, total=total, initial=source.bytes_done(start) if start else 0, desc="reading",
               unit="B" if bytes_unit else "paper", unit_scale=bytes_unit, unit_divisor=1024 if bytes_unit else 1000)
    entries = source.entries(start)
    last = start
    while True:
        batch = list(islice(entries, READ_BATCH))
        if not batch:
            break
        last = batch[-1][1]
        run.stage([paper for paper, _ in batch], position=asdict(last),
                  entries=base["entries"] + source.entries_read, filtered_out=base["filtered_out"] + source.filtered_out,
                  skipped_lines=base["skipped_lines"] + source.skipped_lines)
        bar.n = source.bytes_done(last)
        bar.set_postfix(papers=base["entries"] + source.entries_read, refresh=False)
        bar.refresh()
    run.set(entries=base["entries"] + source.entries_read, filtered_out=base["filtered_out"] + source.filtered_out,
            skipped_lines=base["skipped_lines"] + source.skipped_lines)
    bar.n = total
    bar.close()


def _embed_pass(settings, run: Run, catalog, store, config, counts, building, progress, encoder):
    """Staged papers -> catalog and vectors, BATCH_PAPERS at a time. Returns the vectors'
    dimension, or None when nothing was embedded."""
    seq_done = run.get("seq_done", 0)
    todo = run.db.execute("SELECT COUNT(*) FROM staged WHERE seq > ?", (seq_done,)).fetchone()[0]
    bar = _bar(progress, total=run.staged_count(), initial=run.staged_count() - todo, desc="indexing", unit="paper")
    embedder = {"encoder": encoder, "chunker": None}
    dim = None
    while batch := run.staged_after(seq_done, BATCH_PAPERS):
        papers = [p for _, p in batch]
        stored = catalog.hashes_for([p.paper_id for p in papers])
        to_embed, meta_only = [], []
        for paper in papers:
            ch, mh = content_hash(paper, config), meta_hash(paper)
            old = stored.get(paper.paper_id)
            if old is None or old[0] != ch:
                to_embed.append((paper, ch, mh))
                counts["added" if old is None else "changed"] += 1
            elif old[1] != mh:
                meta_only.append((paper, ch, mh))
                counts["metadata_only"] += 1
            else:
                counts["unchanged"] += 1
        if to_embed or meta_only:
            building()
        for paper, _, _ in meta_only:
            ids = catalog.chunk_ids([paper.paper_id])
            store.update_metadata(ids, [chunk_metadata(paper, int(i.rsplit(":", 1)[1])) for i in ids])
        written = [(p, ch, mh, None) for p, ch, mh in meta_only]
        seconds, evidence = 0.0, {}
        if to_embed:
            seconds, chunked, dim, evidence = _embed_batch(settings, to_embed, catalog, store, embedder)
            counts["chunks_embedded"] += sum(len(chunks) for *_, chunks in chunked)
            written.extend(chunked)
        catalog.put_papers(written, evidence)
        seq_done = batch[-1][0]
        run.set(seq_done=seq_done, embed_seconds=run.get("embed_seconds", 0.0) + seconds, **counts)
        bar.update(len(batch))
        bar.set_postfix(embedded=counts["added"] + counts["changed"], refresh=False)
    bar.close()
    return dim


def _embed_batch(settings, to_embed, catalog, store, embedder) -> tuple[float, list, int, dict]:
    from rag.chunking import Chunker
    from rag.evidence import embed_chunks_with_evidence

    if embedder["encoder"] is None:
        from rag.embed import load_ingest_encoder

        embedder["encoder"] = load_ingest_encoder(settings.embed_model, show_progress=False,
                                                  backend=settings.embed_backend)
    encoder = embedder["encoder"]
    if embedder["chunker"] is None:
        embedder["chunker"] = Chunker(lambda text: encoder.count_tokens(text) <= encoder.max_tokens,
                                      settings.chunk_tokens, settings.chunk_overlap)
    chunked = [(paper, ch, mh, embedder["chunker"].chunk(paper)) for paper, ch, mh in to_embed]
    chunks = [c for *_, cs in chunked for c in cs]
    t0 = time.perf_counter()
    vectors, evidence = embed_chunks_with_evidence(encoder, [(p, cs) for p, _, _, cs in chunked],
                                                   settings.embed_batch_size, settings.evidence_vectors)
    seconds = time.perf_counter() - t0
    by_id = {p.paper_id: p for p, *_ in chunked}
    store.upsert([c.chunk_id for c in chunks], vectors, [chunk_metadata(by_id[c.paper_id], c.ordinal) for c in chunks])
    # A changed paper may now have fewer chunks: drop the ones that no longer exist.
    new_ids = {c.chunk_id for c in chunks}
    stale = [i for i in catalog.chunk_ids(by_id) if i not in new_ids]
    if stale:
        store.delete(stale)
    return seconds, chunked, encoder.dim, evidence


def _remove_missing(run_path: Path, catalog, store, building) -> int:
    """Remove every indexed paper the corpus no longer has; returns how many."""
    removed = 0
    catalog.db.execute("ATTACH DATABASE ? AS run", (str(run_path),))
    try:
        while True:
            gone = [r[0] for r in catalog.db.execute(
                "SELECT paper_id FROM papers WHERE paper_id NOT IN (SELECT paper_id FROM run.staged) LIMIT 1000")]
            if not gone:
                break
            building()
            store.delete(catalog.chunk_ids(gone))
            catalog.delete_papers(gone)
            removed += len(gone)
    finally:
        catalog.db.execute("DETACH DATABASE run")
    return removed
