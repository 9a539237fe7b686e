"""Sentences of abstracts and model answers: where they end, and what each one is (no
dependencies beyond `re`).

Splitting knows the abbreviations that end in a full stop inside scientific prose ("e.g.", "et
al.", "Fig. 2", "vs.") and single initials, so they do not end a sentence. A sentence's kind —
background (the setting: "Recently…", "However, most…", what comes before the paper speaks for
itself), contribution ("we propose…"), result (numbers, "outperforms") or other — is how an answer
uses it: background only when nothing better matches.
"""

from __future__ import annotations

import re

class LazyPattern:
    """A regular expression compiled on first use: a pattern that few questions need (what a
    limitation sentence says, "What is Mamba?") should not cost every cold `ask` its compiling."""

    __slots__ = ("_args", "_compiled")

    def __init__(self, pattern: str, flags: int = 0):
        self._args, self._compiled = (pattern, flags), None

    def __getattr__(self, name: str):
        if self._compiled is None:
            self._compiled = re.compile(*self._args)
        return getattr(self._compiled, name)


# A sentence ends at . ! ? followed by space and an upper-case letter, digit, quote or a tag
# ("</source>" injected into an abstract starts a sentence of its own),
# unless the dot belongs to a known abbreviation ("e.g.", "et al.", "Fig.").
_ABBREVIATIONS = ("e.g", "i.e", "al", "etc", "vs", "fig", "figs", "eq", "eqs", "cf", "approx", "resp", "no", "dr", "mr", "ms")
_BOUNDARY = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[A-Z0-9\"'(\[<])")


def split_sentences(text: str) -> list[str]:
    pieces, start = [], 0
    for match in _BOUNDARY.finditer(text):
        head = text[start:match.start()].rstrip()
        last_word = head.rsplit(" ", 1)[-1].strip(".!?\"'()[]").lower()
        if last_word in _ABBREVIATIONS or re.fullmatch(r"[a-z]", last_word):
            continue  # "e.g. BERT" or an initial: not a boundary
        pieces.append(text[start:match.start()].strip())
        start = match.end()
    pieces.append(text[start:].strip())
    return [p for p in pieces if p]


_BOILERPLATE = re.compile(r"^(?:our |the |all )?(?:source )?(?:code|models?|data(?:set)?s?|project page|demo|weights)\b.{0,60}"
                          r"(?:available|released|found|public|https?:)", re.IGNORECASE)


def is_boilerplate(sentence: str) -> bool:
    """Code/project-page availability lines and fragments say nothing about a question."""
    return bool(_BOILERPLATE.search(sentence)) or len(sentence.split()) < 5


_BACKGROUND = re.compile(
    r"^(?:recently|in recent years|over the (?:past|last)|nowadays|traditionally|historically|to date|"
    r"however,? (?!we\b|our\b|this (?:paper|work)\b)|in contrast to (?:these|existing|prior|previous)|"
    r"(?:current|existing|conventional|prior|previous|traditional) (?:\w+ ){0,2}(?:methods|approaches|works|models|systems|techniques)\b|"
    r"(?:most|many|existing|current|prior|previous|conventional) (?:\w+ ){0,3}(?:methods|approaches|works|models|"
    r"techniques|studies|systems) (?:\w+ )?(?:have|are|rely|require|suffer|fail|use|focus|still)|"
    r"(?:\w+ ){0,6}(?:has|have) (?:recently )?(?:emerged|become|gained|shown|achieved|attracted|demonstrated|been widely)|"
    r"despite (?:the|their|its)|although|while (?:\w+ ){0,4}(?:has|have|is|are)|"
    r"(?:one|a|an|another) (?:recent |popular |common |promising |effective |widely used |prevalent |(?:\w+ )?and )*"
    r"(?:strategy|approach|solution|remedy|way|line of work|direction|technique) (?:\w+ ){0,3}(?:is|involves|has been)\b|"
    r"(?:[\w'-]+ ){0,12}(?:is|are) (?:often |still |severely |largely )?(?:hindered|hampered|bottlenecked|held back) by\b|"
    r"(?:\w+ ){0,8}(?:remains?|is|are) (?:still )?(?:a )?(?:challenging|an open|largely unexplored|limited|"
    r"unclear|costly|expensive|prohibitive|difficult))", re.IGNORECASE)
