"""Corpus -> index, incrementally and resumably: embed only new or changed papers, drop papers
that left, in constant memory whatever the corpus size.

One `IngestJob` holds what an ingest works with (catalog, store, checkpoint, counts, encoder)
and runs two passes, both checkpointed in `<index>/ingest-run.sqlite` (rag/checkpoint.py):
1. read: the corpus is streamed in batches; every entry is folded into a staging table
   (repeats and arXiv versions collapse here, on disk, not in memory: rag.corpus_formats
   says which entries are one paper). The index is not touched, so queries keep working.
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
import sys
import time
from dataclasses import asdict
from datetime import datetime, timezone
from itertools import islice
from pathlib import Path
from typing import Any

from rag.checkpoint import FORMAT as CHECKPOINT_FORMAT
from rag.checkpoint import RUN_FILE, Checkpoint
from rag.corpus import CorpusReader, Position
from rag.errors import UsageError
from rag.exact_search import refresh_copy
from rag.index import (INDEX_FORMAT, READY, build_bm25, check_folder, check_model, check_writable, open_catalog,
                       open_store, swap_in, write_lock)
from rag.ingest_report import IngestReport
from rag.records import Paper
from rag.settings import Settings
from vectorstore import source_flag

READ_BATCH = 2000  # corpus entries staged per transaction
BATCH_PAPERS = 128  # papers embedded and written per transaction
REMOVE_BATCH = 1000  # indexed papers checked against the corpus per step
COUNTS = ("added", "changed", "metadata_only", "unchanged", "chunks_embedded")
READ_COUNTS = ("entries", "filtered_out", "skipped_lines")
# How papers are told apart (rag.corpus_formats): 2 since records with their own ids are
# papers of their own; an index without it was built keying records by title.
PAPER_KEYS = 2

__all__ = ["RUN_FILE", "IngestReport", "ingest"]  # RUN_FILE: tests and tools look for the checkpoint


def _hash(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:24]


def content_hash(paper: Paper, config: dict) -> str:
    return _hash([paper.title, paper.abstract, config])


def meta_hash(paper: Paper) -> str:
    ids = [paper.record_ids] if paper.record_ids else []  # papers without ids hash as before ids were kept
    return _hash([paper.sources, paper.code_url, paper.truncated, paper.metadata, *ids])


def chunk_metadata(paper: Paper, ordinal: int) -> dict[str, Any]:
    meta: dict[str, Any] = {"paper_id": paper.paper_id, "ordinal": ordinal, "has_code": paper.code_url is not None}
    meta.update({source_flag(s): True for s in paper.sources})
    return meta


def ingest(settings: Settings, corpus: CorpusReader, *, rebuild: bool = False, progress: bool = True,
           encoder=None) -> IngestReport:
    """Bring the index at `settings.index_dir` in line with `corpus`. `encoder` replaces the
    configured model (tests pass a fake with a `name`)."""
    corpus.check()  # a bad corpus file fails here, before anything is written
    index_dir = Path(settings.index_dir)
    check_folder(index_dir)
    check_writable(index_dir)
    if rebuild:
        return _rebuild(settings, corpus, progress, encoder)
    with write_lock(index_dir):
        return IngestJob(settings, corpus, index_dir, progress, encoder).run()


def _rebuild(settings: Settings, corpus: CorpusReader, progress: bool, encoder) -> IngestReport:
    final = Path(settings.index_dir)
    fresh = final.with_name(final.name + ".rebuild")
    with write_lock(final):
        if not (fresh / RUN_FILE).exists():  # else an interrupted rebuild: go on with it
            shutil.rmtree(fresh, ignore_errors=True)
        report = IngestJob(settings.model_copy(update={"index_dir": fresh}), corpus, fresh, progress, encoder).run()
        token = settings.chroma_token.get_secret_value() if settings.chroma_token else None
        warning = swap_in(fresh, final, settings.chroma_url, token)
        if warning:
            report.warnings.append(warning)
    report.index_dir = str(final)
    return report


def _bar(progress: bool, **kw):
    from tqdm import tqdm

    return tqdm(file=sys.stderr, disable=not progress, dynamic_ncols=True, **kw)


class IngestJob:
    """One ingest into one index folder (its write lock held by the caller)."""

    def __init__(self, settings: Settings, corpus: CorpusReader, index_dir: Path, progress: bool, encoder=None):
        from rag.embed import canonical_model_name
        from rag.evidence import EVIDENCE_FORMAT

        self.settings, self.corpus, self.index_dir, self.progress = settings, corpus, index_dir, progress
        self.started = time.perf_counter()
        index_dir.mkdir(parents=True, exist_ok=True)
        self.encoder, self.chunker, self.store, self.dim = encoder, None, None, None
        self.model = encoder.name if encoder is not None else canonical_model_name(settings.embed_model)
        self.catalog = open_catalog(index_dir)
        check_model(self.catalog, index_dir, self.model)
        self.config = {"embed_model": self.model, "chunk_tokens": settings.chunk_tokens,
                       "chunk_overlap": settings.chunk_overlap,
                       "evidence": f"{EVIDENCE_FORMAT}/{settings.evidence_vectors}"}
        fingerprint = _hash([corpus.fingerprint(), self.config, CHECKPOINT_FORMAT])
        self.checkpoint = Checkpoint.open(index_dir / RUN_FILE)
        self.resumed = self.checkpoint.get("fingerprint") == fingerprint
        if not self.resumed:
            self.checkpoint = self.checkpoint.restart()
            self.checkpoint.set(fingerprint=fingerprint, phase="read", position=None, seq_done=0, embed_seconds=0.0,
                                wall_seconds=0.0, repeats=0, **dict.fromkeys(READ_COUNTS + COUNTS, 0))
        self.wall_before = self.checkpoint.get("wall_seconds", 0.0)  # a resumed ingest's earlier runs
        self.counts = {k: self.checkpoint.get(k, 0) for k in COUNTS}
        self.was_ready = self.catalog.get_meta("state") == READY
        self.building = False
        self.keyed_by_title = self.catalog.get_meta("paper_keys") != PAPER_KEYS and self.catalog.count_papers() > 0

    def elapsed(self) -> float:
        """Wall seconds of this ingest, runs before a resume included."""
        return self.wall_before + time.perf_counter() - self.started

    def run(self) -> IngestReport:
        if self.checkpoint.get("phase") == "read":
            self.read_pass()
            self.checkpoint.set(phase="embed")
        self.refuse_an_emptied_index()
        if not self.was_ready:
            self.mark_building()
        token = self.settings.chroma_token.get_secret_value() if self.settings.chroma_token else None
        self.store = open_store(self.index_dir, self.catalog, self.settings.chroma_url, token, creating=True)
        self.store.widen_search()  # indexes built before the search breadth was raised
        self.embed_pass()
        removed = self.remove_missing()
        self.finish(removed)
        report = self.report(removed)
        self.catalog.close()
        self.checkpoint.delete()
        return report

    def refuse_an_emptied_index(self) -> None:
        """The index mirrors what passes the filters: an index emptied by a mistyped filter is
        never what was meant, so refuse before anything is removed."""
        if self.checkpoint.staged_count() == 0 and self.checkpoint.get("filtered_out", 0):
            total = self.checkpoint.get("entries", 0)
            self.catalog.close()
            self.checkpoint.delete()
            raise UsageError(f"the filters leave out all {total:,} corpus entries, so nothing was changed: check "
                             "--category/--since/--until (page dumps have no dates or categories)")

    def mark_building(self) -> None:
        """Mark the index incomplete before its first change (queries refuse it until the end)."""
        if not self.building:
            self.catalog.set_meta(state="building", format=INDEX_FORMAT, embed_model=self.model, chunking=self.config,
                                  embed_backend=self.backend(), paper_keys=PAPER_KEYS)
            self.building = True

    def backend(self) -> str:
        """The backend this ingest embeds with ("auto" resolved), as the index records it."""
        if self.encoder is not None:
            return getattr(self.encoder, "backend", self.settings.embed_backend)
        from rag.embed import ingest_backend

        return ingest_backend(self.settings.embed_model, self.settings.embed_backend, self.settings.embed_device)[0]

    def read_counts(self, base: dict[str, int]) -> dict[str, int]:
        corpus = self.corpus
        return {"entries": base["entries"] + corpus.entries_read,
                "filtered_out": base["filtered_out"] + corpus.filtered_out,
                "skipped_lines": base["skipped_lines"] + corpus.skipped_lines}

    def read_pass(self) -> None:
        position = self.checkpoint.get("position")
        start = Position(**position) if position else None
        base = {k: self.checkpoint.get(k, 0) for k in READ_COUNTS}
        bar = _bar(self.progress, total=self.corpus.total_bytes, desc="reading", unit="B", unit_scale=True,
                   unit_divisor=1024, initial=self.corpus.bytes_done(start) if start else 0)
        entries = self.corpus.entries(start)
        while batch := list(islice(entries, READ_BATCH)):
            last = batch[-1][1]
            counts = self.read_counts(base)
            self.checkpoint.stage([paper for paper, _ in batch], position=asdict(last), wall_seconds=self.elapsed(),
                                  **counts)
            bar.n = self.corpus.bytes_done(last)
            bar.set_postfix(papers=counts["entries"], refresh=False)
            bar.refresh()
        self.checkpoint.set(**self.read_counts(base))
        bar.n = self.corpus.total_bytes
        bar.close()

    def embed_pass(self) -> None:
        """Staged papers -> catalog and vectors, BATCH_PAPERS at a time."""
        seq_done = self.checkpoint.get("seq_done", 0)
        total = self.checkpoint.staged_count()
        bar = _bar(self.progress, total=total, initial=total - self.checkpoint.staged_count(after=seq_done),
                   desc="indexing", unit="paper")
        while batch := self.checkpoint.staged_after(seq_done, BATCH_PAPERS):
            seconds = self.index_batch([p for _, p in batch])
            seq_done = batch[-1][0]
            self.checkpoint.set(seq_done=seq_done, embed_seconds=self.checkpoint.get("embed_seconds", 0.0) + seconds,
                                wall_seconds=self.elapsed(), **self.counts)
            bar.update(len(batch))
            bar.set_postfix(embedded=self.counts["added"] + self.counts["changed"], refresh=False)
        bar.close()

    def index_batch(self, papers: list[Paper]) -> float:
        """Compare a batch with the catalog; embed what is new or changed, update what only
        changed its metadata. Returns the seconds spent embedding."""
        stored = self.catalog.hashes_for([p.paper_id for p in papers])
        to_embed, meta_only = [], []
        for paper in papers:
            ch, mh = content_hash(paper, self.config), meta_hash(paper)
            old = stored.get(paper.paper_id)
            if old is None or old[0] != ch:
                to_embed.append((paper, ch, mh))
                self.counts["added" if old is None else "changed"] += 1
            elif old[1] != mh:
                meta_only.append((paper, ch, mh))
                self.counts["metadata_only"] += 1
            else:
                self.counts["unchanged"] += 1
        if to_embed or meta_only:
            self.mark_building()
        for paper, _, _ in meta_only:
            ids = self.catalog.chunk_ids([paper.paper_id])
            self.store.update_metadata(ids, [chunk_metadata(paper, int(i.rsplit(":", 1)[1])) for i in ids])
        written = [(p, ch, mh, None) for p, ch, mh in meta_only]
        seconds, evidence = 0.0, {}
        if to_embed:
            seconds, chunked, evidence = self.embed(to_embed)
            written.extend(chunked)
        self.catalog.put_papers(written, evidence)
        return seconds

    def load_encoder(self):
        if self.encoder is None:
            from rag.embed import load_ingest_encoder

            self.encoder = load_ingest_encoder(self.settings.embed_model, show_progress=False,
                                               backend=self.settings.embed_backend, onnx_cache=self.settings.onnx_cache,
                                               device=self.settings.embed_device)
        if self.chunker is None:
            from rag.chunking import Chunker

            encoder = self.encoder
            self.chunker = Chunker(lambda text: encoder.count_tokens(text) <= encoder.max_tokens,
                                   self.settings.chunk_tokens, self.settings.chunk_overlap)
        return self.encoder

    def embed(self, to_embed: list[tuple[Paper, str, str]]) -> tuple[float, list, dict]:
        """Chunk, embed and upsert these papers; returns (seconds, catalog rows, evidence)."""
        from rag.evidence import embed_chunks_with_evidence

        encoder = self.load_encoder()
        chunked = [(paper, ch, mh, self.chunker.chunk(paper)) for paper, ch, mh in to_embed]
        chunks = [c for *_, cs in chunked for c in cs]
        t0 = time.perf_counter()
        vectors, evidence = embed_chunks_with_evidence(encoder, [(p, cs) for p, _, _, cs in chunked],
                                                       self.settings.embed_batch_size, self.settings.evidence_vectors)
        seconds = time.perf_counter() - t0
        by_id = {p.paper_id: p for p, *_ in chunked}
        self.store.upsert([c.chunk_id for c in chunks], vectors,
                          [chunk_metadata(by_id[c.paper_id], c.ordinal) for c in chunks])
        # A changed paper may now have fewer chunks: drop the ones that no longer exist.
        new_ids = {c.chunk_id for c in chunks}
        stale = [i for i in self.catalog.chunk_ids(by_id) if i not in new_ids]
        if stale:
            self.store.delete(stale)
        self.counts["chunks_embedded"] += len(chunks)
        self.dim = encoder.dim
        return seconds, chunked, evidence

    def remove_missing(self) -> int:
        """Remove every indexed paper the corpus no longer has; returns how many."""
        removed, last = 0, ""
        while ids := self.catalog.paper_ids_after(last, REMOVE_BATCH):
            last = ids[-1]
            staged = self.checkpoint.staged_ids(ids)
            gone = [pid for pid in ids if pid not in staged]
            if gone:
                self.mark_building()
                self.store.delete(self.catalog.chunk_ids(gone))
                self.catalog.delete_papers(gone)
                removed += len(gone)
        return removed

    def finish(self, removed: int) -> None:
        """Version, timestamps, BM25 and the exact copy of a small index's vectors, then mark the
        index ready."""
        catalog, counts = self.catalog, self.counts
        if self.dim is not None:
            catalog.set_meta(embed_dim=self.dim)
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        touched = not self.was_ready or bool(removed or counts["added"] or counts["changed"] or counts["metadata_only"])
        if touched:
            catalog.set_meta(version=catalog.get_meta("version", 0) + 1, updated_at=now)
        if catalog.get_meta("built_at") is None:
            catalog.set_meta(built_at=now)
        if (touched or catalog.get_meta("bm25_version") != catalog.get_meta("version", 0)
                or not (self.index_dir / "bm25" / "meta.json").exists()):
            build_bm25(catalog, self.index_dir)
        refresh_copy(catalog, self.index_dir, self.store, self.settings.exact_search_max_chunks)
        catalog.set_meta(state=READY, paper_keys=PAPER_KEYS)

    def report(self, removed: int) -> IngestReport:
        get = self.checkpoint.get
        warnings = list(self.corpus.warnings)
        if self.keyed_by_title and removed and self.counts["added"]:
            warnings.insert(0, "this index was built when records were told apart by title alone: records with "
                               "their own ids are papers of their own now, so they were indexed again under new "
                               "paper ids (the new and removed papers below)")
        return IngestReport(
            index_dir=str(self.index_dir), papers=self.catalog.count_papers(), removed=removed,
            seconds=self.elapsed(), embed_seconds=get("embed_seconds", 0.0), entries=get("entries", 0),
            repeats=get("repeats", 0), filtered_out=get("filtered_out", 0), skipped_lines=get("skipped_lines", 0),
            resumed=self.resumed, warnings=warnings, **self.counts)
