"""The eval metrics on hand-computed examples, and the bootstrap's guarantees."""

import math

import numpy as np
import pytest

from evals import metrics
from evals.summary import answer_scores, stage_latencies

RANKED = ["a", "b", "c", "d", "e", "f"]


@pytest.mark.parametrize("gold, k, expected", [
    ({"a"}, 1, 1.0), ({"b"}, 1, 0.0), ({"b"}, 5, 1.0),
    ({"a", "c", "z"}, 1, 1 / 3), ({"a", "c", "z"}, 5, 2 / 3), ({"z"}, 10, 0.0),
])
def test_recall_at_k_is_the_share_of_gold_papers_in_the_top_k(gold, k, expected):
    assert metrics.recall_at_k(RANKED, gold, k) == pytest.approx(expected)


@pytest.mark.parametrize("gold, expected", [({"a"}, 1.0), ({"c", "e"}, 1 / 3), ({"z"}, 0.0)])
def test_reciprocal_rank_of_the_first_gold_paper(gold, expected):
    assert metrics.reciprocal_rank(RANKED, gold, 10) == pytest.approx(expected)


def test_reciprocal_rank_ignores_papers_below_k():
    assert metrics.reciprocal_rank(RANKED, {"f"}, 5) == 0.0


def test_ndcg_binary_relevance_by_hand():
    # gold at ranks 2 and 4: DCG = 1/log2(3) + 1/log2(5); ideal = 1/log2(2) + 1/log2(3)
    expected = (1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3))
    assert metrics.ndcg_at_k(RANKED, {"b", "d"}, 10) == pytest.approx(expected)
    assert metrics.ndcg_at_k(RANKED, {"a", "b"}, 10) == pytest.approx(1.0)
    assert metrics.ndcg_at_k(RANKED, {"z"}, 10) == 0.0


def test_ndcg_ideal_is_capped_at_k():
    gold = {f"g{i}" for i in range(20)}  # more gold papers than k: a perfect top 10 still scores 1
    assert metrics.ndcg_at_k(sorted(gold), gold, 10) == pytest.approx(1.0)


def test_citation_precision_and_recall():
    assert metrics.citation_precision(["a", "b", "c"], ["a", "d"]) == pytest.approx(1 / 3)
    assert metrics.citation_recall(["a", "b", "c"], ["a", "d"]) == pytest.approx(1 / 2)
    assert metrics.citation_precision([], ["a"]) == 0.0  # an uncited answer is not a precise one
    assert metrics.citation_precision(["a", "a"], ["a"]) == 1.0


def test_answer_point_recall_ignores_case_and_spacing():
    answer = "LoRAT reaches 0.742 SUC on LaSOT [1].\nIt uses  low-rank   adaptation."
    assert metrics.answer_point_recall(answer, ["lorat", "0.742", "Low-rank adaptation", "GOT-10k"]) == 0.75


def test_supported_share():
    sentences = [{"text": "x", "supported": True}, {"text": "y", "supported": False}, {"text": "z", "supported": True}]
    assert metrics.supported_share(sentences) == pytest.approx(2 / 3)


def test_bootstrap_interval_holds_the_mean_and_repeats_with_the_seed():
    values = np.random.default_rng(7).random(60).tolist()
    low, high = metrics.bootstrap_interval(values, seed=0)
    assert low < float(np.mean(values)) < high
    assert (low, high) == metrics.bootstrap_interval(values, seed=0)
    assert (low, high) != metrics.bootstrap_interval(values, seed=1)
    narrower = metrics.bootstrap_interval(values, seed=0, level=0.5)
    assert low < narrower[0] < narrower[1] < high


def test_summarise_percentiles_and_empty_groups():
    values = [10.0, 20.0, 30.0, 40.0, 1000.0]
    p50 = metrics.summarise(values, metrics.p50)
    assert p50["value"] == 30.0 and p50["low"] <= 30.0 <= p50["high"] and p50["n"] == 5
    assert metrics.summarise([]) == {"value": None, "low": None, "high": None, "n": 0}
    assert metrics.summarise([1.0, 1.0]) == {"value": 1.0, "low": 1.0, "high": 1.0, "n": 2}


def row(gold, abstained, cited=(), answer="", points=(), sentences=None):
    return {"gold_titles": list(gold), "abstained": abstained, "cited_titles": list(cited), "answer": answer,
            "answer_points": list(points), "sentences": sentences}


def test_which_questions_each_answer_metric_counts():
    answered = answer_scores(row(["a"], False, cited=["a", "b"], answer="It is LoRAT.", points=["LoRAT", "LaSOT"],
                                 sentences=[{"supported": True}, {"supported": False}]))
    assert answered == {"false_abstention": 0.0, "citation_precision": 0.5, "citation_recall": 1.0,
                        "answer_points": 0.5, "answer_points_all": 0.5, "supported_sentences": 0.5}
    # an abstention on an answerable question: no citation score, its points count 0 only in _all
    assert answer_scores(row(["a"], True, points=["LoRAT"])) == {"false_abstention": 1.0, "answer_points_all": 0.0}
    assert answer_scores(row([], True)) == {"abstention_accuracy": 1.0}
    assert answer_scores(row([], False, cited=["a"])) == {"abstention_accuracy": 0.0}
    # a list question: the papers the answer names, against the exhaustive gold set
    listed = answer_scores({**row(["a", "b", "c"], False, cited=["a", "b", "x"]), "type": "list"})
    assert listed["list_recall"] == 2 / 3 and listed["list_precision"] == 2 / 3
    refused = answer_scores({**row(["a", "b"], True), "type": "list"})
    assert refused["list_recall"] == 0.0 and refused["list_precision"] == 0.0


def test_latency_leaves_out_the_first_question_and_generation_of_abstentions():
    rows = [{"abstained": False, "timings_ms": {"retrieve": 900.0, "generate": 800.0}},  # loads models
            {"abstained": True, "timings_ms": {"retrieve": 20.0, "generate": 0.1}},
            {"abstained": False, "timings_ms": {"retrieve": 30.0, "generate": 300.0}}]
    assert stage_latencies(rows, "retrieve") == [20.0, 30.0]
    assert stage_latencies(rows, "generate") == [300.0]
