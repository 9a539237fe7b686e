"""Corpus -> index, incrementally: embed only new or changed papers, drop papers that left.

A paper's content hash covers what its vectors depend on (title, abstract, embedding model,
chunking settings); its metadata hash covers what only the filters and display use (source
files, code link, extra metadata), which is updated without re-embedding.
Crash safety: vectors are written before the catalog row that records them, so a killed
ingest at worst re-embeds a batch next time (Chroma upserts by chunk id), and the index is
marked ready only at the very end. `--rebuild` builds in a sibling folder and swaps it in,
so the old index is never lost to a failed rebuild.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from rag.corpus import CorpusLoad
from rag.index import INDEX_FORMAT, READY, build_bm25, check_folder, check_model, open_catalog, open_store, write_lock
from rag.records import Paper
from rag.settings import Settings

BATCH_PAPERS = 128


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

    @property
    def abstracts_per_second(self) -> float:
        embedded = self.added + self.changed
        return embedded / self.embed_seconds if self.embed_seconds > 0 else 0.0

    def summary(self) -> str:
        rate = f", {self.abstracts_per_second:.1f} abstracts/s" if self.chunks_embedded else ""
        return (f"indexed {self.papers} papers at {self.index_dir}: {self.added} new, {self.changed} changed, "
                f"{self.metadata_only} metadata-only, {self.removed} removed, {self.unchanged} unchanged; "
                f"{self.chunks_embedded} chunks embedded in {self.seconds:.1f} s{rate}")


def _hash(obj: Any) -> str:
    return hashlib.sha256(json.dumps(obj, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:24]


def content_hash(paper: Paper, config: dict) -> str:
    return _hash([paper.title, paper.abstract, config])


def meta_hash(paper: Paper) -> str:
    return _hash([paper.sources, paper.code_url, paper.truncated, paper.metadata])


def chunk_metadata(paper: Paper, ordinal: int) -> dict[str, Any]:
    from vectorstore.chroma_store import source_flag

    meta: dict[str, Any] = {"paper_id": paper.paper_id, "ordinal": ordinal, "has_code": paper.code_url is not None}
    meta.update({source_flag(s): True for s in paper.sources})
    return meta


def ingest(settings: Settings, corpus: CorpusLoad, *, rebuild: bool = False, progress: bool = True,
           encoder=None) -> IngestReport:
    """`encoder` replaces the configured model (tests pass a fake with a `name`)."""
    index_dir = Path(settings.index_dir)
    check_folder(index_dir)
    if rebuild:
        return _rebuild(settings, corpus, progress, encoder)
    with write_lock(index_dir):
        return _ingest_locked(settings, corpus, index_dir, progress, encoder)


def _rebuild(settings: Settings, corpus: CorpusLoad, progress: bool, encoder) -> IngestReport:
    final = Path(settings.index_dir)
    fresh = final.with_name(final.name + ".rebuild")
    with write_lock(final):
        shutil.rmtree(fresh, ignore_errors=True)
        report = _ingest_locked(settings.model_copy(update={"index_dir": fresh}), corpus, fresh, progress, encoder)
        old = final.with_name(final.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        final.rename(old)
        fresh.rename(final)
        shutil.rmtree(old, ignore_errors=True)
    report.index_dir = str(final)
    return report


def _ingest_locked(settings: Settings, corpus: CorpusLoad, index_dir: Path, progress: bool, encoder) -> IngestReport:
    from rag.embed import canonical_model_name

    started = time.perf_counter()
    index_dir.mkdir(parents=True, exist_ok=True)
    model = encoder.name if encoder is not None else canonical_model_name(settings.embed_model)
    catalog = open_catalog(index_dir)
    check_model(catalog, index_dir, model)
    config = {"embed_model": model, "chunk_tokens": settings.chunk_tokens, "chunk_overlap": settings.chunk_overlap}

    old = catalog.hashes()
    wanted = {p.paper_id: p for p in corpus.papers}
    to_embed, meta_only, unchanged = [], [], 0
    for pid, paper in wanted.items():
        ch, mh = content_hash(paper, config), meta_hash(paper)
        if pid not in old or old[pid][0] != ch:
            to_embed.append((paper, ch, mh))
        elif old[pid][1] != mh:
            meta_only.append((paper, ch, mh))
        else:
            unchanged += 1
    removed = [pid for pid in old if pid not in wanted]
    changed = sum(1 for p, _, _ in to_embed if p.paper_id in old)

    touched = bool(to_embed or meta_only or removed)
    if touched or catalog.get_meta("state") != READY:
        catalog.set_meta(state="building", format=INDEX_FORMAT, embed_model=model, chunking=config)
    store = open_store(index_dir)
    store.widen_search()  # indexes built before the search breadth was raised
    if removed:
        store.delete(catalog.chunk_ids(removed))
        catalog.delete_papers(removed)
    if meta_only:
        for paper, _, _ in meta_only:
            ids = catalog.chunk_ids([paper.paper_id])
            store.update_metadata(ids, [chunk_metadata(paper, int(i.rsplit(":", 1)[1])) for i in ids])
        catalog.put_papers((p, ch, mh, None) for p, ch, mh in meta_only)

    chunks_embedded, embed_seconds = 0, 0.0
    if to_embed:
        chunks_embedded, embed_seconds, dim = _embed_papers(settings, to_embed, catalog, store, progress, encoder)
        catalog.set_meta(embed_dim=dim)

    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    if touched:
        catalog.set_meta(version=catalog.get_meta("version", 0) + 1, updated_at=now)
    if catalog.get_meta("built_at") is None:
        catalog.set_meta(built_at=now)
    if touched or catalog.get_meta("bm25_version") != catalog.get_meta("version", 0) or not (index_dir / "bm25").exists():
        build_bm25(catalog, index_dir)
    catalog.set_meta(state=READY)
    report = IngestReport(
        index_dir=str(index_dir), papers=catalog.count_papers(), added=len(to_embed) - changed, changed=changed,
        metadata_only=len(meta_only), removed=len(removed), unchanged=unchanged,
        chunks_embedded=chunks_embedded, seconds=time.perf_counter() - started, embed_seconds=embed_seconds)
    catalog.close()
    return report


def _embed_papers(settings, to_embed, catalog, store, progress, encoder) -> tuple[int, float, int]:
    from tqdm import tqdm

    from rag.chunking import Chunker
    from rag.embed import load_ingest_encoder

    encoder = encoder or load_ingest_encoder(settings.embed_model, show_progress=False)
    chunker = Chunker(lambda text: encoder.count_tokens(text) <= encoder.max_tokens,
                      settings.chunk_tokens, settings.chunk_overlap)
    total_chunks, embed_seconds = 0, 0.0
    bar = tqdm(total=len(to_embed), unit="paper", desc="embedding", file=sys.stderr, disable=not progress)
    for start in range(0, len(to_embed), BATCH_PAPERS):
        batch = to_embed[start:start + BATCH_PAPERS]
        chunked = [(paper, ch, mh, chunker.chunk(paper)) for paper, ch, mh in batch]
        chunks = [c for *_, cs in chunked for c in cs]
        t0 = time.perf_counter()
        vectors = encoder.encode([c.text for c in chunks], batch_size=settings.embed_batch_size)
        embed_seconds += time.perf_counter() - t0
        by_id = {p.paper_id: p for p, *_ in chunked}
        store.upsert([c.chunk_id for c in chunks], vectors, [c.text for c in chunks],
                     [chunk_metadata(by_id[c.paper_id], c.ordinal) for c in chunks])
        # A changed paper may now have fewer chunks: drop the ones that no longer exist.
        new_ids = {c.chunk_id for c in chunks}
        stale = [i for i in catalog.chunk_ids(by_id) if i not in new_ids]
        if stale:
            store.delete(stale)
        catalog.put_papers(chunked)
        total_chunks += len(chunks)
        bar.update(len(batch))
    bar.close()
    return total_chunks, embed_seconds, encoder.dim
