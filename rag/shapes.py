"""How a question is read: its shape, the words that only say "give me a list", and its aspects.

Shapes (docs/contracts.md §2, `shape`): `list` ("which papers / methods…", "are there…", "what
approaches…"), `quantity` ("how much / how many / what accuracy…"), `comparison` (two named
methods or papers), `explanation` ("how does … work", "why…"), `single` (a look-up: the
default) and `followup` (a question with chat history; it is answered in the form of the shape
its own words have). Rules on the wording, no model: they are cheap, predictable, and each one
has a test case. `aspects` splits a question into what it is about and the conditions it puts
("prune tokens" | "without fine-tuning"), so that a paper must meet every condition.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Nouns that stand for papers ("which datasets…" asks for datasets, not for a list of papers).
_NOUNS = (r"papers?|methods?|works?|approaches|approach|models?|architectures?|studies|study|techniques?|systems?|"
          r"implementations?|surveys?|backbones?|articles?|frameworks?|algorithms?|"
          r"solutions|variants|strategies|publications|detectors|trackers")
# The words that ask for a list and say nothing about the topic: "Which papers", "Are there works that".
LIST_LEAD = re.compile(
    # "What work / research [has been done | exists] [in the collection] [on]…" first: its next
    # word is the topic's ("What work *models* a user's history…")
    rf"^(?:what\s+(?:work|research)\b(?:\s+(?:has been done|have been done|is there|exists?|is available))?"
    rf"(?:\s+in\s+(?:the|this)\s+(?:corpus|collection))?(?:\s+(?:on|about|into|regarding)\b)?"
    rf"|(?:which|what)\s+(?:(?:other|existing|recent|[\w-]+)\s+){{0,5}}?(?:{_NOUNS})\b(?:\s+(?:or|and)\s+[\w-]+(?:\s+(?:{_NOUNS}))?)?"
    rf"|(?:are|were) there\s+(?:any\s+)?(?:other\s+)?(?:(?:{_NOUNS})\b)?"
    rf"|(?:list|name|find|show(?: me)?|give(?: me)?)\s+(?:all\s+|the\s+|every\s+|some\s+)*(?:(?:{_NOUNS})\b)?"
    rf")"
    rf"\s*(?:(?:that|which|who|in the corpus|in this corpus)\s+)*",
    re.IGNORECASE)
_SINGULAR_LEAD = re.compile(r"^(?:which|what)\s+(?:paper|method|work|model|architecture|approach|study|technique|system)\b", re.I)
_PLURAL = re.compile(r"\b(?:all|every|any|several|multiple|other|papers|methods|works|approaches|models|architectures|studies|"
                     r"techniques|systems|implementations|surveys|backbones|articles|frameworks|algorithms|"
                     r"solutions|variants|strategies|publications|detectors|trackers)\b", re.I)
_QUANTITY = re.compile(
    r"^\s*(?:how\s+(?:much|many|fast|large|big|small|long|accurate|well)\b|by how much\b|what(?:'s| is| was| are)?\s+(?:the\s+)?"
    r"(?:[\w-]+\s+){0,3}?(?:score|accuracy|speed-?up|latency|throughput|number|percentage|f1|bleu|miou|map|auc|error|"
    r"perplexity|fid|sizes?|counts?|lengths?|improvement|reduction|gain|top-1|flops|parameters|amota|mota|wer|psnr|ssim|recall|precision)\b"
    r"|what\s+[\w-]+\s+(?:does|do|did)\s+.+\b(?:achieve|reach|get|score|obtain|report)\b)", re.I)
_COMPARE = re.compile(r"\b(?:compare[sd]?|comparison|versus|vs\.?|differ(?:ence|s)?|contrast|better than|"
                      r"how does .+ (?:differ|compare)|what distinguishes)\b"
                      r"|^\s*(?:which|who)\b.*\b(?:higher|lower|better|worse|faster|slower|more|fewer)\b.*\bor\b", re.I)
_HOW_MUCH = re.compile(r"^\s*(?:how\s+(?:much|many)|by how much)\b", re.I)
_EXPLAIN = re.compile(r"^\s*(?:how\s+(?:does|do|did|is|are|can|could)|why\b|what\s+(?:is|are)\s+the\s+(?:idea|mechanism|"
                      r"key idea|intuition|reason|role)|explain|describe)", re.I)
# "What work / research…" (no article: the field's work, a mass noun) asks for all of it, as
# "what works" does; "which work…" asks for one.
_LIST_START = re.compile(r"^\s*(?:(?:are|were) there\b|list\b|name\b|what approaches\b|what methods\b|what works?\b|"
                         r"what research\b)", re.I)
# Where a condition starts inside the topic: "prune tokens | without fine-tuning".
_CONDITION = re.compile(r"\s+(?=(?:without|while|using|via|rather than|instead of|as opposed to|other than|"
                        r"except|beyond|but not|and not|with no|with(?= \w+ (?:code|data|results?))\b|"
                        r"also(?= \w+)))"  # "…segmentation papers | also contribute a new dataset"
                        # "…transformers that use | no positional encoding": the absence is the condition
                        r"|(?:(?<=\buse)|(?<=\buses)|(?<=\bneed)|(?<=\bneeds)|(?<=\brequire)|(?<=\brequires)|"
                        r"(?<=\bkeep)|(?<=\bkeeps))\s+(?=no\b)", re.I)


@dataclass(frozen=True)
class Reading:
    shape: str  # list | single | quantity | comparison | explanation | followup
    topic: str  # the question without the words that only ask for a list
    aspects: tuple[str, ...]  # the topic split into what it is about and its conditions
    kind: str | None = None  # the kind of paper a list asks for: "survey", "method" or None (any; asked_kind)


# The kind of paper a list question asks for. A survey proposes nothing: "which methods…",
# "which papers propose / design…" are not answered by one; "list the surveys…" only by one.
# "Which papers / works / studies…" may be answered by either.
_SURVEY_NOUN = re.compile(r"\b(?:surveys?|reviews?|overviews?|tutorials?)\b", re.I)
_METHOD_NOUN = re.compile(r"\b(?:methods?|approach(?:es)?|architectures?|models?|techniques?|frameworks?|algorithms?|"
                          r"systems?|detectors?|trackers?|variants|strategies|implementations?|backbones?)\b", re.I)
_PROPOSES = re.compile(r"^(?:\w+ly\s+)?(?:propose|introduce|design|develop|present|devise)(?:s|d|ed)?\b", re.I)


_NOT_A_SURVEY = re.compile(r"\b(?:rather than|instead of|not)\s+(?:just\s+|only\s+|merely\s+)?(?:review|survey)", re.I)
_IS_A_SURVEY = re.compile(r"^(?:(?:are|is)\s+(?:a\s+)?(?:surveys?|reviews?|overviews?|tutorials?)\b"
                          r"|(?:review|survey)s?\s+(?:the\s+|a\s+)?(?:field|area|literature|research)\b)", re.I)


def condition_kind(condition: str) -> str | None:
    """The kind of paper a follow-up's condition keeps ("propose a new model rather than reviewing
    the field": "method"; "are surveys": "survey"), else None."""
    condition = condition.strip()
    if _PROPOSES.match(condition) or _NOT_A_SURVEY.search(condition):
        return "method"
    if _IS_A_SURVEY.match(condition):
        return "survey"
    return None


