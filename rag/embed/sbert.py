"""The sentence-transformers encoder: any local sentence-transformers folder, on PyTorch.

It runs every model sentence-transformers can (other architectures and poolings than our
own BERT encoders), with a progress bar, and is the reference the other encoders are held
to (`tests/integration/test_encoder_contract.py`). Importing it is cheap; constructing one
imports torch + transformers (8-10 s on 2 cores), so only ingest's default backend does.
For `encode_with_spans` on a mean-pooled BERT, the loaded transformer computes the token
vectors and rag.embed.bert tokenizes, batches and pools, as for the other encoders; other
models encode each span on its own (rag.pooling.encode_spans_fallback).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from rag.embed.bert import BertEncoder, mean_pooled_bert_config, padded
from rag.pooling import Span, encode_spans_fallback


def _offline() -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"


class SentenceTransformerEncoder:
    def __init__(self, path: Path, show_progress: bool = False):
        _offline()
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()  # no "sequence longer than max" noise: we count on purpose
        hf_logging.disable_progress_bar()
        self.path = path
        self.model = SentenceTransformer(str(path), device="cpu")
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
        return np.asarray(vectors, dtype=np.float32)

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
    """A loaded transformers BERT run on rag.embed.bert's tokenizer, batching and pooling."""

    def __init__(self, model_dir: Path, bert):
        super().__init__(model_dir)
        self.bert = bert

    def _hidden(self, token_ids: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        import torch

        input_ids, mask = padded(token_ids)
        ids = torch.from_numpy(input_ids)
        with torch.inference_mode():
            out = self.bert(input_ids=ids, attention_mask=torch.from_numpy(mask), token_type_ids=torch.zeros_like(ids))
        return out.last_hidden_state.float().numpy(), mask
