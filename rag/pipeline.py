"""Question -> `Answer`: validate, condense a follow-up, retrieve, abstain or answer, check.

`Pipeline.stream` yields events as the answer is made (the sources, then each checked
sentence, then the final `Answer`), which the CLI prints as they come and a UI can consume;
`Pipeline.ask` returns just the final `Answer`. The pipeline takes a `Settings` plus
injectable parts (encoder, index, backend), which is what lets tests run it with fakes. It
builds the index on first use when none exists, so a fresh clone answers its first question
without a separate step. A chat's follow-ups — condensed, or answered over the papers in
play — are rag.chat_turns, which `Pipeline` takes as a mixin.
"""

from __future__ import annotations

import re
import sys
import time
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Iterator, Sequence

from rag import about_corpus
from rag.backends import EXTRACTIVE, load_backend, parse_spec
from rag.chat_turns import REBUILD, ChatTurns
from rag.errors import UsageError
from rag.records import Answer, Citation
from rag.retrieve import Filters, Retriever
from rag.settings import K_MAX, Settings

_UNSET = object()


@dataclass
class Ranking:
    sources: list  # rag.relevance.Judged, in source order (hit.rank = position + 1)
    matches: list  # list questions: every matching paper of the pool, in order
    strength: float | None  # the abstention signal (rag.relevance.evidence_strength)
    unmet: str | None = None  # list questions: a number condition no paper of the pool meets ("above 90%")
    dated: bool = False  # a year was asked for and the pool's records carry dates: only those dated so were judged


def clean_question(question: str, max_chars: int) -> str:
    """Strip control characters and outer space; refuse empty and oversized questions."""
    if len(question) > max_chars:
        raise UsageError(f"question is {len(question):,} characters, the limit is {max_chars:,}: shorten it (or raise RAG_MAX_QUESTION_CHARS)")
    cleaned = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in question)
    cleaned = " ".join(cleaned.split())
    if not cleaned:
        raise UsageError('empty question: type a question, e.g. ask "which methods prune tokens without fine-tuning?"')
    return cleaned


_EMPHASIS = re.compile(r"(?<![\w*`])(\*\*|\*|`)(?=\S)(.+?)(?<=\S)\1(?![\w*`])")  # Markdown bold, italics, code: "**Which** studies…"


