"""Odd questions and flags for `ask`: each is refused in one line with exit 2, or answered
safely (exit 0, a valid answer whose citations are among its sources)."""

from __future__ import annotations

import json

import pytest

from fakes import PAPERS, assert_one_line_error, assert_safe_answer

TEN_MB = "token pruning " * (10 * 1024 * 1024 // 14)


@pytest.mark.parametrize("args, fragments", [
    pytest.param([""], ["empty question"], id="empty"),
    pytest.param([" \n\t \u3000 "], ["empty question"], id="whitespace-only"),
    pytest.param(["\x00\x01\x1b\x7f"], ["empty question"], id="control-characters-only"),
    pytest.param([TEN_MB], [f"{len(TEN_MB):,} characters", "limit is 2,000", "RAG_MAX_QUESTION_CHARS"], id="10MB"),
    pytest.param(["--k", "0", "token pruning"], ["--k", "greater than or equal to 1"], id="k-0"),
    pytest.param(["--k", "-3", "token pruning"], ["--k", "greater than or equal to 1"], id="k-negative"),
    pytest.param(["--k", "100000", "token pruning"], ["--k", "less than or equal to 200"], id="k-100000"),
    pytest.param(["--history", "", "and which are faster?"], ["--history", "empty"], id="empty-history"),
    pytest.param(["--llm", "gpt4", "q"], ["unknown --llm spec", "extractive"], id="unknown-llm"),
    pytest.param(["--source", "no-such-file.txt", "token pruning"], ["no-such-file.txt", "a.txt"], id="unknown-source"),
])
def test_refused_in_one_line(indexed, args, fragments):
    assert_one_line_error(indexed.ask(*args), 2, *fragments)
    assert indexed.papers() == len(PAPERS)


def test_10mb_question_in_a_batch_file_is_refused_before_any_answer(cmd, tmp_path):
    batch = tmp_path / "q.jsonl"
    batch.write_text(json.dumps({"question": "token pruning"}) + "\n" + json.dumps({"question": TEN_MB}) + "\n")
    result = cmd.ask("--batch", str(batch), "--json")
    assert_one_line_error(result, 2, "q.jsonl:2", "limit is 2,000")
    assert result.stdout == ""


def test_k_at_its_limit_returns_every_paper_once(cmd):
    out = cmd.ask_json("--k", "200", "token pruning without fine-tuning")
    ids = [s["paper_id"] for s in out["sources"]]
    assert len(ids) == len(set(ids)) == len(PAPERS)  # the corpus has 4 papers: all of them, no repeats
    assert_safe_answer(out)


@pytest.mark.parametrize("question", [
    pytest.param("视觉 Transformer 中无需微调的 token 剪枝方法有哪些？", id="chinese"),
    pytest.param("ما هي طرق تقليم الرموز دون ضبط دقيق؟ token pruning", id="arabic-mixed"),
    pytest.param("🤖🔥 token pruning 🚀 without fine-tuning ✂️", id="emoji"),
    pytest.param("ＴＯＫＥＮ ｐｒｕｎｉｎｇ (full-width)", id="full-width"),
    pytest.param("token\u202epruning\u202c without fine\u200dtuning", id="bidi-overrides"),
    pytest.param("'; DROP TABLE papers; -- token pruning", id="sql-looking"),
    pytest.param("{{7*7}} ${HOME} %s %(x)s token pruning", id="template-looking"),
    pytest.param("?" * 500, id="punctuation-only"),
])
def test_odd_scripts_get_a_safe_answer(cmd, question):
    out = cmd.ask_json(question)
    assert_safe_answer(out)
    assert cmd.papers() == len(PAPERS)  # nothing in the index was touched


def test_control_characters_are_cleaned_and_the_paper_found(cmd):
    out = cmd.ask_json("token\x00 pruning\x1b[31m without\u200b fine-tuning\r\n")
    assert "\x00" not in out["question"] and "\x1b" not in out["question"]
    assert out["sources"][0]["title"] == PAPERS[0][0]
    assert_safe_answer(out)


def test_question_from_outside_the_corpus_abstains(cmd):
    out = cmd.ask_json("what is the boiling point of tungsten hexafluoride at sea level?")
    assert out["abstained"] is True
    assert_safe_answer(out)
