"""The chat's working set: the papers earlier answers named, and follow-ups answered over them.

A researcher narrows down: "which methods prune tokens without fine-tuning?" → "of those, which
report ImageNet results?" → "which of them link code?" → "compare PiToMe and Zero-TPrune". A
follow-up that refers to the papers on the table ("of those", "which of them", "these papers",
"the first two") is answered over that set only; any other follow-up keeps the usual condensing
and a fresh search. This module tells such a follow-up (`refers_to_set`; what it asks of the
set is rag.set_requests) and reads the records' metadata; rag.set_answers judges the set's papers
with the same evidence scoring as any list question and composes the answer; the pipeline keeps
the set (rebuilt from the earlier questions on the command line, carried by the chat in the UI).

The set after an answer is what it named: every match of a list answer (even those past the
ones shown), else the papers it cites; an answer that names none leaves the set as it was.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from rag.conditions import NAME
from rag.shapes import shape_of

if TYPE_CHECKING:
    from rag.set_requests import SetRequest

MAX_WORKING_SET = 500  # paper ids a chat may send as its working set (an answer names at most its pool)
_COUNT_WORD = r"(?:one|two|three|four|five|six|seven|eight|nine|ten|\d+)"
SET_NOUN = r"(?:papers?|works?|methods?|approaches|models?|ones|studies|results?|systems?|techniques?|articles?)"
THEM = (rf"(?:(?:those|these|them|the above|the ones? above|the listed ones|that list|this list|the list(?: above)?|"
         rf"the (?:papers?|works?|methods?) above|the (?:listed|previous|earlier|same) {SET_NOUN})"
         rf"(?: {_COUNT_WORD})?(?: {SET_NOUN})?)")
# Asking to narrow the set down without naming it: "Keep only those…", "Narrow it down to…",
# "Only the ones with code", "Filter to papers with code", "Show only those from 2024".
NARROW = (r"\b(?:narrow (?:it|them|this|that|these|those)? ?down(?: to)?|keep only|only keep|only (?:the ones|those)|"
           r"filter (?:it |them |those |these )?(?:to|for|by|down to)|show (?:me )?only|restrict (?:it |them )?to)\b")
# What a follow-up may do to the papers as a whole: "compare them", "summarize them", "rank those".
_ACT_ON = r"(?:compare|contrast|summari[sz]e|describe|rank|sort|order|tabulate)"
_REFERS = re.compile(
    rf"\b(?:which|what|how many|any|all|each|none|both|either|neither|some|one|two|three|four|five|several|most|many)"
    rf"(?: \w+)? (?:of|among) {THEM}\b"
    rf"|\b(?:out of|of|among|from|between|in|across) {THEM}\b"
    rf"|\b(?:those|these|the above|the listed|the same|the previous|the earlier) {SET_NOUN}\b"
    # "do any of them / do any use…", not "do any papers…" (a list question of its own)
    rf"|\bdo (?:any|all|both|none)\b(?! (?:other )?{SET_NOUN}\b)"
    rf"|\b{_ACT_ON} (?:them|those|these|both)\b"
    r"|^\s*(?:and |so )?(?:which|what|how many) ones\b|^\s*(?:and |so )?(?:do|did|are|were|have|had) they\b"
    r"|^\s*(?:and |so )?(?:which|what) one\b(?! of)"  # "which one is the most recent?"
    # "How do they differ?", "What do they have in common?", "What do these share?"
    r"|^\s*(?:and |so )?(?:how|in what ways?|where|what)\s+(?:do|does|did)\s+(?:they|these|those|the (?:papers|two|three)"
    r"|both)\s+(?:\w+\s+)?(?:differ|compare|contrast|have in common|share|agree|disagree)\b"
    r"|\bwhat\s+(?:is|are)\s+(?:common|shared)\s+(?:to|between|among)\s+(?:them|these|those|both)\b"
    r"|\b(?:similarities|differences|commonalities)\b[^?]*\b(?:they|them|these|those)\b"
    # "Which one should I read first?", "Where should I start?" (after an answer that named papers)
    r"|^\W*(?:and |so )?(?:which (?:one|paper) (?:should|would) (?:i|we|you) (?:read|start|begin|recommend)|"
    r"where (?:should|do|can|would) (?:i|we) (?:start|begin))\b"
    r"|\bthe (?:first|last|top) (?:one|two|three|four|five|\d+)\b"
    r"|\bthe (?:first|second|third|fourth|fifth|last) (?:one|paper|work|method|model|approach)\b"
    rf"|{NARROW}",
    re.IGNORECASE)
# A year with the word that makes it a date ("from 2023", "after 2022"); "COCO 2017" is a dataset.
YEAR = re.compile(r"\b(?P<op>after|since|before|from|in|published in|later than|earlier than|newer than|older than)\s+"
                   r"(?P<year>(?:19|20)\d{2})\b(?![-\w]|\.\d)", re.IGNORECASE)  # "from 2024." at the end is a year
NAME_PATTERN = re.compile(NAME + r"\b")


_ANAPHORA = re.compile(r"\b(?:it|its|they|them|their|theirs|this|that|these|those|above|same|such|former|latter|"
                       r"he|she|his|her)\b", re.IGNORECASE)


# Words that look like references but are not: "such as" gives examples, "papers that …" opens a
# relative clause, "this corpus" is the index.
_NOT_ANAPHORA = re.compile(r"\bsuch as\b|\b(?:papers?|works?|methods?|models?|approach(?:es)?|studies|study|systems?|"
                           r"techniques?|ones?|articles?)\s+that\b|\b(?:in|of|from)\s+this\s+(?:corpus|collection)\b",
                           re.IGNORECASE)


def stands_alone(question: str) -> bool:
    """A follow-up that asks its own list question and leans on nothing said before ("Now, which
    papers generate speech from text?"): searched as asked, not condensed with the last question."""
    return shape_of(question) == "list" and not _ANAPHORA.search(_NOT_ANAPHORA.sub(" ", question))


# A follow-up that asks for papers beyond those in play: "Any more like these?", "Are there other
# papers such as these?", "Show me similar papers to those", "What else?".
_MORE = re.compile(
    r"\b(?:more|other|others|further|additional)\b[^?.!]*?\b(?:like|such as|similar to|besides|beyond|apart from|"
    r"than)\s+(?:these|those|them|the above|the ones above)\b"
    r"|\b(?:similar|related)\s+(?:papers?|works?|studies|methods)?\s*(?:to|as)\s+(?:these|those|them|the above)\b"
    r"|^\s*(?:and\s+)?(?:any|are there any)\s+(?:more|others|other ones)\s*[?.!]*$|^\s*(?:and\s+)?what else\b"
    # "Show me more.", "More, please.", "Give me more papers", "Any other ones?", "Next page"
    r"|^\W*(?:(?:please\s+)?(?:show|give|list|find|tell)\s+(?:me\s+|us\s+)?(?:some\s+)?|(?:i\s+want|i'd\s+like)\s+(?:some\s+)?)?"
    r"(?:more|others|other ones)(?:\s+(?:papers|results|ones|works|studies|examples|matches))?(?:,?\s+please)?\W*$"
    r"|^\W*(?:next\s+page|more\s+results|see\s+more|keep\s+going|continue)\W*$", re.IGNORECASE)


def asks_for_more(question: str) -> str | None:
    """The words by which a follow-up asks for more papers like those in play ("more like these";
    answered as the earlier list, naming only papers not named yet), else None."""
    found = _MORE.search(question)
    return found.group(0).strip(" ?.!") if found else None


# A follow-up that asks the previous question again with one part swapped: "What about for
# language models?", "How about without fine-tuning?", "And for speech?", "Same for video?".
_SWAP = re.compile(r"^\s*(?:and\s+)?(?:what|how)\s+about\s+|^\s*(?:and|(?:and\s+)?(?:the\s+)?same)\s+"
                   r"(?=(?:for|in|on|with|without|to|using|from|at|across|under)\b)", re.IGNORECASE)
_SWAPPED_PART = re.compile(r"^(?P<preposition>for|in|on|with|without|to|using|from|at|across|under)\s+\S", re.IGNORECASE)


def swapped(question: str, previous: str) -> str | None:
    """The previous question with the part a follow-up swaps in ("Which papers use LoRA for vision
    tasks?" + "What about for language models?" -> "Which papers use LoRA for language models?"):
    the part replaces the previous question's last phrase with the same preposition, or is added
    when it has none. None when the follow-up swaps nothing, or names no preposition to place it by
    ("What about merging?" may mean anything)."""
    found = _SWAP.match(question)
    if not found:
        return None
    part = question[found.end():].strip(" ?.!")
    place = _SWAPPED_PART.match(part)
    if not place:
        return None
    before = previous.strip().rstrip(" ?.!")
    at = before.lower().rfind(f" {place.group('preposition').lower()} ")
    return f"{before[:at] if at >= 0 else before} {part}?"


# A follow-up about the paper just answered, by a pronoun ("Which benchmarks did they evaluate it
# on?", "What accuracy does its largest model get?", "Above that threshold, …"): a look-up over the
# papers in play (ABOUT_MAX at most), not a filter of them and not a new search.
ABOUT_MAX = 3
_ABOUT = re.compile(r"\b(?:they|them|their|it|its|(?:this|that|the) (?:paper|work|study|trial|method|model|approach|"
                    r"architecture|layer|module|benchmark|dataset|tracker|framework|system|threshold|analysis|"
                    r"meta-analysis|review|survey|authors))\b"
                    # "What are the main results?": the results of the paper just answered
                    r"|^\W*(?:and\s+)?(?:what|which)\s+(?:are|were|is|was)\s+the\s+(?:main\s+|key\s+)?(?:results?|findings?|"
                    r"limitations?|contributions?|drawbacks?|weaknesses|conclusions?)\s*[?.!]*$", re.IGNORECASE)


def asks_about_them(question: str) -> bool:
    """Whether a follow-up asks about the paper(s) just answered, by a pronoun or "the paper"."""
    return bool(_ABOUT.search(_NOT_ANAPHORA.sub(" ", question))) and not stands_alone(question)


_CAPITALISED = re.compile(r"(?<![.?!:]\s)\b[A-Z][\w-]*")  # not a sentence's first word


def names_outside(question: str) -> bool:
    """Whether a follow-up names something by a name ("…compared with Swin?", "…than ViT-B?") and
    not only by its kind ("…compared with transformers?"): a capitalised word past its first."""
    return bool(_CAPITALISED.search(question.strip(), 1))


def refers_to_set(question: str) -> bool:
    """Whether a follow-up asks about the papers already on the table."""
    return bool(_REFERS.search(question))


# A question that opens by pointing back at papers ("Which of them link code?", "Of those, which…",
# "Do they…", "Compare the first two"): asked first in a chat, it has nothing to point at. A
# reference later in the sentence may be to its own words ("…people aged 55, and how many of them…").
_POINTS_BACK = re.compile(
    rf"^\s*(?:(?:and|so|now|ok(?:ay)?|then)[\s,]+)?(?:(?:which|what|how many|any|all|each|none|both|some)(?: \w+)? "
    rf"(?:of|among) {THEM}\b|(?:out of|of|among|from) {THEM}\b|(?:do|did|are|were|have|had) they\b|"
    rf"{_ACT_ON} (?:them|those|these|both)\b|compare the (?:first|last|top) \w+\b|"
    rf"(?:how|in what ways?|where|what)\s+(?:do|does|did)\s+(?:they|these|those|both)\s+(?:\w+\s+)?"
    rf"(?:differ|compare|contrast|have in common|share|agree|disagree)\b|"
    rf"which (?:one|paper) (?:should|would) (?:i|we|you) (?:read|start|begin|recommend)\b[^?]*\bfirst\b|"
    rf"where (?:should|do|can|would) (?:i|we) (?:start|begin)\b|"
    # "Tell me about it.", "Summarize them.", "What are its limitations?": nothing but the reference
    rf"(?:please\s+)?(?:tell me (?:more )?about|summari[sz]e|describe|explain|elaborate on) (?:it|them|this|that|these|those)"
    rf"\s*[?.!]*$|(?:what|which) (?:are|were|is|was) (?:its|their) [\w -]+?\s*[?.!]*$|"
    rf"(?:what|which) (?:are|were|is|was) the (?:main |key |biggest )?(?:limitations?|drawbacks?|weakness(?:es)?|"
    rf"shortcomings?|disadvantages?|results?|findings?|contributions?)\s*[?.!]*$)", re.IGNORECASE)


def points_back(question: str) -> str | None:
    """The words a question opens with that point at papers an earlier answer named ("Which of
    them"), else None."""
    found = _POINTS_BACK.match(question)
    return found.group(0).strip(" ,?.!") if found else None


def named_papers(answer) -> list[str]:
    """The paper ids an answer named, in order: every match of a list answer, else its citations."""
    if answer.abstained:
        return []
    if answer.matches and answer.matches.get("paper_ids"):
        return list(answer.matches["paper_ids"])
    return list(dict.fromkeys(c.paper_id for c in answer.citations))


def next_working_set(answer, previous: list[str] | None) -> list[str] | None:
    """The set after `answer`: what it named, else the set before it."""
    return named_papers(answer) or previous


# -- metadata ---------------------------------------------------------------------------------
# The year condition with the words that make it one: "(that are) published in 2024", "…are from 2023".
_YEAR_CLAUSE = re.compile(r"\s*(?:,\s*)?(?:(?:that|which)\s+)?(?:(?:are|were|was|is)\s+)?(?:(?:published|released|posted|"
                          r"dated|written|appeared)\s+)?" + YEAR.pattern, re.IGNORECASE)


def year_wanted(found: re.Match) -> tuple[str, int]:
    op = found.group("op").lower().replace("published in", "in")
    op = {"since": "after", "from": "in", "later than": "after", "newer than": "after",
          "earlier than": "before", "older than": "before"}.get(op, op)
    return op, int(found.group("year"))


def year_condition(text: str) -> tuple[re.Match, tuple[str, int]] | None:
    """Where the text asks for a year ("…are from 2023", "published after 2022") and what it asks."""
    found = _YEAR_CLAUSE.search(text)
    return (found, year_wanted(found)) if found else None


def paper_year(paper) -> int | None:
    from rag.corpus_filter import paper_date

    found = paper_date(paper)
    if found is not None:
        return found.year
    value = paper.metadata.get("year")
    return int(value) if isinstance(value, int) or (isinstance(value, str) and value.isdigit()) else None


def meets_year(year: int | None, wanted: tuple[str, int]) -> bool:
    if year is None:
        return False
    op, target = wanted
    return year > target if op == "after" else year < target if op == "before" else year == target


def paper_categories(paper) -> list[str]:
    value = paper.metadata.get("categories")
    return value.split() if isinstance(value, str) else [str(v) for v in value] if isinstance(value, list) else []


def metadata_matches(request: "SetRequest", papers: list) -> tuple[list, str | None]:
    """The set's papers that meet a metadata request, and what the records lack (None when they
    carry the field): a year filter over papers whose records have no date cannot be answered."""
    if request.kind == "code":
        return [p for p in papers if p.code_url], None
    if request.kind == "year":
        years = [paper_year(p) for p in papers]
        if all(y is None for y in years):
            return [], "date"
        op = request.year[0]
        if op in ("latest", "earliest"):
            known = [y for y in years if y is not None]
            edge = max(known) if op == "latest" else min(known)
            return [p for p, y in zip(papers, years) if y == edge], None
        return [p for p, y in zip(papers, years) if meets_year(y, request.year)], None
    cats = [paper_categories(p) for p in papers]
    if not any(cats):
        return [], "categories"
    return [p for p, c in zip(papers, cats) if any(x == request.category or x.startswith(request.category + ".")
                                                    for x in c)], None
