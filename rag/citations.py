"""Citation checking: every sentence of an LLM answer against the abstracts it cites.

For each sentence: parse its `[n]` markers (also `[1, 2]`, `[1-3]`, `[1][2]`), drop markers
that point at no source the model saw, and score each remaining citation by the best cosine
similarity between the sentence and the cited paper's title and abstract sentences (the
query encoder, already loaded). A citation below the threshold is removed; a sentence left
with no supporting citation is unsupported. Nothing here decides what to do with
unsupported sentences: the generator does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from rag.sentences import split_sentences
from rag.records import Paper

MARKER = re.compile(r"\[\s*(\d+(?:\s*(?:[,;]|-|–|and)\s*\d+)*)\s*\]")
LIST_PREFIX = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")


@dataclass
class Verdict:
    text: str  # the sentence as shown: markers normalised to the supported ones
    markers: list[int]  # supported citations, as source ranks
    support: float  # best similarity to a cited paper (0 when nothing valid is cited)
    supported: bool
    dropped: list[int] = field(default_factory=list)  # markers removed (no such source, or unsupported)

    def to_json(self) -> dict:
        return {"text": self.text, "markers": self.markers, "support": round(self.support, 4),
                "supported": self.supported, "dropped_markers": self.dropped}


def parse_markers(sentence: str) -> tuple[str, list[int]]:
    """('Text [1, 3].', ...) -> ('Text.', [1, 3]); ranges expand, duplicates go."""
    markers: list[int] = []
    for group in MARKER.findall(sentence):
        for part in re.split(r"\s*(?:[,;]|and)\s*", group):
            if re.fullmatch(r"\d+\s*[-–]\s*\d+", part):
                low, high = (int(x) for x in re.split(r"\s*[-–]\s*", part))
                markers.extend(range(low, min(high, low + 20) + 1))
            elif part.strip().isdigit():
                markers.append(int(part))
    text = MARKER.sub("", sentence)
    text = re.sub(r"\s+([.,;:!?])", r"\1", re.sub(r"\s{2,}", " ", text)).strip()
    return text, list(dict.fromkeys(markers))


def with_markers(text: str, markers: list[int]) -> str:
    """'It works.' + [1, 2] -> 'It works [1][2].'"""
    if not markers:
        return text
    tags = "".join(f"[{m}]" for m in markers)
    match = re.search(r"([.!?]+[\"')\]]*)$", text)
    if match:
        return f"{text[:match.start()].rstrip()} {tags}{match.group(1)}"
    return f"{text} {tags}."


def answer_sentences(text: str) -> list[str]:
    """Sentences of a model's answer: lines and list items first, then sentence ends.
    Markers written after the full stop ('It works. [1]') go with the sentence before."""
    pieces: list[str] = []
    for line in text.splitlines():
        line = LIST_PREFIX.sub("", line).strip()
        for sentence in split_sentences(line):
            if pieces and MARKER.match(sentence):
                lead = re.match(r"^(?:\s*\[[^\]]*\]\s*)+", sentence).group(0)
                pieces[-1] += " " + lead.strip()
                sentence = sentence[len(lead):].strip()
            if sentence:
                pieces.append(sentence)
    return pieces


class CitationChecker:
    def __init__(self, encoder, threshold: float, sources: dict[int, Paper]):
        self.encoder = encoder
        self.threshold = threshold
        self.sources = sources  # rank -> paper, only the sources the model saw
        self._paper_vectors: dict[str, np.ndarray] = {}

    def paper_vectors(self, paper: Paper) -> np.ndarray:
        if paper.paper_id not in self._paper_vectors:
            units = [paper.title] + split_sentences(paper.abstract)
            self._paper_vectors[paper.paper_id] = self.encoder.encode(units)
        return self._paper_vectors[paper.paper_id]

    def judge(self, sentence: str) -> Verdict:
        text, markers = parse_markers(sentence)
        valid = [m for m in markers if m in self.sources]
        dropped = [m for m in markers if m not in self.sources]
        if not text or not valid:
            return Verdict(text=text, markers=[], support=0.0, supported=False, dropped=dropped)
        vector = self.encoder.encode([text])[0]
        scores = {m: float((self.paper_vectors(self.sources[m]) @ vector).max()) for m in valid}
        kept = [m for m in valid if scores[m] >= self.threshold]
        dropped += [m for m in valid if m not in kept]
        return Verdict(text=with_markers(text, kept), markers=kept, support=max(scores.values()),
                       supported=bool(kept), dropped=dropped)
