"""Making the answer text once retrieval has decided to answer: extractive or LLM.

Yields the sentence events the user sees and fills in the `Answer` (text, per-sentence
verdicts, fallback, the sources the model saw). LLM sentences pass the citation checker
before they are yielded; when none survives, the model's refusal becomes an abstention and
anything else falls back to the extractive answer, so a user never sees an uncited or
mis-cited claim.
"""

from __future__ import annotations

import time
from typing import Iterator

from rag.citations import CitationChecker
from rag.extractive import extractive_answer
from rag.generate import Generation, build_prompt, stream_checked
from rag.records import Answer


def extractive_events(pipeline, answer: Answer, qvec) -> Iterator[dict]:
    result = extractive_answer(qvec, answer.sources, pipeline.encoder, pipeline.settings)
    answer.answer = result.text
    for line in result.text.splitlines():
        yield {"type": "sentence", "text": line, "end": "\n"}


def answer_events(pipeline, answer: Answer, qvec, backend) -> Iterator[dict]:
    if backend is None:
        yield from extractive_events(pipeline, answer, qvec)
        return
    settings = pipeline.settings
    prompt = build_prompt(answer.question if answer.retrieval_query is None else answer.retrieval_query,
                          answer.sources, backend.context_tokens, settings.llm_max_tokens, settings.prompts_dir)
    answer.sources_seen = [h.rank for h in prompt.seen]
    answer.prompt_tokens = prompt.tokens
    checker = CitationChecker(pipeline.encoder, settings.support_threshold, {h.rank: h.paper for h in prompt.seen})
    generation = Generation()
    started, first = time.perf_counter(), None

    def timed(pieces):
        nonlocal first
        for piece in pieces:
            if first is None:
                first = time.perf_counter()
            yield piece

    shown = []
    for verdict in stream_checked(timed(backend.stream(prompt.messages)), checker, generation):
        if verdict.supported or (settings.keep_unsupported and verdict.text):
            shown.append(verdict.text)
            yield {"type": "sentence", "text": verdict.text, "end": " "}
    if first is not None:
        answer.timings_ms["first_token"] = (first - started) * 1000
    answer.sentences = [v.to_json() for v in generation.verdicts]
    answer.model_output = generation.raw
    if generation.kept:
        answer.answer = " ".join(shown)
    elif generation.declined:
        pipeline.abstain(answer, "model")
    else:
        answer.fallback = "extractive"
        yield from extractive_events(pipeline, answer, qvec)
