"""Corpus formats -> `Paper` records: the daily-paper page dumps (docs/contracts.md §1), JSON
Lines records and the arXiv metadata snapshot, and the rules that fold repeated entries of
one paper together.

What makes two entries one paper: the same arXiv id (any version); the same record id with
the same title (an id reused by another title is two papers); for entries without an id,
the same title, unless the title is boilerplate ("Summary", "Abstract", page chrome), which
names no paper; and, whatever the ids, the same title with the same abstract (one record
given twice). Records with distinct ids are distinct papers even when their titles are equal.

Each function here turns text or one parsed record into papers, with `file:line` warnings
for what it skips; it does not read files, stream or filter (rag/corpus.py does).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from typing import Iterable

from rag.records import Paper

CHROME_LINES = {
    "new",
    "get trending papers in your email inbox!",
    "get trending papers in your email inbox once a day!",
    "subscribe",
    "daily papers",
    "byak and the research community",
    "by ak and the research community",
}
DATE_LINE = re.compile(r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]* \d{1,2}(?:, \d{4})?")
# Titles in these dumps are at most ~25 words; full abstracts are far longer.
ABSTRACT_MIN_WORDS = 30
# Also the malformed "https:VDT-2023.github.io" and bare "github.com/owner/repo" seen in the corpus.
URL = re.compile(r"(?:https?:/{0,2}|(?<![\w/.])(?=(?:github\.com|gitlab\.com|huggingface\.co)/))[^\s<>()\[\]]+")
CODE_HOSTS = ("github.com", "gitlab.com", "bitbucket.org", "huggingface.co", "codeberg.org")
# An abstract ending in one of these, or with no closing punctuation, was cut off at the source.
TERMINAL = (".", "!", "?", ")", '"', "'", "”")
# New-style (2101.00001, 0704.0001) and old-style (math/0701001, hep-th/9901001) arXiv ids.
ARXIV_ID = re.compile(r"(?:arxiv:)?(?P<base>\d{4}\.\d{4,5}|[a-z][a-z-]*(?:\.[A-Z]{2})?/\d{7})(?:v(?P<version>\d+))?",
                      re.IGNORECASE)
ARXIV_PREFIX = "arxiv:"
# Titles that name no paper: section headings and page chrome that a source put in the title
# field. Compared normalised; any title ending in ":" ("Corresponding author:") is one too.
BOILERPLATE_TITLES = {
    "abstract", "summary", "introduction", "background", "untitled", "title", "no title", "none", "n a", "null",
    "editorial", "preface", "foreword", "erratum", "errata", "correction", "corrigendum", "retraction",
    "commentary", "comment", "reply", "response", "letter", "letter to the editor", "book review", "review",
    "highlights", "graphical abstract", "table of contents", "contents", "index", "front matter", "back matter",
    "cover", "announcement", "corresponding author", "keywords", "references", "acknowledgements",
    "acknowledgments", "conclusion", "conclusions", "discussion", "methods", "results",
}


def normalise_title(title: str) -> str:
    text = unicodedata.normalize("NFKC", title).lower()
    return re.sub(r"[^\w]+", " ", text).strip()


def paper_id_for(title: str) -> str:
    """Stable across runs and machines: a hash of the normalised title."""
    return "p" + hashlib.sha1(normalise_title(title).encode("utf-8")).hexdigest()[:15]


def is_boilerplate_title(title: str) -> bool:
    """A title that names no paper, so entries sharing it are not one paper."""
    normal = normalise_title(title)
    return (not normal or normal in BOILERPLATE_TITLES or normal in {normalise_title(c) for c in CHROME_LINES}
            or title.rstrip().endswith(":"))


def _sha(*parts: str) -> str:
    return hashlib.sha1("\n".join(parts).encode("utf-8")).hexdigest()[:15]


def content_key(paper: Paper) -> str:
    """Title and abstract: the same record given twice (under two ids or none) is one paper."""
    return "c" + _sha(normalise_title(paper.title), paper.abstract)


def identity_keys(paper: Paper) -> tuple[str, str]:
    """The keys under which an entry is the same paper as an earlier one."""
    return paper.paper_id, content_key(paper)


def clean_space(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


# LaTeX that arXiv abstracts carry into plain text: escaped specials ("40-60\%", "R\&D") and
# emphasis ("\textbf{ours}"), shown to readers as they are meant ("40-60%"); macros without a
# meaning outside the paper ("\method") are left as written.
_LATEX_ESCAPED = re.compile(r"\\([%&_#$])")
_LATEX_STYLED = re.compile(r"\\(?:textbf|textit|emph|texttt|textsc)\{([^{}]*)\}")


_LATEX_ABBREVIATIONS = {"eg": "e.g.", "ie": "i.e.", "etal": "et al.", "etc": "etc.", "vs": "vs."}
_LATEX_ABBREVIATION = re.compile(r"\\(eg|ie|etal|etc|vs)\b\.?(?:\\ |\{\})?")


def plain_text(text: str) -> str:
    r"""'reduces FLOPs by 40-60\%' -> 'reduces FLOPs by 40-60%'; the common abbreviation macros
    ('\eg', '\ie', '\etal') as the words they print."""
    text = _LATEX_ABBREVIATION.sub(lambda m: _LATEX_ABBREVIATIONS[m.group(1)], text)
    return _LATEX_ESCAPED.sub(r"\1", _LATEX_STYLED.sub(r"\1", text))


def normalise_url(url: str) -> str:
    url = url.rstrip(".,;:'\"")
    if not url.startswith("http"):
        return "https://" + url
    return re.sub(r"^(https?):/{0,2}", r"\1://", url)


def find_code_url(abstract: str) -> str | None:
    urls = [normalise_url(u) for u in URL.findall(abstract)]
    for url in urls:
        if any(host in url for host in CODE_HOSTS):
            return url
    return urls[0] if urls else None


def is_truncated(abstract: str) -> bool:
    tail = abstract.rstrip()
    if not tail:
        return True
    last_word = tail.split()[-1]
    if URL.fullmatch(last_word.rstrip(".,;")):
        return False  # "Code is available at https://…" without a full stop is complete
    return not tail.endswith(TERMINAL) or bool(re.search(r"\b(?:at|and|the|of|in|to|with)\.?$", tail))


def make_paper(title: str, abstract: str, source: str, metadata: dict | None = None,
               paper_id: str | None = None, record_id: str | None = None) -> Paper:
    """`paper_id`: an id the format fixes (arXiv); else one from the record id and title, or
    from the title alone, or (a boilerplate title) from the title and abstract."""
    title, abstract = plain_text(clean_space(title)), plain_text(clean_space(abstract))
    if paper_id is None:
        if record_id is not None:
            paper_id = "r" + _sha(record_id, normalise_title(title))
        elif is_boilerplate_title(title):
            paper_id = "p" + _sha(normalise_title(title), abstract)
        else:
            paper_id = paper_id_for(title)
    return Paper(
        paper_id=paper_id,
        title=title,
        abstract=abstract,
        sources=[source],
        truncated=is_truncated(abstract),
        code_url=find_code_url(abstract),
        metadata=dict(metadata or {}),
        record_ids=[record_id] if record_id is not None else [],
    )


def record_id_of(obj: dict) -> str | None:
    """A record's own `id` (a string or a whole number), as a string."""
    value = obj.get("id")
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    return str(value).strip() or None


