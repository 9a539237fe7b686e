"""Calibrate the working-set filter: which papers of the set a follow-up such as "of those, which
report ImageNet results?" keeps (rag.lists.set_matches, settings set_relative / set_min_strength).

Every filter or count turn of the chains in the given QA files is answered over the *gold* papers
of the turn before it (so an earlier turn's mistakes do not blur this rule), for each setting of
the grid; the table gives the recall / precision of the papers each turn names against its gold.
Tune on evals/qa/calib_chains.jsonl only; run it on evals/qa/dev.jsonl only to report. Usage:

    python evals/calibrate_set.py index evals/qa/calib_chains.jsonl
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path

import numpy as np

from rag.pipeline import Pipeline
from rag.settings import Settings
from rag.set_requests import read_request

RELATIVES = (0.2, 0.3, 0.4, 0.5)
STRENGTHS = (0.0, 1.0, 2.0, 3.0)


def filter_turns(path: Path) -> list[tuple[dict, dict]]:
    """(previous turn, filter turn) for every in-set filter or count turn of every chain."""
    chains: dict[str, list[dict]] = {}
    for line in path.read_text().splitlines():
        if line.strip() and (item := json.loads(line)).get("chain"):
            chains.setdefault(item["chain"], []).append(item)
    return [(a, b) for turns in chains.values() for a, b in zip(turns, turns[1:])
            if b.get("in_set") and read_request(b["question"]).kind == "filter"]


def score(pipeline: Pipeline, turns: list[tuple[dict, dict]], ids: dict[str, str]) -> tuple[float, float]:
    recalls, precisions = [], []
    for before, turn in turns:
        answer = pipeline.ask(turn["question"], history=turn["history"],
                              working_set=[ids[t] for t in before["gold_titles"]])
        named, gold = {c.title for c in answer.citations}, set(turn["gold_titles"])
        recalls.append(len(named & gold) / len(gold))
        precisions.append(len(named & gold) / len(named) if named else 0.0)
    return float(np.mean(recalls)), float(np.mean(precisions))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("index_dir")
    parser.add_argument("qa", type=Path)
    args = parser.parse_args()
    base = Pipeline(Settings.build(index_dir=args.index_dir), progress=False)
    ids = {paper.title: paper.paper_id for paper in base.index.catalog.iter_papers()}
    turns = filter_turns(args.qa)
    print(f"## Working-set filters: {len(turns)} filter / count turns of {args.qa.name}, over the previous turn's gold\n")
    print("| set_relative \\ set_min_strength | " + " | ".join(f"{s:g}" for s in STRENGTHS) + " |")
    print("|---|" + "---|" * len(STRENGTHS))
    cells = {}
    for relative, strength in itertools.product(RELATIVES, STRENGTHS):
        base.settings = base.settings.model_copy(update={"set_relative": relative, "set_min_strength": strength})
        cells[relative, strength] = score(base, turns, ids)
    for relative in RELATIVES:
        print(f"| {relative:g} | " + " | ".join("%.2f / %.2f" % cells[relative, s] for s in STRENGTHS) + " |")
    f1 = {key: 2 * r * p / (r + p) if r + p else 0.0 for key, (r, p) in cells.items()}
    best = max(f1, key=lambda key: (round(f1[key], 3), cells[key][0], key[1]))  # ties: more recall, then stricter
    print(f"\nbest F1 {f1[best]:.3f} at set_relative {best[0]:g}, set_min_strength {best[1]:g} "
          f"(recall {cells[best][0]:.2f}, precision {cells[best][1]:.2f})")


if __name__ == "__main__":
    main()
