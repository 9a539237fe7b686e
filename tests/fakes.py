"""Shared test fakes and sample data; test modules import them (`from fakes import …`),
conftest.py files hold only fixtures.

- `FakeEncoder`: a deterministic embedder (hashed words), so unit tests run the real Chroma
  store, BM25, fusion and answer assembly without loading a model.
- `PAPERS`, `LONG`, `daily_dump`, `record`, `write_jsonl`: small corpora in the formats
  docs/contracts.md §1 describes (page dumps, arXiv-snapshot lines).
- `FakeBackend` records every prompt and replays queued replies, streamed in small pieces.
- `serve(openai_handler(…))` / `serve(ollama_handler(…))` speak the streaming endpoints our
  integrations call (OpenAI `/v1/chat/completions` as server-sent events, Ollama `/api/chat`
  as JSON lines) on 127.0.0.1, so the real client libraries are exercised without a model.
- `assert_one_line_error`, `assert_safe_answer`: the checks every refusal and every answer
  must pass (docs/contracts.md §2–3).
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator

import numpy as np

PROJECT = Path(__file__).resolve().parent.parent
SHIPPED_CORPUS = PROJECT / "corpus"


class FakeEncoder:
    """Bag of hashed, lower-cased words; L2-normalised. Records what it encoded."""

    name = "fake-hash-encoder"
    dim = 64
    max_tokens = 128

    def __init__(self):
        self.calls: list[list[str]] = []

    def count_tokens(self, text: str) -> int:
        return len(text.split()) + 2

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        self.calls.append(list(texts))
        return self.vectors(texts)

    def encode_with_spans(self, texts: list[str], spans, batch_size: int = 32):
        """Like a real encoder's one pass: the texts are encoded (and recorded), each span's
        vector comes with them (here: its words hashed)."""
        self.calls.append(list(texts))
        return self.vectors(texts), [self.vectors([t[s:e] for s, e in sp]) for t, sp in zip(texts, spans)]

    def vectors(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                digest = hashlib.md5(word.encode()).digest()
                out[row, digest[0] % self.dim] += 1.0 if digest[1] % 2 else -1.0
            norm = np.linalg.norm(out[row])
            out[row] = out[row] / norm if norm else out[row]
        return out

    @property
    def texts_encoded(self) -> int:
        return sum(len(c) for c in self.calls)


LONG = " ".join(f"Sentence number {i} explains one more detail of the sparse attention method." for i in range(30))

PAPERS = [
    ("Zero-Shot Token Pruning for Vision Transformers",
     "We prune redundant tokens in pretrained vision transformers without any fine-tuning, "
     "ranking tokens by attention importance and similarity. Our method speeds up inference "
     "by 40 percent with negligible accuracy loss on ImageNet. Code is available at https://github.com/x/prune."),
    ("Large-Scale Benchmark for Long-Term Object Tracking",
     "We present a benchmark of 1,400 long videos for single object tracking with dense "
     "bounding-box annotations. Each video lasts more than two minutes on average and the "
     "benchmark covers seventy object categories for evaluating trackers."),
    ("Speech Enhancement with Multichannel Subgroup Transformers",
     "We enhance noisy multichannel speech recordings with transformer blocks that process "
     "subgroups of microphone features. The model improves perceptual quality and reduces "
     "computational cost compared with previous multichannel speech enhancement systems."),
    ("Sparse Attention for Long Documents", LONG),
]


def daily_dump(papers, layout: str = "blank", date: str = "Jun 6") -> str:
    """A page dump as docs/contracts.md §1 describes, in either layout."""
    chrome = ["new", "Get trending papers in your email inbox!", "Subscribe", "Daily Papers",
              "byAK and the research community", date]
    body = [line for title, abstract in papers for line in (title, abstract)]
    if layout == "glued":  # first title glued to Subscribe, no blank lines
        chrome = ["Get trending papers in your email inbox once a day!", "Get trending papers in your email inbox!"]
        body[0] = "Subscribe" + body[0]
        return "\n".join(chrome + body) + "\n"
    sep = "\n\n" if layout == "blank" else "\n"
    return sep.join(chrome + body) + "\n"


WORDS = ("graph", "speech", "tracking", "pruning", "molecule", "retrieval", "diffusion", "protein")


def record(n: int, version: int | None = None, categories: str = "cs.CL", date: str = "2023-05-01", **extra) -> dict:
    """One line of the arXiv metadata snapshot (its real fields), with hard-wrapped text."""
    topic = WORDS[n % len(WORDS)]
    rec = {
        "id": f"2305.{n:05d}" + (f"v{version}" if version else ""),
        "submitter": "A. Author", "authors": "A. Author and B. Author",
        "title": f"  A study of {topic} number {n}\n  with transformers",
        "comments": "10 pages", "journal-ref": None, "doi": None, "report-no": None,
        "categories": categories, "license": None,
        "abstract": f"  We study {topic} problem {n} with a new transformer model.\nIt improves the\n"
                    f"state of the art on {topic} benchmarks by a wide margin. Version {version or 1}.\n",
        "versions": [{"version": "v1", "created": "Mon, 1 May 2023 10:00:00 GMT"}],
        "update_date": date,
        "authors_parsed": [["Author", "A.", ""], ["Author", "B.", ""]],
    }
    rec.update(extra)
    return rec


def write_jsonl(path: Path, records: list[dict | str]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))
    return path


def assert_one_line_error(result, code: int, *fragments: str) -> str:
    """Exit `code`, exactly one line on stderr starting "error: ", naming every fragment."""
    assert result.exit_code == code, (result.exit_code, result.output, result.exception)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


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


def fake_pipeline(corpus: Path, index_dir: Path, encoder):
    """A pipeline over `corpus` ingested with the fake encoder, its thresholds set for the fake's
    scale (every question answered, a list names every paper within half the best one's lead)."""
    from rag.corpus import CorpusReader
    from rag.ingest import ingest
    from rag.pipeline import Pipeline
    from rag.settings import Settings

    settings = Settings.build(corpus=[corpus], index_dir=index_dir, abstain_threshold=0.0,
                              list_min_strength=0.0, list_relative=0.5, list_min_coverage=0.0)
    ingest(settings, CorpusReader(settings.corpus), progress=False, encoder=encoder)
    return Pipeline(settings, encoder=encoder, backend=None, progress=False)


def cited_names(answer) -> set[str]:
    """The short names ("PruneFree") of the papers an answer cites."""
    return {c.title.split(":")[0] for c in answer.citations}

