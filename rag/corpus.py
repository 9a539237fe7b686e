"""Corpus files -> `Paper` records, streamed (CorpusReader) or loaded whole (load_corpus).

Reads the daily-paper page dumps (docs/contracts.md §1) and JSON Lines papers, including the arXiv
metadata snapshot (`id`, `title`, `abstract`, `categories`, `update_date`, …), whose papers
are keyed by arXiv id so that every version of a paper is one paper. A whole file that cannot
be used (missing, empty, binary, not UTF-8, no papers in it) raises `CorpusError` before
anything is indexed: skipping it would make an incremental ingest delete its papers. A bad
line inside a JSONL file is skipped with a `file:line` warning instead.
JSONL files are read line by line, with a resumable position, so a multi-GB snapshot takes
constant memory. Does not chunk, embed or store anything.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from rag.corpus_filter import CorpusFilter
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
CHECK_BLOCK = 1 << 22
# New-style (2101.00001, 0704.0001) and old-style (math/0701001, hep-th/9901001) arXiv ids.
ARXIV_ID = re.compile(r"(?:arxiv:)?(?P<base>\d{4}\.\d{4,5}|[a-z][a-z-]*(?:\.[A-Z]{2})?/\d{7})(?:v(?P<version>\d+))?",
                      re.IGNORECASE)
ARXIV_PREFIX = "arxiv:"


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


def make_paper(title: str, abstract: str, source: str, metadata: dict | None = None,
               paper_id: str | None = None) -> Paper:
    title, abstract = clean_space(title), clean_space(abstract)
    return Paper(
        paper_id=paper_id or paper_id_for(title),
        title=title,
        abstract=abstract,
        sources=[source],
        truncated=is_truncated(abstract),
        code_url=find_code_url(abstract),
        metadata=dict(metadata or {}),
    )


def check_file(path: Path) -> None:
    """Raise a CorpusError saying why `path` cannot be a corpus file; reads it in blocks, so a
    file of any size is checked (UTF-8 throughout) in constant memory before anything is indexed."""
    if not path.exists():
        raise CorpusError(f"corpus file not found: {path} (check the path given to --corpus / RAG_CORPUS)")
    if path.is_dir():
        raise CorpusError(f"{path} is a folder, expected a file")
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset, blank = 0, True
    try:
        with open(path, "rb") as handle:
            while block := handle.read(CHECK_BLOCK):
                if offset == 0 and b"\x00" in block[:8192]:
                    raise CorpusError(f"corpus file {path} is binary, not text: expected a .txt page dump or .jsonl papers")
                blank = blank and not block.strip()
                try:
                    decoder.decode(block)
                except UnicodeDecodeError as exc:
                    raise CorpusError(f"corpus file {path} is not UTF-8 (bad byte at offset {offset + exc.start}): "
                                      "re-save it as UTF-8") from None
                offset += len(block)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise CorpusError(f"corpus file {path} is not UTF-8 (it ends inside a character): re-save it as UTF-8") from None
    except OSError as exc:
        raise CorpusError(f"cannot read corpus file {path}: {exc.strerror}") from None
    if blank:
        raise CorpusError(f"corpus file {path} is empty: remove it or add papers to it")


def read_text_file(path: Path) -> str:
    """The file's text, or a CorpusError saying why it cannot be a corpus file."""
    check_file(path)
    try:
        return path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise CorpusError(f"cannot read corpus file {path}: {exc.strerror}") from None


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
    their normalised title. Other fields become metadata (the snapshot's `authors_parsed`, a
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
    paper_id = None
    if arxiv is not None:
        base, version = arxiv
        versions = obj.get("versions")
        if not version and isinstance(versions, list) and versions:
            last = versions[-1].get("version") if isinstance(versions[-1], dict) else versions[-1]
            version = int(str(last).lstrip("vV")) if str(last).lstrip("vV").isdigit() else len(versions)
        metadata.update(arxiv_id=base, arxiv_version=version)
        paper_id = ARXIV_PREFIX + base
    return make_paper(title, abstract, source, metadata, paper_id=paper_id)


def parse_jsonl(text: str, source: str, warnings: list[str]) -> list[Paper]:
    """One JSON object per line with `title` and `abstract` (see paper_from_record)."""
    papers: list[Paper] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            warnings.append(f"{source}:{lineno}: not valid JSON ({exc.msg}), skipped")
            continue
        paper = paper_from_record(obj, f"{source}:{lineno}", source, warnings)
        if paper is not None:
            papers.append(paper)
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


def merge_into(seen: Paper, paper: Paper) -> None:
    """Fold another entry of the same paper into `seen`, keeping every source file.

    Two arXiv versions: the later version wins (its title, abstract and metadata). Otherwise
    the fullest abstract wins (a complete one over a cut-off one, then the longer), and the
    first entry's metadata wins key by key."""
    seen.sources = sorted(set(seen.sources) | set(paper.sources))
    old_v, new_v = seen.metadata.get("arxiv_version"), paper.metadata.get("arxiv_version")
    if old_v is not None and new_v is not None and new_v != old_v:
        if new_v > old_v:
            seen.title, seen.abstract, seen.truncated = paper.title, paper.abstract, paper.truncated
            seen.code_url, seen.metadata = paper.code_url, dict(paper.metadata)
        return
    better = (seen.truncated, -len(seen.abstract)) > (paper.truncated, -len(paper.abstract))
    if better:
        seen.abstract, seen.truncated, seen.code_url = paper.abstract, paper.truncated, paper.code_url
    seen.metadata = {**paper.metadata, **seen.metadata}


def merge_duplicates(papers: Iterable[Paper]) -> list[Paper]:
    """One paper per id (normalised title, or arXiv id without version)."""
    merged: dict[str, Paper] = {}
    for paper in papers:
        seen = merged.get(paper.paper_id)
        if seen is None:
            merged[paper.paper_id] = paper
        else:
            merge_into(seen, paper)
    return list(merged.values())


# -- streaming ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Position:
    """Where a corpus stream resumes: a file, and a byte offset in it (JSONL) or the number of
    its papers already read (page dumps, which are parsed whole)."""

    file: int
    offset: int
    line: int = 0


class CorpusReader:
    """Streams the papers of corpus files in order, one entry at a time, in constant memory.

    `check()` validates every file first (so a bad file fails before anything is indexed);
    `entries(start)` yields (paper, position after it) for every entry that passes the filter,
    with arXiv versions and duplicates NOT yet merged (the ingest merges them)."""

    def __init__(self, paths: Iterable[Path], filters: CorpusFilter | None = None, max_warnings: int = 1000):
        self.files = corpus_files(paths)
        self.filters = filters or CorpusFilter()
        self.max_warnings = max_warnings
        self.warnings: list[str] = []
        self.skipped_lines = 0  # bad lines (each also a warning, up to max_warnings)
        self.entries_read = 0
        self.filtered_out = 0
        self._checked = False

    def check(self) -> None:
        for path in self.files:
            if path.suffix.lower() not in TEXT_SUFFIXES | JSONL_SUFFIXES:
                raise CorpusError(f"unsupported corpus file {path}: use .txt page dumps or .jsonl papers")
            check_file(path)
            if path.suffix.lower() in TEXT_SUFFIXES:
                if not parse_daily_dump(read_text_file(path), path.name, []):
                    raise _no_papers(path)
            elif not self._has_a_paper(path):
                raise _no_papers(path)
        self._checked = True

    @staticmethod
    def _has_a_paper(path: Path) -> bool:
        with open(path, "rb") as handle:
            for raw in handle:
                try:
                    obj = json.loads(raw)
                except ValueError:
                    continue
                if paper_from_record(obj, "", path.name, []) is not None:
                    return True
        return False

    @property
    def total_bytes(self) -> int:
        return sum(path.stat().st_size for path in self.files)

    def bytes_done(self, position: Position) -> int:
        done = sum(path.stat().st_size for path in self.files[:position.file])
        if position.file < len(self.files):
            path = self.files[position.file]
            if path.suffix.lower() in JSONL_SUFFIXES:
                done += position.offset
        return done

    def fingerprint(self) -> str:
        """Changes when a file, its size or modification time, or the filter changes."""
        files = [[str(p.resolve()), p.stat().st_size, p.stat().st_mtime_ns] for p in self.files]
        blob = json.dumps([files, self.filters.describe()], sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:24]

    def _warn(self, message: str) -> None:
        self.skipped_lines += 1
        if len(self.warnings) < self.max_warnings:
            self.warnings.append(message)

    def entries(self, start: Position | None = None) -> Iterator[tuple[Paper, Position]]:
        if not self._checked:
            self.check()
        start = start or Position(0, 0)
        for number in range(start.file, len(self.files)):
            path = self.files[number]
            resume = start if number == start.file else Position(number, 0)
            if path.suffix.lower() in JSONL_SUFFIXES:
                yield from self._jsonl(path, number, resume)
            else:
                yield from self._dump(path, number, resume)

    def _keep(self, paper: Paper) -> bool:
        self.entries_read += 1
        if self.filters.active and not self.filters.accepts(paper):
            self.filtered_out += 1
            return False
        return True

    def _jsonl(self, path: Path, number: int, start: Position) -> Iterator[tuple[Paper, Position]]:
        offset, lineno = start.offset, start.line
        ids: dict[str, tuple[str, int]] = {}  # this file's record ids -> (paper id, line)
        with open(path, "rb") as handle:
            handle.seek(offset)
            for raw in handle:
                offset += len(raw)
                lineno += 1
                if not raw.strip():
                    continue
                where = f"{path.name}:{lineno}"
                try:
                    obj = json.loads(raw.decode("utf-8-sig") if lineno == 1 else raw)
                except ValueError as exc:
                    self._warn(f"{where}: not valid JSON ({getattr(exc, 'msg', exc)}), skipped")
                    continue
                warnings: list[str] = []
                paper = paper_from_record(obj, where, path.name, warnings)
                for message in warnings:
                    self._warn(message)
                if paper is not None and "arxiv_id" not in paper.metadata:
                    self._check_unique_id(obj.get("id"), paper, where, lineno, ids)
                if paper is not None and self._keep(paper):
                    yield paper, Position(number, offset, lineno)

    def _check_unique_id(self, record_id: object, paper: Paper, where: str, lineno: int,
                         ids: dict[str, tuple[str, int]]) -> None:
        """Papers are keyed by title (arXiv ids aside): the same record twice is one paper, but
        an id reused by another title is two papers, which the user should hear about."""
        if isinstance(record_id, bool) or not isinstance(record_id, (str, int)):
            return
        key = str(record_id)
        earlier = ids.get(key)
        if earlier is None:
            if len(ids) < MAX_TRACKED_IDS:
                ids[key] = (paper.paper_id, lineno)
        elif earlier[0] != paper.paper_id and len(self.warnings) < self.max_warnings:
            self.warnings.append(f"{where}: id {key!r} is also line {earlier[1]}'s, which has another title: "
                                 "both kept as separate papers (make the ids unique)")

    def _dump(self, path: Path, number: int, start: Position) -> Iterator[tuple[Paper, Position]]:
        warnings: list[str] = []
        papers = parse_daily_dump(read_text_file(path), path.name, warnings)
        if start.offset == 0:
            for message in warnings:
                self._warn(message)
        for at, paper in enumerate(papers[start.offset:], start=start.offset + 1):
            if self._keep(paper):
                yield paper, Position(number, at)


MAX_TRACKED_IDS = 2_000_000  # per file; about 200 MB at most


def _no_papers(path: Path) -> CorpusError:
    return CorpusError(f"no papers found in {path}: expected title/abstract pairs (see docs/contracts.md §1)")


def load_corpus(paths: Iterable[Path], filters: CorpusFilter | None = None) -> CorpusLoad:
    """Every paper of the corpus in memory, merged: for small corpora and tests."""
    reader = CorpusReader(paths, filters, max_warnings=10**9)
    entries = [paper for paper, _ in reader.entries()]
    return CorpusLoad(papers=merge_duplicates(entries), entries=reader.entries_read, warnings=reader.warnings)
