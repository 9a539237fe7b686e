"""Where ingest embeds (Settings.embed_device, `rag ingest --device`): the setting parses,
"auto" resolves to what torch sees, and cuda without CUDA (or with an onnx backend) is a
one-line usage error before the corpus is read. No model is loaded here; the vectors on the
device path are held to today's in tests/integration/test_encoder_device.py."""

import pytest
import torch
from click.testing import CliRunner

from fakes import assert_one_line_error
from rag.cli import rag_group
from rag.embed.device import resolve_device
from rag.errors import UsageError
from rag.settings import Settings


@pytest.fixture
def no_cuda(monkeypatch):
    """A CPU-only torch build, as on this machine, whatever torch is installed."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.version, "cuda", None)


@pytest.fixture
def ingest_cli(monkeypatch, tmp_path):
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "index"))

    def run(*args):
        return CliRunner().invoke(rag_group, ["ingest", "--quiet", *args], catch_exceptions=False)

    return run


def test_the_device_defaults_to_cpu_and_reads_rag_embed_device():
    assert Settings.build(env={}).embed_device == "cpu"
    assert Settings.build(env={"RAG_EMBED_DEVICE": "cuda"}).embed_device == "cuda"
    assert Settings.build(env={"RAG_EMBED_DEVICE": "cuda"}, embed_device="auto").embed_device == "auto"
    with pytest.raises(UsageError, match="RAG_EMBED_DEVICE"):
        Settings.build(env={"RAG_EMBED_DEVICE": "gpu"})


def test_auto_is_cuda_when_torch_sees_a_gpu_and_cpu_otherwise(monkeypatch):
    assert resolve_device("auto") == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("cpu") == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == resolve_device("cuda") == "cuda"
    assert resolve_device("auto", backend="onnx") == "cpu"  # onnx runs on the CPU; auto asks no more
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == "cpu"


def test_cuda_on_a_cpu_torch_is_one_line_naming_the_build_and_the_fix(ingest_cli, no_cuda):
    assert_one_line_error(ingest_cli("--device", "cuda"), 2, "--device cuda: this torch build has no CUDA",
                          f"(torch {torch.__version__})", "make setup-gpu", "--device cpu")


def test_cuda_from_the_environment_names_the_variable(ingest_cli, no_cuda, monkeypatch):
    monkeypatch.setenv("RAG_EMBED_DEVICE", "cuda")
    assert_one_line_error(ingest_cli(), 2, "RAG_EMBED_DEVICE cuda: this torch build has no CUDA")


def test_a_cuda_torch_without_a_gpu_points_at_the_driver(ingest_cli, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.version, "cuda", "12.8")
    assert_one_line_error(ingest_cli("--device", "cuda"), 2, "sees no GPU", "nvidia-smi", "--device cpu")


@pytest.mark.parametrize("backend", ["onnx", "onnx-int8"])
def test_cuda_with_an_onnx_backend_says_which_combinations_work(ingest_cli, backend):
    assert_one_line_error(ingest_cli("--embed-backend", backend, "--device", "cuda"), 2,
                          f"torch backend only ({backend} runs on the CPU)", "--embed-backend torch --device cuda",
                          "--device cpu with torch, onnx or onnx-int8")


def test_an_unknown_device_is_refused_by_the_option(ingest_cli):
    result = ingest_cli("--device", "gpu")
    assert result.exit_code == 2 and "'gpu' is not one of 'cpu', 'cuda', 'auto'" in result.output
