"""Shared fixtures: an isolated environment, a deterministic fake embedder, small corpora.

The fake embedder hashes words into a fixed-size vector (same words -> similar vectors), so
unit tests exercise the real Chroma store, BM25, fusion and answer assembly without loading
a model. Integration tests (tests/integration) use the real bundled model instead.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pytest

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
    monkeypatch.setattr(rag.embed, "load_ingest_encoder", lambda name, show_progress=True, backend="torch": fake_encoder)
    monkeypatch.setattr(rag.embed, "canonical_model_name", lambda name: fake_encoder.name)
    return fake_encoder


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
    """A page dump as CONTRACTS.md §1 describes, in either layout."""
    chrome = ["new", "Get trending papers in your email inbox!", "Subscribe", "Daily Papers",
              "byAK and the research community", date]
    body = [line for title, abstract in papers for line in (title, abstract)]
    if layout == "glued":  # first title glued to Subscribe, no blank lines
        chrome = ["Get trending papers in your email inbox once a day!", "Get trending papers in your email inbox!"]
        body[0] = "Subscribe" + body[0]
        return "\n".join(chrome + body) + "\n"
    sep = "\n\n" if layout == "blank" else "\n"
    return sep.join(chrome + body) + "\n"


@pytest.fixture
def small_corpus(tmp_path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "a.txt").write_text(daily_dump(PAPERS[:3], "blank"))
    (folder / "b.txt").write_text(daily_dump(PAPERS[1:], "consecutive", date="Apr 17"))
    return folder
