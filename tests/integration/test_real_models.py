"""The real thing: the bundled all-MiniLM-L6-v2, real Chroma, the shipped corpus.

Builds one index of the shipped corpus per test session (about a minute on 2 cores) and
checks what a user sees: the right papers, abstention on questions the corpus does not
cover, and the CLI in a fresh process.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fakes import PROJECT
from rag.pipeline import Pipeline
from rag.settings import Settings

pytestmark = pytest.mark.integration
QUESTIONS = [json.loads(line) for line in (PROJECT / "tests/data/retrieval_questions.jsonl").read_text().splitlines() if line.strip()]
ANSWERABLE = [q for q in QUESTIONS if q["gold_titles"]]
UNANSWERABLE = [q for q in QUESTIONS if not q["gold_titles"]]


@pytest.fixture(scope="session")
def pipeline(shipped_index) -> Pipeline:
    return Pipeline(Settings.build(env={}, index_dir=shipped_index), progress=False)


def test_shipped_index_holds_every_paper_and_no_chunk_is_truncated(pipeline):
    from rag.embed import load_query_encoder

    index = pipeline.index
    stats = index.stats()
    assert stats["papers"] == 295 and stats["chunks"] == stats["vectors"] >= 295
    assert stats["embed_model"] == "all-MiniLM-L6-v2" and stats["embed_dim"] == 384
    encoder = load_query_encoder("all-MiniLM-L6-v2")
    longest = max(encoder.count_tokens(text) for _, _, text in index.catalog.iter_chunks())
    assert longest <= encoder.max_tokens == 256


def test_vector_search_returns_the_exact_nearest_chunks(pipeline):
    """Chroma's HNSW is approximate: at its default breadth some builds missed a question's
    nearest chunk (CI lost FlowTransformer for r10 that way). Every test question, every dev
    question and every chunk itself must get its exact top 10 within the 50 candidates."""
    dev = [json.loads(line)["question"] for line in (PROJECT / "evals/qa/dev.jsonl").read_text().splitlines() if line.strip()]
    store = pipeline.index.chroma  # Chroma's own search, whatever queries search
    got = store.collection.get(include=["embeddings"])
    ids, chunks = got["ids"], np.asarray(got["embeddings"], dtype=np.float32)
    queries = np.vstack([pipeline.encoder.encode([q["question"] for q in QUESTIONS] + dev), chunks])
    exact = np.argsort(-(queries @ chunks.T), axis=1)[:, :10]
    found = store.collection.query(query_embeddings=queries, n_results=50, include=[])["ids"]
    missed = [(i, ids[j]) for i, (top, hits) in enumerate(zip(exact, found)) for j in top if ids[j] not in hits]
    assert missed == []


@pytest.mark.parametrize("item", ANSWERABLE, ids=[q["id"] for q in ANSWERABLE])
def test_retrieval_contract_right_paper_in_top_5(pipeline, item):
    titles = [h.paper.title for h in pipeline.retriever().search(item["question"], k=5)]
    assert item["gold_titles"][0] in titles


# Refused since abstain_threshold moved from 0.52 to 0.6 (evals/README.md, "Abstention"): their
# papers lead the pool but hold too few of their words — r02's "multi-microphone … denoising" is
# "multichannel … enhancement" there (strength 0.53), r05's "shorten" is "compress" (0.57). The
# refusal still lists the paper first among the nearest. Strict: answering them again shows here.
REFUSED_SINCE_0_6 = {"r02", "r05"}


@pytest.mark.parametrize("item", [pytest.param(q, marks=pytest.mark.xfail(strict=True, reason="refused at 0.6"))
                                  if q["id"] in REFUSED_SINCE_0_6 else q for q in QUESTIONS],
                         ids=[q["id"] for q in QUESTIONS])
def test_answers_cite_the_gold_paper_or_abstain(pipeline, item):
    answer = pipeline.ask(item["question"])
    if not item["gold_titles"]:
        assert answer.abstained and answer.citations == []
        assert "corpus does not cover" in answer.answer
    else:
        assert not answer.abstained
        assert item["gold_titles"][0] in [c.title for c in answer.citations]


TRAINING_FREE = ("Zero-TPrune", "Accelerating Transformers with Spectrum-Preserving Token Merging", "Segformer++")
NEEDS_TRAINING = ("Multi-criteria Token Fusion", "FuseGPT", "AxFormer", "TokenFormer", "Tokens-to-Token", "Tracking Meets LoRA")


def test_the_readme_question_lists_the_methods_that_reduce_tokens_without_training(shipped_index):
    result = run_cli("ask", "--json", "which methods prune tokens without fine-tuning?", index_dir=shipped_index)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    named = [c["title"] for c in out["citations"]]
    assert out["shape"] == "list" and out["answer"].splitlines()[0] == f"{out['matches']['count']} papers match:"
    for title in TRAINING_FREE:
        assert any(t.startswith(title) for t in named), (title, out["answer"])
    assert not [t for t in named if t.startswith(NEEDS_TRAINING)], out["answer"]
    assert out["matches"]["paper_ids"][: len(named)] == [c["paper_id"] for c in out["citations"]]
    for source in out["sources"]:  # each source says which of its sentences matched, best first
        scores = [e["score"] for e in source["evidence"]]
        assert source["evidence"] and scores == sorted(scores, reverse=True)


def run_cli(*args, index_dir: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env["RAG_INDEX_DIR"] = str(index_dir)
    exe = Path(sys.executable).parent / args[0]
    return subprocess.run([str(exe), *args[1:]], capture_output=True, text=True, env=env, timeout=300)


def test_ask_in_a_fresh_process(shipped_index):
    result = run_cli("ask", "--json", "--k", "6", "Which benchmark has long videos for single object tracking?", index_dir=shipped_index)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["sources"][0]["title"].startswith("LaSOT") and len(out["sources"]) == 6
    assert out["citations"][0]["marker"] == 1


def test_stats_and_usage_errors_in_a_fresh_process(shipped_index, tmp_path):
    stats = run_cli("rag", "stats", "--json", index_dir=shipped_index)
    assert stats.returncode == 0 and json.loads(stats.stdout)["papers"] == 295
    bad = run_cli("ask", "", index_dir=shipped_index)
    assert bad.returncode == 2 and bad.stderr.startswith("error: empty question") and "Traceback" not in bad.stderr
    help_ = run_cli("ask", "--help", index_dir=shipped_index)
    assert help_.returncode == 0 and "--json" in help_.stdout


def test_follow_up_is_answered_when_the_best_supported_paper_is_not_ranked_first(pipeline):
    """Seen in the browser: the merged follow-up query ranked the token-merging paper first,
    with too few of the chat's terms to pass alone, and the whole answer was refused."""
    answer = pipeline.ask("do any of them also merge tokens?", history=["which methods prune tokens without fine-tuning?"])
    assert not answer.abstained
    assert any("Token Merging" in c.title for c in answer.citations), answer.answer


