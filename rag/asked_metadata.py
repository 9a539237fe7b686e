"""A condition on what the records carry, asked in the question itself: "Which papers on tracking
link their code?", "Which token pruning papers are from 2023?".

Abstracts do not say whether their paper links code or when it appeared, so such a condition is
not scored against sentences (it found "Foresight … links" for "link their code"): it is taken
out of what is searched and met from the records instead — code links through the index's
has-code filter, years from the records' dates (Pipeline.judge keeps the candidates dated so). A follow-up about
the papers in play ("which of them link code?") is the working set's (rag.working_set).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.working_set import year_condition

# "…that link their code", "…with public code", "…whose code is available"; code as a topic
# ("code generation", "source code summarization") goes on past the word and is not one.
_CODE = re.compile(
    r"\s*(?:,\s*)?(?:(?:that|which|and)\s+)?(?:(?:link|links|linked|release|releases|released|share|shares|shared|"
    r"provide|provides|provided|publish|publishes|published|open-source|open-sourced|make|makes|made|have|has|"
    r"come with|comes with|ship with|ships with)\s+(?:their|its|the)?\s*"
    r"(?:(?:public|open[- ]source|available|released)\s+)?(?:source\s+)?(?:code|implementations?)"
    r"(?:\s+(?:public(?:ly)?|available|publicly available|open[- ]source))?(?:\s+(?:on|at|via)\s+(?:GitHub|GitLab|"
    r"(?:a|their|its)\s+(?:website|project page)|the web|online))?"
    r"|whose\s+(?:source\s+)?code\s+is\s+(?:publicly\s+)?(?:available|released|public|linked))"
    r"(?=\s*(?:[?.!,;]|$|\b(?:and|or)\b))"
    r"|\s*\bwith\s+(?:(?:public|open[- ]source|available|released|linked)\s+)?(?:source\s+)?code\b"
    r"(?!\s*(?:generation|completion|search|summari|review|snippets?|models?|LLMs?|language|repair|translation|"
    r"understanding|clones?|analysis|data)\b)", re.IGNORECASE)


@dataclass(frozen=True)
class AskedMetadata:
    rest: str  # the question without the condition: what is searched
    said: str  # the condition as the question words it ("link their code", "are from 2023")
    code: bool = False
    year: tuple[str, int] | None = None  # ("after", 2022), as rag.working_set reads a follow-up's


def asked_metadata(question: str) -> AskedMetadata | None:
    """The question's code or year condition, if it has one and something is left to search."""
    found = _CODE.search(question)
    if found:
        rest = _rest(question, found)
        return AskedMetadata(rest, found.group(0).strip(" ,"), code=True) if rest else None
    year = year_condition(question)
    if year:
        found, wanted = year
        rest = _rest(question, found)
        return AskedMetadata(rest, found.group(0).strip(" ,"), year=wanted) if rest else None
    return None


def _rest(question: str, found: re.Match) -> str:
    after = re.sub(r"^\s*(?:,\s*)?and\b", "", question[found.end():])  # "…have code and study tracking?"
    rest = " ".join((question[:found.start()] + " " + after).split())
    rest = re.sub(r"\s+([?.!,;])", r"\1", rest)
    return rest if len(re.findall(r"\w+", rest)) >= 3 else ""


def note(asked: AskedMetadata, dated: bool) -> str:
    """The line that says how the condition was met, or that the records cannot meet it."""
    if asked.code:
        return "Only papers that link their code were searched."
    if not dated:
        return f'The records carry no dates, so "{asked.said}" is not checked.'
    op, year = asked.year
    return f"Only papers whose records date them {op} {year} were searched."


# When a paper appeared: "When was Swin Transformer published?", "What year did LoRAT come out?"
_WHEN = re.compile(r"^\s*(?:when|(?:in )?(?:what|which) year)\s+(?:was|were|did|is|has|had)\b.*?\b(?:published|released|"
                   r"proposed|introduced|written|posted|presented|come out|came out|appear(?:ed)?|out)\b", re.IGNORECASE)


def asks_when(question: str) -> bool:
    return bool(_WHEN.match(question))


def dated(paper, name: str) -> str:
    """What the records say of when a paper appeared, the line before what its abstract says."""
    from rag.working_set import paper_year

    year = paper_year(paper)
    return f"{name}: its record dates it {year}." if year is not None else \
        f"The records carry no date for {name}; what its abstract says:"

