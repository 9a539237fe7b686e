"""Answers that answer the question: shapes, evidence, and the extractive answer of each shape.

The pipeline runs for real (Chroma, BM25, evidence units, fusion) with the fake hashed-words
encoder, on a small corpus where some token-pruning papers need no training and others do."""

import re

import pytest

from rag.corpus import CorpusReader
from rag.ingest import ingest
from rag.pipeline import Pipeline
from rag.settings import Settings

PRUNING = [
    ("PruneFree: Training-Free Token Pruning for Vision Transformers",
     "Vision transformers are slow because attention is quadratic in the number of tokens. "
     "We prune redundant tokens from a pretrained vision transformer without any fine-tuning. "
     "PruneFree cuts FLOPs by 35% on ImageNet with a 0.3% accuracy drop. "
     "Tokens are ranked by a weighted Page Rank over the attention graph."),
    ("MergeShelf: Off-the-Shelf Token Merging",
     "Recently, token merging has become a popular way to make transformers efficient. "
     "We merge and prune similar tokens in pretrained transformers off-the-shelf, with no training at all. "
     "MergeShelf runs 2x faster while keeping 99% of the accuracy."),
    ("TunedPrune: Learned Token Pruning",
     "We learn which tokens to prune with a small predictor network. "
     "The pruning predictor requires fine-tuning the whole transformer for 30 epochs. "
     "TunedPrune reaches 80.1% top-1 accuracy on ImageNet."),
    ("DistilTok: Distilled Token Pruning",
     "We prune tokens in vision transformers and distil the pruned model from a teacher. "
     "Fine-tuning with the teacher recovers the accuracy lost to token pruning. "
     "DistilTok improves throughput by 50% on ImageNet."),
    ("Large-Scale Benchmark for Long-Term Object Tracking",
     "We present a benchmark of 1,400 long videos for single object tracking with dense bounding-box "
     "annotations. Each video lasts more than two minutes on average and the benchmark covers seventy "
     "object categories for evaluating trackers."),
    ("Speech Enhancement with Multichannel Subgroup Transformers",
     "We enhance noisy multichannel speech recordings with transformer blocks that process subgroups of "
     "microphone features. The model improves perceptual quality and reduces computational cost compared "
     "with previous multichannel speech enhancement systems."),
]


@pytest.fixture
def pipeline(tmp_path, fake_encoder):
    from fakes import daily_dump

    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "a.txt").write_text(daily_dump(PRUNING))
    # thresholds for the fake encoder's scale (the shipped ones are calibrated for the real model)
    settings = Settings.build(corpus=[folder], abstain_threshold=0.0, list_min_strength=0.0, list_relative=0.5, list_min_coverage=0.0)
    ingest(settings, CorpusReader(settings.corpus), progress=False, encoder=fake_encoder)
    return Pipeline(settings, encoder=fake_encoder, backend=None, progress=False)


def quotes(answer) -> list[tuple[str, int]]:
    """(quoted sentence, marker) pairs of an extractive answer, whatever its shape's layout."""
    found = []
    for line in answer.answer.splitlines():
        if line.startswith("- ") and " — " in line:
            line = line.split(" — ", 1)[1]
        elif ": " in line and re.search(r"\[\d+\]", line):
            line = line.split(": ", 1)[1]
        else:
            continue  # "2 papers match:"
        found += [(text.strip(), int(marker)) for text, marker in re.findall(r"(.+?) \[(\d+)\][.!?]\S*\s*", line)]
    return found


def assert_verbatim(answer) -> None:
    by_rank = {h.rank: h.paper for h in answer.sources}
    for sentence, marker in quotes(answer):
        assert sentence in by_rank[marker].abstract, (sentence, marker)
    assert [c.marker for c in answer.citations] == list(dict.fromkeys(m for _, m in quotes(answer)))


# -- each shape, end to end --------------------------------------------------------------------
def test_a_list_answer_counts_the_papers_that_meet_topic_and_condition(pipeline):
    answer = pipeline.ask("Which methods prune tokens without fine-tuning?")
    assert answer.shape == "list" and not answer.abstained
    lines = answer.answer.splitlines()
    assert lines[0] == "2 papers match:"
    named = {c.title for c in answer.citations}
    assert named == {PRUNING[0][0], PRUNING[1][0]}  # the two that need fine-tuning are not named
    assert lines[1].startswith("- PruneFree — ") and lines[2].startswith("- MergeShelf — ")
    assert "without any fine-tuning" in lines[1] and "no training" in lines[2]  # the sentence that meets the condition
    assert "35%" in lines[1] and "2x faster" in lines[2]  # and each paper's result with its numbers
    assert lines[1].count("[1]") == 3 and lines[2].count("[2]") <= 3  # at most list_sentences each
    assert answer.matches == {"count": 2, "shown": 2, "paper_ids": [c.paper_id for c in answer.citations]}
    assert [h.paper.title for h in answer.sources[:2]] == [c.title for c in answer.citations]  # matches first
    assert_verbatim(answer)
    out = answer.to_json()
    assert out["shape"] == "list" and out["matches"]["count"] == 2 and out["working_set"] is None
    assert all(s["evidence"] and {"text", "score"} <= set(s["evidence"][0]) for s in out["sources"])


def test_a_list_with_more_matches_than_shown_says_how_many_and_how_to_see_all(pipeline):
    pipeline.settings = pipeline.settings.model_copy(update={"list_max": 1, "list_relative": 0.0})
    answer = pipeline.ask("Which papers prune tokens?", k=1)
    count = answer.matches["count"]
    assert count > 1 and answer.matches["shown"] == 1 == len(answer.citations)
    assert answer.answer.splitlines()[0] == f"{count} papers match, showing 1 of {count} (use --k {count} (or the papers slider) to see all):"


def test_a_single_lookup_quotes_the_answering_paper_not_its_background(pipeline):
    answer = pipeline.ask("Is there a benchmark of long videos for single object tracking?")
    assert answer.shape == "single" and [c.title for c in answer.citations] == [PRUNING[4][0]]
    sentences = [s for s, _ in quotes(answer)]
    assert 2 <= len(sentences) <= 4 and sentences[0].startswith("We present a benchmark of 1,400 long videos")
    assert_verbatim(answer)


def test_background_is_quoted_only_when_nothing_better_matches(pipeline):
    answer = pipeline.ask("Is there an off-the-shelf token merging method that needs no training?")
    quoted = [s for s, m in quotes(answer) if answer.sources[m - 1].paper.title == PRUNING[1][0]]
    assert quoted and not any(s.startswith("Recently") for s in quoted)


def test_a_quantity_answer_leads_with_the_sentence_holding_the_number(pipeline):
    answer = pipeline.ask("How much does DistilTok improve throughput?")
    assert answer.shape == "quantity"
    first_sentence, marker = quotes(answer)[0]
    assert answer.sources[marker - 1].paper.title == PRUNING[3][0] and "50%" in first_sentence


def test_a_comparison_gives_a_block_per_named_paper(pipeline):
    answer = pipeline.ask("How does TunedPrune compare with DistilTok on ImageNet?")
    assert answer.shape == "comparison"
    blocks = answer.answer.splitlines()
    assert [b.split(":", 1)[0] for b in blocks[:2]] == ["TunedPrune", "DistilTok"]
    assert {c.title for c in answer.citations} == {PRUNING[2][0], PRUNING[3][0]}
    assert_verbatim(answer)


def test_a_comparison_brings_the_papers_it_names_into_its_sources_whatever_k(pipeline):
    """Seen on the dev set: "ConvNeXt or Swin Transformer?" got no Swin block, Swin being 12th in
    the pool with k 5."""
    answer = pipeline.ask("How does TunedPrune compare with DistilTok on ImageNet?", k=1)
    assert {c.title for c in answer.citations} == {PRUNING[2][0], PRUNING[3][0]}
    assert {h.paper.title for h in answer.sources[:2]} == {PRUNING[2][0], PRUNING[3][0]}


