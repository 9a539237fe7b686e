"""Calibrate the evidence thresholds: when to abstain, and which papers a list answer names.

For every question of the given QA files (one index per file group) this runs the pipeline's
own ranking (`Pipeline.judge`: the candidate pool judged on its sentences) and records, per
question, the evidence strength (how far the best papers stand out from the pool, in median
absolute deviations) and, for list questions, every pool paper's match score and whether it is
gold. It then sweeps:
- `abstain_threshold`: answerable kept vs unanswerable refused, per index (a threshold that
  only works on one corpus's scale shows up here);
- `list_relative` x `list_min_coverage` (x `list_min_strength` x `list_dense_weight`): recall and
  precision of the papers a list answer names (rag.lists.list_matches).
A look-up that names something its answering paper never says is refused whatever its strength
(rag.names.unsaid_names), and a question that shares an identifier ("ADE20K") with a top paper
is answered down to rag.names.IDENTIFIER_FLOOR; the abstention tables count both.
Calibrate on the calibration split only (evals/qa/calib.jsonl and the second corpus); run it
on the dev set only to report, never to choose. Usage (INDEX_DIR=QA_FILE[,QA_FILE…], repeatable):

    rag ingest --corpus evals/corpora/second/papers.jsonl --index-dir /tmp/idx-second
    python evals/calibrate_evidence.py index=evals/qa/calib.jsonl,evals/qa/calib2.jsonl /tmp/idx-second=evals/corpora/second/qa.jsonl
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from rag.chat_turns import standalone_query
from rag.lists import list_floor, list_members
from rag.names import IDENTIFIER_FLOOR, listed_names, said_identifiers, unsaid_names
from rag.numbers import number_condition
from rag.pipeline import Pipeline
from rag.settings import Settings
from rag.shapes import read_question

THRESHOLDS = (0.4, 0.45, 0.5, 0.52, 0.53, 0.54, 0.55, 0.56, 0.57, 0.58, 0.59, 0.6, 0.61, 0.62, 0.63, 0.64, 0.65, 0.7)  # abstention (evidence strength)
STRENGTHS = (0.0, 2.0, 3.0, 4.0)  # list answers: pool deviations
RELATIVES = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)  # list answers: share of the best paper's lead
COVERAGES = (0.0, 0.4, 0.5, 0.6, 0.7)  # list answers: share of the best coverage of the question's terms
DENSE_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5)  # list answers: weight of the paper's cosine in its standing
F1_SLACK = 0.01  # list answers: how far under the best F1 a rule with more recall may be
SINGLE_MARGINS = (0.0, 0.02, 0.05, 0.08, 0.1, 0.15)  # relevance_margin: other papers a look-up quotes


def collect(index_dir: str, paths: list[str], split: str | None) -> list[dict]:
    pipeline = Pipeline(Settings.build(index_dir=index_dir), progress=False)
    rows = []
    for path in paths:
        for line in Path(path).read_text().splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            if split and item.get("split", split) != split:
                continue
            query = standalone_query(item["question"], item.get("history", []))
            reading = read_question(query)
            qvec = pipeline.retriever().embed_query(query)
            ranking = pipeline.judge(query, reading, qvec, pipeline.settings.evidence_pool, None, reading.shape)
            judged = ranking.sources
            gold = set(item["gold_titles"])
            said, listed = said_identifiers(query, judged), listed_names(query, judged)
            members = {id(j) for j in list_members(judged, reading.kind, listed)}  # rag.lists.list_matches
            rows.append({"index": index_dir, "id": item["id"], "type": item["type"], "answerable": bool(gold),
                         "form": reading.shape, "kind": reading.kind,
                         "strength": ranking.strength, "n_gold": len(gold),
                         "unsaid": unsaid_names(reading.shape, item["question"], judged) if not item.get("history") else [],
                         "said": said, "listed": listed, "numbered": any(number_condition(a) for a in reading.aspects),
                         "pool": [(j.match, j.paper.title in gold, j.coverage, j.paper_cosine, j.paper.title,
                                   id(j) in members) for j in judged]})
    return rows


def standings(pool: list, dense_weight: float) -> np.ndarray:
    """Each pool paper's deviations above the pool's median (rag.lists.set_matches)."""
    scores = np.array([match + dense_weight * cosine for match, _, _, cosine, *_ in pool])
    median = float(np.median(scores))
    return (scores - median) / (float(np.median(np.abs(scores - median))) or 1e-6)


def list_scores(rows: list[dict], relative: float, min_strength: float, min_coverage: float,
                dense_weight: float = 0.0) -> tuple[float, float]:
    recalls, precisions = [], []
    for row in rows:
        z = standings(row["pool"], dense_weight)
        # list_matches on the recorded pool: its last field says the paper is of the kind asked for
        # (and says the names the question gives)
        lead = max((float(zz) for zz, p in zip(z, row["pool"]) if p[5]), default=0.0)
        covered = max(p[2] for p in row["pool"])
        floor = list_floor(min_strength, row["kind"], row["listed"], row["numbered"])
        named = [gold for zz, (_, gold, c, *_, member) in zip(z, row["pool"])
                 if member and zz >= max(floor, relative * lead) and c >= min_coverage * covered]
        recalls.append(sum(named) / row["n_gold"])
        precisions.append(sum(named) / len(named) if named else 0.0)
    return float(np.mean(recalls)), float(np.mean(precisions))


def report(rows: list[dict]) -> None:
    abstention_table(rows, "all questions")
    abstention_table([r for r in rows if r["form"] == "list"], "list-form questions only")
    list_table(rows)
    single_table(rows)


def single_table(rows: list[dict], max_papers: int = 4) -> None:
    """Look-ups quote the top source and any other within the margin of its match."""
    looks = [r for r in rows if r["answerable"] and r["form"] != "list"]
    print(f"\n## Look-ups ({len(looks)} answerable non-list questions): papers quoted, precision / recall\n")
    print("| relevance_margin | precision | recall | papers quoted (mean) |")
    print("|---|---|---|---|")
    for margin in SINGLE_MARGINS:
        precision, recall, count = [], [], []
        for row in looks:
            top = row["pool"][0][0]
            chosen = [row["pool"][0]] + [p for p in row["pool"][1:] if p[0] >= top - margin][: max_papers - 1]
            hits = sum(p[1] for p in chosen)
            precision.append(hits / len(chosen))
            recall.append(hits / row["n_gold"])
            count.append(len(chosen))
        print(f"| {margin:g} | {np.mean(precision):.3f} | {np.mean(recall):.3f} | {np.mean(count):.2f} |")


def answered(row: dict, threshold: float) -> bool:
    """As the pipeline decides: strong enough (or, down to IDENTIFIER_FLOOR, sharing an identifier
    such as "ADE20K" with a top paper), and no name the answering paper never says."""
    strong = row["strength"] >= threshold or (row["strength"] >= IDENTIFIER_FLOOR and bool(row["said"]))
    return strong and not row["unsaid"]


def kept_refused(rows: list[dict], threshold: float) -> tuple[float, float]:
    kept = [answered(r, threshold) for r in rows if r["answerable"]]
    refused = [not answered(r, threshold) for r in rows if not r["answerable"]]
    return (float(np.mean(kept)) if kept else 1.0), (float(np.mean(refused)) if refused else 1.0)


KEEP = 0.95  # the shipped rule: refuse as much as possible while answering ≥ 95 % on every corpus


def best_threshold(rows: list[dict]) -> tuple[float, float]:
    """The threshold (0.01 steps) whose worse corpus has the best balanced accuracy; ties: the lower."""
    indexes = sorted({r["index"] for r in rows})
    scored = []
    for step in range(20, 91):
        t = step / 100
        worst = min(sum(kept_refused([r for r in rows if r["index"] == i], t)) / 2 for i in indexes)
        scored.append((-worst, t))
    worst, t = min(scored)
    return t, -worst


def keeping_threshold(rows: list[dict], keep: float = KEEP) -> float:
    """The highest threshold (0.01 steps) that still answers `keep` of the answerable questions
    of every corpus: a wrong refusal hides an answer the corpus has, so it is the one bounded."""
    indexes = sorted({r["index"] for r in rows})
    ok = [step / 100 for step in range(20, 91)
          if all(kept_refused([r for r in rows if r["index"] == i], step / 100)[0] >= keep for i in indexes)]
    return max(ok) if ok else 0.2


def abstention_table(rows: list[dict], which: str) -> None:
    print(f"## Abstention, {which} (evidence strength: rag.relevance.evidence_strength)\n")
    indexes = sorted({r["index"] for r in rows})
    print("| threshold | " + " | ".join(f"{Path(i).name}: kept / refused" for i in indexes) + " |")
    print("|---|" + "---|" * len(indexes))
    for threshold in THRESHOLDS:
        cells = []
        for index in indexes:
            mine = [r for r in rows if r["index"] == index]
            ans = [r for r in mine if r["answerable"]]
            una = [r for r in mine if not r["answerable"]]
            kept = sum(answered(r, threshold) for r in ans) / max(len(ans), 1)
            refused = sum(not answered(r, threshold) for r in una) / max(len(una), 1)
            cells.append(f"{kept:.1%} / {refused:.1%} (n {len(ans)}/{len(una)})")
        print(f"| {threshold:g} | " + " | ".join(cells) + " |")
    if rows:
        t, worst = best_threshold(rows)
        keep_t = keeping_threshold(rows)
        refused = ", ".join(f"{Path(i).name} {kept_refused([r for r in rows if r['index'] == i], keep_t)[1]:.1%}"
                            for i in sorted({r["index"] for r in rows}))
        print(f"\nhighest threshold answering ≥ {KEEP:.0%} everywhere: {keep_t:.2f} (refused: {refused}); "
              f"best balanced accuracy of the worse corpus: {worst:.1%} at {t:.2f}")
    print()


def list_table(rows: list[dict]) -> None:
    lists = [r for r in rows if r["type"] in ("list", "multi")]
    if not lists:
        return
    print(f"\n## List answers ({len(lists)} questions): recall / precision of the papers named\n")
    scored = []  # (f1, relative, strength, coverage, recall, precision, dense weight)
    for weight in DENSE_WEIGHTS:
        for strength in STRENGTHS:
            for relative in RELATIVES:
                for coverage in COVERAGES:
                    recall, precision = list_scores(lists, relative, strength, coverage, weight)
                    f1 = 2 * recall * precision / (recall + precision) if recall + precision else 0.0
                    scored.append((f1, relative, strength, coverage, recall, precision, weight))
    print("| list_dense_weight | best F1 (relative, strength, coverage: recall / precision) |")
    print("|---|---|")
    for weight in DENSE_WEIGHTS:
        b = max((s for s in scored if s[6] == weight), key=lambda s: s[0])
        print(f"| {weight:g} | {b[0]:.3f} ({b[1]:g}, {b[2]:g}, {b[3]:g}: {b[4]:.2f} / {b[5]:.2f}) |")
    best = max(scored, key=lambda s: s[0])
    chosen = max((s for s in scored if s[0] >= best[0] - F1_SLACK), key=lambda s: (s[4], s[0]))
    for strength in STRENGTHS:
        print(f"\nlist_dense_weight {chosen[6]:g}, list_min_strength {strength:g}\n")
        print("| relative \\ min coverage | " + " | ".join(f"{c:g}" for c in COVERAGES) + " |")
        print("|---|" + "---|" * len(COVERAGES))
        for relative in RELATIVES:
            cells = [f"{s[4]:.2f} / {s[5]:.2f}" for c in COVERAGES for s in scored
                     if s[1:4] == (relative, strength, c) and s[6] == chosen[6]]
            print(f"| {relative:g} | " + " | ".join(cells) + " |")
    defaults = Settings()
    shipped = (defaults.list_relative, defaults.list_min_strength, defaults.list_min_coverage, defaults.list_dense_weight)
    recall, precision = list_scores(lists, *shipped)
    shipped_row = (2 * recall * precision / (recall + precision) if recall + precision else 0.0,
                   *shipped[:3], recall, precision, shipped[3])
    # The selection rule: the most recall among the rules within F1_SLACK of the best F1. A paper a
    # "which papers" answer leaves out is lost to the reader; an extra one shows its evidence line.
    # Check a pick with `rag eval` on the same files before shipping it: list answer points follow recall.
    for name, row in (("best F1", best), (f"most recall within {F1_SLACK:g} of it", chosen),
                      ("the settings' defaults", shipped_row)):
        print(f"\n{name}: F1 {row[0]:.3f}, dense weight {row[6]:g}, relative {row[1]:g}, strength {row[2]:g}, "
              f"coverage {row[3]:g} (recall {row[4]:.2f}, precision {row[5]:.2f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("groups", nargs="+", help="INDEX_DIR=QA_FILE[,QA_FILE…]")
    parser.add_argument("--split", help="only items whose split is this (items without a split count)")
    parser.add_argument("--dump", help="also write the collected rows as JSON here")
    args = parser.parse_args()
    rows = []
    for group in args.groups:
        index_dir, files = group.split("=", 1)
        rows += collect(index_dir, files.split(","), args.split)
    if args.dump:
        Path(args.dump).write_text(json.dumps(rows))
    report(rows)


if __name__ == "__main__":
    main()