def _content_lines(text: str) -> list[tuple[int, str]]:
    """(line number, text) of every line that is not page chrome."""
    lines = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if line.lower().startswith("subscribe") and line.lower() != "subscribe":
            line = line[len("subscribe"):].strip()  # a title glued to the Subscribe button
        if line and line.lower() not in CHROME_LINES and not DATE_LINE.fullmatch(line):
            lines.append((lineno, line))
    return lines


def parse_daily_dump(text: str, source: str, warnings: list[str]) -> list[Paper]:
    """Title/abstract pairs from a page dump, on consecutive lines or split by blank lines.

    Titles and abstracts alternate. A long line is always an abstract; a short line after a
    title is that title's (cut-off) abstract unless a long line follows it, in which case
    the earlier title lost its abstract and the short line starts the next paper.
    """
    lines = _content_lines(text)
    is_long = [len(line.split()) >= ABSTRACT_MIN_WORDS for _, line in lines]
    papers: list[Paper] = []
    pending: tuple[int, str] | None = None  # (line number, title) waiting for its abstract
    for i, (lineno, line) in enumerate(lines):
        next_is_long = i + 1 < len(lines) and is_long[i + 1]
        if pending is None:
            if is_long[i]:
                warnings.append(f"{source}:{lineno}: abstract without a title, skipped")
            else:
                pending = (lineno, line)
        elif is_long[i] or not next_is_long:
            papers.append(make_paper(pending[1], line, source))
            pending = None
        else:
            warnings.append(f"{source}:{pending[0]}: title without an abstract, skipped")
            pending = (lineno, line)
    if pending is not None:
        warnings.append(f"{source}:{pending[0]}: title without an abstract, skipped")
    return papers


