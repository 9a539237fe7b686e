"""One contract for every encoder: the vectors sentence-transformers computes, on real abstracts.

Each encoder (NumPy, ONNX Runtime fp32 and int8, sentence-transformers itself) must give, for
the same texts: L2-normalised float32 rows within TOLERANCE of sentence-transformers'
`encode` (cosine >= 1 - tolerance), the same token counts and window, and from
`encode_with_spans` the same text vectors plus span vectors within the same tolerance of
the reference: sentence-transformers' own token vectors (its tokenizer, its forward pass)
mean-pooled over each span. fp32 encoders differ from the reference only by float rounding
(worst cosine seen 0.9999998); int8 quantises weights and, per batch, activations (worst
seen 0.987 on texts, 0.985 on sentences), so its tolerance is 0.02, as test_onnx_embed's.
The ONNX model is exported once into a temporary cache (about 10 s on 2 cores).
"""

import os
import subprocess
import sys

import numpy as np
import pytest

from fakes import PROJECT, SHIPPED_CORPUS
from rag.chunking import chunk_text
from rag.corpus import load_corpus
from rag.embed import SentenceTransformerEncoder, load_ingest_encoder, load_query_encoder, model_dir
from rag.embed.numpy_bert import NumpyBertEncoder
from rag.pooling import pool_spans
from rag.sentences import split_sentences

pytestmark = pytest.mark.integration
MODEL = model_dir("all-MiniLM-L6-v2")
TOLERANCE = {"numpy": 1e-5, "onnx": 1e-5, "onnx-int8": 0.02, "sentence-transformers": 1e-5}
ENCODERS = list(TOLERANCE)

EDGE_TEXTS = ["a", "which methods prune tokens without fine-tuning?", "Transformers " * 300]  # 300 -> truncated
TEXTS = [chunk_text(p.title, p.abstract) for p in load_corpus([SHIPPED_CORPUS]).papers[:24]] + EDGE_TEXTS


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Each sentence's character span, as ingest pools evidence; plus one past the end of a
    long text, which truncation cuts off (its vector must come back NaN)."""
    spans = []
    for sentence in split_sentences(text):
        at = text.find(sentence)
        if at >= 0:
            spans.append((at, at + len(sentence)))
    if len(text) > 2000:
        spans.append((len(text) - 12, len(text)))
    return spans


SPANS = [sentence_spans(t) for t in TEXTS]


@pytest.fixture(scope="module")
def reference() -> dict:
    """sentence-transformers' own answers: text vectors, token counts, and span vectors pooled
    from its token embeddings by its tokenizer's offsets (not through rag.embed.bert)."""
    st = SentenceTransformerEncoder(MODEL)
    tokens = st.model.encode(TEXTS, output_value="token_embeddings", batch_size=8)
    batch = st.model.tokenizer(TEXTS, truncation=True, max_length=st.max_tokens, return_offsets_mapping=True)
    spans = np.concatenate([pool_spans(np.asarray(t, np.float32), [tuple(o) for o in offsets], s)
                            for t, offsets, s in zip(tokens, batch["offset_mapping"], SPANS)])
    return {"vectors": st.encode(TEXTS), "counts": [st.count_tokens(t) for t in TEXTS], "spans": spans,
            "encoder": st}


@pytest.fixture(scope="module")
def encoders(reference, tmp_path_factory) -> dict:
    cache = tmp_path_factory.mktemp("onnx-cache")
    return {
        "numpy": load_query_encoder("all-MiniLM-L6-v2"),
        "onnx": load_ingest_encoder("all-MiniLM-L6-v2", backend="onnx", onnx_cache=cache),
        "onnx-int8": load_ingest_encoder("all-MiniLM-L6-v2", backend="onnx-int8", onnx_cache=cache),
        "sentence-transformers": reference["encoder"],
    }


def assert_close(got: np.ndarray, expected: np.ndarray, tolerance: float) -> None:
    assert got.dtype == np.float32 and got.shape == expected.shape
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    cosine = (got * expected).sum(1)
    assert cosine.min() >= 1 - tolerance, (cosine.min(), int(cosine.argmin()))


@pytest.mark.parametrize("name", ENCODERS)
def test_vectors_match_sentence_transformers(name, encoders, reference):
    encoder = encoders[name]
    assert_close(encoder.encode(TEXTS, batch_size=8), reference["vectors"], TOLERANCE[name])
    assert_close(encoder.encode(TEXTS[::-1], batch_size=3)[::-1], reference["vectors"], TOLERANCE[name])
    assert encoder.encode([]).shape == (0, 384)


@pytest.mark.parametrize("name", ENCODERS)
def test_token_counts_and_window_match_sentence_transformers(name, encoders, reference):
    encoder = encoders[name]
    assert (encoder.max_tokens, encoder.dim) == (256, 384)
    assert [encoder.count_tokens(t) for t in TEXTS] == reference["counts"]


@pytest.mark.parametrize("name", ENCODERS)
def test_span_vectors_match_sentence_transformers_token_vectors(name, encoders, reference):
    vectors, pooled = encoders[name].encode_with_spans(TEXTS, SPANS, batch_size=8)
    assert_close(vectors, reference["vectors"], TOLERANCE[name])
    assert [len(p) for p in pooled] == [len(s) for s in SPANS]
    got, expected = np.concatenate(pooled), reference["spans"]
    cut_off = np.isnan(expected[:, 0])
    assert cut_off.sum() >= 1 and np.array_equal(np.isnan(got[:, 0]), cut_off)
    assert_close(got[~cut_off], expected[~cut_off], TOLERANCE[name])


def test_the_query_encoder_is_the_numpy_one_and_imports_no_torch_or_onnxruntime():
    assert isinstance(load_query_encoder("all-MiniLM-L6-v2"), NumpyBertEncoder)
    code = (
        "import sys\n"
        "from rag.embed import load_query_encoder\n"
        "assert load_query_encoder('all-MiniLM-L6-v2').encode(['token pruning']).shape == (1, 384)\n"
        "heavy = [m for m in ('torch', 'transformers', 'sentence_transformers', 'onnxruntime') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT, env={**os.environ, "HF_HUB_OFFLINE": "1"},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
