"""Fixtures for the bad-input suite: the real `ask` / `rag` commands in-process (click's
runner; fake embedder, real Chroma and BM25) on a small corpus. The checks every refusal and
answer must pass (`assert_one_line_error`, `assert_safe_answer`) are in tests/fakes.py."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from rag.cli import ask_command, rag_group


def fresh_process() -> None:
    """Each command starts as a new process would: chromadb caches one client per folder
    (open files included), which would carry a damaged or replaced store over."""
    from vectorstore import forget_open_clients

    forget_open_clients()


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
