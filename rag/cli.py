"""The `ask` and `rag` commands (click). Each command's docstring is its --help.

Only click and the settings are imported at start-up; everything heavy is imported by
the command that needs it, so `ask --help` is instant. Foreseeable failures (`RagError`)
print one line on stderr and exit with their code (docs/contracts.md §3), never a traceback.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from pathlib import Path

import click

from evals.cli import build_eval_command
from rag.errors import RagError, UsageError
from rag.export import FORMATS
from rag.settings import Settings
from ui.cli import build_ui_command

# Set before NumPy loads (nothing above imports it): a query multiplies small matrices (one
# question through the NumPy encoder, a pool's sentence vectors), where OpenBLAS's threads gain
# nothing and, on a busy machine, spin waiting for each other (a cold `ask` took 2.5 CPU s
# instead of 0.6 with a second process busy on 2 cores). torch (MKL, OpenMP) and ONNX Runtime
# keep their own threads; a user's own OPENBLAS_NUM_THREADS wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def guarded(fn):
    """Turn foreseeable errors into a one-line message and the contract's exit code."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except RagError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except BrokenPipeError:  # `ask … | head`: the reader left, nothing to report
            sys.stderr.close()
            sys.exit(0)

    return wrapper


def index_options(fn):
    fn = click.option("--index-dir", type=click.Path(path_type=Path), help="Index folder (default: ./index in the project; RAG_INDEX_DIR).")(fn)
    fn = click.option("--corpus", multiple=True, type=click.Path(path_type=Path), help="Corpus file or folder; repeat for several (default: the shipped corpus; RAG_CORPUS).")(fn)
    fn = click.option("--preset", help="Named settings preset: default, quick, thorough (RAG_PRESET).")(fn)
    fn = click.option("--chroma-url", help="Keep/find the vectors on this Chroma server, http://HOST:PORT (RAG_CHROMA_URL).")(fn)
    return fn


def build_settings(preset, corpus=(), **overrides) -> Settings:
    return Settings.build(preset=preset, corpus=list(corpus) or None, **overrides)


def echo_warnings(warnings: list[str], limit: int = 20, total: int | None = None) -> None:
    for line in warnings[:limit]:
        click.echo(f"warning: {line}", err=True)
    total = len(warnings) if total is None else max(total, len(warnings))
    if total > limit:
        click.echo(f"warning: … and {total - limit} more", err=True)


