"""Typos in a question are read as the word meant (rag/spelling.py): found trying the CLI as a new
user, "wich papers quantize vison transformers" and "objct detection" were refused as not covered."""

import pytest

from fakes import write_jsonl
from rag.corpus import CorpusReader
from rag.ingest import ingest
from rag.pipeline import Pipeline
from rag.settings import Settings
from rag.spelling import Speller, one_edit

RECORDS = [
    {"id": "s1", "title": "TokenPrune: Pruning Tokens in Vision Transformers",
     "abstract": "We prune tokens in vision transformers without fine-tuning. Pruning tokens speeds up inference."},
    {"id": "s2", "title": "QuantViT: Quantization of Vision Transformers",
     "abstract": "We study quantization of vision transformers to four bits. Quantization keeps accuracy."},
    {"id": "s3", "title": "SpeechNet: Speech Synthesis with Transformers",
     "abstract": "We synthesize speech with transformers. Speech synthesis quality improves over recognition baselines."},
    {"id": "s4", "title": "Recognition of Objects",
     "abstract": "Object recognition with transformers. We organize objects by colour and recognition accuracy."},
    {"id": "s5", "title": "A Survey of Efficient Vision Transformers",
     "abstract": "We review quantization, pruning of tokens and speech synthesis models, passing over recognition."},
    {"id": "s6", "title": "Message Passing for Graphs",
     "abstract": "We study message passing over graphs; tokens are nodes, and quantization of vision models is future work."},
]


@pytest.fixture
def pipeline(tmp_path, fake_encoder):
    corpus = write_jsonl(tmp_path / "papers.jsonl", RECORDS)
    settings = Settings.build(corpus=[corpus], index_dir=tmp_path / "index", abstain_threshold=0.0)
    ingest(settings, CorpusReader(settings.corpus), progress=False, encoder=fake_encoder)
    return Pipeline(settings, encoder=fake_encoder, backend=None, progress=False)


@pytest.fixture
def speller(pipeline):
    return Speller(pipeline.index.bm25, pipeline.index.catalog)


@pytest.mark.parametrize("typed, meant", [
    ("wich papers prune tokns?", "which papers prune tokens?"),  # a question word, a letter dropped
    ("Wich papers study quantizaton of vison transformers?", "Which papers study quantization of vision transformers?"),
    ("speach synthsis with transformrs", "speech synthesis with transformers"),  # a vowel for a vowel; letters dropped
    ("Which paper prunes the transformer's tokesn?", "Which paper prunes the transformer's tokens?"),  # two swapped
])
def test_a_slip_is_read_as_the_word_the_corpus_uses(speller, typed, meant):
    assert speller.correct(typed)[0] == meant


@pytest.mark.parametrize("question", [
    "Which papers use watermarking for LLM outputs?",  # an English word the corpus lacks: what "not covered" means
    "Which papers use QuantVit or TokenPrunes?",  # names (capitals inside) are never touched
    "Which papers recognise objects by colour?",  # British spelling of a word the corpus writes the American way
    "Which papers study recognites?",  # one edit from a stem the corpus uses ("recognit-"), but no word it writes
    "Which papers study parsing?",  # "passing" (in two papers) is no slip of the keyboard for "parsing"
])
def test_a_word_that_is_no_typo_is_left_as_typed(speller, question):
    assert speller.correct(question) == (question, [])


def test_one_edit_changes_a_letter_only_for_a_key_next_to_it_or_a_vowel_for_a_vowel():
    edits = one_edit("speach")
    assert {"speech", "spech", "speeach", "peach"} <= edits  # a vowel for a vowel; dropped; added
    assert "spsach" in edits and "spzach" not in edits  # e -> s is a slip, e -> z is not


def test_the_answer_keeps_the_question_as_typed_and_says_what_was_searched(pipeline):
    answer = pipeline.ask("wich papers prune tokns?")
    assert not answer.abstained and answer.shape == "list"
    assert answer.question == "wich papers prune tokns?"
    assert answer.retrieval_query == "which papers prune tokens?"
    assert answer.to_json()["retrieval_query"] == "which papers prune tokens?"
    assert pipeline.ask("which papers prune tokens?").retrieval_query is None  # nothing to correct


def test_correction_can_be_turned_off(tmp_path, fake_encoder, pipeline):
    settings = Settings.build(corpus=pipeline.settings.corpus, index_dir=pipeline.settings.index_dir,
                              abstain_threshold=0.0, correct_typos=False)
    plain = Pipeline(settings, encoder=fake_encoder, backend=None, progress=False)
    assert plain.ask("wich papers prune tokns?").retrieval_query is None


def test_markdown_emphasis_is_read_as_the_words_it_wraps(pipeline):
    """Seen trying the CLI: "**Which** studies used CRISPR/Cas9?" was read as a look-up of one
    paper (the asterisks hid the list's asking word)."""
    answer = pipeline.ask("**Which** papers prune *tokens*?")
    assert answer.shape == "list" and answer.question == "**Which** papers prune *tokens*?"
    assert answer.retrieval_query == "Which papers prune tokens?"
    assert pipeline.spelled("What is 2*3*4?") == "What is 2*3*4?"  # arithmetic, not emphasis


@pytest.mark.parametrize("question, foreign", [
    ("¿La vitamina D reduce el riesgo de cáncer colorrectal?", True),
    ("Welche Arbeiten untersuchen die Beschneidung von Tokens?", True),
    ("哪些论文研究了令牌剪枝？", True),
    ("How does IL-1β control ILC2s in airway inflammation?", False),  # Greek letters are English biomedicine
    ("Which papers prune tokns without fine-tuning?", False),
])
def test_a_question_not_in_english_is_told_so_when_refused(speller, question, foreign):
    """Seen trying the CLI: Spanish, German and Chinese questions were refused as "not covered"
    with no hint that the papers are searched in English."""
    from rag.spelling import looks_foreign

    assert looks_foreign(question, speller.known) is foreign


def test_the_refusal_of_a_question_not_in_english_says_to_ask_in_english(pipeline):
    pipeline.settings = pipeline.settings.model_copy(update={"abstain_threshold": 100.0})
    assert pipeline.ask("Welche Arbeiten untersuchen die Beschneidung von Tokens?").answer.endswith("so ask in English.")
    assert "English" not in pipeline.ask("Which papers study sourdough fermentation?").answer
