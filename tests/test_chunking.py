from fakes import LONG, PAPERS, FakeEncoder
from rag.chunking import Chunker
from rag.corpus_formats import make_paper
from rag.sentences import split_sentences


def chunker(limit: int = 128, size: int = 60, overlap: int = 15) -> Chunker:
    enc = FakeEncoder()
    return Chunker(lambda text: enc.count_tokens(text) <= limit, size, overlap)


def test_abstract_that_fits_is_one_chunk_with_its_title():
    paper = make_paper(*PAPERS[0], source="a.txt")
    (chunk,) = chunker().chunk(paper)
    assert chunk.text == f"{paper.title}\n{paper.abstract}"
    assert chunk.chunk_id == f"{paper.paper_id}:0"


def test_long_abstract_is_split_with_overlap_and_nothing_lost():
    paper = make_paper("Sparse Attention for Long Documents", LONG, source="a.txt")
    chunks = chunker(limit=128).chunk(paper)
    assert len(chunks) >= 3
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    bodies = []
    for chunk in chunks:
        assert chunk.text.startswith(paper.title + "\n")
        assert FakeEncoder().count_tokens(chunk.text) <= 128  # fits the window: never truncated
        bodies.append(chunk.text.split("\n", 1)[1])
    for sentence in split_sentences(LONG):  # every sentence survives in some chunk
        assert any(sentence in body for body in bodies)
    for left, right in zip(bodies, bodies[1:]):  # consecutive chunks share text
        assert right.split(". ")[0] in left


def test_chunks_shrink_until_they_fit_a_small_window():
    paper = make_paper("Sparse Attention for Long Documents", LONG, source="a.txt")
    chunks = chunker(limit=60, size=200).chunk(paper)
    assert all(FakeEncoder().count_tokens(c.text) <= 60 for c in chunks)


def test_chunks_are_cut_where_the_evidence_sentences_end():
    # Every evidence sentence (rag.evidence splits with rag.sentences) lies whole in a chunk, so
    # its vector is pooled from the chunk pass and never encoded again on its own.
    abstract = ("Prior work, e.g. ToMe et al. 2023, merges tokens. " + LONG + " Fig. 3 shows results at 2.5x speed. "
                "We release code.")
    paper = make_paper("Sparse Attention for Long Documents", abstract, source="a.txt")
    chunks = chunker(limit=128).chunk(paper)
    assert len(chunks) >= 3
    for sentence in split_sentences(abstract):
        assert any(sentence in c.text for c in chunks), sentence
    for chunk in chunks:  # each body is the abstract's own text, from a sentence start to a sentence end
        body = chunk.text.split("\n", 1)[1]
        assert body in abstract and body.split(" ")[0] in {s.split(" ")[0] for s in split_sentences(abstract)}


def test_a_sentence_longer_than_a_chunk_is_cut_at_its_clauses_and_nothing_is_lost():
    run_on = ", ".join(f"clause {i} adds one more condition to the sparse attention rule" for i in range(40)) + "."
    paper = make_paper("Sparse Attention for Long Documents", run_on, source="a.txt")
    chunks = chunker(limit=128).chunk(paper)
    assert len(chunks) >= 3 and all(FakeEncoder().count_tokens(c.text) <= 128 for c in chunks)
    bodies = " ".join(c.text.split("\n", 1)[1] for c in chunks)
    assert all(f"clause {i} adds" in bodies for i in range(40))


def test_chunking_imports_neither_llama_index_core_nor_nltk():
    import subprocess
    import sys

    script = ("import sys; from rag.chunking import Chunker; from rag.corpus_formats import make_paper; "
              "Chunker(lambda t: len(t.split()) < 60, 60, 15).chunk(make_paper('T', 'Word and word. ' * 200, "
              "source='a.txt')); print(sorted(set(sys.modules) & {'llama_index.core', 'nltk'}))")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"  # their imports cost an ingest about 4 s of its start


def test_text_without_spaces_is_cut_into_runs_that_fit_and_keep_every_character():
    abstract = "".join(chr(0x4E00 + i) for i in range(800))  # 800 distinct CJK characters: one "word"
    paper = make_paper("长摘要", abstract, source="a.txt")
    chunks = Chunker(lambda text: len(text) <= 120, 60, 15).chunk(paper)
    assert len(chunks) > 1 and all(len(c.text) <= 120 for c in chunks)
    covered: set[int] = set()
    for chunk in chunks:  # each body is a run of the abstract; together they cover all of it
        body = chunk.text.split("\n", 1)[1]
        at = abstract.index(body)
        covered.update(range(at, at + len(body)))
    assert covered == set(range(len(abstract)))