def test_a_comparison_finds_papers_by_the_names_answers_use_and_not_the_benchmark_it_is_made_on():
    """Seen on the dev set: "Mamba" (one capital) was not taken for a name, so "How does Mamba
    compare…" quoted three papers; "…compare on the LaSOT benchmark?" gave LaSOT a block."""
    import numpy as np

    from rag.extractive import Composer
    from rag.paper_names import is_setting, named_sources, recased
    from rag.records import Hit, Paper
    from rag.relevance import Judged

    def judged(i, title):
        paper = Paper(paper_id=f"p{i}", title=title, abstract=f"We present {title.split(':')[0]}. It is fast.")
        hit = Hit(paper=paper, rank=i + 1, score=1.0, dense_score=None, bm25_score=None, chunk_id=f"c{i}", snippet="")
        return Judged(hit=hit, sentences=paper.abstract.split(". "), scores=np.array([0.5, 0.4]),
                      usable=np.ones(2, bool), match=0.5)

    sources = [judged(0, "Jamba: A Hybrid Transformer-Mamba Language Model"),
               judged(1, "Swin Transformer: Hierarchical Vision Transformer"),
               judged(2, "Mamba: Linear-Time Sequence Modeling"),
               judged(3, "LaSOT: A Large-scale Single Object Tracking Benchmark")]
    composer = Composer(sources, single_margin=0.05, max_papers=4, sentences_per_paper=2)
    answer = composer.comparison("Which is faster, Mamba or Swin Transformer?")
    assert [line.split(":")[0] for line in answer.text.splitlines()] == ["Mamba", "Swin Transformer"]
    assert [j.paper.title.split(":")[0] for j, _ in named_sources("how does a swin transformer work?", sources)] == []
    assert is_setting("How do Mamba and Jamba compare on the LaSOT benchmark?", "LaSOT")
    assert not is_setting("How does FMViT compare with ResNet101 and with EfficientNet-B5?", "EfficientNet-B5")
    answer = composer.comparison("How do Mamba and Jamba compare on the LaSOT benchmark?")
    assert [line.split(":")[0] for line in answer.text.splitlines()] == ["Mamba", "Jamba"]
    # a dataset the question names is not a paper to compare when two papers are named: every
    # abstract here says "fast", one of them "ImageNet"
    sources[3].hit.paper.abstract += " It is evaluated on ImageNet."
    answer = composer.comparison("Which reaches the higher ImageNet accuracy, Mamba or Swin Transformer?")
    assert [line.split(":")[0] for line in answer.text.splitlines()] == ["Mamba", "Swin Transformer"]
    # seen trying the CLI: "Swin" alone (one capital, no digit) was no name, and a question typed
    # in lower case ("mamba vs jamba") found one paper to compare
    answer = composer.comparison("Compare Swin and Jamba")
    assert [line.split(":")[0] for line in answer.text.splitlines()] == ["Swin Transformer", "Jamba"]
    answer = composer.comparison(recased("mamba vs jamba", sources))
    assert [line.split(":")[0] for line in answer.text.splitlines()] == ["Mamba", "Jamba"]


def test_the_first_k_sources_do_not_depend_on_k(pipeline):
    for question in ("token pruning for transformers", "speech enhancement", "which papers use ImageNet?"):
        top3 = [h.paper.title for h in pipeline.ask(question, k=3).sources]
        top6 = [h.paper.title for h in pipeline.ask(question, k=6).sources]
        assert top6[:3] == top3, question


def test_a_compound_the_corpus_writes_apart_is_found_in_its_parts(pipeline):
    """Seen on the shipped corpus: "PageRank-style" counted as a word no paper has (the highest
    weight of the question), so the paper saying "Page Rank" looked unsupported and was refused."""
    from rag.relevance import EvidenceScorer

    scorer = EvidenceScorer(pipeline.index.bm25, pipeline.encoder)
    terms = scorer.terms("tokens ranked with a PageRank-style algorithm")
    assert "page+rank" in terms and "pagerank" not in terms
    sentence = set(scorer.tokenize("Tokens are ranked by a weighted Page Rank over the attention graph."))
    assert scorer.coverage(terms, sentence) > scorer.coverage({t: w for t, w in terms.items() if t != "page+rank"}, sentence)
    assert scorer.coverage({"page+rank": 1.0}, sentence) == 1.0 and scorer.coverage({"page+rank": 1.0}, {"page"}) == 0.0


def test_a_questions_phrasing_words_weigh_less_in_its_coverage_than_its_topic(pipeline):
    """Seen on the dev chains: "Which papers are devoted to processing recorded speech as input…?"
    was refused: by idf alone "devoted" and "recorded" (rare in abstracts, no topic of anyone's)
    were most of the question, so the speech-enhancement paper covered a quarter of it (weighed by
    meaning, a third; its strength 0.36 -> 0.46, still under the threshold: evals/README.md)."""
    import numpy as np

    from rag.relevance import CENTRAL_FLOOR, EvidenceScorer

    class Meaning:  # the question and its topic words share a direction; "devoted" is far from it
        def encode(self, texts):
            return np.array([[0.0, 1.0] if t == "devoted" else [1.0, 0.0] for t in texts])

    scorer = EvidenceScorer(pipeline.index.bm25, Meaning())
    question = "papers devoted to processing speech recordings"
    plain, central = scorer.terms(question), scorer.central_terms([question])[0]
    assert central["devot"] == pytest.approx(CENTRAL_FLOOR * plain["devot"])
    assert all(central[t] == pytest.approx(plain[t]) for t in plain if t != "devot")
    speech = set(scorer.tokenize("We process noisy multichannel speech recordings with transformer blocks."))
    assert scorer.coverage(central, speech) > 0.8 > scorer.coverage(plain, speech)


def test_a_list_with_a_number_condition_names_only_papers_stating_such_a_number_or_says_none_does(pipeline):
    """Tried as a user: "Which papers report above 90% top-1 accuracy on ImageNet?" listed papers at
    83-87% (none is at 90%), and "more than 85% top-1" found none of the five that are: a paper
    that meets no number condition was still named when it stood out, and "87.3 top-1 accuracy"
    (no "%") or "exceed 50 mIoU" (read as "= 50") did not count."""
    answer = pipeline.ask("Which token pruning methods report more than 75% top-1 accuracy on ImageNet?")
    assert {c.title.split(":")[0] for c in answer.citations} == {"TunedPrune"}, answer.answer
    refused = pipeline.ask("Which token pruning methods report above 90% top-1 accuracy on ImageNet?")
    assert refused.abstained and refused.abstain_reason == "number" and '"above 90%"' in refused.answer
    assert refused.citations == [] and refused.sources  # the nearest papers are still shown


def test_citations_come_from_the_markers_the_answerer_produced(pipeline, monkeypatch):
    import rag.pipeline

    answer = pipeline.ask("Which methods prune tokens without fine-tuning?")
    assert [c.marker for c in answer.citations] == answer.markers == [1, 2]
    # a "[7]" inside a quoted abstract sentence is text, not a citation
    monkeypatch.setattr(rag.pipeline, "re", None, raising=False)  # the pipeline no longer parses the text
    assert pipeline.ask("Which methods prune tokens without fine-tuning?").markers == [1, 2]


def test_a_term_is_found_however_the_abstract_spells_it(pipeline):
    """Seen on the shipped corpus: "FPGAs" in a question missed the survey that says "FPGA" (the
    stemmer keeps "fpgas" whole), and "FlashAttention-2" lost its "2" while the abstract wrote
    "FlashAttention2", so papers that met the question looked unsupported."""
    from rag.relevance import EvidenceScorer, term_spelling

    assert term_spelling("LLMs on FPGAs and GPUs, ViTs") == "LLM on FPGA and GPU, ViT"
    assert term_spelling("speedups over FlashAttention-2 and GPT-4") == "speedups over FlashAttention2 and GPT4"
    scorer = EvidenceScorer(pipeline.index.bm25, pipeline.encoder)
    for question, sentence, term in [("run transformers on FPGAs", "We map the transformer onto one FPGA.", "fpga"),
                                     ("speedups over FlashAttention-2", "It is 17% faster than FlashAttention2.",
                                      "flashattention2")]:
        terms = scorer.terms(question)
        assert term in terms and scorer.coverage({term: 1.0}, set(scorer.tokenize(sentence))) == 1.0, (question, terms)


def test_a_lookup_naming_what_its_paper_never_says_is_refused_and_says_which_name(pipeline):
    """Seen on the calibration split: "What ADE20K mIoU does Segformer++ reach?" was answered
    from the paper that reports Cityscapes only — everything else in the question matched."""
    answer = pipeline.ask("What FLOPs reduction does PruneFree report on ADE20K?")
    assert answer.abstained and answer.abstain_reason == "names" and not answer.citations
    assert "never mention ADE20K" in answer.answer
    kept = pipeline.ask("What FLOPs reduction does PruneFree report on ImageNet?")
    assert not kept.abstained and "35%" in kept.answer
    pipeline.settings = pipeline.settings.model_copy(update={"abstain_on_unsaid_names": False})
    assert not pipeline.ask("What FLOPs reduction does PruneFree report on ADE20K?").abstained


def test_one_paper_restating_the_question_does_not_push_the_other_matches_out():
    """A fixed margin under the best match named only the paper that restates the question
    (its match far above the rest); matches are judged by their share of the best lead."""
    import numpy as np

    from rag.lists import list_matches
    from rag.relevance import Judged

    def paper(match, coverage):
        return Judged(hit=None, sentences=[], scores=np.zeros(0), usable=np.zeros(0, bool), match=match, coverage=coverage)

    pool = [paper(0.80, 1.0), paper(0.55, 0.6), paper(0.52, 0.3)] + [paper(0.20 + 0.001 * i, 0.1) for i in range(40)]
    named = list_matches(pool, relative=0.5, min_strength=3, min_coverage=0.5)
    assert named == pool[:2]  # the third stands out but lacks the question's terms
    assert list_matches(pool, relative=0.5, min_strength=3, min_coverage=0.0) == pool[:3]


