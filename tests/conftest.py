"""Shared fixtures: an isolated environment, the fake embedder patched in, a small corpus.

Fixtures only; the fakes and sample data they use live in tests/fakes.py, which test modules
import directly. The fake embedder hashes words into a fixed-size vector (same words ->
similar vectors), so unit tests exercise the real Chroma store, BM25, fusion and answer
assembly without loading a model. Integration tests (tests/integration) use the real bundled
model instead.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fakes import PAPERS, FakeEncoder, daily_dump


def pytest_addoption(parser):
    parser.addoption("--require-browser", action="store_true",
                     help="Fail the browser tests when Chromium is missing instead of skipping them "
                          "(`make test` as root and CI, where `make setup-browser` has installed it).")


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch, tmp_path):
    """No user RAG_* settings leak in; every test gets its own index folder."""
    import os

    for key in list(os.environ):
        if key.startswith("RAG_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("ANONYMIZED_TELEMETRY", "False")
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "index"))
    yield


@pytest.fixture
def fake_encoder():
    return FakeEncoder()


@pytest.fixture
def fake_models(monkeypatch, fake_encoder):
    """Make every code path (CLI included) load the fake embedder instead of the real one."""
    import rag.embed

    monkeypatch.setattr(rag.embed, "load_query_encoder", lambda name: fake_encoder)
    monkeypatch.setattr(rag.embed, "load_ingest_encoder",
                        lambda name, show_progress=True, backend="torch", onnx_cache=None, device="cpu": fake_encoder)
    monkeypatch.setattr(rag.embed, "canonical_model_name", lambda name: fake_encoder.name)
    return fake_encoder


@pytest.fixture
def small_corpus(tmp_path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "a.txt").write_text(daily_dump(PAPERS[:3], "blank"))
    (folder / "b.txt").write_text(daily_dump(PAPERS[1:], "consecutive", date="Apr 17"))
    return folder
