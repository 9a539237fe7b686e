"""The Gradio app: a chat over the paper index, its sources panel, and a corpus tab.

`ChatApp(settings, make_pipeline=...)` builds the Blocks; `launch()` serves them on
127.0.0.1 unless told otherwise. Answers stream in from `Pipeline.stream` run by the
worker threads of ui/workers.py (one pipeline per backend spec, never shared between
threads); ui/render.py turns the events into Markdown and HTML. Earlier questions of the
chat are passed as `history`, as `ask --history` does. Errors a user can cause or fix
(`RagError`) become a line in the chat and the app keeps serving. Two API endpoints:
`/chat` (the chat itself, streamed) and `/ask` (one question -> JSON with answer,
citations and sources). Tests inject `make_pipeline` to run it on a fake encoder or LLM.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any, Callable

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no calls home, before gradio loads

import gradio as gr  # noqa: E402

from rag.errors import RagError, UsageError  # noqa: E402
from rag.pipeline import Pipeline, clean_question  # noqa: E402
from rag.retrieve import Filters  # noqa: E402
from rag.settings import Settings  # noqa: E402
from ui import render  # noqa: E402
from ui.workers import PipelinePool, available_backends  # noqa: E402

log = logging.getLogger(__name__)

# Questions wait in Gradio's queue (and see their position) rather than pile up in threads:
# the pipelines answer one question at a time each and the machine has 2 cores.
CONCURRENCY = 2
QUEUE_SIZE = 64
EMPTY_PANEL = '<div class="sources-empty">The sources of the current answer appear here.</div>'
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
"""
# Citation links point at #source-n in the panel; scroll there instead of opening a tab.
JS_HEAD = """<script>
document.addEventListener("click", (event) => {
  const link = event.target.closest && event.target.closest('a[href^="#source-"]');
  if (!link) return;
  const target = document.getElementById(link.getAttribute("href").slice(1));
  if (!target) return;
  event.preventDefault(); event.stopPropagation();
  target.scrollIntoView({behavior: "smooth", block: "center"});
  history.replaceState(null, "", link.getAttribute("href"));
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


class ChatApp:
    def __init__(self, settings: Settings, make_pipeline: Callable[[str], Pipeline] | None = None,
                 threads_per_backend: int = 1):
        self.settings = settings
        self.backends = available_backends(settings.llm)
        self.pool = PipelinePool(make_pipeline or self.default_pipeline, threads_per_backend)
        # Opens (or, on a fresh clone, builds) the index and loads the query encoder now, so
        # the first question is as quick as the others.
        self.corpus = self.pool.workers(settings.llm).call(corpus_facts)
        self.blocks = self.build()

    def default_pipeline(self, spec: str) -> Pipeline:
        return Pipeline(self.settings.model_copy(update={"llm": spec}), progress=False)

    def workers_for(self, spec: str):
        if spec not in self.backends:
            raise UsageError(f"unknown backend {spec!r}: choose one of {', '.join(self.backends)}")
        return self.pool.workers(spec)

    # -- answering ----------------------------------------------------------------------
    def respond(self, message: str, history: list[dict], llm: str, k: float, sources: list[str] | None, has_code: bool):
        """ChatInterface's function: yields (chat message, sources panel) as the answer grows."""
        text, panel = "", EMPTY_PANEL
        try:
            workers = self.workers_for(llm)
            earlier = earlier_questions(history, self.settings.max_question_chars)
            filters = Filters(sources=tuple(string_list(sources, "sources")), has_code=True if has_code else None)
            for event in workers.run(lambda p: p.stream(message, history=earlier, k=int(k), filters=filters)):
                if event["type"] == "sources":
                    panel = render.sources_html(event["hits"])
                    yield f"*Reading {len(event['hits'])} papers…*", panel
                elif event["type"] == "sentence":
                    text += event["text"] + event["end"]
                    yield render.link_citations(text), panel
                else:
                    answer = event["answer"]
                    yield render.answer_markdown(answer), render.sources_html(answer.sources, answer)
        except Exception as exc:  # shown in the chat; the app keeps serving
            if not isinstance(exc, RagError):
                log.exception("answering %r failed", message[:200])
            yield (render.link_citations(text) + "\n\n" if text else "") + render.error_message(exc, self.settings), panel

    def build(self) -> gr.Blocks:
        settings, stats = self.settings, self.corpus["stats"]

        def ask(question: str, history: list[str] | None = None, llm: str = settings.llm, k: int = settings.k,
                sources: list[str] | None = None, has_code: bool = False) -> dict:
            """Answer one question (earlier questions of the chat in `history`): the answer,
            its citations and its sources as JSON, or {"error": message}."""
            try:
                # An API client can send any JSON: check the shapes the type hints promise.
                if not isinstance(question, str):
                    raise UsageError(f"question must be a string, not {shown(question)}")
                earlier = string_list(history, "history")
                filters = Filters(sources=tuple(string_list(sources, "sources")), has_code=True if has_code else None)
                answer = self.workers_for(llm).call(lambda p: p.ask(question, history=earlier, k=whole_number(k),
                                                                    filters=filters))
                return render.api_result(answer)
            except Exception as exc:
                if not isinstance(exc, RagError):
                    log.exception("answering %r failed", str(question)[:200])
                return {"error": render.error_message(exc, settings)}

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
                        chat = gr.ChatInterface(
                            self.respond, additional_inputs=[llm, k, files, has_code], additional_outputs=[panel],
                            chatbot=gr.Chatbot(height=520, label="Answers", elem_id="chatbot", buttons=["copy"]),
                            textbox=gr.Textbox(placeholder="Ask about the papers…", show_label=False,
                                               elem_id="question", submit_btn=True, stop_btn=True),
                            examples=[[q] for q in EXAMPLES], api_name="chat", fill_height=False,
                            analytics_enabled=False)
                        new_chat = gr.Button("New chat", variant="secondary", size="sm", elem_id="new-chat")
                    with gr.Column(scale=2, elem_id="sources-column"):
                        panel.render()
            with gr.Tab("Corpus"):
                gr.Markdown(corpus_markdown(stats))
                gr.Dataframe(self.corpus["titles"], headers=["Title", "Corpus files", "Code"], show_search="search",
                             interactive=False, wrap=True, max_height=600, label="Papers")
            gr.api(ask, api_name="ask")
            new_chat.click(lambda: ([], [], EMPTY_PANEL), None, [chat.chatbot, chat.chatbot_state, panel],
                           queue=False, api_visibility="private")
            chat.chatbot.clear(lambda: EMPTY_PANEL, None, panel, queue=False, api_visibility="private")
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