def asked_kind(question: str) -> str | None:
    """"survey" when a list asks for surveys or reviews, "method" when it asks for methods (or
    for papers that propose one), else None: read off the words that ask for the list."""
    q = without_preamble(question)
    lead = LIST_LEAD.match(q)
    if not lead or not lead.group(0).strip():
        return None
    if _SURVEY_NOUN.search(lead.group(0)) or _SURVEY_NOUN.match(q[lead.end():]):
        return "survey"
    if _METHOD_NOUN.search(lead.group(0)) or _PROPOSES.match(q[lead.end():]):
        # "…propose, modify, analyze or survey Mamba models": a survey is asked for too
        offers_survey = re.search(r"\b(?:surveys?|reviews?)\b", q[lead.end():], re.I) and not _NOT_A_SURVEY.search(q)
        return None if offers_survey else "method"
    return None


_MODIFIED_LEAD = re.compile(rf"^(?:which|what)\s+(?!(?:work|research)\b)(?P<mods>(?:[\w-]+\s+){{1,5}}?)(?=(?:{_NOUNS})\b)",
                            re.I)
_GENERIC_MODIFIERS = {"other", "existing", "recent", "published", "proposed", "different", "new", "of", "the"}


def strip_list_lead(question: str) -> str:
    """The question minus the words that only ask for a list. Words naming the kind of paper
    stay ("Which *audio* papers…", "Which *object detection or visual tracking* models…"):
    they are part of the topic."""
    q = question.strip()
    lead = LIST_LEAD.match(q)
    body = q[lead.end():].strip(" ?.!") if lead else q.strip(" ?.!")
    if lead and _MODIFIED_LEAD.match(q):
        kept = [w for w in lead.group(0).split()[1:]
                if w.lower() not in _GENERIC_MODIFIERS and not re.fullmatch(rf"(?:{_NOUNS}|that|which|who)", w, re.I)]
        body = " ".join([*kept, body]).strip()
    return body or q.strip(" ?.!")


