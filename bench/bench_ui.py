"""UI load benchmark: many chats at once through the Gradio queue, extractive backend.

Starts the app in this process on a free 127.0.0.1 port (the index is opened, or built, first
and not timed), opens N gradio_client sessions in threads, fires one dev-set question per
session at the same moment through the `/chat` endpoint, and prints how many were answered
(an answer or an abstention; an error line or a timeout is not) and the latency p50/p95/max
from submit to the last streamed message. Then it stops the app. Every chat has a deadline,
so the run is bounded (about a minute at the defaults on 2 cores).

    python bench/bench_ui.py [--n 20] [--threads 1] [--concurrency 2] [--index-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def chat_once(url: str, question: str, start: threading.Barrier, timeout_s: float) -> dict:
    from gradio_client import Client

    client = Client(url, verbose=False)  # its own session, as one browser tab
    start.wait()
    began = time.perf_counter()
    try:
        message, _panel = client.submit(question, "extractive", 5, [], False, api_name="/chat").result(timeout=timeout_s)
    except Exception as exc:  # a timeout or a refused request counts as not answered
        return {"ok": False, "seconds": time.perf_counter() - began, "why": type(exc).__name__}
    ok = bool(message) and not message.startswith("⚠️")
    return {"ok": ok, "seconds": time.perf_counter() - began, "why": None if ok else message[:80]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20, help="concurrent chats")
    parser.add_argument("--threads", type=int, default=1, help="pipelines (worker threads) for the backend")
    parser.add_argument("--concurrency", type=int, default=None, help="Gradio queue concurrency (default: the app's)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds one chat may take")
    parser.add_argument("--index-dir", type=Path)
    opts = parser.parse_args()

    from rag.settings import Settings
    from ui.app import CONCURRENCY, ChatApp

    settings = Settings.build(llm="extractive", index_dir=opts.index_dir)
    questions = [json.loads(line)["question"] for line in (PROJECT / "evals/qa/dev.jsonl").read_text().splitlines()
                 if line.strip()]
    started = time.perf_counter()
    app = ChatApp(settings, threads_per_backend=opts.threads)
    concurrency = opts.concurrency or CONCURRENCY
    url = app.launch(port=free_port(), block=False, concurrency=concurrency)
    print(f"app ready in {time.perf_counter() - started:.1f} s at {url} "
          f"(pipelines: {opts.threads}, queue concurrency: {concurrency})")
    try:
        start = threading.Barrier(opts.n + 1)
        results: list[dict] = [{} for _ in range(opts.n)]

        def run(i: int) -> None:
            results[i] = chat_once(url, questions[i % len(questions)], start, opts.timeout)

        threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(opts.n)]
        for thread in threads:
            thread.start()
        start.wait(timeout=60)
        began = time.perf_counter()
        for thread in threads:
            thread.join(opts.timeout + 10)
        wall = time.perf_counter() - began
    finally:
        app.close()

    done = [r for r in results if r]
    answered = [r["seconds"] for r in done if r["ok"]]
    print(f"answered {len(answered)}/{opts.n} in {wall:.1f} s wall")
    if answered:
        print(f"latency p50 {percentile(answered, 0.5):.2f} s  p95 {percentile(answered, 0.95):.2f} s  "
              f"max {max(answered):.2f} s  mean {statistics.mean(answered):.2f} s")
    for r in done:
        if not r["ok"]:
            print(f"  not answered: {r['why']}")


if __name__ == "__main__":
    main()
