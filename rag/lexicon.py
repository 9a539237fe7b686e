"""Other words abstracts use for an idea a question names, so a condition is met however a
paper phrases it: a question about pruning tokens is also answered by a paper that merges or
selects tokens ("token reduction"); one about quantizing is also met by "4-bit" or "INT8".

Deliberately small: each family is an equivalence the field itself uses, not a synonym list
tuned to questions. "Without training" is handled where negations are (rag.relevance).
"""

from __future__ import annotations

import re

FAMILIES: list[tuple[re.Pattern[str], tuple[str, ...]]] = [
    (re.compile(r"\b(?:prun\w*|merg\w*|drop\w*|reduc\w*|select\w*|remov\w*|discard\w*)\s+(?:\w+\s+){0,2}?tokens?\b"
                r"|\btokens?[- ](?:pruning|merging|dropping|reduction|selection|sparsification)\b", re.I),
     ("token pruning", "token merging", "reduce the number of tokens", "select the tokens to keep")),
    (re.compile(r"\bquantiz\w*|\blow[- ]bit\b|\b\d+[- ]?bits?\b|\bint[48]\b", re.I),
     ("quantization", "low-bit quantization", "4-bit weights and activations", "INT8 quantization")),
]


def equivalents(text: str) -> list[str]:
    """The phrasings equivalent to what `text` names (empty when no family applies)."""
    out: list[str] = []
    for pattern, phrases in FAMILIES:
        if pattern.search(text):
            out.extend(p for p in phrases if p.lower() not in text.lower())
    return out
