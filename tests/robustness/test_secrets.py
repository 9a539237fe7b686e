"""An OpenAI API key never reaches a user, a log, a report or an exception.

A hostile OpenAI-compatible server echoes the key it was sent (its `Authorization` header)
back: in a streamed reply, in a 401 / 500 error body, in an error event inside the stream.
Every way of asking (`ask` text, --json, --batch, `rag eval`, the UI's API, a real `ask`
process) then runs against it, and stdout, stderr, Python logging (DEBUG), every file
written under the test's folder and any exception are searched for the key, its random
part and its base64 form.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import subprocess
import sys
import traceback
from pathlib import Path

import pytest
from click.testing import CliRunner

from fakes import PAPERS, free_port, openai_handler, serve
from rag.cli import ask_command, rag_group

KEY = "sk-test-" + secrets.token_hex(16)
LEAK_FORMS = (KEY, KEY.removeprefix("sk-test-"), base64.b64encode(KEY.encode()).decode())
FACT = "We prune redundant tokens in pretrained vision transformers without any fine-tuning"
QUESTION = "token pruning without fine-tuning"
MASK = "***"


def leaked(text: str | bytes) -> list[str]:
    if isinstance(text, bytes):
        return [form for form in LEAK_FORMS if form.encode() in text]
    return [form for form in LEAK_FORMS if form in text]


def assert_no_key(**places: str | bytes) -> None:
    found = {name: leaked(text) for name, text in places.items() if leaked(text)}
    assert not found, f"the API key leaked into {sorted(found)}"


def files_under(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def exception_text(exc_info) -> str:
    """str, repr and the formatted traceback of a raised exception ('' when none)."""
    if not exc_info or exc_info[1] is None:
        return ""
    exc = exc_info[1]
    return f"{exc}\n{exc!r}\n" + "".join(traceback.format_exception(*exc_info))


def hostile_handler():
    """An OpenAI-compatible server that echoes the Authorization header it receives.

    `mode` (or each of `modes` in turn): "reply" (a cited sentence, then one quoting the
    header, streamed in 5-character pieces so the key arrives split), "401" / "500" (an
    error body quoting it), or "stream-error" (HTTP 200, then an error event quoting it, as
    OpenAI sends one mid-stream)."""

    class Hostile(openai_handler()):
        mode = "reply"
        modes: list[str] = []  # modes for the next requests, in order, before `mode` again

        def do_POST(self):
            body = self.read_json()
            mode = self.modes.pop(0) if self.modes else self.mode
            auth = self.headers.get("Authorization", "")
            echo = f"Incorrect API key provided: {auth.removeprefix('Bearer ')} (you sent {auth!r})"
            if mode in ("401", "500"):
                self.status = int(mode)
                self.error_body = json.dumps({"error": {"message": echo, "type": "invalid_request_error",
                                                        "code": "invalid_api_key", "header": auth}})
                return self.send_error_body()
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            if mode == "stream-error":
                self.wfile.write(f"data: {json.dumps({'error': {'message': echo}})}\n\n".encode())
                return
            reply = f"{FACT} [1]. The server was sent {auth} [1]."
            for start in range(0, len(reply), 5):
                chunk = {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": body.get("model"),
                         "choices": [{"index": 0, "delta": {"content": reply[start:start + 5]}, "finish_reason": None}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
            self.wfile.write(b"data: [DONE]\n\n")

    return Hostile


@pytest.mark.parametrize("piece", [1, 2, 5, 9, 1000])
def test_stream_redaction_catches_a_key_split_anywhere_and_loses_no_text(piece):
    from rag.backends import redact, redact_stream
    from rag.settings import Settings

    settings = Settings.build(env={}, openai_api_key=KEY)
    text = f"a{KEY}b {KEY}{KEY} sk-test-{KEY} ends with the key's start: {KEY[:12]}"
    pieces = [text[i:i + piece] for i in range(0, len(text), piece)]
    assert "".join(redact_stream(pieces, settings)) == redact(text, settings) == (
        f"a{MASK}b {MASK}{MASK} sk-test-{MASK} ends with the key's start: {KEY[:12]}")


@pytest.fixture
def hostile():
    """(base URL ending in /v1, the handler class: set .mode, read .requests)."""
    handler = hostile_handler()
    with serve(handler) as (url, _):
        yield f"{url}/v1", handler


@pytest.fixture
def run_cli(fake_models, small_corpus, monkeypatch, caplog):
    """run_cli(command, *args, base_url=...) in-process, on the small corpus indexed by the fake
    encoder, with the key in OPENAI_API_KEY and Python logging captured at DEBUG."""
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("RAG_CORPUS", str(small_corpus))
    monkeypatch.setenv("RAG_SUPPORT_THRESHOLD", "0.5")  # the fake embedder's similarities are lower
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    result = CliRunner().invoke(rag_group, ["ingest", "--quiet"])
    assert result.exit_code == 0, result.output

    def run(command, *args: str, base_url: str):
        monkeypatch.setenv("OPENAI_BASE_URL", base_url)
        return CliRunner().invoke(command, list(args))  # exceptions are kept in result.exc_info

    return run


def assert_key_was_sent(handler) -> None:
    """The server did get the key: otherwise 'no leak' would prove nothing."""
    assert handler.requests and handler.requests[-1]["headers"]["Authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize("args", [["--json"], ["--no-stream"], ["--stream"]], ids=["json", "text", "stream"])
def test_ask_with_a_reply_that_echoes_the_key(run_cli, hostile, caplog, tmp_path, args):
    url, handler = hostile
    result = run_cli(ask_command, "--llm", "openai:tiny", *args, QUESTION, base_url=url)
    assert result.exit_code == 0, result.output
    assert_key_was_sent(handler)
    assert result.stdout.startswith(f"{FACT} [1].") or json.loads(result.stdout)["answer"] == f"{FACT} [1]."
    if "--json" in args:  # the echoing sentence is kept, unsupported, in the JSON: masked
        out = json.loads(result.stdout)
        assert out["sentences"][1]["supported"] is False and f"Bearer {MASK}" in out["sentences"][1]["text"]
        assert out["model_output"].endswith(f"The server was sent Bearer {MASK} [1].")
    assert_no_key(stdout=result.stdout, stderr=result.stderr, logs=caplog.text,
                  exception=exception_text(result.exc_info), **files_under(tmp_path))


def test_ask_batch_with_a_reply_that_echoes_the_key(run_cli, hostile, caplog, tmp_path):
    url, handler = hostile
    batch = tmp_path / "questions.jsonl"
    batch.write_text(json.dumps({"question": QUESTION}) + "\n"
                     + json.dumps({"question": "is training needed?", "history": [QUESTION]}) + "\n")
    result = run_cli(ask_command, "--llm", "openai:tiny", "--batch", str(batch), "--json", base_url=url)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == 2 and lines[0]["answer"] == f"{FACT} [1]."
    assert len(handler.requests) == 3  # the answer; the follow-up's rewrite, then its answer
    assert lines[1]["retrieval_query"].endswith(f"The server was sent Bearer {MASK} [1].")  # the rewrite, masked
    assert_key_was_sent(handler)
    assert_no_key(stdout=result.stdout, stderr=result.stderr, logs=caplog.text,
                  exception=exception_text(result.exc_info), **files_under(tmp_path))


@pytest.mark.parametrize("mode, fragment", [
    ("401", "refused the API key (HTTP 401): check OPENAI_API_KEY"),
    ("500", "answered HTTP 500: check the server's log"),
    ("stream-error", "check the server's log"),
    ("down", "cannot reach an OpenAI-compatible server"),
])
def test_ask_failures_echoing_the_key_exit_3_with_one_clean_line(run_cli, hostile, caplog, tmp_path,
                                                                 mode, fragment):
    url, handler = hostile
    handler.mode = mode
    if mode == "down":
        url = f"http://127.0.0.1:{free_port()}/v1"
    result = run_cli(ask_command, "--llm", "openai:tiny", QUESTION, base_url=url)
    assert result.exit_code == 3, (result.output, exception_text(result.exc_info))
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --llm openai:tiny: ") and fragment in lines[0], result.stderr
    if mode != "down":
        assert_key_was_sent(handler)
    assert_no_key(stdout=result.stdout, stderr=result.stderr, logs=caplog.text,
                  exception=exception_text(result.exc_info), **files_under(tmp_path))


def test_eval_report_and_run_folder_never_hold_the_key(run_cli, hostile, caplog, tmp_path):
    url, handler = hostile
    qa = tmp_path / "qa.jsonl"
    qa.write_text(json.dumps({"id": "q1", "question": QUESTION, "type": "single", "gold_titles": [PAPERS[0][0]],
                              "answer_points": ["40 percent"]}) + "\n"
                  + json.dumps({"id": "q2", "question": "sourdough hydration and bulk fermentation",
                                "type": "unanswerable", "gold_titles": []}) + "\n")
    runs = tmp_path / "runs"
    result = run_cli(rag_group, "eval", "--qa", str(qa), "--llm", "openai:tiny", "--out", str(runs), base_url=url)
    assert result.exit_code == 0, (result.output, exception_text(result.exc_info))
    assert_key_was_sent(handler)
    (folder,) = runs.iterdir()
    report = json.loads((folder / "report.json").read_text())
    assert report["run"]["settings"]["openai_api_key"] == "**********"  # pydantic's mask for a SecretStr
    q1 = report["questions"][0]
    assert q1["answer"] == f"{FACT} [1]." and MASK in q1["sentences"][1]["text"]  # the echo, masked
    assert {p.name for p in folder.iterdir()} == {"report.json", "report.md", "plot.png"}
    assert_no_key(stdout=result.stdout, stderr=result.stderr, logs=caplog.text,
                  exception=exception_text(result.exc_info), **files_under(tmp_path))


def test_ui_api_never_shows_the_key(fake_encoder, small_corpus, hostile, caplog, capfd, tmp_path):
    gradio_client = pytest.importorskip("gradio_client")
    from rag.corpus import CorpusReader
    from rag.ingest import ingest
    from rag.pipeline import Pipeline
    from rag.settings import Settings
    from ui.app import ChatApp

    caplog.set_level(logging.DEBUG)
    url, handler = hostile
    settings = Settings.build(env={}, corpus=[small_corpus], index_dir=tmp_path / "ui-index", llm="openai:tiny",
                              openai_api_key=KEY, openai_base_url=url, support_threshold=0.5)
    ingest(settings, CorpusReader(settings.corpus), progress=False, encoder=fake_encoder)
    app = ChatApp(settings, make_pipeline=lambda spec: Pipeline(settings.model_copy(update={"llm": spec}),
                                                                encoder=fake_encoder, progress=False))
    try:
        client = gradio_client.Client(app.launch(port=free_port(), block=False), verbose=False)
        seen = {}
        for mode in ("reply", "401", "500", "stream-error"):
            handler.mode = mode
            seen[mode] = (client.predict(QUESTION, api_name="/ask"),
                          client.predict(QUESTION, "openai:tiny", 5, [], False, api_name="/chat"))
    finally:
        app.close()
    assert_key_was_sent(handler)
    answer, (message, panel) = seen["reply"]
    assert answer["answer"] == f"{FACT} [1]." and f"Bearer {MASK}" in answer["model_output"]
    assert message.startswith(f"{FACT} [[1]](#a1-s1).")
    assert seen["401"][0] == {"error": "⚠️ The answer backend is not available: --llm openai:tiny: "
                                       f"{url} refused the API key (HTTP 401): check OPENAI_API_KEY"}
    for mode in ("401", "500", "stream-error"):
        answer, (message, _) = seen[mode]
        assert message == answer["error"] and message.startswith("⚠️ The answer backend is not available: --llm openai:tiny: ")
    out, err = capfd.readouterr()
    assert_no_key(results=json.dumps(seen, ensure_ascii=False), logs=caplog.text, stdout=out, stderr=err,
                  **files_under(tmp_path))


def test_real_ask_process_with_library_logging_on(small_corpus, hostile, tmp_path):
    """`ask` as a user runs it (the real bundled embedder builds the index on first use), with
    the OpenAI client's own debug logging and every Python warning on, so whatever the
    libraries print lands in the captured stderr too. One process (the model loads once): a
    batch whose first answer echoes the key and whose second gets an echoing error event."""
    url, handler = hostile
    handler.modes = ["reply", "stream-error"]
    batch = tmp_path / "questions.jsonl"
    batch.write_text(json.dumps({"question": QUESTION}) + "\n"
                     + json.dumps({"question": "which method prunes tokens without fine-tuning?"}) + "\n")
    env = {**os.environ, "OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": url, "OPENAI_LOG": "debug",
           "PYTHONWARNINGS": "always", "RAG_CORPUS": str(small_corpus), "RAG_INDEX_DIR": str(tmp_path / "index"),
           "RAG_SUPPORT_THRESHOLD": "0.5"}
    ask = Path(sys.executable).parent / "ask"
    done = subprocess.run([str(ask), "--llm", "openai:tiny", "--json", "--batch", str(batch)], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 3, done.stderr
    assert json.loads(done.stdout)["answer"] == f"{FACT} [1]."  # the first answer, then the failure
    assert done.stderr.strip().splitlines()[-1].startswith("error: --llm openai:tiny: ")
    assert "Traceback" not in done.stderr and "openai._base_client" in done.stderr  # its debug log was on
    assert_key_was_sent(handler)
    assert handler.modes == []  # both requests were made
    assert_no_key(stdout=done.stdout, stderr=done.stderr, **files_under(tmp_path))
