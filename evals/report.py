"""Eval reports for people and tools: the run folder, its Markdown, and run-to-run deltas.

`write_run` creates `<parent>/<YYYYmmdd-HHMMSS>-<settings hash>/` holding report.json (every
figure and per-question row), report.md (`render_markdown`) and plot.png (`evals.plot`).
`compare_runs` reads two such folders and returns the metric deltas as Markdown. Nothing
here runs questions or computes metrics; it only formats what `evals.summary` produced.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from evals.summary import ANSWER_METRICS, RETRIEVAL_METRICS, STAGES
from rag.errors import UsageError

ANSWER_LABELS = {
    "citation_precision": "citation precision (cited papers that are gold; answered answerable questions)",
    "citation_recall": "citation recall (gold papers cited; answered answerable questions)",
    "supported_sentences": "answer sentences their citations support (answered questions)",
    "answer_points": "answer-point recall (answered questions with answer points)",
    "answer_points_all": "answer-point recall, abstentions count 0 (answerable questions)",
    "list_recall": "list questions: gold papers the answer names (abstentions name none)",
    "list_precision": "list questions: papers named that are gold",
    "chain_recall": "follow-up chains: gold papers each turn names",
    "chain_precision": "follow-up chains: papers each turn names that are gold",
    "in_set_kept": "follow-ups about earlier papers: answered over them, none named outside",
    "abstention_accuracy": "abstained on unanswerable questions (higher is better)",
    "false_abstention": "abstained on answerable questions (lower is better)",
}
MISSING = "n/a"


def fmt(summary: dict | None, digits: int = 3) -> str:
    """'0.623 [0.512, 0.731]', or n/a when no question counted."""
    if not summary or summary["value"] is None:
        return MISSING
    return f"{summary['value']:.{digits}f} [{summary['low']:.{digits}f}, {summary['high']:.{digits}f}]"


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header), *("| " + " | ".join(r) + " |" for r in rows)]


def retrieval_section(report: dict) -> list[str]:
    overall = report["overall"]["retrieval"]
    n = sum(1 for r in report["questions"] if r["gold_titles"])
    lines = [f"## Retrieval (paper level, {n} questions with gold titles, binary relevance)", ""]
    lines += table(["retriever", *RETRIEVAL_METRICS], [[mode, *(fmt(m[name]) for name in RETRIEVAL_METRICS)]
                                                      for mode, m in overall.items()])
    primary = report["run"]["retrievers"][0]
    misses = [r for r in report["questions"] if r["gold_titles"] and r["scores"]["retrieval"][primary]["recall@10"] == 0]
    if misses:
        lines += ["", f"No gold paper in the {primary} top 10: " + ", ".join(f"{r['id']} ({r['type']})" for r in misses)]
    return lines


def answers_section(report: dict) -> list[str]:
    answers = report["overall"]["answers"]
    lines = [f"## Answers (llm {report['run']['llm']}, k {report['run']['k']})", ""]
    return lines + table(["metric", "value [95% interval]", "questions"],
                         [[ANSWER_LABELS[name], fmt(answers[name]), str(answers[name]["n"])] for name in ANSWER_METRICS])


def latency_section(report: dict) -> list[str]:
    latency = report["latency"]
    lines = [f"## Latency (ms; p50/p95 over questions 2..N = {latency['questions']}, generation over those answered)", ""]
    lines += table(["stage", "p50", "p95"], [[stage, fmt(latency[stage]["p50"], 1), fmt(latency[stage]["p95"], 1)]
                                             for stage in STAGES if stage in latency])
    first = latency["first_question_ms"] or {}
    lines += ["", f"Load (index and models, once): {latency['load_ms']:.0f} ms. "
                  f"First question: {', '.join(f'{k} {v:.0f}' for k, v in first.items())} ms."]
    return lines


SHORT = {"citation_precision": "cit. prec.", "citation_recall": "cit. recall", "supported_sentences": "supported",
         "answer_points": "points", "answer_points_all": "points (abst. 0)", "list_recall": "list recall",
         "list_precision": "list prec.", "abstention_accuracy": "refused", "false_abstention": "false abst.",
         "chain_recall": "chain recall", "chain_precision": "chain prec.", "in_set_kept": "kept in set"}


def per_type_section(report: dict) -> list[str]:
    """Every figure per question type: retrieval, then (full runs) every answer metric."""
    modes = report["run"]["retrievers"]
    header = ["type", "n", *(f"r@5 {m}" for m in modes), f"mrr@10 {modes[0]}"]
    with_answers = not report["run"]["retrieval_only"]
    if with_answers:
        header += [SHORT[name] for name in ANSWER_METRICS]
    rows = []
    for kind, group in report["per_type"].items():
        row = [kind, str(group["n"]), *(fmt(group["retrieval"][m]["recall@5"], 2) for m in modes),
               fmt(group["retrieval"][modes[0]]["mrr@10"], 2)]
        if with_answers:
            row += [fmt(group["answers"][name], 2) for name in ANSWER_METRICS]
        rows.append(row)
    note = ["", "n/a: the metric does not apply to the type (see evals/README.md for what each one averages)."]
    return ["## Per question type", "", *table(header, rows), *(note if with_answers else [])]


def render_markdown(report: dict) -> str:
    run = report["run"]
    mode = "retrieval only" if run["retrieval_only"] else f"llm {run['llm']}"
    boot = run["bootstrap"]
    lines = [f"# Eval {run.get('id', '')}: {Path(run['qa_file']).name}, {run['questions']} questions, {mode}", "",
             f"Retrievers {', '.join(run['retrievers'])} at depth {run['retrieval_depth']}; settings {run['settings_hash']}; "
             f"index {run['index'].get('index_dir')} ({run['index'].get('embed_model')}); {run['wall_s']:.1f} s. "
             f"Intervals: {boot['level']:.0%} bootstrap over questions ({boot['resamples']} resamples, seed {boot['seed']}).",
             "", *retrieval_section(report), ""]
    if not run["retrieval_only"]:
        lines += [*answers_section(report), ""]
    lines += [*latency_section(report), "", *per_type_section(report)]
    return "\n".join(lines) + "\n"


def write_run(report: dict, parent: Path) -> Path:
    """A new run folder under `parent` with report.json, report.md and plot.png."""
    from evals.plot import write_plot

    stem = f"{datetime.now():%Y%m%d-%H%M%S}-{report['run']['settings_hash']}"
    parent.mkdir(parents=True, exist_ok=True)
    folder, suffix = parent / stem, 1
    while folder.exists():  # two runs in the same second with the same settings
        suffix += 1
        folder = parent / f"{stem}-{suffix}"
    folder.mkdir()
    report["run"]["id"] = folder.name
    (folder / "report.json").write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    (folder / "report.md").write_text(render_markdown(report), encoding="utf-8")
    write_plot(report, folder / "plot.png")
    return folder


def load_report(run: Path) -> dict:
    path = run / "report.json" if run.is_dir() else run
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"no report at {path}: give a run folder written by `rag eval`") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"cannot read the report {path}: {exc}") from None


def comparable_figures(report: dict) -> dict[str, dict]:
    """'retrieval hybrid recall@5' -> summary, for every figure a run has, in report order."""
    figures = {}
    for mode, values in report["overall"]["retrieval"].items():
        figures.update({f"retrieval {mode} {name}": values[name] for name in RETRIEVAL_METRICS})
    figures.update({f"answers {name}": s for name, s in report["overall"].get("answers", {}).items()})
    for stage in STAGES:
        for stat in ("p50", "p95"):
            if stage in report["latency"]:
                figures[f"latency {stage} {stat} (ms)"] = report["latency"][stage][stat]
    return figures


def changed_settings(a: dict, b: dict) -> list[str]:
    keys = dict.fromkeys([*a["run"]["settings"], *b["run"]["settings"]])
    diffs = [f"{k}: {a['run']['settings'].get(k)} -> {b['run']['settings'].get(k)}"
             for k in keys if a["run"]["settings"].get(k) != b["run"]["settings"].get(k)]
    if a["run"]["retrieval_only"] != b["run"]["retrieval_only"]:
        diffs.append(f"retrieval only: {a['run']['retrieval_only']} -> {b['run']['retrieval_only']}")
    return diffs


def compare_runs(run_a: Path, run_b: Path) -> str:
    a, b = load_report(Path(run_a)), load_report(Path(run_b))
    fa, fb = comparable_figures(a), comparable_figures(b)
    rows = []
    for name in dict.fromkeys([*fa, *fb]):
        sa, sb = fa.get(name), fb.get(name)
        va, vb = (s["value"] if s else None for s in (sa, sb))
        digits = 1 if name.startswith("latency") else 3
        if va is None or vb is None:
            rows.append([name, fmt(sa, digits), fmt(sb, digits), MISSING])
            continue
        outside = " *" if not sa["low"] <= vb <= sa["high"] else ""
        rows.append([name, fmt(sa, digits), fmt(sb, digits), f"{vb - va:+.{digits}f}{outside}"])
    same_qa = a["run"]["qa_sha256"] == b["run"]["qa_sha256"]
    lines = [f"# Compare {a['run'].get('id', run_a)} (A) -> {b['run'].get('id', run_b)} (B)", "",
             f"QA file: {'the same' if same_qa else 'DIFFERENT'} ({a['run']['qa_file']} / {b['run']['qa_file']}).",
             "Settings changed: " + ("; ".join(changed_settings(a, b)) or "none") + ".", ""]
    lines += table(["figure", "A", "B", "B - A"], rows)
    lines += ["", "* B's value lies outside A's 95% interval."]
    return "\n".join(lines) + "\n"
