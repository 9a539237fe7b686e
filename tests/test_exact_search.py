"""The exact copy of a small index's vectors (vectorstore.ExactStore, rag.exact_search): it
searches as Chroma does, ingest keeps it in step, and a copy that may be behind is never
searched. Real Chroma, fake embedder."""

from __future__ import annotations

import ast

import numpy as np
import pytest

from fakes import PAPERS, PROJECT, daily_dump
from rag.corpus import CorpusReader
from rag.exact_search import EXACT_DIR, FACT
from rag.index import Index
from rag.ingest import ingest
from rag.settings import Settings
from vectorstore import ChromaStore, ExactStore, where_clause, write_exact

FILES = ("a.txt", "b.txt", "c.txt")
FILTERS = [
    pytest.param(None, id="no-filter"),
    pytest.param(where_clause(["a.txt"]), id="one-file"),
    pytest.param(where_clause(["a.txt", "c.txt"]), id="any-of-two-files"),
    pytest.param(where_clause(None, True), id="has-code"),
    pytest.param(where_clause(None, False), id="no-code"),
    pytest.param(where_clause(["b.txt", "c.txt"], True), id="files-and-code"),
    pytest.param(where_clause(["never-indexed.txt"]), id="unknown-file"),
]


def assert_same_results(got: list[tuple[str, float]], want: list[tuple[str, float]], tol: float = 1e-5) -> None:
    """Same ids in the same order and the same scores, up to float rounding (chunks whose
    scores tie within `tol` may come in either order)."""
    assert len(got) == len(want)
    assert np.allclose([s for _, s in got], [s for _, s in want], atol=tol)
    for (gid, gs), (wid, ws) in zip(got, want):
        if gid != wid:
            assert abs(gs - ws) <= tol and any(i == gid and abs(s - ws) <= tol for i, s in want), (gid, wid)


@pytest.fixture
def random_chunks():
    rng = np.random.default_rng(7)
    n, dim = 120, 16
    ids = [f"p{i // 2:03d}:{i % 2}" for i in range(n)]
    vectors = rng.normal(size=(n, dim)).astype(np.float32) * rng.uniform(0.5, 2.0, size=(n, 1)).astype(np.float32)
    metas = [{"paper_id": i.split(":")[0], "ordinal": int(i[-1]), "has_code": bool(rng.random() < 0.3),
              **{f"src:{f}": True for f in FILES if rng.random() < 0.5}} for i in ids]
    return ids, vectors, metas, rng.normal(size=(5, dim)).astype(np.float32)


@pytest.mark.parametrize("where", FILTERS)
def test_exact_search_returns_what_chroma_returns(tmp_path, random_chunks, where):
    ids, vectors, metas, queries = random_chunks
    chroma = ChromaStore(tmp_path / "chroma")
    chroma.upsert(ids, vectors, metas)
    write_exact(tmp_path / "exact", chroma.export(batch=50), "src:")  # several export batches
    exact = ExactStore(tmp_path / "exact")
    assert exact.count() == chroma.count() == len(ids)
    for query in queries:
        for n in (1, 10, 200):
            assert_same_results(exact.query(query, n, where), chroma.query(query, n, where))


def test_exact_vectors_are_chromas_at_unit_length(tmp_path, random_chunks):
    ids, vectors, metas, _ = random_chunks
    chroma = ChromaStore(tmp_path / "chroma")
    chroma.upsert(ids, vectors, metas)
    write_exact(tmp_path / "exact", chroma.export(), "src:")
    got = ExactStore(tmp_path / "exact").vectors([ids[3], "p999:0", ids[0]])
    assert set(got) == {ids[0], ids[3]}
    for chunk_id, vector in got.items():
        want = vectors[ids.index(chunk_id)]
        assert np.allclose(vector, want / np.linalg.norm(want), atol=1e-6)


def test_empty_copy_and_zero_depth_return_nothing(tmp_path):
    write_exact(tmp_path / "exact", [], "src:")
    assert ExactStore(tmp_path / "exact").query(np.ones(4, np.float32), 5) == []


