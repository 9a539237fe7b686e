"""Paper -> chunks that fit the embedder's window, never silently truncated.

An abstract whose "title + abstract" fits the window is one chunk. A longer one is split by
llama-index's SentenceSplitter (tiktoken cl100k token counts, sentence boundaries first)
with overlap, the title reserved in every chunk's budget and prepended to it. tiktoken and
the embedder count tokens differently, so each split is checked with the embedder's own
count (`fits`) and the chunk size shrinks until every chunk fits.
"""

from __future__ import annotations

from typing import Callable

from rag.records import Chunk, Paper
from rag.tokens import point_tiktoken_at_bundled_encodings

Fits = Callable[[str], bool]


def chunk_text(title: str, body: str) -> str:
    return f"{title}\n{body}"


class Chunker:
    def __init__(self, fits: Fits, chunk_tokens: int = 240, chunk_overlap: int = 40):
        if chunk_overlap >= chunk_tokens:
            raise ValueError("chunk_overlap must be smaller than chunk_tokens")
        self.fits = fits
        self.chunk_tokens = chunk_tokens
        self.chunk_overlap = chunk_overlap
        self._splitters: dict[int, object] = {}

    def _splits(self, title: str, abstract: str, size: int) -> list[str]:
        if size not in self._splitters:
            point_tiktoken_at_bundled_encodings()
            from llama_index.core.node_parser import SentenceSplitter

            self._splitters[size] = SentenceSplitter(chunk_size=size, chunk_overlap=min(self.chunk_overlap, size // 4))
        return self._splitters[size].split_text_metadata_aware(abstract, metadata_str=title)

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