_CONTRIBUTION = re.compile(r"\b(?:we|this (?:paper|work|study|article)|our (?:method|approach|model|framework|work))\s+"
                           r"(?:\w+ly\s+)?(?:propose|introduce|present|develop|design|describe|show|find|demonstrate|"
                           r"explore|study|investigate|build|release|report|prove)", re.IGNORECASE)
_PROPOSAL = re.compile(r"\b(?:we|this (?:paper|work|study|article))\s+(?:\w+ly\s+|first\s+|also\s+|further\s+)?"
                       r"(?:propose|introduce|present|develop|design|describe|build|release|devise|construct)", re.IGNORECASE)
OWN_VOICE = re.compile(r"\b(?:we|our|us|this (?:paper|work|study|article|research|thesis)|here)\b", re.IGNORECASE)
_STATED_RESULT = re.compile(r"\d(?:\.\d+)?\s*%|\d\.\d")
# "However, compliance in the trained men was 20% to 35% higher…": a finding the paper turns to,
# not the setting — "however" with a measured result and no one else's work in it.
_TURNING_RESULT = re.compile(r"^(?:however|in contrast|by contrast),?\s+(?!.*\b(?:existing|previous|prior|current|conventional|"
                             r"traditional|most|many|these|such|other)\s+(?:\w+\s+)?(?:methods|approaches|works|models|studies|"
                             r"systems|techniques)\b)(?=.*\d(?:\.\d+)?\s*%)", re.IGNORECASE)
# A structured abstract's section labels ("BACKGROUND Few studies…", "METHODS AND RESULTS We…"): the
# setting is the background / introduction / context section, unless it also states the aims.
_SECTION = re.compile(r"^(?P<label>[A-Z][A-Z /&]{3,}[A-Z])(?::|\s)\s*(?=[A-Z(\d])")
_WORK_SECTION = re.compile(r"^(?:METHODS?|MATERIALS?|RESULTS?|FINDINGS?|CONCLUSIONS?|INTERPRETATION|DISCUSSION|OUTCOMES?|"
                           r"MEASUREMENTS?|DESIGN|PARTICIPANTS|PATIENTS|INTERVENTIONS?|MAIN RESULTS?|PRINCIPAL FINDINGS|"
                           r"METHODOLOGY|EXPOSURES?)\b")
_SETTING_SECTION = re.compile(r"^(?:BACKGROUND|INTRODUCTION|CONTEXT|RATIONALE|MOTIVATION)(?!.*\b(?:AIMS?|OBJECTIVES?|PURPOSE)\b)")
_RESULT = re.compile(r"\d|\b(?:outperform|surpass|achiev|improv|reduc|speed|faster|state-of-the-art|sota|"
                     r"accuracy|results? (?:show|indicate|demonstrate))", re.IGNORECASE)


def is_background(sentence: str) -> bool:
    return bool(_BACKGROUND.match(sentence.strip()))


def proposes(sentence: str) -> bool:
    """A contribution that puts something forward ("we propose / introduce / design …"), not a finding."""
    return bool(_PROPOSAL.search(sentence))


