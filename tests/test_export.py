"""`ask --format markdown|csv|bibtex`: an answer taken away, read back by the parsers a user has
(csv, bibtexparser). Answers are built by hand for the formats, and by the CLI on the small
corpus (fake embedder, real store) for the command."""

from __future__ import annotations

import csv
import io
import json
import re

import bibtexparser
import pytest
from bibtexparser.middlewares import LatexDecodingMiddleware
from click.testing import CliRunner

from fakes import PAPERS, assert_one_line_error, record, write_jsonl
from rag.cli import ask_command
from rag.export import CSV_COLUMNS, base_key, citation_keys, render, to_bibtex, to_csv, to_markdown
from rag.records import Answer, Citation, Hit, Paper

ARXIV = Paper("arxiv:2305.00042", "Zero-Shot Token Pruning for ViTs", "We prune tokens.",
              metadata={"authors": "Ana Pérez, Bo Li and Chen Wu (MIT)", "categories": "cs.CV cs.LG",
                        "arxiv_id": "2305.00042", "versions": [{"version": "v1", "created": "Mon, 1 May 2023 10:00:00 GMT"}],
                        "update_date": "2024-02-01"})
JSONL = Paper("r1", "A Benchmark for Long-Term Tracking", "We track.", code_url="https://github.com/x/track",
              metadata={"id": "t1", "authors": ["Dana Smith", "Eli Jones"], "year": 2022, "url": "https://example.org/track"})
DUMP = Paper("p1", "Speech Enhancement with Subgroup Transformers", "We enhance speech.")  # a page dump: title only
EXTRA = Paper("p2", "Sparse Attention for Long Documents", "We sparsify.")  # a match past the shown sources


def hit(rank: int, paper: Paper, sentence: str | None = None) -> Hit:
    evidence = [{"text": sentence, "score": 0.5}] if sentence else []
    return Hit(rank, paper, 1.0 / rank, 0.5, 1.0, f"{paper.paper_id}:0", paper.abstract, evidence=evidence)


def answer_citing(*markers: int, papers=(ARXIV, JSONL, DUMP), **fields) -> Answer:
    hits = [hit(rank, p, f"Sentence of {p.title}.") for rank, p in enumerate(papers, start=1)]
    text = " ".join(f"Claim from source {m} [{m}]." for m in markers)
    citations = [Citation(m, hits[m - 1].paper.paper_id, hits[m - 1].paper.title) for m in dict.fromkeys(markers)]
    return Answer("which papers prune tokens?", text, False, citations, hits, "extractive", {}, **fields)


def abstaining() -> Answer:
    return Answer("sourdough?", "The corpus does not cover this.", True, [], [hit(1, ARXIV)], "extractive", {},
                  abstain_reason="retrieval")


def read_csv(text: str) -> list[dict]:
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == CSV_COLUMNS
    return [dict(zip(CSV_COLUMNS, row)) for row in rows[1:]]


def parse_bibtex(text: str, decode: bool = False):
    library = bibtexparser.parse_string(text, append_middleware=[LatexDecodingMiddleware()] if decode else None)
    assert library.failed_blocks == []  # a malformed entry or a repeated key would land here
    return library.entries


# -- Markdown ------------------------------------------------------------------------------------
def test_markdown_has_one_reference_per_cited_marker_with_matching_numbers():
    answer = answer_citing(3, 1, 3)
    text = to_markdown(answer)
    body, references = text.split("## References")
    assert answer.answer in body
    assert set(re.findall(r"\[(\d+)\]", body)) == {"1", "3"}
    lines = [ln for ln in references.splitlines() if ln.strip()]
    assert [re.match(r"\[(\d+)\] ", ln).group(1) for ln in lines] == ["1", "3"]
    assert lines[0] == ("[1] Zero-Shot Token Pruning for ViTs. Ana Pérez, Bo Li, Chen Wu (2023). "
                        "<https://arxiv.org/abs/2305.00042>")
    assert lines[1] == "[3] Speech Enhancement with Subgroup Transformers."  # nothing else on record


