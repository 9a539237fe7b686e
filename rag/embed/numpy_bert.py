"""A BERT sentence encoder in plain NumPy, for queries and answer sentences.

Why: importing sentence-transformers (torch + transformers) costs 8-10 s on our 2-core
machines, which would dominate every cold `ask`. A BERT forward pass for one short query is
a few small matrix products, so NumPy does it in milliseconds from the same safetensors
weights, and the tokenizer comes from the `tokenizers` package (fast to import).
Supports BERT models with mean pooling (+ optional L2 normalisation), i.e. the bundled
all-MiniLM-L6-v2; `tests/integration` checks it against sentence-transformers.
Ingest still embeds with sentence-transformers (batched, faster per text on long inputs).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from rag.pooling import mean_pool, pool_spans


def _erf(x: np.ndarray) -> np.ndarray:
    # Abramowitz & Stegun 7.1.26, |error| < 1.5e-7: below float32 noise, and avoids SciPy.
    sign = np.sign(x)
    x = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * x)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-x * x))


def _gelu(x: np.ndarray) -> np.ndarray:
    return 0.5 * x * (1.0 + _erf(x * (1.0 / math.sqrt(2.0))))  # Python floats keep float32


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + np.float32(eps)) * weight + bias


def count_word_pieces(tokenizer, text: str, max_tokens: int) -> int:
    """Word pieces of `text` including [CLS]/[SEP], before truncation; the tokenizer is left
    truncating at `max_tokens` as its encoder keeps it."""
    tokenizer.no_truncation()
    try:
        return len(tokenizer.encode(text).ids)
    finally:
        tokenizer.enable_truncation(max_length=max_tokens)


def mean_pooled_bert_config(model_dir: Path) -> dict | None:
    """config.json of a BERT sentence model with mean pooling, safetensors weights and a
    tokenizer.json in `model_dir`; None when the folder is not one."""
    try:
        config = json.loads((model_dir / "config.json").read_text())
        pooling = json.loads((model_dir / "1_Pooling" / "config.json").read_text())
    except (OSError, ValueError):
        return None
    ok = (
        config.get("model_type") == "bert"
        and pooling.get("pooling_mode_mean_tokens") is True
        and not any(pooling.get(k) for k in ("pooling_mode_cls_token", "pooling_mode_max_tokens"))
        and (model_dir / "model.safetensors").exists()
        and (model_dir / "tokenizer.json").exists()
    )
    return config if ok else None


def supports(model_dir: Path) -> bool:
    """True when this encoder can run the model: also exact GELU and absolute positions."""
    config = mean_pooled_bert_config(model_dir)
    return (config is not None and config.get("hidden_act") == "gelu"
            and config.get("position_embedding_type", "absolute") == "absolute")


class NumpyBertEncoder:
    def __init__(self, model_dir: Path):
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        config = json.loads((model_dir / "config.json").read_text())
        st_config = json.loads((model_dir / "sentence_bert_config.json").read_text())
        modules = json.loads((model_dir / "modules.json").read_text())
        self.max_tokens = int(st_config.get("max_seq_length", 512))
        self.normalize = any(m["type"].endswith("Normalize") for m in modules)
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        weights = load_file(str(model_dir / "model.safetensors"))
        prefix = "bert." if "bert.embeddings.word_embeddings.weight" in weights else ""
        self.w = {k[len(prefix):]: v.astype(np.float32, copy=False) for k, v in weights.items() if k.startswith(prefix)}
        self.dim = self.w["embeddings.word_embeddings.weight"].shape[1]
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=self.max_tokens)
        self.tokenizer.no_padding()

    def count_tokens(self, text: str) -> int:
        return count_word_pieces(self.tokenizer, text, self.max_tokens)

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        # Sort by length and cap each batch's padded size, so one long text does not make
        # twenty short ones pay for its length (attention is quadratic in it).
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        batch: list[int] = []
        for i in order:
            if batch and (len(batch) >= batch_size or (len(batch) + 1) * len(texts[i]) > 4 * 4096):
                out[batch] = self._encode_batch([texts[j] for j in batch])
                batch = []
            batch.append(i)
        if batch:
            out[batch] = self._encode_batch([texts[j] for j in batch])
        return out

    def encode_with_spans(self, texts: list[str], spans: list[list[tuple[int, int]]],
                          batch_size: int = 32) -> tuple[np.ndarray, list[np.ndarray]]:
        """Text vectors, and per text one vector per character span, pooled from the same
        forward pass (rag.pooling)."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        pooled: list[np.ndarray] = [np.zeros((0, self.dim), np.float32)] * len(texts)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), batch_size):
            rows = order[start:start + batch_size]
            encs = self.tokenizer.encode_batch([texts[i] for i in rows])
            hidden, mask = self._hidden(encs)
            out[rows] = mean_pool(hidden, mask)
            for at, i in enumerate(rows):
                pooled[i] = pool_spans(hidden[at], encs[at].offsets, spans[i])
        return out, pooled

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        hidden, mask = self._hidden(self.tokenizer.encode_batch(texts))
        pooled = mean_pool(hidden, mask)
        return pooled if self.normalize else (hidden * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1e-9)

    def _hidden(self, encs) -> tuple[np.ndarray, np.ndarray]:
        """The last layer's token vectors and the padding mask of a batch of encodings."""
        length = max(len(e.ids) for e in encs)
        ids = np.zeros((len(encs), length), dtype=np.int64)
        mask = np.zeros((len(encs), length), dtype=np.float32)
        for row, enc in enumerate(encs):
            ids[row, : len(enc.ids)] = enc.ids
            mask[row, : len(enc.ids)] = 1.0
        w = self.w
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length][None]
            + w["embeddings.token_type_embeddings.weight"][0][None, None]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        batch, heads = x.shape[0], self.heads
        head_dim = self.dim // heads
        attn_bias = (1.0 - mask)[:, None, None, :] * np.float32(-1e9)
        for layer in range(self.layers):
            p = f"encoder.layer.{layer}."

            def linear(h: np.ndarray, name: str) -> np.ndarray:
                weight = w[p + name + ".weight"]  # 2-D products use BLAS far better than 3-D
                return (h.reshape(-1, h.shape[-1]) @ weight.T + w[p + name + ".bias"]).reshape(*h.shape[:-1], -1)

            def split(h: np.ndarray) -> np.ndarray:
                return h.reshape(batch, length, heads, head_dim).transpose(0, 2, 1, 3)

            q = split(linear(x, "attention.self.query"))
            k = split(linear(x, "attention.self.key"))
            v = split(linear(x, "attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2) * (1.0 / math.sqrt(head_dim)) + attn_bias
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            probs = scores / scores.sum(-1, keepdims=True)
            context = (probs @ v).transpose(0, 2, 1, 3).reshape(batch, length, self.dim)
            x = _layer_norm(x + linear(context, "attention.output.dense"),
                            w[p + "attention.output.LayerNorm.weight"], w[p + "attention.output.LayerNorm.bias"], self.eps)
            hidden = _gelu(linear(x, "intermediate.dense"))
            x = _layer_norm(x + linear(hidden, "output.dense"),
                            w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], self.eps)
        return x, mask