ADE20K_PAPERS = ("kMaX-DeepLab", "Swin Transformer:", "A ConvNet for the 2020s", "Dynamic Spectrum Mixer",
                 "CSWin Transformer", "HorNet")


def test_a_list_about_an_identifier_names_the_papers_that_say_it(pipeline):
    """Seen on the dev chains: the question's own words ("evaluate their models", "scene-parsing")
    are not the papers', so it was refused though six papers report ADE20K results; answered, it
    named segmentation papers that never mention ADE20K."""
    answer = pipeline.ask("Which papers evaluate their models on the ADE20K scene-parsing benchmark?")
    assert not answer.abstained, answer.answer
    named = [c.title for c in answer.citations]
    assert all("ADE20K" in f"{c.title} {pipeline.index.catalog.papers([c.paper_id])[c.paper_id].abstract}"
               for c in answer.citations), named
    assert sum(t.startswith(ADE20K_PAPERS) for t in named) >= 5, named


def test_a_question_near_the_corpus_but_about_what_no_paper_does_is_refused(pipeline):
    """Seen on the calibration split: "Is there a transformer model for detecting sarcasm in
    tweets?" was answered from a Spanish-Twitter language model — every word but the one that
    mattered was in some abstract. Written afresh for this test (in no QA set): the corpus has
    papers on tweets and on detection, none on sarcasm or irony; it has speech separation."""
    refused = pipeline.ask("Which transformer papers detect sarcasm or irony in social media posts?")
    assert refused.abstained and refused.citations == [], refused.answer
    answered = pipeline.ask("Which papers enhance or separate speech with transformers?")
    assert not answered.abstained and any(c.title.startswith(("DeFTAN-II", "MossFormer")) for c in answered.citations)
