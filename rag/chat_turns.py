"""A chat's turns in the pipeline: a follow-up condensed into a standalone query, or answered
over the papers the earlier answers named (the working set, rag.working_set) — filtered,
counted, compared or one picked — and a first question that points back at papers no answer
named yet. `Pipeline` (rag.pipeline) takes these as a mixin: they use its index, encoder,
backend and settings.
"""

from __future__ import annotations

import re
import time
from typing import Iterator, Sequence

from rag.backends import EXTRACTIVE
from rag.errors import UsageError
from rag.records import Answer
from rag.retrieve import Filters

REBUILD = object()  # working_set: rebuild it from the history (the command line); the chat passes its own


def standalone_query(question: str, history: Sequence[str]) -> str:
    """Deterministic follow-up condensing: the previous question gives the topic, unless the
    follow-up is a list question of its own that leans on nothing before it. A follow-up that
    swaps one part of the previous question ("What about for language models?", "And for
    speech?") is that question with the part swapped (rag.working_set.swapped)."""
    from rag.working_set import stands_alone, swapped

    if not history:
        return question
    previous = _as_searched(history)
    return swapped(question, previous) or (question if stands_alone(question) else f"{previous} {question}")


def _as_searched(history: Sequence[str]) -> str:
    """The chat's last question as it was searched: a swap of the one before it ("And for speech?"
    after "What about for language models?") is that question with the part swapped in."""
    from rag.working_set import swapped

    if len(history) > 1:
        return swapped(history[-1], _as_searched(history[:-1])) or history[-1]
    return history[-1]


