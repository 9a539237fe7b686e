"""Answering a follow-up over the chat's working set (rag.working_set reads it): the set's papers
judged on the follow-up's condition, filtered, counted, compared or one picked, and the
extractive answer that says so ("Of the 4 papers above, 2 match …")."""

from __future__ import annotations

import re
from dataclasses import replace

from rag.conditions import data_acronyms, is_option, question_names, says_name
from rag.extractive import Composer, ExtractiveAnswer, compose
from rag.intents import asked_sentences
from rag.kinds import is_survey
from rag.names import paper_text
from rag.paper_names import introduced_names, paper_name
from rag.measures import reports_measure
from rag.shapes import shape_of
from rag.set_requests import SetRequest
from rag.working_set import NAME_PATTERN, metadata_matches, paper_year


# What a condition that only asks for one kind of paper may say besides ("propose a *new* model",
# "are *surveys* of the *field*").
KIND_WORDS = {"method": "new novel", "survey": "new surveys reviews overviews tutorials literature field area research"}


def judge_set(retriever, catalog, bm25, encoder, settings, query: str, reading, qvec, set_ids: list[str],
              request: SetRequest):
    """The set's papers judged on the follow-up: (ranking, what the records lack, set size).
    A filter is judged against a topic-blind sample of the index (four papers have no spread
    of their own, and the papers nearest the condition would make it look common)."""
    from rag.evidence import EvidenceStore
    from rag.pipeline import Ranking
    from rag.kinds import of_kind
    from rag.lists import set_matches
    from rag.relevance import EvidenceScorer
    from rag.shapes import aspects_of, condition_kind

    members = retriever.hits_for(set_ids, qvec)
    ids = {h.paper.paper_id for h in members}
    hits = members
    if request.kind == "filter":
        sample = [p for p in catalog.sample_paper_ids(settings.evidence_pool) if p not in ids]
        hits = retriever.hits_for(sample, qvec) + members
    evidence = EvidenceStore(catalog, encoder).load([h.paper for h in hits])
    scorer = EvidenceScorer(bm25, encoder)
    judged = scorer.judge(reading, query, qvec, hits, evidence)
    by_id = {j.paper.paper_id: j for j in judged}
    in_set = [by_id[h.paper.paper_id] for h in members]  # the set's own order
    lacking = None
    if request.kind == "filter":
        # Only papers of the kind the condition keeps ("propose a new model rather than reviewing
        # the field": no survey), as list answers (rag.kinds.of_kind).
        kind = condition_kind(request.condition)
        kept = of_kind([j for j in judged if j.paper.paper_id in ids and not j.unmet], kind, strict=True)
        if kind and not set(scorer.terms(" ".join(aspects_of(request.condition)))) - set(scorer.terms(KIND_WORDS[kind])):
            matches = kept  # the condition is the kind alone ("propose a new model rather than reviewing")
        else:
            matches = set_matches(judged, kept, settings.set_relative, settings.set_min_strength, 0.0)
            # A condition that names one thing ("are built on a transformer", "aimed at robots", "are
            # about diabetes") is met by saying it, and only so: a word most of the index uses never
            # stands out from the sample, and a paper near a one-word condition need not be about it.
            term = one_term(scorer, request.condition)
            if term:
                chosen = {id(j) for j in kept if term in scorer.paper_tokens(j.paper)}
                matches = [j for j in kept if id(j) in chosen]
            named = condition_names(request.condition)
            if any(named):  # "evaluated on Long Range Arena", "report results on GLUE": met by saying the name
                matches = [j for j in kept if says_names(paper_text(j.paper), *named)]
    elif request.kind in ("code", "year", "category"):
        kept, lacking = metadata_matches(request, [j.paper for j in in_set])
        matches = [by_id[p.paper_id] for p in kept]
    elif request.kind == "start":  # the surveys first (they review the field), then the rest in the set's order
        surveys = of_kind(in_set, "survey", strict=True)
        matches = surveys + [j for j in in_set if j not in surveys]
    elif request.kind == "common":  # every paper, each read for what is nearest to all of them
        matches = in_set
        common_ground(in_set, evidence)
    elif request.kind in ("rank", "about"):  # every paper, the one whose sentences say most first
        matches = sorted(in_set, key=lambda j: -j.match)
    else:
        matches = pick_papers(request, in_set, settings.answer_max_papers)
    chosen = {id(j) for j in matches}
    sources = matches + [j for j in in_set if id(j) not in chosen]
    for rank, item in enumerate(sources, start=1):
        item.hit = replace(item.hit, rank=rank, score=item.relevance, evidence=item.evidence())
    return Ranking(sources=sources, matches=matches, strength=None), lacking, len(in_set)


