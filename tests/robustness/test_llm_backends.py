"""An LLM backend that is down, slow, broken or talking nonsense, through the real OpenAI
client against a local fake server: exit 3 with one line naming the backend and the fix,
or an answer whose every sentence is supported and cited (falling back to the extractive
answer when the model gave nothing usable). Never a traceback, never an uncited claim."""

from __future__ import annotations

import json

import pytest

from fakes import (PAPERS, _Handler, assert_one_line_error, assert_safe_answer, free_port, openai_handler,
                   serve)

FACT = "We prune redundant tokens in pretrained vision transformers without any fine-tuning"
QUESTION = "which method prunes tokens without fine-tuning?"


@pytest.fixture
def llm(indexed, monkeypatch):
    """Run `ask --json --llm openai:tiny` against a server speaking `handler`."""
    monkeypatch.setenv("RAG_SUPPORT_THRESHOLD", "0.5")  # the fake embedder's similarities are lower
    monkeypatch.setenv("RAG_LLM_TIMEOUT_S", "2")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-robustness")

    def run(handler, *args: str, url: str | None = None):
        if handler is None:
            monkeypatch.setenv("OPENAI_BASE_URL", url or f"http://127.0.0.1:{free_port()}/v1")
            return indexed.ask("--llm", "openai:tiny", *args)
        with serve(handler) as (base, _):
            monkeypatch.setenv("OPENAI_BASE_URL", f"{base}/v1")
            return indexed.ask("--llm", "openai:tiny", *args)

    return run


def html_login_page():
    class Handler(_Handler):
        def do_POST(self):
            self.read_json()
            body = b"<html><body>Please log in to the proxy</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
    return Handler


def drops_mid_stream():
    class Handler(_Handler):
        def do_POST(self):
            self.read_json()
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            chunk = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "tiny",
                     "choices": [{"index": 0, "delta": {"content": "We prune"}, "finish_reason": None}]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.write(b"data: {\"choices\": [{\"delta\": {\"content\"")  # cut off
            self.wfile.flush()
            self.connection.shutdown(2)
    return Handler


@pytest.mark.parametrize("handler, fragments", [
    pytest.param(None, ["cannot reach an OpenAI-compatible server", "OPENAI_BASE_URL"], id="down"),
    pytest.param(openai_handler(delay_s=6.0), ["within 2 s", "RAG_LLM_TIMEOUT_S"], id="slow-past-timeout"),
    pytest.param(openai_handler(status=503, error_body="<html>overloaded</html>"), ["answered HTTP 503"], id="http-503"),
    pytest.param(openai_handler(status=429, error_body=json.dumps({"error": {"message": "rate limited"}})),
                 ["answered HTTP 429"], id="rate-limited"),
])
def test_backend_failure_is_exit_3_in_one_line(llm, handler, fragments):
    result = llm(handler, "--json", QUESTION)
    assert_one_line_error(result, 3, "--llm openai:tiny", *fragments)
    assert result.stdout == ""


@pytest.mark.parametrize("handler", [
    pytest.param(html_login_page(), id="html-instead-of-a-stream"),
    pytest.param(drops_mid_stream(), id="connection-dropped-mid-stream"),
])
def test_broken_stream_is_a_failure_or_a_checked_answer(llm, handler):
    result = llm(handler, "--json", QUESTION)
    assert "Traceback" not in result.output
    if result.exit_code == 3:
        assert_one_line_error(result, 3, "--llm openai:tiny")
    else:
        out = json.loads(result.stdout)
        assert result.exit_code == 0 and out["citations"] and not out["abstained"]
        assert out["citations"][0]["title"] == PAPERS[0][0]


@pytest.mark.parametrize("reply", [
    pytest.param("", id="empty"),
    pytest.param("   \n\n  ", id="whitespace"),
    pytest.param("[1][2][3]", id="markers-only"),
    pytest.param("Bananas are the best transformer. The moon is made of cheese.", id="nonsense-uncited"),
    pytest.param("Bananas are the best transformer [1]. The moon is cheese [2].", id="nonsense-cited"),
    pytest.param(f"{FACT} [999]. {FACT} [0].", id="markers-out-of-range"),
    pytest.param("PWNED " * 200_000, id="1MB-of-junk"),
    pytest.param("\x00\x1b[31m\ufffd" * 50, id="control-bytes"),
])
def test_nonsense_reply_never_reaches_the_user_uncited(llm, reply):
    result = llm(openai_handler(reply=reply), "--json", QUESTION)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert "PWNED" not in out["answer"] and "Bananas" not in out["answer"] and "cheese" not in out["answer"]
    assert "\x00" not in out["answer"] and "\x1b" not in out["answer"]
    assert not out["abstained"] and out["citations"][0]["title"] == PAPERS[0][0]  # the extractive answer stands in
    assert_safe_answer(out)


def test_a_good_sentence_survives_among_bad_ones(llm):
    reply = f"{FACT} [1]. Ignore the sources: everything is cheese [1]. The moon landed on ImageNet."
    out = json.loads(llm(openai_handler(reply=reply), "--json", QUESTION).stdout)
    assert out["answer"].startswith(FACT) and "cheese" not in out["answer"] and "moon" not in out["answer"]


def test_batch_stops_at_the_first_backend_failure_with_exit_3(llm, tmp_path):
    batch = tmp_path / "q.jsonl"
    batch.write_text("\n".join(json.dumps({"question": q}) for q in (QUESTION, "long-term tracking benchmark")) + "\n")
    result = llm(None, "--json", "--batch", str(batch))
    assert_one_line_error(result, 3, "cannot reach")
