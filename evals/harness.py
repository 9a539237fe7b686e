"""Run a QA set through the same pipeline `ask` uses and record one row per question.

`run_eval` validates the QA file (shape, then gold titles against the index) before any
question runs, answers every question with `Pipeline.ask` (follow-ups with their history)
unless retrieval-only, and ranks papers for the retrieval metrics with the pipeline's own
retriever at depth max(k, 10) in each evaluated mode. It then hands the rows to
`evals.summary`. It does not compute metrics itself, write files or print reports.
"""

from __future__ import annotations

import hashlib
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from evals.qaset import QASet, check_gold_titles, read_qa_set
from evals.summary import BOOTSTRAP, summarise_run
from rag.settings import Settings

RETRIEVAL_DEPTH = 10  # recall@10, MRR@10 and nDCG@10 need ten ranked papers whatever --k is
MODES = ("hybrid", "dense", "bm25")
EVIDENCE = "sources"  # the pipeline's own order (retrieval + evidence), as `ask` shows it


def retrieval_modes(primary: str, baselines: bool) -> list[str]:
    """The configured retriever first; with baselines, the other two after it."""
    return [primary, *(m for m in MODES if m != primary)] if baselines else [primary]


def rank_titles(retriever, query: str, modes: list[str], depth: int) -> tuple[dict[str, list[str]], float]:
    """Each mode's ranked titles for one query, and the first mode's time (embedding included, as in `ask`)."""
    started = time.perf_counter()
    qvec = retriever.embed_query(query)
    ranked, first_ms = {}, 0.0
    searched = [m for m in modes if m != EVIDENCE]
    for mode in searched:
        ranked[mode] = [h.paper.title for h in retriever.search(query, k=depth, mode=mode, query_vector=qvec)]
        if mode == searched[0]:
            first_ms = (time.perf_counter() - started) * 1000
    return ranked, first_ms


def evidence_titles(pipeline, item, query: str, depth: int) -> list[str]:
    from rag.shapes import read_question

    reading = read_question(query)
    form = read_question(item.question).shape if item.history else reading.shape
    ranking = pipeline.judge(query, reading, pipeline.retriever().embed_query(query), depth, None, form)
    return [j.paper.title for j in ranking.sources][:depth]


def searched_query(answer, item) -> str:
    """What `ask` searched (a condensed follow-up); a follow-up answered over the papers in play
    searched nothing: it is ranked on its condensed form, as a search would have been."""
    from rag.chat_turns import standalone_query

    return answer.retrieval_query or standalone_query(item.question, item.history)


def question_row(item) -> dict:
    return {"id": item.id, "type": item.type, "line": item.line, "question": item.question,
            "history": list(item.history), "gold_titles": list(item.gold_titles),
            "answer_points": list(item.answer_points),
            **({"chain": item.chain, "in_set": item.in_set} if item.chain else {})}


def answer_fields(answer) -> dict:
    """What the metrics and a reader need from an `Answer`; the optional fields only when the backend sets them."""
    optional = answer.to_json()
    return {"answer": answer.answer, "abstained": answer.abstained,
            "sources": [h.paper.title for h in answer.sources],
            "cited_titles": list(dict.fromkeys(c.title for c in answer.citations)),
            "sentences": optional.get("sentences"),
            "abstain_reason": optional.get("abstain_reason"), "fallback": optional.get("fallback"),
            "retrieval_query": answer.retrieval_query,
            "working_set": None if answer.working_set is None else
            [h.paper.title for h in answer.sources if h.paper.paper_id in set(answer.working_set)],
            "timings_ms": {k: round(v, 2) for k, v in answer.timings_ms.items()}}


def run_questions(pipeline, qa: QASet, modes: list[str], retrieval_only: bool, progress: bool) -> list[dict]:
    from tqdm import tqdm

    from rag.chat_turns import standalone_query

    depth = max(pipeline.settings.k, RETRIEVAL_DEPTH)
    rows = []
    for item in tqdm(qa.items, desc="eval", unit="q", file=sys.stderr, disable=not progress):
        row = question_row(item)
        if retrieval_only:
            query = standalone_query(item.question, item.history)
        else:
            answer = pipeline.ask(item.question, history=item.history)
            row.update(answer_fields(answer))
            query = searched_query(answer, item)
        row["retrieved"], search_ms = rank_titles(pipeline.retriever(), query, modes, depth)
        if EVIDENCE in modes:  # the order `ask` shows its sources in: the pool judged on its sentences
            row["retrieved"][EVIDENCE] = evidence_titles(pipeline, item, query, depth)
        if retrieval_only:
            row["timings_ms"] = {"retrieve": round(search_ms, 2)}
        rows.append(row)
    return rows


def run_eval(settings: Settings, qa_path: Path, *, retrieval_only: bool = False, baselines: bool = False,
             progress: bool = False) -> dict:
    """The whole report (see evals/README.md) for one QA set under one settings object."""
    from rag.pipeline import Pipeline

    qa = read_qa_set(Path(qa_path), settings.max_question_chars)
    started, wall = datetime.now(timezone.utc), time.perf_counter()
    pipeline = Pipeline(settings, progress=progress)
    check_gold_titles(qa, {paper.title for paper in pipeline.index.catalog.iter_papers()})
    modes = [EVIDENCE, *retrieval_modes(settings.retriever, baselines)]
    rows = run_questions(pipeline, qa, modes, retrieval_only, progress)
    run = {
        "started_at": started.isoformat(timespec="seconds"),
        "wall_s": round(time.perf_counter() - wall, 2),
        "qa_file": str(qa_path),
        "qa_sha256": hashlib.sha256(Path(qa_path).read_bytes()).hexdigest(),
        "questions": len(rows),
        "retrieval_only": retrieval_only,
        "retrievers": modes,
        "retrieval_depth": max(settings.k, RETRIEVAL_DEPTH),
        "llm": None if retrieval_only else settings.llm,
        "k": settings.k,
        "settings_hash": settings.stamp(),
        "settings": settings.model_dump(mode="json"),
        "index": pipeline.stamp(),
        "bootstrap": BOOTSTRAP,
    }
    return {"run": run, **summarise_run(rows, modes, retrieval_only, load_ms=pipeline.load_ms)}
