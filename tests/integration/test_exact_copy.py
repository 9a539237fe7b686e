"""The shipped index searched two ways: the exact copy of its vectors (what a cold `ask` uses)
and Chroma. Chroma's HNSW is approximate, so deep in a 200-chunk list it can miss a chunk the
exact search finds; everything Chroma returns must be there, in the same order, with the same
score, the first 10 must be the same, and every answer must be the same."""

import json

import numpy as np
import pytest

from fakes import PROJECT
from rag.pipeline import Pipeline
from rag.settings import Settings
from vectorstore import where_clause

pytestmark = pytest.mark.integration
QUESTIONS = [json.loads(line) for path in ("tests/data/retrieval_questions.jsonl", "evals/qa/dev.jsonl")
             for line in (PROJECT / path).read_text().splitlines() if line.strip()]
FILTERS = [None, where_clause(["003_3327a9a86e5db200.txt"]), where_clause(None, True),
           where_clause(["000_c319945002a595c1.txt", "002_5fedad07e7fbdfe3.txt"], False)]
TOL = 1e-5


@pytest.fixture(scope="module")
def pipelines(shipped_index):
    exact = Pipeline(Settings.build(env={}, index_dir=shipped_index), progress=False)
    chroma = Pipeline(Settings.build(env={}, index_dir=shipped_index, exact_search_max_chunks=0), progress=False)
    chroma._encoder = exact.encoder
    assert (exact.index.store.kind, chroma.index.store.kind) == ("exact", "chroma")
    return exact, chroma


def test_every_chunk_chroma_finds_the_exact_search_finds_in_the_same_order_with_the_same_score(pipelines):
    exact, chroma = pipelines
    depth = exact.settings.candidates
    queries = exact.encoder.encode([q["question"] for q in QUESTIONS])
    missed = 0
    for query in queries:
        for where in FILTERS:
            got, want = exact.index.store.query(query, depth, where), chroma.index.store.query(query, depth, where)
            assert len(got) == len(want)
            scores = dict(got)
            assert [i for i, _ in got[:10]] == [i for i, _ in want[:10]]
            assert np.allclose([s for _, s in got[:10]], [s for _, s in want[:10]], atol=TOL)
            found = [i for i, _ in want if i in scores]
            missed += len(want) - len(found)
            assert all(abs(scores[i] - s) <= TOL for i, s in want if i in scores)
            in_order = [scores[i] for i in found]  # same relative order, but for ties within float rounding
            assert all(a >= b - TOL for a, b in zip(in_order, in_order[1:]))
            assert all(g[1] >= w[1] - TOL for g, w in zip(got, want))  # never a worse chunk at any rank
    assert missed <= 0.01 * len(queries) * len(FILTERS) * depth  # what HNSW leaves out deep in the list


def test_answers_from_the_copy_and_from_chroma_are_the_same_unless_hnsw_missed_a_chunk(pipelines):
    """Where HNSW returned the true nearest chunks the two answers are the same; where it missed
    some (a few questions, and which ones changes from build to build) only the exact search
    has the true list, so the answers may differ there."""
    from rag.chat_turns import standalone_query

    exact, chroma = pipelines
    depth, missed = exact.settings.candidates, []
    for item in QUESTIONS:
        history = item.get("history", [])
        query = exact.encoder.encode([standalone_query(item["question"], history)])[0]
        if [i for i, _ in exact.index.store.query(query, depth)] != [i for i, _ in chroma.index.store.query(query, depth)]:
            missed.append(item["id"])
            continue
        a, b = exact.ask(item["question"], history=history), chroma.ask(item["question"], history=history)
        assert [h.paper.paper_id for h in a.sources] == [h.paper.paper_id for h in b.sources], item["id"]
        assert (a.answer, a.abstained) == (b.answer, b.abstained), item["id"]
        assert np.allclose([h.dense_score or 0 for h in a.sources], [h.dense_score or 0 for h in b.sources], atol=TOL)
    # How many lists HNSW gets exactly right, 100 deep, changes from build to build (0.25 to 0.35
    # of these questions missed a chunk somewhere in the list on two builds): the bound only
    # makes sure most answers were compared.
    assert len(missed) <= 0.5 * len(QUESTIONS), missed
