"""What the chat shows: answer text with linked citations, the sources panel, a list answer's
table, the papers-in-play line, error lines, and the JSON the `ask` API endpoint returns.
Pure functions of pipeline records; no Gradio.

Citations `[n]` become Markdown links to source n in the panel: `#a<id>-s<n>` in the chat,
where every answer has its id and keeps its own sources (the panel holds the sources of the
last answers, one section each, the latest shown), `#source-n` in the `/ask` API's Markdown.
Each source shows the abstract sentence that supports the answer, highlighted: the one
sharing the most words with an answer sentence that cites it (for extractive answers that
is the quoted sentence itself). Everything taken from the corpus is HTML-escaped: abstracts
are data, not markup.
"""

from __future__ import annotations

import html
import re
from collections import defaultdict

from rag.backends import redact
from rag.citations import MARKER, answer_sentences, parse_markers
from rag.errors import BackendUnavailable, RagError
from rag.records import Answer, Hit
from rag.sentences import split_sentences

EMPTY_PANEL = '<div class="sources-empty">The sources of the current answer appear here.</div>'
SET_NAMES_SHOWN = 6  # the working-set line names this many papers, then "and N more"
NAME_CHARS = 40
WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
MIN_SHARED_WORDS = 3  # fewer shared words is chance, not support


def anchor(rank: int, answer_id: int | None = None) -> str:
    """The id of source `rank` in the panel: of answer `answer_id` in the chat, else the API's."""
    return f"source-{rank}" if answer_id is None else f"a{answer_id}-s{rank}"


def link_citations(text: str, answer_id: int | None = None) -> str:
    """'It works [1].' -> 'It works [[1]](#a3-s1).' (Markdown; `#source-1` without an answer id)"""
    def links(match: re.Match) -> str:
        return "".join(f"[[{n}]](#{anchor(n, answer_id)})" for n in parse_markers(match.group(0))[1])

    return MARKER.sub(links, text)


def claims_by_source(answer: Answer) -> tuple[dict[int, list[str]], dict[int, float]]:
    """Source rank -> the answer sentences citing it, and -> their best support score
    (LLM answers only: the citation checker's similarity; extractive quotes have none)."""
    claims: dict[int, list[str]] = defaultdict(list)
    support: dict[int, float] = {}
    if answer.abstained:
        return claims, support
    if answer.sentences and not answer.fallback:
        for verdict in answer.sentences:
            if not verdict["supported"]:
                continue
            text = parse_markers(verdict["text"])[0]
            for marker in verdict["markers"]:
                claims[marker].append(text)
                support[marker] = max(support.get(marker, 0.0), verdict["support"])
        return claims, support
    for sentence in answer_sentences(answer.answer):
        text, markers = parse_markers(sentence)
        for marker in markers:
            claims[marker].append(text)
    return claims, support


def words(text: str) -> set[str]:
    return set(WORD.findall(text.lower()))


def supporting_sentences(abstract: str, claims: list[str]) -> list[str]:
    """For each claim, the abstract sentence sharing the most words with it (in abstract order)."""
    sentences = split_sentences(abstract)
    chosen: set[int] = set()
    for claim in claims:
        claim_words = words(claim)
        overlaps = [len(claim_words & words(s)) for s in sentences]
        if overlaps and max(overlaps) >= MIN_SHARED_WORDS:
            chosen.add(overlaps.index(max(overlaps)))
    return [sentences[i] for i in sorted(chosen)]


def excerpt_html(snippet: str, marked: list[str]) -> str:
    """The snippet with the supporting sentences in <mark>; one that the snippet does not
    show in full is added after it, so the support is always visible."""
    body = snippet.removesuffix(" …")
    cut = body != snippet
    extra, joiner = [], " … "
    for sentence in marked:
        if sentence in body:
            continue
        start = body.find(sentence[:40])
        if start >= 0 and sentence.startswith(body[start:]):  # the snippet stops inside it
            body, joiner = body[:start].rstrip(), " "
        extra.append(sentence)
    out = html.escape(body)
    for sentence in marked:
        if sentence not in extra:
            out = out.replace(html.escape(sentence), f"<mark>{html.escape(sentence)}</mark>", 1)
    if extra:
        return (out + joiner if out else "") + " … ".join(f"<mark>{html.escape(s)}</mark>" for s in extra)
    return out + (" …" if cut else "")


def safe_url(url: str | None) -> str | None:
    return url if url and re.match(r"https?://[^\s\"'<>]+$", url) else None


def sources_html(hits: list[Hit], answer: Answer | None = None, answer_id: int | None = None) -> str:
    """The sources panel; while the answer is still coming (`answer` None) without support."""
    if not hits and answer is not None and answer.abstain_reason == "reference":
        return '<div class="sources-empty">No papers in play yet.</div>'
    if not hits and answer is not None and answer.shape == "about":  # "thanks!", "What can you do?"
        return '<div class="sources-empty">Nothing was searched: the answer is about the corpus itself.</div>'
    if not hits:
        return '<div class="sources-empty">No papers matched (check the filters).</div>'
    claims, support = claims_by_source(answer) if answer else ({}, {})
    cited = {c.marker for c in answer.citations} if answer else set()
    heading = "Nearest papers — none of them answers the question" if answer and answer.abstained else "Sources"
    parts = [f'<div class="sources"><h3>{heading}</h3>']
    for hit in hits:
        if hit.rank in support:
            score = f"support {support[hit.rank]:.2f}"
        elif hit.dense_score is not None:
            score = f"similarity {hit.dense_score:.2f}"
        else:
            score = f"rank score {hit.score:.2f}"
        meta = [score] + (["cited"] if hit.rank in cited else [])
        url = safe_url(hit.paper.code_url)
        if url:
            meta.append(f'<a href="{html.escape(url)}" target="_blank" rel="noopener">code</a>')
        marked = supporting_sentences(hit.paper.abstract, claims.get(hit.rank, []))
        parts.append(
            f'<div class="source{" cited" if hit.rank in cited else ""}" id="{anchor(hit.rank, answer_id)}">'
            f'<div class="source-title"><span class="rank">[{hit.rank}]</span> {html.escape(hit.paper.title)}</div>'
            f'<div class="source-meta">{" · ".join(meta)}</div>'
            f'<div class="source-snippet">{excerpt_html(hit.snippet, marked)}</div></div>')
    return "".join(parts) + "</div>"