def common_ground(papers: list, evidence: dict) -> None:
    """"What do they have in common?": each paper's sentences scored by their cosine to what all
    of them say (the mean of the papers' mean sentence vectors), the setting marked down as
    anywhere; its best sentence is then what it shares with the others, in its own words."""
    import numpy as np

    from rag.relevance import BACKGROUND_PENALTY

    means = [evidence[j.paper.paper_id].vectors.mean(axis=0) for j in papers if len(evidence[j.paper.paper_id].vectors)]
    if not means:
        return
    centre = np.mean([m / (np.linalg.norm(m) or 1.0) for m in means], axis=0)
    for judged in papers:
        vectors = evidence[judged.paper.paper_id].vectors
        if len(vectors) != len(judged.sentences):
            continue
        background = np.array([kind == "background" for kind in judged.kinds], dtype=bool)
        judged.scores = vectors @ centre - np.where(background, BACKGROUND_PENALTY, 0.0) - np.where(judged.usable, 0.0, 1.0)


# Verbs that only link a follow-up's condition to its one thing ("are *built on* a transformer",
# "*deal with* text", "*aimed at* robots").
LINKING_WORDS = ("built build based base employ employs rely relies leverage leverages adopt adopts apply applies "
                 "aimed aim deal deals about focus focuses focused concern concerns concerned address addresses "
                 "target targets involve involves involving mention mentions")
# Words that judge rather than name: every abstract says it is new, recent work or the best.
JUDGING_WORDS = ("recent recently latest newest newer new old older oldest best better good popular important "
                 "interesting notable promising simple strong")
_EXCLUDES = re.compile(r"\b(?:not|no|without|never|free|except|other than|n't)\b", re.I)


def one_term(scorer, condition: str) -> str | None:
    """The one term a condition names besides linking words and asking words, else None (also for
    a condition that excludes: "do not use attention" is not met by saying "attention")."""
    from rag.shapes import aspects_of

    aspects = " ".join(aspects_of(condition))
    if _EXCLUDES.search(aspects):
        return None
    linking = set(scorer.tokenize(LINKING_WORDS))
    terms = [t for t in scorer.terms(aspects) if t not in linking and "+" not in t]
    if len(terms) != 1 or terms[0] in set(scorer.tokenize(JUDGING_WORDS)):
        return None
    return terms[0]


# A benchmark's or dataset's name in a condition besides those question_names finds: an acronym it
# is evaluated on ("on GLUE", "on COCO": data_acronyms) and a run of capitalised words ("Long Range Arena").
_TITLED = re.compile(r"\b[A-Z][a-z]+(?:[ -][A-Z][a-z0-9]+)+\b")


def condition_names(condition: str) -> tuple[list[str], list[str]]:
    """The names a follow-up's condition gives, as (all of which a paper must say, one of which
    it must say: the options of an "A or B"); ([], []) when it gives none."""
    names = list(dict.fromkeys([*question_names(condition), *_TITLED.findall(condition), *data_acronyms(condition)]))
    names = [n for n in names if not any(n != m and n in m for m in names)]  # "Range Arena" in "Long Range Arena"
    options = [n for n in names if is_option(n, condition)]
    required = [n for n in names if n not in options]
    return (required, options) if names else ([], [])