# A sentence that states a limitation ("SSMs … struggle with tasks requiring in-context retrieval",
# "self-attention scales quadratically with sequence length"), not one that only points back at it
# ("To address these limitations, we propose X"). Saying what goes wrong (struggles, cannot, is
# quadratic) states it more surely than naming a limitation ("the methods' strengths, limitations").
_FLAW_SAID = LazyPattern(
    r"\b(?:struggl\w*|suffer\w*|limited (?:by|to|in)|limit(?:s|ing)|fail(?:s|ed|ures?)?|cannot|can not|unable|inability|"
    r"inefficien\w*|(?:computationally |prohibitively )?(?:expensive|costly|prohibitive)|quadratic\w*|lacks?|lacking|"
    r"poor(?:ly)?|degrad\w*|hinder\w*|hamper\w*|restrict\w*|difficult\w*|hard to|"
    r"(?:do|does|did) not (?:perform|scale|generali[sz]e|transfer|capture|work)|not (?:performed|scaled) as well|"
    r"fall short|underperform\w*|vulnerab\w*|sensitiv(?:e|ity) to|overfit\w*|(?:memory|compute|computation)[- ]intensive|"
    r"computationally (?:intensive|demanding|heavy|burdensome)|burden\w*|overhead|unstable|instability|bottlenecked)\b",
    re.IGNORECASE)
_FLAW_NAMED = LazyPattern(r"\b(?:limitations?|drawbacks?|weakness\w*|bottlenecks?|shortcomings?|disadvantages?|downsides?|"
                         r"challenges?|problems?|issues?)\b", re.IGNORECASE)
_POINTS_BACK = LazyPattern(r"^\s*(?:to\s+(?:address|overcome|tackle|solve|remedy|alleviate|mitigate|fix|resolve|circumvent|"
                          r"handle|bridge)|as a remedy|in (?:response|answer) to)\b[^,]*\b(?:this|these|those|such|the above|"
                          r"its|their)\s+(?:\w+\s+){0,2}(?:limitations?|drawbacks?|problems?|issues?|challenges?|"
                          r"weakness(?:es)?|shortcomings?|gaps?|difficult(?:y|ies)|bottlenecks?|concerns?)\b[^,]*,", re.IGNORECASE)


def states_limitation(sentence: str) -> int:
    """How surely a sentence says what limits a method (the answer to "What are the limitations of
    X?"): 2 when it says what goes wrong ("struggle with", "cannot", "scales quadratically"), 1 when
    it only names a limitation ("discuss current limitations"), 0 when it says neither or only
    points back at one said before it ("To address these limitations, we propose X")."""
    said = _POINTS_BACK.sub("", sentence)
    return 2 if _FLAW_SAID.search(said) else 1 if _FLAW_NAMED.search(said) else 0


def sentence_kind(sentence: str) -> str:
    """background | contribution | result | other — how an answer uses a sentence. A sentence that
    says what the paper contributes is a contribution however it opens ("In contrast to these
    approaches, we propose…")."""
    if _CONTRIBUTION.search(sentence):
        return "contribution"
    if is_background(sentence) and not _TURNING_RESULT.match(sentence):
        return "background"
    if _RESULT.search(sentence):
        return "result"
    return "other"


def sentence_kinds(sentences: list[str]) -> list[str]:
    """Each sentence's kind in its abstract: what comes before the paper first speaks for itself
    ("we…", "our…", "this paper…", "here…") is its setting — background, however it is worded —
    unless it already states a result with its numbers."""
    kinds = [sentence_kind(s) for s in sentences]
    sections, section = [], ""
    for sentence in sentences:
        label = _SECTION.match(sentence)
        section = label.group("label").upper() if label else section
        sections.append(section)
    first = next((i for i, s in enumerate(sentences) if OWN_VOICE.search(s)), 0)
    # before the paper speaks for itself, setting — but a structured abstract's METHODS, RESULTS
    # and CONCLUSIONS are its own work however impersonally worded ("Individuals medicated for
    # ADHD were not at higher risk of obesity.")
    kinds = ["background" if i < first and not _STATED_RESULT.search(sentences[i]) and not _WORK_SECTION.match(sections[i])
             else kind for i, kind in enumerate(kinds)]
    # A structured abstract says where its setting is: "BACKGROUND …" up to its next section
    for i, section in enumerate(sections):
        if _SETTING_SECTION.match(section) and kinds[i] != "contribution":
            kinds[i] = "background"
    return kinds
