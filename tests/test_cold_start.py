"""A cold `ask` (a new process) pays only for what a small index needs: no chromadb (the exact
copy, rag.exact_search), no torch or sentence-transformers (the NumPy query encoder), and
OpenBLAS on one thread (set in rag.cli before NumPy loads). Fake embedder, real index."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from fakes import PROJECT
from rag.corpus import CorpusReader
from rag.ingest import ingest
from rag.settings import Settings

HEAVY = ("chromadb", "torch", "sentence_transformers", "transformers", "onnxruntime")


def cold_ask(*args: str, blas_threads: str | None = None) -> dict:
    """Run `ask ARGS` in a fresh process, with the fake embedder (and OPENBLAS_NUM_THREADS set
    only when given); report what it loaded."""
    script = textwrap.dedent(f"""
        import json, sys
        sys.path[:0] = [{str(PROJECT)!r}, {str(PROJECT / 'tests')!r}]
        from rag.cli import ask_main  # first, as the `ask` script does
        import rag.embed
        from fakes import FakeEncoder
        fake = FakeEncoder()
        rag.embed.load_query_encoder = lambda name: fake
        rag.embed.canonical_model_name = lambda name: fake.name
        sys.argv = ["ask", *{list(args)!r}]
        try:
            ask_main()
        except SystemExit as exc:
            assert not exc.code, exc.code
        from threadpoolctl import threadpool_info
        blas = [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]
        print(json.dumps({{"heavy": sorted(m for m in sys.modules if m.split(".")[0] in {HEAVY!r}),
                          "blas_threads": blas}}))
    """)
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if blas_threads is not None:
        env["OPENBLAS_NUM_THREADS"] = blas_threads
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_cold_ask_of_a_small_index_loads_no_heavy_library_and_one_blas_thread(small_corpus, fake_encoder):
    settings = Settings.build(corpus=[small_corpus])
    ingest(settings, CorpusReader(settings.corpus), progress=False, encoder=fake_encoder)
    loaded = cold_ask("--json", "token pruning without fine-tuning")
    assert loaded["heavy"] == []
    assert loaded["blas_threads"] and set(loaded["blas_threads"]) == {1}


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="OpenBLAS runs one thread on one core whatever is asked")
def test_a_users_own_blas_thread_count_wins(small_corpus, fake_encoder):
    settings = Settings.build(corpus=[small_corpus])
    ingest(settings, CorpusReader(settings.corpus), progress=False, encoder=fake_encoder)
    assert set(cold_ask("--json", "token pruning", blas_threads="2")["blas_threads"]) == {2}