def default_log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Pipeline(ChatTurns):
    def __init__(self, settings: Settings, *, encoder=None, index=None, backend=_UNSET, progress: bool = True,
                 log: Callable[[str], None] = default_log):
        self.settings = settings
        self._encoder = encoder
        self._index = index
        self._speller = None
        self._backend = backend  # _UNSET: load from settings.llm when first needed
        self.progress = progress
        self.log = log
        self.load_ms = 0.0
        parse_spec(settings.llm)  # a bad spec fails now, before any work

    # -- parts, loaded on first use ----------------------------------------------------
    @property
    def index(self):
        if self._index is None:
            from rag.index import Index, is_ready

            started = time.perf_counter()
            index_dir = Path(self.settings.index_dir)
            if not is_ready(index_dir):
                self.build_index()
            token = self.settings.chroma_token.get_secret_value() if self.settings.chroma_token else None
            self._index = Index(index_dir, self.model_name(), self.settings.chroma_url, token,
                                exact_max_chunks=self.settings.exact_search_max_chunks)
            self.load_ms += (time.perf_counter() - started) * 1000
        return self._index

    def build_index(self) -> None:
        """The same ingest as `rag ingest`, on the configured corpus."""
        from rag.corpus import CorpusReader
        from rag.ingest import ingest

        reader = CorpusReader(self.settings.corpus)
        reader.check()  # a bad corpus fails before any notice
        self.log(f"no ready index at {self.settings.index_dir}: building it from {len(reader.files)} corpus files "
                 "(one time)…")
        encoder = self._encoder if getattr(self._encoder, "name", None) else None  # a test's fake
        report = ingest(self.settings, reader, progress=self.progress, encoder=encoder)
        for warning in report.warnings:
            self.log(f"warning: {warning}")
        self.log(report.summary())

    def model_name(self) -> str:
        from rag.embed import canonical_model_name

        return getattr(self._encoder, "name", None) or canonical_model_name(self.settings.embed_model)

    @property
    def encoder(self):
        if self._encoder is None:
            from rag.embed import load_query_encoder

            started = time.perf_counter()
            self._encoder = load_query_encoder(self.settings.embed_model)
            self.load_ms += (time.perf_counter() - started) * 1000
        return self._encoder

    @property
    def backend(self):
        """The LLM backend, or None for extractive answers."""
        if self._backend is _UNSET:
            started = time.perf_counter()
            self._backend = load_backend(self.settings.llm, self.settings)
            self.load_ms += (time.perf_counter() - started) * 1000
        return self._backend

    def retriever(self) -> Retriever:
        return Retriever(self.index, self.encoder, self.settings)

    # -- answering ------------------------------------------------------------------------
    def judge(self, query: str, reading, qvec, k: int, filters: Filters | None, form: str,
              year: tuple[str, int] | None = None, beyond: frozenset[str] = frozenset()) -> Ranking:
        """The candidate pool judged on its evidence, ordered as the sources are shown; with a
        `year` asked for ("…from 2023", rag.asked_metadata), only the pool's papers dated so, when
        its records carry dates; papers `beyond` ("Any more like these?": those in play) are judged
        with the pool but neither matched nor shown."""
        from rag.evidence import EvidenceStore
        from rag.lists import list_matches
        from rag.names import listed_names
        from rag.numbers import number_condition
        from rag.intents import asks_about_paper
        from rag.paper_names import asked_about, is_setting, named_sources
        from rag.relevance import EvidenceScorer, evidence_strength
        from rag.working_set import meets_year, paper_year

        pool = self.retriever().search(query, k=max(self.settings.evidence_pool, k), filters=filters, query_vector=qvec)
        dated = year is not None and any(paper_year(h.paper) is not None for h in pool)
        if dated:
            pool = [h for h in pool if meets_year(paper_year(h.paper), year)]
        evidence = EvidenceStore(self.index.catalog, self.encoder).load([h.paper for h in pool])
        judged = EvidenceScorer(self.index.bm25, self.encoder).judge(reading, query, qvec, pool, evidence)
        matches = list_matches(judged, self.settings.list_relative, self.settings.list_min_strength,
                               self.settings.list_min_coverage, self.settings.list_dense_weight,
                               kind=reading.kind, names=listed_names(query, judged),
                               numbered=any(number_condition(a) for a in reading.aspects)) if form == "list" else []
        # A comparison's papers come first whatever their rank in the pool ("ConvNeXt or Swin
        # Transformer?" when Swin is 12th); a list answer's matches likewise.
        named = [j for j, name in named_sources(query, judged) if not is_setting(query, name)] \
            if form == "comparison" else []
        if form in ("quantity", "explanation") or (form == "single" and asks_about_paper(query)):
            # "How fast does MixFormer run?", "What is Mamba?": about that paper itself
            named = asked_about(query, judged)[:1]
        if beyond:
            matches = [j for j in matches if j.paper.paper_id not in beyond]
        chosen = {id(j) for j in matches}
        first = matches + [j for j in named if id(j) not in chosen]
        chosen |= {id(j) for j in first}
        ordered = [j for j in first + [j for j in judged if id(j) not in chosen] if j.paper.paper_id not in beyond]
        # A list answer names every match up to list_max, even past k (sources are "at least k").
        sources = ordered[:max(k, min(len(matches), self.settings.list_max), len(named))]
        for rank, item in enumerate(sources, start=1):
            item.hit = replace(item.hit, rank=rank, score=item.relevance, evidence=item.evidence())
        unmet = next((c for c in judged[0].unmet if all(c in j.unmet for j in judged)), None) \
            if form == "list" and judged else None
        return Ranking(sources=sources, matches=matches, strength=evidence_strength(judged) if judged else None,
                       unmet=unmet, dated=dated)

    def ask(self, question: str, history: Sequence[str] = (), k: int | None = None,
            filters: Filters | None = None, working_set=REBUILD) -> Answer:
        event: dict = {}
        for event in self.stream(question, history, k, filters, working_set):
            pass
        return event["answer"]

    def spelled(self, text: str) -> str:
        """The text without Markdown emphasis ("**Which** studies…") and with its typos corrected
        (rag.spelling; off with settings.correct_typos)."""
        text = _EMPHASIS.sub(r"\2", text)
        return self.speller.correct(text)[0] if self.settings.correct_typos else text

    @property
    def speller(self):
        if self._speller is None:
            from rag.spelling import Speller

            self._speller = Speller(self.index.bm25, self.index.catalog)
        return self._speller

    def stream(self, question: str, history: Sequence[str] = (), k: int | None = None,
               filters: Filters | None = None, working_set=REBUILD) -> Iterator[dict]:
        """Events: {"type": "sources", "hits"}, {"type": "sentence", "text", "end"}…, {"type": "answer", "answer"}.
        `working_set`: the paper ids earlier answers named (None: none); by default rebuilt from
        `history` when the question refers to them ("of those, which…", rag.working_set).
        A question is answered as spelled right ("wich papers quantize vison transformers"): the
        answer keeps it as typed, and `retrieval_query` gives what was searched."""
        started, load_before = time.perf_counter(), self.load_ms  # the spelling's index load counts as load
        typed = clean_question(question, self.settings.max_question_chars)
        history = [clean_question(h, self.settings.max_question_chars) for h in history]
        if k is not None and not (isinstance(k, int) and 1 <= k <= K_MAX):
            raise UsageError(f"k must be a whole number from 1 to {K_MAX}, not {k!r}")
        self.backend  # a bad backend fails before the index is opened (or built) for the spelling
        about = about_corpus.reading(typed)
        if about:  # "thanks!", "What can you do?", "How many papers are in the corpus?": the index answers
            self.check_filters(filters)  # a corpus-file filter naming no file is an error here too
            yield from self.about_events(typed, about, started, load_before)
            return
        history = [h for h in history if about_corpus.reading(h) is None]  # "thanks!" is no turn of the chat
        history = [self.spelled(h) for h in history]
        spelled = self.spelled(typed)
        for event in self.stream_spelled(spelled, history, k, filters, working_set, started, load_before):
            if event["type"] == "answer" and spelled != typed:
                event["answer"].question = typed
                event["answer"].retrieval_query = event["answer"].retrieval_query or spelled
            yield event

    def stream_spelled(self, question: str, history: Sequence[str], k: int | None, filters: Filters | None,
                       working_set, started: float, load_before: float) -> Iterator[dict]:
        from rag.answering import answer_events, extractive_events
        from rag.asked_metadata import asked_metadata, asks_when, asks_who, authored, dated, listing_events, note
        from rag.extractive import compose
        from rag.names import IDENTIFIER_FLOOR, said_identifiers, titled_identifiers, unknown_terms, unsaid_names
        from rag.paper_names import named_sources, paper_name, papers_by_name, recased
        from rag.shapes import read_question, without_preamble
        from rag.similar import like_reading, nearest, similar_name
        from rag.working_set import asks_for_more, swapped

        self.check_filters(filters)
        turn = self.in_chat(question, history, k, filters, working_set, started, load_before)
        if turn is not None:  # about the papers in play, or pointing back at none
            yield from turn
            return
        own = read_question(question)
        own_shape, own_wanted = own.shape, own.wanted
        # "Any more like these?", "Show me more.": the earlier list again, naming only papers not
        # shown yet (a list of 14 matches that showed 10 has 4 more to show)
        in_play = list(self.working_set_from(history, k, filters) if working_set is REBUILD else working_set or ()) \
            if history and asks_for_more(question) else []
        beyond = frozenset(in_play[:max(k or self.settings.k, self.settings.list_max)])
        backend = self.backend
        tc = time.perf_counter()
        # "…that link their code": met from the records, not searched for (an earlier turn's is not this one's)
        asked = asked_metadata(without_preamble(question))
        if asked and not asked.rest:  # "Which papers link their code?": the records answer, nothing is searched
            yield from listing_events(self, question, asked, filters, k, started, load_before)
            return
        if asked and asked.code:
            filters = Filters(sources=filters.sources if filters else (), has_code=True)
        searched = asked.rest if asked else question
        # more like the papers in play: the question that found them, as it was searched
        query = self.condense(history[-1], history[:-1]) if beyond else self.condense(searched, history)
        if query == searched:  # "Now, which papers…", "Switching topics: which…": the lead-in is not searched
            query = without_preamble(searched)
        condense_ms = (time.perf_counter() - tc) * 1000
        reading = read_question(query)  # a follow-up is scored on its condensed query…
        # …answered as its own words ask, or as the question it swaps a part of asked
        form = "list" if beyond else reading.shape if not history or swapped(question, history[-1]) else own_shape
        retriever = self.retriever()  # loads the index and the encoder (counted as load, not retrieval)
        t0 = time.perf_counter()
        qvec = retriever.embed_query(query)
        ranking = self.judge(query, reading, qvec, k or self.settings.k, filters, form, asked.year if asked else None,
                             beyond)
        like = similar_name(question) if not history else None
        liked = next((j for j, _ in named_sources(like, ranking.sources)), None) if like else None
        if liked is not None:  # "Which papers are similar to Zero-TPrune?": the papers nearest that one
            query, reading = like_reading(liked.paper)
            form, qvec = "list", retriever.embed_query(query)
            ranking = nearest(self.judge(query, reading, qvec, own_wanted or k or self.settings.k, filters, form,
                                         beyond=frozenset({liked.paper.paper_id})), own_wanted or k or self.settings.k)
        hits = [j.hit for j in ranking.sources]
        t1 = time.perf_counter()
        yield {"type": "sources", "hits": hits}
        answer = Answer(question=question, answer="", abstained=False, citations=[], sources=hits,
                        llm=backend.name if backend else EXTRACTIVE, timings_ms={}, support=ranking.strength,
                        retrieval_query=query if query != question else None,
                        shape="followup" if history else form)
        unsaid = unsaid_names(form, question, ranking.sources) \
            if self.settings.abstain_on_unsaid_names and not history else []
        if not unsaid and self.settings.abstain_on_unsaid_names and not history and form != "list":
            unsaid = unknown_terms(question, self.index.bm25, ranking.sources)  # "Is metformin associated…?"
        weak = ranking.strength is None or ranking.strength < self.settings.abstain_threshold
        if weak and ranking.strength is not None and ranking.strength >= IDENTIFIER_FLOOR:
            weak = not said_identifiers(question, ranking.sources)  # "…on the ADE20K benchmark"
        if weak and ranking.sources:  # "How does miR-375 affect…?" of the paper titled "miR-375 inhibits…"
            weak = not titled_identifiers(question, ranking.sources)
        if weak and form != "list":  # "How does PiToMe decide…": a paper the corpus holds, asked about by its own name
            weak = not named_sources(question, ranking.sources[:3])  # (what it never says is still refused: unsaid)
        weak = weak and liked is None  # the corpus holds the paper asked about: its nearest are the answer
        if weak and not (form == "comparison" and len(papers_by_name(recased(question, ranking.sources), ranking.sources)) >= 2):
            self.abstain(answer, "retrieval")
        elif unsaid:
            self.abstain(answer, "names", unsaid)
        elif ranking.unmet:  # "Which papers report above 90% top-1 accuracy on ImageNet?"
            self.abstain(answer, "number", condition=ranking.unmet)
        else:
            shown = [j for j in ranking.sources if any(j is m for m in ranking.matches)]
            if (reading.wanted or own_wanted) and form == "list":  # "List three papers on…": the first three, all counted
                shown = shown[:reading.wanted or own_wanted]
            if form == "list" and liked is None:  # the papers nearest a named one match nothing
                answer.matches = {"count": len(ranking.matches), "shown": len(shown),
                                  "paper_ids": [j.paper.paper_id for j in ranking.matches]}
            plan = compose(form, question, ranking.sources, ranking.sources if liked is not None else shown,
                           len(ranking.matches), self.settings, beyond=len(beyond),
                           asked_for=bool(reading.wanted or own_wanted), near=paper_name(liked.paper) if liked is not None else None)
            if asked:
                plan.text = f"{note(asked, ranking.dated)}\n{plan.text}"
            elif form in ("single", "quantity") and asks_when(question):  # "When was Swin Transformer published?"
                plan.text = f"{dated(ranking.sources[0].paper, paper_name(ranking.sources[0].paper))}\n{plan.text}"
            elif form in ("single", "quantity") and asks_who(question):  # "Who proposed the Swin Transformer?"
                plan.text = f"{authored(ranking.sources[0].paper, paper_name(ranking.sources[0].paper))}\n{plan.text}"
            if plan.markers:
                yield from answer_events(answer, plan, ranking.sources, backend, self.encoder, self.settings,
                                         decline=lambda a: self.abstain(a, "model"))
            else:  # "No paper beyond the 10 above matches.": nothing to cite, nothing for a model to add
                yield from extractive_events(answer, plan)
        if asked and answer.abstained:  # what was searched: "Only papers that link their code were searched."
            answer.answer += f" {note(asked, ranking.dated)}"
        if history:
            answer.timings_ms["condense"] = condense_ms
        yield {"type": "answer", "answer": self.finish(answer, hits, started, t0, t1, load_before)}

    def about_events(self, question: str, kind: str, started: float, load_before: float) -> Iterator[dict]:
        """A message about the chat or the corpus (rag.about_corpus), answered from the index:
        nothing searched, nothing cited, shape "about"."""
        from rag.answering import extractive_events
        from rag.extractive import ExtractiveAnswer

        t0 = time.perf_counter()
        text = about_corpus.reply(kind, self.index.catalog, self.index.bm25.source_files())
        yield {"type": "sources", "hits": []}
        answer = Answer(question=question, answer="", abstained=False, citations=[], sources=[], llm=EXTRACTIVE,
                        timings_ms={}, shape="about")
        yield from extractive_events(answer, ExtractiveAnswer(text=text, markers=[], form="about"))
        yield {"type": "answer", "answer": self.finish(answer, [], started, t0, time.perf_counter(), load_before)}

    def finish(self, answer: Answer, hits: list, started: float, t0: float, t1: float, load_before: float) -> Answer:
        """Citations from the markers the answerer produced, timings and the stamp."""
        t2 = time.perf_counter()
        by_rank = {h.rank: h for h in hits}
        answer.citations = [Citation(marker=m, paper_id=by_rank[m].paper.paper_id, title=by_rank[m].paper.title)
                            for m in dict.fromkeys(answer.markers) if m in by_rank]
        answer.timings_ms.update({"retrieve": (t1 - t0) * 1000, "generate": (t2 - t1) * 1000,
                                  "total": (t2 - started) * 1000, "load": self.load_ms - load_before})
        answer.stamp = self.stamp()
        return answer

    def check_filters(self, filters: Filters | None) -> None:
        """A corpus-file filter naming no file of the index would silently match nothing."""
        if not filters or not filters.sources:
            return
        known = self.index.bm25.source_files()
        unknown = [s for s in filters.sources if s not in known]
        if unknown:
            choices = ", ".join(known[:10]) + (f" (and {len(known) - 10} more)" if len(known) > 10 else "")
            raise UsageError(f"no corpus file named {unknown[0]!r} in the index: choose from {choices}")

    def abstain(self, answer: Answer, reason: str, names: Sequence[str] = (), condition: str = "") -> None:
        from rag.prompts import render

        answer.abstained, answer.abstain_reason, answer.markers = True, reason, []
        count = self.index.catalog.count_papers()
        answer.answer = render(self.settings.prompts_dir, "abstain_names.txt", paper_count=count,
                               names=" or ".join(names)) if names else \
            render(self.settings.prompts_dir, "abstain_number.txt", condition=condition) if condition else \
            render(self.settings.prompts_dir, "abstain.txt", paper_count=count)
        from rag.spelling import looks_foreign

        if looks_foreign(answer.question, self.speller.known):
            answer.answer += " " + render(self.settings.prompts_dir, "abstain_language.txt")

    def stamp(self) -> dict:
        meta = self.index.catalog.all_meta()
        return {"index_dir": str(self.settings.index_dir), "index_version": meta.get("version"),
                "embed_model": meta.get("embed_model"), "retriever": self.settings.retriever,
                "settings": self.settings.stamp()}
