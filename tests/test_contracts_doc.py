"""docs/contracts.md stays current: every field `ask --json` can emit, every QA item type and
every exit code is named there. A field added to the code without its line in the contract
fails here."""

from __future__ import annotations

import re

from fakes import PROJECT
from rag.errors import BackendUnavailable, UsageError
from rag.records import Answer, Citation, Hit, Paper

CONTRACT = (PROJECT / "docs" / "contracts.md").read_text(encoding="utf-8")


def every_field_set() -> dict:
    paper = Paper("p1", "A title", "An abstract.", sources=["a.txt"], code_url="https://x", metadata={"year": 2024})
    hit = Hit(1, paper, 1.0, 0.5, 2.0, "p1:0", "An abstract.", evidence=[{"text": "An abstract.", "score": 0.5}])
    answer = Answer("q?", "An answer [1].", False, [Citation(1, "p1", "A title")], [hit], "gguf:m",
                    {"retrieve": 1.0, "total": 2.0}, stamp={"settings": "x"}, retrieval_query="q2", support=1.0,
                    abstain_reason="model", sentences=[{"text": "An answer [1]."}], fallback="extractive",
                    sources_seen=[1], prompt_tokens=10, model_output="An answer [1].", shape="list",
                    matches={"count": 1, "shown": 1, "paper_ids": ["p1"]}, working_set=[])
    return answer.to_json()


def named(field: str) -> bool:
    return re.search(rf"`{re.escape(field)}[`:]", CONTRACT) is not None or f'"{field}"' in CONTRACT


def test_every_ask_json_field_is_in_the_contract():
    out = every_field_set()
    fields = set(out) | set(out["sources"][0]) | set(out["citations"][0]) | set(out["matches"])
    fields |= set(out["sources"][0]["evidence"][0])
    assert sorted(f for f in fields if not named(f)) == []


def test_every_qa_type_and_exit_code_is_in_the_contract():
    from evals.qaset import TYPES

    assert f'"type": "{"|".join(TYPES)}"' in CONTRACT
    for code in (0, UsageError.exit_code, BackendUnavailable.exit_code, 130):
        assert f"| {code} |" in CONTRACT


def test_nothing_points_outside_the_repository():
    hits = []
    for path in PROJECT.rglob("*"):
        parts = path.relative_to(PROJECT).parts
        if not path.is_file() or parts[0] in (".git", ".venv", "index", "test-artifacts") or "__pycache__" in parts \
                or any(p.endswith(".egg-info") for p in parts) \
                or path.suffix not in (".py", ".md", ".toml", ".txt", ".cfg", "") and path.name != "Makefile":
            continue  # (an .egg-info folder is pip's copy of an older README, rewritten at install)
        text = path.read_text(encoding="utf-8", errors="replace")
        hits += [f"{path.relative_to(PROJECT)}: {m}" for m in re.findall(r"\.\./shared\S*|\bCONTRACTS\.md\S*", text)]
    assert hits == []
