"""Nothing lost at ingest: which records are one paper, which are two, and the ingest's
account of what it read, merged, skipped and indexed. Record ids flow through to answers."""

from __future__ import annotations

import json
import sqlite3

import pytest
from click.testing import CliRunner

from fakes import PAPERS
from rag.cli import ask_command, rag_group
from rag.corpus import CorpusReader, load_corpus
from rag.index import Index
from rag.ingest import ingest
from rag.settings import Settings
from test_arxiv_stream import record, write_jsonl


def rec(record_id, title, abstract, **extra) -> dict:
    out = {"title": title, "abstract": abstract, **extra}
    if record_id is not None:
        out["id"] = record_id
    return out


def abstract(n: int) -> str:
    return f"We study cohort {n} of patients with a randomised trial and report outcome {n} in detail."


def papers_of(tmp_path, rows) -> dict[str, object]:
    path = write_jsonl(tmp_path / "mine.jsonl", rows)
    return {p.paper_id: p for p in load_corpus([path]).papers}


@pytest.mark.parametrize("rows, expected", [
    pytest.param([rec("a", "Aspirin and stroke", abstract(1)), rec("b", "Aspirin and stroke", abstract(2))],
                 [["a"], ["b"]], id="distinct-ids-same-title"),
    pytest.param([rec("a", "Aspirin and stroke", abstract(1)), rec("a", "Aspirin and stroke", abstract(1))],
                 [["a"]], id="same-record-twice"),
    pytest.param([rec("a", "Aspirin and stroke", abstract(1)), rec(7, "Aspirin and stroke", abstract(1))],
                 [["a", "7"]], id="same-title-and-abstract-under-two-ids"),
    pytest.param([rec("a", "Aspirin and stroke", abstract(1)), rec("a", "Statins and stroke", abstract(2))],
                 [["a"], ["a"]], id="an-id-reused-by-another-title"),
    pytest.param([rec(None, "Summary", abstract(1)), rec(None, "Summary", abstract(2)),
                  rec(None, "Abstract", abstract(3)), rec(None, "abstract", abstract(4)),
                  rec(None, "Corresponding author:", abstract(5)), rec(None, "Corresponding author:", abstract(6))],
                 [[]] * 6, id="boilerplate-titles-without-ids"),
    pytest.param([rec(None, "Summary", abstract(1)), rec(None, "Summary", abstract(1))],
                 [[]], id="boilerplate-title-repeated-with-its-abstract"),
    pytest.param([rec(None, "Aspirin and stroke", abstract(1)), rec(None, "Aspirin and stroke", abstract(1) + " More.")],
                 [[]], id="no-ids-same-title-is-one-paper"),
])
def test_which_records_are_one_paper(tmp_path, rows, expected):
    papers = papers_of(tmp_path, rows)
    assert sorted(p.record_ids for p in papers.values()) == sorted(expected)


def test_a_merged_paper_keeps_the_metadata_of_the_record_whose_abstract_it_keeps(tmp_path):
    (paper,) = papers_of(tmp_path, [rec(None, "Aspirin and stroke", "Cut off at", year=2020),
                                    rec(None, "Aspirin and stroke", abstract(1), year=2021)]).values()
    assert paper.abstract == abstract(1) and paper.metadata["year"] == 2021


def test_arxiv_records_carry_their_arxiv_id_as_record_id(tmp_path):
    path = write_jsonl(tmp_path / "arxiv.jsonl", [record(1, version=1), record(1, version=2)])
    (paper,) = load_corpus([path]).papers
    assert paper.record_ids == ["2305.00001"]


def test_page_dump_titles_are_still_one_paper_across_files(small_corpus):
    papers = load_corpus([small_corpus]).papers
    assert len(papers) == len(PAPERS) and all(p.record_ids == [] for p in papers)


def test_5000_records_with_distinct_ids_are_5000_papers_whatever_their_titles(tmp_path, fake_encoder):
    """The public biomedical set's case: distinct ids under repeated titles were merged."""
    titles = ["Summary", "Abstract", "Corresponding author:", "Aspirin and stroke", "Editorial"]
    rows = [rec(f"PMC{n}", titles[n % len(titles)], abstract(n)) for n in range(5000)]
    rows += [rows[10], rows[4000], "{broken"]  # two repeats and a bad line
    path = write_jsonl(tmp_path / "bio.jsonl", rows)
    report = ingest(Settings.build(corpus=[path]), CorpusReader([path]), progress=False, encoder=fake_encoder)
    assert (report.papers, report.added, report.repeats, report.skipped_lines) == (5000, 5000, 2, 1)
    assert report.records_read == 5003 == report.repeats + report.skipped_lines + report.filtered_out + report.papers
    assert "read 5003 records: 2 merged as repeats, 1 skipped (see the file:line warnings), 5000 indexed" \
        in report.summary()


