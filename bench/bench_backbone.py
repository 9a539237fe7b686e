"""Backbone benchmark: ingest throughput, cold `ask` wall time, warm retrieval latency.

Prints a table of medians and percentiles (never asserts on time). Usage:

    python bench/bench_backbone.py                 # fresh index of the shipped corpus in a temp folder
    python bench/bench_backbone.py --index-dir DIR --skip-ingest   # reuse an index
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
QUESTION = "which methods prune tokens without fine-tuning?"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def cold_runs(args: list[str], env: dict, runs: int) -> tuple[list[float], list[dict]]:
    walls, outputs = [], []
    exe = Path(sys.executable).parent / args[0]
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run([str(exe), *args[1:]], capture_output=True, text=True, env=env)
        walls.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise SystemExit(f"{' '.join(args)} failed: {done.stderr.strip()}")
        if "--json" in args:
            outputs.append(json.loads(done.stdout))
    return walls, outputs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index-dir", type=Path)
    parser.add_argument("--skip-ingest", action="store_true")
    parser.add_argument("--runs", type=int, default=5, help="fresh processes per cold measurement")
    parser.add_argument("--queries", type=int, default=200, help="warm retrieval queries")
    opts = parser.parse_args()

    from rag.corpus import load_corpus
    from rag.index import folder_size
    from rag.pipeline import Pipeline
    from rag.settings import Settings

    index_dir = opts.index_dir or Path(tempfile.mkdtemp(prefix="rag-bench-")) / "index"
    settings = Settings.build(env={}, index_dir=index_dir)
    rows: list[tuple[str, str]] = []
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env["RAG_INDEX_DIR"] = str(index_dir)
    if not opts.skip_ingest:
        t0 = time.perf_counter()
        corpus = load_corpus(settings.corpus)
        rows.append(("corpus parse", f"{(time.perf_counter() - t0) * 1000:.0f} ms for {corpus.entries} entries -> {len(corpus.papers)} papers"))
        # In a child process, so this process never holds torch while it times cold starts.
        for label in ("ingest, fresh (fresh process, incl. imports)", "re-ingest, nothing changed"):
            t0 = time.perf_counter()
            done = subprocess.run([str(Path(sys.executable).parent / "rag"), "ingest", "--quiet"],
                                  capture_output=True, text=True, env=env)
            if done.returncode != 0:
                raise SystemExit(f"rag ingest failed: {done.stderr.strip()}")
            rows.append((label, f"{time.perf_counter() - t0:.1f} s wall: {done.stdout.strip().split(': ', 1)[1]}"))
    rows.append(("index size on disk", f"{folder_size(index_dir) / 1e6:.1f} MB"))
    cold_runs(["ask", "--json", QUESTION], env, 1)  # warm the file cache; not counted
    help_walls, _ = cold_runs(["ask", "--help"], env, opts.runs)
    rows.append(("cold `ask --help` (fresh process)", f"median {statistics.median(help_walls):.2f} s over {opts.runs}"))
    walls, outs = cold_runs(["ask", "--llm", "extractive", "--json", QUESTION], env, opts.runs)
    inner = {k: statistics.median(o["timings_ms"][k] for o in outs) for k in ("load", "retrieve", "generate", "total")}
    rows.append(("cold `ask --llm extractive` (fresh process)",
                 f"median {statistics.median(walls):.2f} s, min {min(walls):.2f}, max {max(walls):.2f} over {opts.runs}"))
    rows.append(("  inside it (median ms)", ", ".join(f"{k} {v:.0f}" for k, v in inner.items())
                 + f"; imports + interpreter ≈ {statistics.median(walls) * 1000 - inner['total']:.0f}"))

    pipeline = Pipeline(settings, progress=False)
    retriever = pipeline.retriever()
    questions = [json.loads(line)["question"] for line in (PROJECT / "evals/qa/dev.jsonl").read_text().splitlines() if line.strip()]
    retriever.search(questions[0])  # warm-up
    for mode in ("hybrid", "dense", "bm25"):
        times = []
        for i in range(opts.queries):
            t0 = time.perf_counter()
            retriever.search(questions[i % len(questions)], mode=mode)
            times.append((time.perf_counter() - t0) * 1000)
        rows.append((f"warm retrieval, {mode} (k=5, incl. query embedding)",
                     f"p50 {percentile(times, 0.5):.1f} ms, p95 {percentile(times, 0.95):.1f} ms over {opts.queries}"))
    times = []
    for i in range(min(opts.queries, 60)):
        t0 = time.perf_counter()
        pipeline.ask(questions[i % len(questions)])
        times.append((time.perf_counter() - t0) * 1000)
    rows.append(("warm full ask, extractive", f"p50 {percentile(times, 0.5):.0f} ms, p95 {percentile(times, 0.95):.0f} ms over {len(times)}"))

    width = max(len(name) for name, _ in rows)
    print(f"\nbackbone benchmark ({os.cpu_count()} cores, index {index_dir})\n")
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
