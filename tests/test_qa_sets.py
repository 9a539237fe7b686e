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


@pytest.mark.parametrize("reasked, sources", [
    ("evals/qa/calib_reasked.jsonl", ["evals/qa/calib.jsonl", "evals/qa/calib2.jsonl"]),
    ("evals/qa/calib_chains_reasked.jsonl", ["evals/qa/calib_chains.jsonl"]),
    ("evals/corpora/second/qa_reasked.jsonl", ["evals/corpora/second/qa.jsonl"]),
])
def test_the_reasked_sets_are_what_evals_reask_writes_and_say_the_same_in_other_words(reasked, sources):
    """The calibration questions asked in other words (evals/reask.py): the shipped files are the
    script's output, every list and follow-up changed its words and nothing else, and a chain's
    later turns carry its re-asked earlier ones as their history."""
    from evals.reask import reask

    originals = [item for path in sources for item in read(path)]
    items = reask(originals)
    assert items == read(reasked)
    by_id = {item["id"]: item for item in originals}
    changed = 0
    for item in items:
        original = by_id[item["id"][:-1]]
        assert {k: v for k, v in item.items() if k not in ("id", "question", "history")} == \
               {k: v for k, v in original.items() if k not in ("id", "question", "history")}
        changed += item["question"] != original["question"]
        for earlier, asked in zip(item.get("history", []), original.get("history", [])):
            twin = next(i for i in items if i.get("chain") == item["chain"] and by_id[i["id"][:-1]]["question"] == asked)
            assert earlier == twin["question"]
    assert changed >= 7
