"""BM25 over chunk texts, built in a streaming pass and searched from memory-mapped arrays.

Scoring is bm25s's "lucene" variant (k1 1.5, b 0.75, idf log(1 + (N - df + .5) / (df + .5)))
with its tokenizer (lower case, `\\w\\w+` words, English stopwords, Snowball stemmer), so
rankings match bm25s; the index is our own because bm25s needs every document's tokens in
memory at once to build and parses a JSON vocabulary to load, neither of which scales to
arXiv-size corpora.

On disk (`<index>/bm25/`), all NumPy arrays, opened memory-mapped so a query process pages
in only what its terms touch:
    vocab.npy      sorted UTF-8 terms ('S' array; a term's id is its position)
    indptr.npy     term-major (CSC) postings: term t's postings are [indptr[t], indptr[t+1])
    docs.npy       the chunk number of each posting (int32)
    scores.npy     the precomputed BM25 score of each posting (float32)
    chunk_ids.npy  chunk number -> chunk id ('S' array)
    filters.npz    boolean masks over chunks: has_code, and one per source file
    meta.json      format, number of chunks, average length, k1, b
The build holds one batch of chunk texts at a time and spills postings to disk in segments;
what it holds that grows with the corpus is the vocabulary, the chunk ids and the finished
postings (8 bytes per distinct term per chunk), never the text.
A query costs time in proportion to the postings of its terms (a common term's postings grow
with the corpus) plus one pass over a float per chunk.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import numpy as np

from vectorstore.chroma_store import SOURCE_PREFIX  # the filter masks are named as the store's flags

FORMAT = 2
K1, B = 1.5, 0.75
WORD = re.compile(r"(?u)\b\w\w+\b")
BUILD_BATCH = 4096
SEGMENT_POSTINGS = 8_000_000  # postings held in memory before a segment goes to disk (~100 MB)
# bm25s's English stopwords (bm25s.stopwords.STOPWORDS_EN; tests/test_bm25.py checks they
# still agree), copied because importing bm25s pulls in SciPy: 0.8 s of every cold `ask`.
STOPWORDS_EN = ("a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if", "in", "into", "is", "it",
                "no", "not", "of", "on", "or", "such", "that", "the", "their", "then", "there", "these",
                "they", "this", "to", "was", "will", "with")
FILES = ("vocab.npy", "indptr.npy", "docs.npy", "scores.npy", "chunk_ids.npy", "filters.npz", "meta.json")


# British <-> American spellings: (British, American) fragments of a word, tried one occurrence
# at a time ("organisation" -> "organization"). Only ever used to find a term the corpus has.
_SPELLINGS = (("is", "iz"), ("ys", "yz"), ("our", "or"), ("ae", "e"), ("oe", "e"), ("ll", "l"), ("ogu", "og"))
_ENDINGS = ((re.compile(r"tres?$"), "ter"),)  # "centre" -> "center" (not back: "register" is no "registre")
# Plurals the stemmer does not fold into their singular ("mice" stays "mice", "mouse" is "mous"):
# the other number of the same word, so "Which studies were done in mice?" meets "a mouse model".
_IRREGULAR = (("mouse", "mice"), ("louse", "lice"), ("child", "children"), ("woman", "women"), ("man", "men"),
              ("tooth", "teeth"), ("foot", "feet"), ("goose", "geese"), ("analysis", "analyses"),
              ("hypothesis", "hypotheses"), ("diagnosis", "diagnoses"), ("prognosis", "prognoses"),
              ("thesis", "theses"), ("synthesis", "syntheses"), ("criterion", "criteria"),
              ("phenomenon", "phenomena"), ("index", "indices"), ("matrix", "matrices"), ("vertex", "vertices"),
              ("bacterium", "bacteria"), ("nucleus", "nuclei"), ("stimulus", "stimuli"), ("locus", "loci"),
              ("fungus", "fungi"), ("genus", "genera"), ("stratum", "strata"), ("leaf", "leaves"))
_OTHER_NUMBER = {a: b for pair in _IRREGULAR for a, b in (pair, pair[::-1])}


def spelling_variants(word: str) -> list[str]:
    """The other spellings of a word, each differing in one place ("recognise" -> "recognize";
    "color" -> "colour"), British to American first; then an irregular plural's singular or the
    other way round ("mice" -> "mouse")."""
    out = []
    for british, american in _SPELLINGS:
        for old, new in ((british, american), (american, british)):
            at = word.find(old)
            while at >= 0:
                out.append(word[:at] + new + word[at + len(old):])
                at = word.find(old, at + 1)
    out += [pattern.sub(american, word) for pattern, american in _ENDINGS if pattern.search(word)]
    if word in _OTHER_NUMBER:
        out.append(_OTHER_NUMBER[word])
    return list(dict.fromkeys(v for v in out if v != word and len(v) > 2))


class Tokenizer:
    """bm25s.tokenize's tokens (stopwords="en", English stemmer), with a stem cache."""

    def __init__(self):
        import Stemmer

        self.stemmer = Stemmer.Stemmer("english")
        self.stopwords = frozenset(STOPWORDS_EN)
        self.cache: dict[str, str] = {}

    def __call__(self, text: str) -> list[str]:
        out = []
        cache = self.cache
        for word in WORD.findall(text.lower()):
            if word in self.stopwords:
                continue
            stem = cache.get(word)
            if stem is None:
                stem = self.stemmer.stemWord(word)
                if len(cache) < 1_000_000:
                    cache[word] = stem
            out.append(stem)
        return out


