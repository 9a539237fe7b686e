"""The Gradio app through its API (gradio_client), served in-process on 127.0.0.1 with a
small index built by the fake encoder: answers with citations and sources, streaming,
follow-ups, the working set (chat and API), abstention, refused questions, backend errors,
login, and the `rag ui` flags."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from fakes import PAPERS, FakeBackend, FakeEncoder, daily_dump, free_port
from rag.corpus import CorpusReader
from rag.errors import BackendUnavailable
from rag.ingest import ingest
from rag.pipeline import REBUILD, Pipeline
from rag.settings import Settings

gradio_client = pytest.importorskip("gradio_client")
from ui import render  # noqa: E402
from ui.app import ChatApp, earlier_questions  # noqa: E402  (needs gradio)

PRUNE_Q = "which method prunes tokens without fine-tuning?"
PRUNE_TITLE = PAPERS[0][0]
SPEECH_TITLE = PAPERS[2][0]
SPEECH_Q = "which of them enhance noisy speech recordings?"
KEY = "sk-test-0123456789abcdef"


class RecordingPipeline(Pipeline):
    """The real pipeline, remembering what each question was asked with."""

    calls: list[dict] = []

    def stream(self, question, history=(), k=None, filters=None, working_set=REBUILD):
        self.calls.append({"question": question, "history": list(history), "k": k, "filters": filters,
                           "working_set": working_set})
        yield from super().stream(question, history, k, filters, working_set)


class DownBackend(FakeBackend):
    """An LLM server that cannot be reached (and whose error would leak the key)."""

    def stream(self, messages):
        raise BackendUnavailable(f"openai:tiny cannot be reached at http://127.0.0.1:9 with key {KEY}: start the server")


def make_settings(folder, fake_encoder) -> Settings:
    """conftest's small corpus (a.txt, b.txt), indexed by the fake encoder."""
    corpus = folder / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(daily_dump(PAPERS[:3], "blank"))
    (corpus / "b.txt").write_text(daily_dump(PAPERS[1:], "consecutive", date="Apr 17"))
    settings = Settings.build(env={}, corpus=[corpus], index_dir=folder / "index", openai_api_key=KEY)
    ingest(settings, CorpusReader(settings.corpus), progress=False, encoder=fake_encoder)
    return settings


def start(settings, fake_encoder, backend=None, auth=None) -> tuple[ChatApp, str]:
    """Serve the app on a free loopback port; `backend` answers for every spec but extractive."""
    def make_pipeline(spec):
        kwargs = {"backend": backend} if backend is not None and spec != "extractive" else {}
        return RecordingPipeline(settings.model_copy(update={"llm": spec}), encoder=fake_encoder, progress=False, **kwargs)

    app = ChatApp(settings, make_pipeline=make_pipeline)
    return app, app.launch(port=free_port(), block=False, auth=auth)


@pytest.fixture(scope="module")
def encoder():
    return FakeEncoder()


@pytest.fixture(scope="module")
def settings(tmp_path_factory, encoder):
    return make_settings(tmp_path_factory.mktemp("ui"), encoder)


@pytest.fixture(scope="module")
def served(settings, encoder):
    """One app for the tests that only ask questions (each gets its own client: its own chat)."""
    app, url = start(settings, encoder)
    yield app, url
    app.close()


@pytest.fixture
def client(served):
    RecordingPipeline.calls = []
    return gradio_client.Client(served[1], verbose=False)


@pytest.fixture
def serve(encoder):
    """serve(settings, backend=None, auth=None) -> (app, url) for tests that need their own app."""
    apps = []

    def serve(settings, backend=None, auth=None):
        apps.append(start(settings, encoder, backend, auth))
        return apps[-1]

    yield serve
    for app, _ in apps:
        app.close()


def test_answer_with_citations_and_sources(client):
    result = client.predict(PRUNE_Q, api_name="/ask")
    assert not result["abstained"] and "error" not in result
    assert "[1]" in result["answer"] and "[[1]](#source-1)" in result["answer_markdown"]
    assert result["citations"][0] == {"marker": 1, "paper_id": result["sources"][0]["paper_id"], "title": PRUNE_TITLE}
    first = result["sources"][0]
    assert first["rank"] == 1 and first["title"] == PRUNE_TITLE and first["code_url"] == "https://github.com/x/prune"
    assert first["highlights"] and first["highlights"][0] in PAPERS[0][1]  # the quoted sentence, verbatim
    assert first["support"] == first["dense_score"]  # extractive answers have no checker score


