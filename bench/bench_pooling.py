"""Span pooling cost: how long `rag.pooling.pool_spans` takes per abstract, on the shipped
corpus's real token offsets and sentence spans (title + abstract truncated at 256 word
pieces, as ingest embeds a chunk) with random token vectors — the CPU work ingest adds per
abstract for its evidence vectors, which on a GPU runs beside the model and can bound it.
Prints the median of repeats; never asserts. Compare commits by running it on each:

    python bench/bench_pooling.py
    PYTHONPATH=<worktree of an older commit> python bench/bench_pooling.py
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from rag.corpus import load_corpus  # noqa: E402
from rag.embed import model_dir  # noqa: E402
from rag.embed.bert import BertEncoder  # noqa: E402
from rag.pooling import pool_spans  # noqa: E402

from bench_embed import texts_with_spans  # noqa: E402  (this folder: python bench/bench_pooling.py)


def main(repeats: int = 5) -> None:
    papers = load_corpus([Path(__file__).resolve().parent.parent / "corpus"]).papers
    encoder = BertEncoder(model_dir("all-MiniLM-L6-v2"))
    rng = np.random.default_rng(0)
    cases = []
    for text, spans in zip(*texts_with_spans(papers)):
        offsets = encoder.tokenizer.encode(text).offsets
        cases.append((rng.standard_normal((len(offsets), encoder.dim)).astype(np.float32), offsets, spans))
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        for hidden, offsets, spans in cases:
            pool_spans(hidden, offsets, spans)
        times.append((time.perf_counter() - started) / len(cases) * 1000)
    spans = sum(len(c[2]) for c in cases)
    print(f"pool_spans: {statistics.median(times):.3f} ms per abstract (median of {repeats}; "
          f"{len(cases)} abstracts, {spans / len(cases):.1f} sentence spans each, {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
