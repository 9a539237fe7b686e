"""Re-ask a QA set's questions in the other words people type, to measure how much an answer
depends on the wording rather than on what is asked.

  python evals/reask.py evals/qa/calib.jsonl evals/qa/calib2.jsonl > evals/qa/calib_reasked.jsonl
  python evals/reask.py evals/qa/calib_chains.jsonl > evals/qa/calib_chains_reasked.jsonl

A list question "Which papers X?" becomes, in turn, "Can you list papers that X?", "Do any papers
X?", "I'm looking for papers that X.", "Papers that X?", "Find papers that X."; a chat follow-up
about the papers on the table ("Of those, which X?", "Which of them X?", "How many of them X?")
is pointed at them in other words ("From that list, which X?", "Keep only those that X.",
"Which ones X?", "How many of these papers X?"…), and the later turns' histories follow. Only
the re-asked items are written (with their chains, whole); ids get an "r". Deterministic: the
forms are taken in turn. The figures are in evals/README.md ("Asked in other words").
"""

from __future__ import annotations

import json
import re
import sys

LIST_FORMS = ("Can you list papers that {0}?", "Do any papers {0}?", "I'm looking for papers that {0}.",
              "Papers that {0}?", "Find papers that {0}.")
FOLLOW_UP_FORMS = (
    (re.compile(r"^Of those, which (.*)\?$"), ("From that list, which {0}?", "Keep only those that {0}.",
                                               "Out of these, which {0}?", "Which ones {0}?")),
    (re.compile(r"^Which of them (.*)\?$"), ("Which ones {0}?", "Which of these papers {0}?",
                                             "Only the ones that {0}, please.")),
    (re.compile(r"^How many of them (.*)\?$"), ("How many of these papers {0}?", "How many of the listed papers {0}?")),
)
_WHICH_PAPERS = re.compile(r"^Which papers (.*)\?$")


def reask(items: list[dict]) -> list[dict]:
    out, turns, taken = [], {}, {"list": 0, "followup": 0}
    chains: dict[str, list[dict]] = {}
    reasked_chains: set[str] = set()
    for item in items:
        item, asked = dict(item), item["question"]
        found = _WHICH_PAPERS.match(asked) if item["type"] == "list" and "history" not in item else None
        if found:
            item["question"] = LIST_FORMS[taken["list"] % len(LIST_FORMS)].format(found.group(1))
            taken["list"] += 1
        elif item.get("in_set"):
            for pattern, forms in FOLLOW_UP_FORMS:
                if (found := pattern.match(asked)):
                    item["question"] = forms[taken["followup"] % len(forms)].format(found.group(1))
                    taken["followup"] += 1
                    break
        if "chain" not in item:
            if found:
                out.append(item)
            continue
        if "history" in item:  # the earlier turns as they were re-asked
            item["history"] = [turns.get((item["chain"], h), h) for h in item["history"]]
        turns[(item["chain"], asked)] = item["question"]
        chains.setdefault(item["chain"], []).append(item)
        if found:
            reasked_chains.add(item["chain"])
    out += [turn for name, chain in chains.items() if name in reasked_chains for turn in chain]
    return [{**item, "id": item["id"] + "r"} for item in out]


def main(paths: list[str]) -> None:
    items = [json.loads(line) for path in paths for line in open(path, encoding="utf-8") if line.strip()]
    for item in reask(items):
        print(json.dumps(item, ensure_ascii=False))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit("usage: python evals/reask.py QA.jsonl [QA.jsonl ...] > REASKED.jsonl")
    main(sys.argv[1:])
