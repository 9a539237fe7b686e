"""Fake LLMs for tests: an in-process backend and two tiny HTTP servers.

- `FakeBackend` records every prompt and replays queued replies, streamed in small pieces.
- `fake_openai_server` / `fake_ollama_server` speak the streaming endpoints our
  integrations call (OpenAI `/v1/chat/completions` as server-sent events, Ollama `/api/chat`
  as JSON lines) on 127.0.0.1, so the real client libraries are exercised without a model.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator


def free_port() -> int:
    """A port nothing listens on (a server that is down, or one about to start)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FakeBackend:
    name = "fake:llm"

    def __init__(self, *replies: str, context_tokens: int = 4096, piece: int = 7):
        self.replies = list(replies)
        self.prompts: list[list[dict[str, str]]] = []
        self.context_tokens = context_tokens
        self.piece = piece
        self.pieces_sent = 0

    def queue(self, *replies: str) -> None:
        self.replies.extend(replies)

    def stream(self, messages) -> Iterator[str]:
        self.prompts.append(messages)
        reply = self.replies.pop(0)
        for start in range(0, len(reply), self.piece):
            self.pieces_sent += 1
            yield reply[start:start + self.piece]


@contextmanager
def serve(handler_class) -> Iterator[tuple[str, list]]:
    requests: list = []
    handler_class.requests = requests
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_class)
    server.daemon_threads = True
    server.handle_error = lambda request, address: None  # a client hanging up mid-reply is a test case, not noise
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requests
    finally:
        server.shutdown()
        server.server_close()


class _Handler(BaseHTTPRequestHandler):
    requests: list
    reply = "Hello [1]."
    status = 200
    error_body = ""
    delay_s = 0.0

    def log_message(self, *args):  # keep test output clean
        pass

    def read_json(self) -> dict:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        self.requests.append({"path": self.path, "body": body, "headers": dict(self.headers)})
        return body

    def send_error_body(self) -> None:
        data = self.error_body.encode()
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def pieces(self) -> list[str]:
        return [self.reply[i:i + 5] for i in range(0, len(self.reply), 5)]


def openai_handler(reply: str = "Hello [1].", status: int = 200, error_body: str = "", delay_s: float = 0.0):
    class Handler(_Handler):
        def do_POST(self):
            body = self.read_json()
            if self.delay_s:
                time.sleep(self.delay_s)
            if self.status != 200:
                return self.send_error_body()
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for piece in self.pieces():
                chunk = {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": body.get("model"),
                         "choices": [{"index": 0, "delta": {"role": "assistant", "content": piece}, "finish_reason": None}]}
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.flush()
            end = {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": body.get("model"),
                   "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
            self.wfile.write(f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n".encode())

    Handler.reply, Handler.status, Handler.error_body, Handler.delay_s = reply, status, error_body, delay_s
    return Handler


def ollama_handler(reply: str = "Hello [1].", models: tuple[str, ...] = ("tiny",)):
    class Handler(_Handler):
        def do_POST(self):
            body = self.read_json()
            if self.path != "/api/chat":
                self.status, self.error_body = 404, json.dumps({"error": "not found"})
                return self.send_error_body()
            if body.get("model") not in models:
                self.status, self.error_body = 404, json.dumps({"error": f"model '{body.get('model')}' not found"})
                return self.send_error_body()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ndjson")
            self.end_headers()
            for piece in self.pieces():
                line = {"model": body["model"], "created_at": "2026-01-01T00:00:00Z",
                        "message": {"role": "assistant", "content": piece}, "done": False}
                self.wfile.write((json.dumps(line) + "\n").encode())
                self.wfile.flush()
            last = {"model": body["model"], "created_at": "2026-01-01T00:00:00Z", "message": {"role": "assistant", "content": ""},
                    "done": True, "done_reason": "stop", "total_duration": 1, "prompt_eval_count": 1, "eval_count": 1}
            self.wfile.write((json.dumps(last) + "\n").encode())

    Handler.reply = reply
    return Handler