def _encode(strings: Sequence[str]) -> np.ndarray:
    encoded = [s.encode("utf-8") for s in strings]
    width = max((len(s) for s in encoded), default=1) or 1
    return np.array(encoded, dtype=f"S{width}")


class _Segments:
    """(chunk, term, count) postings collapsed a batch at a time, written to disk in segments."""

    def __init__(self, folder: Path, segment_postings: int):
        self.folder, self.limit = folder, segment_postings
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.held = 0
        self.paths: list[Path] = []

    def add(self, batch_docs: list[int], batch_terms: list[int]) -> None:
        if not batch_docs:
            return
        pairs = (np.asarray(batch_docs, dtype=np.int64) << 32) | np.asarray(batch_terms, dtype=np.int64)
        unique, counts = np.unique(pairs, return_counts=True)  # sorted by chunk, then term
        self.parts.append(((unique >> 32).astype(np.int32), (unique & 0xFFFFFFFF).astype(np.int32),
                           counts.astype(np.float32)))
        self.held += len(unique)
        if self.held >= self.limit:
            self.flush()

    def flush(self) -> None:
        if not self.parts:
            return
        path = self.folder / f"segment-{len(self.paths):05d}.npz"
        np.savez(path, *(np.concatenate(column) for column in zip(*self.parts)))
        self.paths.append(path)
        self.parts, self.held = [], 0

    def read(self) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        for path in self.paths:
            with np.load(path) as data:
                yield data["arr_0"], data["arr_1"], data["arr_2"]


