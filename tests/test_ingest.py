"""Incremental ingest against the real Chroma store and BM25, with the fake embedder."""

import threading

import pytest

from fakes import PAPERS, daily_dump
from rag.corpus import CorpusReader
from rag.corpus_formats import paper_id_for
from rag.errors import IndexUnavailable
from rag.index import Index, is_ready, write_lock
from rag.ingest import ingest
from rag.settings import Settings


def run(corpus_dir, encoder, **kw):
    settings = Settings.build(corpus=[corpus_dir])
    return ingest(settings, CorpusReader(settings.corpus), progress=False, encoder=encoder, **kw)


def open_index(encoder):
    return Index(Settings.build().index_dir, encoder.name)


def test_first_ingest_indexes_every_paper_and_chunk(small_corpus, fake_encoder):
    report = run(small_corpus, fake_encoder)
    assert (report.papers, report.added, report.removed) == (4, 4, 0)
    index = open_index(fake_encoder)
    assert index.catalog.count_papers() == 4
    assert index.store.count() == index.catalog.count_chunks() == report.chunks_embedded > 4  # the long paper split
    assert index.stats()["embed_model"] == fake_encoder.name


def test_rerun_embeds_nothing(small_corpus, fake_encoder):
    run(small_corpus, fake_encoder)
    before = fake_encoder.texts_encoded
    report = run(small_corpus, fake_encoder)
    assert (report.added, report.changed, report.removed, report.unchanged) == (0, 0, 0, 4)
    assert fake_encoder.texts_encoded == before


def test_added_changed_and_removed_papers(small_corpus, fake_encoder):
    run(small_corpus, fake_encoder)
    new_paper = ("Graph Transformers for Molecules", "We model molecules as graphs with a transformer " * 5)
    changed = (PAPERS[0][0], PAPERS[0][1].replace("40 percent", "55 percent"))
    (small_corpus / "a.txt").write_text(daily_dump([changed, new_paper]))
    (small_corpus / "b.txt").unlink()
    before = fake_encoder.texts_encoded
    report = run(small_corpus, fake_encoder)
    assert (report.added, report.changed, report.removed) == (1, 1, 3)
    assert fake_encoder.texts_encoded - before == 2  # only the new and the changed paper
    index = open_index(fake_encoder)
    papers = {p.title: p for p in index.catalog.iter_papers()}
    assert set(papers) == {changed[0], new_paper[0]}
    assert "55 percent" in papers[changed[0]].abstract
    assert index.store.count() == index.catalog.count_chunks() == 2
    assert index.bm25.search("molecules graphs", 5)[0][0].startswith(paper_id_for(new_paper[0]))


def test_paper_seen_in_a_new_file_updates_metadata_without_re_embedding(small_corpus, fake_encoder):
    run(small_corpus, fake_encoder)
    (small_corpus / "c.txt").write_text(daily_dump(PAPERS[:1]))
    before = fake_encoder.texts_encoded
    report = run(small_corpus, fake_encoder)
    assert (report.metadata_only, report.added, report.changed) == (1, 0, 0)
    assert fake_encoder.texts_encoded == before
    index = open_index(fake_encoder)
    pid = paper_id_for(PAPERS[0][0])
    assert index.catalog.papers([pid])[pid].sources == ["a.txt", "c.txt"]
    hits = index.store.query(fake_encoder.encode(["x"])[0], 10, where={"src:c.txt": True})
    assert {h[0].split(":")[0] for h in hits} == {pid}


def test_index_built_by_another_model_is_refused(small_corpus, fake_encoder):
    run(small_corpus, fake_encoder)
    with pytest.raises(IndexUnavailable, match="built with embedding model fake-hash-encoder, not other-model"):
        Index(Settings.build().index_dir, "other-model")
    fake_encoder.name = "other-model"
    with pytest.raises(IndexUnavailable, match="rebuild"):
        run(small_corpus, fake_encoder)


def test_rebuild_swaps_in_a_fresh_index(small_corpus, fake_encoder):
    run(small_corpus, fake_encoder)
    report = run(small_corpus, fake_encoder, rebuild=True)
    assert report.added == 4
    index_dir = Settings.build().index_dir
    assert not index_dir.with_name(index_dir.name + ".rebuild").exists()
    assert open_index(fake_encoder).catalog.count_papers() == 4


