"""An `Answer` taken away from the assistant: Markdown, CSV or BibTeX (`ask --format`).

- Markdown: the answer text as it is (its `[n]` markers kept), then "## References", one
  `[n] Title. Authors (year). <link>` per cited source, in marker order.
- CSV: one row per paper of the answer's paper list (below), columns `CSV_COLUMNS`.
- BibTeX: one entry per paper of that list, with a stable, unique citation key.

The paper list: for a chat follow-up (a non-empty `working_set`), the papers in play after it —
those it named ("Of the 6 papers above, 4 link code": those 4), else the set it was asked over;
else a list answer's `matches` (every matching paper, also those the text does not show); else
the cited sources, in marker order. An abstaining answer has none: its Markdown is the refusal
text (and the titles of the nearest papers it names), its CSV the header alone, its BibTeX empty.

Only what a paper's record carries is written (authors, year, arXiv id, url: docs/corpora.md);
a field the record lacks is left out, never filled in. Record text is plain Unicode text,
except `$…$` math and already-escaped specials (`\\%`), kept as LaTeX, and LaTeX accents in
titles and names (arXiv's `Sch\\"olkopf`), read as the letters they stand for. This module
formats; it does not retrieve, answer or decide what the CLI prints.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping

from rag.records import Answer, Paper

FORMATS = ("text", "markdown", "csv", "bibtex")
CSV_COLUMNS = ("rank", "title", "authors", "year", "arxiv_id", "url", "code_url", "matching_sentence", "paper_id")
ARXIV_PREFIX = "arxiv:"  # rag.corpus_formats keys arXiv papers so (not imported: keep this module light)
ARXIV_ABS = "https://arxiv.org/abs/"
NEW_ARXIV_ID = re.compile(r"(\d{2})(\d{2})\.\d{4,5}")  # YYMM.NNNNN: the month of first submission
YEAR = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d)(?!\d)")
DATE_FIELDS = ("year", "date", "published", "publication_date")  # JSONL fields a year is read from, in order
# `$…$` math (no space just inside the dollars, so "$5 and $10" is not math) and escaped specials.
MATH = re.compile(r"\$(?=\S)[^$]+?(?<=\S)\$")
ESCAPED = re.compile(r"\\[&%$#_{}]")
BIBTEX_SPECIAL = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "&": r"\&", "%": r"\%", "$": r"\$",
                  "#": r"\#", "_": r"\_", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}
# arXiv writes accents as LaTeX (Sch\"olkopf, {\'e}): read as the Unicode letter they stand for.
ACCENTS = {"'": "\u0301", '"': "\u0308", "`": "\u0300", "^": "\u0302", "~": "\u0303", "=": "\u0304", ".": "\u0307"}
LATEX_ACCENT = re.compile(r"(\{)?\\(['\"`^~=.])(?:([A-Za-z])|\{([A-Za-z])\})(?(1)\})")  # braced or not
MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>])")
KEY_STOPWORDS = {"a", "an", "the", "on", "of", "in", "for", "to", "and", "with", "towards", "toward", "via", "is"}
ExportLookup = Callable[[list[str]], Mapping[str, Paper]]  # paper ids -> papers (Catalog.papers)


@dataclass(frozen=True)
class ExportedPaper:
    rank: int  # the source's rank (its [n] in the answer); past the sources, its place in the list
    paper: Paper
    sentence: str | None  # the evidence sentence that matched best, when the paper is a source


# -- what a record carries ---------------------------------------------------------------------
def decode_accents(text: str) -> str:
    """LaTeX accents (`\\"o`, `{\\'e}`, `\\^{i}`) as Unicode letters; nothing else is touched."""
    def letter(match: re.Match) -> str:
        return unicodedata.normalize("NFC", (match.group(3) or match.group(4)) + ACCENTS[match.group(2)])

    return LATEX_ACCENT.sub(letter, text)


def arxiv_id_of(paper: Paper) -> str | None:
    if paper.paper_id.startswith(ARXIV_PREFIX):
        return paper.paper_id[len(ARXIV_PREFIX):]
    value = paper.metadata.get("arxiv_id")
    return value.strip() or None if isinstance(value, str) else None


def authors_of(paper: Paper) -> list[str]:
    """The record's `authors`: a list of names, or one string ("A, B and C" as arXiv writes
    it, or BibTeX's "Last, First and Last, First"); affiliations in parentheses dropped."""
    value = paper.metadata.get("authors")
    if isinstance(value, list):
        names = [v if isinstance(v, str) else v.get("name") if isinstance(v, dict) else None for v in value]
    elif isinstance(value, str):
        value = re.sub(r"\s*\([^()]*\)", "", value)
        parts = re.split(r"\s+and\s+", value.strip())
        if len(parts) > 1 and all(p.count(",") == 1 for p in parts):
            names = parts  # "Last, First and Last, First"
        else:
            names = [n for p in parts for n in p.split(",")]
    else:
        return []
    names = [" ".join(decode_accents(n).split()) for n in names if isinstance(n, str)]
    return [n for n in names if n and n.lower() not in ("et al", "et al.", "others")]