def says_names(text: str, required: list[str], options: list[str]) -> bool:
    return all(says_name(text, n) for n in required) and (not options or any(says_name(text, n) for n in options))


# -- composing --------------------------------------------------------------------------------
def describe(request: SetRequest, count: int) -> str:
    one = count == 1
    if request.kind == "code":
        return "links code" if one else "link code"
    if request.kind in ("year", "category"):
        be = "is" if one else "are"
        if request.kind == "category":
            return f"{be} in {request.category}"
        op, year = request.year
        if op in ("latest", "earliest"):
            return f"{be} the {'most recent' if op == 'latest' else 'earliest'}"
        return f"{be} from {year}" if op == "in" else f"{be} from {op} {year}"
    return f'{"matches" if one else "match"} "{request.condition}"'


def _base(said: str) -> str:
    """"match …" / "link code" / "are from 2023" as after "does not": "match …", "link code", "be from 2023"."""
    return re.sub(r"^are\b", "be", said)


def compose_in_set(request: SetRequest, set_size: int, sources: list, matches: list, settings,
                   lacking: str | None = None) -> ExtractiveAnswer:
    """The extractive answer over the set: the count of the set's papers that meet the request
    and a line per paper (filter, metadata), a line per paper with what it reports on a measure
    (rank: "which of them is the fastest?"), or a block per paper (compare)."""
    most = asked_sentences(request.question)  # "Summarize them in one sentence each."
    composer = Composer(sources, settings.relevance_margin, settings.answer_max_papers, settings.sentences_per_paper,
                        settings.list_sentences, most=most)
    noun = "paper" if set_size == 1 else "papers"
    if request.kind == "about":  # a look-up over the papers just answered, in the shape its words ask for
        return compose(shape_of(request.question), request.question, matches, [], 0, settings)
    if request.kind == "start":  # which to read first: the abstracts do not say; the surveys review the field
        surveys = [j for j in matches if is_survey(j.paper.title, j.paper.abstract)]
        head = "The abstracts do not say which to read first; " + (
            f"{'a survey' if len(surveys) == 1 else f'{len(surveys)} surveys'} among the {set_size} {noun} above "
            f"{'reviews' if len(surveys) == 1 else 'review'} the field, then the rest in the order they matched:"
            if surveys else f"the {set_size} {noun} above in the order they matched:")
        composer.summary = True  # each paper by what it puts forward (the condition says nothing of them)
        lines = [head] + [f"- {paper_name(j.paper)} — {composer.quote(j, composer.pick(j, min(2, most or 2)))}"
                          for j in matches if composer.pick(j, 1)]
        plan = composer.result(lines)
        plan.form = "list"
        return plan
    if request.kind == "common":  # each one's sentence nearest to what all of them say (common_ground)
        lines = [f"What the {set_size} {noun} above have in common, in each one's sentence nearest to all of them:"]
        for judged in matches:
            best = judged.best_sentences(1)
            if best:
                lines.append(f"- {paper_name(judged.paper)} — {composer.quote(judged, best)}")
        plan = composer.result(lines)
        plan.form = "list"
        return plan
    if request.kind in ("compare", "pick") and not matches:  # "the fifth one" of three
        return ExtractiveAnswer(text=f"There {'is' if set_size == 1 else 'are'} only {set_size} {noun} above.",
                                markers=[], form="single")
    if request.kind in ("compare", "pick"):
        plan = composer.blocks(matches) if request.kind == "compare" else Composer(
            matches, 0.0, 1, settings.sentences_per_paper, most=most).single()
        plan.form = "comparison" if request.kind == "compare" else "single"
        if request.picks and max(p if p >= 0 else -p - 1 for p in request.picks) >= set_size:
            # "compare the first two" of one: say so before what there is
            plan.text = f"There {'is' if set_size == 1 else 'are'} only {set_size} {noun} above.\n{plan.text}"
        return plan
    if lacking:
        return ExtractiveAnswer(text=f"The records of the {set_size} {noun} above carry no {lacking}, so they cannot "
                                     f"be told apart by it.", markers=[], form="list")
    if not matches:
        none = f"The paper above does not {_base(describe(request, 2))}" if set_size == 1 else \
            f"None of the {set_size} {noun} above {describe(request, 2)}"
        return ExtractiveAnswer(text=f"{none}.", markers=[], form="list")
    if request.kind == "rank":
        head = (f"Their abstracts do not measure the {set_size} {noun} above on one scale; what each reports on "
                f'"{request.condition}":')
        if not any(reports_measure(j.sentences, request.condition) for j in matches):
            head = (f'None of the {set_size} {noun} above reports its {request.condition} in its abstract; what each '
                    f"says nearest to it:")
        plan = composer.listing(matches, len(matches), head=head)
        plan.form = "list"
        return plan
    head = f"Of the {set_size} {noun} above, {len(matches)} {describe(request, len(matches))}:"
    extra = (lambda judged: f"Code: {judged.paper.code_url}") if request.kind == "code" else \
        (lambda judged: f"({paper_year(judged.paper)})") if request.kind == "year" else None
    plan = composer.listing(matches, len(matches), head=head, extra=extra)
    plan.form = "list"
    return plan


