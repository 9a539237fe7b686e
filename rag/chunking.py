"""Paper -> chunks that fit the embedder's window, never silently truncated.

An abstract whose "title + abstract" fits the window is one chunk. A longer one is cut at its
sentence boundaries (rag.sentences, the same splitter the evidence units use, so every
evidence sentence lies whole in some chunk) into chunks of at most `chunk_tokens` tiktoken
(cl100k) tokens with the title's share reserved, each but the first opening with the previous
chunk's last sentences up to `chunk_overlap` tokens; a sentence longer than a chunk is cut at
its clauses, then its words, then (text without spaces) into runs of characters. The chunk's
body is the abstract's own text between its first and last piece, so quotes and offsets stay
exact. tiktoken and the embedder count tokens differently, so each chunk is checked with the
embedder's own count (`fits`) and the chunk size shrinks until every chunk fits.

(The packing is llama-index's SentenceSplitter's, written out here: importing llama-index and
NLTK for it cost an ingest about 4 s of its start, more than embedding 100 abstracts.)
"""

from __future__ import annotations

import re
from typing import Callable

from rag.records import Chunk, Paper
from rag.sentences import split_sentences
from rag.tokens import count_tokens

Fits = Callable[[str], bool]
Unit = tuple[int, int, int]  # (start, end) in the abstract, tiktoken tokens
MIN_BODY_TOKENS = 16  # below this a chunk would be all title

_CLAUSE = re.compile(r"[^,.;]+[,.;]?")
_WORD = re.compile(r"\S+")


def chunk_text(title: str, body: str) -> str:
    return f"{title}\n{body}"


def _spans(text: str, pieces: list[str], start: int = 0) -> list[tuple[int, int]]:
    """Where each piece (in order, whitespace-stripped) lies in `text`."""
    out = []
    for piece in pieces:
        at = text.index(piece, start)
        out.append((at, at + len(piece)))
        start = at + len(piece)
    return out


def units(text: str, budget: int) -> list[Unit]:
    """The abstract's sentences as (start, end, tokens); one longer than `budget` tokens is cut
    at its clauses (", ; ."), a clause still too long at its words, and a word still too long
    (text without spaces) into runs of characters."""
    return [u for start, end in _spans(text, split_sentences(text)) for u in _cut(text, start, end, budget)]


def _cut(text: str, start: int, end: int, budget: int) -> list[Unit]:
    size = count_tokens(text[start:end])
    if size <= budget:
        return [(start, end, size)]
    for pattern in (_CLAUSE, _WORD):
        parts = [(m.start(), m.end()) for m in pattern.finditer(text, start, end)]
        parts = [(a + len(text[a:b]) - len(text[a:b].lstrip()), b) for a, b in parts if text[a:b].strip()]
        if len(parts) > 1:
            return [u for a, b in parts for u in _cut(text, a, b, budget)]
    step = max(1, budget // 2)  # a token is at least one character, and rarely more than two here
    return [(a, min(a + step, end), count_tokens(text[a:min(a + step, end)])) for a in range(start, end, step)]


def pack(pieces: list[Unit], size: int, overlap: int) -> list[tuple[int, int]]:
    """Consecutive units packed into (start, end) chunks of at most `size` tokens (a unit larger
    than that is a chunk of its own); each chunk after the first opens with the previous one's
    last units, as many as fit in `overlap` tokens and leave room for the next unit."""
    chunks: list[tuple[int, int]] = []
    current: list[Unit] = []
    fresh = 0  # units in `current` that no earlier chunk holds
    for unit in pieces:
        if fresh and sum(u[2] for u in current) + unit[2] > size:
            chunks.append((current[0][0], current[-1][1]))
            carried: list[Unit] = []
            for previous in reversed(current):
                if sum(u[2] for u in carried) + previous[2] > overlap:
                    break
                carried.insert(0, previous)
            current, fresh = carried, 0
        while current and not fresh and sum(u[2] for u in current) + unit[2] > size:
            current.pop(0)  # the overlap gives way to a unit that would not fit beside it
        current.append(unit)
        fresh += 1
    if fresh:
        chunks.append((current[0][0], current[-1][1]))
    return chunks


class Chunker:
    def __init__(self, fits: Fits, chunk_tokens: int = 240, chunk_overlap: int = 40):
        if chunk_overlap >= chunk_tokens:
            raise ValueError("chunk_overlap must be smaller than chunk_tokens")
        self.fits = fits
        self.chunk_tokens = chunk_tokens
        self.chunk_overlap = chunk_overlap

    def _splits(self, title: str, abstract: str, size: int) -> list[str]:
        budget = size - count_tokens(title)
        if budget < MIN_BODY_TOKENS:  # a title that fills the window: one chunk, which the model truncates
            return [abstract]
        overlap = min(self.chunk_overlap, size // 4)
        return [abstract[a:b] for a, b in pack(units(abstract, budget), budget, overlap)] or [abstract]

    def chunk(self, paper: Paper) -> list[Chunk]:
        whole = chunk_text(paper.title, paper.abstract)
        if self.fits(whole):
            pieces = [paper.abstract]
        else:
            size = self.chunk_tokens
            while True:
                pieces = self._splits(paper.title, paper.abstract, size)
                if all(self.fits(chunk_text(paper.title, p)) for p in pieces) or size <= 32:
                    break
                size = int(size * 0.8)
        return [
            Chunk(chunk_id=f"{paper.paper_id}:{i}", paper_id=paper.paper_id, ordinal=i,
                  text=chunk_text(paper.title, piece))
            for i, piece in enumerate(pieces)
        ]
