"""Evidence units: every sentence of every abstract, with a vector computed at ingest.

At ingest, `embed_chunks_with_evidence` embeds a batch of papers' chunks and, from the same
forward pass, each abstract sentence (its tokens' vectors pooled over its span inside a chunk,
rag.pooling) — or, with `evidence_vectors="standalone"`, each sentence encoded on its own
(about twice the embedding work; evals/README.md compares the two). The catalog keeps them
per paper (float16). At query time `EvidenceStore.load` returns each candidate paper's
sentences and vectors, encoding on the spot only what an older index lacks. Scoring the
sentences against a question is rag.relevance's job, not this module's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from rag.pooling import Span, encode_spans
from rag.records import Chunk, Paper
from rag.sentences import split_sentences

EVIDENCE_FORMAT = "sentences-v1"  # part of the content hash: changing the splitter re-embeds


def evidence_sentences(paper: Paper) -> list[str]:
    """The paper's evidence units: its abstract's sentences, in order."""
    return split_sentences(paper.abstract)


def sentence_spans(sentences: Sequence[str], chunks: Sequence[Chunk]) -> list[tuple[int, Span] | None]:
    """Where each sentence lies: (chunk position, character span in that chunk's text), the
    first chunk holding it whole; None when no chunk does (then it is encoded on its own)."""
    placed: list[tuple[int, Span] | None] = []
    for sentence in sentences:
        where = None
        for position, chunk in enumerate(chunks):
            at = chunk.text.find(sentence)
            if at >= 0:
                where = (position, (at, at + len(sentence)))
                break
        placed.append(where)
    return placed


def embed_chunks_with_evidence(encoder, chunked: Sequence[tuple[Paper, list[Chunk]]], batch_size: int,
                               mode: str = "pooled") -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Vectors of every chunk (in order) and, per paper, one vector per abstract sentence."""
    chunks = [c for _, cs in chunked for c in cs]
    texts = [c.text for c in chunks]
    sentences = {paper.paper_id: evidence_sentences(paper) for paper, _ in chunked}
    if mode == "standalone":
        vectors = encoder.encode(texts, batch_size=batch_size)
        flat = [s for p, _ in chunked for s in sentences[p.paper_id]]
        encoded = encoder.encode(flat, batch_size=batch_size) if flat else np.zeros((0, vectors.shape[1]), np.float32)
        evidence, at = {}, 0
        for paper, _ in chunked:
            n = len(sentences[paper.paper_id])
            evidence[paper.paper_id] = encoded[at:at + n]
            at += n
        return vectors, evidence

    spans: list[list[Span]] = [[] for _ in chunks]
    slots: dict[str, list[tuple[int, int] | None]] = {}  # paper -> per sentence (chunk index, span index)
    alone: list[tuple[str, int]] = []
    base = 0
    for paper, cs in chunked:
        places = []
        for j, where in enumerate(sentence_spans(sentences[paper.paper_id], cs)):
            if where is None:
                places.append(None)
                alone.append((paper.paper_id, j))
                continue
            position, span = where
            spans[base + position].append(span)
            places.append((base + position, len(spans[base + position]) - 1))
        slots[paper.paper_id] = places
        base += len(cs)
    vectors, pooled = encode_spans(encoder, texts, spans, batch_size)
    evidence = {}
    for paper, _ in chunked:
        rows = np.zeros((len(sentences[paper.paper_id]), vectors.shape[1]), dtype=np.float32)
        for j, slot in enumerate(slots[paper.paper_id]):
            if slot is not None:
                rows[j] = pooled[slot[0]][slot[1]]
        evidence[paper.paper_id] = rows
    if alone:
        encoded = encoder.encode([sentences[pid][j] for pid, j in alone], batch_size=batch_size)
        for (pid, j), vector in zip(alone, encoded):
            evidence[pid][j] = vector
    return vectors, evidence


@dataclass
class PaperEvidence:
    sentences: list[str]
    vectors: np.ndarray  # (len(sentences), dim), L2-normalised rows


class EvidenceStore:
    """Candidate papers' evidence at query time, from the catalog; a paper the index holds no
    vectors for (an index built before evidence units) is encoded with the query encoder."""

    def __init__(self, catalog, encoder):
        self.catalog = catalog
        self.encoder = encoder

    def load(self, papers: Sequence[Paper]) -> dict[str, PaperEvidence]:
        stored = self.catalog.evidence([p.paper_id for p in papers])
        out: dict[str, PaperEvidence] = {}
        missing: list[Paper] = []
        for paper in papers:
            sentences = evidence_sentences(paper) or [paper.abstract or paper.title]
            vectors = stored.get(paper.paper_id)
            if vectors is None or len(vectors) != len(sentences):
                missing.append(paper)
                continue
            out[paper.paper_id] = PaperEvidence(sentences, vectors)
        if missing:
            units = [evidence_sentences(p) or [p.abstract or p.title] for p in missing]
            flat = [s for u in units for s in u]
            encoded = self.encoder.encode(flat)
            at = 0
            for paper, sentences in zip(missing, units):
                out[paper.paper_id] = PaperEvidence(sentences, encoded[at:at + len(sentences)])
                at += len(sentences)
        return out
