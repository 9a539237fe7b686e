"""The sentence-transformers encoder: any local sentence-transformers folder, on PyTorch.

It runs every model sentence-transformers can (other architectures and poolings than our
own BERT encoders), with a progress bar, and is the reference the other encoders are held
to (`tests/integration/test_encoder_contract.py`). Importing it is cheap; constructing one
imports torch + transformers (8-10 s on 2 cores), so only ingest's default backend does.
For `encode_with_spans` on a mean-pooled BERT, the loaded transformer computes the token
vectors and rag.embed.bert tokenizes, batches and pools, as for the other encoders; other
models encode each span on its own (rag.pooling.encode_spans_fallback).
On `device="cuda"` the model runs in fp16 (model.half()); tokenising, pooling and
normalising stay on the CPU in fp32, and the span path keeps one batch in flight on the
GPU while the previous one is pooled. Whatever the device, rows leave as normalised float32.
rag.embed.device decides the device; this module trusts it.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from rag.embed.bert import BertEncoder, mean_pooled_bert_config, padded
from rag.pooling import Span, encode_spans_fallback, normalise


def _offline() -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"


class SentenceTransformerEncoder:
    def __init__(self, path: Path, show_progress: bool = False, device: str = "cpu"):
        _offline()
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()  # no "sequence longer than max" noise: we count on purpose
        hf_logging.disable_progress_bar()
        self.path = path
        self.device = device
        self.model = SentenceTransformer(str(path), device=device)
        if device != "cpu":
            self.model.half()  # fp16 on the GPU: twice the throughput, cosine to fp32 ~0.9999
        self.max_tokens = int(self.model.max_seq_length)
        dimension = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(dimension())
        self.show_progress = show_progress
        self._token_vectors: TorchBert | None = None

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        if not texts:  # sentence-transformers returns shape (0,): keep the contract's (0, dim)
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            texts, batch_size=batch_size, normalize_embeddings=True,
            show_progress_bar=self.show_progress, convert_to_numpy=True,
        )
        vectors = np.asarray(vectors, dtype=np.float32)
        return vectors if self.device == "cpu" else normalise(vectors)  # fp16 rows: renormalised in fp32

    def count_tokens(self, text: str) -> int:
        return len(self.model.tokenizer(text, truncation=False)["input_ids"])

    def encode_with_spans(self, texts: list[str], spans: list[list[Span]],
                          batch_size: int = 32) -> tuple[np.ndarray, list[np.ndarray]]:
        """Text vectors and per text one vector per character span, pooled from the same
        forward pass (rag.embed.bert) for mean-pooled BERT models; other models fall back
        to encoding each span on its own."""
        if self._token_vectors is None and len(self.model) >= 2 and mean_pooled_bert_config(Path(self.path)):
            self._token_vectors = TorchBert(Path(self.path), self.model[0].auto_model)
        if self._token_vectors is None:
            return encode_spans_fallback(self, texts, spans, batch_size)
        return self._token_vectors.encode_with_spans(texts, spans, batch_size)


class TorchBert(BertEncoder):
    """A loaded transformers BERT, on whatever device it was put, run on rag.embed.bert's
    tokenizer, batching and pooling."""

    def __init__(self, model_dir: Path, bert):
        super().__init__(model_dir)
        self.bert = bert
        self.device = next(bert.parameters()).device

    def _hidden(self, token_ids: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        return self._collect(self._launch(token_ids))

    def _hidden_batches(self, encodings, batches):
        """One batch ahead: the next batch is queued on the device before the previous one's
        token vectors are waited for, so the GPU computes while the CPU pools. On the CPU
        every step is synchronous and this is the plain loop."""
        pending = None
        for rows in batches:
            launched = (rows, self._launch([encodings[i].ids for i in rows]))
            if pending is not None:
                yield (pending[0], *self._collect(pending[1]))
            pending = launched
        if pending is not None:
            yield (pending[0], *self._collect(pending[1]))

    def _launch(self, token_ids: list[list[int]]):
        """Queue one batch: copy in, forward, copy the last layer back (asynchronously on a GPU)."""
        import torch

        input_ids, mask = padded(token_ids)
        ids, attention = torch.from_numpy(input_ids), torch.from_numpy(mask)
        cuda = self.device.type == "cuda"
        if cuda:
            ids = ids.pin_memory().to(self.device, non_blocking=True)
            attention = attention.pin_memory().to(self.device, non_blocking=True)
        with torch.inference_mode():
            out = self.bert(input_ids=ids, attention_mask=attention, token_type_ids=torch.zeros_like(ids))
            hidden = out.last_hidden_state.to("cpu", non_blocking=cuda)
        done = None
        if cuda:
            done = torch.cuda.Event()
            done.record()
        return hidden, mask, done

    @staticmethod
    def _collect(launched) -> tuple[np.ndarray, np.ndarray]:
        hidden, mask, done = launched
        if done is not None:
            done.synchronize()  # this batch's copy only; the next batch keeps the GPU busy
        return hidden.float().numpy(), mask
