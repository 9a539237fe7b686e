"""The default ingest encoder on a CPU is ONNX int8 (within its stated cosine of fp32); the
device code path gives today's vectors: the ingest encoder loaded through
`device="cpu"` / `"auto"` (no GPU here) matches the default sentence-transformers encoder, for
`encode` and for `encode_with_spans` (whose torch path runs one batch ahead of the pooling).
On a CUDA machine the same checks run in fp16 with a looser bound (cosine >= 0.999)."""

import numpy as np
import pytest
import torch

from rag.embed import SentenceTransformerEncoder, load_ingest_encoder, model_dir
from rag.embed.numpy_bert import NumpyBertEncoder

pytestmark = pytest.mark.integration

TEXTS = ["Token pruning without fine-tuning. We drop tokens by attention scores.",
         "a", "Sparse attention for long documents. It scales linearly. Results hold on three benchmarks."] * 3
SPANS = [[(0, 33), (34, len(t))] if len(t) > 40 else [] for t in TEXTS]


@pytest.fixture(scope="module")
def reference():
    return SentenceTransformerEncoder(model_dir("all-MiniLM-L6-v2"))


def assert_cosine(got: np.ndarray, expected: np.ndarray, tolerance: float) -> None:
    assert got.dtype == np.float32 and got.shape == expected.shape
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert (got * expected).sum(1).min() >= 1 - tolerance


@pytest.mark.parametrize("device", ["cpu", "auto"])
def test_the_ingest_encoder_on_the_chosen_device_gives_todays_vectors(device, reference, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    encoder = load_ingest_encoder("all-MiniLM-L6-v2", show_progress=False, backend="torch", device=device)
    assert encoder.device == "cpu" and next(encoder.model.parameters()).dtype == torch.float32
    assert_cosine(encoder.encode(TEXTS, batch_size=2), reference.encode(TEXTS), 1e-5)


@pytest.mark.parametrize("device", ["cpu", "auto"])
def test_the_default_backend_on_a_cpu_is_onnx_int8_within_its_stated_cosine(device, reference, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    encoder = load_ingest_encoder("all-MiniLM-L6-v2", show_progress=False, device=device)
    assert encoder.backend == "onnx-int8" and not hasattr(encoder, "model")  # ONNX Runtime, not PyTorch
    assert_cosine(encoder.encode(TEXTS, batch_size=2), reference.encode(TEXTS), 0.02)  # docs/embedding.md


def test_span_pooling_one_batch_ahead_matches_the_plain_loop(reference):
    encoder = load_ingest_encoder("all-MiniLM-L6-v2", show_progress=False, backend="torch", device="cpu")
    vectors, pooled = encoder.encode_with_spans(TEXTS, SPANS, batch_size=2)  # 5 batches: the lookahead turns over
    plain, plain_pooled = NumpyBertEncoder(model_dir("all-MiniLM-L6-v2")).encode_with_spans(TEXTS, SPANS, batch_size=2)
    assert_cosine(vectors, reference.encode(TEXTS), 1e-5)
    assert [len(p) for p in pooled] == [len(s) for s in SPANS]
    assert_cosine(np.concatenate(pooled), np.concatenate(plain_pooled), 1e-5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU")
def test_on_cuda_the_model_runs_fp16_and_rows_leave_as_normalised_fp32(reference):
    encoder = load_ingest_encoder("all-MiniLM-L6-v2", show_progress=False, device="cuda")  # auto: torch on a GPU
    assert encoder.backend == "torch"
    assert next(encoder.model.parameters()).dtype == torch.float16
    assert_cosine(encoder.encode(TEXTS, batch_size=2), reference.encode(TEXTS), 1e-3)
    vectors, pooled = encoder.encode_with_spans(TEXTS, SPANS, batch_size=2)
    _, cpu_pooled = reference.encode_with_spans(TEXTS, SPANS, batch_size=2)
    assert_cosine(vectors, reference.encode(TEXTS), 1e-3)
    assert_cosine(np.concatenate(pooled), np.concatenate(cpu_pooled), 1e-3)