def test_chat_streams_linked_citations_and_the_sources_panel(client):
    job = client.submit(PRUNE_Q, "extractive", 3, [], False, api_name="/chat")
    message, panel = job.result()
    assert len(job.outputs()) >= 3  # "reading…", each quoted line, the final answer
    # the chat's first answer (answer 1): its citations link to its own sources, a1-s<n>
    assert message.startswith("Zero-Shot Token Pruning") and "[[1]](#a1-s1)" in message
    assert 'id="a1-s1"' in panel and PRUNE_TITLE in panel and "<mark>" in panel
    assert panel.count('id="a1-s') == 3  # k=3 papers
    assert 'href="https://github.com/x/prune"' in panel


def test_follow_up_gets_the_earlier_questions_and_filters_apply(client):
    client.predict(PRUNE_Q, "extractive", 5, [], False, api_name="/chat")
    client.predict("does it need any training?", "extractive", 4, ["b.txt"], True, api_name="/chat")
    first, follow_up = RecordingPipeline.calls
    assert first["history"] == [] and follow_up["history"] == [PRUNE_Q]
    assert follow_up["k"] == 4 and follow_up["filters"].sources == ("b.txt",) and follow_up["filters"].has_code
    result = client.predict("any training needed?", [PRUNE_Q], api_name="/ask")
    assert result["retrieval_query"] == f"{PRUNE_Q} any training needed?"
    # "does it…" asks about the paper just answered: answered over it, not searched again
    result = client.predict("does it need any training?", [PRUNE_Q], api_name="/ask")
    assert result["working_set"] and result.get("retrieval_query") is None


def test_the_chat_asks_each_follow_up_over_its_working_set(served, client):
    client.predict(PRUNE_Q, "extractive", 5, [], False, api_name="/chat")
    message, panel = client.predict("which of them link code?", "extractive", 5, [], False, api_name="/chat")
    first, follow_up = RecordingPipeline.calls
    assert first["working_set"] is None  # a new chat has no set: nothing is rebuilt from the history
    prune_id = follow_up["working_set"][0]
    assert follow_up["working_set"] == [prune_id]  # the set after answer 1, passed explicitly
    assert message.startswith("Of the 1 paper above, 1 links code:") and "[[1]](#a2-s1)" in message
    # a list answer also shows its matches as a table, each paper linked to this answer's source
    table = message[message.index('<table class="matches-table">'):]
    assert '<a href="#a2-s1" title="Zero-Shot Token Pruning for Vision Transformers">' in table
    assert '<a href="https://github.com/x/prune" target="_blank" rel="noopener">code</a>' in table
    # the panel keeps answer 1's sources (hidden) beside answer 2's (shown)
    assert '<div class="answer-sources" id="answer-1" hidden>' in panel and 'id="a1-s1"' in panel
    assert '<div class="answer-sources" id="answer-2">' in panel and 'id="a2-s1"' in panel
    # the downloads: the answer as Markdown, the papers in play as CSV and BibTeX, in the chat's folder
    folder = next(md.parent for md in served[0].export_root.glob("chat-*/answer.md")
                  if md.read_text().startswith("# which of them link code?"))
    assert prune_id in (folder / "working-set.csv").read_text().splitlines()[1]
    assert (folder / "working-set.bib").read_text().startswith("@misc{")


