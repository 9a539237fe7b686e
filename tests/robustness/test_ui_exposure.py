"""What the chat server exposes, and to whom: where it listens, the login, and what its API
does with hostile or malformed input.

The app is served in-process on 127.0.0.1 with a small index built by the fake encoder (as
tests/test_ui_api.py does) and driven through its HTTP API with gradio_client and httpx.
Every refusal must be an answer from the server (`{"error": ...}` or a chat message), never
an exception or a fallen-over server; backends the app did not offer are never loaded.
"""

from __future__ import annotations

import re
import socket

import pytest
from click.testing import CliRunner

from fakes import PAPERS, FakeEncoder, daily_dump, free_port
from rag.corpus import CorpusReader
from rag.ingest import ingest
from rag.pipeline import Pipeline
from rag.settings import Settings

gradio_client = pytest.importorskip("gradio_client")
httpx = pytest.importorskip("httpx")
from ui.app import EMPTY_PANEL, ChatApp  # noqa: E402  (needs gradio)
from ui.workers import available_backends  # noqa: E402

PRUNE_Q = "which method prunes tokens without fine-tuning?"
PRUNE_TITLE = PAPERS[0][0]
LOGIN = ("ann", "s3cret")
TOO_LONG = "⚠️ question is {n:,} characters, the limit is 2,000: shorten it (or raise RAG_MAX_QUESTION_CHARS)"
EMPTY = '⚠️ empty question: type a question, e.g. ask "which methods prune tokens without fine-tuning?"'
AUTH_ERROR = "error: --auth / RAG_UI_AUTH must be USER:PASSWORD, e.g. --auth ann:s3cret"
SPECS_MADE: list[str] = []  # every backend spec the app built a pipeline for


# -- serving ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def encoder():
    return FakeEncoder()


@pytest.fixture(scope="module")
def settings(tmp_path_factory, encoder):
    folder = tmp_path_factory.mktemp("exposure")
    corpus = folder / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(daily_dump(PAPERS[:3], "blank"))
    (corpus / "b.txt").write_text(daily_dump(PAPERS[1:], "consecutive", date="Apr 17"))
    settings = Settings.build(env={}, corpus=[corpus], index_dir=folder / "index")
    ingest(settings, CorpusReader(settings.corpus), progress=False, encoder=encoder)
    return settings


def start(settings, encoder, auth=None) -> tuple[ChatApp, str]:
    def make_pipeline(spec):
        SPECS_MADE.append(spec)
        return Pipeline(settings.model_copy(update={"llm": spec}), encoder=encoder, progress=False)

    app = ChatApp(settings, make_pipeline=make_pipeline)
    return app, app.launch(port=free_port(), block=False, auth=auth)


@pytest.fixture(scope="module")
def served(settings, encoder):
    app, url = start(settings, encoder)
    yield app, url
    app.close()


@pytest.fixture(scope="module")
def locked(settings, encoder):
    """The same app behind a login."""
    app, url = start(settings, encoder, auth=LOGIN)
    yield app, url
    app.close()


@pytest.fixture
def client(served):
    return gradio_client.Client(served[1], verbose=False)


def ask(client, question, *args):
    return client.predict(question, *args, api_name="/ask")


def chat(client, question, llm="extractive", k=5, sources=(), has_code=False):
    return client.predict(question, llm, k, list(sources), has_code, api_name="/chat")


def assert_answers(client) -> None:
    """The server still answers a normal question, with its citation."""
    result = ask(client, PRUNE_Q)
    assert "error" not in result and result["citations"][0]["title"] == PRUNE_TITLE


def assert_valid_citations(result: dict) -> None:
    by_rank = {s["rank"]: s for s in result["sources"]}
    markers = {int(m) for m in re.findall(r"\[(\d+)\]", result["answer"])}
    assert markers == {c["marker"] for c in result["citations"]}
    for citation in result["citations"]:
        assert by_rank[citation["marker"]]["paper_id"] == citation["paper_id"]
        assert by_rank[citation["marker"]]["title"] == citation["title"]


