"""One chat session's memory: its turns, each with its answer id, sources panel and the working
set after it, plus the files it offers for download. No Gradio here: the app keeps the value
this module builds in a `gr.State` (one per browser tab) and shows it with ui/render.py.

A turn's answer id is its place in the conversation (1, 2, …). The conversation the chat hands
back is the truth: a turn that was undone or retried is dropped here too (`begin_turn` keeps
as many turns as the history has answers), so the working set is always the one after the
answers on screen. The set after an answer is `rag.working_set.next_working_set`; the chat
passes it to the next question explicitly, so the pipeline never re-answers the history.

`with_extras` runs in the pipeline's worker thread, where the catalog may be read: beside the
final answer it computes what the chat shows and offers (the set's names, the list table's
rows, the exports). Files are written to a folder per session under one temporary folder per
app, deleted with the session or the app. Session values are plain dicts and lists, never
mutated: every change is a new value, so Gradio sees it change.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from rag.export import ExportLookup, render
from rag.working_set import named_papers, next_working_set, paper_year

MAX_PANELS = 20  # older answers whose sources panel is kept (and sent with each update)
EXPORTS = {"md": ("markdown", "answer.md"), "csv": ("csv", "working-set.csv"), "bib": ("bibtex", "working-set.bib")}


def fresh(folder: str | None = None) -> dict:
    """A new chat. `folder`: where its exports go (kept across New chat, made on first use)."""
    return {"turns": [], "files": {}, "folder": folder}


def reset(session: dict | None) -> dict:
    return fresh((session or {}).get("folder"))


def answers_in(history: list[dict]) -> int:
    return sum(1 for message in history or [] if isinstance(message, dict) and message.get("role") == "assistant")


def current_set(session: dict) -> list[str] | None:
    turns = session["turns"]
    return turns[-1]["set"] if turns else None


def begin_turn(session: dict | None, history: list[dict]) -> dict:
    """The session with a turn for the question being asked: the turns of answers no longer in
    the chat dropped, the set carried over (an answer that fails or is stopped keeps it)."""
    session = session or fresh()
    turns = session["turns"][:answers_in(history)]
    before = turns[-1] if turns else {"set": None, "names": []}
    turn = {"id": len(turns) + 1, "set": before["set"], "names": before["names"], "panel": None}
    return {**session, "turns": turns + [turn]}


def finish_turn(session: dict, panel: str, extras: dict, export_root: Path) -> dict:
    """The session after a final answer: its panel and set recorded, its exports written."""
    turns = session["turns"]
    turn = {**turns[-1], "panel": panel, "set": extras["set"], "names": extras["names"]}
    folder = Path(session.get("folder") or tempfile.mkdtemp(prefix="chat-", dir=export_root))
    files = {}
    for key, text in extras["exports"].items():
        path = folder / EXPORTS[key][1]
        path.write_text(text, encoding="utf-8")
        files[key] = str(path)
    return {**session, "turns": turns[:-1] + [turn], "files": files, "folder": str(folder)}


def clear_set(session: dict | None) -> dict:
    """The set emptied: the next follow-up searches afresh; its CSV and BibTeX are withdrawn."""
    if not session or not session["turns"]:
        return session or fresh()
    turns = session["turns"]
    files = {k: v for k, v in session["files"].items() if k == "md"}
    return {**session, "turns": turns[:-1] + [{**turns[-1], "set": None, "names": []}], "files": files}


def panels(session: dict) -> list[tuple[int, str]]:
    """(answer id, panel) of the turns that have one, the last MAX_PANELS of them."""
    return [(t["id"], t["panel"]) for t in session["turns"] if t["panel"]][-MAX_PANELS:]


def delete_files(session: Any) -> None:
    """Gradio's delete_callback for the state: the session's folder goes with it."""
    folder = session.get("folder") if isinstance(session, dict) else None
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


# -- in the pipeline's worker thread ------------------------------------------------------------
def with_extras(events: Iterable[dict], previous: list[str] | None, lookup: ExportLookup) -> Iterator[dict]:
    """The pipeline's events, the final one with `extras` (`answer_extras`) added."""
    for event in events:
        if event["type"] == "answer":
            event = {**event, "extras": answer_extras(event["answer"], previous, lookup)}
        yield event


def answer_extras(answer, previous: list[str] | None, lookup: ExportLookup) -> dict:
    """The set after `answer` and its papers' short names, the rows of its list table, and its
    exports: the answer as Markdown; the set as CSV and BibTeX (when there is a set)."""
    from rag.paper_names import paper_name

    new_set = next_working_set(answer, previous)
    match_ids = list((answer.matches or {}).get("paper_ids") or [])
    papers = {hit.paper.paper_id: hit.paper for hit in answer.sources}
    missing = [pid for pid in dict.fromkeys([*(new_set or []), *match_ids]) if pid not in papers]
    papers.update(lookup(missing) if missing else {})
    exports = {"md": render(answer, "markdown", lookup)}
    if new_set:
        as_set = replace(answer, working_set=list(new_set))  # export's paper list: the set, in order
        exports.update(csv=render(as_set, "csv", lookup), bib=render(as_set, "bibtex", lookup))
    return {"set": new_set, "names": [paper_name(papers[p]) for p in new_set or [] if p in papers],
            "rows": table_rows(answer, match_ids, papers), "exports": exports}


def table_rows(answer, match_ids: list[str], papers: dict) -> list[dict]:
    """A list answer's matches (a list question, or a filter over the set), one row each: the
    source rank to link to (None past the sources), short name, title, its best evidence
    sentence, code link and year as the record has them."""
    from rag.paper_names import paper_name

    if answer.abstained or not match_ids:
        return []
    hits = {hit.paper.paper_id: hit for hit in answer.sources}
    rows = []
    for pid in match_ids:
        paper = papers.get(pid)
        if paper is None:
            continue
        hit = hits.get(pid)
        rows.append({"rank": hit.rank if hit else None, "name": paper_name(paper), "title": paper.title,
                     "sentence": hit.evidence[0]["text"] if hit and hit.evidence else "",
                     "code": paper.code_url, "year": paper_year(paper)})
    return rows


def api_next_set(answer, given: list[str] | None, rebuild: Callable[[], list[str] | None]) -> list[str] | None:
    """`/ask`'s `next_working_set`: what the answer named, else the set it was asked with (sent
    by the client, or rebuilt from the history by the pipeline; `rebuild` when neither shows)."""
    named = named_papers(answer)
    if named:
        return named
    if given is not None:
        return given or None
    return answer.working_set if answer.working_set is not None else rebuild()