def answer_markdown(answer: Answer, answer_id: int | None = None) -> str:
    """The final chat message: linked citations; an abstention is shown as it is written."""
    if answer.abstained:
        return answer.answer
    note = f"\n\n*(The {answer.llm} answer had no supported sentence; this is the extractive answer.)*" if answer.fallback else ""
    return link_citations(answer.answer, answer_id) + note


def error_message(exc: BaseException, settings) -> str:
    """One readable line for the chat; never a traceback, never a key."""
    if isinstance(exc, BackendUnavailable):
        text = f"The answer backend is not available: {exc}"
    elif isinstance(exc, RagError):
        text = str(exc)
    else:
        text = f"Something went wrong while answering ({type(exc).__name__}); the server log has the details."
    return "⚠️ " + redact(text, settings)


def api_result(answer: Answer, next_working_set: list[str] | None = None) -> dict:
    """`ask --json`'s object plus, per source, what the panel shows: support and highlights; and
    the working set after this answer, for the client's next question."""
    out = answer.to_json()
    claims, support = claims_by_source(answer)
    by_rank = {h.rank: h for h in answer.sources}
    for source in out["sources"]:
        hit = by_rank[source["rank"]]
        source["support"] = round(support[hit.rank], 4) if hit.rank in support else source["dense_score"]
        source["highlights"] = supporting_sentences(hit.paper.abstract, claims.get(hit.rank, []))
    out["answer_markdown"] = answer_markdown(answer)
    out["next_working_set"] = next_working_set
    return out


# -- the chat's answers, their table and the working set ----------------------------------------
def answers_panel(kept: list[tuple[int, str]], current_id: int, current: str | None) -> str:
    """The panel: a section per answer that has sources (`kept`: earlier ones, oldest first;
    `current`: this answer's, None until they come). The latest is shown; a click on an earlier
    answer's citation shows its section instead (the page's script, ui/app.py)."""
    sections = [*kept, (current_id, current)] if current else list(kept)
    if not sections:
        return EMPTY_PANEL
    latest = sections[-1][0]
    parts = []
    for answer_id, panel in sections:
        note = "" if answer_id == latest else (
            f'<div class="earlier-note">Sources of answer {answer_id}, an earlier answer · '
            f'<a href="#answer-{latest}">show the latest</a></div>')
        parts.append(f'<div class="answer-sources" id="answer-{answer_id}"{"" if answer_id == latest else " hidden"}>'
                     f"{note}{panel}</div>")
    return "".join(parts)


def shorten(text: str, most: int = NAME_CHARS) -> str:
    return text if len(text) <= most else text[:most - 1].rstrip() + "…"


def matches_table_html(rows: list[dict], answer_id: int) -> str:
    """A list answer's matches as a table: paper (linked to its source), matching sentence, and
    code and year columns when any record has them. One line of HTML, so that it stays one HTML
    block in the message's Markdown; every text escaped."""
    if not rows:
        return ""
    code, year = any(safe_url(r["code"]) for r in rows), any(r["year"] for r in rows)
    head = "<th>Paper</th><th>Matching sentence</th>" + ("<th>Code</th>" if code else "") + ("<th>Year</th>" if year else "")
    body = []
    for row in rows:
        name = html.escape(shorten(row["name"]))
        if row["rank"] is not None:
            name = (f'<a href="#{anchor(row["rank"], answer_id)}" title="{html.escape(row["title"])}">{name}</a>'
                    f' <span class="rank">[{row["rank"]}]</span>')
        cells = [name, html.escape(row["sentence"]) or "—"]
        if code:
            url = safe_url(row["code"])
            cells.append(f'<a href="{html.escape(url)}" target="_blank" rel="noopener">code</a>' if url else "")
        if year:
            cells.append(str(row["year"] or ""))
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return f'<table class="matches-table"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'


def working_set_html(names: list[str], count: int) -> str:
    """'4 papers in play: Zero-TPrune, PiToMe, …': the set a follow-up such as "which of them…"
    is answered over; empty when there is none."""
    if not count:
        return ""
    shown = ", ".join(html.escape(shorten(n)) for n in names[:SET_NAMES_SHOWN])
    more = f" and {count - min(len(names), SET_NAMES_SHOWN)} more" if count > min(len(names), SET_NAMES_SHOWN) else ""
    noun = "paper" if count == 1 else "papers"
    return (f'<div class="working-set"><strong>{count} {noun} in play</strong>: {shown}{more}'
            f'<span class="working-set-hint"> · “which of them…” asks about these</span></div>')
