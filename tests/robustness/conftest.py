"""Fixtures for the bad-input suite: the real `ask` / `rag` commands in-process (click's
runner; fake embedder, real Chroma and BM25) on a small corpus, and the one-line-error check
every refusal must pass (CONTRACTS.md §3)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from rag.cli import ask_command, rag_group


def assert_one_line_error(result, code: int, *fragments: str) -> str:
    """Exit `code`, exactly one line on stderr starting "error: ", naming every fragment."""
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def fresh_process() -> None:
    """Each command starts as a new process would: chromadb caches one client per folder
    (open files included), which would carry a damaged or replaced store over."""
    from vectorstore import forget_open_clients

    forget_open_clients()


def assert_safe_answer(out: dict) -> None:
    """A contract-shaped answer: cited markers exist among the sources, abstention says so."""
    source_ids = {s["paper_id"] for s in out["sources"]}
    assert {c["paper_id"] for c in out["citations"]} <= source_ids
    for citation in out["citations"]:
        assert f"[{citation['marker']}]" in out["answer"]
    if out["abstained"]:
        assert out["citations"] == [] and "corpus" in out["answer"].lower()
    else:
        assert out["citations"]


class Commands:
    def __init__(self):
        self.runner = CliRunner()

    def ask(self, *args: str, input: str | None = None):
        fresh_process()
        return self.runner.invoke(ask_command, list(args), input=input, catch_exceptions=False)

    def rag(self, *args: str):
        fresh_process()
        return self.runner.invoke(rag_group, list(args), catch_exceptions=False)

    def ask_json(self, *args: str) -> dict:
        result = self.ask("--json", *args)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    def papers(self, *args: str) -> int:
        result = self.rag("stats", "--json", *args)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)["papers"]


@pytest.fixture
def cmd(fake_models, small_corpus, monkeypatch) -> Commands:
    monkeypatch.setenv("RAG_CORPUS", str(small_corpus))
    return Commands()


@pytest.fixture
def indexed(cmd) -> Commands:
    """`cmd` with the small corpus already indexed (4 papers)."""
    result = cmd.rag("ingest", "--quiet")
    assert result.exit_code == 0, result.output
    return cmd
