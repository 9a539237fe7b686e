"""What every BERT encoder we run ourselves shares: the tokenizer, batching, pooling.

`BertEncoder` reads a sentence-transformers folder holding a BERT with mean pooling (see
`mean_pooled_bert_config`), tokenizes with the `tokenizers` package (fast to import),
batches texts of similar length, mean-pools the last layer over each text (and, for
`encode_with_spans`, over character spans of it, rag.pooling) and L2-normalises, once, here.
A subclass computes one thing: a batch's last-layer token vectors (`_hidden`) — in NumPy
(rag.embed.numpy_bert), ONNX Runtime (rag.embed.onnx_bert) or PyTorch (rag.embed.sbert).
No weights are loaded and no model is run here, and which encoder a command gets is
rag.embed's choice. `tests/integration/test_encoder_contract.py` holds every encoder to the
same vectors.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from rag.pooling import Span, mean_pool, pool_spans


def mean_pooled_bert_config(model_dir: Path) -> dict | None:
    """config.json of a BERT sentence model with mean pooling, safetensors weights, a
    tokenizer.json and a sentence_bert_config.json in `model_dir`; None when the folder is not one."""
    model_dir = Path(model_dir)
    try:
        config = json.loads((model_dir / "config.json").read_text())
        pooling = json.loads((model_dir / "1_Pooling" / "config.json").read_text())
    except (OSError, ValueError):
        return None
    ok = (
        config.get("model_type") == "bert"
        and pooling.get("pooling_mode_mean_tokens") is True
        and not any(pooling.get(k) for k in ("pooling_mode_cls_token", "pooling_mode_max_tokens"))
        and all((model_dir / name).exists() for name in ("model.safetensors", "tokenizer.json", "sentence_bert_config.json"))
    )
    return config if ok else None


def padded(ids: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """A batch of token ids as a zero-padded (batch, longest) int64 array, and its mask (1 = token)."""
    length = max(len(row) for row in ids)
    input_ids = np.zeros((len(ids), length), dtype=np.int64)
    mask = np.zeros((len(ids), length), dtype=np.int64)
    for row, pieces in enumerate(ids):
        input_ids[row, : len(pieces)] = pieces
        mask[row, : len(pieces)] = 1
    return input_ids, mask


class BertEncoder:
    """Base of the BERT encoders: subclasses implement `_hidden`. Rows are L2-normalised
    float32, so a dot product is a cosine similarity."""

    # Most padded tokens (rows x longest) in one batch; None: batch_size alone decides.
    max_batch_tokens: int | None = None

    def __init__(self, model_dir: Path):
        from tokenizers import Tokenizer

        model_dir = Path(model_dir)
        self.model_dir = model_dir
        self.config = json.loads((model_dir / "config.json").read_text())
        st_config = json.loads((model_dir / "sentence_bert_config.json").read_text())
        self.max_tokens = int(st_config.get("max_seq_length", 512))
        self.dim = int(self.config["hidden_size"])
        self.tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=self.max_tokens)
        self.tokenizer.no_padding()

    def count_tokens(self, text: str) -> int:
        """Word pieces of `text` including [CLS]/[SEP], before truncation."""
        self.tokenizer.no_truncation()
        try:
            return len(self.tokenizer.encode(text).ids)
        finally:
            self.tokenizer.enable_truncation(max_length=self.max_tokens)

    def encode(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        return self._encode(texts, None, batch_size)[0]

    def encode_with_spans(self, texts: list[str], spans: list[list[Span]],
                          batch_size: int = 32) -> tuple[np.ndarray, list[np.ndarray]]:
        """Text vectors (as `encode`), and per text one vector per character span, pooled
        from the same forward pass (rag.pooling)."""
        return self._encode(texts, spans, batch_size)

    def _encode(self, texts: Sequence[str], spans: Sequence[Sequence[Span]] | None,
                batch_size: int) -> tuple[np.ndarray, list[np.ndarray]]:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        pooled = [np.zeros((0, self.dim), np.float32)] * len(texts) if spans is not None else []
        encodings = self.tokenizer.encode_batch(list(texts)) if texts else []
        batches = self._batches([len(e.ids) for e in encodings], batch_size)
        for rows, hidden, mask in self._hidden_batches(encodings, batches):
            out[rows] = mean_pool(hidden, mask)
            if spans is not None:
                for at, i in enumerate(rows):
                    pooled[i] = pool_spans(hidden[at], encodings[i].offsets, spans[i])
        return out, pooled

    def _batches(self, lengths: Sequence[int], batch_size: int) -> Iterator[list[int]]:
        """Row numbers in batches of similar length, so short texts do not pay for a long
        one's padding; at most `batch_size` rows and `max_batch_tokens` padded tokens."""
        batch: list[int] = []
        for i in sorted(range(len(lengths)), key=lengths.__getitem__):
            too_long = self.max_batch_tokens is not None and (len(batch) + 1) * lengths[i] > self.max_batch_tokens
            if batch and (len(batch) >= batch_size or too_long):
                yield batch
                batch = []
            batch.append(i)
        if batch:
            yield batch

    def _hidden_batches(self, encodings, batches: Iterator[list[int]]) -> Iterator[tuple[list[int], np.ndarray, np.ndarray]]:
        """(rows, hidden, mask) per batch, in order; a subclass may run one batch ahead
        (rag.embed.sbert on a GPU pools a batch on the CPU while the next one runs)."""
        for rows in batches:
            yield (rows, *self._hidden([encodings[i].ids for i in rows]))

    def _hidden(self, ids: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        """(batch, longest, dim) last-layer token vectors of a batch of token ids, and the
        (batch, longest) padding mask (1 = token) they were computed with."""
        raise NotImplementedError
