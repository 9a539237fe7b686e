"""BM25 over chunk texts (bm25s + an English stemmer), with filter masks kept beside it.

Built from the catalog after every ingest that changed anything and saved to the index
folder; loaded memory-mapped at query time. The corpus text itself is not kept here.
Filter masks (has code, per source file) are boolean arrays over chunks, passed to bm25s as
a weight mask so filtering happens inside the search, not after it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

IDS_FILE = "chunk_ids.json"
MASKS_FILE = "filters.npz"


def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(texts: list[str], stemmer) -> list[list[str]]:
    import bm25s

    return bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, return_ids=False, show_progress=False)


class BM25Index:
    def __init__(self, retriever, chunk_ids: list[str], masks: dict[str, np.ndarray]):
        self.retriever = retriever
        self.chunk_ids = chunk_ids
        self.masks = masks
        self.stemmer = _stemmer()
        self._df: np.ndarray | None = None

    @classmethod
    def build(cls, rows: Iterable[tuple[str, str, str]], has_code: dict[str, bool],
              sources: dict[str, list[str]]) -> "BM25Index":
        """rows: (chunk_id, paper_id, text); has_code/sources: per paper id."""
        import bm25s

        chunk_ids, paper_ids, texts = [], [], []
        for chunk_id, paper_id, text in rows:
            chunk_ids.append(chunk_id)
            paper_ids.append(paper_id)
            texts.append(text)
        retriever = bm25s.BM25()
        retriever.index(tokenize(texts, _stemmer()), show_progress=False)
        masks = {"has_code": np.array([has_code[p] for p in paper_ids], dtype=bool)}
        for i, pid in enumerate(paper_ids):
            for source in sources[pid]:
                masks.setdefault("src:" + source, np.zeros(len(paper_ids), dtype=bool))[i] = True
        return cls(retriever, chunk_ids, masks)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.retriever.save(str(folder))
        (folder / IDS_FILE).write_text(json.dumps(self.chunk_ids))
        np.savez(folder / MASKS_FILE, **self.masks)

    @classmethod
    def load(cls, folder: Path) -> "BM25Index":
        import bm25s

        retriever = bm25s.BM25.load(str(folder), mmap=True, show_progress=False)
        chunk_ids = json.loads((folder / IDS_FILE).read_text())
        with np.load(folder / MASKS_FILE) as data:
            masks = {k: data[k] for k in data.files}
        return cls(retriever, chunk_ids, masks)

    def idf(self, token: str) -> float:
        """BM25's idf over chunks; a term the corpus never uses gets the highest idf."""
        if self._df is None:  # the index is stored token-major (CSC): column lengths = df
            self._df = np.diff(np.asarray(self.retriever.scores["indptr"]))
        n = len(self.chunk_ids)
        token_id = self.retriever.vocab_dict.get(token)
        df = 0 if token_id is None else int(self._df[token_id])
        return float(np.log(1.0 + (n - df + 0.5) / (df + 0.5)))

    def term_coverage(self, query: str, text: str) -> float:
        """Share of the query's terms, weighted by idf, that also occur in `text`."""
        terms = set(tokenize([query], self.stemmer)[0])
        if not terms:
            return 0.0
        present = set(tokenize([text], self.stemmer)[0])
        weights = {t: self.idf(t) for t in terms}
        total = sum(weights.values())
        return sum(w for t, w in weights.items() if t in present) / total if total else 0.0

    def filter_mask(self, sources: Sequence[str] | None, has_code: bool | None) -> np.ndarray | None:
        if not sources and has_code is None:
            return None
        mask = np.ones(len(self.chunk_ids), dtype=bool)
        if sources:
            empty = np.zeros(len(self.chunk_ids), dtype=bool)
            mask &= np.logical_or.reduce([self.masks.get("src:" + s, empty) for s in sources])
        if has_code is not None:
            mask &= self.masks["has_code"] == has_code
        return mask

    def search(self, query: str, n: int, sources: Sequence[str] | None = None,
               has_code: bool | None = None) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) for up to n chunks that share a term with the query."""
        tokens = tokenize([query], self.stemmer)[0]
        vocab = self.retriever.vocab_dict
        tokens = [t for t in tokens if t in vocab]
        n = min(n, len(self.chunk_ids))
        if not tokens or n <= 0:
            return []
        mask = self.filter_mask(sources, has_code)
        docs, scores = self.retriever.retrieve([tokens], k=n, show_progress=False, n_threads=1,
                                               weight_mask=None if mask is None else mask.astype(np.float32))
        return [(self.chunk_ids[int(d)], float(s)) for d, s in zip(docs[0], scores[0]) if s > 0]
