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

from rag.sentences import LazyPattern
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
    """The question's code or year condition, if it has one: with what is left to search, or with
    nothing (`rest` "") when the question is a bare list of papers meeting it ("Which papers link
    their code?": answered from the records alone, rag.asked_metadata.listing)."""
    from rag.shapes import shape_of

    found = _CODE.search(question)
    year = None if found else year_condition(question)
    if year:
        found, wanted = year
    if not found:
        return None
    rest = _rest(question, found)
    if not rest and shape_of(question) != "list":
        return None
    said = found.group(0).strip(" ,")
    return AskedMetadata(rest, said, code=True) if not year else AskedMetadata(rest, said, year=wanted)


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


# Who wrote a paper: "Who proposed the Swin Transformer?", "Who are the authors of LoRAT?", "Which
# group developed Mamba?". Abstracts rarely name their authors; the records may.
_WHO = LazyPattern(r"^\s*(?:who\s+(?:(?:first|originally)\s+)?(?:proposed|wrote|authored|introduced|developed|created|"
                  r"invented|designed|published|presented|is behind|are behind|was behind|were behind|came up with)\b"
                  r"|who\s+(?:are|were|is|was)\s+the\s+(?:authors?|creators?|inventors?|developers?)\s+of\b"
                  r"|(?:what|which)\s+(?:team|group|lab|labs|researchers|authors|people|company|organi[sz]ation)\s+"
                  r"(?:proposed|wrote|authored|introduced|developed|created|designed|published|presented)\b"
                  r"|(?:list|name|give)\s+(?:me\s+)?the\s+authors\s+of\b"
                  r"|(?:what|which)\s+(?:are|were)\s+the\s+(?:names\s+of\s+the\s+)?authors\s+of\b)", re.IGNORECASE)


def asks_who(question: str) -> bool:
    return bool(_WHO.match(question))


def authored(paper, name: str) -> str:
    """What the records say of who wrote a paper, the line before what its abstract says."""
    from rag.export import authors_of

    names = authors_of(paper)
    if not names:
        return f"The records carry no authors for {name}; what its abstract says:"
    said = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return f"{name}: its record names {'its author' if len(names) == 1 else 'its authors'}: {said}."


def listing(papers: list, asked: AskedMetadata, shown: int, dated: bool) -> str:
    """A bare list of the papers meeting the condition, from the records: "82 papers link their
    code, showing 5 of 82 (…):" then a line each, "- Name — its code link [n]" (or its year)."""
    from rag.extractive import showing
    from rag.paper_names import paper_name
    from rag.working_set import paper_year

    if asked.year and not dated:
        when = re.sub(r"^(?:(?:that|which)\s+)?(?:(?:are|were|was|is)\s+)?", "", asked.said)
        return f'The records carry no dates, so which papers are "{when}" cannot be told.'
    what = "link their code" if asked.code else f"are dated {asked.year[0]} {asked.year[1]}"
    if not papers:
        return f"No paper's record says it {'links code' if asked.code else what.replace('are', 'is', 1)}."
    count = len(papers)
    lines = [f"{count} {'paper' if count == 1 else 'papers'} {what}{showing(shown, count)}:"]
    for rank, paper in enumerate(papers[:shown], start=1):
        lines.append(f"- {paper_name(paper)} — {paper.code_url if asked.code else paper_year(paper)} [{rank}]")
    return "\n".join(lines)


def listing_events(pipeline, question: str, asked: AskedMetadata, filters, k: int | None, started: float,
                   load_before: float):
    """The events of a bare list answered from the records (listing): every paper of the index
    meeting the condition (and the corpus-file filter), the newest first for a year; the first
    max(k, list_max) shown and cited, all counted in `matches`."""
    import time

    from rag.answering import extractive_events
    from rag.backends import EXTRACTIVE
    from rag.extractive import ExtractiveAnswer
    from rag.records import Answer, Hit
    from rag.working_set import MAX_WORKING_SET, meets_year, paper_year

    t0 = time.perf_counter()
    files = set(filters.sources) if filters and filters.sources else None
    papers, dated = [], False
    for paper in pipeline.index.catalog.iter_papers():
        if files and not files & set(paper.sources):
            continue
        year = paper_year(paper)
        dated = dated or year is not None
        if paper.code_url if asked.code else meets_year(year, asked.year):
            papers.append(paper)
    if asked.year:
        papers.sort(key=lambda p: -(paper_year(p) or 0))
    shown = min(len(papers), max(k or pipeline.settings.k, pipeline.settings.list_max))
    hits = [Hit(rank=rank, paper=paper, score=1.0, dense_score=None, bm25_score=None, chunk_id="", snippet="")
            for rank, paper in enumerate(papers[:shown], start=1)]
    t1 = time.perf_counter()
    yield {"type": "sources", "hits": hits}
    backend = pipeline.backend
    answer = Answer(question=question, answer="", abstained=False, citations=[], sources=hits,
                    llm=backend.name if backend else EXTRACTIVE, timings_ms={}, shape="list",
                    matches={"count": len(papers), "shown": shown, "paper_ids": [p.paper_id for p in papers][:MAX_WORKING_SET]})
    plan = ExtractiveAnswer(text=listing(papers, asked, shown, dated), markers=[h.rank for h in hits], form="list")
    yield from extractive_events(answer, plan)  # what the records say: nothing for a model to add
    yield {"type": "answer", "answer": pipeline.finish(answer, hits, started, t0, t1, load_before)}