def pick_papers(request: SetRequest, members: list, most: int) -> list:
    """The set's papers a compare / pick follow-up means: by position ("the first two", "the last
    one"), else by the names or titles it gives, else the whole set (up to `most`)."""
    if request.picks:
        chosen = [members[i] for i in request.picks if -len(members) <= i < len(members)]
        return list({id(j): j for j in chosen}.values())
    named = named_members(request.question, [j.paper for j in members])
    by_id = {j.paper.paper_id: j for j in members}
    return [by_id[p.paper_id] for p in named] if len(named) >= 2 else members[:most]


_QUOTED = re.compile(r"[\"'“‘]([^\"'”’]{8,})[\"'”’]")
_WORD = re.compile(r"[a-z0-9][a-z0-9+-]*")
_STOP = {"a", "an", "the", "of", "for", "and", "with", "in", "on", "to", "by", "via", "using", "from", "is", "are"}


def _words(text: str) -> set[str]:
    return {w.rstrip("s") for w in _WORD.findall(text.lower()) if w not in _STOP}


def names_the_set(question: str, papers: dict, ids: list[str]) -> bool:
    """A comparison in a chat is answered over the set when it names two of its papers."""
    return len(named_members(question, [papers[i] for i in ids if i in papers])) >= 2


def named_members(question: str, papers: list) -> list:
    """The papers of a set that a question names, in the order it names them: a quoted title, the
    paper's short name ("Swin Transformer", "LoRAT"), a name that its title carries ("CSWin"), or
    most of its title's words ("the robotic diffusion transformer policy")."""
    lowered, asked = question.lower(), _words(question)
    quotes = [q.lower().strip(" ?.") for q in _QUOTED.findall(question)]
    tokens = [n.lower() for n in NAME_PATTERN.findall(question) if len(n) > 2]
    found = []
    for paper in papers:
        title, short = paper.title.lower(), paper_name(paper).lower()
        at = [lowered.find(q) for q in quotes if q in title or title.startswith(q)]
        for name in {short, *(n.lower() for n in introduced_names(paper))}:  # "LoRAT" for "Tracking Meets LoRA: …"
            at += [m.start() for m in re.finditer(rf"(?<![\w-]){re.escape(name)}(?![\w-])", lowered)]
        at += [lowered.find(t) for t in tokens if re.search(rf"(?<![\w-]){re.escape(t)}(?![\w-])", title)]
        words = _words(paper.title.split(":")[0] if ":" in paper.title and len(short.split()) > 1 else paper.title)
        if not at and len(words) >= 2 and len(words & asked) >= 0.6 * len(words):
            at = [min(lowered.find(w) for w in words & asked)]
        if at:
            found.append((min(at), paper))
    return [paper for _, paper in sorted(found, key=lambda f: f[0])]