def test_markdown_links_fall_back_to_the_record_url_then_the_code_link():
    lines = to_markdown(answer_citing(2)).split("## References")[1].strip().splitlines()
    assert lines == ["[2] A Benchmark for Long-Term Tracking. Dana Smith, Eli Jones (2022). <https://example.org/track>"]
    code_only = Paper("p9", "Code Only", "x", code_url="https://github.com/x/y")
    assert to_markdown(answer_citing(1, papers=(code_only,))).rstrip().endswith("[1] Code Only. <https://github.com/x/y>")


def test_markdown_of_a_list_names_the_matches_the_text_does_not_show():
    answer = answer_citing(1, 2, matches={"count": 3, "shown": 2, "paper_ids": [ARXIV.paper_id, JSONL.paper_id, EXTRA.paper_id]})
    text = to_markdown(answer, lookup=lambda ids: {p.paper_id: p for p in (EXTRA,) if p.paper_id in ids})
    assert "## Also matching (not shown above)\n\n- Sparse Attention for Long Documents" in text
    assert text.split("## References")[1].count("\n[") == 2


def test_markdown_of_an_abstaining_answer_is_its_refusal():
    text = to_markdown(abstaining())
    assert "The corpus does not cover this." in text and "References" not in text and "arxiv.org" not in text
    # the refusal says the nearest papers are listed below: they are, by title, uncited (seen
    # trying the CLI: "listed below" and nothing below)
    assert text.endswith(f"## Nearest papers (none answers the question)\n\n- {ARXIV.title}\n")


# -- CSV -----------------------------------------------------------------------------------------
def test_csv_rows_are_the_cited_papers_in_marker_order():
    rows = read_csv(to_csv(answer_citing(2, 1)))
    assert [r["paper_id"] for r in rows] == [ARXIV.paper_id, JSONL.paper_id]
    first, second = rows
    assert first == {"rank": "1", "title": ARXIV.title, "authors": "Ana Pérez; Bo Li; Chen Wu", "year": "2023",
                     "arxiv_id": "2305.00042", "url": "https://arxiv.org/abs/2305.00042", "code_url": "",
                     "matching_sentence": f"Sentence of {ARXIV.title}.", "paper_id": ARXIV.paper_id}
    assert (second["rank"], second["year"], second["url"], second["code_url"]) == \
        ("2", "2022", "https://example.org/track", "https://github.com/x/track")


def test_csv_of_a_list_answer_has_every_match_even_past_the_shown_sources():
    answer = answer_citing(1, matches={"count": 3, "shown": 1, "paper_ids": [JSONL.paper_id, ARXIV.paper_id, EXTRA.paper_id]})
    rows = read_csv(to_csv(answer, lookup=lambda ids: {EXTRA.paper_id: EXTRA} if EXTRA.paper_id in ids else {}))
    assert [r["title"] for r in rows] == [JSONL.title, ARXIV.title, EXTRA.title]
    assert rows[2]["rank"] == "3" and rows[2]["matching_sentence"] == "" and rows[2]["authors"] == ""


def test_csv_quotes_commas_quotes_and_newlines_in_utf8():
    odd = Paper("p3", 'Commas, "quotes" and ünïcode', "x", metadata={"authors": ["O'Brien, Pat"]})
    answer = answer_citing(1, papers=(odd,))
    answer.sources[0].evidence[0]["text"] = "Line one,\nline two."
    text = to_csv(answer)
    text.encode("utf-8")
    (row,) = read_csv(text)
    assert row["title"] == odd.title and row["authors"] == "O'Brien, Pat" and row["matching_sentence"] == "Line one,\nline two."


def test_a_follow_up_exports_the_papers_in_play_after_it():
    """Seen trying the CLI: after "Which of them link code?" ("4 link code") the CSV held all 6
    papers it was asked over, 2 of them without code; the chat's set after it is the 4."""
    answer = answer_citing(1, 2)
    answer.working_set = [DUMP.paper_id, ARXIV.paper_id, answer.citations[0].paper_id]
    assert [r["paper_id"] for r in read_csv(to_csv(answer))] == [c.paper_id for c in answer.citations]
    answer.citations = []  # it named none ("None of the 3 papers above link code."): the set it was asked over
    assert [r["paper_id"] for r in read_csv(to_csv(answer))][:2] == [DUMP.paper_id, ARXIV.paper_id]
    answer.working_set = []  # empty: the usual rule
    assert len(read_csv(to_csv(answer))) == 0


