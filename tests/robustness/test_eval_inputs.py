"""`rag eval` given bad runs to make (the QA-file cases are in tests/test_eval_harness.py):
each stops in one line before a report folder exists, or, for a backend that dies, exit 3."""

from __future__ import annotations

import json

import pytest

from fakes import PAPERS, assert_one_line_error, free_port


@pytest.fixture
def qa(tmp_path):
    path = tmp_path / "qa.jsonl"
    path.write_text(json.dumps({"id": "q1", "question": "which method prunes tokens without fine-tuning?",
                                "type": "single", "gold_titles": [PAPERS[0][0]]}) + "\n")
    return path


@pytest.mark.parametrize("extra, code, fragments", [
    pytest.param(["--k", "0"], 2, ["--k"], id="k-0"),
    pytest.param(["--llm", "nonsense"], 2, ["unknown --llm spec"], id="bad-llm"),
    pytest.param(["--llm", "openai:tiny"], 3, ["cannot reach"], id="backend-down"),
])
def test_bad_run_stops_without_a_report(indexed, qa, tmp_path, monkeypatch, extra, code, fragments):
    monkeypatch.setenv("OPENAI_BASE_URL", f"http://127.0.0.1:{free_port()}/v1")
    result = indexed.rag("eval", "--qa", str(qa), "--out", str(tmp_path / "runs"), *extra)
    assert_one_line_error(result, code, *fragments)
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_qa_path_that_is_a_folder(indexed, tmp_path):
    assert_one_line_error(indexed.rag("eval", "--qa", str(tmp_path)), 2, "QA file")


def test_binary_qa_file(indexed, tmp_path):
    path = tmp_path / "qa.jsonl"
    path.write_bytes(b"\x00\xff\xfe" * 300)
    assert_one_line_error(indexed.rag("eval", "--qa", str(path)), 2, "qa.jsonl")


def test_out_that_is_a_file(indexed, qa, tmp_path):
    out = tmp_path / "runs.txt"
    out.write_text("not a folder")
    result = indexed.rag("eval", "--qa", str(qa), "--retrieval-only", "--out", str(out))
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert out.read_text() == "not a folder"


def test_eval_on_a_damaged_index(indexed, qa):
    from rag.settings import Settings

    (Settings.build().index_dir / "catalog.sqlite").write_bytes(b"garbage" * 500)
    assert_one_line_error(indexed.rag("eval", "--qa", str(qa), "--retrieval-only"), 2, "damaged", "--rebuild")
