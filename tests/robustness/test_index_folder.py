"""Index folders in every bad state: missing, a file, read-only, damaged part by part, built by
another model, locked by a running ingest. Each gives one clear line (exit 2), is rebuilt
from what survives, or just works; an index that was fine stays fine."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from fakes import PAPERS, assert_one_line_error
from rag.settings import Settings

PROJECT = Path(__file__).resolve().parents[2]


def index_dir() -> Path:
    return Settings.build().index_dir


@contextlib.contextmanager
def read_only(folder: Path):
    """Make `folder` really read-only: a read-only bind mount as root (root ignores file
    modes), else file modes."""
    if os.geteuid() == 0:
        subprocess.run(["mount", "--bind", str(folder), str(folder)], check=True)
        try:
            subprocess.run(["mount", "-o", "remount,bind,ro", str(folder)], check=True)
            yield
        finally:
            subprocess.run(["umount", "--lazy", str(folder)], check=True)
    else:
        paths = [folder, *folder.rglob("*")]
        for path in paths:
            path.chmod(path.stat().st_mode & ~0o222)
        try:
            yield
        finally:
            for path in paths:
                path.chmod(path.stat().st_mode | 0o200)


def test_missing_index_is_built_on_the_first_question(cmd):
    result = cmd.ask("--json", "token pruning without fine-tuning")
    assert result.exit_code == 0, result.output
    assert "building it from 2 corpus files" in result.stderr
    assert cmd.papers() == len(PAPERS)


def test_stats_on_a_missing_index_says_how_to_build_one(cmd, tmp_path):
    assert_one_line_error(cmd.rag("stats", "--index-dir", str(tmp_path / "nowhere")), 2, "no index at", "rag ingest")


def test_index_path_that_is_a_file(cmd, tmp_path):
    path = tmp_path / "index.txt"
    path.write_text("not a folder")
    assert_one_line_error(cmd.rag("ingest", "--index-dir", str(path)), 2, "is a file, not a folder")
    assert path.read_text() == "not a folder"


def test_read_only_index_answers_and_refuses_ingest_in_one_line(indexed, small_corpus):
    (small_corpus / "c.txt").write_text("Daily Papers\n\nA Brand New Paper on Robots\n\nWe teach robots to fold towels.\n")
    with read_only(index_dir()):
        out = indexed.ask_json("token pruning without fine-tuning")
        assert out["sources"][0]["title"] == PAPERS[0][0]
        assert_one_line_error(indexed.rag("ingest", "--quiet"), 2, "read-only", str(index_dir()))
    assert indexed.papers() == len(PAPERS)
    assert indexed.rag("ingest", "--quiet").exit_code == 0  # writable again: the new paper goes in
    assert indexed.papers() == len(PAPERS) + 1


@pytest.mark.parametrize("damage, fragments", [
    pytest.param(lambda d: (d / "catalog.sqlite").write_bytes(b"garbage" * 1000), ["damaged", "rag ingest --rebuild"],
                 id="catalog-garbage"),
    pytest.param(lambda d: (d / "catalog.sqlite").write_bytes((d / "catalog.sqlite").read_bytes()[:2048]),
                 ["damaged", "rag ingest --rebuild"], id="catalog-truncated"),
    pytest.param(lambda d: shutil.rmtree(d / "chroma"), ["rag ingest --rebuild"], id="chroma-folder-deleted"),
    pytest.param(lambda d: (d / "chroma" / "chroma.sqlite3").write_bytes(b"\x00" * 4096), ["damaged", "rag ingest --rebuild"],
                 id="chroma-sqlite-zeroed"),
])
def test_damaged_part_is_one_line_and_rebuild_repairs_it(indexed, damage, fragments):
    damage(index_dir())
    assert_one_line_error(indexed.ask("token pruning"), 2, *fragments)
    assert indexed.rag("ingest", "--quiet", "--rebuild").exit_code == 0
    assert indexed.ask_json("token pruning without fine-tuning")["sources"][0]["title"] == PAPERS[0][0]


@pytest.mark.parametrize("damage", [
    pytest.param(lambda d: shutil.rmtree(d / "bm25"), id="bm25-deleted"),
    pytest.param(lambda d: (d / "bm25" / "docs.npy").write_bytes(b"\x93NUMPY garbage"), id="bm25-garbage"),
    pytest.param(lambda d: (d / "bm25" / "meta.json").write_text("{"), id="bm25-meta-truncated"),
])
def test_damaged_keyword_index_is_rebuilt_from_the_catalog(indexed, damage):
    damage(index_dir())
    out = indexed.ask_json("token pruning without fine-tuning")
    assert out["sources"][0]["title"] == PAPERS[0][0]
    assert indexed.ask_json("token pruning without fine-tuning")["sources"][0]["title"] == PAPERS[0][0]


def test_index_of_another_embedding_model_is_refused(indexed, monkeypatch):
    import rag.embed

    monkeypatch.setattr(rag.embed, "canonical_model_name", lambda name: "some-other-model")
    assert_one_line_error(indexed.ask("token pruning"), 2, "fake-hash-encoder", "some-other-model")
    assert_one_line_error(indexed.rag("ingest", "--quiet"), 2, "fake-hash-encoder", "--rebuild")


def test_second_ingest_while_one_runs_is_refused_not_interleaved(indexed):
    """A real second process holds the lock (as `rag ingest` does) while this one tries."""
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(PROJECT)!r})
        from pathlib import Path
        from rag.index import write_lock
        with write_lock(Path({str(index_dir())!r})):
            print("locked", flush=True)
            time.sleep(60)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert_one_line_error(indexed.rag("ingest", "--quiet"), 2, "another ingest is writing the index", "wait")
        out = indexed.ask_json("token pruning without fine-tuning")  # queries go on meanwhile
        assert out["sources"][0]["title"] == PAPERS[0][0]
    finally:
        holder.kill()
        holder.wait()
    assert indexed.rag("ingest", "--quiet").exit_code == 0  # the lock dies with its process
    assert indexed.papers() == len(PAPERS)


def test_damaged_ingest_checkpoint_is_started_over(indexed, small_corpus):
    (index_dir() / "ingest-run.sqlite").write_bytes(b"not a checkpoint" * 100)
    (small_corpus / "c.txt").write_text("Daily Papers\n\nA Brand New Paper on Robots\n\nWe teach robots to fold towels.\n")
    result = indexed.rag("ingest", "--quiet")
    assert result.exit_code == 0, result.output
    assert indexed.papers() == len(PAPERS) + 1
