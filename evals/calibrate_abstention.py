"""Calibrate abstention: the best support score among the top papers, answerable vs unanswerable.

Support = (1 - w) * dense cosine similarity + w * idf-weighted share of the question's terms
found in the paper (rag.pipeline.Pipeline.support), best of the top SUPPORT_DEPTH papers. For every question of the given QA
files this runs retrieval only, then sweeps w and the threshold and prints, per setting, the
share of answerable questions kept and of unanswerable ones refused. Usage:

    python evals/calibrate_abstention.py tests/data/retrieval_questions.jsonl evals/qa/dev.jsonl
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from rag.pipeline import SUPPORT_DEPTH, Pipeline, standalone_query
from rag.settings import Settings


def score(pairs: list[tuple[float, float]], w: float) -> float:
    return max((1 - w) * dense + w * coverage for dense, coverage in pairs)


def main(paths: list[str]) -> None:
    pipeline = Pipeline(Settings.build())
    retriever = pipeline.retriever()
    rows = []  # (answerable, [(dense, coverage) per top paper], question)
    for path in paths:
        for line in Path(path).read_text().splitlines():
            if line.strip():
                item = json.loads(line)
                query = standalone_query(item["question"], item.get("history", []))
                pairs = [(hit.dense_score, pipeline.index.bm25.term_coverage(query, f"{hit.paper.title} {hit.paper.abstract}"))
                         for hit in retriever.search(query, k=SUPPORT_DEPTH)]
                rows.append((bool(item["gold_titles"]), pairs, item["question"]))
    n_ans = sum(r[0] for r in rows)
    n_un = len(rows) - n_ans
    print(f"{n_ans} answerable, {n_un} unanswerable questions\n")
    print("  w     best threshold  answerable kept  unanswerable refused  balanced")
    for w in (0.0, 0.2, 0.3, 0.4, 0.5, 0.6):
        best = None
        for step in range(20, 81):
            t = step / 100
            kept = sum(score(pairs, w) >= t for a, pairs, _ in rows if a) / n_ans
            refused = sum(score(pairs, w) < t for a, pairs, _ in rows if not a) / n_un
            if best is None or (kept + refused) / 2 > best[0] + 1e-9:
                best = ((kept + refused) / 2, t, kept, refused)
        print(f"  {w:.1f}   {best[1]:.2f}            {best[2]:6.1%}           {best[3]:6.1%}              {best[0]:6.1%}")
    s = pipeline.settings
    w, t = s.abstain_lexical_weight, s.abstain_threshold
    scored = sorted((score(pairs, w), a, q) for a, pairs, q in rows)
    print(f"\nwith the shipped settings (w={w}, threshold={t}):")
    print("  lowest-scoring answerable:", *[f"\n    {sc:.3f}  {q}" for sc, a, q in scored if a][:5])
    print("  highest-scoring unanswerable:", *[f"\n    {sc:.3f}  {q}" for sc, a, q in reversed(scored) if not a][:5])


if __name__ == "__main__":
    main(sys.argv[1:])