# A condition on a number: "of 85% or higher", "to 4 bits or fewer", "faster than 100 frames per second".
NUMBER_CONDITION = re.compile(
    r"(?:\b(?:of|to|with|at|by|reaching|exceeding)\s+)?"
    r"(?:(?:more|higher|greater|faster|larger|fewer|less|lower|smaller|slower|better)\s+than\s+|"
    r"at\s+(?:least|most)\s+|up\s+to\s+|over\s+|above\s+|under\s+|below\s+)?"
    r"\d+(?:\.\d+)?\s*(?:%|percent\b|-?bits?\b|fps\b|frames per second|ms\b|milliseconds\b)"
    r"(?:\s+or\s+(?:higher|more|above|better|greater|fewer|less|lower|below|smaller|faster))?", re.I)


# A unit the question asks for without a number ("report a speed in frames per second", "latency
# in milliseconds"): met by a sentence that states a number in it (rag.conditions.number_condition).
UNIT_CONDITION = re.compile(r"\b(?:in|as)\s+(?:frames per second|fps|milliseconds|ms)\b", re.I)


# An illustration ("…, for example to build QA data", "e.g. on ImageNet"): it shows what is
# meant but is not a condition a paper must meet.
_EXAMPLE = re.compile(r"[,;(]?\s*\b(?:for example|for instance|e\.g\.?)(?!\w).*$", re.I)
# A contrast ("instead of stacking layers", "rather than recognize speech") names what the
# asked-for papers replace; abstracts rarely say so, so it is not a condition to meet either.
CONTRAST = re.compile(r"^(?:rather than|instead of|as opposed to|other than)\b", re.I)


def aspects_of(topic: str) -> tuple[str, ...]:
    """What a paper must meet: the topic and each condition, without illustrations and contrasts."""
    core = _EXAMPLE.sub("", topic).strip(" ,;") or topic
    return tuple(a for a in _split_aspects(core) if not CONTRAST.match(a)) or (core,)


def _split_aspects(topic: str) -> tuple[str, ...]:
    number = NUMBER_CONDITION.search(topic) or UNIT_CONDITION.search(topic)
    if number and number.start() > 0:  # the number's condition is an aspect of its own
        head = _split_aspects(topic[:number.start()].strip(" ,;"))
        rest = topic[number.end():].strip(" ,;")
        tail = _split_aspects(rest) if len(re.findall(r"\w{3,}", rest)) >= 1 else ()
        return (*head, number.group(0).strip(), *tail)
    parts = [p.strip(" ,;") for p in _CONDITION.split(topic) if p.strip(" ,;")]
    parts = [p for p in parts if len(re.findall(r"\w{3,}", p)) >= 1]
    return tuple(parts) or (topic,)


