"""Read and validate a QA set (docs/contracts.md §4) before any question runs.

`read_qa_set` checks the whole file's shape and reports the first problem as a one-line
`UsageError` naming the file and line; `check_gold_titles` then checks every gold title
against the index's papers. It does not run, score or report anything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Collection

from rag.errors import UsageError

TYPES = ("single", "multi", "list", "numeric", "comparative", "unanswerable", "followup")


@dataclass(frozen=True)
class QAItem:
    id: str
    question: str
    type: str
    gold_titles: tuple[str, ...]
    answer_points: tuple[str, ...] = ()
    history: tuple[str, ...] = ()
    line: int = 0  # where it is in the file, for messages
    chain: str | None = None  # the chat this turn belongs to (turns in file order)
    in_set: bool | None = None  # a follow-up that refers to the earlier answers' papers


@dataclass
class QASet:
    path: Path
    items: list[QAItem] = field(default_factory=list)

    def where(self, item: QAItem) -> str:
        return f"{self.path}:{item.line}"


def _string_list(raw: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise UsageError(f'{where}: "{key}" must be a list of non-empty strings')
    return tuple(value)


def parse_item(raw: Any, path: Path, line: int, max_question_chars: int) -> QAItem:
    from rag.pipeline import clean_question

    where = f"{path}:{line}"
    if not isinstance(raw, dict):
        raise UsageError(f"{where}: expected a JSON object per line")
    for key in ("id", "question", "type", "gold_titles"):
        if key not in raw:
            raise UsageError(f'{where}: missing "{key}" (every item needs id, question, type and gold_titles)')
    if not isinstance(raw["id"], str) or not raw["id"].strip():
        raise UsageError(f'{where}: "id" must be a non-empty string')
    if not isinstance(raw["question"], str):
        raise UsageError(f'{where}: "question" must be a string')
    kind = raw["type"]
    if kind not in TYPES:
        raise UsageError(f"{where}: unknown type {kind!r}: use one of {', '.join(TYPES)}")
    gold = _string_list(raw, "gold_titles", where)
    if kind == "unanswerable" and gold:
        raise UsageError(f"{where}: an unanswerable item must have empty gold_titles")
    if kind != "unanswerable" and not gold:
        raise UsageError(f"{where}: a {kind!r} item needs at least one gold title (type unanswerable is for questions the corpus does not answer)")
    if "history" in raw and kind != "followup":
        raise UsageError(f'{where}: "history" is only allowed on followup items, this one is {kind!r}')
    history = _string_list(raw, "history", where)
    if kind == "followup" and not history:
        raise UsageError(f'{where}: a followup item needs a non-empty "history" (the earlier questions of the chat)')
    try:  # the same checks `ask` applies, so no question fails half-way through a run
        question = clean_question(raw["question"], max_question_chars)
        history = tuple(clean_question(h, max_question_chars) for h in history)
    except UsageError as exc:
        raise UsageError(f"{where}: {exc}") from None
    chain, in_set = raw.get("chain"), raw.get("in_set")
    if chain is not None and (not isinstance(chain, str) or not chain.strip()):
        raise UsageError(f'{where}: "chain" must be a non-empty string naming the chat the turn belongs to')
    if in_set is not None and (not isinstance(in_set, bool) or kind != "followup"):
        raise UsageError(f'{where}: "in_set" must be true or false, and only on followup items')
    return QAItem(id=raw["id"], question=question, type=kind, gold_titles=gold,
                  answer_points=_string_list(raw, "answer_points", where), history=history,
                  line=line, chain=chain, in_set=in_set)


def read_qa_set(path: Path, max_question_chars: int) -> QASet:
    """Every line parsed and checked; the first bad one stops everything."""
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise UsageError(f"QA file not found: {path}") from None
    except IsADirectoryError:
        raise UsageError(f"QA file {path} is a folder: give a .jsonl file") from None
    except UnicodeDecodeError as exc:
        line = Path(path).read_bytes()[: exc.start].count(b"\n") + 1
        raise UsageError(f"{path}:{line}: not UTF-8 text: save the file as UTF-8") from None
    except OSError as exc:
        raise UsageError(f"cannot read QA file {path}: {exc.strerror}") from None
    qa = QASet(Path(path))
    first_line_of: dict[str, int] = {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UsageError(f"{where}: not valid JSON ({exc.msg}): fix or remove the line") from None
        item = parse_item(raw, path, lineno, max_question_chars)
        if item.id in first_line_of:
            raise UsageError(f"{where}: duplicate id {item.id!r} (first on line {first_line_of[item.id]})")
        first_line_of[item.id] = lineno
        check_chain_turn(item, [i for i in qa.items if item.chain and i.chain == item.chain], where)
        qa.items.append(item)
    if not qa.items:
        raise UsageError(f"QA file {path} has no questions")
    return qa


def check_chain_turn(item: QAItem, earlier: list[QAItem], where: str) -> None:
    """A chain's turns come in order: each one's history is the chain's earlier questions."""
    if item.chain and list(item.history) != [i.question for i in earlier]:
        raise UsageError(f'{where}: turn {len(earlier) + 1} of chain {item.chain!r} needs "history" = the chain\'s '
                         f"{len(earlier)} earlier question(s), in order")


def check_gold_titles(qa: QASet, index_titles: Collection[str]) -> None:
    """Titles are the key (docs/contracts.md §4): one the index lacks would silently score 0."""
    for item in qa.items:
        for title in item.gold_titles:
            if title not in index_titles:
                raise UsageError(f"{qa.where(item)}: gold title {title!r} is not a paper in the index "
                                 f"(titles must match exactly; is this the index of the right corpus?)")