# -- the copy kept with an index -------------------------------------------------------


def run(corpus_dir, encoder, **overrides):
    settings = Settings.build(corpus=[corpus_dir], **overrides)
    return ingest(settings, CorpusReader(settings.corpus), progress=False, encoder=encoder)


def open_index(encoder, max_chunks: int = 20_000) -> Index:
    return Index(Settings.build().index_dir, encoder.name, exact_max_chunks=max_chunks)


QUESTIONS = ["token pruning without fine-tuning", "object tracking benchmark", "molecules graphs", "x"]


def assert_copy_matches_chroma(index: Index, encoder) -> None:
    assert index.store.kind == "exact"
    assert sorted(index.store.ids.tolist()) == index.catalog.all_chunk_ids()
    for question in QUESTIONS:
        query = encoder.encode([question])[0]
        for where in (None, where_clause(["a.txt"]), where_clause(None, True)):
            assert_same_results(index.store.query(query, 50, where), index.chroma.query(query, 50, where))


def test_ingest_writes_a_copy_that_queries_search_instead_of_chroma(small_corpus, fake_encoder):
    run(small_corpus, fake_encoder)
    index = open_index(fake_encoder)
    assert index.store.count() == index.catalog.count_chunks() > 4
    assert_copy_matches_chroma(index, fake_encoder)
    assert index.stats()["exact_copy"] == index.catalog.count_chunks()


def test_ingest_that_adds_changes_and_removes_papers_keeps_the_copy_right(small_corpus, fake_encoder):
    run(small_corpus, fake_encoder)
    token = open_index(fake_encoder).store.token
    new_paper = ("Graph Transformers for Molecules", "We model molecules as graphs with a transformer. " * 3)
    changed = (PAPERS[0][0], PAPERS[0][1].replace("40 percent", "55 percent"))
    (small_corpus / "a.txt").write_text(daily_dump([changed, new_paper]))
    (small_corpus / "c.txt").write_text(daily_dump(PAPERS[2:3]))  # a paper seen in a new file: metadata only
    (small_corpus / "b.txt").unlink()
    report = run(small_corpus, fake_encoder)
    assert (report.added, report.changed, report.removed) == (1, 1, 2)
    index = open_index(fake_encoder)
    assert index.store.token != token
    assert_copy_matches_chroma(index, fake_encoder)
    query = fake_encoder.encode(["molecules graphs"])[0]
    in_c = {p.paper_id for p in index.catalog.iter_papers() if p.sources == ["c.txt"]}
    assert len(in_c) == 1
    assert {cid.split(":")[0] for cid, _ in index.store.query(query, 50, where_clause(["c.txt"]))} == in_c
    for store in (index.store, index.chroma):  # the file the papers left: Chroma merges metadata on update
        assert not store.query(query, 50, where_clause(["b.txt"]))


def test_unchanged_ingest_keeps_the_copy_and_a_resumed_one_rewrites_it(small_corpus, fake_encoder):
    run(small_corpus, fake_encoder)
    token = open_index(fake_encoder).store.token
    run(small_corpus, fake_encoder)
    assert open_index(fake_encoder).store.token == token
    index_dir = Settings.build().index_dir
    (index_dir / EXACT_DIR / "meta.json").unlink()  # as a crash half-way through writing it would
    run(small_corpus, fake_encoder)
    index = open_index(fake_encoder)
    assert index.store.token != token
    assert_copy_matches_chroma(index, fake_encoder)


