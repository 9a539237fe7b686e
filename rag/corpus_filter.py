"""Ingest-time filters on arXiv categories and dates (`rag ingest --category/--since/--until`).

`CorpusFilter.parse` turns the flags into a filter, or a one-line `UsageError`; the
CorpusReader (rag/corpus.py) asks `accepts(paper)` of every entry it reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Iterable

from rag.errors import UsageError
from rag.records import Paper


@dataclass(frozen=True)
class CorpusFilter:
    """Keep only papers in these arXiv categories and/or updated within these dates.

    A category matches exactly ("cs.CL", any case) or, given as an archive ("cs" or "cs.*"),
    every category of that archive. Dates are compared with a paper's `update_date` (the
    arXiv snapshot's date of the latest version), else `published` or `date`. A paper without
    the field a filter needs is left out."""

    categories: tuple[str, ...] = ()
    since: date | None = None
    until: date | None = None

    @classmethod
    def parse(cls, categories: Iterable[str] = (), since: str | None = None, until: str | None = None) -> "CorpusFilter":
        cats = tuple(c.strip() for c in categories)
        if any(not c or " " in c for c in cats):
            raise UsageError("bad --category: give one arXiv category per flag, e.g. --category cs.CL --category cs.LG")
        first, last = _parse_date(since, "--since", start=True), _parse_date(until, "--until", start=False)
        if first and last and first > last:
            raise UsageError(f"--since {since} is after --until {until}: swap them")
        return cls(cats, first, last)

    @property
    def active(self) -> bool:
        return bool(self.categories) or self.since is not None or self.until is not None

    def describe(self) -> dict:
        return {"categories": list(self.categories), "since": self.since and self.since.isoformat(),
                "until": self.until and self.until.isoformat()}

    def accepts(self, paper: Paper) -> bool:
        if self.categories:
            cats = paper.metadata.get("categories")
            have = (cats.split() if isinstance(cats, str) else [str(c) for c in cats] if isinstance(cats, list) else [])
            if not any(_category_matches(want, got) for want in self.categories for got in have):
                return False
        if self.since is not None or self.until is not None:
            when = paper_date(paper)
            if when is None or (self.since and when < self.since) or (self.until and when > self.until):
                return False
        return True


def _category_matches(want: str, got: str) -> bool:
    want, got = want.lower(), got.lower()
    if want.endswith(".*"):
        want = want[:-2]
    elif "." in want:
        return got == want
    return got == want or got.startswith(want + ".")


def _parse_date(text: str | None, flag: str, start: bool) -> date | None:
    """YYYY, YYYY-MM or YYYY-MM-DD; a year or month means its first (--since) or last day."""
    if text is None or not text.strip():
        return None
    text = text.strip()
    try:
        if re.fullmatch(r"\d{4}", text):
            return date(int(text), 1, 1) if start else date(int(text), 12, 31)
        if re.fullmatch(r"\d{4}-\d{2}", text):
            year, month = map(int, text.split("-"))
            first = date(year, month, 1)  # ValueError for month 13
            return first if start else date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"bad {flag} {text!r}: use a date like 2023-01-31, 2023-01 or 2023") from None


def paper_date(paper: Paper) -> date | None:
    for key in ("update_date", "published", "date"):
        value = paper.metadata.get(key)
        if isinstance(value, str) and len(value) >= 10:
            try:
                return date.fromisoformat(value[:10])
            except ValueError:
                continue
    return None
