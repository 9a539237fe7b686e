"""How a question is read: its shape, the words that only say "give me a list", and its aspects.

Shapes (docs/contracts.md §2, `shape`): `list` ("which papers / methods…", "are there…", "what
approaches…"), `quantity` ("how much / how many / what accuracy…"), `comparison` (two named
methods or papers), `explanation` ("how does … work", "why…"), `single` (a look-up: the
default) and `followup` (a question with chat history; it is answered in the form of the shape
its own words have). Rules on the wording, no model: they are cheap, predictable, and each one
has a test case. `aspects` splits a question into what it is about and the conditions it puts
("prune tokens" | "without fine-tuning"), so that a paper must meet every condition. What a
question asks of its answer beyond its shape (a verdict, the problem a paper takes on, how many
papers) is rag.intents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from rag.illustrations import illustrations
from rag.intents import COUNTED, EFFECT, FINITE, asked_count, asks_verdict
from rag.numbers import NUMBER_CONDITION, UNIT_CONDITION

# Nouns that stand for papers ("which datasets…" asks for datasets, not for a list of papers).
_GENERIC_NOUNS = (r"papers?|methods?|works?|approaches|approach|models?|architectures?|studies|study|techniques?|systems?|"
                  r"implementations?|surveys?|articles?|frameworks?|algorithms?|solutions|variants|strategies|publications|"
                  r"trials|experiments|analyses|meta-analyses|reviews")
# Plural nouns for what papers build that also say what the topic is: "Which *trackers* report
# results on LaSOT?", "Which vision *transformers* use hierarchical designs?" ask for a list and
# keep the noun in the topic.
_TOPICAL_NOUNS = r"backbones?|detectors|trackers|transformers|llms|networks|encoders|classifiers"
_NOUNS = rf"{_GENERIC_NOUNS}|{_TOPICAL_NOUNS}"
# Words for papers a question may open with, no question word before them ("Papers about…",
# "Research on…"): a request for papers, or a claim about what they found.
_PAPER_WORDS = r"research|work|works|papers|studies|articles|publications"
# The plural nouns that end a field's name in a list question ("state space model *papers*"); not
# "works" ("Which architecture works best…" asks for one).
_HEAD_NOUNS = r"papers|studies|articles|publications|methods|approaches|models|techniques"
# How people ask for papers in a chat box before they name the topic: "Can you list…", "I'm
# looking for work on…", "Do any papers…", "What has been done on…", "Papers about…".
_ASKING = (r"(?:(?:please|hi|hey|ok(?:ay)?)[,!]?\s+)?(?:(?:can|could|would|will) you\s+(?:please\s+)?|"
           r"i(?:'m|’m| am) (?:looking|searching) for\s+|i (?:want|need|would like)\s+(?:to (?:find|see|read|know)\s+)?|"
           r"(?:help me|i want to) find\s+|do you know\s+)?"
           # "(Can you) tell me which papers…", "show me what work…": the question itself follows
           r"(?:(?:tell|show) me\s+(?=(?:which|what)\b))?")
# An overview of a field asks for its papers ("Give me an overview of token pruning", "What is the
# state of the art in speech separation?"); an overview of one paper ("…of the Mamba paper", "…of
# LoRAT") does not.
_OVERVIEW = (r"(?:(?:give|provide|write)(?:\s+me)?\s+)?(?:an?\s+)?(?:overview|survey|review)\s+of"
             r"(?:\s+(?:the\s+)?(?:work|research|literature|papers)\s+(?:on|about|in))?"
             r"(?!\s+the\s+(?:[\w-]+\s+){0,2}(?:paper|work|study|method|model)\b)(?!\s+(?-i:[A-Z]))"
             r"|what(?:'s|\s+is)\s+the\s+state\s+of\s+the\s+art\s+(?:in|on|for)\b")
# The words that ask for a list and say nothing about the topic: "Which papers", "Are there works that".
LIST_LEAD = re.compile(
    # "What work / research [has been done | exists] [in the collection] [on]…" first: its next
    # word is the topic's ("What work *models* a user's history…")
    rf"^{_ASKING}(?:what\s+(?:work|research)\b(?:\s+(?:has been done|have been done|is there|exists?|is available))?"
    rf"(?:\s+in\s+(?:the|this)\s+(?:corpus|collection))?(?:\s+(?:on|about|into|regarding)\b)?"
    rf"|what\s+(?:has|have)\s+been\s+(?:done|proposed|published|written)\s+(?:on|about|in|for|regarding)\b"
    rf"|who\s+(?:has|have)\s+(?:worked|written|published)\s+(?:on|about)\b"
    rf"|what\s+do(?:es)?\s+(?:the\s+)?(?:{_NOUNS})\s+(?:say|report|find|show)\s+(?:about|on)\b"
    rf"|anything\s+(?:on|about)\b"
    rf"|{_OVERVIEW}"
    rf"|how\s+many\s+(?:other\s+)?(?:{_NOUNS})\b(?:\s+in\s+(?:the|this)\s+(?:corpus|collection))?"
    rf"|(?:in|from)\s+which\s+(?:{_NOUNS})\b"
    rf"|(?:which|what)\s+(?!about\b)(?:(?:other|existing|recent|[\w-]+)\s+){{0,5}}?(?:{_NOUNS})\b"
    # a singular noun inside the field's name: "Which neural *architecture* search papers…",
    # "Which state space *model* papers…" ask for papers, not for one architecture or model
    rf"(?:(?<!s)\s+(?:[\w-]+\s+)?(?:{_HEAD_NOUNS})\b)?"
    rf"(?:\s+(?:or|and)\s+[\w-]+(?:\s+(?:{_NOUNS}))?)?"
    rf"|(?:are|were) there\s+(?:any\s+)?(?:other\s+)?(?:(?:{_NOUNS})\b)?"
    rf"|(?:do|does|did)\s+(?:any|some)\s+(?:of the\s+|other\s+)?(?:{_NOUNS})\b"
    rf"|(?:list|name|find|show(?: me)?|give(?: me)?|tell me about|recommend|suggest|point me to|search for|look for)"
    rf"\s+(?:all\s+|the\s+|every\s+|some\s+|any\s+|(?:top|best|first)\s+|{COUNTED}\s+)*(?:(?:{_NOUNS}|work|research)\b)?"
    rf"|(?:any\s+|all\s+|some\s+|the\s+)?(?:{_PAPER_WORDS})\b"
    rf"(?=\s+(?:that|which|on|about|regarding|using|proposing|applying)\b)"
    rf")"
    rf"(?:,?\s+if any,?)?(?:\s+(?:on|about|regarding|concerning)\b)?"
    rf"\s*(?:(?:that|which|who|in (?:the|this) (?:corpus|collection|index))\s+)*",
    re.IGNORECASE)
_SINGULAR_LEAD = re.compile(r"^(?:which|what)\s+(?:paper|method|work|model|architecture|approach|study|technique|system)\b"
                            rf"(?!\s+(?:[\w-]+\s+)?(?:{_HEAD_NOUNS})\b)", re.I)
_PLURAL = re.compile(rf"\b(?:all|every|any|several|multiple|other|papers|methods|works|approaches|models|architectures|studies|"
                     rf"techniques|systems|implementations|surveys|articles|frameworks|algorithms|"
                     rf"solutions|variants|strategies|publications|trials|experiments|analyses|meta-analyses|reviews|"
                     rf"{_TOPICAL_NOUNS})\b", re.I)
_QUANTITY = re.compile(
    r"^\s*(?:how\s+(?:much|many|fast|large|big|small|long|accurate|well|common|often|frequent(?:ly)?|prevalent)\b|by how much\b|what(?:'s| is| was| are)?\s+(?:the\s+)?"
    r"(?:[\w-]+\s+){0,3}?(?:score|accuracy|speed-?up|latency|throughput|number|percentage|f1|bleu|miou|map|auc|error|"
    r"perplexity|fid|sizes?|counts?|lengths?|improvement|reduction|gain|top-1|flops|parameters|amota|mota|wer|psnr|ssim|recall|precision)\b"
    # "What accuracy does X get on ImageNet?"; not "What rule does X use to decide which tokens get combined?"
    r"|what\s+[\w-]+\s+(?:does|do|did)\s+.+\b(?:achieve|reach|get|score|obtain|report)\b"
    r"(?=\s*(?:on|in|at|for|with|when|across|over|under|after|compared|relative|versus|vs\.?|and|,|[?.!]|$)))", re.I)
_COMPARE = re.compile(r"\b(?:compare[sd]?|comparison|versus|vs\.?|differ(?:ence|s)?|contrast|better than|"
                      r"how does .+ (?:differ|compare)|what distinguishes)\b"
                      r"|^\s*(?:which|who)\b.*\b(?:higher|lower|better|worse|faster|slower|more|fewer)\b.*\bor\b"
                      # "ConvNeXt or Swin: which is more accurate?"
                      r"|^[^:?]*\bor\b[^:?]*[:,;]\s*(?:which|who)\b.*\b(?:higher|lower|better|worse|faster|slower|more|fewer|less|"
                      r"larger|smaller|cheaper)\b", re.I)
_HOW_MUCH = re.compile(r"^\s*(?:how\s+(?:much|many)|by how much|by what (?:percentage|factor|margin|fraction|amount))\b", re.I)
_EXPLAIN = re.compile(r"^\s*(?:how\s+(?:does|do|did|is|are|can|could)|why\b|what\s+(?:is|are)\s+the\s+"
                      r"(?:(?:key|main|core|central|basic|underlying)\s+)?(?:idea|mechanism|intuition|reason|role|insight)s?\b"
                      r"|explain|describe)", re.I)
# "What work / research…" (no article: the field's work, a mass noun) asks for all of it, as
# "what works" does; "which work…" asks for one.
_LIST_START = re.compile(rf"^\s*{_ASKING}(?:{_OVERVIEW}|(?:are|were) there\b|list\b|name\b|what approaches\b|what methods\b|what works?\b|"
                         r"what research\b|what (?:has|have) been\b|who (?:has|have)\b|anything (?:on|about)\b|"
                         rf"(?:{_PAPER_WORDS}) (?:that|which|on|about|regarding|using|"
                         r"proposing|applying)\b|(?:find|show(?: me)?|give(?: me)?|tell me about|recommend|suggest|point me to|"
                         r"search for|look for) "
                         rf"(?:all |the |some |any )*(?:{_PAPER_WORDS})\b)", re.I)
# Where a condition starts inside the topic: "prune tokens | without fine-tuning".
_CONDITION = re.compile(r"\s+(?=(?:without|while|using|via|rather than|instead of|as opposed to|other than|"
                        r"except|beyond|but not|and not|with no|"
                        # "with code / data / results" is a condition, "deal / work / cope with data" the verb's own
                        r"with(?<!\bdeal with)(?<!\bdeals with)(?<!\bwork with)(?<!\bworks with)(?<!\bcope with)"
                        r"(?<!\bcopes with)(?= \w+ (?:code|data|results?))\b|"
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
    phrasings: tuple[tuple[str, ...], ...] = ()  # per aspect: the other phrasings its illustrations give (phrased_aspects)
    wanted: int | None = None  # how many papers a list asks for ("List three papers on…": 3; asked_count)


# The kind of paper a list question asks for. A survey proposes nothing: "which methods…",
# "which papers propose / design…" are not answered by one; "list the surveys…" only by one.
# "Which papers / works / studies…" may be answered by either.
_SURVEY_NOUN = re.compile(r"\b(?:surveys?|reviews?|overviews?|tutorials?)\b", re.I)
_METHOD_NOUN = re.compile(r"\b(?:methods?|approach(?:es)?|architectures?|models?|techniques?|frameworks?|algorithms?|"
                          r"systems?|detectors?|trackers?|variants|strategies|implementations?|backbones?)\b", re.I)
_PROPOSES = re.compile(r"^(?:\w+ly\s+)?(?:propose|introduce|design|develop|present|devise)(?:s|d|ed)?\b", re.I)


_NOT_A_SURVEY = re.compile(r"\b(?:rather than|instead of|not)\s+(?:just\s+|only\s+|merely\s+)?(?:review|survey)", re.I)
_IS_A_SURVEY = re.compile(r"^(?:(?:(?:are|is)\s+)?(?:a\s+)?(?:surveys?|reviews?|overviews?|tutorials?)\s*$|"
                          r"(?:are|is)\s+(?:a\s+)?(?:surveys?|reviews?|overviews?|tutorials?)\b"
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
    if re.search(_OVERVIEW, lead.group(0), re.I):  # an overview of a field: its papers of any kind
        return None
    if _SURVEY_NOUN.search(lead.group(0)) or _SURVEY_NOUN.match(q[lead.end():]):
        return "survey"
    # the lead's last noun is what it asks for: "Which neural architecture search *papers*…"
    head = [w for w in re.findall(r"[\w-]+", lead.group(0)) if re.fullmatch(_NOUNS, w, re.I)][-1:]
    if (head and _METHOD_NOUN.fullmatch(head[0])) or _PROPOSES.match(q[lead.end():]):
        # "…propose, modify, analyze or survey Mamba models": a survey is asked for too
        offers_survey = re.search(r"\b(?:surveys?|reviews?)\b", q[lead.end():], re.I) and not _NOT_A_SURVEY.search(q)
        return None if offers_survey else "method"
    return None


_MODIFIED_LEAD = re.compile(rf"^(?:which|what)\s+(?!(?:work|research)\b)(?P<mods>(?:[\w-]+\s+){{1,5}}?)(?=(?:{_NOUNS})\b)",
                            re.I)
_GENERIC_MODIFIERS = {"other", "these", "those", "existing", "recent", "published", "proposed", "different", "new", "of",
                      "the", "are", "were", "some", "any", "all", "main", "key", "notable", "relevant", "do", "does",
                      "top", "best", "first"}


def _inside_name(words: list[str], i: int, generic: str) -> bool:
    """Whether the generic noun words[i] is part of the field's name in a list's lead ("Which
    neural *architecture* search papers", "Which state space *model* papers"), not its head."""
    if i < 2 or i + 1 >= len(words) or words[i - 1].lower() in _GENERIC_MODIFIERS \
            or not re.fullmatch(_GENERIC_NOUNS, words[i], re.I):
        return False
    after = words[i + 1]
    if not re.fullmatch(rf"{generic}|or|and", after, re.I):
        return True  # "architecture | search"
    return i + 2 == len(words) and bool(re.fullmatch(_HEAD_NOUNS, after, re.I))  # "model | papers"


def strip_list_lead(question: str) -> str:
    """The question minus the words that only ask for a list. Words naming the kind of paper
    stay ("Which *audio* papers…", "Which *object detection or visual tracking* models…"):
    they are part of the topic."""
    q = question.strip()
    lead = LIST_LEAD.match(q)
    phrase = _PHRASE_LIST.match(q) if not lead or not lead.group(0).strip() else None
    if phrase:  # "token pruning methods that need no fine-tuning" -> "token pruning need no fine-tuning"
        return " ".join((q[:phrase.start("noun")] + q[phrase.end("glue"):]).split()).strip(" ?.!")
    if not (lead and lead.group(0).strip()) and _NOUN_PHRASE_LIST.match(q) and not _VERBISH.search(q):
        return q.strip(" ?.!").rsplit(None, 1)[0]  # "speech synthesis papers" -> "speech synthesis"
    body = q[lead.end():].strip(" ?.!") if lead else q.strip(" ?.!")
    if lead and lead.group(0).strip():  # "which papers do token pruning?" -> "token pruning"
        body = _DO_LEAD.sub("", body, count=1) or body
    if lead:
        words = [w.strip(",") for w in lead.group(0).split()]
        if re.match(r"(?:which|what)\b", q, re.I) and (_MODIFIED_LEAD.match(q) or re.search(_TOPICAL_NOUNS, lead.group(0), re.I)):
            generic = (rf"(?:{_GENERIC_NOUNS}|that|which|who|in|this|corpus|collection|if|on|about|regarding|concerning|"
                       r"say|report|find|show)")
            # a generic noun inside the field's name stays: "neural *architecture* search papers"
            kept = [w for i, w in enumerate(words[1:], 1) if w.lower() not in _GENERIC_MODIFIERS
                    and not re.fullmatch(COUNTED, w, re.I)  # "Which two papers…": how many, not what kind
                    and not (re.fullmatch(generic, w, re.I) and not _inside_name(words, i, generic))]
        else:  # "Can you list papers on…": only a noun that says what the papers build
            kept = [w for w in words if re.fullmatch(_TOPICAL_NOUNS, w, re.I)]
        while kept and kept[-1].lower() in ("or", "and"):  # "Which audio or speech papers": no dangling "or"
            kept.pop()
        body = " ".join([*kept, body]).strip()
    return body or q.strip(" ?.!")


# A contrast ("instead of stacking layers", "rather than recognize speech") names what the
# asked-for papers replace; abstracts rarely say so, so it is not a condition to meet either.
CONTRAST = re.compile(r"^(?:rather than|instead of|as opposed to|other than)\b", re.I)


def aspects_of(topic: str) -> tuple[str, ...]:
    """What a paper must meet: the topic and each condition, without illustrations and contrasts."""
    return tuple(aspect for aspect, _ in phrased_aspects(topic))


def phrased_aspects(topic: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Each aspect with the other phrasings its illustrations give it: the aspect with one option
    in the illustration's place ("process images in the frequency domain by using spectral
    transforms"; "test antidepressants ketamine in treatment-resistant depression")."""
    core, offered = illustrations(topic)
    aspects = [a for a in _split_aspects(core) if not CONTRAST.match(a)] or [core]
    starts = [max(core.find(a), 0) for a in aspects]
    phrasings: list[list[str]] = [[] for _ in aspects]
    for (start, stop), option in offered:
        owner = max((i for i, begins in enumerate(starts) if begins <= start), default=0)
        aspect = aspects[owner]
        cut, rejoin = (min(max(x - starts[owner], 0), len(aspect)) for x in (start, stop))
        phrasings[owner].append(" ".join(f"{aspect[:cut]} {option} {aspect[rejoin:]}".split()))
    return tuple((a, tuple(p)) for a, p in zip(aspects, phrasings))


# "…and need no fine-tuning", "…that do not require labels", "…which use no positional encoding":
# the absence is the condition, read as "without …" (rag.conditions.negated_terms).
_LACKING = re.compile(r"\s*,?\s*\b(?:(?:and|that|which|but)\s+)?(?:(?:(?:do|does|did)\s+not|don't|doesn't|never)\s+"
                      r"(?:need|require|use)|(?:needs?|requires?|needing|requiring|uses?|using)\s+no)\s+(?:any\s+)?", re.I)


_LEADS_TO_NUMBER = re.compile(r"(?:report|reports|reported|achieve|achieves|reach|reaches|get|gets|obtain|obtains|score|"
                              r"scores|show|shows|have|has|with|a|an|the|\s)+", re.I)


def _split_aspects(topic: str) -> tuple[str, ...]:
    topic = _LACKING.sub(" without ", topic).strip()
    number = NUMBER_CONDITION.search(topic) or UNIT_CONDITION.search(topic)
    if number and number.start() > 0:  # the number's condition is an aspect of its own
        head = _split_aspects(topic[:number.start()].strip(" ,;"))
        # "report | more than 85% | top-1 accuracy on ImageNet": a verb that only leads to the number is no aspect
        head = tuple(h for h in head if not _LEADS_TO_NUMBER.fullmatch(h))
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
    # a name (capitals together: "ADE20K"), or two names to choose from ("ConvNeXt or Swin: which…")
    names_two = re.search(r"\b(?:or|vs\.?|versus)\b", lead.group(0)) and re.search(r"[a-z][A-Z]|(?<=\s)[A-Z]", lead.group(0)) \
        if lead else False
    if not lead or re.search(r"[A-Z]{2}|\d", lead.group(0)) or names_two or not q[lead.end():].strip():
        return q
    return q[lead.end():].strip()


# What follows "compare" when two things are compared ("compare ConvNeXt and Swin", "A versus B").
_TWO_THINGS = re.compile(r"\b(?:and|or|vs\.?|versus|with|against|to)\b", re.I)


def _compares_two(q: str) -> bool:
    """Whether a question that uses a word of comparison compares two things: not "Which papers
    propose or compare pretraining objectives…" (a list of papers that compare)."""
    found = _COMPARE.search(q)
    if not found or _LIST_START.match(q):
        return False
    lead = LIST_LEAD.match(q)
    plural_lead = lead and lead.group(0).strip() and not _SINGULAR_LEAD.match(q) and _PLURAL.search(lead.group(0))
    clause = re.split(r"[,;:]", q[found.end():])[0]
    if plural_lead and found.group(0).lower().startswith(("compar", "contrast")):
        # "Which papers compare ConvNeXt and Swin Transformer?" names the two to compare; "Which
        # papers compare transformers with recurrent networks?" asks for the papers that do
        return bool(_TWO_THINGS.search(clause)) and len(_NAMED.findall(clause)) >= 2
    return True


# A name in a comparison: capitalised words together ("Swin Transformer", "ConvNeXt", "BERT"), not
# a kind of model written in the plural ("CNNs", "LLMs", "Transformers").
_NAMED = re.compile(r"\b(?![A-Z][\w-]*[a-z]s\b|[A-Z]+s\b)[A-Z][\w.+-]*(?:\s+(?![A-Z][\w-]*[a-z]s\b|[A-Z]+s\b)[A-Z][\w.+-]*)*")


# A list asked as a noun phrase, with no question word: "token pruning methods that need no
# fine-tuning", "papers on LoRA for tracking" (the noun's own clause says what they must do).
_PHRASE_LIST = re.compile(
    r"^(?!\s*(?:which|what|who|whom|whose|how|why|when|where|is|are|was|were|does|do|did|can|could|has|have|should|"
    r"would|will|tell|explain|describe|compare|summari[sz]e)\b)[^?]{0,80}?"
    rf"\b(?P<noun>{_GENERIC_NOUNS})\s+(?P<glue>that|which)\b", re.I)  # plural nouns only: shape_of checks


# A statement that opens with a paper noun is a claim to check, not a request for papers:
# "Research on mice has shown that fasting extends lifespan.", "Studies that… show that…".
_NOUN_START = re.compile(rf"^\s*(?:any |all |some |the )?(?:{_PAPER_WORDS})\b", re.I)
_SHOWS_THAT = re.compile(r"\b(?:show|shows|showed|shown|found|finds|suggest|suggests|suggested|demonstrates?|demonstrated)\s+that\b",
                         re.I)


def _states_a_claim(q: str) -> bool:
    return not q.rstrip().endswith("?") and bool(FINITE.search(q) or _SHOWS_THAT.search(q))


# "How many papers use LoRA?" counts papers: a list answer says how many match, and which.
# Not the studies inside one paper: "How many studies were included in the meta-analysis?" is a number.
_HOW_MANY_PAPERS = re.compile(rf"^\s*how\s+many\s+(?:other\s+)?(?:{_NOUNS})\b(?!\s+(?:does|do|did)\b)"
                              r"(?!\s+(?:were|was|are|is)\s+(?:included|pooled|analy[sz]ed|reviewed|identified|screened|"
                              r"selected|eligible|retained|used|compared|combined)\b)", re.I)


# "Which networks does LoRAT build on?" asks about one paper's choices (a look-up); "which papers
# do token pruning?" asks what papers do, and "which papers do you recommend…" asks for papers.
_ASKS_ABOUT_ONE = re.compile(r"(?i:does|did)\b|(?i:do)\s+(?:(?i:they|the|these|those|this|that|its|their|it|a|an)\b|[A-Z])")
_DO_LEAD = re.compile(r"^(?:do\s+(?:you|we|i)\s+(?:recommend|suggest|know(?:\s+of)?|have)(?:\s+(?:on|for|about|regarding)\b)?"
                      r"|do\b(?!\s+(?:not|no)\b)"
                      # "Which studies were done in mice?": where or how studies were done is the topic, not "done"
                      r"|(?:were|was|are|is|have\s+been|has\s+been)\s+(?:done|conducted|performed|carried\s+out|undertaken)"
                      r"(?:\s+(?:in|on|with|among|using|at))?(?=\s+\w)"
                      # "Which papers are devoted to / focus on / deal with X?": what they are about is X
                      r"|(?:(?:are|is|were|was)\s+(?:mainly\s+|mostly\s+|primarily\s+|largely\s+|entirely\s+)?"
                      r"(?:devoted|dedicated)\s+to|(?:are|is|were|was)\s+(?:mainly\s+|mostly\s+|primarily\s+|largely\s+)?"
                      r"(?:about|concerned\s+with|focused\s+on)|(?:mainly\s+|mostly\s+|primarily\s+)?(?:focus(?:es)?\s+on|"
                      r"deals?\s+with))(?=\s+\w))\s*", re.I)
# A list asked as a bare noun phrase that ends in what the papers are: "speech synthesis papers",
# "medical image segmentation methods" (a few words, no verb; "token merging" alone is a topic).
_NOUN_PHRASE_LIST = re.compile(r"^\s*(?:[\w-]+\s+){1,6}(?:papers|methods|approaches|works|studies|techniques|surveys|"
                               r"articles|publications)\s*[?.!]?\s*$", re.I)
_VERBISH = re.compile(r"\b(?:is|are|was|were|do|does|did|can|could|should|would|will|has|have|had|which|what|who|how|"
                      r"why|when|where|that|list|find|show|give|compare)\b", re.I)


def shape_of(question: str) -> str:
    q = without_preamble(question)
    if _HOW_MANY_PAPERS.match(q):
        return "list"
    if _HOW_MUCH.match(q):
        return "quantity"
    if _compares_two(q):
        return "comparison"
    if _QUANTITY.match(q):
        return "quantity"
    if _NOUN_START.match(q) and _states_a_claim(q):
        return "single"
    if _LIST_START.match(q):
        return "list"
    lead = LIST_LEAD.match(q)
    if lead and lead.group(0).strip() and not _SINGULAR_LEAD.match(q) and _PLURAL.search(lead.group(0)) \
            and not _ASKS_ABOUT_ONE.match(q[lead.end():]) if lead else False:
        return "list"
    if _EXPLAIN.match(q) and not EFFECT.match(q):
        return "explanation"
    if _NOUN_PHRASE_LIST.match(q) and not _VERBISH.search(q):
        return "list"
    phrase = _PHRASE_LIST.match(q)
    # not a claim to check ("Treatments that lower salt intake reduce blood pressure."): a statement
    if phrase and _PLURAL.search(phrase.group("noun")) and not asks_verdict(q):
        return "list"
    return "single"


def read_condition(condition: str) -> Reading:
    """A chat filter's condition ("report a speed in frames per second"), read whole — its number
    or unit, if it gives one, an aspect of its own, met only by a sentence that states it; what it
    says a paper does without ("need no fine-tuning") read as "without fine-tuning"."""
    reading = read_question(condition)
    if NUMBER_CONDITION.search(reading.topic) or UNIT_CONDITION.search(reading.topic) or _LACKING.search(reading.topic):
        return Reading(shape=reading.shape, topic=reading.topic, aspects=_split_aspects(reading.topic), kind=reading.kind)
    return reading


def read_question(question: str, history: tuple[str, ...] | list[str] = ()) -> Reading:
    shape = shape_of(question)
    question = without_preamble(question)
    topic = strip_list_lead(question) if shape == "list" else question.strip(" ?.!")
    phrased = phrased_aspects(topic) if shape == "list" else ((topic, ()),)
    reading = Reading(shape=shape, topic=topic, aspects=tuple(a for a, _ in phrased),
                      kind=asked_kind(question) if shape == "list" else None, phrasings=tuple(p for _, p in phrased),
                      wanted=asked_count(question) if shape == "list" else None)
    if history:
        return replace(reading, shape="followup")
    return reading
