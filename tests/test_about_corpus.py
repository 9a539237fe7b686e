"""Messages that are not questions about the papers — a greeting, thanks, "What can you do?",
"How many papers are in the corpus?" — are answered from the index, citing nothing (seen trying
the CLI: "thanks!" quoted a captioning paper's "thanks to their transfer learning capacity",
"What can you do?" three papers whose titles say "you need", and "How many papers are in the
corpus?" was refused as not covered)."""

import pytest

from fakes import cited_names as names
from fakes import fake_pipeline, write_jsonl
from rag.about_corpus import reading

RECORDS = [
    {"id": "a1", "title": "PruneFree: Training-Free Token Pruning for Vision Transformers", "categories": "cs.CV cs.LG",
     "abstract": "We prune redundant tokens from a pretrained vision transformer without any fine-tuning. "
                 "Code is available at https://github.com/example/prunefree."},
    {"id": "a2", "title": "MergeShelf: Off-the-Shelf Token Merging for Transformers", "categories": "cs.CV",
     "abstract": "We merge and prune similar tokens in pretrained transformers with no training at all."},
    {"id": "a3", "title": "Speech Enhancement with Subgroup Transformers", "categories": "eess.AS",
     "abstract": "We enhance noisy multichannel speech recordings with transformer blocks over subgroups."},
]


@pytest.fixture
def pipeline(tmp_path, fake_encoder):
    return fake_pipeline(write_jsonl(tmp_path / "papers.jsonl", RECORDS), tmp_path / "index", fake_encoder)


@pytest.mark.parametrize("message, kind", [
    ("hello", "social"), ("Hi there!", "social"), ("thanks!", "social"), ("Thank you so much", "social"),
    ("ok, thanks", "social"), ("What can you do?", "help"), ("help", "help"), ("How do I use this?", "help"),
    ("How many papers are in the corpus?", "size"), ("How many papers do you have?", "size"),
    ("how many abstracts are indexed?", "size"), ("How big is the collection?", "size"),
    ("What topics does the corpus cover?", "topics"), ("What's in the corpus?", "topics"),
    ("Which papers are in the index?", "topics"), ("What is this corpus about?", "topics"),
    # questions about the papers
    ("How many papers use LoRA?", None), ("How many papers are there on token pruning?", None),
    ("What can transformers do on small datasets?", None), ("How does this work?", None),
    ("Thanks to token merging, how much faster is MergeShelf?", None), ("Which topics does PruneFree cover?", None),
    ("What is the Hello benchmark?", None),
])
def test_a_message_about_the_chat_or_the_corpus_is_told_from_a_question(message, kind):
    assert reading(message) == kind


def test_greetings_and_help_are_answered_without_searching_or_citing(pipeline):
    for message in ("thanks!", "What can you do?"):
        answer = pipeline.ask(message)
        assert answer.shape == "about" and not answer.abstained
        assert answer.sources == [] and answer.citations == [] and "3 papers" in answer.answer


def test_the_corpus_size_and_topics_come_from_the_index(pipeline):
    size = pipeline.ask("How many papers are in the corpus?")
    assert size.answer == "The corpus holds 3 papers from 1 corpus file." and size.citations == []
    topics = pipeline.ask("What topics does the corpus cover?")
    assert "cs.CV (2), cs.LG (1), eess.AS (1)" in topics.answer  # the records' categories, papers in each


def test_without_categories_the_topics_are_the_words_titles_use_most(tmp_path, fake_encoder):
    bare = [{k: v for k, v in r.items() if k != "categories"} for r in RECORDS]
    pipeline = fake_pipeline(write_jsonl(tmp_path / "bare.jsonl", bare), tmp_path / "index", fake_encoder)
    answer = pipeline.ask("What's in the corpus?").answer
    assert "The words its titles use most (in how many titles): transformer (3), token (2)" in answer


def test_thanks_between_questions_is_no_turn_of_the_chat(pipeline):
    first = "Which methods prune tokens?"
    direct = pipeline.ask("Which of them link code?", history=[first])
    thanked = pipeline.ask("Which of them link code?", history=[first, "thanks!"])
    assert direct.working_set and thanked.working_set == direct.working_set  # answered over the same papers
    assert (thanked.answer, names(thanked)) == (direct.answer, names(direct))


def test_a_message_about_the_corpus_still_refuses_a_filter_naming_no_corpus_file(pipeline):
    """As every question does: a corpus-file filter that names no file of the index is an error,
    not silently ignored because the message searches nothing."""
    from rag.errors import UsageError
    from rag.retrieve import Filters

    with pytest.raises(UsageError, match="no corpus file named 'nope.txt'"):
        pipeline.ask("How many papers are in the corpus?", filters=Filters(sources=("nope.txt",)))