def test_a_list_of_methods_names_no_survey_and_a_list_of_surveys_only_surveys():
    """A survey proposes nothing: "which methods…" is not answered by one, even one whose sentences
    restate the question best — and it does not set the lead the methods are measured against."""
    import numpy as np

    from rag.records import Hit, Paper
    from rag.lists import list_matches
    from rag.relevance import Judged

    def paper(i, title, match):
        hit = Hit(rank=i + 1, paper=Paper(paper_id=f"p{i}", title=title, abstract=""), score=0.5,
                  dense_score=0.5, bm25_score=None, chunk_id=f"p{i}:0", snippet="")
        return Judged(hit=hit, sentences=[], scores=np.zeros(0), usable=np.zeros(0, bool), match=match, coverage=1.0)

    survey = paper(0, "Token Pruning in Vision Transformers: A Survey", 0.90)
    methods = [paper(1, "PruneFree", 0.55), paper(2, "MergeShelf", 0.50)]
    pool = [survey, *methods] + [paper(3 + i, f"Other {i}", 0.20 + 0.001 * i) for i in range(40)]
    assert list_matches(pool, relative=0.6, min_strength=3, min_coverage=0.5) == [survey]  # the survey's lead cuts both
    assert list_matches(pool, relative=0.6, min_strength=3, min_coverage=0.5, kind="method") == methods
    assert list_matches(pool, relative=0.6, min_strength=3, min_coverage=0.5, kind="survey") == [survey]
    no_survey = [p for p in pool if p is not survey]
    assert list_matches(no_survey, relative=0.6, min_strength=3, min_coverage=0.5, kind="survey") == methods
    # on a broad topic no survey stands out from the papers around it: a list of surveys names
    # those above the pool's median by the relative rule, not "none"
    broad = [paper(0, "Efficient Transformers: A Survey", 0.33), paper(1, "A Survey of Faster Transformers", 0.32),
             paper(2, "Transformers in Healthcare: A Survey", 0.10)]
    pool = broad + [paper(3 + i, f"Method {i}", 0.20 + 0.004 * i) for i in range(40)]
    assert list_matches(pool, relative=0.6, min_strength=3, min_coverage=0.5, kind="survey") == broad[:2]
    # (any kind: none clears the floor either, so the relative rule alone names the top of the pool)
    assert list_matches(pool, relative=0.6, min_strength=3, min_coverage=0.5) == [broad[0], *pool[3 + 32:]]


def test_a_list_about_an_identifier_names_only_the_papers_that_say_it():
    """Seen on the dev chains ("…on the ADE20K scene-parsing benchmark?"): papers that never say the
    identifier were named, and three that report on it among other benchmarks stood out too
    little to pass the pool floor. Names without a digit, and "top-1", are not identifiers."""
    import numpy as np

    from rag.records import Hit, Paper
    from rag.names import said_identifiers
    from rag.lists import list_matches
    from rag.relevance import Judged

    def paper(i, abstract, match):
        hit = Hit(rank=i + 1, paper=Paper(paper_id=f"p{i}", title=f"Paper {i}", abstract=abstract), score=0.5,
                  dense_score=0.5, bm25_score=None, chunk_id=f"p{i}:0", snippet="")
        return Judged(hit=hit, sentences=[], scores=np.zeros(0), usable=np.zeros(0, bool), match=match, coverage=1.0)

    saying = [paper(0, "We reach 53.5 mIoU on ADE20K.", 0.40), paper(1, "Results on COCO and ADE20K.", 0.34)]
    not_saying = paper(2, "A segmentation model for scene parsing.", 0.42)
    pool = [not_saying, *saying] + [paper(3 + i, "Other.", 0.20 + 0.001 * i) for i in range(40)]
    question = "Which papers evaluate their models on the ADE20K scene-parsing benchmark?"
    names = said_identifiers(question, pool)
    assert names == ["ADE20K"]
    assert list_matches(pool, relative=0.5, min_strength=3, min_coverage=0.5) == [not_saying, *saying]
    assert list_matches(pool, relative=0.5, min_strength=3, min_coverage=0.5, names=names) == saying
    # no pool floor: saying the identifier is the stronger sign (the relative rule still holds;
    # without the names, a floor no paper clears leaves the relative rule alone too)
    assert list_matches(pool, relative=0.5, min_strength=100, min_coverage=0.5, names=names) == saying
    assert list_matches(pool, relative=0.5, min_strength=100, min_coverage=0.5) == [not_saying, *saying]
    assert said_identifiers("Which papers report top-1 accuracy on COCO?", pool) == []
    assert said_identifiers("Which papers report results on Cityscapes-2K?", pool) == []  # said by none


def test_a_list_about_a_name_names_only_the_papers_that_say_it_unless_it_is_one_option():
    """Measured on the calibration split: "Which papers release a MindSpore implementation of
    their model?" named 10 papers, 2 of which say MindSpore. A name that is one option of an
    "A or B" does not filter: "…on phones or with Apple's CoreML" is met by an iPhone too."""
    import numpy as np

    from rag.records import Hit, Paper
    from rag.names import listed_names
    from rag.relevance import Judged

    def paper(i, abstract):
        hit = Hit(rank=i + 1, paper=Paper(paper_id=f"p{i}", title=f"Paper {i}", abstract=abstract), score=0.5,
                  dense_score=0.5, bm25_score=None, chunk_id=f"p{i}:0", snippet="")
        return Judged(hit=hit, sentences=[], scores=np.zeros(0), usable=np.zeros(0, bool), match=0.5, coverage=1.0)

    pool = [paper(0, "Code is released in MindSpore and uses CoreML."), paper(1, "Runs on FPGAs."), paper(2, "Other.")]
    assert listed_names("Which papers release a MindSpore implementation of their model?", pool) == ["MindSpore"]
    assert listed_names("Are there works that run transformer models on FPGAs?", pool) == ["FPGAs"]
    assert listed_names("Which works measure latency on phones or with Apple's CoreML?", pool) == []
    assert listed_names("Which papers release a TensorFlow implementation?", pool) == []  # said by none


def test_a_weak_question_that_shares_an_identifier_with_its_paper_is_answered(tmp_path, fake_encoder, monkeypatch):
    """The question's other words may be the asker's own; an identifier it shares with a top paper
    ("ADE20K") carries it down to IDENTIFIER_FLOOR. Without one, or below the floor, it is refused."""
    import rag.names
    from fakes import daily_dump

    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "a.txt").write_text(daily_dump([
        ("Windowed Vision Backbones", "We propose a windowed backbone. It reaches 53.5 mIoU on ADE20K."),
        ("Convolutional Backbones Revisited", "We modernise a convolutional network. It reaches 87.8% on ImageNet."),
        ("Speech Enhancement Transformers", "We enhance noisy speech with a transformer."),
    ]))
    settings = Settings.build(corpus=[folder], index_dir=tmp_path / "index", abstain_threshold=10.0)  # all weak
    ingest(settings, CorpusReader(settings.corpus), progress=False, encoder=fake_encoder)
    pipeline = Pipeline(settings, encoder=fake_encoder, backend=None, progress=False)
    monkeypatch.setattr(rag.names, "IDENTIFIER_FLOOR", -10.0)
    answer = pipeline.ask("Which backbones are evaluated on the ADE20K scene-parsing benchmark?")
    assert not answer.abstained and [c.title for c in answer.citations] == ["Windowed Vision Backbones"]
    assert pipeline.ask("Which backbones are evaluated on scene-parsing benchmarks?").abstained  # no identifier
    assert pipeline.ask("Which backbones are evaluated on the COCO2017 benchmark?").abstained  # said by none
    monkeypatch.setattr(rag.names, "IDENTIFIER_FLOOR", 10.0)
    assert pipeline.ask("Which backbones are evaluated on the ADE20K scene-parsing benchmark?").abstained


