"""LLM answer benchmark: speed of a backend and what the citation checker did to its text.

Runs the first N dev-set questions (default 20) through one backend and prints: time to
first token and generation tokens/s (tiktoken count of the model's raw output over the time
after its first token), how many answers had at least one citation or sentence removed, how
often the extractive fallback fired, and how often the model or retrieval abstained.

    python bench/bench_llm.py --llm local --n 20
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--llm", default="local")
    parser.add_argument("--n", type=int, default=20)
    parser.add_argument("--index-dir", type=Path)
    opts = parser.parse_args()

    from rag.pipeline import Pipeline
    from rag.settings import Settings
    from rag.tokens import count_tokens

    settings = Settings.build(llm=opts.llm, index_dir=opts.index_dir)
    pipeline = Pipeline(settings, progress=False)
    items = [json.loads(line) for line in (PROJECT / "evals/qa/dev.jsonl").read_text().splitlines() if line.strip()]
    ttft, rates, rows = [], [], []
    for item in items[: opts.n]:
        answer = pipeline.ask(item["question"], history=item.get("history", []))
        t = answer.timings_ms
        llm_ran = answer.model_output is not None
        if llm_ran and "first_token" in t:
            ttft.append(t["first_token"])
            decode_s = (t["generate"] - t["first_token"]) / 1000
            if decode_s > 0:
                rates.append(count_tokens(answer.model_output) / decode_s)
        sentences = answer.sentences or []
        rows.append({
            "llm_ran": llm_ran,
            "removed": any(not s["supported"] or s["dropped_markers"] for s in sentences),
            "fallback": answer.fallback == "extractive",
            "abstained": answer.abstain_reason,
            "kept": sum(s["supported"] for s in sentences), "sentences": len(sentences),
        })
        print(f"{item['id']}: {len(sentences)} sentences, {rows[-1]['kept']} kept, fallback={rows[-1]['fallback']}, "
              f"abstained={answer.abstain_reason}", flush=True)
    ran = [r for r in rows if r["llm_ran"]]
    print(f"\n{opts.llm} on {len(rows)} dev questions ({len(ran)} reached the model)")
    if ttft:
        print(f"time to first token: median {statistics.median(ttft) / 1000:.1f} s (min {min(ttft) / 1000:.1f}, max {max(ttft) / 1000:.1f})")
    if rates:
        print(f"generation: median {statistics.median(rates):.1f} tokens/s")
    if ran:
        print(f"answers with at least one sentence or citation removed: {sum(r['removed'] for r in ran)}/{len(ran)}")
        print(f"extractive fallback fired: {sum(r['fallback'] for r in ran)}/{len(ran)}")
        print(f"model declined (abstained): {sum(r['abstained'] == 'model' for r in ran)}/{len(ran)}")
        print(f"sentences kept: {sum(r['kept'] for r in ran)}/{sum(r['sentences'] for r in ran)}")
    print(f"retrieval abstained: {sum(r['abstained'] == 'retrieval' for r in rows)}/{len(rows)}")


if __name__ == "__main__":
    main()
