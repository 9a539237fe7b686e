"""The `extractive` backend: an answer assembled from abstract sentences, each one cited.

No language model: for the papers that retrieval found close enough to the question, it
quotes the sentences most similar to the question (same embedder as retrieval), keeps
them in the abstract's order, and cites each with its paper's source rank `[n]`; papers
appear in rank order. Every claim is therefore a verbatim, correctly attributed sentence.
It does not decide abstention; the pipeline does, before calling it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from rag.injection import is_instruction
from rag.records import Hit
from rag.sentences import split_sentences
from rag.settings import Settings

_BOILERPLATE = re.compile(r"^(?:our |the |all )?(?:source )?(?:code|models?|data(?:set)?s?|project page|demo|weights)\b.{0,60}"
                          r"(?:available|released|found|public|https?:)", re.IGNORECASE)


def is_boilerplate(sentence: str) -> bool:
    """Code/project-page availability lines say nothing about the question."""
    return bool(_BOILERPLATE.search(sentence)) or len(sentence.split()) < 5


def cite(sentence: str, marker: int) -> str:
    """Put ` [n]` before the closing punctuation: 'It works [1].'"""
    match = re.search(r"([.!?]+[\"')\]]*)$", sentence)
    if match:
        return f"{sentence[:match.start()].rstrip()} [{marker}]{match.group(1)}"
    return f"{sentence} [{marker}]."


def short_name(title: str) -> str:
    """'Zero-TPrune: Zero-Shot Token Pruning…' -> 'Zero-TPrune'; otherwise the whole title."""
    head = title.split(":", 1)[0].strip()
    return head if ":" in title and len(head.split()) <= 6 else title


@dataclass
class ExtractiveAnswer:
    text: str
    markers: list[int]  # the source ranks cited, in order of appearance


def relevant_hits(hits: list[Hit], settings: Settings) -> list[Hit]:
    """The top hit, plus every hit whose dense similarity is within the margin of the best.

    Whether to answer at all is the pipeline's decision (abstention, on another scale);
    here only closeness to the best paper counts.
    """
    if not hits:
        return []
    scores = [h.dense_score if h.dense_score is not None else -1.0 for h in hits]
    floor = max(scores) - settings.relevance_margin
    chosen = [h for h, s in zip(hits, scores) if s >= floor or h is hits[0]]
    return chosen[: settings.answer_max_papers]


def extractive_answer(question_vector: np.ndarray, hits: list[Hit], encoder, settings: Settings) -> ExtractiveAnswer:
    chosen = relevant_hits(hits, settings)
    per_paper = []
    for hit in chosen:
        sentences = [s for s in split_sentences(hit.paper.abstract) if not is_boilerplate(s) and not is_instruction(s)]
        per_paper.append((hit, sentences or [hit.paper.abstract]))
    flat = [s for _, sentences in per_paper for s in sentences]
    sims = encoder.encode(flat) @ question_vector if flat else np.zeros(0)
    lines, markers, offset = [], [], 0
    for position, (hit, sentences) in enumerate(per_paper):
        scores = sims[offset:offset + len(sentences)]
        offset += len(sentences)
        quota = settings.sentences_per_paper if position == 0 else 1
        picked = sorted(np.argsort(-scores)[:quota])
        quoted = " ".join(cite(sentences[i], hit.rank) for i in picked)
        lines.append(f"{short_name(hit.paper.title)}: {quoted}")
        markers.append(hit.rank)
    return ExtractiveAnswer(text="\n".join(lines), markers=markers)
