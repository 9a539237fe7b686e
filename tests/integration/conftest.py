"""Shared integration fixtures: one index of the shipped corpus per session, built by the
real bundled model (about a minute on 2 cores), used by every integration module."""

from pathlib import Path

import pytest

from fakes import SHIPPED_CORPUS
from rag.corpus import CorpusReader
from rag.ingest import ingest
from rag.settings import Settings


@pytest.fixture(scope="session")
def shipped_index(tmp_path_factory) -> Path:
    index_dir = tmp_path_factory.mktemp("shipped") / "index"
    settings = Settings.build(env={}, corpus=[SHIPPED_CORPUS], index_dir=index_dir)
    report = ingest(settings, CorpusReader(settings.corpus), progress=False)
    assert report.added == 295
    return index_dir
