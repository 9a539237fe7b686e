"""Per-question rows -> scores -> metrics with bootstrap intervals, overall and per type.

Which questions each metric averages over is decided here, once (evals/README.md lists it):
retrieval metrics over questions with gold titles; citation metrics over answerable
questions that were answered; supported sentences over answered questions whose answer
lists its sentences; answer points over answered questions (`answer_points`) and over every
answerable one with abstentions as 0 (`answer_points_all`); abstention accuracy over
unanswerable ones; false abstention over answerable ones; chain recall / precision over every
turn of a follow-up chain (the papers it names against that turn's gold) and "kept in the set"
over the turns marked `in_set` (answered over the earlier papers, naming none outside them),
also shown together as the "chain turns" group. Latency percentiles leave out the
first question, which pays one-time costs, and generation time leaves out abstentions.
Nothing here runs the pipeline or writes files.
"""

from __future__ import annotations

from evals import metrics
from evals.qaset import TYPES

BOOTSTRAP = {"resamples": 1000, "seed": 0, "level": 0.95}
RETRIEVAL_METRICS = ("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10")
ANSWER_METRICS = ("citation_precision", "citation_recall", "supported_sentences", "answer_points",
                  "answer_points_all", "list_recall", "list_precision", "abstention_accuracy", "false_abstention",
                  "chain_recall", "chain_precision", "in_set_kept")
CHAIN_GROUP = "chain turns"  # every turn of every chain, whatever its type
LIST_TYPES = ("list", "multi")  # "which papers…" questions: every gold paper should be named
STAGES = ("retrieve", "generate", "total")
CURVE_DEPTH = 10


def retrieval_scores(ranked: list[str], gold: list[str]) -> dict[str, float]:
    return {"recall@1": metrics.recall_at_k(ranked, gold, 1),
            "recall@5": metrics.recall_at_k(ranked, gold, 5),
            "recall@10": metrics.recall_at_k(ranked, gold, 10),
            "mrr@10": metrics.reciprocal_rank(ranked, gold, 10),
            "ndcg@10": metrics.ndcg_at_k(ranked, gold, 10)}


def answer_scores(row: dict) -> dict[str, float]:
    """Only the metrics that apply to this question; a missing key means 'not counted'."""
    gold, points, abstained = row["gold_titles"], row["answer_points"], row["abstained"]
    scores: dict[str, float] = {}
    if not gold:
        scores["abstention_accuracy"] = float(abstained)
    else:
        scores["false_abstention"] = float(abstained)
        if not abstained:
            scores["citation_precision"] = metrics.citation_precision(row["cited_titles"], gold)
            scores["citation_recall"] = metrics.citation_recall(row["cited_titles"], gold)
        if row.get("type") in LIST_TYPES:  # the papers the answer names; an abstention names none
            named = [] if abstained else row["cited_titles"]
            scores["list_recall"] = metrics.citation_recall(named, gold)
            scores["list_precision"] = metrics.citation_precision(named, gold)
        if points:
            recall = 0.0 if abstained else metrics.answer_point_recall(row["answer"], points)
            scores["answer_points_all"] = recall
            if not abstained:
                scores["answer_points"] = recall
    if row.get("chain") and gold:  # each turn of a chat: the papers it names, against that turn's gold
        named = [] if abstained else row["cited_titles"]
        scores["chain_recall"] = metrics.citation_recall(named, gold)
        scores["chain_precision"] = metrics.citation_precision(named, gold)
        if row.get("in_set"):  # answered over the earlier papers, and naming none outside them
            kept = row.get("working_set")
            scores["in_set_kept"] = float(kept is not None and set(named) <= set(kept))
    if not abstained and row.get("sentences"):
        scores["supported_sentences"] = metrics.supported_share(row["sentences"])
    return scores


def score_row(row: dict, modes: list[str], retrieval_only: bool) -> dict:
    gold = row["gold_titles"]
    scores = {"retrieval": {m: retrieval_scores(row["retrieved"][m], gold) for m in modes} if gold else {}}
    if not retrieval_only:
        scores["answers"] = answer_scores(row)
    return scores


def summarise_rows(rows: list[dict], modes: list[str], retrieval_only: bool) -> dict:
    """Every metric of one group of questions (all of them, or one type)."""
    seed, resamples = BOOTSTRAP["seed"], BOOTSTRAP["resamples"]

    def summary(values: list[float]) -> dict:
        return metrics.summarise(values, seed=seed, resamples=resamples)

    out = {"n": len(rows), "retrieval": {
        mode: {name: summary([r["scores"]["retrieval"][mode][name] for r in rows if r["scores"]["retrieval"]])
               for name in RETRIEVAL_METRICS}
        for mode in modes}}
    if not retrieval_only:
        out["answers"] = {name: summary([r["scores"]["answers"][name] for r in rows if name in r["scores"]["answers"]])
                          for name in ANSWER_METRICS}
    return out


def stage_latencies(rows: list[dict], stage: str) -> list[float]:
    """One stage's times over questions 2..N; generation only where an answer was generated."""
    warm = rows[1:]  # the first question pays one-time costs (model loads, first-query caches)
    return [r["timings_ms"][stage] for r in warm
            if stage in r["timings_ms"] and not (stage == "generate" and r.get("abstained"))]


def latency_summary(rows: list[dict], load_ms: float) -> dict:
    """p50/p95 per stage, plus the one-time costs on their own."""
    seed, resamples = BOOTSTRAP["seed"], BOOTSTRAP["resamples"]
    out = {"questions": max(len(rows) - 1, 0), "load_ms": round(load_ms, 1),
           "first_question_ms": rows[0]["timings_ms"] if rows else None}
    for stage in STAGES:
        values = stage_latencies(rows, stage)
        if values:
            out[stage] = {"p50": metrics.summarise(values, metrics.p50, seed=seed, resamples=resamples),
                          "p95": metrics.summarise(values, metrics.p95, seed=seed, resamples=resamples)}
    return out


def recall_curve(rows: list[dict], modes: list[str]) -> dict[str, list[float]]:
    """Mean recall@k for k = 1..10 per retriever (the plot's curves)."""
    scored = [r for r in rows if r["gold_titles"]]
    return {mode: [sum(metrics.recall_at_k(r["retrieved"][mode], r["gold_titles"], k) for r in scored) / len(scored)
                   if scored else 0.0 for k in range(1, CURVE_DEPTH + 1)]
            for mode in modes}


def summarise_run(rows: list[dict], modes: list[str], retrieval_only: bool, load_ms: float) -> dict:
    for row in rows:
        row["scores"] = score_row(row, modes, retrieval_only)
    types = [t for t in TYPES if any(r["type"] == t for r in rows)]
    return {
        "overall": summarise_rows(rows, modes, retrieval_only),
        "per_type": {**{t: summarise_rows([r for r in rows if r["type"] == t], modes, retrieval_only) for t in types},
                     **({CHAIN_GROUP: summarise_rows([r for r in rows if r.get("chain")], modes, retrieval_only)}
                        if any(r.get("chain") for r in rows) else {})},
        "latency": latency_summary(rows, load_ms),
        "recall_curve": recall_curve(rows, modes),
        "questions": rows,
    }
