"""Corpus files -> `Paper` records, streamed (CorpusReader) or loaded whole (load_corpus).

Reads the daily-paper page dumps (docs/contracts.md §1) and JSON Lines papers, including the arXiv
metadata snapshot; what a dump or a record means is rag/corpus_formats.py's business. A whole
file that cannot be used (missing, empty, binary, not UTF-8, no papers in it) raises
`CorpusError` before anything is indexed: skipping it would make an incremental ingest delete its papers. A bad
line inside a JSONL file is skipped with a `file:line` warning instead.
JSONL files are read line by line, with a resumable position, so a multi-GB snapshot takes
constant memory. Does not chunk, embed or store anything.
"""

from __future__ import annotations

import codecs
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from rag.corpus_filter import CorpusFilter
from rag.corpus_formats import merge_duplicates, paper_from_record, parse_daily_dump
from rag.errors import CorpusError
from rag.records import Paper

TEXT_SUFFIXES = {".txt"}
JSONL_SUFFIXES = {".jsonl", ".json", ".ndjson"}
CHECK_BLOCK = 1 << 22


@dataclass
class CorpusLoad:
    papers: list[Paper]
    entries: int  # paper entries read before de-duplication
    warnings: list[str] = field(default_factory=list)


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
        """The same record twice is one paper, but an id reused by another title is two papers,
        which the user should hear about."""
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
