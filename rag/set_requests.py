"""What a follow-up about the papers in play asks of them (rag.working_set tells that it refers to
them): filtered by a condition ("of those, which report ImageNet results?"), by what the records
carry (code, year, category), compared, summed up ("What do they have in common?"), one picked by
position ("the second one"), ranked on a measure ("which of them is the fastest?"), or which to
read first. `read_request` reads it into a `SetRequest`; rag.set_answers answers it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.working_set import NARROW, SET_NOUN, THEM, YEAR, year_wanted

_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
_ORDINALS = {"first": 0, "second": 1, "third": 2, "fourth": 3, "fifth": 4}
_FIRST_N = re.compile(r"\bthe (first|last|top) (one|two|three|four|five|\d+)\b", re.IGNORECASE)
_NTH = re.compile(r"\bthe (first|second|third|fourth|fifth|last) (?:one|paper|work|method|model|approach)\b", re.IGNORECASE)
_COMPARE = re.compile(r"\b(?:compare|comparison|contrast|differ|difference|versus|vs\.?)\b", re.IGNORECASE)
# Asking about the set as a whole: a block per paper, as a comparison gives.
_SUMMARY = re.compile(r"\b(?:summari[sz]e|summary|overview|describe|tell me (?:more )?about (?:them|these|those))\b",
                      re.IGNORECASE)
# Which of the papers in play to read first: "Which one should I read first?", "Where should I start?"
_READ_FIRST = re.compile(r"\b(?:read|start with|begin with|look at)\s+first\b|\bwhere\s+(?:should|do|can|would)\s+(?:i|we)\s+"
                         r"(?:start|begin)\b|\b(?:start|begin)\s+with\s+(?:which|what)\b|\bwhich\s+(?:one|paper)\s+"
                         r"(?:should|would)\s+(?:i|we|you)\s+(?:read|start|begin|recommend)\b", re.IGNORECASE)
# What the papers in play share: each one's sentence nearest to what they all say (rag.set_answers).
_COMMON = re.compile(r"\b(?:in common|common (?:to|between|among)|similarities|shared by (?:them|these|those|all|both))\b"
                     r"|^\W*(?:and |so )?what\s+(?:do|does|did)\s+(?:they|these|those|the \w+|both|all of them)\s+(?:\w+\s+)?share\W*$",
                     re.IGNORECASE)
_COUNT = re.compile(r"^\s*how many\b", re.IGNORECASE)
_CODE = re.compile(r"\b(?:code|source code|implementation|github|open[- ]source[ds]?)\b", re.IGNORECASE)
_CATEGORY = re.compile(r"\b(?P<cat>[a-z]{2,8}(?:-[a-z]{2})?\.[A-Z]{2})\b")
# What is left of the follow-up once its reference is taken out is its condition.
_STRIP = re.compile(
    rf"^\s*(?:and|so|now|ok(?:ay)?|then)?[\s,]*"
    rf"|\b(?:which|what|how many|any|all|each|none|both|some)(?: \w+)? (?:of|among) {THEM}\b[\s,]*"
    rf"|\b(?:out of|of|among|from|between|in|across) {THEM}\b[\s,]*"
    rf"|\b(?:those|these|the above|the listed|the same|the previous|the earlier) {SET_NOUN}\b"
    rf"|{NARROW}(?: (?:the ones|those|these|papers|ones)\b)?(?: (?:that|which|with)\b(?= \w+ \w+))?"
    r"|^\s*(?:which|what|how many) ones?\b|\b(?:do|did|are|were|have|had) they\b"
    r"|\bdo (?:any|all|both|none)\b(?: of them)?|\b(?:also|still|too|please)\b|[?.!]+\s*$", re.IGNORECASE)


@dataclass
class SetRequest:
    kind: str  # "filter" | "code" | "year" | "category" | "compare" | "pick" (one paper by position) | "rank"
    # | "about" (a look-up about the papers just answered: asks_about_them) | "common" (what they share)
    # | "start" (which to read first)
    condition: str  # the follow-up's own condition, the reference taken out ("report ImageNet results")
    question: str = ""  # the follow-up as asked
    picks: list[int] | None = None  # positions in the set ("the first two" -> [0, 1]; "the last one" -> [-1])
    year: tuple[str, int] | None = None  # ("after", 2022); ("latest", 0) / ("earliest", 0): the newest / oldest
    category: str | None = None
    count: bool = False  # "how many of them …"


def read_request(question: str) -> SetRequest:
    condition = " ".join(_STRIP.sub(" ", question).split()).strip(" ,")
    count = bool(_COUNT.match(question))
    picks = _picks(question)
    condition = re.sub(r"^(?:which|what|who)\s+", "", condition, flags=re.IGNORECASE)
    # "Are any of them trained without labels?" -> "trained without labels"
    condition = re.sub(r"^(?:are|is|were|was|do|does|did)\s+(?=\w+)", "", condition, flags=re.IGNORECASE)
    if _READ_FIRST.search(question):
        return SetRequest("start", condition, question)
    if _COMMON.search(question) and not _COMPARE.search(question) and not picks:
        return SetRequest("common", condition, question)
    if _COMPARE.search(question) or _SUMMARY.search(question) or (picks and len(picks) >= 2):
        return SetRequest("compare", condition, question, picks, count=count)
    if picks:
        return SetRequest("pick", condition, question, picks)
    if _CODE.search(question):
        return SetRequest("code", condition, question, picks, count=count)
    year = YEAR.search(question)
    if year:
        return SetRequest("year", condition, question, picks, year=year_wanted(year), count=count)
    category = _CATEGORY.search(question)
    if category:
        return SetRequest("category", condition, question, picks, category=category.group("cat"), count=count)
    recency = _RECENCY.search(condition)
    if recency:  # "which of them is the most recent?": by the records' dates, not by what abstracts say
        said = recency.group(0).lower()
        latest = not (said.startswith(("old", "earli")) or said.endswith("first"))
        return SetRequest("year", condition, question, picks, year=("latest" if latest else "earliest", 0), count=count)
    ranked_by = _RANK_BY.search(question)
    if ranked_by:  # "Rank them by speed.": what each reports on it, as a superlative gets
        return SetRequest("rank", ranked_by.group("measure"), question, picks)
    if _SUPERLATIVE.search(condition) and not count:
        return SetRequest("rank", _measured(condition) or condition, question, picks)
    return SetRequest("filter", condition or question, question, picks, count=count)


_RANK_BY = re.compile(r"\b(?:rank|sort|order)\b.*?\bby (?:their |its )?(?P<measure>[\w -]+?)\s*[?.!]*$", re.I)
_RECENCY = re.compile(r"\b(?:newest|latest|most recent(?:ly(?: published| released| posted)?)?|"
                      r"(?:published|released|posted|came out|appeared) (?:most recently|first|last)|oldest|earliest)\b", re.I)
# A superlative over the set ("which of them is the fastest?", "…reports the highest speedup?"):
# abstracts do not measure on one scale, so no paper "matches"; each is shown with what it reports
# on that measure, which is what the superlative's words are turned into.
_SUPERLATIVE = re.compile(r"\b(?:the\s+)?(?:(?:most|least)\s+(?=[a-z])|(?:fastest|quickest|slowest|best|worst|highest|lowest|"
                          r"largest|smallest|biggest|cheapest|strongest|fewest|shortest|longest|lightest|greatest)\b)", re.I)
_MEASURE_OF = {"fastest": "speed", "quickest": "speed", "slowest": "speed", "cheapest": "cost", "lightest": "size",
               "strongest": "performance", "best": "performance", "worst": "performance", "biggest": "size",
               "largest": "size", "smallest": "size"}


def _measured(condition: str) -> str:
    """The measure a superlative asks about: "is the fastest" -> "speed", "reports the highest
    speedup" -> "speedup" (a noun after it is the measure), "is the most accurate" -> "accurate"."""
    def measure(found: re.Match) -> str:
        word = found.group(0).split()[-1].lower()
        noun_follows = re.match(r"\s+(?!(?:on|in|at|for|among|of|overall|when|while|with)\b)[a-z]", condition[found.end():], re.I)
        return " " if noun_follows or word not in _MEASURE_OF else f" {_MEASURE_OF[word]} "
    text = " ".join(_SUPERLATIVE.sub(measure, condition).split())
    return re.sub(r"^(?:is|are|was|were|has|have|gives?|runs?|performs?|reports?|achieves?|gets?|reaches|shows?|uses?)\s+"
                  r"(?=\w)", "", text, flags=re.I).strip()


def _picks(question: str) -> list[int] | None:
    first_n = _FIRST_N.search(question)
    if first_n:
        which, size = first_n.group(1).lower(), first_n.group(2).lower()
        n = int(size) if size.isdigit() else _NUMBERS[size]
        return list(range(-n, 0)) if which == "last" else list(range(n))
    nth = _NTH.search(question)
    if nth:
        word = nth.group(1).lower()
        return [-1] if word == "last" else [_ORDINALS[word]]
    return None