def machine_address() -> str | None:
    """This machine's address on its network (not loopback), if it has one."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("10.255.255.255", 9))  # UDP: picks the outgoing interface, sends nothing
            address = probe.getsockname()[0]
    except OSError:
        return None
    return None if address.startswith("127.") or address == "0.0.0.0" else address


# -- where it listens -------------------------------------------------------------------
def test_serves_on_loopback_only(served):
    app, url = served
    assert url.startswith("http://127.0.0.1:") and app.blocks.server_name == "127.0.0.1"
    port = int(url.rstrip("/").rsplit(":", 1)[1])
    address = machine_address()
    if address is not None:  # the same port on the machine's other address: nobody there
        with pytest.raises(OSError):
            socket.create_connection((address, port), timeout=5).close()
    assert httpx.get(url, timeout=10).status_code == 200  # while loopback answers


def test_rag_ui_defaults_to_loopback(monkeypatch):
    from rag.cli import rag_group

    assert "[default: 127.0.0.1]" in CliRunner().invoke(rag_group, ["ui", "--help"]).output
    launched = {}
    monkeypatch.setattr(ChatApp, "__init__", lambda self, settings, make_pipeline=None: None)
    monkeypatch.setattr(ChatApp, "launch", lambda self, **kw: launched.update(kw))
    result = CliRunner().invoke(rag_group, ["ui"])
    assert result.exit_code == 0, result.output
    assert launched["host"] == "127.0.0.1" and launched["share"] is False and launched["auth"] is None
    assert result.stderr == ""  # nothing to warn about


@pytest.mark.parametrize("args, warning", [
    (["--host", "0.0.0.0"], "warning: serving on 0.0.0.0 without --auth: anyone who can reach it can use it"),
    (["--host", "::"], "warning: serving on :: without --auth: anyone who can reach it can use it"),
    (["--share"], "warning: --share without --auth: anyone who has the public link can use it"),
    (["--host", "0.0.0.0", "--share", "--auth", "ann:s3cret"], None),
    (["--host", "localhost"], None),
])
def test_serving_beyond_this_machine_without_a_login_warns(monkeypatch, args, warning):
    from rag.cli import rag_group

    launched = {}
    monkeypatch.setattr(ChatApp, "__init__", lambda self, settings, make_pipeline=None: None)
    monkeypatch.setattr(ChatApp, "launch", lambda self, **kw: launched.update(kw))  # binds nothing
    result = CliRunner().invoke(rag_group, ["ui", *args])
    assert result.exit_code == 0, result.output
    assert launched["host"] == (args[args.index("--host") + 1] if "--host" in args else "127.0.0.1")
    assert result.stderr.splitlines() == ([warning] if warning else [])


@pytest.mark.parametrize("value", ["nocolon", ":pw", "user:", ":"])
@pytest.mark.parametrize("via", ["flag", "env"])
def test_bad_auth_is_one_line_and_exit_2_before_anything_loads(monkeypatch, value, via):
    from rag.cli import rag_group

    monkeypatch.setattr(ChatApp, "__init__", lambda *a, **kw: pytest.fail("the app was built"))
    args, env = (["ui", "--auth", value], {}) if via == "flag" else (["ui"], {"RAG_UI_AUTH": value})
    result = CliRunner().invoke(rag_group, args, env=env)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [AUTH_ERROR] and result.stdout == ""


# -- the login --------------------------------------------------------------------------
@pytest.mark.parametrize("method, path, body", [
    ("GET", "config", None),
    ("GET", "gradio_api/info", None),
    ("GET", "gradio_api/openapi.json", None),
    ("POST", "gradio_api/call/ask", {"data": [PRUNE_Q]}),
    ("POST", "gradio_api/call/chat", {"data": [PRUNE_Q, "extractive", 5, [], False]}),
    ("POST", "gradio_api/run/ask", {"data": [PRUNE_Q]}),
    ("POST", "gradio_api/queue/join", {"data": [PRUNE_Q], "fn_index": 0, "session_hash": "x1"}),
    ("POST", "gradio_api/upload", None),
])
def test_without_login_the_api_answers_nothing(locked, method, path, body):
    response = httpx.request(method, locked[1] + path, json=body, timeout=10)
    assert response.status_code == 401
    assert response.json() == {"detail": {"error": "Not authenticated", "auth_message": None}}


def test_login_page_shows_nothing_until_logged_in(locked):
    url = locked[1]
    page = httpx.get(url, timeout=10)
    assert page.status_code == 200 and PRUNE_TITLE not in page.text and "Cited answers from" not in page.text
    with httpx.Client(timeout=10) as browser:
        assert browser.post(url + "login", data={"username": "ann", "password": "wrong"}).status_code == 400
        assert browser.get(url + "config").status_code == 401
        assert browser.post(url + "login", data=dict(zip(("username", "password"), LOGIN))).json() == {"success": True}
        config = browser.get(url + "config").text  # the page itself, now that it may be seen
        assert PRUNE_TITLE in config and "Cited answers from" in config
    with pytest.raises(ValueError, match="Could not login"):
        gradio_client.Client(url, auth=("ann", "wrong"), verbose=False)
    result = gradio_client.Client(url, auth=LOGIN, verbose=False).predict(PRUNE_Q, api_name="/ask")
    assert result["citations"][0]["title"] == PRUNE_TITLE


# -- what /ask and /chat do with bad input ----------------------------------------------
@pytest.mark.parametrize("question", ["", "   \n\t  ", "\x00\x1b\x07\u200b"], ids=["empty", "whitespace", "controls"])
def test_empty_question_is_refused(client, question):
    assert ask(client, question) == {"error": EMPTY}
    assert chat(client, question) == (EMPTY, EMPTY_PANEL)


def test_ten_megabyte_question_is_refused_naming_the_limit(client):
    huge = "pruning " * 1_250_000  # 10,000,000 characters
    assert ask(client, huge) == {"error": TOO_LONG.format(n=len(huge))}
    assert_answers(client)


def test_chat_with_an_over_long_question_is_a_message(client):
    for question in ("x" * 2001, "pruning " * 1_250_000):
        assert chat(client, question) == (TOO_LONG.format(n=len(question)), EMPTY_PANEL)
    message, panel = chat(client, PRUNE_Q)  # the chat goes on
    assert "[[1]](#a3-s1)" in message and PRUNE_TITLE in panel  # answer 3 of this chat


@pytest.mark.parametrize("question", [
    "which method prunes\x00 tokens\x1b[31m without\x07 fine-tuning?\u202e\r",
    "哪种方法 prunes tokens without fine-tuning? ما هي الطريقة 🤖🔥",
    "\u202eenihcam\u202c 🧪 " * 40,
    "<script>alert(1)</script> token pruning [1][2] {question} %s",
], ids=["controls", "mixed-scripts", "rtl-emoji", "markup"])
def test_odd_characters_get_a_safe_answer(client, question):
    result = ask(client, question)
    assert "error" not in result and isinstance(result["abstained"], bool)
    assert not any(ch in result["question"] for ch in "\x00\x1b\x07\u202e\u202c\r")  # controls are spaces
    assert_valid_citations(result)
    if result["abstained"]:
        assert result["citations"] == [] and "corpus does not cover" in result["answer"]
    else:
        assert result["citations"]
    message, panel = chat(client, question)
    assert not message.startswith("⚠️") and "<script>" not in panel


def test_control_characters_do_not_change_the_answer(client):
    noisy = ask(client, "which method\x00 prunes tokens\x07 without\t fine-tuning?\u202e")
    assert noisy["question"] == PRUNE_Q and noisy["citations"][0]["title"] == PRUNE_TITLE


@pytest.mark.parametrize("k", [0, -1, 100_000, "abc", 2.5, "", [3]])
def test_k_outside_1_to_200_or_not_a_whole_number_is_refused(client, k):
    assert ask(client, PRUNE_Q, [], "extractive", k) == {"error": f"⚠️ k must be a whole number from 1 to 200, not {k!r}"}


@pytest.mark.parametrize("k", [2, 2.0, "2", " 2 "])
def test_k_sent_as_a_float_or_text_is_read_as_a_number(client, k):
    assert len(ask(client, PRUNE_Q, [], "extractive", k)["sources"]) == 2


def test_k_outside_the_slider_is_refused_by_the_chat(client):
    with pytest.raises(gradio_client.exceptions.AppError, match="Value -1 is less than minimum value 1"):
        chat(client, PRUNE_Q, k=-1)
    with pytest.raises(gradio_client.exceptions.AppError, match="Value 100000 is greater than maximum value 20"):
        chat(client, PRUNE_Q, k=100_000)
    assert_answers(client)


def test_unknown_backend_names_the_choices(client):
    choices = ", ".join(available_backends("extractive"))
    assert ask(client, PRUNE_Q, [], "nope") == {"error": f"⚠️ unknown backend 'nope': choose one of {choices}"}


@pytest.mark.parametrize("spec", ["gguf:/etc/passwd", "gguf:../../index/catalog.sqlite", "openai:x",
                                  "ollama:llama3", "openai:http://169.254.169.254/latest"])
def test_backends_not_offered_are_refused_and_never_loaded(client, spec):
    choices = ", ".join(available_backends("extractive"))
    SPECS_MADE.clear()
    assert ask(client, PRUNE_Q, [], spec) == {"error": f"⚠️ unknown backend {spec!r}: choose one of {choices}"}
    with pytest.raises(gradio_client.exceptions.AppError, match="not in the list of choices"):
        chat(client, PRUNE_Q, llm=spec)
    assert SPECS_MADE == []  # no pipeline (so no model file, no URL) for it


@pytest.mark.parametrize("args, error", [
    ((None,), "question must be a string, not null"),
    ((42,), "question must be a string, not 42"),
    ((["a", "b"],), 'question must be a string, not ["a", "b"]'),
    ((PRUNE_Q, "notalist"), 'history must be a list of strings, not "notalist"'),
    ((PRUNE_Q, [{"role": "user"}]), 'history must be a list of strings, not [{"role": "user"}]'),
    ((PRUNE_Q, [], "extractive", 5, "a.txt"), 'sources must be a list of strings, not "a.txt"'),
    ((PRUNE_Q, [], "extractive", 5, [], False, "p1"), 'working_set must be a list of strings, not "p1"'),
])
def test_malformed_arguments_get_an_error_not_a_crash(client, args, error):
    assert ask(client, *args) == {"error": f"⚠️ {error}"}
    assert_answers(client)


def test_chat_with_sources_not_a_list_is_a_message(client):
    result = client.predict(PRUNE_Q, "extractive", 5, "a.txt", False, api_name="/chat")
    assert tuple(result) == ('⚠️ sources must be a list of strings, not "a.txt"', EMPTY_PANEL)
