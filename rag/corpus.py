"""Corpus files -> de-duplicated `Paper` records.

Reads the daily-paper page dumps (CONTRACTS.md §1) and JSON Lines papers. A whole file that
cannot be used (missing, empty, binary, not UTF-8, no papers in it) raises `CorpusError`
before anything is indexed: skipping it would make an incremental ingest delete its papers.
A bad line inside a JSONL file is skipped with a `file:line` warning instead.
Does not chunk, embed or store anything.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from rag.errors import CorpusError
from rag.records import Paper

TEXT_SUFFIXES = {".txt"}
JSONL_SUFFIXES = {".jsonl", ".json", ".ndjson"}

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


@dataclass
class CorpusLoad:
    papers: list[Paper]
    entries: int  # paper entries read before de-duplication
    warnings: list[str] = field(default_factory=list)


def normalise_title(title: str) -> str:
    text = unicodedata.normalize("NFKC", title).lower()
    return re.sub(r"[^\w]+", " ", text).strip()


def paper_id_for(title: str) -> str:
    """Stable across runs and machines: a hash of the normalised title."""
    return "p" + hashlib.sha1(normalise_title(title).encode("utf-8")).hexdigest()[:15]


def clean_space(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


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


def make_paper(title: str, abstract: str, source: str, metadata: dict | None = None) -> Paper:
    title, abstract = clean_space(title), clean_space(abstract)
    return Paper(
        paper_id=paper_id_for(title),
        title=title,
        abstract=abstract,
        sources=[source],
        truncated=is_truncated(abstract),
        code_url=find_code_url(abstract),
        metadata=dict(metadata or {}),
    )


def read_text_file(path: Path) -> str:
    """The file's text, or a CorpusError saying why it cannot be a corpus file."""
    if not path.exists():
        raise CorpusError(f"corpus file not found: {path} (check the path given to --corpus / RAG_CORPUS)")
    if path.is_dir():
        raise CorpusError(f"{path} is a folder, expected a file")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CorpusError(f"cannot read corpus file {path}: {exc.strerror}") from None
    if not data.strip():
        raise CorpusError(f"corpus file {path} is empty: remove it or add papers to it")
    if b"\x00" in data[:8192]:
        raise CorpusError(f"corpus file {path} is binary, not text: expected a .txt page dump or .jsonl papers")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CorpusError(
            f"corpus file {path} is not UTF-8 (bad byte at offset {exc.start}): re-save it as UTF-8"
        ) from None


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


def parse_jsonl(text: str, source: str, warnings: list[str]) -> list[Paper]:
    """One JSON object per line with `title` and `abstract`; other fields become metadata."""
    papers: list[Paper] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            warnings.append(f"{source}:{lineno}: not valid JSON ({exc.msg}), skipped")
            continue
        if not isinstance(obj, dict):
            warnings.append(f"{source}:{lineno}: expected a JSON object, skipped")
            continue
        title, abstract = obj.get("title"), obj.get("abstract")
        missing = [k for k, v in (("title", title), ("abstract", abstract)) if not isinstance(v, str) or not v.strip()]
        if missing:
            warnings.append(f"{source}:{lineno}: missing or empty {' and '.join(missing)}, skipped")
            continue
        metadata = {k: v for k, v in obj.items() if k not in ("title", "abstract")}
        papers.append(make_paper(title, abstract, source, metadata))
    return papers


def corpus_files(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in TEXT_SUFFIXES | JSONL_SUFFIXES)
            if not found:
                raise CorpusError(f"corpus folder {path} has no .txt or .jsonl files")
            files.extend(found)
        elif not path.exists():
            raise CorpusError(f"corpus path not found: {path} (check --corpus / RAG_CORPUS)")
        else:
            files.append(path)
    return files


def merge_duplicates(papers: Iterable[Paper]) -> list[Paper]:
    """One paper per normalised title, keeping every source file and the fullest abstract."""
    merged: dict[str, Paper] = {}
    for paper in papers:
        seen = merged.get(paper.paper_id)
        if seen is None:
            merged[paper.paper_id] = paper
            continue
        seen.sources = sorted(set(seen.sources) | set(paper.sources))
        better = (seen.truncated, -len(seen.abstract)) > (paper.truncated, -len(paper.abstract))
        if better:
            seen.abstract, seen.truncated, seen.code_url = paper.abstract, paper.truncated, paper.code_url
        seen.metadata = {**paper.metadata, **seen.metadata}
    return list(merged.values())


def load_corpus(paths: Iterable[Path]) -> CorpusLoad:
    warnings: list[str] = []
    entries: list[Paper] = []
    for path in corpus_files(paths):
        text = read_text_file(path)
        suffix = path.suffix.lower()
        if suffix in JSONL_SUFFIXES:
            found = parse_jsonl(text, path.name, warnings)
        elif suffix in TEXT_SUFFIXES:
            found = parse_daily_dump(text, path.name, warnings)
        else:
            raise CorpusError(f"unsupported corpus file {path}: use .txt page dumps or .jsonl papers")
        if not found:
            raise CorpusError(f"no papers found in {path}: expected title/abstract pairs (see CONTRACTS.md §1)")
        entries.extend(found)
    return CorpusLoad(papers=merge_duplicates(entries), entries=len(entries), warnings=warnings)
