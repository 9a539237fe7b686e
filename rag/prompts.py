"""Prompt templates from `prompts/`: load, check placeholders, fill.

A template names its placeholders as `{name}`; `render` refuses a template whose
placeholders are not exactly the values given, so a typo cannot reach a user or a model.
"""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def render(prompts_dir: Path, name: str, **values: Any) -> str:
    path = Path(prompts_dir) / name
    template = path.read_text(encoding="utf-8")
    wanted, given = placeholders(template), set(values)
    if wanted != given:
        raise ValueError(f"prompt template {path} has placeholders {sorted(wanted)}, code supplies {sorted(given)}")
    return template.format(**values).strip()
