"""Streaming ingest of arXiv-snapshot JSONL: version collapse, filters, resuming, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from fakes import record, write_jsonl
from rag.cli import rag_group
from rag.corpus import CorpusReader, load_corpus
from rag.corpus_filter import CorpusFilter
from rag.errors import CorpusError, UsageError
from rag.index import Index, is_ready
from rag.ingest import RUN_FILE, ingest
from rag.settings import Settings

def test_snapshot_records_become_papers_keyed_by_arxiv_id(tmp_path):
    path = write_jsonl(tmp_path / "arxiv.jsonl", [record(1)])
    (paper,) = load_corpus([path]).papers
    assert paper.paper_id == "arxiv:2305.00001"
    assert paper.title == "A study of speech number 1 with transformers"  # wrapped lines joined
    assert paper.abstract.startswith("We study speech problem 1 with a new transformer model. It improves")
    assert paper.metadata["categories"] == "cs.CL" and paper.metadata["update_date"] == "2023-05-01"
    assert paper.metadata["arxiv_id"] == "2305.00001"
    assert "authors_parsed" not in paper.metadata  # a second copy of `authors`


def test_versions_of_a_paper_collapse_to_the_latest(tmp_path):
    path = write_jsonl(tmp_path / "versions.jsonl", [
        record(7, version=2, title="Revised title"), record(7, version=1), record(8, version=1),
        record(7, version=3, title="Final title", update_date="2024-01-09"),
    ])
    loaded = load_corpus([path])
    assert loaded.entries == 4
    papers = {p.paper_id: p for p in loaded.papers}
    assert set(papers) == {"arxiv:2305.00007", "arxiv:2305.00008"}
    final = papers["arxiv:2305.00007"]
    assert (final.title, final.metadata["arxiv_version"], final.metadata["update_date"]) == ("Final title", 3, "2024-01-09")
    assert "Version 3." in final.abstract


def test_snapshot_versions_list_gives_the_version(tmp_path):
    versions = [{"version": "v1", "created": "x"}, {"version": "v2", "created": "y"}]
    path = write_jsonl(tmp_path / "a.jsonl", [record(3, versions=versions)])
    (paper,) = load_corpus([path]).papers
    assert paper.metadata["arxiv_version"] == 2


@pytest.mark.parametrize("flags, expected", [
    ({"categories": ["cs.CL"]}, {1, 3}),
    ({"categories": ["CS.cl"]}, {1, 3}),  # any case
    ({"categories": ["cs"]}, {1, 2, 3, 4}),  # a whole archive; cross-lists count
    ({"categories": ["cs.*"]}, {1, 2, 3, 4}),
    ({"categories": ["math"]}, {4}),
    ({"categories": ["stat.ML", "cs.AI"]}, {2, 3}),  # any of them
    ({"since": "2023-06-01"}, {2, 3}),
    ({"until": "2023-05"}, {1, 4}),  # a month means its last day
    ({"since": "2023", "until": "2023-12-31", "categories": ["cs"]}, {1, 2}),
])
def test_filters_keep_only_matching_papers(tmp_path, flags, expected):
    path = write_jsonl(tmp_path / "a.jsonl", [
        record(1, categories="cs.CL", date="2023-05-01"),
        record(2, categories="cs.LG stat.ML", date="2023-07-15"),
        record(3, categories="cs.CL cs.AI", date="2024-02-01"),
        record(4, categories="math.AG cs.LG", date="2022-12-31"),
    ])
    reader = CorpusReader([path], CorpusFilter.parse(**flags))
    kept = {int(p.metadata["arxiv_id"].split(".")[1]) for p, _ in reader.entries()}
    assert kept == expected
    assert reader.filtered_out == 4 - len(expected)


def test_papers_without_the_filtered_field_are_left_out(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [{"title": "No categories here at all", "abstract": "Some abstract."}])
    reader = CorpusReader([path], CorpusFilter.parse(categories=["cs.CL"]))
    assert list(reader.entries()) == [] and reader.filtered_out == 1


@pytest.mark.parametrize("flags, message", [
    ({"since": "2023-13-01"}, "bad --since '2023-13-01': use a date like 2023-01-31"),
    ({"until": "last week"}, "bad --until 'last week'"),
    ({"since": "2024", "until": "2023"}, "--since 2024 is after --until 2023"),
    ({"categories": [""]}, "bad --category"),
])
def test_bad_filters_are_refused_with_the_fix(flags, message):
    with pytest.raises(UsageError, match=message):
        CorpusFilter.parse(**flags)


def test_reader_resumes_at_a_position_without_rereading(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [record(i) for i in range(1, 11)])
    entries = list(CorpusReader([path]).entries())
    _, middle = entries[4]
    rest = [p.paper_id for p, _ in CorpusReader([path]).entries(middle)]
    assert rest == [p.paper_id for p, _ in entries[5:]]


def test_a_bad_file_fails_before_anything_is_indexed(tmp_path, fake_encoder):
    good = write_jsonl(tmp_path / "good.jsonl", [record(1)])
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(json.dumps(record(2)).encode() + b"\n" + "caf\xe9".encode("latin-1") + b"\n")
    with pytest.raises(CorpusError, match=r"bad.jsonl is not UTF-8 \(bad byte at offset"):
        ingest(Settings.build(corpus=[good, bad]), CorpusReader([good, bad]), progress=False, encoder=fake_encoder)
    assert not (Settings.build().index_dir / "catalog.sqlite").exists()


class Interrupt(Exception):
    pass


class FailingEncoder:
    """The fake encoder, dying (like a killed process) after `after` encode calls."""

    def __init__(self, inner, after: int):
        self.inner, self.after = inner, after
        self.name, self.dim, self.max_tokens = inner.name, inner.dim, inner.max_tokens
        self.count_tokens = inner.count_tokens

    def encode(self, texts, batch_size=32):
        if self.after == 0:
            raise Interrupt()
        self.after -= 1
        return self.inner.encode(texts, batch_size)

    def encode_with_spans(self, texts, spans, batch_size=32):
        if self.after == 0:
            raise Interrupt()
        self.after -= 1
        return self.inner.encode_with_spans(texts, spans, batch_size)


def test_interrupted_ingest_resumes_without_losing_or_duplicating_a_paper(tmp_path, fake_encoder, monkeypatch):
    import rag.ingest

    monkeypatch.setattr(rag.ingest, "READ_BATCH", 50)
    monkeypatch.setattr(rag.ingest, "BATCH_PAPERS", 40)
    records = [record(i) for i in range(1, 301)] + [record(5, version=2, title="Updated five")]
    path = write_jsonl(tmp_path / "arxiv.jsonl", records)
    settings = Settings.build(corpus=[path])
    with pytest.raises(Interrupt):
        ingest(settings, CorpusReader([path]), progress=False, encoder=FailingEncoder(fake_encoder, after=3))
    index_dir = Path(settings.index_dir)
    assert (index_dir / RUN_FILE).exists() and not is_ready(index_dir)
    encoded_before = fake_encoder.texts_encoded
    assert encoded_before == 120  # three batches of 40 made it

    report = ingest(settings, CorpusReader([path]), progress=False, encoder=fake_encoder)
    assert report.resumed and report.papers == 300
    assert fake_encoder.texts_encoded - encoded_before == 180  # only what was left
    assert (report.added, report.entries) == (300, 301)
    assert not (index_dir / RUN_FILE).exists()
    index = Index(index_dir, fake_encoder.name)
    ids = [p.paper_id for p in index.catalog.iter_papers()]
    assert len(ids) == len(set(ids)) == 300
    assert index.store.count() == index.catalog.count_chunks() == 300
    assert index.catalog.papers(["arxiv:2305.00005"])["arxiv:2305.00005"].title == "Updated five"
    top, _ = index.bm25.search("molecule problem 4", 1)[0]
    assert top == "arxiv:2305.00004:0"


def test_interrupted_read_pass_resumes_from_its_position(tmp_path, fake_encoder, monkeypatch):
    import rag.ingest

    monkeypatch.setattr(rag.ingest, "READ_BATCH", 20)
    path = write_jsonl(tmp_path / "arxiv.jsonl", [record(i) for i in range(1, 101)])
    settings = Settings.build(corpus=[path])
    reader = CorpusReader([path])
    real_entries = reader.entries

    def dying(start=None):
        for n, item in enumerate(real_entries(start)):
            if n == 55:
                raise Interrupt()
            yield item

    reader.entries = dying
    with pytest.raises(Interrupt):
        ingest(settings, reader, progress=False, encoder=fake_encoder)
    assert fake_encoder.texts_encoded == 0  # nothing is embedded before the corpus is read
    resumed = CorpusReader([path])
    starts = []
    original = resumed.entries
    resumed.entries = lambda start=None: (starts.append(start), original(start))[1]
    report = ingest(settings, resumed, progress=False, encoder=fake_encoder)
    assert starts[0] is not None and starts[0].line == 40  # two batches of 20 were staged
    assert (report.resumed, report.papers, report.entries, report.added) == (True, 100, 100, 100)


def test_a_changed_corpus_restarts_instead_of_resuming(tmp_path, fake_encoder):
    path = write_jsonl(tmp_path / "arxiv.jsonl", [record(i) for i in range(1, 201)])
    settings = Settings.build(corpus=[path])
    with pytest.raises(Interrupt):
        ingest(settings, CorpusReader([path]), progress=False, encoder=FailingEncoder(fake_encoder, after=1))
    write_jsonl(path, [record(i) for i in range(1, 51)])  # the file was replaced meanwhile
    report = ingest(settings, CorpusReader([path]), progress=False, encoder=fake_encoder)
    assert not report.resumed and report.papers == 50


def test_filters_on_a_rerun_remove_papers_outside_them(tmp_path, fake_encoder):
    path = write_jsonl(tmp_path / "arxiv.jsonl", [record(1, categories="cs.CL"), record(2, categories="math.AG")])
    settings = Settings.build(corpus=[path])
    assert ingest(settings, CorpusReader([path]), progress=False, encoder=fake_encoder).papers == 2
    report = ingest(settings, CorpusReader([path], CorpusFilter.parse(categories=["cs"])), progress=False,
                    encoder=fake_encoder)
    assert (report.papers, report.removed, report.unchanged, report.filtered_out) == (1, 1, 1, 1)


def test_unchanged_rerun_of_a_corpus_with_duplicates_embeds_nothing(small_corpus, fake_encoder):
    """Duplicates across files merge on disk during the read pass, so neither entry alone is
    compared with the index (which would re-embed the paper twice on every run)."""
    settings = Settings.build(corpus=[small_corpus])
    ingest(settings, CorpusReader([small_corpus]), progress=False, encoder=fake_encoder)
    before = fake_encoder.texts_encoded
    report = ingest(settings, CorpusReader([small_corpus]), progress=False, encoder=fake_encoder)
    assert (report.unchanged, report.entries, fake_encoder.texts_encoded) == (4, 6, before)


def test_cli_ingests_a_snapshot_with_filters_and_reports_bad_lines(tmp_path, fake_models):
    path = write_jsonl(tmp_path / "arxiv.jsonl", [record(1), "{broken", record(2, categories="math.AG"),
                                                   {"id": "2305.00009", "title": "No abstract"}])
    result = CliRunner().invoke(rag_group, ["ingest", "--quiet", "--corpus", str(path), "--category", "cs.CL"])
    assert result.exit_code == 0, result.output
    assert "indexed 1 papers" in result.stdout
    assert "read 4 records: 0 merged as repeats, 2 skipped (see the file:line warnings), 1 left out by the filters, " \
           "1 indexed" in result.stdout
    assert "warning: arxiv.jsonl:2: not valid JSON" in result.stderr
    assert "warning: arxiv.jsonl:4: missing or empty abstract, skipped" in result.stderr


def test_cli_refuses_a_bad_date_in_one_line(tmp_path, fake_models):
    path = write_jsonl(tmp_path / "arxiv.jsonl", [record(1)])
    result = CliRunner().invoke(rag_group, ["ingest", "--corpus", str(path), "--since", "May 2023"])
    assert result.exit_code == 2
    assert result.stderr.strip() == ("error: bad --since 'May 2023': use a date like 2023-01-31, 2023-01 or 2023")
