from pathlib import Path

import pytest

from fakes import PAPERS, SHIPPED_CORPUS, daily_dump
from rag.corpus import load_corpus
from rag.corpus_formats import CHROME_LINES, DATE_LINE, find_code_url, is_truncated, normalise_title, paper_id_for
from rag.errors import CorpusError


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return path


@pytest.mark.parametrize("layout", ["blank", "consecutive", "glued"])
def test_each_layout_yields_exactly_its_papers(tmp_path, layout):
    path = write(tmp_path, "dump.txt", daily_dump(PAPERS, layout))
    loaded = load_corpus([path])
    assert [p.title for p in loaded.papers] == [t for t, _ in PAPERS]
    assert [p.abstract for p in loaded.papers] == [a for _, a in PAPERS]
    assert loaded.warnings == []


def test_shipped_corpus_has_its_295_distinct_papers_and_no_chrome():
    loaded = load_corpus([SHIPPED_CORPUS])
    assert loaded.entries == 385
    assert len(loaded.papers) == 295
    assert loaded.warnings == []
    for paper in loaded.papers:
        assert paper.title.lower() not in CHROME_LINES
        assert not DATE_LINE.fullmatch(paper.title)
        assert not paper.title.lower().startswith("subscribe")
        assert len(paper.abstract.split()) >= 30
    titles = {p.title for p in loaded.papers}
    assert "An Extendable, Efficient and Effective Transformer-based Object Detector" in titles  # was glued to Subscribe


def test_latex_escapes_are_read_as_the_text_they_stand_for():
    """The shipped abstracts say "40-60\\%" (arXiv's LaTeX): answers quoted it so."""
    from rag.corpus_formats import plain_text

    papers = {p.title: p for p in load_corpus([SHIPPED_CORPUS]).papers}
    pitome = papers["Accelerating Transformers with Spectrum-Preserving Token Merging"]
    assert "PiToMe saved from 40-60% FLOPs" in pitome.abstract and "\\%" not in pitome.abstract
    assert not any("\\%" in p.abstract or "\\&" in p.abstract for p in papers.values())
    assert plain_text(r"R\&D, \textbf{ours}, \emph{x} and \method") == r"R&D, ours, x and \method"  # macros stay
    # …but the abbreviation macros print as words (seen quoted raw: "tasks, \eg video prediction")
    assert plain_text(r"tasks, \eg video prediction; \ie ours; Smith \etal.") == "tasks, e.g. video prediction; i.e. ours; Smith et al."


def test_duplicates_merge_keeping_every_source_file(small_corpus):
    loaded = load_corpus([small_corpus])
    assert loaded.entries == 6 and len(loaded.papers) == 4
    by_title = {p.title: p for p in loaded.papers}
    assert by_title[PAPERS[0][0]].sources == ["a.txt"]
    assert by_title[PAPERS[1][0]].sources == ["a.txt", "b.txt"]
    assert by_title[PAPERS[3][0]].sources == ["b.txt"]


def test_duplicate_keeps_the_complete_abstract_over_a_cut_off_one(tmp_path):
    title, full = PAPERS[1]
    cut = full.rsplit(".", 2)[0] + " and the code will be available at"
    write(tmp_path, "a.txt", daily_dump([(title, cut)]))
    write(tmp_path, "b.txt", daily_dump([(title.upper(), full)]))
    (paper,) = load_corpus([tmp_path]).papers
    assert paper.abstract == full and not paper.truncated
    assert paper.sources == ["a.txt", "b.txt"]


def test_cut_off_abstract_is_kept_and_marked_truncated(tmp_path):
    abstract = PAPERS[2][1].rstrip(".") + ". The source code will be available at"
    (paper,) = load_corpus([write(tmp_path, "a.txt", daily_dump([(PAPERS[2][0], abstract)]))]).papers
    assert paper.truncated and paper.abstract.endswith("available at")


@pytest.mark.parametrize("abstract, truncated", [
    ("It works well.", False),
    ("Code is available at https://github.com/a/b", False),
    ("Project page: https:VDT-2023.github.io", False),
    ("The source code will be available at", True),
    ("We evaluate it under mild conditions", True),
])
def test_truncation_rule(abstract, truncated):
    assert is_truncated(abstract) is truncated


