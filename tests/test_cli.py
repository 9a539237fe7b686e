"""The `ask` / `rag` commands as a user or a script meets them (fake embedder, real store)."""

import json
import re

import pytest
from click.testing import CliRunner

from fakes import PAPERS
from rag.cli import ask_command, rag_group

CONTRACT_KEYS = {"question", "answer", "abstained", "citations", "sources", "llm", "timings_ms"}


@pytest.fixture
def cli(fake_models, small_corpus, monkeypatch):
    monkeypatch.setenv("RAG_CORPUS", str(small_corpus))
    runner = CliRunner()

    def run(*args, command=ask_command):
        return runner.invoke(command, list(args), catch_exceptions=False)

    return run


def assert_one_line_error(result, code, *fragments):
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0]


def test_json_answer_keeps_the_contract(cli):
    result = cli("--json", "--k", "3", "which method prunes tokens without fine-tuning?")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert CONTRACT_KEYS <= set(out)
    assert out["abstained"] is False and out["llm"] == "extractive"
    assert set(out["timings_ms"]) >= {"retrieve", "generate", "total"}
    assert len(out["sources"]) == 3
    assert [s["rank"] for s in out["sources"]] == [1, 2, 3]
    assert len({s["paper_id"] for s in out["sources"]}) == 3
    for source in out["sources"]:
        assert {"rank", "paper_id", "title", "score", "snippet"} <= set(source)
        assert 0 <= source["score"] <= 1 and source["snippet"]
    assert out["sources"][0]["title"] == PAPERS[0][0]
    by_rank = {s["rank"]: s for s in out["sources"]}
    markers = {int(m) for m in re.findall(r"\[(\d+)\]", out["answer"])}
    assert markers == {c["marker"] for c in out["citations"]}  # exactly the papers cited
    for citation in out["citations"]:
        assert by_rank[citation["marker"]]["paper_id"] == citation["paper_id"]
        assert by_rank[citation["marker"]]["title"] == citation["title"]


def test_text_answer_then_sources(cli):
    result = cli("benchmark with long videos for object tracking")
    assert result.exit_code == 0
    answer, sources = result.stdout.split("\nSources:\n")
    assert "[1]" in answer
    assert sources.splitlines()[0].startswith(f"  [1] {PAPERS[1][0]}")


def test_question_outside_the_corpus_abstains_and_says_so(cli):
    result = cli("--json", "sourdough hydration and bulk fermentation time")
    assert result.exit_code == 0
    out = json.loads(result.stdout)
    assert out["abstained"] is True and out["citations"] == []
    assert "corpus does not cover" in out["answer"] and "[" not in out["answer"]
    assert out["sources"]  # the nearest papers are still shown


def test_batch_answers_in_order_one_object_per_line(cli, tmp_path):
    batch = tmp_path / "q.jsonl"
    items = [{"id": "a", "question": "speech enhancement with microphones"},
             {"id": "b", "question": "How many videos?", "type": "followup", "history": ["tracking benchmark of long videos"]},
             {"id": "c", "question": "token pruning without fine-tuning"}]
    batch.write_text("\n".join(json.dumps(i) for i in items) + "\n\n")
    result = cli("--batch", str(batch), "--json")
    assert result.exit_code == 0, result.stderr
    outs = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["question"] for o in outs] == [i["question"] for i in items]
    assert [o["sources"][0]["title"] for o in outs] == [PAPERS[2][0], PAPERS[1][0], PAPERS[0][0]]
    assert outs[1]["retrieval_query"] == "tracking benchmark of long videos How many videos?"


def test_filters_reach_retrieval(cli):
    out = json.loads(cli("--json", "--has-code", "speech tracking attention").stdout)
    assert [s["title"] for s in out["sources"]] == [PAPERS[0][0]]


def test_rag_ingest_and_stats(cli):
    result = cli("ingest", "--quiet", command=rag_group)
    assert result.exit_code == 0 and "indexed 4 papers" in result.stdout and "4 new" in result.stdout
    again = cli("ingest", "--quiet", command=rag_group)
    assert "0 new" in again.stdout and "4 unchanged" in again.stdout
    stats = json.loads(cli("stats", "--json", command=rag_group).stdout)
    assert stats["papers"] == 4 and stats["chunks"] == stats["vectors"] > 4
    assert stats["size_bytes"] > 0 and stats["built_at"] and stats["embed_model"] == "fake-hash-encoder"
    text = cli("stats", command=rag_group).stdout
    assert "papers" in text and "size on disk" in text


