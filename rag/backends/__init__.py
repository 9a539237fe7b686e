"""LLM backends behind one tiny interface, chosen by an `--llm` spec.

A backend turns chat messages into a stream of text pieces. Each kind lives in its own
small module that exposes `load(arg, settings) -> Backend`; adding one means writing that
module and one line in `MODULES`. `extractive` is not here: it needs no model (see
rag/extractive.py). Failures to reach a backend raise `BackendUnavailable` (exit 3) with a
message that names the backend and the fix, never a key.
"""

from __future__ import annotations

import importlib
from typing import Iterable, Iterator, Protocol

from rag.errors import UsageError

MODULES = {
    "local": "rag.backends.llamacpp",
    "gguf": "rag.backends.llamacpp",
    "ollama": "rag.backends.ollama",
    "openai": "rag.backends.openai",
}
EXTRACTIVE = "extractive"
SPEC_HELP = "use extractive, local, gguf:/path/model.gguf, ollama:MODEL or openai:MODEL"


class Backend(Protocol):
    name: str  # what produced the answer, e.g. "local:SmolLM2-135M-Instruct"
    context_tokens: int  # the model's context window

    def stream(self, messages: list[dict[str, str]]) -> Iterator[str]:
        """Yield the reply in pieces; raise BackendUnavailable when the backend fails."""
        ...


def parse_spec(spec: str) -> tuple[str, str]:
    kind, sep, arg = spec.strip().partition(":")
    needs_arg = kind in ("gguf", "ollama", "openai")
    if (kind not in MODULES and kind != EXTRACTIVE) or (needs_arg and not arg.strip()) or (not needs_arg and sep):
        raise UsageError(f"unknown --llm spec {spec!r}: {SPEC_HELP}")
    return kind, arg.strip()


def load_backend(spec: str, settings) -> Backend | None:
    """The backend for a spec, or None for `extractive`."""
    kind, arg = parse_spec(spec)
    if kind == EXTRACTIVE:
        return None
    return importlib.import_module(MODULES[kind]).load(kind, arg, settings)


def secret_key(settings) -> str:
    """The API key worth hiding ('' when there is none, or it is too short to search for)."""
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else ""
    return key if len(key) >= 4 else ""


def redact(text: str, settings) -> str:
    """Remove the API key from any text that may reach a user (defence in depth)."""
    key = secret_key(settings)
    return text.replace(key, "***") if key else text


def redact_stream(pieces: Iterable[str], settings) -> Iterator[str]:
    """`redact` for a streamed reply (a server may echo the key it was sent), where the key
    can arrive split over pieces: an end of the text that could start the key is held back
    until the next piece shows whether it does; everything else passes at once."""
    key = secret_key(settings)
    if not key:
        yield from pieces
        return
    pending = ""
    for piece in pieces:
        text = (pending + piece).replace(key, "***")
        hold = next((n for n in range(min(len(key) - 1, len(text)), 0, -1) if key.startswith(text[-n:])), 0)
        pending = text[len(text) - hold:] if hold else ""
        if text[:len(text) - hold]:
            yield text[:len(text) - hold]
    if pending:
        yield pending