def test_a_question_about_an_identifier_its_top_paper_is_titled_by_is_answered_below_the_floor(tmp_path, fake_encoder,
                                                                                                 monkeypatch):
    """Seen trying the second corpus: "How does miR-375 affect liver cancer cells under low oxygen?"
    was refused (strength 0.30, under IDENTIFIER_FLOOR) though the top paper is titled "miR-375
    inhibits autophagy … of hepatocellular carcinoma cells under hypoxic conditions": the rest of
    the question was the asker's own words. "How does X affect Y?" asks for the finding, as a look-up."""
    import rag.names
    from fakes import daily_dump
    from rag.shapes import shape_of

    monkeypatch.setattr(rag.names, "IDENTIFIER_FLOOR", 10.0)  # every question under the floor
    assert shape_of("How does miR-375 affect liver cancer cells under low oxygen?") == "single"
    assert shape_of("How does PiToMe decide which tokens to merge?") == "explanation"
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "a.txt").write_text(daily_dump([
        ("miR-375 inhibits autophagy of hepatocellular carcinoma cells under hypoxia",
         "We studied microRNAs in carcinoma cells. miR-375 reduces viability of the cells under hypoxia."),
        ("Autophagy in aging liver", "We restore autophagy in old mice. Liver function improves."),
        ("Speech Enhancement Transformers", "We enhance noisy speech with a transformer. It mentions miR-21 once."),
    ]))
    settings = Settings.build(corpus=[folder], index_dir=tmp_path / "index", abstain_threshold=10.0)  # all weak
    ingest(settings, CorpusReader(settings.corpus), progress=False, encoder=fake_encoder)
    pipeline = Pipeline(settings, encoder=fake_encoder, backend=None, progress=False)
    answer = pipeline.ask("How does miR-375 affect liver cancer cells under low oxygen?")
    assert not answer.abstained and answer.citations[0].title.startswith("miR-375")
    assert pipeline.ask("How does miR-21 affect speech?").abstained  # said in an abstract, not a title: refused
    assert pipeline.ask("How does autophagy affect liver cancer cells?").abstained  # no identifier


def test_an_illustration_nudges_the_papers_that_meet_one_of_its_options_and_no_more(pipeline):
    """"…, for example by merging tokens": a paper that merges tokens meets the aspect a little
    better than the bare question says, by at most ILLUSTRATION_LIFT, so an option alone never
    carries a paper far from the aspect into a list."""
    from rag.relevance import ILLUSTRATION_LIFT
    from rag.shapes import read_question

    def aspect_scores(question):
        reading = read_question(question)
        ranking = pipeline.judge(question, reading, pipeline.retriever().embed_query(question), 10, None, "list")
        return {j.paper.title.split(":")[0]: j.aspect_scores[0] for j in ranking.sources}

    bare = aspect_scores("Which papers make pretrained transformers cheaper?")
    illustrated = aspect_scores("Which papers make pretrained transformers cheaper, for example by merging similar tokens?")
    assert illustrated["MergeShelf"] > bare["MergeShelf"]
    assert all(bare[t] <= illustrated[t] <= bare[t] + ILLUSTRATION_LIFT + 1e-9 for t in bare)


def test_list_dense_weight_lets_the_whole_abstract_count_and_zero_keeps_the_match_alone():
    """list_dense_weight adds the paper's own cosine (its best chunk) to the evidence match: a paper
    whose one sentence echoes the question but whose abstract is about something else drops out,
    while the default 0 judges on the match alone."""
    import numpy as np

    from rag.records import Hit, Paper
    from rag.lists import list_matches
    from rag.relevance import Judged

    def paper(i, match, cosine):
        hit = Hit(rank=i + 1, paper=Paper(paper_id=f"p{i}", title=f"Paper {i}", abstract=""), score=0.5,
                  dense_score=cosine, bm25_score=None, chunk_id=f"p{i}:0", snippet="")
        return Judged(hit=hit, sentences=[], scores=np.zeros(0), usable=np.zeros(0, bool), match=match, coverage=1.0)

    on_topic = [paper(0, 0.60, 0.70), paper(1, 0.55, 0.65)]
    one_sentence = paper(2, 0.56, 0.20)  # a sentence near the question, an abstract about something else
    pool = on_topic + [one_sentence] + [paper(3 + i, 0.20 + 0.001 * i, 0.30 + 0.001 * i) for i in range(40)]
    assert list_matches(pool, relative=0.6, min_strength=3, min_coverage=0.5) == pool[:3]
    assert list_matches(pool, relative=0.6, min_strength=3, min_coverage=0.5, dense_weight=0.75) == on_topic


def test_a_numbered_list_whose_topic_is_a_bare_verb_names_the_papers_that_state_the_number():
    """Seen exploring: "Which models run faster than 100 frames per second?" named none — the
    papers that say "run" (and no such speed) set the coverage bar, LoRAT (119 FPS) holds none of
    the question's words — and the answer quoted a paper with no speed in frames per second. When
    no paper stating the number clears the pool's bar, it is measured against theirs."""
    import numpy as np

    from rag.records import Hit, Paper
    from rag.lists import list_matches
    from rag.relevance import Judged

    def paper(i, match, coverage, unmet=()):
        hit = Hit(rank=i + 1, paper=Paper(paper_id=f"p{i}", title=f"Paper {i}", abstract="."), score=0.5,
                  dense_score=0.5, bm25_score=None, chunk_id=f"p{i}:0", snippet="")
        return Judged(hit=hit, sentences=[], scores=np.zeros(0), usable=np.zeros(0, bool), match=match,
                      coverage=coverage, unmet=unmet)

    says_run = [paper(0, 0.127, 1.0, unmet=("faster than 100 fps",)), paper(1, 0.120, 1.0, unmet=("faster than 100 fps",))]
    fast = paper(2, 0.078, 0.0)
    pool = says_run + [fast] + [paper(3 + i, 0.040 + 0.0002 * i, 0.0, unmet=("faster than 100 fps",)) for i in range(40)]
    assert list_matches(pool, relative=0.5, min_strength=3, min_coverage=0.5, numbered=True) == [fast]
    # a member that clears the pool's bar keeps it: the rest are measured against the pool's best
    covering = paper(43, 0.070, 0.9)
    assert list_matches(pool + [covering], relative=0.5, min_strength=3, min_coverage=0.5, numbered=True) == [covering]


def test_a_list_whose_topic_fills_the_pool_is_still_a_list():
    """Seen exploring: "Which papers study how transformers learn in context?" named no paper and
    was answered as a look-up of one — about 20 of its 100 candidates study in-context learning,
    the pool's median and spread are theirs, and the best stood 2.7 deviations above it (the
    floor is 3). With no paper over the floor, the relative rule alone decides."""
    import numpy as np

    from rag.lists import list_matches
    from rag.records import Hit, Paper
    from rag.relevance import Judged

    def paper(i, match):
        hit = Hit(rank=i + 1, paper=Paper(paper_id=f"p{i}", title=f"Paper {i}", abstract="."), score=0.5,
                  dense_score=0.5, bm25_score=None, chunk_id=f"p{i}:0", snippet="")
        return Judged(hit=hit, sentences=[], scores=np.zeros(0), usable=np.zeros(0, bool), match=match, coverage=1.0)

    spread_out = [paper(i, 0.9 - 0.008 * i) for i in range(100)]  # median 0.5, the best 2 deviations above it
    named = list_matches(spread_out, relative=0.5, min_strength=3, min_coverage=0.5)
    assert named == spread_out[:len(named)] and 10 <= len(named) <= 30
    # one paper over the floor: the floor holds, and the relative rule measures the rest against it
    standing_out = [paper(0, 0.99)] + [paper(i, 0.30 - 0.002 * i) for i in range(1, 100)]
    assert list_matches(standing_out, relative=0.5, min_strength=3, min_coverage=0.5) == standing_out[:1]
    # …even when that paper lacks the question's words: the floor is cleared, nothing falls back
    standing_out[0].coverage = 0.1
    assert list_matches(standing_out, relative=0.1, min_strength=3, min_coverage=0.5) == []


def judged_paper(sentences, scores, title="ALISA: Sparsity-Aware KV Caching"):
    import numpy as np

    from rag.records import Hit, Paper
    from rag.relevance import Judged

    paper = Paper(paper_id="p1", title=title, abstract=" ".join(sentences))
    hit = Hit(paper=paper, rank=1, score=1.0, dense_score=None, bm25_score=None, chunk_id="c1", snippet="")
    return Judged(hit=hit, sentences=sentences, scores=np.array(scores),
                  usable=np.ones(len(sentences), bool), match=1.0)


def test_a_lookup_quotes_the_result_by_its_measure_even_in_a_we_demonstrate_sentence():
    """Seen on the calibration split: "we demonstrate that ALISA improves the throughput … by up
    to 3X" counted as a contribution, so the answer quoted a problem statement as its result."""
    from rag.extractive import Composer

    judged = judged_paper([
        "In this paper, we propose ALISA, a novel algorithm-system co-design solution.",
        "On the system level, ALISA employs three-phase token-level dynamical scheduling.",
        "The overhead leads to reduced throughput due to I/O bottlenecks.",
        "In a single GPU-CPU system, we demonstrate that ALISA improves the throughput of FlexGen by up to 3X.",
        "It was trained for 50 epochs over 9 classes.",
    ], [0.34, 0.36, 0.33, 0.31, 0.30])
    composer = Composer([judged], single_margin=0.05, max_papers=4, sentences_per_paper=3)
    assert composer.pick(judged, 3) == [0, 1, 3]
    assert composer.pick(judged, 2, lead_with_number=True)[0] == 3  # a measure before a count of epochs


