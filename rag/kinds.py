"""The kind of paper: a survey (review, tutorial, overview of a field) or not.

A list question may ask for one kind (rag.shapes.asked_kind: "which methods…" wants no survey,
"list the surveys…" only surveys), and so may a chat follow-up's condition
(rag.shapes.condition_kind); `of_kind` keeps the papers of that kind.
"""

from __future__ import annotations

import re

# A survey of the literature, not a survey study ("A Population-Based Survey in Shaanxi", "the
# national health and nutrition examination survey"): "a [comprehensive] survey of / on …", "…: A
# Survey", "Survey, Applications…", a tutorial, a [systematic] review or an overview.
_SURVEY_TITLE = re.compile(r"(?:^|[:\-–—]\s*)(?:a |an )?(?:(?:\w+|\w+-\w+) ){0,3}?(?:survey|review|overview|tutorial|primer)"
                           r"(?:\s+(?:of|on|and|for|connecting)\b|\s*[,:.;]|$)|\btutorial\b", re.I)
_SURVEY_ABSTRACT = re.compile(r"\b(?:this|our|the present|in this) (?:survey|review|tutorial|overview)\b"
                              r"|\bwe (?:survey|review) (?:the |recent |existing |current |\w+ )?(?:literature|advances|"
                              r"progress|works?|methods|approaches|research|studies|developments|state)\b"
                              r"|\b(?:systematic|literature|comprehensive|narrative) review\b", re.I)


def is_survey(title: str, abstract: str) -> bool:
    """A survey, review, tutorial or overview of a field, by its title or by what its abstract
    says it is ("This survey…", "We review recent advances…")."""
    title_says = _SURVEY_TITLE.search(title)
    if title_says and re.search(r"\b(?:peer|code|product|customer|app|user|movie)s? review", title_says.group(0), re.I):
        title_says = None  # a review as the thing studied ("Code review automation…"), not a survey
    return bool(title_says or _SURVEY_ABSTRACT.search(abstract))


def of_kind(judged: list, kind: str | None, strict: bool = False) -> list:
    """The papers of the kind a list question asks for (rag.shapes.asked_kind): no survey for
    "which methods…" / "which papers propose…", only surveys for "list the surveys…" (when the
    pool has any: otherwise the list is judged as if any paper would do — unless `strict`, as
    for the papers on the table: "of those, which are surveys?" may be answered "none")."""
    if kind == "method":
        return [j for j in judged if not is_survey(j.paper.title, j.paper.abstract)]
    if kind == "survey":
        surveys = [j for j in judged if is_survey(j.paper.title, j.paper.abstract)]
        return surveys if surveys or strict else judged
    return judged


def strength_floor(min_strength: float, kind: str | None) -> float:
    """The lead over the pool a list match needs: none beyond the median for a list of surveys
    (the kind already leaves a handful, and a survey of a broad field does not stand out from
    the method papers around it)."""
    return min(min_strength, 0.0) if kind == "survey" else min_strength
