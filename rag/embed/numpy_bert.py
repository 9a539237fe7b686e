"""A BERT sentence encoder in plain NumPy, for queries and answer sentences.

Why: importing sentence-transformers (torch + transformers) costs 8-10 s on our 2-core
machines, which would dominate every cold `ask`. A BERT forward pass for one short query is
a few small matrix products, so NumPy does it in milliseconds from the same safetensors
weights. This module computes the token vectors only; the tokenizer (the `tokenizers`
package, fast to import), batching and pooling are rag.embed.bert's.
Supports BERT models with mean pooling, exact GELU and absolute positions, i.e. the bundled
all-MiniLM-L6-v2; `tests/integration/test_encoder_contract.py` checks it against
sentence-transformers. Ingest embeds with sentence-transformers or ONNX Runtime instead
(faster per text on long inputs).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from rag.embed.bert import BertEncoder, mean_pooled_bert_config, padded


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


def supports(model_dir: Path) -> bool:
    """True when this encoder can run the model: also exact GELU and absolute positions."""
    config = mean_pooled_bert_config(model_dir)
    return (config is not None and config.get("hidden_act") == "gelu"
            and config.get("position_embedding_type", "absolute") == "absolute")


class NumpyBertEncoder(BertEncoder):
    # A batch's padded size is capped: attention is quadratic in length, and NumPy's
    # (batch, heads, length, length) scores grow past what caches hold.
    max_batch_tokens = 4096

    def __init__(self, model_dir: Path):
        from safetensors.numpy import load_file

        super().__init__(model_dir)
        self.heads = int(self.config["num_attention_heads"])
        self.layers = int(self.config["num_hidden_layers"])
        self.eps = float(self.config.get("layer_norm_eps", 1e-12))
        weights = load_file(str(self.model_dir / "model.safetensors"))
        prefix = "bert." if "bert.embeddings.word_embeddings.weight" in weights else ""
        self.w = {k[len(prefix):]: v.astype(np.float32, copy=False) for k, v in weights.items() if k.startswith(prefix)}

    def _hidden(self, token_ids: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        ids, mask = padded(token_ids)
        length = ids.shape[1]
        w = self.w
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length][None]
            + w["embeddings.token_type_embeddings.weight"][0][None, None]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        batch, heads = x.shape[0], self.heads
        head_dim = self.dim // heads
        attn_bias = (1 - mask).astype(np.float32)[:, None, None, :] * np.float32(-1e9)
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
