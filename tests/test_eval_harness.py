"""`rag eval` end to end on a small fake-embedder index: reports, baselines, compare, bad QA files."""

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from fakes import PAPERS, FakeEncoder, daily_dump
from evals.cli import build_eval_command
from rag.cli import guarded
from rag.corpus import CorpusReader
from rag.ingest import ingest
from rag.settings import Settings

TOKENS, TRACKING, SPEECH, SPARSE = (title for title, _ in PAPERS)
QA = [
    {"id": "s1", "question": "Which method prunes tokens in vision transformers without fine-tuning?", "type": "single",
     "gold_titles": [TOKENS], "answer_points": ["fine-tuning", "ImageNet"]},
    {"id": "m1", "question": "Which papers apply transformers to speech or to object tracking?", "type": "multi",
     "gold_titles": [SPEECH, TRACKING], "answer_points": ["speech", "tracking"]},
    {"id": "n1", "question": "How many long videos are in the object tracking benchmark?", "type": "numeric",
     "gold_titles": [TRACKING], "answer_points": ["1,400"]},
    {"id": "u1", "question": "Which paper predicts stock prices from financial news?", "type": "unanswerable",
     "gold_titles": [], "answer_points": []},
    {"id": "f1", "question": "How much faster does it make inference?", "type": "followup", "gold_titles": [TOKENS],
     "answer_points": ["40 percent"], "history": ["Which method prunes tokens without fine-tuning?"]},
]
REPORT_KEYS = {"run", "overall", "per_type", "latency", "recall_curve", "questions"}
RETRIEVAL_METRICS = {"recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10"}
ANSWER_METRICS = {"citation_precision", "citation_recall", "supported_sentences", "answer_points",
                  "answer_points_all", "list_recall", "list_precision", "abstention_accuracy", "false_abstention",
                  "chain_recall", "chain_precision", "in_set_kept"}


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("eval")
    (root / "corpus").mkdir()
    (root / "corpus" / "a.txt").write_text(daily_dump(PAPERS))
    settings = Settings.build(env={}, corpus=[root / "corpus"], index_dir=root / "index")
    ingest(settings, CorpusReader(settings.corpus), progress=False, encoder=FakeEncoder())
    return root / "index"


def write_qa(folder: Path, items, name="qa.jsonl") -> Path:
    path = folder / name
    path.write_text("".join(json.dumps(item) + "\n" for item in items))
    return path


@pytest.fixture
def run_eval_cli(fake_models, index_dir, tmp_path):
    runner = CliRunner()

    def run(*args):
        return runner.invoke(build_eval_command(guarded), [*args, "--index-dir", str(index_dir)], catch_exceptions=False)

    return run


def only_run_folder(parent: Path) -> Path:
    (folder,) = parent.iterdir()
    return folder


