"""Pure metric functions for the eval harness: ranking, citation, answer-point, bootstrap.

Every function takes plain lists and strings and returns a float (or an interval), so each
can be checked against a hand-computed example. Which questions a metric is averaged over,
and how per-question values become a report, is `evals/summary.py`'s business, not this one's.

Rankings are lists of distinct paper titles, best first; gold is a set of titles. Relevance
is binary (a paper is gold or it is not).
"""

from __future__ import annotations

import math
from typing import Callable, Collection, Sequence

import numpy as np


def recall_at_k(ranked: Sequence[str], gold: Collection[str], k: int) -> float:
    """Share of the gold papers found in the top k (so recall@1 of a 4-paper question is at most 0.25)."""
    return len(set(ranked[:k]) & set(gold)) / len(gold)


def reciprocal_rank(ranked: Sequence[str], gold: Collection[str], k: int) -> float:
    """1 / rank of the first gold paper in the top k, 0 when none is there."""
    for rank, title in enumerate(ranked[:k], start=1):
        if title in gold:
            return 1.0 / rank
    return 0.0


def ndcg_at_k(ranked: Sequence[str], gold: Collection[str], k: int) -> float:
    """Binary-relevance nDCG: DCG of the ranking over DCG of gold papers ranked first."""
    dcg = sum(1.0 / math.log2(rank + 1) for rank, title in enumerate(ranked[:k], start=1) if title in gold)
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(len(gold), k) + 1))
    return dcg / ideal


def citation_precision(cited: Collection[str], gold: Collection[str]) -> float:
    """Share of the cited papers that are gold; an answer that cites nothing scores 0
    (it breaks the every-claim-is-cited contract, and must not look better than a wrong citation)."""
    cited = set(cited)
    return len(cited & set(gold)) / len(cited) if cited else 0.0


def citation_recall(cited: Collection[str], gold: Collection[str]) -> float:
    """Share of the gold papers that the answer cites."""
    return len(set(cited) & set(gold)) / len(gold)


def _normalise(text: str) -> str:
    return " ".join(text.split()).casefold()


def answer_point_recall(answer: str, points: Sequence[str]) -> float:
    """Share of the answer points found verbatim in the answer, ignoring case and spacing."""
    text = _normalise(answer)
    return sum(_normalise(point) in text for point in points) / len(points)


def supported_share(sentences: Sequence[dict]) -> float:
    """Share of an answer's sentences whose citations support them (`supported` is true)."""
    return sum(bool(s.get("supported")) for s in sentences) / len(sentences)


# statistic(samples, axis=1) -> one value per resample; np.mean and a percentile both fit.
Statistic = Callable[..., np.ndarray]


def bootstrap_interval(values: Sequence[float], statistic: Statistic = np.mean, resamples: int = 1000,
                       seed: int = 0, level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval of `statistic` over `values` (resampling questions).

    The same seed always gives the same interval, so two runs on the same answers agree.
    """
    data = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    samples = data[rng.integers(0, len(data), size=(resamples, len(data)))]
    estimates = statistic(samples, axis=1)
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(estimates, [tail, 100 - tail])
    return float(low), float(high)


def p95(samples: np.ndarray, axis: int) -> np.ndarray:
    return np.percentile(samples, 95, axis=axis)


def p50(samples: np.ndarray, axis: int) -> np.ndarray:
    return np.percentile(samples, 50, axis=axis)


def summarise(values: Sequence[float], statistic: Statistic = np.mean, seed: int = 0,
              resamples: int = 1000) -> dict:
    """{"value", "low", "high", "n"} for a report; all None (n = 0) when there is nothing to average."""
    if not values:
        return {"value": None, "low": None, "high": None, "n": 0}
    value = float(statistic(np.asarray(values, dtype=float)[None, :], axis=1)[0])
    low, high = bootstrap_interval(values, statistic, resamples=resamples, seed=seed)
    # the percentile interval of a skewed statistic can miss the point estimate by a hair
    return {"value": value, "low": min(low, value), "high": max(high, value), "n": len(values)}
