"""Making the answer text once the pipeline has decided to answer: extractive or LLM.

Takes what it uses: the `Answer` to fill in, the extractive plan (rag.extractive, already
shaped for the question), the judged sources, the backend, the encoder for the citation
checker and the settings. Yields the sentence events the user sees and fills in the answer's
text, its markers (the citations are built from them, never re-parsed from the text), the
per-sentence verdicts, fallback and the sources the model saw. LLM sentences pass the citation
checker before they are yielded; when none survives, the model's refusal becomes an
abstention (`decline`) and anything else falls back to the extractive answer, so a user never
sees an uncited or mis-cited claim.
"""

from __future__ import annotations

import time
from typing import Callable, Iterator

from rag.citations import CitationChecker
from rag.extractive import ExtractiveAnswer
from rag.generate import Generation, build_prompt, stream_checked
from rag.records import Answer


def extractive_events(answer: Answer, plan: ExtractiveAnswer) -> Iterator[dict]:
    answer.answer, answer.markers = plan.text, list(plan.markers)
    for line in plan.text.splitlines():
        yield {"type": "sentence", "text": line, "end": "\n"}


def answer_events(answer: Answer, plan: ExtractiveAnswer, sources: list, backend, encoder, settings,
                  decline: Callable[[Answer], None]) -> Iterator[dict]:
    """`sources`: the judged sources (rag.relevance.Judged) in rank order."""
    if backend is None:
        yield from extractive_events(answer, plan)
        return
    question = answer.question if answer.retrieval_query is None else answer.retrieval_query
    prompt = build_prompt(question, sources, backend.context_tokens, settings.llm_max_tokens, settings.prompts_dir,
                          form=plan.form, match_count=(answer.matches or {}).get("count"))
    answer.sources_seen = [j.hit.rank for j in prompt.seen]
    answer.prompt_tokens = prompt.tokens
    checker = CitationChecker(encoder, settings.support_threshold, {j.hit.rank: j.paper for j in prompt.seen})
    generation = Generation()
    started, first = time.perf_counter(), None

    def timed(pieces):
        nonlocal first
        for piece in pieces:
            if first is None:
                first = time.perf_counter()
            yield piece

    shown, markers = [], []
    for verdict in stream_checked(timed(backend.stream(prompt.messages)), checker, generation):
        if verdict.supported or (settings.keep_unsupported and verdict.text):
            shown.append(verdict.text)
            markers.extend(verdict.markers)
            yield {"type": "sentence", "text": verdict.text, "end": " "}
    if first is not None:
        answer.timings_ms["first_token"] = (first - started) * 1000
    answer.sentences = [v.to_json() for v in generation.verdicts]
    answer.model_output = generation.raw
    if generation.kept:
        answer.answer, answer.markers = " ".join(shown), list(dict.fromkeys(markers))
    elif generation.declined:
        decline(answer)
    else:
        answer.fallback = "extractive"
        yield from extractive_events(answer, plan)