def test_a_lookup_says_what_data_the_paper_was_tested_on():
    """Seen on the dev set (the knee-osteoarthritis look-up, measured on the calibration split): a
    look-up quoted the answer, the contribution, the result and the next closest sentence, and
    left out the cohort the results came from."""
    from rag.extractive import Composer

    judged = judged_paper([
        "In this study, we developed a transformer framework for multi-modal fusion of knee images.",
        "We analyzed its performance across a range of progression horizons.",
        "The findings come from a large cohort (n=2421) derived from the Osteoarthritis Initiative dataset.",
        "Structural knee MRI identifies progressors, achieving an ROC AUC of 0.70.",
        "The framework is a unified way to study progression.",
    ], [0.50, 0.40, 0.30, 0.35, 0.45])
    composer = Composer([judged], single_margin=0.05, max_papers=4, sentences_per_paper=4)
    assert composer.pick(judged, 4) == [0, 2, 3, 4]  # the cohort before the second-closest sentence


@pytest.mark.parametrize("question, verdict", [
    ("Does a dense infiltrate of CD68-positive macrophages predict a worse outcome?", True),
    ("Claim to verify: taking antioxidants blunts the rise in blood cytokines after exercise.", True),
    ("Can skin make vitamin D from sunlight that comes through a closed window?", True),
    ("Is there a paper that forecasts stock prices with a transformer?", False),
    ("Are there works that run transformers on FPGAs?", False),
    ("Has anyone implemented a transformer on an FPGA?", False),
    ("Which paper proposes Foresight?", False),
    # a bare claim to check, as claim-verification sets give them
    ("Taking antioxidants blunts the rise in blood cytokines after exercise.", True),
    ("ALDH1 expression is associated with poorer prognosis for breast cancer primary tumors", True),
    ("token pruning without fine-tuning", False),  # a keyword query
    ("Compare LoRAT and MixFormer on LaSOT.", False),
    ("Summarize the paper on Foresight.", False),
])
def test_a_question_about_a_finding_is_told_by_what_the_paper_concludes(question, verdict):
    """Measured on the second corpus (calibration split): a yes-or-no question about a finding was
    answered from the best sentence, the design and the cohort, and left out the conclusion."""
    from rag.extractive import Composer
    from rag.intents import asks_verdict

    assert asks_verdict(question) is verdict
    judged = judged_paper([
        "We studied 172 breast cancer patients.",
        "Macrophage density was measured in tumour sections.",
        "A dense CD68 infiltrate was associated with reduced survival.",
        "We propose a scoring protocol for macrophage counts.",
        "Conclusions: a dense macrophage infiltrate is an independent predictor of survival time.",
    ], [0.30, 0.35, 0.50, 0.40, 0.20])
    judged.kinds = ["other", "other", "result", "contribution", "other"]
    composer = Composer([judged], single_margin=0.05, max_papers=4, sentences_per_paper=3)
    assert 4 in composer.pick(judged, 3, verdict=True)
    assert 4 not in composer.pick(judged, 3)


def test_a_lookup_quotes_what_the_paper_proposes_before_what_it_finds():
    """Seen on the dev split: the outlier paper's answer quoted "we empirically show…" and missed
    "we propose two simple modifications … clipped softmax and gated attention"."""
    from rag.extractive import Composer

    judged = judged_paper([
        "We show that strong outliers are related to attention heads that try to learn a no-op.",
        "Based on these observations, we propose two modifications: clipped softmax and gated attention.",
        "We empirically show that models pre-trained using our methods learn smaller outliers.",
        "This enables full INT8 quantization of the activations.",
    ], [0.40, 0.30, 0.35, 0.32])
    composer = Composer([judged], single_margin=0.05, max_papers=4, sentences_per_paper=3)
    assert 1 in composer.pick(judged, 3)


def alisa(last_sentence: str):
    """A KV-cache paper whose abstract opens with background; its last sentence is the test's own."""
    return judged_paper([
        "Recently, token pruning has become popular.",
        "We propose ALISA, a co-design that keeps only the important tokens' cached keys and values.",
        "ALISA needs no fine-tuning of the model.",
        "It improves the throughput of FlexGen by up to 3X.",
        last_sentence,
    ], [0.50, 0.30, 0.45, 0.20, 0.25])


def test_a_quantity_leads_with_the_number_asked_for_not_the_size_of_the_cohort():
    """Seen on the second corpus: "How common is peripheral arterial disease…?" led with "…a study in
    7715 subjects (40% men, 60% women)", not with "The prevalence of PAD was 19.1%"."""
    from rag.extractive import Composer, compose
    from rag.settings import Settings

    judged = judged_paper([
        "To assess the prevalence of PAD, we performed a study in 7715 subjects (40% men, 60% women) aged 55 and over.",
        "The prevalence of PAD was 19.1% (95% confidence interval, 18.1% to 20.0%).",
        "The authors conclude that the prevalence of PAD in the elderly is high.",
    ], [0.70, 0.40, 0.45])
    settings = Settings.build()
    answer = compose("quantity", "How common is peripheral arterial disease among people aged 55 and over?", [judged], [], 0,
                     settings).text
    assert answer.split(": ", 1)[1].startswith("The prevalence of PAD was 19.1%")
    composer = Composer([judged], single_margin=0.05, max_papers=4, sentences_per_paper=3)
    assert composer.single(lead_with_number=True).text.split(": ", 1)[1].startswith("To assess")  # asked about the data


def test_a_comparison_block_says_how_the_paper_works_and_how_well():
    """Seen on the calibration chains: "Compare FMViT and the Scattering Vision Transformer" quoted
    two results per paper and not what either does ("…by blending high-frequency features")."""
    from rag.extractive import Composer

    judged = judged_paper([
        "Recently, KV caches have grown large.",
        "We propose ALISA, a co-design for sparse KV caching.",
        "It keeps only the cached keys and values of the tokens that attention weighs most.",
        "ALISA is compared with FlexGen.",
        "It improves the throughput of FlexGen by up to 3X.",
        "ALISA also runs on a single GPU.",
    ], [0.50, 0.30, 0.10, 0.45, 0.40, 0.35])
    composer = Composer([judged], single_margin=0.05, max_papers=4, sentences_per_paper=3)
    block = composer.blocks([judged], ["FlexGen"]).text
    assert block.startswith("ALISA: We propose ALISA")
    assert "that attention weighs most" in block and "up to 3X" in block and "compared with FlexGen" in block
    assert "Recently" not in block and "single GPU" not in block  # four sentences at most


def test_a_list_line_says_what_matches_what_the_paper_proposes_and_its_result():
    from rag.extractive import Composer

    judged = alisa("It was trained for 50 epochs.")
    composer = Composer([judged], single_margin=0.05, max_papers=4, sentences_per_paper=3, list_sentences=3)
    assert composer.list_extra(judged, 2) == [1, 3]
    lines = composer.listing([judged], 1).text.splitlines()
    assert lines[0] == "1 paper matches:"
    assert lines[1].startswith("- ALISA — We propose ALISA") and "needs no fine-tuning" in lines[1] and "3X" in lines[1]
    assert "Recently" not in lines[1]


def test_a_short_list_says_more_of_each_paper_and_a_list_of_one_as_much_as_a_look_up():
    from rag.extractive import Composer

    judged = alisa("It is evaluated on the OPT and LLaMA model families.")
    composer = Composer([judged], single_margin=0.05, max_papers=4, sentences_per_paper=4, list_sentences=3)
    one = composer.listing([judged], 1).text.splitlines()
    assert one[0] == "1 paper matches:" and one[1].count("[1]") == 4 and "OPT and LLaMA" in one[1]
    two = composer.listing([judged, judged], 2).text.splitlines()  # a short list: one sentence more than list_sentences
    assert two[1].count("[1]") == 4
    six = composer.listing([judged] * 6, 6).text.splitlines()
    assert six[1].count("[1]") == 3


def test_a_list_line_does_not_lead_with_the_setting_its_condition_was_found_in():
    """Seen on the dev set: Small-E's line opened with "Recent advancements in text-to-speech…"
    (the topic restated as background) when its own sentences say what it does."""
    from rag.extractive import Composer

    judged = judged_paper([
        "Recent advancements in text-to-speech powered by language models have showcased remarkable capabilities.",
        "We propose to replace transformers with recurrent architectures for speech synthesis.",
        "Our implementation is available online.",
    ], [0.42, 0.40, 0.10])
    judged.kinds = ["background", "contribution", "other"]
    judged.aspect_scores, judged.aspect_best = [0.5], [0]  # the background sentence met the topic best
    assert Composer.matching_sentence(judged) == 1
    judged.kinds = ["other", "contribution", "other"]
    assert Composer.matching_sentence(judged) == 0


def test_a_comparison_of_two_papers_named_by_their_short_names_is_answered_however_weak(pipeline):
    """Seen on the dev set: "DiC and PixelDiT both move away from the standard latent diffusion
    transformer recipe. How do their approaches differ?" was refused for weak overall evidence."""
    pipeline.settings = pipeline.settings.model_copy(update={"abstain_threshold": 100.0})
    answer = pipeline.ask("PruneFree and MergeShelf both skip retraining. How do their approaches differ?")
    assert not answer.abstained and {c.title.split(":")[0] for c in answer.citations} == {"PruneFree", "MergeShelf"}
    assert pipeline.ask("PruneFree and FooBar both skip retraining. How do their approaches differ?").abstained