# A lead-in before the question itself: "Different question: which papers…", "Now, which…".
_PREAMBLE = re.compile(r"^(?:(?:[\w'’-]+[ ,]+){0,7}[\w'’-]+:\s+|(?:now|and|so|ok(?:ay)?|also|next|then|well|finally)\b[,:]?\s+)",
                       re.IGNORECASE)


def without_preamble(question: str) -> str:
    """The question without a lead-in that names nothing ("Switching to text: which papers…" ->
    "which papers…"); a lead-in with a name in it ("ADE20K: which models…") is part of the question."""
    q = question.strip()
    lead = _PREAMBLE.match(q)
    if not lead or re.search(r"[A-Z]{2}|\d", lead.group(0)) or not q[lead.end():].strip():
        return q
    return q[lead.end():].strip()


def shape_of(question: str) -> str:
    q = without_preamble(question)
    if _HOW_MUCH.match(q):
        return "quantity"
    if _COMPARE.search(q) and not _LIST_START.match(q):
        return "comparison"
    if _QUANTITY.match(q):
        return "quantity"
    if _LIST_START.match(q):
        return "list"
    lead = LIST_LEAD.match(q)
    if lead and lead.group(0).strip() and not _SINGULAR_LEAD.match(q) and _PLURAL.search(lead.group(0)):
        return "list"
    if _EXPLAIN.match(q):
        return "explanation"
    return "single"


# A question about a finding, answered yes or no ("Does X reduce Y?", "Claim to verify: …"), not
# one about whether a paper exists ("Is there a paper…", "Are there works…", "Has anyone…").
_VERDICT = re.compile(r"^\s*(?:claim(?: to verify)?:|(?:does|do|did|is|are|was|were|can|could|has|have|had|will|would|should)\b"
                      r"(?!\s+(?:there|anyone|anybody|any (?:paper|work|study|method)s?)\b))", re.I)
# A bare statement to check ("ALDH1 expression is associated with poorer prognosis."): no question
# mark and no word that asks or tells.
_ASKING_START = re.compile(r"^\s*(?:which|what|who|whom|whose|how|why|when|where|list|name|find|show|give|compare|"
                           r"describe|explain|tell|summari[sz]e|are there|is there)\b", re.I)
_FINITE = re.compile(r"\b(?:is|are|was|were|has|have|had|can|could|may|might|will|would|should|must|does|do|did)\b", re.I)


def asks_verdict(question: str) -> bool:
    """A yes-or-no question about a finding, or a claim to check."""
    q = question.strip()
    if _VERDICT.match(q):
        return True
    stated = q.endswith(".") or _FINITE.search(q)  # a sentence, not a keyword query ("token pruning without fine-tuning")
    return bool(stated) and not q.endswith("?") and not _ASKING_START.match(q) and len(q.split()) >= 4


def read_condition(condition: str) -> Reading:
    """A chat filter's condition ("report a speed in frames per second"), read whole — its number
    or unit, if it gives one, an aspect of its own, met only by a sentence that states it."""
    reading = read_question(condition)
    if NUMBER_CONDITION.search(reading.topic) or UNIT_CONDITION.search(reading.topic):
        return Reading(shape=reading.shape, topic=reading.topic, aspects=_split_aspects(reading.topic), kind=reading.kind)
    return reading


def read_question(question: str, history: tuple[str, ...] | list[str] = ()) -> Reading:
    shape = shape_of(question)
    question = without_preamble(question)
    topic = strip_list_lead(question) if shape == "list" else question.strip(" ?.!")
    reading = Reading(shape=shape, topic=topic, aspects=aspects_of(topic) if shape == "list" else (topic,),
                      kind=asked_kind(question) if shape == "list" else None)
    if history:
        return Reading(shape="followup", topic=reading.topic, aspects=reading.aspects, kind=reading.kind)
    return reading