@pytest.mark.parametrize("args, fragments", [
    (["", ], ["empty question"]),
    (["  \n\t "], ["empty question"]),
    (["x" * 3_000_000], ["3,000,000 characters", "limit"]),
    (["--k", "0", "q"], ["--k"]),
    (["--k", "100000", "q"], ["--k"]),
    (["--llm", "nonsense", "q"], ["unknown --llm spec"]),
    (["--llm", "openai:", "q"], ["unknown --llm spec"]),
    (["--llm", "gguf:/no/such/model.gguf", "q"], ["no such file"]),
    ([], ["no question"]),
    (["--preset", "turbo", "q"], ["unknown preset"]),
])
def test_bad_usage_is_one_line_exit_2(cli, args, fragments):
    assert_one_line_error(cli(*args), 2, *fragments)


def test_bad_batch_files(cli, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "fine"}\n\n{oops\n')
    assert_one_line_error(cli("--batch", str(bad)), 2, "bad.jsonl:3", "not valid JSON")
    bad.write_text('{"question": "fine"}\n{"q": "wrong key"}\n')
    assert_one_line_error(cli("--batch", str(bad)), 2, "bad.jsonl:2", '"question"')
    bad.write_text('{"question": "fine"}\n\n{"question": "   "}\n')
    result = cli("--batch", str(bad), "--json")
    assert_one_line_error(result, 2, "bad.jsonl:3", "empty question")
    assert result.stdout == ""  # nothing answered half-way
    assert_one_line_error(cli("--batch", str(tmp_path / "none.jsonl")), 2, "not found")
    assert_one_line_error(cli("--batch", str(bad), "also a question"), 2, "not both")


@pytest.mark.parametrize("name, content, fragment", [
    ("missing.txt", None, "not found"),
    ("empty.txt", b"", "is empty"),
    ("binary.txt", b"\x7fELF\x00\x00\x01" * 100, "is binary"),
])
def test_bad_corpus_on_first_ask_is_one_line_exit_2(cli, tmp_path, name, content, fragment):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    assert_one_line_error(cli("--corpus", str(path), "q"), 2, fragment, name)


def test_a_bad_corpus_file_never_costs_the_existing_index(cli, tmp_path):
    assert cli("ingest", "--quiet", command=rag_group).exit_code == 0
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    assert_one_line_error(cli("ingest", "--corpus", str(empty), command=rag_group), 2, "is empty")
    assert json.loads(cli("stats", "--json", command=rag_group).stdout)["papers"] == 4
    assert cli("--json", "token pruning").exit_code == 0


def test_index_folder_that_is_a_file(cli, tmp_path):
    not_a_folder = tmp_path / "index-file"
    not_a_folder.write_text("oops")
    assert_one_line_error(cli("--index-dir", str(not_a_folder), "q"), 2, "is a file, not a folder")
    assert_one_line_error(cli("stats", "--index-dir", str(not_a_folder), command=rag_group), 2, "is a file")


def test_missing_and_damaged_index(cli, tmp_path):
    assert_one_line_error(cli("stats", "--index-dir", str(tmp_path / "nothing"), command=rag_group), 2, "no index at", "rag ingest")
    assert cli("ingest", "--quiet", command=rag_group).exit_code == 0
    from rag.settings import Settings

    catalog = Settings.build().index_dir / "catalog.sqlite"
    catalog.write_bytes(b"this is not a database" * 100)
    assert_one_line_error(cli("q"), 2, "damaged", "rag ingest --rebuild")
    assert_one_line_error(cli("stats", command=rag_group), 2, "damaged")


def test_control_characters_are_cleaned_not_fatal(cli):
    out = json.loads(cli("--json", "token\x00 pruning\x1b[31m without\u200b fine-tuning").stdout)
    assert out["question"] == "token pruning [31m without fine-tuning"
    assert out["sources"][0]["title"] == PAPERS[0][0]


def test_help_is_the_docstring():
    result = CliRunner().invoke(ask_command, ["--help"])
    assert result.exit_code == 0 and "citing every claim" in result.output