def test_an_explanation_quotes_how_the_method_works_before_its_results():
    """Seen trying the CLI: "How does Zero-TPrune decide which tokens to prune?" quoted the
    contribution and two accuracy results, not the Weighted Page Rank step that decides."""
    from rag.extractive import Composer

    judged = judged_paper([
        "Recently, KV caches have grown large.",
        "We propose ALISA, a co-design for sparse KV caching.",
        "It keeps only the cached keys and values of the tokens that attention weighs most.",
        "ALISA improves throughput by up to 3X.",
        "ALISA reaches 75.2% accuracy on the benchmark.",
    ], [0.10, 0.50, 0.30, 0.45, 0.40])
    composer = Composer([judged], single_margin=0.05, max_papers=4, sentences_per_paper=3)
    explained = composer.single(explain=True).text
    assert "that attention weighs most" in explained and "We propose ALISA" in explained
    assert "that attention weighs most" not in composer.single().text  # a look-up quotes the result instead


def test_a_quantity_leads_with_the_number_of_the_measure_the_question_names():
    """Seen trying the CLI: "what precision@10 did Foresight reach on MIMIC-III…?" led with
    "relevancy of 97%" (a measured share) over "precision@10 0.88" (no unit)."""
    from rag.extractive import compose
    from rag.measures import measure_names

    judged = judged_paper([
        "We present Foresight, a transformer for patient timelines.",
        "On MIMIC-III, precision@10 of 0.68 and 0.88 was achieved for the next disorder.",
        "Clinicians rated its forecasts with a relevancy of 97%.",
    ], [0.30, 0.45, 0.50])
    question = "What precision@10 did Foresight reach on MIMIC-III for the next disorder?"
    assert measure_names(question) == ("precision@10", "MIMIC-III")
    assert measure_names("By how much did the burden grow between 1990 and 2015?") == ()  # years name no measure
    answer = compose("quantity", question, [judged], [], 0, Settings.build()).text
    assert answer.split(": ", 1)[1].startswith("On MIMIC-III, precision@10")


def test_a_question_about_a_paper_by_its_own_name_is_not_refused_as_too_far(pipeline):
    """Seen on the explanation set (evals/qa/explain.jsonl): "What is the key idea behind the
    MixFormer tracker…?" was refused for weak evidence though MixFormer is in the corpus."""
    pipeline.settings = pipeline.settings.model_copy(update={"abstain_threshold": 100.0})  # every question weak
    answer = pipeline.ask("What is the key idea behind MergeShelf?")
    assert not answer.abstained and {c.title.split(":")[0] for c in answer.citations} >= {"MergeShelf"}
    assert pipeline.ask("What is the key idea behind token merging?").abstain_reason == "retrieval"
    # what the named paper never says is still refused, by name
    refused = pipeline.ask("What FID does MergeShelf get on Kinetics-600?")
    assert refused.abstained and refused.abstain_reason == "names" and "Kinetics-600" in refused.answer


def test_a_paper_is_named_by_the_method_its_abstract_introduces_not_only_by_its_title():
    """Seen on the explanation set: "Why does Lightning Attention's throughput not degrade…?" was
    refused as too far from every paper: the paper's title ("Various Lengths, Constant Speed: …")
    does not carry the name its abstract introduces ("We present Lightning Attention, the first…")."""
    from rag.paper_names import introduced_names, named_sources

    source = judged_paper(["We present Lightning Attention, the first linear attention with constant speed.",
                           "We propose A simple trick, which helps."], [0.5, 0.4],
                          title="Various Lengths, Constant Speed: Efficient Language Modeling")
    assert introduced_names(source.paper) == ["Lightning Attention"]  # not "A simple trick"
    assert [name for _, name in named_sources("Why is Lightning Attention fast?", [source])] == ["Lightning Attention"]
    assert named_sources("Why is linear attention fast?", [source]) == []


def test_a_comparison_that_finds_one_paper_only_by_a_name_some_abstract_says_is_a_look_up():
    """Seen trying the second corpus: "What is the effect of NIV via helmet vs mask on inspiratory
    effort in COPD?" quoted only an immunology paper that says "COPD", not the helmet-versus-mask
    trial ranked first (its title spells COPD out)."""
    import numpy as np

    from rag.extractive import Composer
    from rag.records import Hit, Paper
    from rag.relevance import Judged

    def judged(i, title, abstract):
        paper = Paper(paper_id=f"p{i}", title=title, abstract=abstract)
        sentences = abstract.split(". ")
        hit = Hit(paper=paper, rank=i + 1, score=1.0 - i / 2, dense_score=None, bm25_score=None, chunk_id=f"c{i}", snippet="")
        return Judged(hit=hit, sentences=sentences, scores=np.linspace(0.6, 0.4, len(sentences)),
                      usable=np.ones(len(sentences), bool), match=0.5 - i / 4, relevance=1.0 - i / 2)

    trial = judged(0, "Non-invasive ventilation in chronic obstructive pulmonary disease patients: helmet versus facial mask",
                   "We compared helmet and facial mask in 10 patients. The helmet was less efficient in reducing inspiratory effort")
    other = judged(1, "IL-1 controls group 2 innate lymphoid cells", "ILC2s expand in COPD airways. IL-12 converts them")
    answer = Composer([trial, other], single_margin=0.05, max_papers=4, sentences_per_paper=2).comparison(
        "What is the effect of NIV via helmet vs mask on inspiratory effort in COPD?")
    assert answer.text.startswith("Non-invasive ventilation") and "ILC2s" not in answer.text


def test_a_number_or_explanation_asked_of_a_paper_by_name_is_answered_from_that_paper(pipeline):
    """Seen trying the CLI: "How fast does MixFormer run?" was answered from EfficientFormer, the
    top source, and refused as "never mention MixFormer" though MixFormer was source [2]."""
    from rag.shapes import read_question

    question = "How much accuracy does MergeShelf keep when pruning tokens without fine-tuning on ImageNet?"
    reading = read_question(question)
    qvec = pipeline.retriever().embed_query(question)
    unnamed = pipeline.judge(question, reading, qvec, 5, None, "single")
    assert unnamed.sources[0].paper.title.startswith("PruneFree")  # the words alone lead elsewhere
    ranking = pipeline.judge(question, reading, qvec, 5, None, reading.shape)
    assert reading.shape == "quantity" and ranking.sources[0].paper.title.startswith("MergeShelf")
    # a name given as an example is not what the question is about (the explanation set's
    # "Why can't linear RNNs such as Mamba and DeltaNet solve parity…?" was refused from Mamba)
    from rag.paper_names import asked_about

    mamba = judged_paper(["We propose Mamba, a selective state space model."], [0.5], title="Mamba: Linear-Time Sequence Modeling")
    assert asked_about("Why is Mamba fast?", [mamba]) == [mamba]
    assert asked_about("Why can't linear RNNs such as Mamba and DeltaNet solve parity?", [mamba]) == []


def test_an_explanation_of_a_paper_asked_by_name_quotes_that_paper_alone():
    """Seen trying the CLI: "What is the main idea of Mamba?" was read as a look-up (only "the key
    idea" was an explanation) and answered from the Mamba survey; then, with the Mamba paper put
    first, the survey, a medical SSM survey and Mamba-ND were quoted beside it (their evidence
    was stronger than the Mamba paper's, so all were within the look-up margin)."""
    import numpy as np

    from rag.extractive import compose
    from rag.records import Hit, Paper
    from rag.relevance import Judged
    from rag.shapes import shape_of

    assert shape_of("What is the main idea of Mamba?") == "explanation"

    def judged(i, title, abstract, match):
        paper = Paper(paper_id=f"p{i}", title=title, abstract=abstract)
        sentences = abstract.split(". ")
        hit = Hit(paper=paper, rank=i + 1, score=1.0, dense_score=None, bm25_score=None, chunk_id=f"c{i}", snippet="")
        return Judged(hit=hit, sentences=sentences, scores=np.linspace(0.6, 0.4, len(sentences)),
                      usable=np.ones(len(sentences), bool), match=match)

    mamba = judged(0, "Mamba: Linear-Time Sequence Modeling with Selective State Spaces",
                   "We let the SSM parameters be functions of the input. Mamba runs 5 times faster than Transformers", 0.4)
    survey = judged(1, "A Survey of Mamba", "We survey Mamba models. We review the applications of Mamba", 0.6)
    answer = compose("explanation", "What is the main idea of Mamba?", [mamba, survey], [], 0, Settings.build())
    assert answer.markers == [1]
    other = compose("explanation", "What is the main idea of selective state spaces?", [mamba, survey], [], 0, Settings.build())
    assert other.markers == [1, 2]  # asked by no name: the look-up margin as before


