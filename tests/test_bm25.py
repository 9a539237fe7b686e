"""Our streaming, memory-mapped BM25 scores exactly like bm25s (which it replaced)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fakes import PROJECT, SHIPPED_CORPUS
from rag.bm25 import WORD, BM25Index, _Segments
from rag.corpus import load_corpus


@pytest.fixture(scope="module")
def shipped():
    papers = load_corpus([SHIPPED_CORPUS]).papers
    rows = [(f"{p.paper_id}:0", f"{p.title}\n{p.abstract}", p.code_url is not None, p.sources) for p in papers]
    return rows


def test_scores_match_bm25s_on_the_shipped_corpus(shipped, tmp_path):
    import bm25s
    import Stemmer

    ours = BM25Index.build(iter(shipped))
    ours.save(tmp_path / "bm25")
    ours = BM25Index.load(tmp_path / "bm25")  # memory-mapped, as queries use it
    stemmer = Stemmer.Stemmer("english")
    reference = bm25s.BM25()
    reference.index(bm25s.tokenize([t for _, t, _, _ in shipped], stopwords="en", stemmer=stemmer, show_progress=False),
                    show_progress=False)
    questions = [json.loads(line)["question"] for line in (PROJECT / "evals/qa/dev.jsonl").read_text().splitlines()]
    compared = 0
    for question in questions + ["pruning pruning tokens", "a"]:
        # bm25s's tokens, each in the corpus's spelling where the question uses the other (query_tokens)
        assert len(ours.query_tokens(question)) == len(bm25s.tokenize([question], stopwords="en", stemmer=stemmer,
                                                                     return_ids=False, show_progress=False)[0])
        # the search scores each word in every spelling the corpus uses (spelling_terms)
        tokens = [t for word in WORD.findall(question.lower()) for t in ours.spelling_terms(word) if t in reference.vocab_dict]
        got = ours.search(question, 20)
        if not tokens:
            assert got == []
            continue
        expected = reference.get_scores(tokens)
        for chunk_id, score in got:
            row = next(i for i, r in enumerate(shipped) if r[0] == chunk_id)
            assert score == pytest.approx(expected[row], rel=1e-5)
        assert [s for _, s in got] == pytest.approx(sorted(expected[expected > 0], reverse=True)[:20], rel=1e-5)
        compared += 1
    assert compared > 60


def test_filters_restrict_the_search_inside_it(shipped):
    index = BM25Index.build(iter(shipped))
    source = shipped[0][3][0]
    hits = index.search("transformer model", 500, sources=[source])
    allowed = {r[0] for r in shipped if source in r[3]}
    assert hits and {c for c, _ in hits} <= allowed
    coded = {c for c, _ in index.search("transformer model", 500, has_code=True)}
    assert coded and coded <= {r[0] for r in shipped if r[2]}
    assert index.search("transformer model", 5, sources=["not-a-file.txt"]) == []


def test_unknown_and_over_long_terms_match_nothing(shipped):
    index = BM25Index.build(iter(shipped))
    assert index.search("zzzqqqxxx " + "w" * 500, 5) == []
    assert index.idf("zzzqqqxxx") == pytest.approx(np.log(1 + (len(shipped) + 0.5) / 0.5))


def test_a_question_in_british_spelling_finds_papers_written_in_american_and_back():
    rows = [("a:0", "We recognize tumor cells and model their behavior", False, ["a.txt"]),
            ("b:0", "The colour of haemoglobin in foetal blood", False, ["a.txt"])]
    index = BM25Index.build(iter(rows))
    assert [c for c, _ in index.search("recognise tumours", 5)] == ["a:0"]
    assert index.search("recognise tumours", 5) == index.search("recognize tumors", 5)
    assert [c for c, _ in index.search("modelling behaviour", 5)] == ["a:0"]
    assert [c for c, _ in index.search("color of hemoglobin in fetal blood", 5)] == ["b:0"]
    assert index.search("centre", 5) == [] and "registr" not in BM25Index.build(iter(
        [("c:0", "registration", False, ["a.txt"])])).query_tokens("register")  # not a spelling
    assert index.query_tokens("recognise the zzzqqq") == ["recogn", "zzzqqq"]  # no known spelling: as written


def test_a_corpus_in_both_spellings_is_searched_in_both_and_read_in_its_more_common_one():
    """Seen trying the second corpus: "tumour metastasis" listed 5 papers (2 about metastasis),
    "tumor metastasis" 8 — each spelling found mainly the papers written in it."""
    rows = [("a:0", "tumor metastasis in mice", False, ["a.txt"]), ("b:0", "tumor growth", False, ["a.txt"]),
            ("c:0", "tumour metastasis in rats", False, ["a.txt"])]
    index = BM25Index.build(iter(rows))
    assert index.spelling_terms("tumours") == ["tumor", "tumour"]  # the more used first
    assert index.query_tokens("tumour metastasis") == index.query_tokens("tumor metastasis") == ["tumor", "metastasi"]
    assert {c for c, _ in index.search("tumour metastasis", 5)} == {"a:0", "b:0", "c:0"}
    assert index.search("tumour metastasis", 5) == index.search("tumor metastasis", 5)


def test_an_irregular_plural_finds_its_singular_and_back():
    """Seen trying the second corpus: "Which studies were done in mice?" missed the papers that say
    "a mouse model" (the stemmer keeps "mice" and makes "mouse" "mous"); "meta-analyses" likewise
    missed "meta-analysis"."""
    rows = [("a:0", "a mouse model of asthma", False, ["a.txt"]), ("b:0", "mice lacking the receptor", False, ["a.txt"]),
            ("c:0", "a meta-analysis of trials in children", False, ["a.txt"]), ("d:0", "rats and cells", False, ["a.txt"])]
    index = BM25Index.build(iter(rows))
    assert {c for c, _ in index.search("mice", 5)} == {c for c, _ in index.search("mouse", 5)} == {"a:0", "b:0"}
    assert [c for c, _ in index.search("meta-analyses in a child", 5)] == ["c:0"]
    assert index.uses("analyses") and not index.uses("geese")


def test_ties_are_broken_by_chunk_order_and_results_are_capped():
    rows = [(f"p{i}:0", "same words here", False, ["a.txt"]) for i in range(10)]
    hits = BM25Index.build(iter(rows)).search("same words", 4)
    assert [c for c, _ in hits] == ["p0:0", "p1:0", "p2:0", "p3:0"]


def test_a_half_written_bm25_folder_is_refused_not_misread(shipped, tmp_path):
    BM25Index.build(iter(shipped)).save(tmp_path / "bm25")
    (tmp_path / "bm25" / "meta.json").write_text(json.dumps({"format": 2, "chunks": 3}))
    with pytest.raises(ValueError, match="do not match"):
        BM25Index.load(tmp_path / "bm25")


def test_stopwords_are_still_bm25s_own():
    from bm25s.stopwords import STOPWORDS_EN

    from rag import bm25

    assert bm25.STOPWORDS_EN == tuple(STOPWORDS_EN)


def test_querying_does_not_import_bm25s_or_scipy(shipped, tmp_path):
    """Both cost about 0.8 s of every cold `ask`."""
    import subprocess
    import sys

    BM25Index.build(iter(shipped)).save(tmp_path / "bm25")
    code = ("import sys; from pathlib import Path; from rag.bm25 import BM25Index; "
            f"i = BM25Index.load(Path({str(tmp_path / 'bm25')!r})); assert i.search('token pruning', 5); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('bm25s', 'scipy')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT, check=True)
    assert out.stdout.strip() == "[]"


def test_a_build_spilled_in_many_segments_equals_one_built_in_memory(shipped, tmp_path, monkeypatch):
    whole = BM25Index.build(iter(shipped))
    seen = []
    monkeypatch.setattr(_Segments, "flush", lambda self, flush=_Segments.flush: (seen.append(len(self.paths)), flush(self)))
    spilled = BM25Index.build(iter(shipped), spill_dir=tmp_path, segment_postings=500)
    assert len(seen) > 20  # it did spill, many times
    for name in ("vocab", "indptr", "docs", "scores"):
        assert np.array_equal(getattr(whole, name), getattr(spilled, name)), name
    assert whole.chunk_ids == spilled.chunk_ids
    assert list(tmp_path.iterdir()) == []  # the segments are gone
    for question in ("token pruning without fine-tuning", "long-term object tracking benchmark"):
        assert spilled.search(question, 10) == whole.search(question, 10)
