"""HTTP backends through their real client libraries, against tiny local servers.

OpenAI-compatible and Ollama servers that speak the streaming endpoints our llama-index
integrations call (tests/fakes.py): a cited answer comes through, and every way a backend
can fail gives exit 3 with one line naming the backend and the fix, never the key.
"""

import json

import pytest
from click.testing import CliRunner

from fakes import PAPERS, free_port, ollama_handler, openai_handler, serve
from rag.backends import parse_spec
from rag.cli import ask_command, rag_group
from rag.errors import UsageError

FACT = "We prune redundant tokens in pretrained vision transformers without any fine-tuning"
KEY = "sk-test-LEAKCHECK-0123456789"


@pytest.fixture
def run(fake_models, small_corpus, monkeypatch):
    monkeypatch.setenv("RAG_CORPUS", str(small_corpus))
    monkeypatch.setenv("RAG_SUPPORT_THRESHOLD", "0.5")  # the fake embedder's similarities are lower
    assert CliRunner().invoke(rag_group, ["ingest", "--quiet"]).exit_code == 0  # no first-run notices below

    def invoke(*args, **env):
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return CliRunner().invoke(ask_command, list(args), catch_exceptions=False)

    return invoke


def assert_backend_error(result, *fragments):
    assert result.exit_code == 3, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: --llm "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    assert KEY not in result.output and "Traceback" not in result.output


def test_openai_compatible_answer_is_streamed_and_checked(run):
    with serve(openai_handler(f"{FACT} [1]. Unsupported filler without any citation.")) as (url, requests):
        result = run("--llm", "openai:tiny-model", "--json", "token pruning without fine-tuning",
                     OPENAI_BASE_URL=f"{url}/v1", OPENAI_API_KEY=KEY)
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["llm"] == "openai:tiny-model" and out["answer"] == f"{FACT} [1]."
    assert out["citations"][0]["title"] == PAPERS[0][0]
    assert [s["supported"] for s in out["sentences"]] == [True, False]
    body = requests[-1]["body"]
    assert body["model"] == "tiny-model" and body["stream"] is True and body["messages"][0]["role"] == "system"
    assert requests[-1]["headers"]["Authorization"] == f"Bearer {KEY}"  # sent to the server…
    assert KEY not in result.output  # …never shown


def test_text_output_streams_the_checked_sentences(run):
    with serve(openai_handler(f"{FACT} [1].")) as (url, _):
        result = run("--llm", "openai:tiny-model", "--stream", "token pruning without fine-tuning",
                     OPENAI_BASE_URL=f"{url}/v1")
    assert result.exit_code == 0
    assert result.stdout.startswith(f"{FACT} [1].") and "\nSources:\n" in result.stdout


def test_ollama_contract(run):
    with serve(ollama_handler(f"{FACT} [1].", models=("tiny",))) as (url, requests):
        result = run("--llm", "ollama:tiny", "--json", "token pruning without fine-tuning", OLLAMA_HOST=url)
        missing = run("--llm", "ollama:absent", "token pruning without fine-tuning", OLLAMA_HOST=url)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["answer"] == f"{FACT} [1]."
    chat = [r for r in requests if r["path"] == "/api/chat"][0]["body"]
    assert chat["model"] == "tiny" and chat["stream"] is True and chat["messages"][1]["role"] == "user"
    assert_backend_error(missing, "ollama:absent", "ollama pull absent")


def test_ollama_down(run):
    result = run("--llm", "ollama:tiny", "token pruning", OLLAMA_HOST=f"http://127.0.0.1:{free_port()}")
    assert_backend_error(result, "cannot reach Ollama", "OLLAMA_HOST")


@pytest.mark.parametrize("handler, fragments", [
    (None, ["cannot reach an OpenAI-compatible server", "OPENAI_BASE_URL"]),
    (openai_handler(status=401, error_body=json.dumps({"error": {"message": f"Incorrect API key provided: {KEY}"}})),
     ["refused the API key", "OPENAI_API_KEY"]),
    (openai_handler(status=404, error_body=json.dumps({"error": {"message": "model not found"}})),
     ["has no model 'tiny-model'", "check the model name"]),
    (openai_handler(status=500, error_body="{}"), ["answered HTTP 500"]),
    (openai_handler(delay_s=3.0), ["within 1 s", "RAG_LLM_TIMEOUT_S"]),
])
def test_openai_failures_exit_3_with_one_line_and_no_key(run, handler, fragments):
    env = {"OPENAI_API_KEY": KEY, "RAG_LLM_TIMEOUT_S": "1"}
    if handler is None:
        result = run("--llm", "openai:tiny-model", "token pruning",
                     OPENAI_BASE_URL=f"http://127.0.0.1:{free_port()}/v1", **env)
    else:
        with serve(handler) as (url, _):
            result = run("--llm", "openai:tiny-model", "token pruning", OPENAI_BASE_URL=f"{url}/v1", **env)
    assert_backend_error(result, "openai:tiny-model", *fragments)


@pytest.mark.parametrize("spec", ["extractive", "local", "gguf:/m.gguf", "ollama:llama3", "openai:gpt-4o-mini"])
def test_valid_specs(spec):
    assert parse_spec(spec)[0] == spec.split(":")[0]


@pytest.mark.parametrize("spec", ["", "gpt4", "ollama:", "openai", "local:x", "extractive:yes", "gguf:  "])
def test_invalid_specs(spec):
    with pytest.raises(UsageError, match="unknown --llm spec"):
        parse_spec(spec)
