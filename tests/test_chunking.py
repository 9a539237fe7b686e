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
