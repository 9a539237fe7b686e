"""Paired A/B benchmark: this checkout against an earlier commit, interleaved in one run.

On a shared machine a single absolute time means little; what compares is the same work, done
by both versions alternately, on the same machine in the same minutes. For each pair it runs
(fresh process each time, `RAG_*` cleared, the earlier commit from a temporary git worktree
put first on PYTHONPATH, both in this venv):
- ingest of the shipped corpus (or `--corpus`) into a fresh index (whole wall time, imports
  included; also as abstracts per second);
- a cold `ask --llm extractive --json` on that index (fresh process);
then prints the medians and the ratio after/before, of wall time and of the CPU seconds the
process used (user + system: steadier than wall time when others load the machine). Never
asserts. Usage:

    python bench/bench_paired.py --before 17dd392 --ingest-pairs 3 --ask-pairs 7
    python bench/bench_paired.py --before 2649cb8 --corpus evals/corpora/second/papers.jsonl --ask-pairs 0
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
QUESTION = "which methods prune tokens without fine-tuning?"


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(cmd: list[str], env: dict) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds, stdout) of one fresh process."""
    started, cpu = time.perf_counter(), cpu_seconds()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:3])} failed: {done.stderr.strip()[-500:]}")
    return wall, cpu_seconds() - cpu, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="the earlier commit (e.g. 17dd392)")
    parser.add_argument("--ingest-pairs", type=int, default=3)
    parser.add_argument("--ask-pairs", type=int, default=7)
    parser.add_argument("--corpus", type=Path, default=PROJECT / "corpus",
                        help="corpus file or folder to ingest (default: the shipped corpus)")
    opts = parser.parse_args()
    corpus = str(opts.corpus.resolve())

    scratch = Path(tempfile.mkdtemp(prefix="rag-paired-"))
    worktree = scratch / "before"
    subprocess.run(["git", "-C", str(PROJECT), "worktree", "add", "--detach", str(worktree), opts.before],
                   check=True, capture_output=True)
    bin_dir = Path(sys.executable).parent
    base = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    base["HF_HUB_OFFLINE"] = "1"
    versions = {
        "before": {**base, "PYTHONPATH": str(worktree), "RAG_CORPUS": corpus},
        "after": {**base, "PYTHONPATH": str(PROJECT), "RAG_CORPUS": corpus},
    }
    times: dict[str, dict[str, list[float]]] = {v: {"ingest": [], "rate": [], "ask": [], "ask_cpu": []}
                                                for v in versions}
    try:
        for pair in range(max(opts.ingest_pairs, 1)):
            for name, env in (versions.items() if pair % 2 == 0 else reversed(versions.items())):
                index = scratch / f"index-{name}"
                shutil.rmtree(index, ignore_errors=True)
                wall, _, out = run([str(bin_dir / "rag"), "ingest", "--quiet", "--index-dir", str(index)], env)
                papers = int(re.search(r"indexed ([\d,]+) papers", out).group(1).replace(",", ""))
                if pair < opts.ingest_pairs:
                    times[name]["ingest"].append(wall)
                    times[name]["rate"].append(papers / wall)
                print(f"ingest {name}: {wall:.1f} s", file=sys.stderr, flush=True)
        for pair in range(opts.ask_pairs + 1 if opts.ask_pairs else 0):  # the first pair warms the file cache
            for name, env in (versions.items() if pair % 2 == 0 else reversed(versions.items())):
                wall, cpu, _ = run([str(bin_dir / "ask"), "--llm", "extractive", "--json", "--index-dir",
                                 str(scratch / f"index-{name}"), QUESTION], env)
                if pair:
                    times[name]["ask"].append(wall)
                    times[name]["ask_cpu"].append(cpu)
    finally:
        subprocess.run(["git", "-C", str(PROJECT), "worktree", "remove", "--force", str(worktree)], capture_output=True)
        shutil.rmtree(scratch, ignore_errors=True)

    print(f"\npaired benchmark: {opts.before} (before) vs this checkout (after), {os.cpu_count()} cores, "
          f"corpus {opts.corpus}\n")
    print("| measure | before median | after median | after / before | pairs |")
    print("|---|---|---|---|---|")
    for key, label in (("ingest", "ingest, fresh index (s, wall)"),
                       ("rate", "ingest, abstracts per second of wall time"),
                       ("ask", "cold `ask --llm extractive` (s, wall)"),
                       ("ask_cpu", "cold `ask --llm extractive` (CPU s, user + system)")):
        b, a = times["before"][key], times["after"][key]
        if b and a:
            print(f"| {label} | {statistics.median(b):.2f} | {statistics.median(a):.2f} | "
                  f"{statistics.median(a) / statistics.median(b):.2f} | {len(a)} |")


if __name__ == "__main__":
    main()
