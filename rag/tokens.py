"""Token counts for prompt budgets: tiktoken's cl100k_base, from llama-index's offline copy.

tiktoken downloads its encodings on first use, which fails offline; llama-index-core ships
cl100k_base, so we point TIKTOKEN_CACHE_DIR at it before the first use.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from pathlib import Path


def point_tiktoken_at_bundled_encodings() -> None:
    spec = importlib.util.find_spec("llama_index.core")
    if spec and spec.origin and "TIKTOKEN_CACHE_DIR" not in os.environ:
        os.environ["TIKTOKEN_CACHE_DIR"] = str(Path(spec.origin).parent / "_static" / "tiktoken_cache")


@functools.lru_cache(maxsize=1)
def _encoding():
    point_tiktoken_at_bundled_encodings()
    import tiktoken

    return tiktoken.get_encoding("cl100k_base")


def count_tokens(text: str) -> int:
    return len(_encoding().encode(text, disallowed_special=()))