class BM25Index:
    def __init__(self, vocab: np.ndarray, indptr: np.ndarray, docs: np.ndarray, scores: np.ndarray,
                 chunk_ids: np.ndarray, masks: dict[str, np.ndarray]):
        self.vocab, self.indptr, self.docs, self.scores = vocab, indptr, docs, scores
        self._chunk_ids = chunk_ids
        self.masks = masks
        self.n_docs = len(chunk_ids)
        self.tokenizer = Tokenizer()
        self._spellings: dict[str, list[str]] = {}

    # -- building ---------------------------------------------------------------------------
    @classmethod
    def build(cls, rows: Iterable[tuple[str, str, bool, Sequence[str]]], spill_dir: Path | None = None,
              segment_postings: int = SEGMENT_POSTINGS) -> "BM25Index":
        """rows: (chunk_id, text, has_code, source files) per chunk, in a stable order.

        Postings are counted a batch at a time and written to disk in segments of about
        `segment_postings` (in a temporary folder under `spill_dir`), then placed straight
        into their final term-major position one segment at a time: the build holds one
        segment plus the finished arrays (8 bytes a posting), not every posting several times."""
        tokenizer = Tokenizer()
        term_ids: dict[str, int] = {}
        chunk_ids: list[str] = []
        has_code: list[bool] = []
        by_source: dict[str, list[int]] = {}
        lengths: list[int] = []
        with tempfile.TemporaryDirectory(prefix="bm25-build-", dir=spill_dir) as spill:
            segments = _Segments(Path(spill), segment_postings)
            batch_tokens = min(BUILD_BATCH * 128, segment_postings)
            batch_docs: list[int] = []
            batch_terms: list[int] = []
            for chunk_id, text, code, sources in rows:
                doc = len(chunk_ids)
                chunk_ids.append(chunk_id)
                has_code.append(bool(code))
                for source in sources:
                    by_source.setdefault(source, []).append(doc)
                tokens = tokenizer(text)
                lengths.append(len(tokens))
                batch_docs.extend([doc] * len(tokens))
                batch_terms.extend(term_ids.setdefault(t, len(term_ids)) for t in tokens)
                if len(batch_terms) >= batch_tokens:
                    segments.add(batch_docs, batch_terms)
                    batch_docs, batch_terms = [], []
            segments.add(batch_docs, batch_terms)
            segments.flush()

            n_docs, n_terms = len(chunk_ids), len(term_ids)
            # Terms get sorted ids so a query finds them by binary search in the mapped vocab.
            words = sorted(term_ids, key=lambda w: w.encode("utf-8"))
            rank = np.empty(n_terms, dtype=np.int32)
            rank[[term_ids[w] for w in words]] = np.arange(n_terms, dtype=np.int32)
            del term_ids
            length = np.asarray(lengths, dtype=np.float32)
            del lengths
            avg = float(length.mean()) if n_docs and length.mean() > 0 else 1.0
            df = np.zeros(n_terms, dtype=np.int64)
            for _, terms, _ in segments.read():
                df += np.bincount(rank[terms], minlength=n_terms)
            indptr = np.zeros(n_terms + 1, dtype=np.int64)
            np.cumsum(df, out=indptr[1:])
            idf = np.log1p((n_docs - df.astype(np.float32) + 0.5) / (df.astype(np.float32) + 0.5)).astype(np.float32)
            docs_out = np.empty(int(indptr[-1]), dtype=np.int32)
            scores_out = np.empty(int(indptr[-1]), dtype=np.float32)
            filled = indptr[:-1].copy()  # the next free slot of each term
            for docs, terms, tf in segments.read():  # segments come in chunk order
                terms = rank[terms]
                order = np.argsort(terms, kind="stable")  # chunk order kept within a term
                docs, terms, tf = docs[order], terms[order], tf[order]
                counts = np.bincount(terms, minlength=n_terms)
                first = np.cumsum(counts) - counts  # where each term's run starts in this segment
                slots = filled[terms] + (np.arange(len(terms)) - first[terms])
                docs_out[slots] = docs
                scores_out[slots] = idf[terms] * tf / (tf + K1 * (1 - B + B * length[docs] / avg))
                filled += counts
        masks = {"has_code": np.asarray(has_code, dtype=bool)}
        for source, members in by_source.items():
            mask = np.zeros(n_docs, dtype=bool)
            mask[members] = True
            masks[SOURCE_PREFIX + source] = mask
        index = cls(_encode(words), indptr, docs_out, scores_out, _encode(chunk_ids), masks)
        index.avg_length = avg
        return index

    def save(self, folder: Path) -> None:
        """Write every file to a temporary name first, then rename: a reader never sees half."""
        folder.mkdir(parents=True, exist_ok=True)
        for name, array in (("vocab.npy", self.vocab), ("indptr.npy", self.indptr), ("docs.npy", self.docs),
                            ("scores.npy", self.scores), ("chunk_ids.npy", self._chunk_ids)):
            with open(folder / (name + ".tmp"), "wb") as handle:
                np.save(handle, array)
            (folder / (name + ".tmp")).replace(folder / name)
        with open(folder / "filters.npz.tmp", "wb") as handle:
            np.savez(handle, **self.masks)
        (folder / "filters.npz.tmp").replace(folder / "filters.npz")
        meta = {"format": FORMAT, "chunks": self.n_docs, "avg_length": getattr(self, "avg_length", None),
                "k1": K1, "b": B}
        (folder / "meta.json.tmp").write_text(json.dumps(meta))
        (folder / "meta.json.tmp").replace(folder / "meta.json")

    @classmethod
    def load(cls, folder: Path) -> "BM25Index":
        meta = json.loads((folder / "meta.json").read_text())
        if meta.get("format") != FORMAT:
            raise ValueError(f"BM25 format {meta.get('format')}, expected {FORMAT}")
        arrays = [np.load(folder / name, mmap_mode="r") for name in FILES[:5]]
        with np.load(folder / "filters.npz") as data:
            masks = {k: data[k] for k in data.files}
        index = cls(*arrays, masks)
        if index.n_docs != meta["chunks"] or len(index.indptr) != len(index.vocab) + 1:
            raise ValueError("BM25 files do not match each other")
        return index

    # -- querying ---------------------------------------------------------------------------
    def chunk_id(self, doc: int) -> str:
        return bytes(self._chunk_ids[doc]).decode("utf-8")

    @property
    def chunk_ids(self) -> list[str]:
        return [self.chunk_id(i) for i in range(self.n_docs)]

    def term_id(self, term: str) -> int | None:
        key = term.encode("utf-8")
        if len(key) > self.vocab.dtype.itemsize:
            return None
        at = int(np.searchsorted(self.vocab, key))
        return at if at < len(self.vocab) and self.vocab[at] == key else None

    def query_tokens(self, text: str) -> list[str]:
        """The tokenizer's terms for a query, each in the spelling the corpus uses: a word whose
        term the corpus never uses is tried in its other spelling, British or American
        ("recognise" finds "recognize", "tumours" "tumors", "modelling" "modeling", "fetal"
        "foetal"), so a question in one spelling finds papers written in the other. A word with no
        known spelling stays as written (its absence is what "not covered" means)."""
        return [term for _, term in self.query_words(text)]

    def query_words(self, text: str) -> list[tuple[str, str]]:
        """(word, its term) for each word of a query that has one (query_tokens), stopwords left out."""
        return [(word, terms[0]) for word in WORD.findall(text.lower()) for terms in [self.spelling_terms(word)] if terms]

    def uses(self, word: str) -> bool:
        """Whether the corpus uses the word in any of its spellings (a stopword counts as used)."""
        terms = self.spelling_terms(word)  # the known spellings first, else the word's own term
        return not terms or self.term_id(terms[0]) is not None

    def spelling_terms(self, word: str) -> list[str]:
        """A word's terms in every spelling the corpus uses, the most used first, so that a
        question and a paper in different spellings meet on one term ("tumour" and "tumor" both
        read as the corpus's more common one); the word's own term when the corpus uses none; []
        for a stopword."""
        found = self._spellings.get(word)
        if found is None:
            stem = self.tokenizer(word)
            if not stem:
                return []
            terms = dict.fromkeys([stem[0], *(t for v in spelling_variants(word) for t in self.tokenizer(v))])
            known = sorted((t for t in terms if self.term_id(t) is not None), key=lambda t: -self.df(self.term_id(t)))
            found = known or [stem[0]]
            if len(self._spellings) < 1_000_000:
                self._spellings[word] = found
        return found

    def df(self, term_id: int) -> int:
        return int(self.indptr[term_id + 1] - self.indptr[term_id])

    def idf(self, token: str) -> float:
        """BM25's idf over chunks; a term the corpus never uses gets the highest idf."""
        term_id = self.term_id(token)
        df = 0 if term_id is None else self.df(term_id)
        return float(np.log(1.0 + (self.n_docs - df + 0.5) / (df + 0.5)))

    def source_files(self) -> list[str]:
        """The corpus file names the chunks came from (the filter masks' names)."""
        return sorted(name[len(SOURCE_PREFIX):] for name in self.masks if name.startswith(SOURCE_PREFIX))

    def filter_mask(self, sources: Sequence[str] | None, has_code: bool | None) -> np.ndarray | None:
        if not sources and has_code is None:
            return None
        mask = np.ones(self.n_docs, dtype=bool)
        if sources:
            empty = np.zeros(self.n_docs, dtype=bool)
            mask &= np.logical_or.reduce([self.masks.get(SOURCE_PREFIX + s, empty) for s in sources])
        if has_code is not None:
            mask &= self.masks["has_code"] == has_code
        return mask

    def search(self, query: str, n: int, sources: Sequence[str] | None = None,
               has_code: bool | None = None) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) for up to n chunks that share a term with the query, best
        first (ties: earlier chunk first). A repeated query term counts once per repeat."""
        # every spelling the corpus uses of each word: papers in either are found
        term_ids = [t for word in WORD.findall(query.lower()) for t in map(self.term_id, self.spelling_terms(word))
                    if t is not None]
        if not term_ids or n <= 0:
            return []
        # Scores add up in one dense array over the chunks: each term's postings name a chunk
        # at most once, so a scatter-add per term is exact. The cost is the postings touched
        # plus one pass over the array (4 bytes a chunk), no sort.
        totals = np.zeros(self.n_docs, dtype=np.float32)
        for t in term_ids:
            start, end = int(self.indptr[t]), int(self.indptr[t + 1])
            totals[self.docs[start:end]] += self.scores[start:end]
        mask = self.filter_mask(sources, has_code)
        if mask is not None:
            totals[~mask] = 0
        candidates = np.flatnonzero(totals > 0)
        totals = totals[candidates]
        if len(candidates) > n:
            top = np.argpartition(-totals, n - 1)[:n]
            candidates, totals = candidates[top], totals[top]
        order = np.lexsort((candidates, -totals))
        return [(self.chunk_id(int(candidates[i])), float(totals[i])) for i in order]
