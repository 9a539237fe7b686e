"""Which device the ingest encoder runs on: Settings.embed_device ("cpu", "cuda", "auto")
resolved against the installed torch and the chosen backend, or a one-line UsageError.

Only the torch backend (sentence-transformers) runs on a GPU; the onnx backends and the
query encoder run on the CPU. "cpu" imports nothing; "cuda" and "auto" import torch (the
torch backend imports it anyway). No model is loaded here.
"""

from __future__ import annotations

from rag.errors import UsageError

DEVICES = ("cpu", "cuda", "auto")


def cuda_available() -> bool:
    """torch.cuda.is_available(), looked up at call time so tests can monkeypatch it."""
    import torch

    return bool(torch.cuda.is_available())


def resolve_device(requested: str, backend: str = "torch", flag: str = "--device") -> str:
    """"cpu" or "cuda": where the ingest encoder of `backend` (Settings.embed_backend; "auto"
    runs torch on a GPU) runs when `requested` is asked for; `flag` names the option in errors
    (--device, or RAG_EMBED_DEVICE)."""
    if requested not in DEVICES:
        raise UsageError(f"{flag} {requested}: choose one of {', '.join(DEVICES)}")
    if requested == "cpu":
        return "cpu"
    if backend not in ("torch", "auto"):  # auto: torch wherever a GPU is asked for
        if requested == "auto":
            return "cpu"  # onnx runs on the CPU; auto asks for nothing more
        raise UsageError(f"{flag} cuda works with the torch backend only ({backend} runs on the CPU): use "
                         f"--embed-backend torch --device cuda, or --device cpu with torch, onnx or onnx-int8")
    if cuda_available():
        return "cuda"
    if requested == "auto":
        return "cpu"
    import torch

    if torch.version.cuda is None:
        raise UsageError(f"{flag} cuda: this torch build has no CUDA (torch {torch.__version__}); "
                         "run `make setup-gpu` or use --device cpu")
    raise UsageError(f"{flag} cuda: torch {torch.__version__} (CUDA {torch.version.cuda}) sees no GPU; check the "
                     "NVIDIA driver (nvidia-smi) or use --device cpu")
