"""A code or year condition in the question itself is met from the records, not searched for
(seen trying the CLI: "Which papers on tracking link their code?" named a patient-timeline model
and a BERT retrieval survey, whose sentences say "links" and "pipeline")."""

import pytest

from fakes import cited_names as names
from fakes import fake_pipeline, write_jsonl
from rag.asked_metadata import asked_metadata, note

RECORDS = [
    {"id": "a1", "title": "PruneFree: Training-Free Token Pruning", "update_date": "2023-03-01",
     "authors": "Ada Lovelace, Alan Turing and Grace Hopper",
     "abstract": "We prune redundant tokens from a pretrained vision transformer without any fine-tuning. "
                 "Code is available at https://github.com/example/prunefree."},
    {"id": "a2", "title": "MergeShelf: Off-the-Shelf Token Merging", "update_date": "2022-06-01",
     "abstract": "We merge and prune similar tokens in pretrained transformers with no training at all."},
    {"id": "a3", "title": "TunedPrune: Learned Token Pruning", "update_date": "2021-05-01",
     "abstract": "We learn which tokens to prune with a small predictor network. "
                 "Code: https://github.com/example/tunedprune."},
    {"id": "a4", "title": "Links Between Patient Timelines", "update_date": "2023-01-01",
     "abstract": "We link patient records into timelines and release the pipeline."},
    {"id": "a5", "title": "Graph Networks for Molecules", "update_date": "2023-02-01",
     "abstract": "We predict molecule properties with message passing over atom graphs."},
]


@pytest.mark.parametrize("question, rest, code, year", [
    ("Which papers on tracking link their code?", "Which papers on tracking?", True, None),
    ("Which papers with public code quantize LLMs?", "Which papers quantize LLMs?", True, None),
    ("Which papers have public code and study tracking?", "Which papers study tracking?", True, None),
    ("Which token pruning papers are from 2023?", "Which token pruning papers?", False, ("in", 2023)),
    ("Which papers published after 2022 study speech synthesis?", "Which papers study speech synthesis?", False, ("after", 2022)),
])
def test_a_code_or_year_condition_is_read_and_taken_out_of_what_is_searched(question, rest, code, year):
    asked = asked_metadata(question)
    assert (asked.rest, asked.code, asked.year) == (rest, code, year)


@pytest.mark.parametrize("question", [
    "Which papers use transformers for code generation?",  # code as the topic
    "Which papers summarize source code?",
    "Which papers with code generation benchmarks exist?",
    "Which detectors report results on COCO 2017?",  # a dataset's year
])
def test_code_as_a_topic_or_a_datasets_year_is_no_condition(question):
    assert asked_metadata(question) is None


def test_a_bare_list_of_papers_with_code_or_of_a_year_is_answered_from_the_records(pipeline):
    """Seen trying the CLI: "Which papers published code on GitHub?" was refused as too far from
    every paper; nothing is left to search once the condition is taken out."""
    assert asked_metadata("Which papers were published in 2024?").rest == ""
    coded = pipeline.ask("Which papers published code on GitHub?")
    assert coded.answer.startswith("2 papers link their code:") and names(coded) == {"PruneFree", "TunedPrune"}
    assert coded.matches["count"] == 2 and "https://github.com/example/prunefree" in coded.answer
    recent = pipeline.ask("Which papers are from 2023?")
    assert recent.answer.startswith("3 papers are dated in 2023:") and recent.matches["count"] == 3
    assert pipeline.ask("Which papers are from 2019?").answer == "No paper's record says it is dated in 2019."
    from rag.asked_metadata import listing

    assert listing([], asked_metadata("Which papers were published in 2024?"), 0, dated=False) == \
        'The records carry no dates, so which papers are "published in 2024" cannot be told.'


@pytest.fixture
def pipeline(tmp_path, fake_encoder):
    return fake_pipeline(write_jsonl(tmp_path / "papers.jsonl", RECORDS), tmp_path / "index", fake_encoder)


def test_a_list_that_asks_for_linked_code_names_only_papers_that_link_it(pipeline):
    answer = pipeline.ask("Which methods prune tokens and link their code?")
    assert answer.answer.startswith("Only papers that link their code were searched.")
    assert names(answer) and names(answer) <= {"PruneFree", "TunedPrune"}
    assert all(hit.paper.code_url for hit in answer.sources)


def test_a_list_that_asks_for_a_year_names_only_papers_dated_so(pipeline):
    answer = pipeline.ask("Which methods that prune tokens are from 2023?")
    assert names(answer) == {"PruneFree"}  # MergeShelf (2022) and TunedPrune (2021) prune tokens too
    assert answer.answer.startswith("Only papers whose records date them in 2023 were searched.")


def test_records_without_dates_say_the_year_is_not_checked():
    asked = asked_metadata("Which token pruning papers are from 2023?")
    assert note(asked, dated=False) == 'The records carry no dates, so "are from 2023" is not checked.'


def test_when_a_paper_appeared_is_read_off_its_record(pipeline):
    """Seen trying the CLI: "When was Swin Transformer published?" quoted the abstract only, which
    says nothing of when; the shipped corpus's records carry no dates, and the answer now says so."""
    from rag.asked_metadata import asks_when, dated
    from rag.records import Paper

    assert asks_when("When was Swin Transformer published?") and asks_when("What year did LoRAT come out?")
    assert not asks_when("When does LoRAT run faster?")
    answer = pipeline.ask("When was PruneFree published?")
    assert answer.answer.startswith("PruneFree: its record dates it 2023.")
    undated = Paper(paper_id="x", title="Swin Transformer: Shifted Windows", abstract="We present Swin.")
    assert dated(undated, "Swin Transformer") == "The records carry no date for Swin Transformer; what its abstract says:"


def test_who_wrote_a_paper_is_read_off_its_record(pipeline):
    """Seen trying the CLI: "Who proposed the Swin Transformer?" quoted the abstract alone, which
    names no one; the records may carry the authors, and the answer says what they carry."""
    from rag.asked_metadata import asks_who, authored
    from rag.records import Paper

    assert asks_who("Who proposed the Swin Transformer?") and asks_who("Who are the authors of LoRAT?")
    assert asks_who("Which group developed Mamba?")
    assert not asks_who("Who is affected by white matter lesions?") and not asks_who("How was PruneFree proposed?")
    answer = pipeline.ask("Who proposed PruneFree?")
    assert answer.answer.startswith("PruneFree: its record names its authors: Ada Lovelace, Alan Turing and Grace Hopper.")
    assert names(answer) == {"PruneFree"}
    unnamed = Paper(paper_id="x", title="Swin Transformer: Shifted Windows", abstract="We present Swin.")
    assert authored(unnamed, "Swin Transformer") == \
        "The records carry no authors for Swin Transformer; what its abstract says:"


def test_code_published_on_github_is_a_code_condition():
    asked = asked_metadata("Which tracking papers published their code on GitHub?")
    assert (asked.rest, asked.code) == ("Which tracking papers?", True)
