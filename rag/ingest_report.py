"""What an ingest tells its user: what it read, merged, skipped and indexed, and how fast.

A plain record filled in by rag/ingest.py; `summary()` is the line `rag ingest` prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class IngestReport:
    index_dir: str
    papers: int  # in the index now: one per distinct paper of the corpus (after filters)
    added: int
    changed: int
    metadata_only: int
    removed: int
    unchanged: int
    chunks_embedded: int
    seconds: float  # wall time of the whole ingest (a resumed one's earlier runs included)
    embed_seconds: float
    entries: int = 0  # corpus records read and parsed, before filters and merging
    repeats: int = 0  # records folded into a paper read before them (same id, version, or title and abstract)
    filtered_out: int = 0
    skipped_lines: int = 0  # records that could not be used (each a file:line warning)
    resumed: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def records_read(self) -> int:
        """= repeats + skipped + filtered out + papers indexed."""
        return self.entries + self.skipped_lines

    @property
    def abstracts_per_second(self) -> float:
        """Abstracts embedded per second of the whole ingest's wall time."""
        embedded = self.added + self.changed
        return embedded / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        resumed = " (resumed an interrupted ingest)" if self.resumed else ""
        skipped = " (see the file:line warnings)" if self.skipped_lines else ""
        filtered = f", {self.filtered_out} left out by the filters" if self.filtered_out else ""
        embedded = self.added + self.changed
        rate = f", {self.abstracts_per_second:.1f} abstracts/s" if embedded else ""
        return (f"indexed {self.papers} papers at {self.index_dir}{resumed}: {self.added} new, {self.changed} changed, "
                f"{self.metadata_only} metadata-only, {self.removed} removed, {self.unchanged} unchanged\n"
                f"read {self.records_read} records: {self.repeats} merged as repeats, "
                f"{self.skipped_lines} skipped{skipped}{filtered}, {self.papers} indexed\n"
                f"embedded {embedded} abstracts ({self.chunks_embedded} chunks) in {self.embed_seconds:.1f} s; "
                f"{self.seconds:.1f} s in all{rate}")