def test_the_summary_counts_add_up_and_the_rate_is_over_the_whole_wall_time(tmp_path, fake_encoder):
    path = write_jsonl(tmp_path / "arxiv.jsonl", [record(1, categories="cs.CL"), record(1, version=2),
                                                  record(2, categories="math.AG"), record(3), "not json"])
    report = ingest(Settings.build(corpus=[path]), CorpusReader([path], __import__("rag.corpus_filter").corpus_filter
                                                                  .CorpusFilter.parse(categories=["cs"])),
                    progress=False, encoder=fake_encoder)
    assert (report.records_read, report.repeats, report.skipped_lines, report.filtered_out, report.papers) == (5, 1, 1, 1, 2)
    assert report.abstracts_per_second == pytest.approx(2 / report.seconds)
    assert report.seconds >= report.embed_seconds
    assert f"{report.seconds:.1f} s in all, {report.abstracts_per_second:.1f} abstracts/s" in report.summary()


@pytest.fixture
def ids_corpus(tmp_path, fake_models, monkeypatch):
    rows = [rec("trial-1", PAPERS[0][0], PAPERS[0][1]), rec("trial-2", PAPERS[0][0], PAPERS[0][1] + " Replicated."),
            rec("trial-3", PAPERS[1][0], PAPERS[1][1]), rec("trial-4", PAPERS[2][0], PAPERS[2][1])]
    path = write_jsonl(tmp_path / "trials.jsonl", rows)
    monkeypatch.setenv("RAG_CORPUS", str(path))
    result = CliRunner().invoke(rag_group, ["ingest", "--quiet"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return path


def test_ask_json_sources_carry_their_record_ids(ids_corpus):
    result = CliRunner().invoke(ask_command, ["--json", "--k", "4", "which method prunes tokens without fine-tuning?"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    sources = json.loads(result.stdout)["sources"]
    by_ids = sorted(s["record_ids"] for s in sources)
    assert by_ids == [["trial-1"], ["trial-2"], ["trial-3"], ["trial-4"]]  # the two same-title trials: two papers


def test_batch_results_echo_their_input_lines_id(ids_corpus, tmp_path):
    batch = tmp_path / "q.jsonl"
    batch.write_text(json.dumps({"id": "q7", "question": "token pruning without fine-tuning?"}) + "\n"
                     + json.dumps({"question": "long-term object tracking benchmark?"}) + "\n")
    result = CliRunner().invoke(ask_command, ["--batch", str(batch), "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == ["q7", None]


def test_an_index_keyed_by_title_is_reindexed_once_and_says_so(tmp_path, fake_encoder):
    path = write_jsonl(tmp_path / "mine.jsonl", [rec("a", "Aspirin and stroke", abstract(1)),
                                                 rec("b", "Statins and stroke", abstract(2))])
    settings = Settings.build(corpus=[path])
    ingest(settings, CorpusReader([path]), progress=False, encoder=fake_encoder)
    catalog = sqlite3.connect(settings.index_dir / "catalog.sqlite")  # what an older ingest left behind
    with catalog:
        catalog.execute("DELETE FROM meta WHERE key = 'paper_keys'")
        catalog.execute("UPDATE papers SET paper_id = 'p' || substr(paper_id, 2), record_ids = '[]'")
    catalog.close()
    report = ingest(settings, CorpusReader([path]), progress=False, encoder=fake_encoder)
    assert (report.added, report.removed, report.papers) == (2, 2, 2)
    assert "told apart by title alone" in report.warnings[0]
    again = ingest(settings, CorpusReader([path]), progress=False, encoder=fake_encoder)
    assert again.unchanged == 2 and not again.warnings


def test_a_catalog_from_before_record_ids_opens_and_answers(small_corpus, fake_encoder):
    settings = Settings.build(corpus=[small_corpus])
    ingest(settings, CorpusReader([small_corpus]), progress=False, encoder=fake_encoder)
    catalog = sqlite3.connect(settings.index_dir / "catalog.sqlite")
    with catalog:
        catalog.execute("ALTER TABLE papers DROP COLUMN record_ids")
    catalog.close()
    index = Index(settings.index_dir, fake_encoder.name)
    assert all(p.record_ids == [] for p in index.catalog.iter_papers())
    report = ingest(settings, CorpusReader([small_corpus]), progress=False, encoder=fake_encoder)
    assert report.unchanged == len(PAPERS)  # page-dump papers have no ids: nothing to redo