def year_of(paper: Paper) -> str | None:
    """The record's year or date; for arXiv, the first version's date or the id's YYMM."""
    for name in DATE_FIELDS:
        value = paper.metadata.get(name)
        if isinstance(value, (int, str)) and not isinstance(value, bool):
            match = YEAR.search(str(value))
            if match:
                return match.group(1)
    versions = paper.metadata.get("versions")
    if isinstance(versions, list) and versions and isinstance(versions[0], dict):
        match = YEAR.search(str(versions[0].get("created") or ""))
        if match:
            return match.group(1)
    match = NEW_ARXIV_ID.fullmatch(arxiv_id_of(paper) or "")
    return f"20{match.group(1)}" if match else None


def url_of(paper: Paper) -> str | None:
    """The paper's own page: its arXiv abstract page, else the record's `url`."""
    arxiv = arxiv_id_of(paper)
    if arxiv:
        return ARXIV_ABS + arxiv
    value = paper.metadata.get("url")
    return value.strip() if isinstance(value, str) and re.match(r"https?://\S+$", value.strip()) else None


def link_of(paper: Paper) -> str | None:
    return url_of(paper) or paper.code_url


# -- which papers --------------------------------------------------------------------------------
def exported_papers(answer: Answer, lookup: ExportLookup | None = None) -> list[ExportedPaper]:
    """The answer's paper list (the module's docstring)."""
    if answer.abstained:
        return []
    working_set = getattr(answer, "working_set", None)  # chat follow-ups: the papers of earlier answers
    if working_set:  # the papers in play after it: those it named ("4 link code"), else the set it was asked over
        from rag.working_set import next_working_set

        return resolve(answer, next_working_set(answer, list(working_set)), lookup)
    if answer.matches and answer.matches.get("paper_ids"):
        return resolve(answer, list(answer.matches["paper_ids"]), lookup)
    return resolve(answer, [c.paper_id for c in sorted(answer.citations, key=lambda c: c.marker)], lookup)


def resolve(answer: Answer, paper_ids: list[str], lookup: ExportLookup | None) -> list[ExportedPaper]:
    """Papers by id, in order: a source as the answer has it; any other (a list's matches past
    `list_max`) looked up in the index, and left out if the index lacks it."""
    by_id = {hit.paper.paper_id: hit for hit in answer.sources}
    paper_ids = list(dict.fromkeys(paper_ids))
    missing = [pid for pid in paper_ids if pid not in by_id]
    found = dict(lookup(missing)) if missing and lookup is not None else {}
    out = []
    for place, pid in enumerate(paper_ids, start=1):
        hit = by_id.get(pid)
        if hit is not None:
            sentence = hit.evidence[0]["text"] if hit.evidence else None
            out.append(ExportedPaper(hit.rank, hit.paper, sentence))
        elif pid in found:
            out.append(ExportedPaper(place, found[pid], None))
    return out