class ChatTurns:
    """The pipeline's chat turns (mixed into rag.pipeline.Pipeline)."""

    def condense(self, question: str, history: Sequence[str]) -> str:
        """A follow-up as a standalone query: rewritten by the LLM when there is one, checked
        for sanity (one line, mentions something from the chat), else the deterministic way."""
        from rag.prompts import render

        fallback = standalone_query(question, history)
        if not history or self.backend is None or fallback == question:
            return fallback
        prompt = render(self.settings.prompts_dir, "condense.txt",
                        history="\n".join(f"- {h}" for h in history), question=question)
        reply = "".join(self.backend.stream([{"role": "user", "content": prompt}])).strip()
        line = next((ln.strip(" \"'*`") for ln in reply.splitlines() if ln.strip()), "")
        line = re.sub(r"^(?:standalone question|question)\s*:\s*", "", line, flags=re.I)
        chat_words = {w.lower() for w in re.findall(r"[A-Za-z][\w-]{3,}", " ".join([*history, question]))}
        line_words = {w.lower() for w in re.findall(r"[A-Za-z][\w-]{3,}", line)}
        if not 8 <= len(line) <= 400 or not (chat_words & line_words):
            return fallback
        return line

    def working_set_from(self, history: Sequence[str], k: int | None, filters: Filters | None) -> list[str] | None:
        """The chat's working set before the next question, rebuilt by answering the earlier
        questions in turn (rag.working_set: what each answer named, carried forward)."""
        from rag.working_set import next_working_set

        current = None
        for turn, earlier in enumerate(history):
            current = next_working_set(self.ask(earlier, history[:turn], k, filters, working_set=current), current)
        return current

    def in_chat(self, question: str, history: Sequence[str], k: int | None, filters: Filters | None,
                working_set, started: float, load_before: float) -> Iterator[dict] | None:
        """The events of a follow-up answered over the papers in play ("of those, which…", "compare
        the first two", "How fast are they compared with transformers?"), or of a first question
        that points back at none; None when the question is searched."""
        from rag.set_answers import names_the_set
        from rag.shapes import read_question
        from rag.working_set import (ABOUT_MAX, MAX_WORKING_SET, asks_about_them, asks_for_more, names_outside, points_back,
                                      refers_to_set, swapped)

        if working_set not in (None, REBUILD) and len(working_set) > MAX_WORKING_SET:
            raise UsageError(f"working_set has {len(working_set):,} paper ids, at most {MAX_WORKING_SET} are kept: "
                             "send the ids of the papers the earlier answers named")
        refers, own_shape = refers_to_set(question), read_question(question).shape
        # "How fast are they compared with transformers?": a comparison with something it names by
        # no name is about the papers in play too ("…compared with Swin?" is searched)
        about = bool(history) and not refers and (own_shape not in ("list", "comparison") or (
            own_shape == "comparison" and not names_outside(question))) \
            and not swapped(question, history[-1]) and asks_about_them(question)
        if (history or working_set not in (None, REBUILD)) and (refers or own_shape == "comparison" or about):
            tw = time.perf_counter()
            in_set = self.working_set_from(history, k, filters) if working_set is REBUILD else working_set
            known = self.index.catalog.papers(in_set) if in_set else {}
            in_set = [pid for pid in in_set or () if pid in known]  # papers since removed are dropped
            if in_set and (refers or names_the_set(question, known, in_set) or (about and len(in_set) <= ABOUT_MAX)):
                return self.stream_in_set(question, list(in_set), started, load_before,
                                          (time.perf_counter() - tw) * 1000, about=about)
        elif not history and (points_back(question) or asks_for_more(question)):  # "Which of them link code?",
            # "Any more like these?" with nothing named before it
            return self.no_earlier_papers(question, started, load_before)
        return None

    def stream_in_set(self, question: str, set_ids: list[str], started: float, load_before: float,
                      rebuild_ms: float, about: bool = False) -> Iterator[dict]:
        """A follow-up over the working set: filtered by its condition with the same evidence
        scoring as a list question, counted, compared, or one paper picked (rag.working_set)."""
        from rag.answering import answer_events, extractive_events
        from rag.shapes import read_condition
        from rag.set_answers import compose_in_set, judge_set
        from rag.set_requests import SetRequest, read_request

        request = SetRequest("about", question, question) if about else read_request(question)
        query = request.condition or question
        backend = self.backend
        retriever = self.retriever()
        t0 = time.perf_counter()
        qvec = retriever.embed_query(query)
        ranking, lacking, size = judge_set(retriever, self.index.catalog, self.index.bm25, self.encoder, self.settings,
                                           query, read_condition(query), qvec, set_ids, request)
        hits = [j.hit for j in ranking.sources]
        t1 = time.perf_counter()
        yield {"type": "sources", "hits": hits}
        answer = Answer(question=question, answer="", abstained=False, citations=[], sources=hits,
                        llm=backend.name if backend else EXTRACTIVE, timings_ms={"working_set": rebuild_ms},
                        retrieval_query=query if query != question else None, shape="followup",
                        working_set=list(set_ids))
        if request.kind not in ("compare", "pick", "about", "common", "start"):
            answer.matches = {"count": len(ranking.matches), "shown": len(ranking.matches),
                              "paper_ids": [j.paper.paper_id for j in ranking.matches]}
        plan = compose_in_set(request, size, ranking.sources, ranking.matches, self.settings, lacking)
        if plan.markers:
            yield from answer_events(answer, plan, ranking.sources, backend, self.encoder, self.settings,
                                     decline=lambda a: self.abstain(a, "model"))
        else:  # "none of the 4 papers above …": nothing to cite, nothing for a model to add
            yield from extractive_events(answer, plan)
        yield {"type": "answer", "answer": self.finish(answer, hits, started, t0, t1, load_before)}

    def no_earlier_papers(self, question: str, started: float, load_before: float) -> Iterator[dict]:
        """A chat's first question that points back at papers: nothing to search for, said so."""
        from rag.prompts import render
        from rag.shapes import shape_of
        from rag.working_set import asks_for_more, points_back

        yield {"type": "sources", "hits": []}
        t0 = time.perf_counter()
        backend = self.backend
        answer = Answer(question=question, answer="", abstained=True, citations=[], sources=[],
                        llm=backend.name if backend else EXTRACTIVE, timings_ms={}, shape=shape_of(question),
                        abstain_reason="reference")
        answer.answer = render(self.settings.prompts_dir, "abstain_reference.txt", reference=points_back(question) or asks_for_more(question))
        yield {"type": "answer", "answer": self.finish(answer, [], started, t0, t0, load_before)}
