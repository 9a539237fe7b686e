"""Conditions a question puts that similarity cannot judge: exclusions and numbers.

"Without fine-tuning" is met only by a sentence that says so ("without model re-training",
"off-the-shelf", "training-free"), never by one that mentions fine-tuning — which usually says
the opposite. "Of 85% or higher" is met only by a sentence whose numbers in that unit satisfy
it. Pure functions on text; rag.relevance scores sentences with them.
"""

from __future__ import annotations

import re

from rag.shapes import NUMBER_CONDITION

# A condition that excludes something ("without fine-tuning", "no labels"): a sentence meets it
# only by saying so, never by mentioning the excluded thing — that is usually the opposite.
_NEGATED_ASPECT = re.compile(r"^(?:without|with no|no|not|free of|rather than|instead of|other than|except|but not|and not)\b\s*", re.I)
_NEGATION_CUE = r"(?:without|no|not|never|free of|w/o|eliminat\w*|avoid\w*|dispens\w* with|removing the need for)"
# How abstracts say "no training needed" without the question's words (a question's "without
# fine-tuning" is met by "off-the-shelf" or "training-free").
_TRAINING = re.compile(r"^(?:re-?)?(?:train|fine-?tun|finetun|tun|learn|optimi[sz]|updat|gradient)", re.I)
_NO_TRAINING = re.compile(
    r"(?<!with and )(?<!both )\b(?:training[- ]free|tuning[- ]free|off[- ]the[- ]shelf|plug[- ]and[- ]play|"
    r"zero[- ]shot (?:method|approach|manner|fashion|way|setting|framework|technique|pruning|merging|compression|quantization)|"
    r"without (?:any |additional |extra |further |model |the need for |requiring )*(?:re-?)?(?:training|fine-?tuning|retraining|tuning)|"
    r"no (?:additional |extra |further )?(?:re-?)?(?:training|fine-?tuning|tuning)|"
    r"(?:does|do|did) not (?:require|need) (?:any )?(?:additional |extra |further )?(?:re-?)?(?:training|fine-?tuning))\b", re.I)


def negated_terms(aspect: str) -> list[str] | None:
    """The excluded words of a negated condition ("without fine-tuning" -> ["fine-tuning"]), else None."""
    match = _NEGATED_ASPECT.match(aspect.strip())
    if not match:
        return None
    rest = aspect.strip()[match.end():]
    words = re.findall(r"[\w-]{3,}", rest)
    return [w for w in words if w.lower() not in ("any", "the", "additional", "extra", "further", "model", "models")] or None


def says_without(sentence: str, excluded: list[str]) -> bool:
    """Does the sentence state the absence of the excluded thing?"""
    if any(_TRAINING.match(w) for w in excluded) and _NO_TRAINING.search(sentence):
        return True
    for word in excluded:
        stem = re.escape(word.lower()[: max(4, len(word) - 3)])
        if re.search(rf"(?<!with and )(?<!both )\b{_NEGATION_CUE}\s+(?:\w+[\s-]+){{0,3}}?{stem}|\b{stem}[\w-]*[- ]free\b", sentence, re.I):
            return True
    return False


_SERIES = r"(?:\d+(?:\.\d+)?\s*/\s*)*"  # "108 / 74 FPS": each number of the series is in the unit
_UNITS = {  # unit -> how sentences write numbers in it
    "%": re.compile(r"(\d+(?:\.\d+)?)\s*(?:\\?%|percent\b)", re.I),
    "bit": re.compile(r"(\d+)\s*-?\s*bits?\b|\bW(\d+)A\d+|\bINT(\d+)\b|\bFP(\d+)\b", re.I),
    "fps": re.compile(rf"{_SERIES}(\d+(?:\.\d+)?)\s*(?:fps\b|frames per second)", re.I),
    "ms": re.compile(rf"{_SERIES}(\d+(?:\.\d+)?)\s*(?:ms|milliseconds)\b", re.I),
}
_LOWER_IS_ASKED = re.compile(r"\b(?:fewer|less|lower|smaller|slower|below|under|at most|up to)\b", re.I)
_HIGHER_IS_ASKED = re.compile(r"\b(?:more|higher|greater|faster|larger|better|above|over|at least|exceeding)\b", re.I)


def number_condition(aspect: str) -> tuple[str, float, str] | None:
    """'of 85% or higher' -> ('>=', 85.0, '%'); '4 bits or fewer' -> ('<=', 4.0, 'bit')."""
    match = NUMBER_CONDITION.fullmatch(aspect.strip())
    if not match:
        return None
    value = float(re.search(r"\d+(?:\.\d+)?", aspect).group(0))
    text = aspect.lower()
    unit = "%" if ("%" in text or "percent" in text) else "bit" if "bit" in text else \
        "fps" if ("fps" in text or "frames per second" in text) else "ms"
    op = "<=" if _LOWER_IS_ASKED.search(text) else ">=" if _HIGHER_IS_ASKED.search(text) else "=="
    return op, value, unit


def meets_number(sentence: str, condition: tuple[str, float, str]) -> bool:
    """Does the sentence state a number in the condition's unit that satisfies it?"""
    op, value, unit = condition
    for match in _UNITS[unit].finditer(sentence):
        numbers = [float(next(g for g in match.groups() if g))]
        if unit in ("fps", "ms"):
            numbers = [float(n) for n in re.findall(r"\d+(?:\.\d+)?", match.group(0))]
        for number in numbers:
            if (op == ">=" and number >= value) or (op == "<=" and number <= value) or (op == "==" and number == value):
                return True
    return False