def test_a_run_writes_json_markdown_and_plot_with_baselines(run_eval_cli, tmp_path):
    result = run_eval_cli("--qa", str(write_qa(tmp_path, QA)), "--baselines", "--out", str(tmp_path / "runs"))
    assert result.exit_code == 0, result.stderr
    folder = only_run_folder(tmp_path / "runs")
    report = json.loads((folder / "report.json").read_text())
    assert set(report) == REPORT_KEYS and report["run"]["id"] == folder.name
    assert folder.name.endswith(report["run"]["settings_hash"])
    assert report["run"]["retrievers"] == ["sources", "hybrid", "dense", "bm25"] and report["run"]["llm"] == "extractive"

    retrieval = report["overall"]["retrieval"]
    assert set(retrieval) == {"sources", "hybrid", "dense", "bm25"}
    for figures in retrieval.values():
        assert set(figures) == RETRIEVAL_METRICS
        for figure in figures.values():
            assert figure["n"] == 4 and figure["low"] <= figure["value"] <= figure["high"]
    assert set(report["overall"]["answers"]) == ANSWER_METRICS
    assert report["overall"]["answers"]["abstention_accuracy"]["n"] == 1
    assert set(report["per_type"]) == {"single", "multi", "numeric", "unanswerable", "followup"}
    assert all(len(curve) == 10 for curve in report["recall_curve"].values())
    assert {"retrieve", "generate", "total", "load_ms", "first_question_ms"} <= set(report["latency"])

    rows = {row["id"]: row for row in report["questions"]}
    assert rows["s1"]["retrieved"]["hybrid"][0] == TOKENS and rows["s1"]["cited_titles"][0] == TOKENS
    assert rows["s1"]["retrieved"]["sources"][0] == rows["s1"]["sources"][0]  # the order `ask` shows
    # "How much faster does it make inference?": answered from the paper the first turn named
    assert rows["f1"]["history"] and rows["f1"]["working_set"] and rows["f1"]["cited_titles"][0] == TOKENS
    # ranked on its condensed form, not on "How much faster does it make inference?" alone (the
    # dev set's retrieval figures fell when follow-ups began to be answered over the papers in play)
    from types import SimpleNamespace

    from evals.harness import searched_query

    item = SimpleNamespace(question="How much faster does it make inference?", history=["Which method prunes tokens?"])
    assert searched_query(SimpleNamespace(retrieval_query=None), item) == \
        "Which method prunes tokens? How much faster does it make inference?"
    assert searched_query(SimpleNamespace(retrieval_query="q"), item) == "q"
    for row in rows.values():
        assert {"retrieved", "sources", "cited_titles", "abstained", "timings_ms", "scores"} <= set(row)

    markdown = (folder / "report.md").read_text()
    assert result.stdout == markdown
    for fragment in ("## Retrieval", "| sources |", "| hybrid |", "| dense |", "| bm25 |", "## Answers", "## Latency", "## Per question type"):
        assert fragment in markdown
    assert (folder / "plot.png").read_bytes().startswith(b"\x89PNG")


def test_retrieval_only_never_generates_an_answer(run_eval_cli, tmp_path, monkeypatch):
    from rag.pipeline import Pipeline

    monkeypatch.setattr(Pipeline, "ask", lambda *a, **kw: pytest.fail("retrieval-only must not answer"))
    result = run_eval_cli("--qa", str(write_qa(tmp_path, QA)), "--retrieval-only", "--out", str(tmp_path / "runs"))
    assert result.exit_code == 0, result.stderr
    report = json.loads((only_run_folder(tmp_path / "runs") / "report.json").read_text())
    assert "answers" not in report["overall"] and set(report["overall"]["retrieval"]) == {"sources", "hybrid"}
    assert set(report["latency"]) >= {"retrieve"} and "generate" not in report["latency"]
    assert "## Answers" not in result.stdout


def test_compare_prints_the_deltas_between_two_runs(run_eval_cli, tmp_path):
    result = run_eval_cli("--qa", str(write_qa(tmp_path, QA)), "--retrieval-only", "--out", str(tmp_path / "runs"))
    run_a = only_run_folder(tmp_path / "runs")
    run_b = tmp_path / "run_b"
    shutil.copytree(run_a, run_b)
    report = json.loads((run_b / "report.json").read_text())
    report["overall"]["retrieval"]["hybrid"]["mrr@10"] = {"value": 0.25, "low": 0.1, "high": 0.4, "n": 4}
    report["run"]["settings"]["k"] = 7
    (run_b / "report.json").write_text(json.dumps(report))

    result = run_eval_cli("--compare", str(run_a), str(run_b))
    assert result.exit_code == 0, result.stderr
    a_mrr = json.loads((run_a / "report.json").read_text())["overall"]["retrieval"]["hybrid"]["mrr@10"]["value"]
    line = next(line for line in result.stdout.splitlines() if line.startswith("| retrieval hybrid mrr@10 |"))
    assert line.endswith(f"| {0.25 - a_mrr:+.3f} * |")
    assert "| retrieval hybrid recall@5 |" in result.stdout and "+0.000 |" in result.stdout
    assert "k: 5 -> 7" in result.stdout and "QA file: the same" in result.stdout


def bad_utf8(folder: Path) -> Path:
    path = folder / "qa.jsonl"
    path.write_bytes(json.dumps(QA[0]).encode() + b"\n" + b'{"id": "x", "question": "caf\xe9"}\n')
    return path


def broken_json(folder: Path) -> Path:
    path = write_qa(folder, QA[:2])
    path.write_text(path.read_text() + '{"id": "q3", "question": \n')
    return path


def drop(key):
    return lambda folder: write_qa(folder, [QA[0], {k: v for k, v in QA[1].items() if k != key}])


