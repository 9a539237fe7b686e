"""Calibrate the citation checker's support threshold.

A claim an LLM writes from a paper is usually a compressed paraphrase of one of its
sentences; a mis-citation attributes such a claim to another retrieved paper. This script
simulates both on the dev set without an LLM: for each answerable question, each sentence
of a gold paper, with 30 % of its words dropped (fixed seed), is scored against its own
paper (should be supported) and against each other paper in the top 5 (a plausible
mis-citation, should not be). It prints, per threshold, the share of true attributions kept
and of mis-citations caught. Usage:

    python evals/calibrate_support.py evals/qa/dev.jsonl
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import numpy as np

from rag.chat_turns import standalone_query
from rag.citations import CitationChecker
from rag.pipeline import Pipeline
from rag.sentences import split_sentences
from rag.settings import Settings


def drop_words(sentence: str, rng: random.Random, share: float = 0.3) -> str:
    words = sentence.split()
    keep = [w for w in words if rng.random() >= share]
    return " ".join(keep if len(keep) >= 4 else words)


def main(path: str) -> None:
    pipeline = Pipeline(Settings.build())
    retriever = pipeline.retriever()
    checker = CitationChecker(pipeline.encoder, 0.0, {})
    rng = random.Random(0)
    true_scores, wrong_scores = [], []
    for line in Path(path).read_text().splitlines():
        item = json.loads(line)
        if not item["gold_titles"]:
            continue
        hits = retriever.search(standalone_query(item["question"], item.get("history", [])), k=5)
        gold = [h.paper for h in hits if h.paper.title in item["gold_titles"]]
        others = [h.paper for h in hits if h.paper.title not in item["gold_titles"]]
        for paper in gold:
            for sentence in split_sentences(paper.abstract):
                claim = drop_words(sentence, rng)
                vector = pipeline.encoder.encode([claim])[0]
                true_scores.append(float((checker.paper_vectors(paper) @ vector).max()))
                wrong_scores.extend(float((checker.paper_vectors(o) @ vector).max()) for o in others)
    true_scores, wrong_scores = np.array(true_scores), np.array(wrong_scores)
    print(f"{len(true_scores)} true attributions, {len(wrong_scores)} mis-citations")
    print("threshold  true kept  mis-citations caught")
    for t in np.arange(0.40, 0.86, 0.05):
        print(f"  {t:.2f}      {np.mean(true_scores >= t):6.1%}      {np.mean(wrong_scores < t):6.1%}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "evals/qa/dev.jsonl")
