"""Bad corpus files for `rag ingest`: refused in one line (exit 2) before the index is
touched, or read with `file:line` warnings for the bad lines while every good paper is
indexed. An existing index always survives (its 4 papers still answer)."""

from __future__ import annotations

import json

import pytest

from fakes import PAPERS, assert_one_line_error


def paper(i: int, **extra) -> dict:
    return {"id": f"p{i}", "title": f"Paper number {i} on graph pruning", "abstract":
            f"We prune graph neural network number {i} without fine-tuning and keep its accuracy.", **extra}


def jsonl(*rows) -> str:
    return "\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n"


BAD_FILES = [
    pytest.param("missing.jsonl", None, ["corpus path not found", "missing.jsonl"], id="missing"),
    pytest.param("empty.jsonl", b"", ["is empty"], id="empty"),
    pytest.param("blank.txt", b"\n \n\t\n", ["is empty"], id="whitespace-only"),
    pytest.param("model.jsonl", b"\x00\x01\x02\x03PK\x03\x04" * 512, ["is binary"], id="binary"),
    pytest.param("latin1.txt", "Caf\u00e9 transformers\nWe study caf\u00e9 menus.\n".encode("latin-1"),
                 ["is not UTF-8", "offset 3"], id="not-utf8"),
    pytest.param("papers.pdf", b"%PDF-1.7 not really", ["unsupported corpus file", ".jsonl"], id="unsupported-type"),
    pytest.param("all-bad.jsonl", jsonl("{oops", "[1, 2]", {"title": "no abstract"}).encode(),
                 ["no papers found"], id="no-good-line"),
]


@pytest.mark.parametrize("name, content, fragments", BAD_FILES)
def test_unusable_file_is_refused_and_the_index_kept(indexed, tmp_path, name, content, fragments):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    assert_one_line_error(indexed.rag("ingest", "--quiet", "--corpus", str(path)), 2, *fragments)
    assert indexed.papers() == len(PAPERS)
    assert indexed.ask_json("token pruning without fine-tuning")["sources"][0]["title"] == PAPERS[0][0]


def test_a_folder_without_corpus_files(indexed, tmp_path):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "readme.md").write_text("# not a corpus\n")
    assert_one_line_error(indexed.rag("ingest", "--corpus", str(folder)), 2, "has no .txt or .jsonl files")
    assert indexed.papers() == len(PAPERS)


def ingest_lines(cmd, tmp_path, text: str):
    path = tmp_path / "mine.jsonl"
    path.write_text(text, encoding="utf-8")
    result = cmd.rag("ingest", "--quiet", "--corpus", str(path))
    assert result.exit_code == 0, result.output
    return result


def test_broken_json_lines_are_skipped_with_their_line_numbers(cmd, tmp_path):
    result = ingest_lines(cmd, tmp_path, jsonl(paper(1), "{\"title\": \"cut off", paper(2), "not json at all", paper(3)))
    assert "mine.jsonl:2: not valid JSON" in result.stderr and "mine.jsonl:4: not valid JSON" in result.stderr
    assert "read 5 records: 0 merged as repeats, 2 skipped (see the file:line warnings), 3 indexed" in result.stdout
    assert cmd.papers() == 3


@pytest.mark.parametrize("row, fragment", [
    pytest.param({"title": "Only a title"}, "missing or empty abstract", id="no-abstract"),
    pytest.param({"abstract": "Only an abstract about pruning."}, "missing or empty title", id="no-title"),
    pytest.param({"title": "   ", "abstract": "   "}, "missing or empty title and abstract", id="blank-fields"),
    pytest.param({"title": 42, "abstract": ["a", "list"]}, "missing or empty title and abstract", id="wrong-types"),
    pytest.param([paper(9)], "expected a JSON object", id="array-line"),
])
def test_lines_missing_fields_are_skipped_and_named(cmd, tmp_path, row, fragment):
    result = ingest_lines(cmd, tmp_path, jsonl(paper(1), row, paper(2)))
    assert f"mine.jsonl:2: {fragment}" in result.stderr
    assert cmd.papers() == 2


def test_a_record_repeated_under_its_id_is_one_paper(cmd, tmp_path):
    ingest_lines(cmd, tmp_path, jsonl(paper(1), paper(2), paper(1)))
    assert cmd.papers() == 2


def test_an_id_reused_by_another_title_keeps_both_and_says_so(cmd, tmp_path):
    result = ingest_lines(cmd, tmp_path, jsonl(paper(1), paper(2), paper(1, title="A different paper on pruning")))
    assert "mine.jsonl:3: id 'p1' is also line 1's, which has another title" in result.stderr
    assert "0 skipped" in result.stdout  # a kept paper is not a skipped line
    assert cmd.papers() == 3


def test_a_1mb_abstract_is_indexed_in_chunks_and_found(cmd, tmp_path):
    filler = " ".join(f"Filler sentence {i} describes an unrelated detail of the experimental setup." for i in range(14000))
    huge = {"id": "huge", "title": "An Enormous Abstract", "abstract": filler + " The needle is quantum tomato genomics."}
    assert len(huge["abstract"]) > 1_000_000
    ingest_lines(cmd, tmp_path, jsonl(paper(1), huge))
    stats = json.loads(cmd.rag("stats", "--json").stdout)
    assert stats["papers"] == 2 and stats["chunks"] > 100
    out = cmd.ask_json("quantum tomato genomics needle")
    assert out["sources"][0]["title"] == "An Enormous Abstract"
    assert len(out["sources"][0]["snippet"]) < 2000


def test_crlf_bom_and_nul_bytes_inside_text_are_read(cmd, tmp_path):
    text = "\ufeff" + jsonl(paper(1), {"id": "n", "title": "Null\u0000 byte title", "abstract": "Text with a NUL\u0000 inside."})
    path = tmp_path / "windows.jsonl"
    path.write_bytes(text.replace("\n", "\r\n").encode("utf-8"))
    result = cmd.rag("ingest", "--quiet", "--corpus", str(path))
    assert result.exit_code == 0, result.output
    assert cmd.papers() == 2


@pytest.mark.parametrize("args, fragments", [
    pytest.param(["--since", "yesterday"], ["bad --since 'yesterday'", "2023-01-31"], id="since-not-a-date"),
    pytest.param(["--until", "2024-13"], ["bad --until '2024-13'"], id="until-month-13"),
    pytest.param(["--since", "2024", "--until", "2023"], ["is after --until", "swap"], id="since-after-until"),
    pytest.param(["--category", "cs CL"], ["bad --category"], id="category-with-space"),
    pytest.param(["--embed-backend", "tensorflow"], ["Invalid value for '--embed-backend'"], id="unknown-backend"),
])
def test_bad_ingest_flags(indexed, args, fragments):
    result = indexed.rag("ingest", "--quiet", *args)
    assert result.exit_code == 2, result.output
    assert all(f in result.stderr for f in fragments), result.stderr
    assert "Traceback" not in result.output
    assert indexed.papers() == len(PAPERS)


def test_filters_that_leave_out_every_entry_change_nothing(indexed):
    result = indexed.rag("ingest", "--quiet", "--since", "2023")  # the page dumps carry no dates
    assert_one_line_error(result, 2, "leave out all 6 corpus entries", "nothing was changed")
    assert indexed.papers() == len(PAPERS)
    assert indexed.rag("ingest", "--quiet").exit_code == 0  # and a normal run still works after it
