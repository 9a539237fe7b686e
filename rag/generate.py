"""LLM answers: the prompt over numbered sources, streamed and checked sentence by sentence.

The sources go in rank order until the prompt budget (the model's context window minus the
answer's tokens, by tiktoken count with a safety margin) is spent: lower-ranked sources are
dropped first and a source is never cut mid-sentence (only the top source may be shortened,
by whole sentences, when it alone is too long). The model's text is split into sentences as
it streams; each sentence is judged by the citation checker as soon as it is complete, so
only checked sentences ever reach the user.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Iterator

from rag.citations import MARKER, CitationChecker, Verdict, answer_sentences
from rag.injection import strip_instructions
from rag.prompts import render
from rag.tokens import count_tokens

NOT_COVERED = "The sources do not cover this question."
MAX_SENTENCES = 6
# How a model says it cannot answer, in the words small models actually use.
DECLINE = re.compile(r"\b(?:do(?:es)? not|don't|doesn't|cannot|can't|not) (?:cover|contain|mention|address|answer|provide|include)"
                     r"|\bnot covered\b|\bno (?:relevant )?information\b|\bnot (?:enough|sufficient) information\b", re.I)
SAFETY = 0.9  # tiktoken is not the model's tokenizer: leave a margin


@dataclass
class Prompt:
    messages: list[dict[str, str]]
    seen: list  # the judged sources (rag.relevance.Judged) the model saw, in rank order
    tokens: int


@dataclass
class Generation:
    verdicts: list[Verdict] = field(default_factory=list)  # every sentence, kept or not
    raw: str = ""

    @property
    def kept(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.supported]

    @property
    def declined(self) -> bool:
        return not self.kept and bool(DECLINE.search(self.raw))


def neutralise(text: str) -> str:
    """Source text cannot open or close a source block (it is data, not markup), and
    sentences that read as instructions to the model are left out."""
    return re.sub(r"</?\s*source\b[^>]*>?", "", strip_instructions(text), flags=re.I)


FORMS = ("list", "single", "quantity", "comparison", "explanation")
EVIDENCE_SENTENCES = 4  # per source, when whole abstracts do not fit


def source_block(prompts_dir, judged, body: str) -> str:
    """One numbered source block with `body` as its abstract."""
    return render(prompts_dir, "source.txt", marker=judged.hit.rank, title=neutralise(judged.paper.title),
                  abstract=neutralise(body))


def evidence_body(judged) -> str:
    """A source's best sentences, numbered, in abstract order."""
    picked = sorted(judged.best_sentences(EVIDENCE_SENTENCES)) or [0]
    return "\n".join(f"{n}. {judged.sentences[i]}" for n, i in enumerate(picked, start=1)) or judged.paper.abstract


def build_prompt(question: str, sources: list, context_tokens: int, max_tokens: int, prompts_dir,
                 form: str = "single", match_count: int | None = None) -> Prompt:
    """`sources`: judged sources (rag.relevance.Judged) in rank order. Whole abstracts when
    every source fits; otherwise each source's selected evidence (its best sentences), so a
    tight context drops fewer sources; lowest-ranked sources go first when even that is too much."""
    system = render(prompts_dir, "system.txt", not_covered=NOT_COVERED, max_sentences=MAX_SENTENCES)
    form_text = render(prompts_dir, f"form_{form if form in FORMS else 'single'}.txt")
    if form == "list" and match_count:
        form_text += f" The retrieval found {match_count} candidate matches among the sources."

    def user(blocks: list[str]) -> str:
        return render(prompts_dir, "answer.txt", sources="\n".join(blocks), question=question,
                      max_sentences=MAX_SENTENCES, form=form_text)

    budget = int(context_tokens * SAFETY) - max_tokens - count_tokens(system) - count_tokens(user([])) - 16
    whole = [source_block(prompts_dir, j, j.paper.abstract) for j in sources]
    blocks = whole if sum(count_tokens(b) for b in whole) <= budget else [
        source_block(prompts_dir, j, evidence_body(j)) for j in sources]
    kept, seen = [], []
    for judged, text in zip(sources, blocks):
        cost = count_tokens(text)
        if cost > budget and not seen:  # the top source alone is too long: keep whole sentences
            sentences: list[str] = []
            for sentence in judged.sentences:
                if count_tokens(source_block(prompts_dir, judged, " ".join(sentences + [sentence]))) > budget:
                    break
                sentences.append(sentence)
            if not sentences:
                break
            text = source_block(prompts_dir, judged, " ".join(sentences))
            cost = count_tokens(text)
        elif cost > budget:
            break  # this and every lower-ranked source are dropped
        kept.append(text)
        seen.append(judged)
        budget -= cost
    content = user(kept)
    messages = [{"role": "system", "content": system}, {"role": "user", "content": content}]
    return Prompt(messages=messages, seen=seen, tokens=count_tokens(system) + count_tokens(content))


def complete_sentences(buffer: str) -> tuple[list[str], str]:
    """Split streamed text into finished sentences and the unfinished rest. A sentence is
    finished once the next one has begun with words (its markers may still be coming)."""
    pieces = answer_sentences(buffer)
    if len(pieces) < 2:
        return [], buffer
    tail = re.sub(r"\[[\d,;\s–-]*$", "", MARKER.sub("", pieces[-1]))  # minus markers, even half-written ones
    if re.search(r"[^\W\d_]", tail):
        return pieces[:-1], pieces[-1]
    return pieces[:-2], " ".join(pieces[-2:])


def stream_checked(pieces: Iterator[str], checker: CitationChecker, generation: Generation) -> Iterator[Verdict]:
    """Judge each sentence as soon as it is complete; yield every verdict in order."""
    buffer = ""
    for piece in pieces:
        generation.raw += piece
        buffer += piece
        done, buffer = complete_sentences(buffer)
        for sentence in done:
            verdict = checker.judge(sentence)
            generation.verdicts.append(verdict)
            yield verdict
    for sentence in answer_sentences(buffer):
        verdict = checker.judge(sentence)
        generation.verdicts.append(verdict)
        yield verdict
