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


_WORD = re.compile(r"[A-Za-z0-9][\w'-]*")
MAX_ALTERNATIVES = 6
_FUNCTION = {"in", "on", "for", "with", "of", "to", "from", "by", "as", "at", "into", "whether", "such", "like", "the", "a", "an"}


def alternatives(text: str) -> list[str]:
    """One phrasing per option of each "A, B or C" the text offers: a paper meets "tracking objects
    in camera video, point clouds or sensor measurements" by meeting any one of them. Options
    are as long as the middle ones (one word when there are only two: "images or video"); what
    follows the last option is shared ("pruning, dropping or merging image tokens")."""
    words = [(m.start(), m.end()) for m in _WORD.finditer(text)]
    out: list[str] = []
    for at, (start, end) in enumerate(words):
        if text[start:end].lower() == "or" and 0 < at < len(words) - 1:
            options = _options(text, words, at)
            head, tail = text[:words[options[0][0]][0]], text[words[options[-1][1] - 1][1]:]  # around the list
            for first, last in options:
                out.append(" ".join((head + text[words[first][0]:words[last - 1][1]] + tail).split()))
    return list(dict.fromkeys(o for o in out if o != text))[:MAX_ALTERNATIVES]


def _groups(text: str, words: list[tuple[int, int]], at: int) -> list[tuple[int, int]]:
    """The word spans before "or" at `at`, last first: the one just before it, then one per comma
    further left (each at most three words)."""
    groups, cut = [], at
    while cut > 0 and len(groups) < MAX_ALTERNATIVES:
        start = cut - 1
        while start > 0 and cut - start < 3 and not text[words[start - 1][1]:words[start][0]].strip():
            start -= 1
        opens = next((i for i in range(start, cut) if text[words[i][0]:words[i][1]].lower() in _FUNCTION), None)
        if opens is not None and opens + 1 < cut:  # "…, in reinforcement learning, …": the list starts after "in"
            groups.append((opens + 1, cut))
            break
        groups.append((start, cut))
        if start == 0 or "," not in text[words[start - 1][1]:words[start][0]]:
            break
        cut = start
    return groups


def _options(text: str, words: list[tuple[int, int]], at: int) -> list[tuple[int, int]]:
    groups = _groups(text, words, at)
    size = min(c - s for s, c in groups[:-1]) if len(groups) > 1 else 1
    before = [(max(s, c - size), c) for s, c in reversed(groups)]
    return before + [(at + 1, min(len(words), at + 1 + size))]