def read_batch(path: Path) -> list[dict]:
    """QA items (docs/contracts.md §4): only `question` and optional `history` are used."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"batch file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read batch file {path}: {getattr(exc, 'strerror', None) or exc}") from None
    items = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UsageError(f"{path}:{lineno}: not valid JSON ({exc.msg}): fix or remove the line") from None
        if not isinstance(item, dict) or not isinstance(item.get("question"), str):
            raise UsageError(f'{path}:{lineno}: expected an object with a "question" string')
        history = item.get("history", [])
        if not isinstance(history, list) or not all(isinstance(h, str) for h in history):
            raise UsageError(f'{path}:{lineno}: "history" must be a list of strings')
        items.append({"question": item["question"], "history": history, "line": lineno, "id": item.get("id")})
    if not items:
        raise UsageError(f"batch file {path} has no questions")
    return items


def print_streamed(events):
    """Print checked sentences as they arrive; an answer that abstained or fell back is
    printed whole at the end (nothing unchecked was shown before it)."""
    at_line_start = True
    for event in events:
        if event["type"] == "sentence":
            click.echo(event["text"] + event["end"], nl=False)
            sys.stdout.flush()
            at_line_start = event["end"] == "\n"
        elif event["type"] == "answer":
            answer = event["answer"]
            if answer.abstained:
                click.echo(answer.answer)
            elif not at_line_start:
                click.echo()
            print_sources(answer)
            return answer


def print_sources(answer) -> None:
    if not answer.sources:  # nothing was searched ("Which of them…" asked first, "thanks!")
        return
    click.echo()
    if answer.fallback:
        click.echo(f"(the {answer.llm} answer had no supported sentence; showing the extractive answer)")
    click.echo("Nearest papers (none answers the question):" if answer.abstained else "Sources:")
    for hit in answer.sources:
        code = f"  code: {hit.paper.code_url}" if hit.paper.code_url else ""
        click.echo(f"  [{hit.rank}] {hit.paper.title}  (score {hit.score:.2f}){code}")


@click.command(name="ask")
@click.argument("question", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per question (docs/contracts.md §2).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="Print the answer as text, or export it: markdown (answer + references), csv (one row per "
                   "paper), bibtex (one entry per paper).")
@click.option("--batch", type=click.Path(path_type=Path, dir_okay=False), help="Answer every question of a JSONL file, in order.")
@click.option("--llm", help="Answer backend: extractive (default), local, gguf:PATH, ollama:MODEL, openai:MODEL (RAG_LLM).")
@click.option("--k", type=int, help="Number of distinct papers to retrieve (default 5).")
@click.option("--history", multiple=True, help="An earlier question of the same chat; repeat in order.")
@click.option("--retriever", type=click.Choice(["hybrid", "dense", "bm25"]), help="Retrievers to use (default hybrid).")
@click.option("--source", "sources", multiple=True, help="Only papers from this corpus file (repeatable).")
@click.option("--has-code", is_flag=True, default=None, help="Only papers that link their code or project page.")
@click.option("--stream/--no-stream", default=None, help="Print sentences as they are checked (default: when stdout is a terminal).")
@index_options
@guarded
def ask_command(question, as_json, fmt, batch, llm, k, history, retriever, sources, has_code, stream, index_dir, corpus, preset,
                chroma_url):
    """Answer a question from the paper abstracts, citing every claim as [n].

    Example: ask "which methods prune tokens without fine-tuning?"
    """
    if batch and question:
        raise UsageError("give either a QUESTION or --batch FILE, not both")
    if not batch and question is None:
        raise UsageError('no question: ask "your question" (or --batch questions.jsonl)')
    if fmt != "text" and as_json:
        raise UsageError(f"--json and --format {fmt} cannot be combined: --json is its own format, drop one of them")
    if fmt != "text" and batch:
        raise UsageError(f"--format {fmt} exports one answer, not a --batch: ask one question, or use --batch --json")
    settings = build_settings(preset, corpus, index_dir=index_dir, llm=llm, k=k, retriever=retriever,
                              chroma_url=chroma_url)
    items = read_batch(batch) if batch else [{"question": question, "history": list(history), "line": 0}]

    from rag.pipeline import Pipeline, clean_question
    from rag.retrieve import Filters

    for item in items:  # refuse a bad batch before answering any of it
        where = f"{batch}:{item['line']}: " if batch else ""
        try:
            clean_question(item["question"], settings.max_question_chars)
        except UsageError as exc:
            raise UsageError(f"{where}{exc}") from None
        for number, earlier in enumerate(item["history"], start=1):
            try:
                clean_question(earlier, settings.max_question_chars)
            except UsageError as exc:
                name = '"history"' if batch else "--history"
                raise UsageError(f"{where}{name} item {number}: {exc}") from None
    pipeline = Pipeline(settings, progress=sys.stderr.isatty())
    filters = Filters(sources=tuple(sources), has_code=has_code)
    plain = not as_json and fmt == "text"
    stream = (sys.stdout.isatty() if stream is None else stream) and plain
    for number, item in enumerate(items):
        if number and not as_json:
            click.echo("\n" + "-" * 60 + "\n")
        if stream:
            answer = print_streamed(pipeline.stream(item["question"], history=item["history"], filters=filters))
        else:
            answer = pipeline.ask(item["question"], history=item["history"], filters=filters)
        if as_json:
            out = {"id": item["id"], **answer.to_json()} if batch else answer.to_json()  # a batch line's own id
            click.echo(json.dumps(out, ensure_ascii=False))
        elif fmt != "text":
            from rag.export import render

            click.echo(render(answer, fmt, lookup=pipeline.index.catalog.papers), nl=False)
        elif not stream:
            click.echo(answer.answer)
            print_sources(answer)


@click.group()
def rag_group():
    """Index paper abstracts and ask questions about them with cited answers."""


@rag_group.command(name="ingest")
@click.option("--rebuild", is_flag=True, help="Rebuild from scratch (in a new folder, swapped in when done).")
@click.option("--quiet", is_flag=True, help="No progress bars.")
@click.option("--category", "categories", multiple=True,
              help="Only papers in this arXiv category (cs.CL) or archive (cs, cs.*); repeatable.")
@click.option("--since", help="Only papers updated on or after this date (2023-01-31, 2023-01 or 2023).")
@click.option("--until", help="Only papers updated on or before this date.")
@click.option("--embed-backend", type=click.Choice(["auto", "torch", "onnx", "onnx-int8"]),
              help="What runs the embedding model (default auto: onnx-int8 on the CPU, torch on a GPU; "
                   "RAG_EMBED_BACKEND).")
@click.option("--device", type=click.Choice(["cpu", "cuda", "auto"]),
              help="Where the torch backend embeds: cpu, cuda (fp16; `make setup-gpu`) or auto (default cpu; "
                   "RAG_EMBED_DEVICE).")
@index_options
@guarded
def ingest_command(rebuild, quiet, categories, since, until, embed_backend, device, index_dir, corpus, preset,
                   chroma_url):
    """Build or update the index from the corpus: embeds only new or changed papers.

    Streams any size of corpus (e.g. the arXiv metadata snapshot, one JSON object per line)
    in constant memory. Interrupted, it goes on where it stopped when run again on the same
    corpus. The index mirrors the corpus files and filters given: papers no longer in them
    are removed.
    """
    from rag.corpus import CorpusReader
    from rag.corpus_filter import CorpusFilter
    from rag.ingest import ingest

    from rag.embed import ingest_backend

    settings = build_settings(preset, corpus, index_dir=index_dir, chroma_url=chroma_url, embed_backend=embed_backend,
                              embed_device=device)
    # Checked before the corpus is read, so a missing GPU fails in a second, not after the read pass.
    ingest_backend(settings.embed_model, settings.embed_backend, settings.embed_device,
                   "--device" if device else "RAG_EMBED_DEVICE")
    reader = CorpusReader(settings.corpus, CorpusFilter.parse(categories, since, until))
    report = ingest(settings, reader, rebuild=rebuild, progress=not quiet)
    echo_warnings(report.warnings, total=report.skipped_lines)
    click.echo(report.summary())


@rag_group.command(name="stats")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.option("--index-dir", type=click.Path(path_type=Path), help="Index folder (RAG_INDEX_DIR).")
@guarded
def stats_command(as_json, index_dir):
    """Papers, chunks, size on disk, models and build times of the index."""
    from rag.index import Index

    settings = Settings.build(index_dir=index_dir)
    stats = Index.for_stats(settings.index_dir).stats()
    if as_json:
        click.echo(json.dumps(stats, indent=2))
        return
    width = max(len(k) for k in stats)
    for key, value in stats.items():
        if key == "size_bytes":
            key, value = "size on disk", f"{value / 1e6:.1f} MB"
        elif isinstance(value, (list, dict)):
            value = json.dumps(value)
        click.echo(f"{key.replace('_', ' '):<{width}}  {value}")


rag_group.add_command(ask_command)
rag_group.add_command(build_eval_command(guarded))
rag_group.add_command(build_ui_command(guarded))


def ask_main() -> None:
    ask_command(prog_name="ask")


def rag_main() -> None:
    rag_group(prog_name="rag")
