"""Sentence splitting for abstracts and model answers (no dependencies beyond `re`).

Knows the abbreviations that end in a full stop inside scientific prose ("e.g.", "et al.",
"Fig. 2", "vs.") and single initials, so they do not end a sentence.
"""

from __future__ import annotations

import re

# A sentence ends at . ! ? followed by space and an upper-case letter, digit, quote or a tag
# ("</source>" injected into an abstract starts a sentence of its own),
# unless the dot belongs to a known abbreviation ("e.g.", "et al.", "Fig.").
_ABBREVIATIONS = ("e.g", "i.e", "al", "etc", "vs", "fig", "figs", "eq", "eqs", "cf", "approx", "resp", "no", "dr", "mr", "ms")
_BOUNDARY = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[A-Z0-9\"'(\[<])")


def split_sentences(text: str) -> list[str]:
    pieces, start = [], 0
    for match in _BOUNDARY.finditer(text):
        head = text[start:match.start()].rstrip()
        last_word = head.rsplit(" ", 1)[-1].strip(".!?\"'()[]").lower()
        if last_word in _ABBREVIATIONS or re.fullmatch(r"[a-z]", last_word):
            continue  # "e.g. BERT" or an initial: not a boundary
        pieces.append(text[start:match.start()].strip())
        start = match.end()
    pieces.append(text[start:].strip())
    return [p for p in pieces if p]


_BOILERPLATE = re.compile(r"^(?:our |the |all )?(?:source )?(?:code|models?|data(?:set)?s?|project page|demo|weights)\b.{0,60}"
                          r"(?:available|released|found|public|https?:)", re.IGNORECASE)


def is_boilerplate(sentence: str) -> bool:
    """Code/project-page availability lines and fragments say nothing about a question."""
    return bool(_BOILERPLATE.search(sentence)) or len(sentence.split()) < 5