def test_an_api_chain_is_answered_over_the_working_set_it_sends(client):
    first = client.predict(PRUNE_Q, api_name="/ask")
    assert first["working_set"] is None and first["next_working_set"] == [first["citations"][0]["paper_id"]]
    everyone = [s["paper_id"] for s in first["sources"]]  # the 4 papers of the index
    speech = next(s["paper_id"] for s in first["sources"] if s["title"] == SPEECH_TITLE)
    others = [pid for pid in everyone if pid != speech]

    # a filter over a set without the speech paper finds none, though the index has one
    result = client.predict(SPEECH_Q, [PRUNE_Q], "extractive", 5, [], False, others, api_name="/ask")
    assert result["answer"] == 'None of the 3 papers above match "enhance noisy speech recordings".'
    assert [s["paper_id"] for s in result["sources"]] == others and result["citations"] == []
    assert result["working_set"] == others and result["next_working_set"] == others  # named none: kept

    result = client.predict(SPEECH_Q, [PRUNE_Q], "extractive", 5, [], False, everyone, api_name="/ask")
    assert result["answer"].startswith('Of the 4 papers above, 1 matches "enhance noisy speech recordings":')
    assert result["working_set"] == everyone and result["next_working_set"] == [speech]
    result = client.predict("which of them link code?", [PRUNE_Q, SPEECH_Q], "extractive", 5, [], False,
                            result["next_working_set"], api_name="/ask")
    assert result["answer"] == "The paper above does not link code." and result["next_working_set"] == [speech]

    # without a working_set the history is answered again to rebuild it, as before
    rebuilt = client.predict("which of them link code?", [PRUNE_Q], api_name="/ask")
    assert rebuilt["working_set"] == first["next_working_set"] == rebuilt["next_working_set"]
    assert rebuilt["answer"].startswith("Of the 1 paper above, 1 links code:")


@pytest.mark.parametrize("working_set, shown", [("p1", '"p1"'), ([1, 2], "[1, 2]"), ({"id": "p1"}, '{"id": "p1"}')])
def test_a_working_set_not_a_list_of_strings_is_refused(client, working_set, shown):
    result = client.predict(SPEECH_Q, [PRUNE_Q], "extractive", 5, [], False, working_set, api_name="/ask")
    assert result == {"error": f"⚠️ working_set must be a list of strings, not {shown}"}


def test_the_matches_table_and_the_set_line_escape_the_papers_text():
    row = {"rank": 2, "name": "<b>X</b>", "title": 'A "title" <script>', "sentence": "a < b & <img src=x onerror=1>",
           "code": "javascript:alert(1)", "year": 2023}
    table = render.matches_table_html([row, {**row, "rank": None, "code": "https://github.com/x/y"}], answer_id=7)
    assert "<script>" not in table and "<img" not in table and "<b>" not in table and "javascript:" not in table
    assert '<a href="#a7-s2" title="A &quot;title&quot; &lt;script&gt;">&lt;b&gt;X&lt;/b&gt;</a>' in table
    assert "<td>a &lt; b &amp; &lt;img src=x onerror=1&gt;</td>" in table and "<td>2023</td>" in table
    assert "\n" not in table  # one line: one HTML block in the message's Markdown
    line = render.working_set_html(["<i>A</i>", "B", "C", "D", "E", "F", "G"], 9)
    assert line.startswith('<div class="working-set"><strong>9 papers in play</strong>: &lt;i&gt;A&lt;/i&gt;, B,')
    assert "F and 3 more" in line and render.working_set_html([], 0) == ""


def test_earlier_questions_skip_answers_and_refused_questions():
    history = [{"role": "user", "content": "first?"}, {"role": "assistant", "content": "an answer [1]"},
               {"role": "user", "content": "x" * 50}, {"role": "user", "content": [{"type": "text", "text": "third?"}]}]
    assert earlier_questions(history, max_chars=20) == ["first?", "third?"]


def test_abstention_is_the_answer_not_an_error(client):
    result = client.predict("sourdough hydration and bulk fermentation", api_name="/ask")
    assert result["abstained"] and "corpus does not cover" in result["answer"] and result["citations"] == []
    message, panel = client.predict("sourdough hydration and bulk fermentation", "extractive", 5, [], False,
                                    api_name="/chat")
    assert message.startswith("The corpus does not cover this") and "⚠️" not in message
    assert "none of them answers" in panel


def test_too_long_question_is_a_message_and_the_app_keeps_answering(client):
    message, _ = client.predict("x" * 2500, "extractive", 5, [], False, api_name="/chat")
    assert message.startswith("⚠️ question is 2,500 characters, the limit is 2,000")
    assert "error" in client.predict("x" * 2500, api_name="/ask")
    message, _ = client.predict(PRUNE_Q, "extractive", 5, [], False, api_name="/chat")
    assert "[[1]](#a2-s1)" in message  # the chat's second answer (the refusal was answer 1)