def test_an_abstaining_answer_exports_an_empty_csv_and_bibtex():
    assert read_csv(to_csv(abstaining())) == []
    assert to_bibtex(abstaining()) == ""


# -- BibTeX ----------------------------------------------------------------------------------------
def test_bibtex_has_one_entry_per_paper_with_its_fields():
    entries = parse_bibtex(to_bibtex(answer_citing(1, 2, 3)))
    assert [e.key for e in entries] == ["perez2023zero", "smith2022benchmark", "speechenhancementsubgroup"]
    arxiv, jsonl, dump = entries
    assert arxiv.entry_type == "misc"
    assert {k: arxiv[k] for k in ("author", "year", "eprint", "archivePrefix", "primaryClass", "url")} == {
        "author": "Ana Pérez and Bo Li and Chen Wu", "year": "2023", "eprint": "2305.00042",
        "archivePrefix": "arXiv", "primaryClass": "cs.CV", "url": "https://arxiv.org/abs/2305.00042"}
    assert arxiv["title"] == "{Zero-Shot} Token Pruning for {ViTs}"  # capitals past the first letter kept
    assert (jsonl["author"], jsonl["year"], jsonl["url"]) == ("Dana Smith and Eli Jones", "2022", "https://example.org/track")
    assert "eprint" not in jsonl.fields_dict


def test_a_page_dump_paper_gets_a_valid_entry_without_authors_or_year():
    (entry,) = parse_bibtex(to_bibtex(answer_citing(1, papers=(DUMP,))))
    assert entry.key == "speechenhancementsubgroup"
    assert set(entry.fields_dict) == {"title"}


TRICKY = [
    "Fast & Furious: 100% Recall with snake_case Names",
    "Sets {A} and {B}: Hashing #tags for $5 ~ cheap",
    "Réseaux de neurones für Übersetzung: Ça marche",
    "Sorting in $O(n^2)$ Time, Revisited",
    "Paths like C:\\temp and x^y",
]


@pytest.mark.parametrize("title", TRICKY, ids=["amp-percent-underscore", "braces-hash-dollar", "accents", "math", "backslash-caret"])
def test_bibtex_survives_special_characters_in_titles(title):
    paper = Paper("p5", title, "x", metadata={"authors": ["Zoë Ångström"], "year": "2021"})
    (entry,) = parse_bibtex(to_bibtex(answer_citing(1, papers=(paper,))))
    assert re.fullmatch(r"[a-z0-9]+", entry.key) and entry["year"] == "2021"
    (decoded,) = parse_bibtex(to_bibtex(answer_citing(1, papers=(paper,))), decode=True)
    plain = lambda s: s.replace("ˆ", "^")  # pylatexenc writes \textasciicircum as the modifier letter
    assert plain(decoded["title"]) == title
    assert decoded["author"] == "Zoë Ångström"


def test_citation_keys_are_stable_and_unique():
    twins = [Paper(f"p{i}", "Token Pruning Again", "x", metadata={"authors": "A. Author", "year": 2023}) for i in range(3)]
    keys = citation_keys([*twins, DUMP])
    assert keys == ["author2023token", "author2023tokena", "author2023tokenb", "speechenhancementsubgroup"]
    assert citation_keys([*twins, DUMP]) == keys
    assert base_key(Paper("p7", "数据", "x")) == "p7"  # nothing ASCII in the title: the paper id


def test_latex_accents_of_arxiv_names_become_letters():
    paper = Paper("arxiv:0704.0001", r"Kernels \`a la Carte", "x", metadata={"authors": r"B. Sch\"olkopf and J. G{\'o}mez"})
    (entry,) = parse_bibtex(to_bibtex(answer_citing(1, papers=(paper,))))
    assert (entry.key, entry["author"], entry["title"], entry["year"]) == \
        ("scholkopf2007kernels", "B. Schölkopf and J. Gómez", "Kernels à la Carte", "2007")
    assert "[1] Kernels à la Carte. B. Schölkopf, J. Gómez (2007). <https://arxiv.org/abs/0704.0001>" \
        in to_markdown(answer_citing(1, papers=(paper,)))


