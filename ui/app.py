"""The Gradio app: a chat over the paper index, its sources panel, and a corpus tab.

`ChatApp(settings, make_pipeline=...)` builds the Blocks; `launch()` serves them on
127.0.0.1 unless told otherwise. Answers stream in from `Pipeline.stream` run by the
worker threads of ui/workers.py (one pipeline per backend spec, never shared between
threads); ui/render.py turns the events into Markdown and HTML. Earlier questions of the
chat are passed as `history`, as `ask --history` does, and the chat's working set (the papers
earlier answers named, kept per session by ui/session.py) as `working_set`, so a follow-up
such as "which of them…" is answered over it. Errors a user can cause or fix (`RagError`)
become a line in the chat and the app keeps serving. Two API endpoints: `/chat` (the chat
itself, streamed) and `/ask` (one question -> JSON with answer, citations, sources and the
next working set). Tests inject `make_pipeline` to run it on a fake encoder or LLM.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no calls home, before gradio loads

import gradio as gr  # noqa: E402

from rag.errors import RagError, UsageError  # noqa: E402
from rag.pipeline import REBUILD, Pipeline, clean_question  # noqa: E402
from rag.retrieve import Filters  # noqa: E402
from rag.settings import Settings  # noqa: E402
from ui import render  # noqa: E402
from ui import session as chat_session  # noqa: E402
from ui.workers import PipelinePool, available_backends  # noqa: E402

log = logging.getLogger(__name__)

# Questions wait in Gradio's queue (and see their position) rather than pile up in threads:
# the pipelines answer one question at a time each and the machine has 2 cores.
CONCURRENCY = 2
QUEUE_SIZE = 64
EMPTY_PANEL = render.EMPTY_PANEL
EXAMPLES = ["which methods prune tokens without fine-tuning?", "is there a benchmark for long-term object tracking?"]
CSS = """
.sources h3 { margin: 0 0 .5rem 0; }
.source { border: 1px solid var(--border-color-primary); border-radius: 8px; padding: .6rem .8rem; margin-bottom: .6rem; }
.source.cited { border-left: 4px solid var(--color-accent); }
.source:target { box-shadow: 0 0 0 2px var(--color-accent); }
.source-title { font-weight: 600; }
.source-meta { font-size: .85em; color: var(--body-text-color-subdued); margin: .2rem 0 .4rem; }
.source-snippet { font-size: .9em; line-height: 1.45; }
.source-snippet mark { background: #fff1a8; color: inherit; padding: 0 .1em; }
.sources-empty { color: var(--body-text-color-subdued); padding: 1rem 0; }
.answer-sources[hidden] { display: none; }
.earlier-note { font-size: .85em; background: var(--background-fill-secondary); border-radius: 6px; padding: .3rem .6rem; margin-bottom: .5rem; }
.source.picked { box-shadow: 0 0 0 2px var(--color-accent); }
.matches-table { font-size: .85em; border-collapse: collapse; margin-top: .6rem; }
.matches-table th, .matches-table td { border: 1px solid var(--border-color-primary); padding: .25rem .45rem; vertical-align: top; text-align: left; }
.matches-table td:first-child { min-width: 7.5em; }
.matches-table .rank { color: var(--body-text-color-subdued); }
.working-set { font-size: .9em; padding: .2rem 0; }
.working-set-hint { color: var(--body-text-color-subdued); }
"""
# Citation links point at a source in the panel (#a<answer>-s<n>; the API's #source-n): scroll
# there instead of opening a tab. A source of an earlier answer is in that answer's hidden
# section of the panel, which is shown instead of the latest's (#answer-<id> shows a section).
JS_HEAD = """<script>
document.addEventListener("click", (event) => {
  const link = event.target.closest && event.target.closest('a[href^="#"]');
  const hash = link && link.getAttribute("href");
  if (!hash || !/^#(source-\\d+|a\\d+-s\\d+|answer-\\d+)$/.test(hash)) return;
  const target = document.getElementById(hash.slice(1));
  if (!target) return;
  event.preventDefault(); event.stopPropagation();
  const section = target.closest(".answer-sources");
  if (section) section.parentElement.querySelectorAll(":scope > .answer-sources").forEach(s => { s.hidden = s !== section; });
  document.querySelectorAll(".source.picked").forEach(s => s.classList.remove("picked"));
  if (target.classList.contains("source")) target.classList.add("picked");
  target.scrollIntoView({behavior: "smooth", block: "center"});
  history.replaceState(null, "", hash);
}, true);
</script>"""


def earlier_questions(history: list[dict], max_chars: int) -> list[str]:
    """The user's questions so far in this chat (messages in OpenAI style), minus the ones
    that were refused: a follow-up must not fail because an earlier question was too long."""
    questions = []
    for message in history:
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, list):  # multimodal form: [{"type": "text", "text": ...}, ...]
            content = " ".join(part.get("text", "") for part in content if isinstance(part, dict))
        try:
            questions.append(clean_question(content if isinstance(content, str) else "", max_chars))
        except UsageError:
            continue
    return questions


def string_list(value: Any, name: str) -> list[str]:
    """An API argument that must be a list of strings (None: empty)."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise UsageError(f"{name} must be a list of strings, not {shown(value)}")
    return value


def shown(value: Any) -> str:
    """A value an API client sent, as JSON, cut short: for error messages."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:60] + "…"


def whole_number(value: Any) -> Any:
    """k as an API client may send it, 5, 5.0 or "5", as an int; anything else unchanged, for
    the pipeline to refuse in words (a ValueError here would only say "something went wrong")."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("+-").isdigit():
        return int(value)
    return value


def corpus_facts(pipeline: Pipeline) -> dict[str, Any]:
    """Runs in a worker thread at start-up: what the corpus tab and the filters need from the
    index. One search first loads the query encoder, off the first question's clock."""
    pipeline.retriever().search(EXAMPLES[0], k=1)
    papers = sorted(pipeline.index.catalog.iter_papers(), key=lambda p: p.title.lower())
    return {"stats": pipeline.index.stats(),
            "titles": [[p.title, ", ".join(p.sources), p.code_url or ""] for p in papers]}


def corpus_markdown(stats: dict[str, Any]) -> str:
    built = stats.get("built_at") or "?"
    updated = stats.get("updated_at")
    return (f"**{stats['papers']} papers** ({stats['chunks']} chunks) from {len(stats['corpus_files'])} corpus files  \n"
            f"Index built {built}" + (f", last updated {updated}" if updated and updated != built else "") + "  \n"
            f"Embedding model: `{stats.get('embed_model')}` ({stats.get('embed_dim')} dimensions) · "
            f"keyword search: {stats.get('bm25')} · vector store: {stats.get('vector_store')}")


def session_controls(session: dict) -> tuple:
    """What the chat shows of its session: the papers in play and their clear button, and the
    downloads (the answer as Markdown; the papers in play as CSV and BibTeX)."""
    turns = session["turns"] if session else []
    ids, names = (turns[-1]["set"] or [], turns[-1]["names"]) if turns else ([], [])
    files = session["files"] if session else {}
    return (render.working_set_html(names, len(ids)), gr.update(visible=bool(ids)),
            *(gr.update(value=files.get(key), visible=key in files) for key in chat_session.EXPORTS))


class ChatApp:
    def __init__(self, settings: Settings, make_pipeline: Callable[[str], Pipeline] | None = None,
                 threads_per_backend: int = 1):
        self.settings = settings
        self.backends = available_backends(settings.llm)
        self.pool = PipelinePool(make_pipeline or self.default_pipeline, threads_per_backend)
        # Opens (or, on a fresh clone, builds) the index and loads the query encoder now, so
        # the first question is as quick as the others.
        self.corpus = self.pool.workers(settings.llm).call(corpus_facts)
        self.export_root = Path(tempfile.mkdtemp(prefix="paper-qa-exports-"))  # a folder per chat inside
        atexit.register(shutil.rmtree, self.export_root, True)  # `rag ui` stopped by Ctrl+C never calls close()
        self.blocks = self.build()

    def default_pipeline(self, spec: str) -> Pipeline:
        return Pipeline(self.settings.model_copy(update={"llm": spec}), progress=False)

    def workers_for(self, spec: str):
        if spec not in self.backends:
            raise UsageError(f"unknown backend {spec!r}: choose one of {', '.join(self.backends)}")
        return self.pool.workers(spec)

    # -- answering ----------------------------------------------------------------------
    def respond(self, message: str, history: list[dict], llm: str, k: float, sources: list[str] | None,
                has_code: bool, session: dict | None):
        """ChatInterface's function: yields (chat message, sources panel, session) as the answer
        grows. The question is asked over the session's working set; the final answer adds its
        table of matches (list answers) and updates the set and the exports."""
        session = chat_session.begin_turn(session, history)
        answer_id, previous = session["turns"][-1]["id"], chat_session.current_set(session)
        kept = chat_session.panels(session)
        text, current = "", None
        try:
            workers = self.workers_for(llm)
            earlier = earlier_questions(history, self.settings.max_question_chars)
            filters = Filters(sources=tuple(string_list(sources, "sources")), has_code=True if has_code else None)

            def job(p: Pipeline):
                events = p.stream(message, history=earlier, k=int(k), filters=filters, working_set=previous)
                return chat_session.with_extras(events, previous, p.index.catalog.papers)

            for event in workers.run(job):
                if event["type"] == "sources":
                    current = render.sources_html(event["hits"], answer_id=answer_id)
                    yield f"*Reading {len(event['hits'])} papers…*", render.answers_panel(kept, answer_id, current), session
                elif event["type"] == "sentence":
                    text += event["text"] + event["end"]
                    yield render.link_citations(text, answer_id), render.answers_panel(kept, answer_id, current), session
                else:
                    answer, extras = event["answer"], event["extras"]
                    current = render.sources_html(answer.sources, answer, answer_id)
                    session = chat_session.finish_turn(session, current, extras, self.export_root)
                    table = render.matches_table_html(extras["rows"], answer_id)
                    yield (render.answer_markdown(answer, answer_id) + (f"\n\n{table}" if table else ""),
                           render.answers_panel(kept, answer_id, current), session)
        except Exception as exc:  # shown in the chat; the app keeps serving
            if not isinstance(exc, RagError):
                log.exception("answering %r failed", message[:200])
            yield ((render.link_citations(text, answer_id) + "\n\n" if text else "")
                   + render.error_message(exc, self.settings), render.answers_panel(kept, answer_id, current), session)

    def ask_api(self, question, history, llm, k, sources, has_code, working_set) -> dict:
        """The `/ask` endpoint (see `build`): the checks, the answer and the next working set."""
        try:
            # An API client can send any JSON: check the shapes the type hints promise.
            if not isinstance(question, str):
                raise UsageError(f"question must be a string, not {shown(question)}")
            earlier = string_list(history, "history")
            filters = Filters(sources=tuple(string_list(sources, "sources")), has_code=True if has_code else None)
            given = None if working_set is None else string_list(working_set, "working_set")

            def job(p: Pipeline) -> dict:
                answer = p.ask(question, history=earlier, k=whole_number(k), filters=filters,
                               working_set=REBUILD if given is None else given or None)
                rebuild = lambda: p.working_set_from(earlier, whole_number(k), filters) if earlier else None  # noqa: E731
                return render.api_result(answer, chat_session.api_next_set(answer, given, rebuild))

            return self.workers_for(llm).call(job)
        except Exception as exc:
            if not isinstance(exc, RagError):
                log.exception("answering %r failed", str(question)[:200])
            return {"error": render.error_message(exc, self.settings)}

    def build(self) -> gr.Blocks:
        settings, stats = self.settings, self.corpus["stats"]

        def ask(question: str, history: list[str] | None = None, llm: str = settings.llm, k: int = settings.k,
                sources: list[str] | None = None, has_code: bool = False, working_set: list[str] | None = None) -> dict:
            """Answer one question (earlier questions of the chat in `history`; the papers earlier
            answers named in `working_set`, else rebuilt from `history`): the answer, its
            citations, its sources and `next_working_set` as JSON, or {"error": message}."""
            return self.ask_api(question, history, llm, k, sources, has_code, working_set)

        with gr.Blocks(title="Paper QA", analytics_enabled=False) as blocks:
            gr.Markdown(f"## Paper QA\nCited answers from {stats['papers']} research-paper abstracts. "
                        "Every claim links to its source on the right.")
            with gr.Tab("Chat"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        with gr.Row():
                            llm = gr.Dropdown(self.backends, value=settings.llm, label="Backend", scale=1)
                            k = gr.Slider(1, 20, value=settings.k, step=1, label="Papers (k)", scale=1)
                            files = gr.Dropdown(stats["corpus_files"], value=[], multiselect=True,
                                                label="Only these corpus files", scale=2)
                            has_code = gr.Checkbox(label="Only papers with code", scale=1)
                        panel = gr.HTML(EMPTY_PANEL, render=False, elem_id="sources-panel")
                        session = gr.State(chat_session.fresh(), delete_callback=chat_session.delete_files)
                        chat = gr.ChatInterface(
                            self.respond, additional_inputs=[llm, k, files, has_code, session],
                            additional_outputs=[panel, session],
                            chatbot=gr.Chatbot(height=520, label="Answers", elem_id="chatbot", buttons=["copy"]),
                            textbox=gr.Textbox(placeholder="Ask about the papers…", show_label=False,
                                               elem_id="question", submit_btn=True, stop_btn=True),
                            examples=[[q] for q in EXAMPLES], api_name="chat", fill_height=False,
                            analytics_enabled=False)
                        with gr.Row(equal_height=False):
                            working_set = gr.HTML("", elem_id="working-set", padding=False)
                            clear_set = gr.Button("Clear papers in play", size="sm", visible=False, elem_id="clear-set",
                                                  scale=0, min_width=160)
                        with gr.Row():
                            new_chat = gr.Button("New chat", variant="secondary", size="sm", elem_id="new-chat")
                            downloads = [gr.DownloadButton(label, visible=False, size="sm", elem_id=f"download-{key}")
                                         for key, label in (("md", "Answer (Markdown)"), ("csv", "Papers in play (CSV)"),
                                                            ("bib", "Papers in play (BibTeX)"))]
                    with gr.Column(scale=2, elem_id="sources-column"):
                        panel.render()
            with gr.Tab("Corpus"):
                gr.Markdown(corpus_markdown(stats))
                gr.Dataframe(self.corpus["titles"], headers=["Title", "Corpus files", "Code"], show_search="search",
                             interactive=False, wrap=True, max_height=600, label="Papers")
            gr.api(ask, api_name="ask")
            private = {"queue": False, "api_visibility": "private"}
            controls = [working_set, clear_set, *downloads]

            def changed(new: dict, *shown) -> tuple:
                """`shown`, then the new session and its controls, set here: a queue-less event's
                change of the state fires no .change."""
                return (*shown, new, *session_controls(new))

            new_chat.click(lambda s: changed(chat_session.reset(s), [], [], EMPTY_PANEL), session,
                           [chat.chatbot, chat.chatbot_state, panel, session, *controls], **private)
            chat.chatbot.clear(lambda s: changed(chat_session.reset(s), EMPTY_PANEL), session,
                               [panel, session, *controls], **private)
            clear_set.click(lambda s: changed(chat_session.clear_set(s)), session, [session, *controls], **private)
            session.change(session_controls, session, controls, **private)  # after each answer
        return blocks

    # -- serving ------------------------------------------------------------------------
    def launch(self, host: str = "127.0.0.1", port: int = 7860, share: bool = False,
               auth: tuple[str, str] | None = None, block: bool = True, concurrency: int = CONCURRENCY,
               announce: Callable[[str], None] | None = None) -> str:
        """Serve the app; returns its local URL (when `block` is False, at once). `announce`
        gets the URLs to show the user (Gradio's own start-up text is kept quiet: its advice
        names launch() arguments, not our flags)."""
        self.blocks.queue(default_concurrency_limit=concurrency, max_size=QUEUE_SIZE)
        _, url, share_url = self.blocks.launch(server_name=host, server_port=port, share=share, auth=auth,
                                               prevent_thread_lock=True, quiet=True, css=CSS, head=JS_HEAD,
                                               footer_links=["api"])
        if announce:
            announce(f"Paper QA chat on {url}" + (f" and {share_url} (public)" if share_url else "")
                     + (" (login required)" if auth else "") + "; Ctrl+C stops it")
        if block:
            self.blocks.block_thread()
        return url

    def close(self) -> None:
        self.blocks.close()
        self.pool.close()
        shutil.rmtree(self.export_root, ignore_errors=True)
