"""The shared half of the BERT encoders (rag/embed/bert.py) without running a model: a toy
subclass turns token ids into known vectors, so batching, pooling and span pooling can be
checked exactly. Only the bundled model's small files (config, tokenizer) are read.
tests/integration/test_encoder_contract.py runs the real encoders."""

import sys
from pathlib import Path

import numpy as np
import pytest

from rag.embed import model_dir
from rag.embed.bert import BertEncoder, mean_pooled_bert_config, padded
from rag.embed.onnx_bert import default_cache_dir
from rag.pooling import normalise
from rag.settings import Settings

MODEL = model_dir("all-MiniLM-L6-v2")
TEXTS = ["a", "Token pruning speeds up vision transformers. It needs no training.", "Transformers " * 300, "b c"]


class ToyBert(BertEncoder):
    """Token vectors that depend on the token id only (so batching cannot change them);
    records each batch's row count and padded length."""

    def __init__(self, model_dir: Path, max_batch_tokens: int | None = None):
        super().__init__(model_dir)
        self.max_batch_tokens = max_batch_tokens
        self.batches: list[tuple[int, int]] = []

    def _hidden(self, token_ids):
        ids, mask = padded(token_ids)
        self.batches.append(ids.shape)
        table = np.sin(np.arange(self.dim, dtype=np.float32)[None, :] * (1.0 + ids.reshape(-1, 1) % 97))
        hidden = table.reshape(*ids.shape, self.dim).astype(np.float32)
        hidden[mask == 0] = 1e6  # padding must never count
        return hidden, mask


@pytest.fixture(scope="module")
def toy() -> ToyBert:
    return ToyBert(MODEL)


def expected_vector(encoder: ToyBert, text: str) -> np.ndarray:
    ids = encoder.tokenizer.encode(text).ids
    hidden, _ = ToyBert._hidden(encoder, [ids])
    return normalise(hidden[0].mean(0))


def test_the_base_reads_the_window_and_width_from_the_model_folder(toy):
    assert (toy.max_tokens, toy.dim) == (256, 384)
    assert toy.count_tokens("Transformers " * 300) == 302  # before truncation, with [CLS] and [SEP]
    assert len(toy.tokenizer.encode("Transformers " * 300).ids) == 256  # the encoder itself truncates


def test_encode_mean_pools_and_normalises_each_text_whatever_its_batch(toy):
    for batch_size in (1, 2, 32):
        vectors = toy.encode(TEXTS, batch_size=batch_size)
        assert vectors.dtype == np.float32 and vectors.shape == (len(TEXTS), 384)
        for row, text in zip(vectors, TEXTS):
            assert np.allclose(row, expected_vector(toy, text), atol=1e-6)
    assert toy.encode([]).shape == (0, 384)


def test_batches_hold_texts_of_similar_length_within_the_row_and_token_caps():
    # Sorted by length: "a" (3 pieces), "b c" (4), the sentence (~15), the truncated text (256).
    uncapped = ToyBert(MODEL)
    uncapped.encode(TEXTS, batch_size=2)
    assert [rows for rows, _ in uncapped.batches] == [2, 2]
    assert [length for _, length in uncapped.batches] == [4, 256]
    capped = ToyBert(MODEL, max_batch_tokens=300)
    capped.encode(TEXTS, batch_size=2)  # the sentence and the long text would pad to 2 x 256
    assert [rows for rows, _ in capped.batches] == [2, 1, 1]
    assert all(rows * length <= 300 or rows == 1 for rows, length in capped.batches)


def test_encode_with_spans_pools_each_span_from_the_same_pass(toy):
    text = TEXTS[1]
    first, second = "Token pruning speeds up vision transformers.", "It needs no training."
    spans = [[], [(0, len(first)), (text.index(second), len(text))], [(0, 12), (3000, 3010)], []]
    vectors, pooled = toy.encode_with_spans(TEXTS, spans, batch_size=2)
    assert np.array_equal(vectors, toy.encode(TEXTS, batch_size=2))
    assert [p.shape for p in pooled] == [(0, 384), (2, 384), (2, 384), (0, 384)]
    # A span's vector is its tokens' mean within the text (here token vectors depend on the
    # id only, so it equals the span's word pieces encoded without [CLS]/[SEP]).
    for row, piece in zip(pooled[1], (first, second)):
        ids = toy.tokenizer.encode(piece, add_special_tokens=False).ids
        assert np.allclose(row, normalise(ToyBert._hidden(toy, [ids])[0][0].mean(0)), atol=1e-6)
    assert not np.isnan(pooled[2][0]).any() and np.isnan(pooled[2][1]).all()  # cut off by truncation
    vectors, pooled = toy.encode_with_spans([], [])
    assert vectors.shape == (0, 384) and pooled == []


def test_a_folder_without_a_mean_pooled_bert_is_not_one(tmp_path):
    assert mean_pooled_bert_config(MODEL)["model_type"] == "bert"
    assert mean_pooled_bert_config(tmp_path) is None


def test_the_onnx_cache_folder_is_a_setting(monkeypatch, tmp_path):
    assert Settings.build(env={}).onnx_cache is None
    assert default_cache_dir() == Path(sys.prefix) / "share" / "paper-qa" / "onnx"  # the test venv's own
    monkeypatch.setattr(sys, "prefix", sys.base_prefix)  # outside a virtual environment: the home folder
    assert default_cache_dir() == Path.home() / ".cache" / "paper-qa" / "onnx"
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "someone-elses-venv"))  # a venv this user cannot write
    monkeypatch.setattr("os.access", lambda path, mode: False)
    assert default_cache_dir() == Path.home() / ".cache" / "paper-qa" / "onnx"
    monkeypatch.setenv("RAG_ONNX_CACHE", str(tmp_path / "onnx"))
    assert Settings.build().onnx_cache == tmp_path / "onnx"
    assert default_cache_dir() == tmp_path / "onnx"
    assert default_cache_dir(tmp_path / "given") == tmp_path / "given"  # a passed-down setting wins


def test_ingest_embeds_with_onnx_int8_on_the_cpu_and_torch_on_a_gpu_or_for_other_models(monkeypatch, tmp_path):
    import torch

    from rag.embed import ingest_backend

    assert Settings.build(env={}).embed_backend == "auto"
    assert ingest_backend("all-MiniLM-L6-v2") == ("onnx-int8", "cpu")  # the default: no torch to import
    assert ingest_backend("all-MiniLM-L6-v2", "torch") == ("torch", "cpu")  # asked for: kept
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert ingest_backend("all-MiniLM-L6-v2", "auto", "cuda") == ("torch", "cuda")  # only torch runs on a GPU
    assert ingest_backend("all-MiniLM-L6-v2", "auto", "auto") == ("torch", "cuda")
    other = tmp_path / "other-model"  # a sentence-transformers folder ONNX cannot run (not a mean-pooled BERT)
    other.mkdir()
    (other / "modules.json").write_text("[]")
    assert ingest_backend(str(other), "auto", "cpu") == ("torch", "cpu")


def test_an_onnx_cache_that_cannot_be_written_is_one_line_naming_the_setting(monkeypatch, tmp_path):
    from rag.embed import onnx_bert
    from rag.errors import UsageError

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(onnx_bert, "export_onnx", denied)  # as a read-only folder answers
    with pytest.raises(UsageError, match="cannot write the ONNX export to .*RAG_ONNX_CACHE.*--embed-backend torch"):
        onnx_bert.onnx_model_path(MODEL, quantize=True, cache_dir=tmp_path / "read-only")