@pytest.mark.parametrize("abstract, url", [
    ("Code is available at https://github.com/jacobdunefsky/transcoder_circuits.", "https://github.com/jacobdunefsky/transcoder_circuits"),
    ("Project page: https:VDT-2023.github.io", "https://VDT-2023.github.io"),
    ("released at github.com/OpenNLPLab/TransnormerLLM.", "https://github.com/OpenNLPLab/TransnormerLLM"),
    ("See https://example.org/x and code at https://gitlab.com/a/b.", "https://gitlab.com/a/b"),
    ("No link here.", None),
])
def test_code_url_extraction(abstract, url):
    assert find_code_url(abstract) == url


def test_paper_ids_are_stable_and_follow_the_normalised_title():
    assert paper_id_for("Attention Is All You Need") == paper_id_for("attention is all you need!")
    assert normalise_title("  Zero-TPrune:  Zero-Shot ") == "zero tprune zero shot"
    # a fixed value: ids must not change between runs, machines or Python versions
    assert paper_id_for("Attention Is All You Need") == "p" + __import__("hashlib").sha1(b"attention is all you need").hexdigest()[:15]


def test_jsonl_papers_keep_metadata_and_skip_bad_lines_with_locations(tmp_path):
    lines = [
        '{"id": "2401.1", "title": "A JSON Paper", "abstract": "An abstract about graphs.", "authors": ["A. B."], "year": 2024}',
        "{not json",
        '{"title": "No abstract"}',
        '["a list"]',
        "",
        '{"title": "  ", "abstract": "blank title"}',
    ]
    loaded = load_corpus([write(tmp_path, "mine.jsonl", "\n".join(lines))])
    (paper,) = loaded.papers
    assert paper.metadata == {"id": "2401.1", "authors": ["A. B."], "year": 2024}
    assert loaded.warnings == [
        "mine.jsonl:2: not valid JSON (Expecting property name enclosed in double quotes), skipped",
        "mine.jsonl:3: missing or empty abstract, skipped",
        "mine.jsonl:4: expected a JSON object, skipped",
        "mine.jsonl:6: missing or empty title, skipped",
    ]


@pytest.mark.parametrize("name, content, message", [
    ("empty.txt", "", "is empty"),
    ("spaces.txt", "  \n\n ", "is empty"),
    ("binary.txt", b"\x00\x01\x02PK\x03\x04" * 50, "is binary"),
    ("latin1.txt", "Caf\xe9 title\n".encode("latin-1") * 3, "is not UTF-8"),
    ("chrome.txt", "new\nSubscribe\nJun 6\n", "no papers found"),
    ("broken.jsonl", "{bad\n", "no papers found"),
])
def test_unusable_files_are_refused_with_one_line(tmp_path, name, content, message):
    with pytest.raises(CorpusError) as err:
        load_corpus([write(tmp_path, name, content)])
    assert message in str(err.value) and name in str(err.value)
    assert "\n" not in str(err.value)


def test_missing_path_and_empty_folder_are_refused(tmp_path):
    with pytest.raises(CorpusError, match="not found"):
        load_corpus([tmp_path / "nope.txt"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusError, match="no .txt or .jsonl"):
        load_corpus([tmp_path / "empty"])


def test_orphan_lines_are_skipped_with_locations(tmp_path):
    text = daily_dump(PAPERS[:1]) + "\nA dangling title with no abstract\n"
    loaded = load_corpus([write(tmp_path, "a.txt", text)])
    assert len(loaded.papers) == 1
    assert loaded.warnings and loaded.warnings[0].startswith("a.txt:") and "title without an abstract" in loaded.warnings[0]


def test_short_cut_off_abstract_still_pairs_with_its_title(tmp_path):
    papers = [PAPERS[0], ("A Paper Whose Abstract Was Cut", "We present a new tracker. The source code will be available at"), PAPERS[1]]
    loaded = load_corpus([write(tmp_path, "a.txt", daily_dump(papers, "consecutive"))])
    assert [p.title for p in loaded.papers] == [t for t, _ in papers]
    assert loaded.papers[1].truncated and loaded.warnings == []