def test_bibtex_names_a_journal_only_when_the_record_has_one():
    paper = Paper("p8", "On Things", "x", metadata={"authors": "Vaswani, Ashish and Shazeer, Noam", "journal": "J. Stuff"})
    (entry,) = parse_bibtex(to_bibtex(answer_citing(1, papers=(paper,))))
    assert entry.entry_type == "article" and entry["journal"] == "J. Stuff"
    assert entry["author"] == "Vaswani, Ashish and Shazeer, Noam" and entry.key == "vaswanithings"
    assert "year" not in entry.fields_dict


def test_render_refuses_an_unknown_format():
    with pytest.raises(ValueError):
        render(answer_citing(1), "docx")


# -- the command -------------------------------------------------------------------------------------
@pytest.fixture
def cli(fake_models, small_corpus, monkeypatch):
    monkeypatch.setenv("RAG_CORPUS", str(small_corpus))
    runner = CliRunner()
    return lambda *args: runner.invoke(ask_command, list(args), catch_exceptions=False)


QUESTION = "benchmark with long videos for object tracking"


def test_ask_format_markdown(cli):
    out = json.loads(cli("--json", QUESTION).stdout)
    result = cli("--format", "markdown", QUESTION)
    assert result.exit_code == 0, result.stderr
    assert out["answer"] in result.stdout
    references = result.stdout.split("## References")[1]
    assert [int(n) for n in re.findall(r"^\[(\d+)\] ", references, re.M)] == sorted(c["marker"] for c in out["citations"])
    assert f"[1] {PAPERS[1][0]}." in references


def test_ask_format_csv(cli):
    out = json.loads(cli("--json", QUESTION).stdout)
    result = cli("--format", "csv", QUESTION)
    assert result.exit_code == 0, result.stderr
    rows = read_csv(result.stdout)
    assert [r["paper_id"] for r in rows] == [c["paper_id"] for c in sorted(out["citations"], key=lambda c: c["marker"])]
    assert rows[0]["title"] == PAPERS[1][0] and rows[0]["matching_sentence"] in PAPERS[1][1]


def test_ask_format_bibtex_on_arxiv_records(fake_models, tmp_path, monkeypatch):
    corpus = write_jsonl(tmp_path / "arxiv.jsonl", [record(n) for n in range(1, 7)])
    monkeypatch.setenv("RAG_CORPUS", str(corpus))
    runner, question = CliRunner(), "a study of speech number 2 with transformers"
    out = json.loads(runner.invoke(ask_command, ["--json", question], catch_exceptions=False).stdout)
    result = runner.invoke(ask_command, ["--format", "bibtex", question], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    entries = parse_bibtex(result.stdout)
    cited = [c["paper_id"] for c in sorted(out["citations"], key=lambda c: c["marker"])]
    assert ["arxiv:" + e["eprint"] for e in entries] == cited and len({e.key for e in entries}) == len(entries)
    assert all(e["author"] == "A. Author and B. Author" and e["archivePrefix"] == "arXiv" and e["year"] == "2023"
               and e["primaryClass"] == "cs.CL" for e in entries)


def test_ask_format_works_with_history(cli):
    result = cli("--format", "csv", "--history", "tracking benchmark of long videos", "How many videos?")
    assert result.exit_code == 0, result.stderr
    assert read_csv(result.stdout)[0]["title"] == PAPERS[1][0]


def test_ask_format_of_an_abstaining_answer(cli):
    assert read_csv(cli("--format", "csv", "sourdough hydration and bulk fermentation time").stdout) == []
    assert cli("--format", "bibtex", "sourdough hydration and bulk fermentation time").stdout == ""
    assert "corpus does not cover" in cli("--format", "markdown", "sourdough hydration and bulk fermentation time").stdout


def test_ask_format_text_is_the_usual_output(cli):
    assert cli("--format", "text", QUESTION).stdout == cli(QUESTION).stdout


@pytest.mark.parametrize("args, fragments", [
    (["--json", "--format", "csv", "q"], ["--json", "--format csv", "cannot be combined"]),
    (["--batch", "questions.jsonl", "--format", "bibtex"], ["--format bibtex", "--batch"]),
])
def test_ask_format_refuses_what_it_cannot_do(cli, args, fragments):
    assert_one_line_error(cli(*args), 2, *fragments)


def test_an_unknown_format_is_a_usage_error(cli):
    result = cli("--format", "docx", "q")  # click's own message, as for --retriever
    assert result.exit_code == 2 and "--format" in result.stderr and "Traceback" not in result.output