# -- record text: plain, except math and escaped specials ----------------------------------------
def split_math(text: str) -> list[tuple[bool, str]]:
    """(is LaTeX, piece) in order: `$…$` math and escaped specials are LaTeX already."""
    pieces, at = [], 0
    for match in re.finditer(f"{MATH.pattern}|{ESCAPED.pattern}", text):
        if match.group(0).startswith("$") and not balanced(match.group(0)):
            continue
        pieces += [(False, text[at:match.start()]), (True, match.group(0))]
        at = match.end()
    pieces.append((False, text[at:]))
    return [(latex, piece) for latex, piece in pieces if piece]


def balanced(text: str) -> bool:
    depth = 0
    for ch in re.sub(r"\\[{}]", "", text):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


# -- Markdown --------------------------------------------------------------------------------------
def md_text(text: str) -> str:
    return "".join(piece if math else MARKDOWN_SPECIAL.sub(r"\\\1", piece) for math, piece in split_math(text))


def reference_line(marker: int, paper: Paper) -> str:
    """`[n] Title. Authors (year). <link>`, each part only when the record has it."""
    title = md_text(decode_accents(paper.title).rstrip(". "))
    parts = [f"[{marker}] {title}" + ("" if title.endswith(("?", "!")) else ".")]
    authors, year = authors_of(paper), year_of(paper)
    names = ", ".join(authors[:3]) + (" et al." if len(authors) > 3 else "")
    if names or year:
        parts.append(" ".join(x for x in (md_text(names), f"({year})" if year else "") if x) + ".")
    link = link_of(paper)
    if link:
        parts.append(f"<{link}>")
    return " ".join(parts)


def to_markdown(answer: Answer, lookup: ExportLookup | None = None) -> str:
    """The answer, then one reference per cited source; a list answer's matches that the
    text does not show follow, unnumbered. An abstaining answer is its refusal text and the
    nearest papers it names, unnumbered."""
    lines = [f"# {md_text(answer.question)}", "", answer.answer.strip()]
    if answer.abstained:  # the refusal says the nearest papers are listed: list them, uncited
        if answer.sources:
            lines += ["", "## Nearest papers (none answers the question)", ""]
            lines += [f"- {md_text(hit.paper.title)}" for hit in answer.sources]
        return "\n".join(lines) + "\n"
    by_rank = {hit.rank: hit.paper for hit in answer.sources}
    cited = sorted(c.marker for c in answer.citations if c.marker in by_rank)
    if cited:
        lines += ["", "## References"]
        for marker in cited:
            lines += ["", reference_line(marker, by_rank[marker])]
    cited_ids = {c.paper_id for c in answer.citations}
    match_ids = (answer.matches or {}).get("paper_ids") or []
    unshown = resolve(answer, [pid for pid in match_ids if pid not in cited_ids], lookup)
    if unshown:
        lines += ["", "## Also matching (not shown above)", ""]
        lines += [f"- {md_text(e.paper.title)}" + (f" <{link_of(e.paper)}>" if link_of(e.paper) else "")
                  for e in unshown]
    return "\n".join(lines) + "\n"


# -- CSV ----------------------------------------------------------------------------------------------
def csv_row(entry: ExportedPaper) -> list[str]:
    paper = entry.paper
    return [str(entry.rank), paper.title, "; ".join(authors_of(paper)), year_of(paper) or "",
            arxiv_id_of(paper) or "", url_of(paper) or "", paper.code_url or "", entry.sentence or "",
            paper.paper_id]