def edit(**changes):
    return lambda folder: write_qa(folder, [QA[0], QA[1], {**QA[2], **changes}])


BAD_FILES = {
    "missing file": (lambda folder: folder / "nope.jsonl", "QA file not found"),
    "not UTF-8": (bad_utf8, "qa.jsonl:2: not UTF-8"),
    "broken JSON line": (broken_json, "qa.jsonl:3: not valid JSON"),
    "missing question": (drop("question"), 'qa.jsonl:2: missing "question"'),
    "missing id": (drop("id"), 'qa.jsonl:2: missing "id"'),
    "missing type": (drop("type"), 'qa.jsonl:2: missing "type"'),
    "missing gold_titles": (drop("gold_titles"), 'qa.jsonl:2: missing "gold_titles"'),
    "unknown type": (edit(type="trivia"), "qa.jsonl:3: unknown type 'trivia'"),
    "gold title not in the index": (edit(gold_titles=["Foo"]), "qa.jsonl:3: gold title 'Foo' is not a paper in the index"),
    "duplicate id": (edit(id="s1"), "qa.jsonl:3: duplicate id 's1' (first on line 1)"),
    "history on a non-followup": (edit(history=["earlier"]), 'qa.jsonl:3: "history" is only allowed on followup items'),
    "empty question": (edit(question="  "), "qa.jsonl:3: empty question"),
    "no questions": (lambda folder: write_qa(folder, []), "has no questions"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_a_bad_qa_file_stops_before_anything_runs(run_eval_cli, tmp_path, monkeypatch, case):
    from rag.pipeline import Pipeline

    make, message = BAD_FILES[case]
    monkeypatch.setattr(Pipeline, "ask", lambda *a, **kw: pytest.fail("a question ran"))
    result = run_eval_cli("--qa", str(make(tmp_path)), "--out", str(tmp_path / "runs"))
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], result.stderr
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("args, message", [
    ([], "no QA set"),
    (["--qa", "x.jsonl", "--compare", "a", "b"], "not both"),
    (["--compare", "a", "b"], "no report at a"),
])
def test_usage_errors(run_eval_cli, args, message):
    result = run_eval_cli(*args)
    assert result.exit_code == 2 and message in result.stderr and result.stderr.startswith("error: ")


def test_each_turn_of_a_chain_is_scored_and_in_set_turns_must_stay_in_the_set(tmp_path):
    from evals.qaset import read_qa_set
    from evals.summary import answer_scores
    from rag.errors import UsageError

    turn = {"type": "followup", "gold_titles": ["A", "B"], "answer_points": [], "abstained": False, "chain": "c1",
            "in_set": True, "cited_titles": ["A", "C"], "working_set": ["A", "B", "C"], "answer": ""}
    scores = answer_scores(turn)
    assert (scores["chain_recall"], scores["chain_precision"], scores["in_set_kept"]) == (0.5, 0.5, 1.0)
    assert answer_scores({**turn, "working_set": ["A", "B"]})["in_set_kept"] == 0.0  # named C, outside the set
    assert answer_scores({**turn, "working_set": None})["in_set_kept"] == 0.0  # searched afresh instead
    assert "in_set_kept" not in answer_scores({**turn, "in_set": False})

    first = {"id": "c1t1", "chain": "c1", "question": "Which papers prune tokens?", "type": "list", "gold_titles": ["A"]}
    second = {"id": "c1t2", "chain": "c1", "question": "Which of them link code?", "type": "followup", "in_set": True,
              "gold_titles": ["A"], "history": ["Which papers prune tokens?"]}
    good = tmp_path / "chain.jsonl"
    good.write_text(json.dumps(first) + "\n" + json.dumps(second) + "\n")
    items = read_qa_set(good, 2000).items
    assert [(i.chain, i.in_set) for i in items] == [("c1", None), ("c1", True)]
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(first) + "\n" + json.dumps({**second, "history": ["another question"]}) + "\n")
    with pytest.raises(UsageError, match="bad.jsonl:2: turn 2 of chain 'c1' needs \"history\""):
        read_qa_set(bad, 2000)
    bad.write_text(json.dumps({**first, "in_set": True}) + "\n")
    with pytest.raises(UsageError, match="only on followup items"):
        read_qa_set(bad, 2000)
