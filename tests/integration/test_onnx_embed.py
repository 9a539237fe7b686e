"""The ONNX Runtime encoder's own concerns (rag/embed/onnx_bert.py), on real abstracts.

Exports the bundled model once per module (fp32 about 7 s, int8 about 2 s more on 2 cores)
into a temporary cache, then checks: the same nearest abstracts with int8 as with fp32,
reuse of the cached files, recovery from a crashed export, and that loading from the cache
never imports torch. Its vectors against sentence-transformers' (fp32 and int8) are
tests/integration/test_encoder_contract.py's.
"""

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from fakes import PROJECT, SHIPPED_CORPUS
from rag.embed import onnx_bert
from rag.chunking import chunk_text
from rag.corpus import load_corpus
from rag.corpus_formats import normalise_title
from rag.embed import model_dir
from rag.embed.onnx_bert import OnnxEncoder, onnx_model_path

pytestmark = pytest.mark.integration
MODEL = model_dir("all-MiniLM-L6-v2")
EDGE_TEXTS = ["a", "which methods prune tokens without fine-tuning?", "Transformers " * 300]  # 300 -> truncated


@dataclass
class Exported:
    cache: Path
    fp32: Path
    int8: Path


def _questions_and_abstracts() -> tuple[list[str], list[str], list[int]]:
    """Answerable test questions, ~30 abstracts that include their gold papers, gold indexes."""
    items = [json.loads(line) for line in (PROJECT / "tests/data/retrieval_questions.jsonl").read_text().splitlines()
             if line.strip()]
    papers = {normalise_title(p.title): p for p in load_corpus([SHIPPED_CORPUS]).papers}
    gold = [(q["question"], papers[normalise_title(q["gold_titles"][0])]) for q in items if q["gold_titles"]][:8]
    chosen = [p for _, p in gold] + [p for p in papers.values() if p not in [g for _, g in gold]][: 30 - len(gold)]
    texts = [chunk_text(p.title, p.abstract) for p in chosen]
    return [q for q, _ in gold], texts, list(range(len(gold)))


QUESTIONS, ABSTRACTS, GOLD = _questions_and_abstracts()


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Exported:
    cache = tmp_path_factory.mktemp("onnx-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RAG_ONNX_CACHE", str(cache))
        return Exported(cache, onnx_model_path(MODEL, quantize=False), onnx_model_path(MODEL, quantize=True))


@pytest.fixture
def cache(exported, monkeypatch) -> Exported:
    monkeypatch.setenv("RAG_ONNX_CACHE", str(exported.cache))  # the autouse isolated_env clears RAG_*
    return exported


@pytest.fixture(scope="module")
def vectors(exported) -> dict[str, np.ndarray]:
    texts = ABSTRACTS + EDGE_TEXTS + QUESTIONS
    return {name: OnnxEncoder(MODEL, quantize=q, cache_dir=exported.cache).encode(texts, batch_size=8)
            for name, q in (("fp32", False), ("int8", True))}


def test_export_lands_in_the_cache_folder(cache):
    assert cache.fp32.parent == cache.int8.parent == cache.cache / onnx_bert.cache_key(MODEL)
    assert sorted(p.name for p in cache.fp32.parent.iterdir()) == ["model-int8.onnx", "model.onnx"]
    assert cache.int8.stat().st_size < cache.fp32.stat().st_size / 3


def test_int8_vectors_find_the_same_nearest_abstracts(vectors):
    n = len(ABSTRACTS)
    nearest = {name: np.argmax(v[-len(QUESTIONS):] @ v[:n].T, axis=1).tolist() for name, v in vectors.items()}
    assert nearest["int8"] == nearest["fp32"]
    assert nearest["fp32"] == GOLD  # sanity: the questions do pick their gold abstracts


def test_a_second_encoder_reuses_the_cached_files(cache, monkeypatch):
    before = {p: p.stat().st_mtime_ns for p in (cache.fp32, cache.int8)}

    def no_export(*args, **kwargs):
        raise AssertionError("exported again instead of reusing the cache")

    monkeypatch.setattr(onnx_bert, "export_onnx", no_export)
    for quantize in (False, True):
        assert OnnxEncoder(MODEL, quantize=quantize, threads=1).path == (cache.int8 if quantize else cache.fp32)
    assert {p: p.stat().st_mtime_ns for p in before} == before


def test_a_crashed_or_killed_export_leaves_no_broken_model(cache, tmp_path, monkeypatch):
    folder = tmp_path / "cache" / onnx_bert.cache_key(MODEL)
    folder.mkdir(parents=True)
    (folder / "model.onnx").write_bytes(cache.fp32.read_bytes())
    # What a process killed mid-quantisation leaves: a partial temp file, an hour old.
    stray = folder / "model-int8.onnx.k1ll3d.tmp"
    stray.write_bytes(cache.int8.read_bytes()[:1000])
    os.utime(stray, (time.time() - 7200, time.time() - 7200))

    import onnxruntime.quantization

    def crash(model_input, model_output, **kwargs):
        Path(model_output).write_bytes(b"half a model")
        raise RuntimeError("simulated crash mid-write")

    with monkeypatch.context() as mp:
        mp.setattr(onnxruntime.quantization, "quantize_dynamic", crash)
        with pytest.raises(RuntimeError, match="simulated crash"):
            onnx_model_path(MODEL, quantize=True, cache_dir=tmp_path / "cache")
    assert sorted(p.name for p in folder.iterdir()) == ["model.onnx"]  # no int8, no temp files

    encoder = OnnxEncoder(MODEL, quantize=True, cache_dir=tmp_path / "cache")
    assert encoder.path == folder / "model-int8.onnx"
    # Same texts in the same batch: int8 activations are scaled per batch, so batch-mates matter.
    texts = ABSTRACTS[:3]
    first = OnnxEncoder(MODEL, quantize=True, cache_dir=cache.cache)
    assert np.allclose(encoder.encode(texts), first.encode(texts), atol=1e-6)


@pytest.mark.parametrize("quantize", [False, True], ids=["fp32", "int8"])
def test_loading_from_the_cache_does_not_import_torch(cache, quantize):
    code = (
        "import sys\n"
        "from rag.embed import model_dir\n"
        "from rag.embed.onnx_bert import OnnxEncoder\n"
        f"vectors = OnnxEncoder(model_dir('all-MiniLM-L6-v2'), quantize={quantize}).encode(['token pruning'])\n"
        "assert vectors.shape == (1, 384), vectors.shape\n"
        "heavy = [m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    env = {**os.environ, "RAG_ONNX_CACHE": str(cache.cache), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no ONNX Runtime warnings either


def test_supports_the_bundled_model_only_when_its_files_are_there(tmp_path):
    assert onnx_bert.supports(MODEL)
    assert not onnx_bert.supports(tmp_path)
