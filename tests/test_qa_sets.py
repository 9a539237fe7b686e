"""The shipped QA sets are valid (CONTRACTS.md §4) and their gold titles are real papers."""

import json

import pytest

from conftest import PROJECT, SHIPPED_CORPUS
from rag.corpus import load_corpus

TYPES = {"single", "multi", "numeric", "comparative", "unanswerable", "followup"}
SETS = ["evals/qa/dev.jsonl", "tests/data/retrieval_questions.jsonl"]


@pytest.fixture(scope="module")
def titles():
    return {p.title for p in load_corpus([SHIPPED_CORPUS]).papers}


@pytest.mark.parametrize("path", SETS)
def test_qa_set_is_valid_and_titles_exist(path, titles):
    items = [json.loads(line) for line in (PROJECT / path).read_text().splitlines() if line.strip()]
    assert len({i["id"] for i in items}) == len(items)
    for item in items:
        assert item["type"] in TYPES and item["question"].strip()
        assert all(t in titles for t in item["gold_titles"]), item["id"]
        assert (item["type"] == "unanswerable") == (item["gold_titles"] == [])
        assert ("history" in item) == (item["type"] == "followup")


def test_dev_set_covers_every_type():
    items = [json.loads(line) for line in (PROJECT / SETS[0]).read_text().splitlines() if line.strip()]
    assert len(items) >= 60 and {i["type"] for i in items} == TYPES