@pytest.mark.parametrize("spoil", [
    pytest.param(lambda d, c: c.set_meta(version=c.get_meta("version") + 1), id="catalog-changed-since"),
    pytest.param(lambda d, c: c.set_meta(**{FACT: {**c.get_meta(FACT), "token": "another"}}), id="another-copy"),
    pytest.param(lambda d, c: c.set_meta(**{FACT: None}), id="not-recorded"),
    pytest.param(lambda d, c: (d / EXACT_DIR / "vectors.npy").write_bytes(b"\x93NUMPY garbage"), id="vectors-garbage"),
    pytest.param(lambda d, c: (d / EXACT_DIR / "ids.npy").unlink(), id="ids-missing"),
    pytest.param(lambda d, c: __import__("shutil").rmtree(d / EXACT_DIR), id="copy-deleted"),
])
def test_a_copy_that_may_be_behind_is_not_searched_and_the_query_rewrites_it(small_corpus, fake_encoder, spoil):
    run(small_corpus, fake_encoder)
    index_dir = Settings.build().index_dir
    index = open_index(fake_encoder)
    spoil(index_dir, index.catalog)
    index = open_index(fake_encoder)
    assert index.store.kind == "chroma"  # searched through Chroma, and the copy rewritten for the next query
    assert_copy_matches_chroma(open_index(fake_encoder), fake_encoder)


def test_copy_is_not_trusted_once_chromas_folder_is_gone(small_corpus, fake_encoder):
    run(small_corpus, fake_encoder)
    index_dir = Settings.build().index_dir
    (index_dir / "chroma" / "chroma.sqlite3").write_bytes(b"\x00" * 4096)
    from rag.exact_search import current_copy
    from rag.index import open_catalog

    assert current_copy(open_catalog(index_dir), index_dir) is None


def test_a_read_only_index_with_a_stale_copy_searches_chroma_and_writes_nothing(small_corpus, fake_encoder):
    from robustness.test_index_folder import read_only  # a bind mount as root, file modes otherwise

    run(small_corpus, fake_encoder)
    index_dir = Settings.build().index_dir
    open_index(fake_encoder).catalog.set_meta(**{FACT: None})
    with read_only(index_dir):
        index = open_index(fake_encoder)
        assert index.store.kind == "chroma"
        assert index.store.query(fake_encoder.encode(["token pruning"])[0], 3)
        index.catalog.close()
    assert Index(index_dir, fake_encoder.name).catalog.get_meta(FACT) is None


def test_index_over_the_threshold_has_no_copy_and_searches_chroma(small_corpus, fake_encoder):
    run(small_corpus, fake_encoder)
    index_dir = Settings.build().index_dir
    chunks = open_index(fake_encoder).catalog.count_chunks()
    assert open_index(fake_encoder, max_chunks=chunks - 1).store.kind == "chroma"
    assert open_index(fake_encoder, max_chunks=chunks).store.kind == "exact"
    run(small_corpus, fake_encoder, exact_search_max_chunks=0)  # an ingest under a lower threshold drops it
    assert not (index_dir / EXACT_DIR).exists()
    assert open_index(fake_encoder).store.kind == "chroma"
    assert open_index(fake_encoder).store.kind == "exact"  # raised again: the first query wrote it


def test_answers_are_the_same_from_the_copy_and_from_chroma(small_corpus, fake_models):
    from rag.pipeline import Pipeline

    run(small_corpus, fake_models)
    exact = Pipeline(Settings.build(), progress=False)
    chroma = Pipeline(Settings.build(exact_search_max_chunks=0), progress=False)
    assert (exact.index.store.kind, chroma.index.store.kind) == ("exact", "chroma")
    for question in QUESTIONS:
        a, b = exact.ask(question), chroma.ask(question)
        assert (a.answer, [h.paper.paper_id for h in a.sources]) == (b.answer, [h.paper.paper_id for h in b.sources])
        assert np.allclose([h.dense_score or 0 for h in a.sources], [h.dense_score or 0 for h in b.sources], atol=1e-5)


def test_only_vectorstore_chroma_store_imports_chromadb():
    importers = []
    for folder in ("rag", "ui", "evals", "vectorstore"):
        for path in (PROJECT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                         [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
                if any(n.split(".")[0] == "chromadb" for n in names):
                    importers.append(str(path.relative_to(PROJECT)))
    assert set(importers) == {"vectorstore/chroma_store.py"}
