"""Question -> `Answer`: validate, retrieve, abstain or answer, with timings and a stamp.

The pipeline takes a `Settings` plus injectable parts (encoder, index), which is what lets
tests run it with fakes. It builds the index on first use when none exists (the shipped
corpus by default), so a fresh clone answers its first question without a separate step.
"""

from __future__ import annotations

import sys
import time
import unicodedata
from pathlib import Path
from typing import Callable, Sequence

from rag.errors import UsageError
from rag.records import Answer, Citation
from rag.retrieve import Filters, Retriever
from rag.settings import Settings

LLM_KINDS = ("local", "gguf", "ollama", "openai", "extractive")


def check_llm_spec(spec: str) -> str:
    """Validate an `--llm` spec; only `extractive` is implemented in this version."""
    kind, _, arg = spec.partition(":")
    if kind not in LLM_KINDS or (kind in ("gguf", "ollama", "openai") and not arg) or (kind in ("local", "extractive") and arg):
        raise UsageError(f"unknown --llm spec {spec!r}: use extractive, local, gguf:/path/model.gguf, ollama:MODEL or openai:MODEL")
    if kind != "extractive":
        raise UsageError(f"--llm {spec} is not available in this version yet: use --llm extractive")
    return spec


def clean_question(question: str, max_chars: int) -> str:
    """Strip control characters and outer space; refuse empty and oversized questions."""
    if len(question) > max_chars:
        raise UsageError(f"question is {len(question):,} characters, the limit is {max_chars:,}: shorten it (or raise RAG_MAX_QUESTION_CHARS)")
    cleaned = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in question)
    cleaned = " ".join(cleaned.split())
    if not cleaned:
        raise UsageError('empty question: type a question, e.g. ask "which methods prune tokens without fine-tuning?"')
    return cleaned


def standalone_query(question: str, history: Sequence[str]) -> str:
    """Deterministic follow-up condensing: the previous question gives the topic."""
    return f"{history[-1]} {question}" if history else question


def default_log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Pipeline:
    def __init__(self, settings: Settings, *, encoder=None, index=None, progress: bool = True,
                 log: Callable[[str], None] = default_log):
        self.settings = settings
        self._encoder = encoder
        self._index = index
        self.progress = progress
        self.log = log
        self.load_ms = 0.0
        check_llm_spec(settings.llm)

    @property
    def index(self):
        if self._index is None:
            from rag.index import Index, is_ready

            started = time.perf_counter()
            index_dir = Path(self.settings.index_dir)
            if not is_ready(index_dir):
                self.build_index()
            self._index = Index(index_dir, self.model_name())
            self.load_ms += (time.perf_counter() - started) * 1000
        return self._index

    def build_index(self) -> None:
        from rag.corpus import load_corpus
        from rag.ingest import ingest

        corpus = load_corpus(self.settings.corpus)  # a bad corpus fails before any notice
        for warning in corpus.warnings:
            self.log(f"warning: {warning}")
        self.log(f"no ready index at {self.settings.index_dir}: building it from {len(corpus.papers)} papers (one time)…")
        encoder = self._encoder if getattr(self._encoder, "name", None) else None  # a test's fake
        self.log(ingest(self.settings, corpus, progress=self.progress, encoder=encoder).summary())

    def model_name(self) -> str:
        from rag.embed import canonical_model_name

        return getattr(self._encoder, "name", None) or canonical_model_name(self.settings.embed_model)

    @property
    def encoder(self):
        if self._encoder is None:
            from rag.embed import load_query_encoder

            started = time.perf_counter()
            self._encoder = load_query_encoder(self.settings.embed_model)
            self.load_ms += (time.perf_counter() - started) * 1000
        return self._encoder

    def retriever(self) -> Retriever:
        return Retriever(self.index, self.encoder, self.settings)

    def ask(self, question: str, history: Sequence[str] = (), k: int | None = None,
            filters: Filters | None = None) -> Answer:
        from rag.extractive import extractive_answer
        from rag.prompts import render

        started, load_before = time.perf_counter(), self.load_ms
        question = clean_question(question, self.settings.max_question_chars)
        history = [h for h in (clean_question(h, self.settings.max_question_chars) for h in history)]
        query = standalone_query(question, history)
        retriever = self.retriever()
        t0 = time.perf_counter()
        qvec = retriever.embed_query(query)
        hits = retriever.search(query, k=k, filters=filters, query_vector=qvec)
        t1 = time.perf_counter()
        support = self.support(query, hits[0]) if hits else None
        abstained = support is None or support < self.settings.abstain_threshold
        if abstained:
            text = render(self.settings.prompts_dir, "abstain.txt", paper_count=self.index.catalog.count_papers())
            citations: list[Citation] = []
        else:
            result = extractive_answer(qvec, hits, self.encoder, self.settings)
            by_rank = {h.rank: h for h in hits}
            text = result.text
            citations = [Citation(marker=m, paper_id=by_rank[m].paper.paper_id, title=by_rank[m].paper.title)
                         for m in result.markers]
        t2 = time.perf_counter()
        return Answer(
            question=question, answer=text, abstained=abstained, citations=citations, sources=hits,
            llm=self.settings.llm,
            timings_ms={"retrieve": (t1 - t0) * 1000, "generate": (t2 - t1) * 1000,
                        "total": (t2 - started) * 1000, "load": self.load_ms - load_before},
            stamp=self.stamp(), support=support,
            retrieval_query=query if query != question else None,
        )

    def support(self, query: str, hit) -> float:
        """How well the best paper supports answering at all (abstention signal, 0..1)."""
        weight = self.settings.abstain_lexical_weight
        dense = hit.dense_score if hit.dense_score is not None else 0.0
        coverage = self.index.bm25.term_coverage(query, f"{hit.paper.title} {hit.paper.abstract}")
        return (1 - weight) * dense + weight * coverage

    def stamp(self) -> dict:
        meta = self.index.catalog.all_meta()
        return {"index_dir": str(self.settings.index_dir), "index_version": meta.get("version"),
                "embed_model": meta.get("embed_model"), "retriever": self.settings.retriever,
                "settings": self.settings.stamp()}
