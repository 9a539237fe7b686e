"""Ask a QA set's questions with the slips people make when they type fast, to measure how much an
answer depends on spelling (rag/spelling.py corrects them; RAG_CORRECT_TYPOS=false turns that off).

  python evals/typos.py evals/qa/calib.jsonl evals/qa/calib2.jsonl > /tmp/calib_typos.jsonl
  rag eval --qa /tmp/calib_typos.jsonl                              # corrected
  RAG_CORRECT_TYPOS=false rag eval --qa /tmp/calib_typos.jsonl      # as typed

Each question gets one slip in its longest lower-case word of six letters or more (a letter
dropped, two neighbours swapped, or a letter doubled, in turn) and, every third question, "which"
typed "wich". Capitalised words and words with digits (names: "LoRAT", "ADE20K") are left alone,
and chat chains are left out (their histories name the earlier turns as asked). Deterministic;
ids get a "t". The figures are in evals/README.md
("Typed in a hurry").
"""

from __future__ import annotations

import json
import re
import sys

_WORD = re.compile(r"(?<![\w-])[a-z]{6,}(?![\w-])")


def slip(word: str, turn: int) -> str:
    """One slip in the middle of a word: a letter dropped, two swapped, or one doubled."""
    at = len(word) // 2
    if turn % 3 == 0:
        return word[:at] + word[at + 1:]
    if turn % 3 == 1:
        return word[:at] + word[at + 1] + word[at] + word[at + 2:]
    return word[:at] + word[at] + word[at:]


def mistype(question: str, turn: int) -> str:
    words = _WORD.findall(question)
    if words:
        longest = max(words, key=len)
        question = re.sub(rf"(?<![\w-]){longest}(?![\w-])", slip(longest, turn), question, count=1)
    if turn % 3 == 2:
        question = re.sub(r"\b([Ww])hich\b", r"\1ich", question, count=1)
    return question


def main(paths: list[str]) -> None:
    items = [json.loads(line) for path in paths for line in open(path, encoding="utf-8") if line.strip()]
    items = [item for item in items if "chain" not in item and "history" not in item]
    for turn, item in enumerate(items):
        print(json.dumps({**item, "id": item["id"] + "t", "question": mistype(item["question"], turn)}, ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1:])
