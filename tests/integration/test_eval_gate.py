"""CI gate: the dev-set ranking (sources as `ask` shows them, and hybrid retrieval) must not fall more than the tolerance below evals/baseline.json.

A retrieval-only `rag eval` of evals/qa/dev.jsonl (no answers generated, a few seconds) on an
index of the shipped corpus built by the real model (the shared `shipped_index`).
"""

import json

import pytest

from fakes import PROJECT
from evals.harness import run_eval
from rag.settings import Settings

pytestmark = pytest.mark.integration
BASELINE = json.loads((PROJECT / "evals/baseline.json").read_text())


def test_dev_set_ranking_holds_the_recorded_baseline(shipped_index, tmp_path):
    # The dev set's stand-alone questions: a chain's later turns are answered over the papers of
    # the turns before them (the working set), which a retrieval-only run cannot reproduce.
    lines = (PROJECT / BASELINE["qa"]).read_text().splitlines()
    questions = tmp_path / "dev-questions.jsonl"
    questions.write_text("".join(line + "\n" for line in lines if line.strip() and '"chain"' not in line))
    report = run_eval(Settings.build(env={}, index_dir=shipped_index), questions, retrieval_only=True)
    tolerance = BASELINE["tolerance"]
    fallen = {f"{mode} {name}": (recorded, report["overall"]["retrieval"][mode][name]["value"])
              for mode, figures in BASELINE["gated"].items() for name, recorded in figures.items()
              if report["overall"]["retrieval"][mode][name]["value"] < recorded - tolerance}
    assert not fallen, "ranking fell below evals/baseline.json: " + ", ".join(
        f"{name} {got:.4f} < {recorded:.4f} - {tolerance}" for name, (recorded, got) in fallen.items())
    assert "answers" not in report["overall"]  # retrieval-only: nothing was generated
