"""The typed records that flow through the pipeline: Paper, Chunk, Hit, Citation, Answer.

Plain dataclasses, no behaviour beyond (de)serialisation, so every module can share them
without importing anything heavy.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(slots=True)
class Paper:
    paper_id: str  # stable: from the arXiv id, the record id and title, or the title (rag.corpus_formats)
    title: str
    abstract: str
    sources: list[str] = field(default_factory=list)  # every corpus file it appeared in
    truncated: bool = False  # the abstract is cut off mid-sentence at the source
    code_url: str | None = None  # code or project page given in the abstract
    metadata: dict[str, Any] = field(default_factory=dict)  # extra fields (authors, year…)
    record_ids: list[str] = field(default_factory=list)  # the corpus records' own ids (arXiv id without version)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class Chunk:
    chunk_id: str  # "<paper_id>:<ordinal>"
    paper_id: str
    ordinal: int
    text: str  # always starts with the paper's title


@dataclass(slots=True)
class Hit:
    """One retrieved paper (never one chunk): its best chunk stands for it."""

    rank: int
    paper: Paper
    score: float  # fused score scaled to 0..1 (1 = first in every retriever)
    dense_score: float | None  # cosine similarity of the best chunk, None if not retrieved
    bm25_score: float | None
    chunk_id: str
    snippet: str
    evidence: list[dict] | None = None  # the sentences that matched best: {"text", "score"}

    def to_source(self) -> dict[str, Any]:
        out = {
            "rank": self.rank,
            "paper_id": self.paper.paper_id,
            "title": self.paper.title,
            "score": round(self.score, 4),
            "snippet": self.snippet,
            "dense_score": None if self.dense_score is None else round(self.dense_score, 4),
            "bm25_score": None if self.bm25_score is None else round(self.bm25_score, 4),
            "code_url": self.paper.code_url,
            "truncated": self.paper.truncated,
            "corpus_files": self.paper.sources,
            "record_ids": self.paper.record_ids,
        }
        if self.evidence is not None:
            out["evidence"] = self.evidence
        return out


@dataclass(slots=True)
class Citation:
    marker: int  # the [n] in the answer text; equals the cited source's rank
    paper_id: str
    title: str


@dataclass(slots=True)
class Answer:
    question: str
    answer: str
    abstained: bool
    citations: list[Citation]
    sources: list[Hit]
    llm: str
    timings_ms: dict[str, float]
    stamp: dict[str, Any] = field(default_factory=dict)  # what produced it: index, models, settings hash
    retrieval_query: str | None = None  # the standalone query actually searched, if it differs
    support: float | None = None  # the abstention signal: how far the best papers' evidence stands out (rag.relevance)
    abstain_reason: str | None = None  # "retrieval", "names" (a name the paper never says), "model" or "reference"
    sentences: list[dict] | None = None  # LLM answers: every sentence with its citations and support
    fallback: str | None = None  # "extractive" when no LLM sentence survived the citation check
    sources_seen: list[int] | None = None  # LLM answers: the source ranks that fitted in the prompt
    prompt_tokens: int | None = None
    model_output: str | None = None  # LLM answers: the model's raw text, before checking
    shape: str | None = None  # how the question was read (rag.shapes)
    matches: dict | None = None  # list questions: {"count", "shown", "paper_ids"}
    working_set: list[str] | None = None  # chat follow-ups restricted to earlier papers (not yet built)
    markers: list[int] = field(default_factory=list)  # the source ranks the answerer cited, in order

    def to_json(self) -> dict[str, Any]:
        """The `ask --json` object of docs/contracts.md §2 (extra fields only ever added)."""
        out = {
            "question": self.question,
            "answer": self.answer,
            "abstained": self.abstained,
            "citations": [asdict(c) for c in self.citations],
            "sources": [h.to_source() for h in self.sources],
            "llm": self.llm,
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
            "stamp": self.stamp,
            "support": None if self.support is None else round(self.support, 4),
            "shape": self.shape,
            "matches": self.matches,
            "working_set": self.working_set,
        }
        optional = {"retrieval_query": self.retrieval_query, "abstain_reason": self.abstain_reason,
                    "sentences": self.sentences, "fallback": self.fallback,
                    "sources_seen": self.sources_seen, "prompt_tokens": self.prompt_tokens,
                    "model_output": self.model_output}
        out.update({k: v for k, v in optional.items() if v is not None})
        return out
