"""The shipped QA sets are valid (docs/contracts.md §4) and their gold titles are real papers."""

import json

import pytest

from fakes import PROJECT, SHIPPED_CORPUS
from rag.corpus import load_corpus

TYPES = {"single", "multi", "list", "numeric", "comparative", "unanswerable", "followup"}
SETS = ["evals/qa/dev.jsonl", "evals/qa/calib.jsonl", "tests/data/retrieval_questions.jsonl"]


@pytest.fixture(scope="module")
def papers():
    return {p.title: p for p in load_corpus([SHIPPED_CORPUS]).papers}


@pytest.fixture(scope="module")
def titles(papers):
    return set(papers)


def read(path: str) -> list[dict]:
    return [json.loads(line) for line in (PROJECT / path).read_text().splitlines() if line.strip()]


@pytest.mark.parametrize("path", SETS)
def test_qa_set_is_valid_and_titles_exist(path, titles):
    items = [json.loads(line) for line in (PROJECT / path).read_text().splitlines() if line.strip()]
    assert len({i["id"] for i in items}) == len(items)
    for item in items:
        assert item["type"] in TYPES and item["question"].strip()
        assert all(t in titles for t in item["gold_titles"]), item["id"]
        assert (item["type"] == "unanswerable") == (item["gold_titles"] == [])
        assert ("history" in item) == (item["type"] == "followup")


def test_dev_set_covers_every_type_with_at_least_20_list_questions():
    items = read(SETS[0])
    assert len(items) >= 60 and {i["type"] for i in items} == TYPES
    lists = [i for i in items if i["type"] == "list"]
    assert len(lists) >= 20 and all(2 <= len(i["gold_titles"]) <= 8 for i in lists)
    assert any(i["question"] == "Which methods prune tokens without fine-tuning?" for i in lists)  # the headline


@pytest.mark.parametrize("path", SETS[:2])
def test_answer_points_are_facts_stated_in_a_gold_abstract(path, papers):
    for item in read(path):
        for point in item["answer_points"]:
            assert any(" ".join(point.split()).casefold() in " ".join(papers[t].abstract.split()).casefold()
                       for t in item["gold_titles"]), (item["id"], point)


def test_the_calibration_split_shares_no_question_with_the_dev_set():
    dev, calib = read(SETS[0]), read(SETS[1])
    assert not {i["question"] for i in dev} & {i["question"] for i in calib}
    assert not {i["id"] for i in dev} & {i["id"] for i in calib}
