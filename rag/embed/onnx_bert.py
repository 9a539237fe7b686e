"""The bundled BERT sentence encoder run by ONNX Runtime (fp32, or int8 weights), for ingest.

Why: sentence-transformers runs the model through PyTorch, which costs 8-10 s of imports and
is not the fastest CPU runtime for a 6-layer BERT; ONNX Runtime fuses the graph (LayerNorm,
GELU, attention) and can run int8 weights. The same safetensors weights are exported once to
`<cache>/<key>/model.onnx` (and quantised to `model-int8.onnx`), keyed by the model folder's
path and its weights' size and mtime, so a changed model re-exports by itself.
Exporting needs torch + transformers; loading a cached file needs only onnxruntime, tokenizers
and NumPy. Writes go to a temp file renamed into place: a killed export leaves no broken model.
This module exports, caches and runs the graph (the token vectors); the tokenizer, batching
and pooling are rag.embed.bert's. Supports BERT models with mean pooling, i.e. the bundled
all-MiniLM-L6-v2; `tests/integration/test_encoder_contract.py` holds its rows to
sentence-transformers', `tests/integration/test_onnx_embed.py` checks the cache.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from rag.embed.bert import BertEncoder, mean_pooled_bert_config, padded

# Bump when the exported graph changes (inputs, opset, export code): old cache entries are skipped.
EXPORT_FORMAT = 1
OPSET = 17
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
STALE_TEMP_SECONDS = 3600  # a temp file this old belongs to an export that died


def supports(model_dir: Path) -> bool:
    """True when the folder holds a BERT model with mean pooling that this encoder can run
    (ONNX runs any activation and position embedding the graph exports)."""
    return mean_pooled_bert_config(model_dir) is not None


def default_cache_dir(configured: Path | None = None) -> Path:
    """`configured` (Settings.onnx_cache), else the one Settings reads from RAG_ONNX_CACHE, else
    the Python environment's own folder (<venv>/share/paper-qa/onnx, which goes with the venv and
    the model installed in it: a fresh clone's export does not pile up in the home folder), or
    ~/.cache/paper-qa/onnx outside a virtual environment."""
    if configured is None:
        from rag.settings import Settings

        configured = Settings.build().onnx_cache
    if configured:
        return Path(configured).expanduser()
    venv = Path(sys.prefix) / "share" / "paper-qa" / "onnx"
    if sys.prefix != sys.base_prefix and (venv.exists() or os.access(sys.prefix, os.W_OK)):
        return venv  # (a venv someone else installed and this user cannot write: the home folder)
    return Path.home() / ".cache" / "paper-qa" / "onnx"


def cache_key(model_dir: Path) -> str:
    weights = (model_dir / "model.safetensors").stat()
    source = f"{Path(model_dir).resolve()}|{weights.st_size}|{weights.st_mtime_ns}|format{EXPORT_FORMAT}"
    return hashlib.sha256(source.encode()).hexdigest()[:16]


def model_file_name(quantize: bool) -> str:
    return "model-int8.onnx" if quantize else "model.onnx"


def _temp_path(final: Path) -> Path:
    handle, name = tempfile.mkstemp(prefix=final.name + ".", suffix=".tmp", dir=final.parent)
    os.close(handle)
    return Path(name)


def _publish(temp: Path, final: Path) -> None:
    with open(temp, "rb+") as handle:
        os.fsync(handle.fileno())  # the bytes are on disk before the name points at them
    os.replace(temp, final)


def _drop_stale_temps(folder: Path) -> None:
    for path in folder.glob("*.tmp"):
        try:
            if time.time() - path.stat().st_mtime > STALE_TEMP_SECONDS:
                path.unlink()
        except OSError:
            pass  # another process took it first


def export_onnx(model_dir: Path, out_dir: Path, quantize: bool) -> Path:
    """Export the model to `out_dir/model.onnx` (and quantise it to `model-int8.onnx` when
    `quantize`); returns the requested file. Reuses an fp32 file already there for int8."""
    out_dir.mkdir(parents=True, exist_ok=True)
    _drop_stale_temps(out_dir)
    fp32 = out_dir / model_file_name(False)
    if not fp32.exists():
        _export_fp32(Path(model_dir), fp32)
    if not quantize:
        return fp32
    from onnxruntime.quantization import QuantType, quantize_dynamic

    int8 = out_dir / model_file_name(True)
    temp = _temp_path(int8)
    previous = logging.root.manager.disable
    logging.disable(logging.WARNING)  # "consider pre-processing": it changes nothing here
    try:
        # int8 weights; activations are quantised per batch at run time. Per channel, because
        # one scale per matrix lost too much in the FFN output layers (cosine to fp32 fell to
        # 0.91 on some abstracts; per channel keeps it near 0.99).
        quantize_dynamic(str(fp32), str(temp), weight_type=QuantType.QInt8, per_channel=True)
        _publish(temp, int8)
    finally:
        logging.disable(previous)
        temp.unlink(missing_ok=True)
    return int8


def _export_fp32(model_dir: Path, final: Path) -> None:
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    # Eager attention exports as plain MatMul/Softmax; SDPA's trace adds warnings about
    # data-dependent branches (its output was right too, but there is nothing to gain).
    bert = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager")

    class LastHiddenState(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(input_ids=input_ids, attention_mask=attention_mask,
                              token_type_ids=token_type_ids).last_hidden_state

    wrapper = LastHiddenState(bert).eval()  # eval() on the wrapper: export restores its mode
    # Trace with padding in the mask, so no "all ones, skip the mask" shortcut is baked in.
    ids = torch.full((2, 8), 1000, dtype=torch.long)
    mask = torch.ones_like(ids)
    mask[1, 5:] = 0
    axes = {name: {0: "batch", 1: "sequence"} for name in (*INPUTS, "last_hidden_state")}
    temp = _temp_path(final)
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # legacy-exporter deprecation and tracer notes
            torch.onnx.export(wrapper, (ids, mask, torch.zeros_like(ids)), str(temp), dynamo=False,
                              input_names=list(INPUTS), output_names=["last_hidden_state"],
                              dynamic_axes=axes, opset_version=OPSET, do_constant_folding=True)
        _publish(temp, final)
    finally:
        temp.unlink(missing_ok=True)


def onnx_model_path(model_dir: Path, quantize: bool, cache_dir: Path | None = None) -> Path:
    """The cached ONNX file for this model, exported on first use (that needs torch)."""
    folder = (cache_dir or default_cache_dir()) / cache_key(Path(model_dir))
    path = folder / model_file_name(quantize)
    if path.exists():
        return path
    print(f"exporting the embedding model to ONNX{' (int8)' if quantize else ''} in {folder}, once "
          "(about 20 s)", file=sys.stderr, flush=True)
    try:
        return export_onnx(Path(model_dir), folder, quantize)
    except PermissionError:
        from rag.errors import UsageError

        raise UsageError(f"cannot write the ONNX export to {folder}: set RAG_ONNX_CACHE to a folder you can "
                         "write, or use --embed-backend torch") from None


class OnnxEncoder(BertEncoder):
    # About four full windows per run: on 2 cores int8 embeds the shipped corpus's chunks at
    # ~80/s this way against ~60/s in batches of 32 (the working set stays in cache; bench in
    # docs/embedding.md); short texts (sentences) still go 32 at a time.
    max_batch_tokens = 1024

    def __init__(self, model_dir: Path, quantize: bool = False, threads: int | None = None,
                 cache_dir: Path | None = None):
        import onnxruntime as ort

        super().__init__(model_dir)
        self.path = onnx_model_path(self.model_dir, quantize, cache_dir)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # errors only: no optimiser chatter on stderr
        self.session = ort.InferenceSession(str(self.path), sess_options=options, providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}

    def _hidden(self, token_ids: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        input_ids, mask = padded(token_ids)
        feeds = {"input_ids": input_ids, "attention_mask": mask, "token_type_ids": np.zeros_like(input_ids)}
        hidden = self.session.run(["last_hidden_state"], {k: v for k, v in feeds.items() if k in self.inputs})[0]
        return hidden, mask


def main(argv: list[str] | None = None) -> None:
    """`python -m rag.embed.onnx_bert [MODEL]`: export MODEL (default the bundled one) to the
    cache (Settings.onnx_cache) for the onnx backends, so the first ingest does not; `make
    setup` runs it. Prints the int8 file's path."""
    from rag.embed import model_dir

    name = (argv if argv is not None else sys.argv[1:]) or ["all-MiniLM-L6-v2"]
    path = model_dir(name[0])
    if not supports(path):
        raise SystemExit(f"{name[0]}: not a BERT model with mean pooling; the onnx backends cannot run it")
    print(onnx_model_path(path, quantize=True, cache_dir=default_cache_dir()))


if __name__ == "__main__":
    main()
