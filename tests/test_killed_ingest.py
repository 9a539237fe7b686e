"""`rag ingest` killed with SIGKILL part-way, then rerun: every paper exactly once, queries work.

The ingest runs in a child process (the real CLI, with the fake embedder patched in so it
takes seconds), killed at a random point of the embed pass.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from fakes import PROJECT, record, write_jsonl

CHILD = """
import sys, time
sys.path.insert(0, {tests!r})
import rag.embed
from fakes import FakeEncoder

class SlowFake(FakeEncoder):
    def encode(self, texts, batch_size=32):
        time.sleep(0.05)  # a real model takes far longer; this leaves room to kill mid-way
        return super().encode(texts, batch_size)

fake = SlowFake()
rag.embed.load_ingest_encoder = lambda name, show_progress=True, backend="torch", onnx_cache=None, device="cpu": fake
rag.embed.load_query_encoder = lambda name: fake
rag.embed.canonical_model_name = lambda name: fake.name
from rag.cli import rag_main
sys.argv = ["rag"] + sys.argv[1:]
rag_main()
"""


def rag(args, env, **kw):
    code = CHILD.format(tests=str(PROJECT / "tests"))
    return subprocess.Popen([sys.executable, "-c", code, *args], env=env, cwd=PROJECT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def progress(index_dir) -> int:
    try:
        db = sqlite3.connect(f"file:{index_dir / 'ingest-run.sqlite'}?mode=ro", uri=True, timeout=1)
        row = db.execute("SELECT value FROM meta WHERE key = 'seq_done'").fetchone()
        db.close()
        return json.loads(row[0]) if row else 0
    except sqlite3.Error:
        return 0


@pytest.mark.parametrize("kill_after", [1, 900])
def test_sigkilled_ingest_rerun_has_every_paper_exactly_once(tmp_path, kill_after):
    corpus = write_jsonl(tmp_path / "arxiv.jsonl", [record(i) for i in range(1, 1501)]
                         + [record(42, version=2, title="Version two of forty-two")])
    index_dir = tmp_path / "index"
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("RAG_")}, "RAG_INDEX_DIR": str(index_dir)}
    args = ["ingest", "--quiet", "--corpus", str(corpus)]
    child = rag(args, env)
    deadline = time.monotonic() + 120
    while progress(index_dir) < kill_after and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert child.poll() is None, "the ingest finished before it could be killed: " + child.stderr.read()
    child.send_signal(signal.SIGKILL)
    child.wait()
    done_at_kill = progress(index_dir)
    assert 0 < done_at_kill < 1500

    rerun = rag(args, env)
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    assert "indexed 1500 papers" in out and "(resumed an interrupted ingest)" in out
    db = sqlite3.connect(index_dir / "catalog.sqlite")
    ids = [r[0] for r in db.execute("SELECT paper_id FROM papers")]
    chunk_ids = [r[0] for r in db.execute("SELECT chunk_id FROM chunks")]
    assert len(ids) == len(set(ids)) == 1500
    assert db.execute("SELECT title FROM papers WHERE paper_id = 'arxiv:2305.00042'").fetchone()[0] == "Version two of forty-two"
    db.close()
    assert not (index_dir / "ingest-run.sqlite").exists()

    from rag.index import Index

    index = Index(index_dir, "fake-hash-encoder")
    assert index.store.count() == len(chunk_ids) == len(set(chunk_ids))
    got = index.store.collection.get(ids=chunk_ids[:50])
    assert len(got["ids"]) == 50
    asked = subprocess.run([sys.executable, "-c", CHILD.format(tests=str(PROJECT / "tests")).replace(
        'sys.argv = ["rag"] + sys.argv[1:]', 'sys.argv = ["rag", "ask", "--json", "molecule problem 12"]')],
        env=env, cwd=PROJECT, capture_output=True, text=True, timeout=120)
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert answer["sources"][0]["paper_id"] == "arxiv:2305.00012"
