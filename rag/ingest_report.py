"""What an ingest tells its user: what it read, merged, skipped and indexed, and how fast.

A plain record filled in by rag/ingest.py; `summary()` is the line `rag ingest` prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class IngestReport:
    index_dir: str
    papers: int
    added: int
    changed: int
    metadata_only: int
    removed: int
    unchanged: int
    chunks_embedded: int
    seconds: float
    embed_seconds: float
    entries: int = 0  # corpus entries read (after filters), before merging
    filtered_out: int = 0
    skipped_lines: int = 0
    resumed: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def abstracts_per_second(self) -> float:
        embedded = self.added + self.changed
        return embedded / self.embed_seconds if self.embed_seconds > 0 else 0.0

    def summary(self) -> str:
        rate = f", {self.abstracts_per_second:.1f} abstracts/s" if self.chunks_embedded else ""
        extra = f"; {self.filtered_out} entries left out by the filters" if self.filtered_out else ""
        resumed = " (resumed an interrupted ingest)" if self.resumed else ""
        return (f"indexed {self.papers} papers at {self.index_dir}{resumed}: {self.added} new, {self.changed} changed, "
                f"{self.metadata_only} metadata-only, {self.removed} removed, {self.unchanged} unchanged; "
                f"{self.chunks_embedded} chunks embedded in {self.seconds:.1f} s{rate}{extra}")