def test_second_ingest_while_one_is_writing_is_refused(small_corpus, fake_encoder):
    index_dir = Settings.build().index_dir
    held, release = threading.Event(), threading.Event()

    def writer():
        with write_lock(index_dir):
            held.set()
            release.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    held.wait(10)
    try:
        with pytest.raises(IndexUnavailable, match="another ingest is writing"):
            run(small_corpus, fake_encoder)
    finally:
        release.set()
        thread.join()
    assert run(small_corpus, fake_encoder).papers == 4


def test_interrupted_ingest_is_not_ready_and_a_rerun_finishes_it(small_corpus, fake_encoder):
    run(small_corpus, fake_encoder)
    index = open_index(fake_encoder)
    index.catalog.set_meta(state="building")  # what a killed ingest leaves behind
    index_dir = Settings.build().index_dir
    assert not is_ready(index_dir)
    with pytest.raises(IndexUnavailable, match="incomplete"):
        open_index(fake_encoder)
    run(small_corpus, fake_encoder)
    assert is_ready(index_dir)


def test_missing_bm25_files_are_rebuilt_from_the_catalog(small_corpus, fake_encoder):
    import shutil

    run(small_corpus, fake_encoder)
    shutil.rmtree(Settings.build().index_dir / "bm25")
    index = open_index(fake_encoder)
    assert index.bm25.search("tracking benchmark videos", 3)


def test_ingest_widens_the_vector_search_of_an_index_built_at_chromas_defaults(small_corpus, fake_encoder):
    from vectorstore.chroma_store import COLLECTION, SEARCH_EF

    run(small_corpus, fake_encoder)
    store = open_index(fake_encoder).store
    store.collection.modify(configuration={"hnsw": {"ef_search": 100}})  # what earlier builds had
    assert store.search_ef() == 100
    run(small_corpus, fake_encoder)
    assert open_index(fake_encoder).store.search_ef() == SEARCH_EF
    assert store.client.get_collection(COLLECTION).configuration_json["hnsw"]["ef_construction"] == 200


def test_every_abstract_sentence_gets_an_evidence_vector_even_across_chunks(small_corpus, fake_encoder):
    import numpy as np

    from rag.evidence import evidence_sentences

    run(small_corpus, fake_encoder)
    index = open_index(fake_encoder)
    papers = list(index.catalog.iter_papers())
    stored = index.catalog.evidence(p.paper_id for p in papers)
    for paper in papers:  # the long paper is split into several chunks: its sentences too
        vectors = stored[paper.paper_id]
        assert len(vectors) == len(evidence_sentences(paper))
        expected = fake_encoder.vectors(evidence_sentences(paper))  # the fake "pools" a span as its words
        assert np.allclose(vectors, expected, atol=1e-2)  # stored as float16
    gone = paper_id_for(PAPERS[2][0])
    (small_corpus / "a.txt").write_text(daily_dump([PAPERS[0], PAPERS[1]]))
    (small_corpus / "b.txt").write_text(daily_dump([PAPERS[1], PAPERS[3]], "consecutive"))
    run(small_corpus, fake_encoder)
    assert gone not in open_index(fake_encoder).catalog.evidence([gone])  # removed with its paper


def test_an_index_built_before_evidence_units_still_answers(small_corpus, fake_encoder):
    from rag.pipeline import Pipeline

    run(small_corpus, fake_encoder)
    settings = Settings.build(corpus=[small_corpus], abstain_threshold=0.0)
    question = "Is there a benchmark of long videos for object tracking?"
    before = Pipeline(settings, encoder=fake_encoder, backend=None, progress=False).ask(question)
    index = open_index(fake_encoder)
    with index.catalog.db:
        index.catalog.db.execute("DELETE FROM evidence")  # what an older index looks like
    after = Pipeline(settings, encoder=fake_encoder, backend=None, progress=False).ask(question)
    assert after.answer == before.answer and after.citations == before.citations  # encoded on the fly
