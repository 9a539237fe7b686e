"""The `rag eval` command: run a QA set through the pipeline and report, or compare two runs.

Only click and the standard library are imported at start-up (the harness, numpy and
matplotlib load when the command runs), so `rag --help` stays instant. `rag/cli.py`
registers it with `rag_group.add_command(build_eval_command(guarded))`; taking `guarded` as
an argument keeps evals from importing rag.cli, which imports this module.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click


def build_eval_command(guarded) -> click.Command:
    @click.command(name="eval")
    @click.option("--qa", type=click.Path(path_type=Path), help="QA set, JSON Lines (docs/contracts.md §4), e.g. evals/qa/dev.jsonl.")
    @click.option("--llm", help="Answer backend spec, as for `ask` (RAG_LLM).")
    @click.option("--k", type=int, help="Papers the answer is built from, as for `ask` (default 5); retrieval metrics rank max(k, 10).")
    @click.option("--retriever", type=click.Choice(["hybrid", "dense", "bm25"]), help="Retriever under test (default hybrid).")
    @click.option("--baselines", is_flag=True, help="Also rank with the other two retrievers, to show what fusion buys.")
    @click.option("--retrieval-only", is_flag=True, help="Retrieval metrics only: no answers are generated (fast; the CI gate).")
    @click.option("--out", type=click.Path(path_type=Path, file_okay=False), help="Parent folder of the run folder (default evals/runs).")
    @click.option("--compare", nargs=2, type=click.Path(path_type=Path), metavar="RUN_A RUN_B", help="Print the metric deltas between two run folders.")
    @click.option("--index-dir", type=click.Path(path_type=Path), help="Index folder (RAG_INDEX_DIR).")
    @click.option("--preset", help="Named settings preset: default, quick, thorough (RAG_PRESET).")
    @guarded
    def eval_command(qa, llm, k, retriever, baselines, retrieval_only, out, compare, index_dir, preset):
        """Score the assistant on a QA set: retrieval, citations, answer points, abstention, latency.

        Writes report.json, report.md and plot.png to evals/runs/<time>-<settings hash>/ and
        prints the Markdown summary. Every figure has a 95% bootstrap interval.

        Example: rag eval --qa evals/qa/dev.jsonl --baselines
        """
        from rag.errors import UsageError

        if compare:
            if qa:
                raise UsageError("give either --qa FILE (run an eval) or --compare RUN_A RUN_B, not both")
            from evals.report import compare_runs

            click.echo(compare_runs(*compare), nl=False)
            return
        if not qa:
            raise UsageError("no QA set: rag eval --qa evals/qa/dev.jsonl (or --compare RUN_A RUN_B)")

        from evals.harness import run_eval
        from evals.report import render_markdown, write_run
        from rag.settings import PROJECT_ROOT, Settings

        settings = Settings.build(preset=preset, index_dir=index_dir, llm=llm, k=k, retriever=retriever)
        report = run_eval(settings, qa, retrieval_only=retrieval_only, baselines=baselines,
                          progress=sys.stderr.isatty())
        folder = write_run(report, out or PROJECT_ROOT / "evals" / "runs")
        click.echo(render_markdown(report), nl=False)
        click.echo(f"report: {folder}", err=True)

    return eval_command