def test_an_answer_names_a_paper_without_its_titles_full_stop():
    """Seen trying the second corpus: "Duration of androgen suppression in the treatment of
    prostate cancer.: …" (PubMed titles end with a full stop)."""
    from rag.paper_names import paper_name
    from rag.records import Paper

    assert paper_name(Paper(paper_id="p", title="Duration of androgen suppression in prostate cancer.",
                            abstract="Men were randomly assigned.")) == "Duration of androgen suppression in prostate cancer"


@pytest.mark.parametrize("question, sentences, lead", [
    # seen trying the second corpus: the count asked for came third, after risk ratios
    ("How many trials were included in the dialysis meta-analysis?",
     ["Lowering blood pressure lowered cardiovascular events (RR 0.71, 95% CI 0.55-0.92).",
      "FINDINGS We identified eight relevant trials, which provided data for 1679 patients."], 1),
    ("How many patients were included in the ADHD and obesity meta-analysis?",
     ["Obesity was increased by about 70% in adults with ADHD.",
      "RESULTS Forty-two studies that included a total of 728,136 individuals were retained."], 1),
    ("How common is peripheral arterial disease among people aged 55 and over?",
     ["To assess the age- and sex-specific prevalence of peripheral arterial disease (PAD) and intermittent "
      "claudication in an elderly population, we studied 7715 subjects (40% men).",
      "Symptoms were reported by 1.6% of the study population.",
      "The prevalence of PAD was 19.1% (95% confidence interval, 18.1% to 20.0%)."], 2),
])
def test_a_quantity_leads_with_the_count_or_prevalence_it_asks_for(question, sentences, lead):
    from rag.extractive import compose

    judged = judged_paper(sentences, [0.6 - i / 20 for i in range(len(sentences))])
    answer = compose("quantity", question, [judged], [], 0, Settings.build()).text
    assert answer.split(": ", 1)[1].startswith(sentences[lead].split(" (")[0].split(",")[0])


def test_a_lead_in_is_not_searched(pipeline):
    """Seen trying the CLI: "Now, which papers generate speech from text?" named 4 papers and
    "Which papers generate speech from text?" 3 — the lead-in was embedded with the question."""
    plain, led = pipeline.ask("Which methods prune tokens?"), pipeline.ask("Now, which methods prune tokens?")
    assert [h.paper.title for h in led.sources] == [h.paper.title for h in plain.sources]
    assert [(h.score, h.dense_score) for h in led.sources] == [(h.score, h.dense_score) for h in plain.sources]
    assert led.answer == plain.answer and led.retrieval_query == "which methods prune tokens?"


def test_a_look_up_for_a_value_the_abstract_does_not_give_says_so():
    """Seen trying the second corpus: "What was the median follow-up in the dialysis blood
    pressure meta-analysis?" quoted risk ratios as if one of them were the follow-up."""
    from rag.extractive import compose
    from rag.measures import asked_measure

    judged = judged_paper(["We pooled eight trials of 1679 patients.",
                           "Lowering blood pressure lowered cardiovascular events (RR 0.71)."], [0.5, 0.4])
    answer = compose("single", "What was the median follow-up in the dialysis meta-analysis?", [judged], [], 0,
                     Settings.build()).text
    assert answer.startswith("The abstract does not give the median follow-up; what it reports:\n")
    judged.sentences.append("Patients were followed up for a median of 4.2 years.")
    given = compose("single", "What was the median follow-up in the dialysis meta-analysis?", [judged], [], 0, Settings.build())
    assert not given.text.startswith("The abstract does not give")
    assert asked_measure("What was the effect of aliskiren on blood pressure?") is None  # nothing to check
    assert asked_measure("What is the key idea of ALBEF?") == "key idea"  # …and no number is asked of it:
    assert not compose("single", "What is the key idea of ALBEF?", [judged], [], 0, Settings.build()).text.startswith("The")


def test_what_problem_a_paper_solves_is_answered_by_its_problem_statement():
    """Seen trying the CLI: "What problem does BACTrack solve?" quoted "As a remedy, this work
    presents BACTrack…" and its parts, never the problem it remedies (the background sentences
    every other answer rightly puts last)."""
    import numpy as np

    from rag.extractive import compose
    from rag.records import Hit, Paper
    from rag.relevance import Judged
    from rag.intents import asks_problem

    sentences = ["Siamese trackers have shown remarkable success in aerial tracking.",
                 "Most previous works, however, match only the initial template and thus fail on rapidly changing targets.",
                 "As a remedy, this work presents BACTrack.",
                 "BACTrack comprises a mixed-temporal transformer and an appearance discriminator.",
                 "Our BACTrack achieves top performance on four aerial tracking benchmarks at 87 FPS."]
    paper = Paper(paper_id="p1", title="BACTrack: Building Appearance Collection for Aerial Tracking", abstract=" ".join(sentences))
    hit = Hit(paper=paper, rank=1, score=1.0, dense_score=None, bm25_score=None, chunk_id="c1", snippet="")
    judged = Judged(hit=hit, sentences=sentences, scores=np.array([0.3, 0.35, 0.5, 0.45, 0.6]),
                    usable=np.ones(len(sentences), bool), match=0.6)
    assert judged.kinds[1] == "background"
    assert asks_problem("What problem does BACTrack solve?") and asks_problem("What motivated LoRAT?")
    assert not asks_problem("Which papers address the problem of catastrophic forgetting?")  # a list of its own
    answer = compose("single", "What problem does BACTrack solve?", [judged], [], 0, Settings.build()).text
    assert answer.index("fail on rapidly changing targets") < answer.index("As a remedy")  # then what it proposes
    plain = compose("single", "How fast is BACTrack?", [judged], [], 0, Settings.build()).text
    assert "fail on rapidly changing targets" not in plain  # background only when asked for


def test_a_look_up_about_a_rare_term_no_paper_uses_is_refused_by_name(pipeline, monkeypatch):
    """Seen trying the second corpus: "Is metformin associated with lower cancer risk?" was answered
    from a vitamin D study (strength 0.62): metformin is in no paper. A rare term — not English, and
    split by tiktoken into 3+ pieces — that the corpus never uses is what the question is about."""
    from rag.names import unknown_terms
    from rag.shapes import read_question

    refused = pipeline.ask("Is metformin associated with faster token pruning?")
    assert refused.abstained and refused.abstain_reason == "names" and "metformin" in refused.answer
    assert not pipeline.ask("Does PruneFree prune tokens without fine-tuning?").abstained

    def unknown(question):
        ranking = pipeline.judge(question, read_question(question), pipeline.retriever().embed_query(question), 3, None,
                                 "single")
        return unknown_terms(question, pipeline.index.bm25, ranking.sources)

    assert unknown("Is metformin associated with faster token pruning?") == ["metformin"]
    assert unknown("Does token pruning keep conventoinal accuracy?") == []  # a typo of an English word
    assert unknown("Does token pruning suit drugs such as metformin?") == []  # an example
    assert unknown("Does token pruning suit metformin or insulin?") == []  # one option
    assert unknown("Is the watermark kept after token pruning?") == []  # a common word
    # the question also gives a word its top paper says and the corpus rarely uses (here, in a corpus
    # of five papers, in a fifth of its chunks at most): what it asks about is in the corpus
    import rag.names

    monkeypatch.setattr(rag.names, "RARE_SHARE", 0.2)
    assert unknown("Does the immunomodulator distiltok prune tokens?") == []
    assert unknown("Does the immunomodulator prune tokens?") == ["immunomodulator"]


@pytest.mark.parametrize("question, limitation", [
    ("What are the limitations of state space models?", True),
    ("What drawbacks does token pruning have?", True),
    ("What challenges remain in visual object tracking?", True),
    ("Where do transformers struggle?", True),
    ("What are the main weaknesses of vision transformers on small datasets?", True),
    ("What are its limitations?", True),  # of the paper just answered, in a chat
    ("What problem does BACTrack solve?", False),  # the problem a paper takes on (asks_problem)
    ("Which papers address the challenges of long sequences?", False),  # a list of papers
    ("What limitation of earlier trackers does BACTrack address?", False),
    ("How does Zero-TPrune prune tokens?", False),
])
def test_a_question_about_what_limits_a_method_is_read(question, limitation):
    from rag.intents import asks_limitation

    assert asks_limitation(question) is limitation


