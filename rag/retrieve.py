"""Query -> ranked distinct papers: dense (the index's store: the exact copy of a small index's
vectors, or Chroma) and BM25, folded to papers, fused by RRF.

Each retriever's chunk list is first folded to papers (a paper's best chunk stands for it),
so a paper split into three chunks does not vote three times; the paper ranks are then
fused by reciprocal rank fusion. Every returned hit carries the dense cosine similarity of
its best chunk (looked up when only BM25 found it): abstention and the extractive answer
need an absolute relevance signal, which RRF scores are not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from rag.index import Index
from rag.records import Hit
from rag.settings import Settings


@dataclass(frozen=True)
class Filters:
    sources: tuple[str, ...] = field(default_factory=tuple)  # corpus file names; any of them
    has_code: bool | None = None


def fold_chunks_to_papers(ranked: Sequence[tuple[str, float]]) -> list[tuple[str, str, float]]:
    """(chunk id, score) best first -> (paper id, best chunk id, its score), one per paper."""
    seen: dict[str, tuple[str, str, float]] = {}
    for chunk_id, score in ranked:
        paper_id = chunk_id.rsplit(":", 1)[0]
        if paper_id not in seen:
            seen[paper_id] = (paper_id, chunk_id, score)
    return list(seen.values())


def reciprocal_rank_fusion(rankings: Sequence[Sequence[str]], k: int) -> dict[str, float]:
    fused: dict[str, float] = {}
    for ranking in rankings:
        for rank, key in enumerate(ranking, start=1):
            fused[key] = fused.get(key, 0.0) + 1.0 / (k + rank)
    return fused


def make_snippet(chunk_text: str, limit: int) -> str:
    body = chunk_text.split("\n", 1)[-1].strip()
    if len(body) <= limit:
        return body
    cut = body[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + " …"


class Retriever:
    def __init__(self, index: Index, encoder, settings: Settings):
        self.index = index
        self.encoder = encoder
        self.settings = settings

    def embed_query(self, query: str) -> np.ndarray:
        return self.encoder.encode([query])[0]

    def search(self, query: str, k: int | None = None, filters: Filters | None = None,
               mode: str | None = None, query_vector: np.ndarray | None = None) -> list[Hit]:
        from vectorstore import where_clause

        k = k or self.settings.k
        mode = mode or self.settings.retriever
        filters = filters or Filters()
        n = self.settings.candidates  # fixed: the first k papers must not depend on k
        qvec = self.embed_query(query) if query_vector is None else query_vector
        dense, sparse = [], []
        if mode in ("hybrid", "dense"):
            where = where_clause(filters.sources, filters.has_code)
            dense = fold_chunks_to_papers(self.index.store.query(qvec, n, where))
        if mode in ("hybrid", "bm25"):
            sparse = fold_chunks_to_papers(self.index.bm25.search(query, n, filters.sources, filters.has_code))

        dense_by = {p: (c, s) for p, c, s in dense}
        sparse_by = {p: (c, s) for p, c, s in sparse}
        if mode == "hybrid":
            fused = reciprocal_rank_fusion([[p for p, _, _ in dense], [p for p, _, _ in sparse]], self.settings.rrf_k)
            best = 2.0 / (self.settings.rrf_k + 1)
            scored = {p: s / best for p, s in fused.items()}
        elif mode == "dense":
            scored = {p: s for p, _, s in dense}
        else:
            top = sparse[0][2] if sparse else 1.0
            scored = {p: s / top for p, _, s in sparse}
        order = sorted(scored, key=lambda p: (-scored[p], -dense_by.get(p, ("", -1.0))[1]))[:k]

        missing = [p for p in order if p not in dense_by]
        dense_by.update(self._dense_scores(missing, qvec))
        papers = self.index.catalog.papers(order)
        hits = []
        for rank, pid in enumerate(order, start=1):
            chunk_id = dense_by[pid][0] if pid in dense_by else sparse_by[pid][0]
            text = self.index.catalog.chunk_text(chunk_id) or papers[pid].abstract
            hits.append(Hit(rank=rank, paper=papers[pid], score=scored[pid],
                            dense_score=dense_by[pid][1] if pid in dense_by else None,
                            bm25_score=sparse_by[pid][1] if pid in sparse_by else None,
                            chunk_id=chunk_id, snippet=make_snippet(text, self.settings.snippet_chars)))
        return hits

    def _dense_scores(self, paper_ids: list[str], qvec: np.ndarray) -> dict[str, tuple[str, float]]:
        """Best-chunk cosine similarity for papers only BM25 found."""
        chunk_ids = self.index.catalog.chunk_ids(paper_ids)
        if not chunk_ids:
            return {}
        vectors = self.index.store.vectors(chunk_ids)
        if not vectors:
            return {}
        sims = np.stack(list(vectors.values())) @ qvec
        best: dict[str, tuple[str, float]] = {}
        for chunk_id, sim in zip(vectors, sims):
            pid = chunk_id.rsplit(":", 1)[0]
            if pid not in best or sim > best[pid][1]:
                best[pid] = (chunk_id, float(sim))
        return best

    def hits_for(self, paper_ids: Sequence[str], qvec: np.ndarray) -> list[Hit]:
        """Hits for given papers (a chat's working set), in the given order, scored by their best
        chunk's cosine similarity to the query (papers the index no longer holds are skipped)."""
        papers = self.index.catalog.papers(list(paper_ids))
        dense_by = self._dense_scores([p for p in paper_ids if p in papers], qvec)
        hits = []
        for pid in paper_ids:
            if pid not in papers or pid not in dense_by:
                continue
            chunk_id, score = dense_by[pid]
            text = self.index.catalog.chunk_text(chunk_id) or papers[pid].abstract
            hits.append(Hit(rank=len(hits) + 1, paper=papers[pid], score=score, dense_score=score, bm25_score=None,
                            chunk_id=chunk_id, snippet=make_snippet(text, self.settings.snippet_chars)))
        return hits
