"""plot.png of an eval run: recall@k curves per retriever, and the latency distribution.

Drawn with matplotlib's Agg canvas through a bare `Figure` (no pyplot, so no global
backend state and no display needed). It only draws what the report already holds.
"""

from __future__ import annotations

from pathlib import Path

from evals.summary import CURVE_DEPTH, STAGES, stage_latencies


def write_plot(report: dict, path: Path) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4.2), layout="constrained")
    recall_ax, latency_ax = fig.subplots(1, 2)
    ks = list(range(1, CURVE_DEPTH + 1))
    for mode, curve in report["recall_curve"].items():
        recall_ax.plot(ks, curve, marker="o", label=mode)
    recall_ax.set(title="Retrieval: mean recall@k (questions with gold titles)", xlabel="k (distinct papers)",
                  ylabel="recall@k", ylim=(0, 1.02), xticks=ks)
    recall_ax.grid(alpha=0.3)
    recall_ax.legend()

    stages = {s: values for s in STAGES if (values := stage_latencies(report["questions"], s))}
    if stages:
        latency_ax.boxplot(list(stages.values()))
        latency_ax.set_xticks(range(1, len(stages) + 1), list(stages))
        latency_ax.set_yscale("log")
    else:
        latency_ax.text(0.5, 0.5, "one question: no warm latencies", ha="center", va="center")
    latency_ax.set(title="Latency per question (questions 2..N)", ylabel="ms (log scale)")
    latency_ax.grid(alpha=0.3, axis="y")
    fig.savefig(path, dpi=110)