def test_the_limitations_of_a_method_are_answered_by_the_sentences_that_state_them():
    """Seen trying the CLI: "What are the limitations of transformers for long sequences?" quoted
    each paper's method and results, never "the key limitation of transformers is their quadratic
    memory and time complexity", which every abstract has but as background (put last)."""
    from rag.extractive import compose
    from rag.sentences import states_limitation

    assert states_limitation("SSMs offer computational advantages but struggle with in-context retrieval.") == 2
    assert states_limitation("Finally, we discuss current limitations and future directions.") == 1
    assert states_limitation("To address these limitations, we propose MAELRE, a unified encoder.") == 0
    assert states_limitation("Combiner yields state-of-the-art results on image and text modeling.") == 0
    judged = judged_paper([
        "Transformers have become the standard model for sequence modeling.",
        "However, the key limitation of transformers is their quadratic memory and time complexity in sequence length.",
        "To address these limitations, we propose Combiner, which factorizes full attention.",
        "Combiner keeps full attention in each head at sub-quadratic cost.",
        "This survey discusses the strengths and limitations of long-sequence transformers.",
        "Combiner yields state-of-the-art results on several image and text modeling tasks.",
    ], [0.40, 0.30, 0.45, 0.50, 0.55, 0.60], title="Combiner: Full Attention Transformer with Sparse Computation Cost")
    asked = "What are the limitations of transformers for long sequences?"
    single = compose("single", asked, [judged], [], 0, Settings.build()).text
    assert "quadratic memory and time complexity" in single and "we propose Combiner" in single
    assert single.index("quadratic memory") < single.index("we propose Combiner")
    listed = compose("list", asked, [judged], [judged], 1, Settings.build(list_sentences=2)).text
    assert listed.splitlines()[1].startswith("- Combiner — However, the key limitation")
    plain = compose("single", "How does Combiner factorize attention?", [judged], [], 0, Settings.build()).text
    assert "quadratic memory" not in plain  # background only when asked for


def test_a_question_meets_a_paper_written_in_another_spelling_or_number(tmp_path, fake_encoder):
    """Seen trying the second corpus: "Which studies were done in mice?" did not count the papers
    that say "a mouse model" (the stemmer keeps "mice" and "mouse" apart), and a paper written
    "tumour" held none of a question's "tumor" (the evidence read each sentence as written)."""
    from fakes import fake_pipeline, write_jsonl
    from rag.shapes import read_question

    records = [
        {"id": "m1", "title": "Airway Inflammation in a Model of Asthma",
         "abstract": "We sensitized a mouse model of asthma with ovalbumin and measured airway inflammation."},
        {"id": "m2", "title": "Weight Gain Without the Receptor",
         "abstract": "Mice lacking the serotonin receptor gained weight on a high-fat diet."},
        {"id": "m3", "title": "A Survey of Hospital Wards", "abstract": "We surveyed patients admitted to hospital wards over two years."},
        {"id": "m4", "title": "Growth Under Hypoxia", "abstract": "Tumour cells grew faster under hypoxia in culture."},
        {"id": "m5", "title": "Tumor Metastasis in the Lung", "abstract": "Tumor cells spread to the lung through the blood."},
        {"id": "m6", "title": "Tumor Markers", "abstract": "Tumor markers were measured in serum."},
    ]
    pipeline = fake_pipeline(write_jsonl(tmp_path / "papers.jsonl", records), tmp_path / "index", fake_encoder)
    mice = pipeline.ask("Which studies were done in mice?")
    assert {"Airway Inflammation in a Model of Asthma", "Weight Gain Without the Receptor"} <= {c.title for c in mice.citations}
    question = "Which papers study tumor cells under hypoxia?"
    ranking = pipeline.judge(question, read_question(question), pipeline.retriever().embed_query(question), 5, None, "list")
    grown = next(j for j in ranking.sources if j.paper.title == "Growth Under Hypoxia")
    assert grown.coverage == 1.0  # "tumour" meets "tumor": it holds every term of the question


@pytest.mark.parametrize("question, acronyms", [
    ("Which papers evaluate on both ImageNet and COCO?", ["COCO"]),
    ("Which papers report scores on the GLUE benchmark?", ["GLUE"]),
    ("Which papers report mIoU on ADE20K or COCO?", ["COCO"]),
    ("Which studies measure inference speed on CPUs?", []),  # hardware, no evaluation asked about
    ("Which papers in NLP use BERT?", []),
    ("Which papers use CNNs for segmentation?", []),  # as often the asker's paraphrase as a name
])
def test_a_dataset_acronym_is_a_name_where_papers_are_evaluated_on_it(question, acronyms):
    from rag.conditions import data_acronyms

    assert data_acronyms(question) == acronyms


def test_a_list_about_two_datasets_names_only_the_papers_that_say_both(tmp_path, fake_encoder):
    """Seen trying the CLI: "Which papers evaluate on both ImageNet and COCO?" named six papers, of
    which two say COCO: a list named the papers saying any one of its names, and "COCO", a short
    letter-only name, was not read as one."""
    from fakes import write_jsonl

    records = [
        {"id": "d1", "title": "BothNet: A Vision Backbone",
         "abstract": "We evaluate a new vision backbone for recognition on ImageNet classification and COCO detection."},
        {"id": "d2", "title": "ClassNet: A Vision Backbone",
         "abstract": "We evaluate a new vision backbone for recognition on ImageNet classification and scene parsing."},
        {"id": "d3", "title": "BoxNet: A Vision Backbone",
         "abstract": "We evaluate a new vision backbone for recognition on COCO detection and scene parsing."},
        {"id": "d4", "title": "Speech Separation", "abstract": "We separate overlapping speakers in noisy recordings."},
    ]
    corpus = write_jsonl(tmp_path / "papers.jsonl", records)
    # every paper of the pool may match (relative 0): which do is up to the names alone
    settings = Settings.build(corpus=[corpus], index_dir=tmp_path / "index", abstain_threshold=0.0,
                              list_min_strength=0.0, list_relative=0.0, list_min_coverage=0.0)
    ingest(settings, CorpusReader(settings.corpus), progress=False, encoder=fake_encoder)
    pipeline = Pipeline(settings, encoder=fake_encoder, backend=None, progress=False)
    question = "Which papers evaluate a new vision backbone for recognition on both ImageNet and COCO?"
    both = pipeline.ask(question)
    assert [c.title for c in both.citations] == ["BothNet: A Vision Backbone"] and both.matches["count"] == 1
    one = pipeline.ask(question.replace("both ImageNet and COCO", "COCO"))
    assert {c.title for c in one.citations} == {"BothNet: A Vision Backbone", "BoxNet: A Vision Backbone"}


def test_a_question_about_a_paper_by_its_name_is_answered_from_it_in_as_many_sentences_as_asked(pipeline):
    """Seen trying the CLI: "What is Mamba?" was answered from the Mamba survey, a medical SSM survey,
    Mamba-ND and Jamba; "Tell me about Mamba." from Jamba alone; "Summarize Mamba in one sentence."
    from the medical survey (and in four sentences)."""
    import numpy as np

    from rag.extractive import compose
    from rag.intents import asked_sentences, asks_about_paper
    from rag.records import Hit, Paper
    from rag.relevance import Judged
    from rag.shapes import read_question

    assert asks_about_paper("What is Mamba?") and asks_about_paper("Tell me about Mamba.")
    assert asks_about_paper("Summarize Mamba in one sentence.") and asks_about_paper("Describe the Swin Transformer paper.")
    assert not asks_about_paper("What is token merging?") and not asks_about_paper("What is the prevalence of PAD?")
    assert asked_sentences("Summarize them in one sentence each.") == 1 and asked_sentences("in two sentences") == 2
    assert asked_sentences("Briefly, what does LoRAT do?") == 1 and asked_sentences("What is Mamba?") is None
    # put first from the pool, whatever its rank: "MergeShelf" is not the question's words' best paper
    question = "Tell me about MergeShelf."
    ranking = pipeline.judge(question, read_question(question), pipeline.retriever().embed_query(question), 5, None, "single")
    assert ranking.sources[0].paper.title.startswith("MergeShelf")

    def judged(i, title, sentences, scores):
        paper = Paper(paper_id=f"p{i}", title=title, abstract=" ".join(sentences))
        hit = Hit(paper=paper, rank=i + 1, score=1.0, dense_score=None, bm25_score=None, chunk_id=f"c{i}", snippet="")
        return Judged(hit=hit, sentences=sentences, scores=np.array(scores), usable=np.ones(len(sentences), bool), match=0.5)

    mamba = judged(0, "Mamba: Linear-Time Sequence Modeling with Selective State Spaces",
                   ["Foundation models are now almost universally based on the Transformer.",
                    "Second, even though this change prevents convolutions, we design a parallel algorithm in recurrent mode.",
                    "We integrate these selective SSMs into a simplified architecture without attention (Mamba).",
                    "Mamba enjoys 5 times higher throughput than Transformers."], [0.3, 0.6, 0.4, 0.5])
    survey = judged(1, "A Survey of Mamba", ["We survey Mamba models.", "We review the applications of Mamba."], [0.7, 0.6])
    one = compose("single", "Summarize Mamba in one sentence.", [mamba, survey], [], 0, Settings.build())
    assert one.text == "Mamba: We integrate these selective SSMs into a simplified architecture without attention (Mamba) [1]."
    full = compose("single", "What is Mamba?", [mamba, survey], [], 0, Settings.build())
    assert full.markers == [1] and "(Mamba) [1]" in full.text and "5 times higher throughput" in full.text