def to_csv(answer: Answer, lookup: ExportLookup | None = None) -> str:
    """A header (`CSV_COLUMNS`) and one row per paper; authors joined by "; "; RFC 4180 quoting."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(csv_row(e) for e in exported_papers(answer, lookup))
    return out.getvalue()


# -- BibTeX ------------------------------------------------------------------------------------------
def bibtex_text(text: str, protect_case: bool = False) -> str:
    """Plain text as BibTeX: specials escaped; with `protect_case`, a word with a capital
    past its first letter (an acronym, "ImageNet", "Zero-Shot") braced so styles keep it."""
    out = []
    for latex, piece in split_math(text):
        if latex:
            out.append(piece)
            continue
        for token in re.split(r"(\s+)", piece):
            escaped = "".join(BIBTEX_SPECIAL.get(ch, ch) for ch in token)
            if protect_case and any(ch.isupper() for ch in token[1:]):
                escaped = "{" + escaped + "}"
            out.append(escaped)
    return " ".join("".join(out).split())


def ascii_word(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower())


def surname(name: str) -> str:
    name = name.strip()
    return name.split(",")[0] if "," in name else (name.split() or [""])[-1]


def base_key(paper: Paper) -> str:
    """First author's surname + year + first title word ("vaswani2017attention"); without
    authors, the title's first three words; else the paper id."""
    title_words = [w for w in (ascii_word(w) for w in re.split(r"[\s\-–—:/]+", paper.title)) if w]
    words = [w for w in title_words if w not in KEY_STOPWORDS] or title_words
    authors, year = authors_of(paper), year_of(paper) or ""
    author = ascii_word(surname(authors[0])) if authors else ""
    if author:
        return author + year + (words[0] if words else "")
    return "".join(words[:3]) + year if words else ascii_word(paper.paper_id) or "paper"


def citation_keys(papers: Iterable[Paper]) -> list[str]:
    """One key per paper, unique: a repeated key gets a, b, c… in order (the first keeps it)."""
    used: set[str] = set()
    keys = []
    for paper in papers:
        base = key = base_key(paper)
        suffix = 0
        while key in used:
            key = base + suffix_letters(suffix)
            suffix += 1
        used.add(key)
        keys.append(key)
    return keys


def suffix_letters(n: int) -> str:
    letters = ""
    n += 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(ord("a") + rest) + letters
    return letters


def bibtex_entry(key: str, paper: Paper) -> str:
    """@misc with eprint/archivePrefix for an arXiv paper, @article when the record names a
    journal, else @misc; each field only when the record has it."""
    arxiv, journal = arxiv_id_of(paper), paper.metadata.get("journal")
    kind = "article" if isinstance(journal, str) and journal.strip() and not arxiv else "misc"
    fields = [("title", bibtex_text(decode_accents(paper.title), protect_case=True))]
    authors = authors_of(paper)
    if authors:
        fields.append(("author", " and ".join(bibtex_text(a) for a in authors)))
    if kind == "article":
        fields.append(("journal", bibtex_text(journal)))
    year = year_of(paper)
    if year:
        fields.append(("year", year))
    if arxiv:
        fields += [("eprint", arxiv), ("archivePrefix", "arXiv")]
        categories = paper.metadata.get("categories")
        if isinstance(categories, str) and categories.split():
            fields.append(("primaryClass", categories.split()[0]))
    doi = paper.metadata.get("doi")
    if isinstance(doi, str) and re.fullmatch(r"10\.\S+", doi.strip()) and balanced(doi):
        fields.append(("doi", doi.strip()))
    link = link_of(paper)
    if link and balanced(link) and "\\" not in link:
        fields.append(("url", link))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@{kind}{{{key},\n{body}\n}}\n"


def to_bibtex(answer: Answer, lookup: ExportLookup | None = None) -> str:
    """One entry per paper of the answer's list, separated by a blank line ("" for none)."""
    papers = [e.paper for e in exported_papers(answer, lookup)]
    return "\n".join(bibtex_entry(key, paper) for key, paper in zip(citation_keys(papers), papers))


def render(answer: Answer, fmt: str, lookup: ExportLookup | None = None) -> str:
    """`ask --format`: markdown, csv or bibtex (text is the CLI's own printing)."""
    writers = {"markdown": to_markdown, "csv": to_csv, "bibtex": to_bibtex}
    if fmt not in writers:
        raise ValueError(f"unknown export format {fmt!r}: choose from {', '.join(writers)}")
    return writers[fmt](answer, lookup)