def test_unknown_backend_is_refused(client):
    assert "unknown backend 'gguf:/etc/passwd'" in client.predict(PRUNE_Q, [], "gguf:/etc/passwd", api_name="/ask")["error"]


def test_backend_error_is_a_chat_message_without_the_key(serve, settings):
    settings = settings.model_copy(update={"llm": "openai:tiny"})
    app, url = serve(settings, backend=DownBackend())
    client = gradio_client.Client(url, verbose=False)
    message, _ = client.predict(PRUNE_Q, "openai:tiny", 5, [], False, api_name="/chat")
    assert message.startswith("⚠️ The answer backend is not available: openai:tiny cannot be reached")
    assert KEY not in message and "***" in message
    assert KEY not in str(client.predict(PRUNE_Q, api_name="/ask"))
    message, _ = client.predict(PRUNE_Q, "extractive", 5, [], False, api_name="/chat")  # still serving
    assert "[[1]](#a2-s1)" in message


def test_login_required_when_auth_is_set(serve, settings):
    import httpx

    app, url = serve(settings, auth=("ann", "s3cret"))
    assert httpx.post(url + "gradio_api/call/ask", json={"data": [PRUNE_Q]}).status_code == 401
    with pytest.raises(gradio_client.exceptions.AuthenticationError):
        gradio_client.Client(url, verbose=False)
    client = gradio_client.Client(url, auth=("ann", "s3cret"), verbose=False)
    assert client.predict(PRUNE_Q, api_name="/ask")["citations"]


def test_binds_to_loopback_only(served):
    app, url = served
    assert url.startswith("http://127.0.0.1:") and app.blocks.server_name == "127.0.0.1"


def test_rag_ui_flags_and_defaults(monkeypatch):
    from rag.cli import guarded
    from ui.cli import build_ui_command

    launched = {}
    monkeypatch.setattr(ChatApp, "__init__", lambda self, s, make_pipeline=None: launched.update(settings=s))
    monkeypatch.setattr(ChatApp, "launch", lambda self, **kw: launched.update(kw))
    command = build_ui_command(guarded)
    assert command.name == "ui"
    result = CliRunner().invoke(command, ["--k", "3"], env={"RAG_UI_AUTH": "ann:pa:ss"})
    assert result.exit_code == 0, result.output
    assert launched["host"] == "127.0.0.1" and launched["port"] == 7860 and launched["share"] is False
    assert launched["auth"] == ("ann", "pa:ss") and launched["settings"].k == 3
    result = CliRunner().invoke(command, ["--auth", "nopassword"])
    assert result.exit_code == 2 and "USER:PASSWORD" in result.output


def test_rag_ui_without_gradio_says_how_to_install_it(monkeypatch):
    import sys

    from rag.cli import rag_group

    monkeypatch.setitem(sys.modules, "gradio", None)  # import gradio -> ModuleNotFoundError
    monkeypatch.delitem(sys.modules, "ui.app")
    result = CliRunner().invoke(rag_group, ["ui"], env={"RAG_INDEX_DIR": "/nonexistent"})
    assert result.exit_code == 2
    assert result.output.strip() == ("error: the chat needs Gradio, which is not installed: run `make setup-ui` "
                                     "(or pip install -e '.[ui]')")


def test_thanks_in_the_chat_is_answered_without_sources_and_keeps_the_papers_in_play(served, client):
    """"thanks!" had been searched and answered from a paper that says "thanks to"; in the chat it
    is answered from the index, its panel says nothing was searched, and the set stays."""
    client.predict(PRUNE_Q, "extractive", 5, [], False, api_name="/chat")
    message, panel = client.predict("thanks!", "extractive", 5, [], False, api_name="/chat")
    assert message.startswith("Ask me anything about the 4 papers of this corpus") and "Nothing was searched" in panel
    message, _ = client.predict("which of them link code?", "extractive", 5, [], False, api_name="/chat")
    assert message.startswith("Of the 1 paper above, 1 links code:")
    result = client.predict("How many papers are in the corpus?", api_name="/ask")
    assert result["answer"] == "The corpus holds 4 papers from 2 corpus files." and result["shape"] == "about"
