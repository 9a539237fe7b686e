"""Mean pooling of a BERT's token vectors: over a whole text, and over character spans of it.

The span form is what makes sentence-level evidence nearly free at ingest: the chunk pass
already computes every token's vector, so a sentence's vector is the mean of its tokens'
vectors (found by the tokenizer's character offsets), normalised, instead of a second
forward pass over each sentence on its own. `evals/README.md` ("Evidence vectors") compares
the two kinds for answer quality and cost. No model code here: the encoders call it.
"""

from __future__ import annotations

from itertools import chain
from typing import Sequence

import numpy as np

Span = tuple[int, int]  # [start, end) character offsets into the text


def normalise(rows: np.ndarray) -> np.ndarray:
    return (rows / np.maximum(np.linalg.norm(rows, axis=-1, keepdims=True), 1e-12)).astype(np.float32)


def mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(batch, length, dim) token vectors, (batch, length) mask -> normalised text vectors."""
    weights = mask[..., None].astype(np.float32)
    return normalise((hidden * weights).sum(1) / np.maximum(weights.sum(1), 1e-9))


def pool_spans(hidden: np.ndarray, offsets: Sequence[Span], spans: Sequence[Span]) -> np.ndarray:
    """One text's (length, dim) token vectors and each token's character offsets -> one
    normalised vector per span: the mean of the tokens lying inside it. Special tokens have
    empty offsets and never count. A span with no token inside (cut off by truncation) gets
    a row of NaN, which the caller replaces by encoding that text on its own.
    All spans at once: a (spans, tokens) 0/1 matrix times the token vectors, a few NumPy calls
    per text whatever its number of sentences (on a GPU the CPU pools while the next batch
    runs, so this bounds ingest there)."""
    out = np.full((len(spans), hidden.shape[-1]), np.nan, dtype=np.float32)
    if not spans or not len(offsets):
        return out
    at = np.fromiter(chain.from_iterable(offsets), dtype=np.int64, count=2 * len(offsets)).reshape(-1, 2)
    bounds = np.asarray(spans, dtype=np.int64).reshape(-1, 2)
    inside = ((at[None, :, 0] >= bounds[:, None, 0]) & (at[None, :, 1] <= bounds[:, None, 1])
              & (at[None, :, 1] > at[None, :, 0])).astype(np.float32)
    counts = inside.sum(1)
    found = counts > 0
    if found.any():
        sums = inside[found] @ hidden[: len(at)].astype(np.float32, copy=False)
        out[found] = normalise(sums / counts[found, None])
    return out


def encode_spans_fallback(encoder, texts: Sequence[str], spans: Sequence[Sequence[Span]],
                          batch_size: int = 32) -> tuple[np.ndarray, list[np.ndarray]]:
    """For encoders without token access (test fakes, other models): the texts as usual,
    and every span encoded on its own."""
    vectors = encoder.encode(list(texts), batch_size=batch_size)
    pieces = [text[s:e] for text, text_spans in zip(texts, spans) for s, e in text_spans]
    flat = encoder.encode(pieces, batch_size=batch_size) if pieces else np.zeros((0, vectors.shape[1]), np.float32)
    out, at = [], 0
    for text_spans in spans:
        out.append(flat[at:at + len(text_spans)])
        at += len(text_spans)
    return vectors, out


def encode_spans(encoder, texts: Sequence[str], spans: Sequence[Sequence[Span]],
                 batch_size: int = 32) -> tuple[np.ndarray, list[np.ndarray]]:
    """Text vectors plus span vectors, pooled when the encoder can (`encode_with_spans`),
    with any span the pooling could not cover encoded on its own."""
    if not hasattr(encoder, "encode_with_spans"):
        return encode_spans_fallback(encoder, texts, spans, batch_size)
    vectors, pooled = encoder.encode_with_spans(list(texts), [list(s) for s in spans], batch_size=batch_size)
    missing = [(i, j) for i, rows in enumerate(pooled) for j in range(len(rows)) if np.isnan(rows[j, 0])]
    if missing:
        filled = encoder.encode([texts[i][spans[i][j][0]:spans[i][j][1]] for i, j in missing], batch_size=batch_size)
        for (i, j), vector in zip(missing, filled):
            pooled[i][j] = vector
    return vectors, pooled