def arxiv_id(value: object) -> tuple[str, int] | None:
    """("2101.00001", 2) for "2101.00001v2" or "arXiv:2101.00001v2"; version 0 when not given."""
    if not isinstance(value, str):
        return None
    match = ARXIV_ID.fullmatch(value.strip())
    if match is None:
        return None
    return match.group("base"), int(match.group("version") or 0)


def paper_from_record(obj: object, where: str, source: str, warnings: list[str]) -> Paper | None:
    """One JSON object -> a Paper, or None with a warning naming `where` (file:line).

    Records with an arXiv `id` (the arXiv metadata snapshot, or one line per version) are
    keyed by that id without its version, so every version of a paper is one paper; others by
    their own `id` and title, or without an id by their title (see the module's docstring).
    Other fields become metadata (the snapshot's `authors_parsed`, a
    copy of `authors`, is dropped)."""
    if not isinstance(obj, dict):
        warnings.append(f"{where}: expected a JSON object, skipped")
        return None
    title, abstract = obj.get("title"), obj.get("abstract")
    missing = [k for k, v in (("title", title), ("abstract", abstract)) if not isinstance(v, str) or not v.strip()]
    if missing:
        warnings.append(f"{where}: missing or empty {' and '.join(missing)}, skipped")
        return None
    metadata = {k: v for k, v in obj.items() if k not in ("title", "abstract", "authors_parsed")}
    arxiv = arxiv_id(obj.get("id"))
    paper_id, record_id = None, record_id_of(obj)
    if arxiv is not None:
        base, version = arxiv
        versions = obj.get("versions")
        if not version and isinstance(versions, list) and versions:
            last = versions[-1].get("version") if isinstance(versions[-1], dict) else versions[-1]
            version = int(str(last).lstrip("vV")) if str(last).lstrip("vV").isdigit() else len(versions)
        metadata.update(arxiv_id=base, arxiv_version=version)
        paper_id, record_id = ARXIV_PREFIX + base, base
    return make_paper(title, abstract, source, metadata, paper_id=paper_id, record_id=record_id)


def merge_into(seen: Paper, paper: Paper) -> None:
    """Fold another entry of the same paper into `seen`, keeping every source file and id.

    Two arXiv versions: the later version wins (its title, abstract and metadata). Otherwise
    the fullest abstract wins (a complete one over a cut-off one, then the longer), and the
    metadata of the entry whose abstract won wins key by key."""
    seen.sources = sorted(set(seen.sources) | set(paper.sources))
    seen.record_ids = list(dict.fromkeys(seen.record_ids + paper.record_ids))
    old_v, new_v = seen.metadata.get("arxiv_version"), paper.metadata.get("arxiv_version")
    if old_v is not None and new_v is not None and new_v != old_v:
        if new_v > old_v:
            seen.title, seen.abstract, seen.truncated = paper.title, paper.abstract, paper.truncated
            seen.code_url, seen.metadata = paper.code_url, dict(paper.metadata)
        return
    better = (seen.truncated, -len(seen.abstract)) > (paper.truncated, -len(paper.abstract))
    if better:
        seen.abstract, seen.truncated, seen.code_url = paper.abstract, paper.truncated, paper.code_url
        seen.metadata = {**seen.metadata, **paper.metadata}
    else:
        seen.metadata = {**paper.metadata, **seen.metadata}


def merge_duplicates(papers: Iterable[Paper]) -> list[Paper]:
    """One paper per identity (the module's docstring), in order of first appearance."""
    merged: dict[str, Paper] = {}
    owner: dict[str, str] = {}  # identity key -> the paper id it belongs to
    for paper in papers:
        keys = identity_keys(paper)
        target = next((owner[k] for k in keys if k in owner), None)
        if target is None:
            target = paper.paper_id
            merged[target] = paper
        else:
            merge_into(merged[target], paper)
        for key in keys:
            owner.setdefault(key, target)
    return list(merged.values())
