"""What a question asks of its answer, beyond its shape (rag.shapes): a verdict on a finding
("Does X reduce Y?", a claim to check), the problem a paper takes on ("What problem does BACTrack
solve?"), the limits of a method ("What are the limitations of state space models?"), a finding
rather than a mechanism ("How does miR-375 affect…?"), one paper by its name ("What is Mamba?"),
how long the answer may be ("…in one sentence") and how many papers a list wants ("List three
papers on…"). rag.extractive chooses its sentences by them.
"""

from __future__ import annotations

import re

from rag.sentences import LazyPattern

# How many papers a list asks for: "List three papers on…", "Give me the top 5 papers…", "Which two papers…"
COUNTED = r"(?:one|two|three|four|five|six|seven|eight|nine|ten|\d{1,2})"
_COUNT_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}
_ASKED_COUNT = re.compile(rf"^\W*(?:\w+\W+){{0,6}}?(?:the\s+)?(?:top\s+|best\s+|first\s+)?(?P<n>{COUNTED})\s+"
                          r"(?:[\w-]+\s+){0,3}?(?:papers|works|methods|studies|articles|approaches|models|surveys|"
                          r"techniques|publications)\b", re.I)

# "How does miR-375 affect liver cancer cells?" asks for a finding (the result, the conclusion), not
# for how a method works.
EFFECT = re.compile(r"^\s*how\s+(?:does|do|did|can|could|might|would)\b[^?]*?\b(?:affect|influence|impact|alter)\b", re.I)

# A question about a finding, answered yes or no ("Does X reduce Y?", "Claim to verify: …"), not
# one about whether a paper exists ("Is there a paper…", "Are there works…", "Has anyone…").
_VERDICT = re.compile(r"^\s*(?:claim(?: to verify)?:|(?:does|do|did|is|are|was|were|can|could|has|have|had|will|would|should)\b"
                      r"(?!\s+(?:there|anyone|anybody|any (?:paper|work|study|method)s?)\b))", re.I)
# A bare statement to check ("ALDH1 expression is associated with poorer prognosis."): no question
# mark and no word that asks or tells.
_ASKING_START = re.compile(r"^\s*(?:which|what|who|whom|whose|how|why|when|where|list|name|find|show|give|compare|"
                           r"describe|explain|tell|summari[sz]e|are there|is there)\b", re.I)
FINITE = re.compile(r"\b(?:is|are|was|were|has|have|had|can|could|may|might|will|would|should|must|does|do|did)\b", re.I)


def asks_verdict(question: str) -> bool:
    """A yes-or-no question about a finding, or a claim to check."""
    q = question.strip()
    if _VERDICT.match(q):
        return True
    stated = q.endswith(".") or FINITE.search(q)  # a sentence, not a keyword query ("token pruning without fine-tuning")
    return bool(stated) and not q.endswith("?") and not _ASKING_START.match(q) and len(q.split()) >= 4


# The problem a paper takes on: "What problem does BACTrack solve?", "What limitations of earlier
# trackers does it address?", "What is the motivation for PiToMe?", "What motivated LoRAT?"
_PROBLEM = re.compile(
    r"\bwhat\s+(?:\w+\s+){0,2}(?:problems?|issues?|challenges?|limitations?|gaps?|shortcomings?|weakness(?:es)?|"
    r"difficult(?:y|ies)|bottlenecks?|drawbacks?)\b[^?]*?\b(?:solve[sd]?|address(?:es|ed)?|tackle[sd]?|fix(?:es|ed)?|"
    r"overcome[s]?|fill[sd]?|target(?:s|ed)?|remed(?:y|ies|ied)|aim(?:s|ed)?|attempt(?:s|ed)?)\b"
    r"|\bwhat\s+(?:motivates|motivated|is the motivation|was the motivation|is the problem|was the problem)\b", re.I)


def asks_problem(question: str) -> bool:
    """Whether a question asks what problem a paper takes on: answered by its problem statement
    (the background sentences every other answer puts last), then what it proposes."""
    return bool(_PROBLEM.search(question))


# The limits of a method or a field: "What are the limitations of state space models?", "What
# drawbacks does token pruning have?", "What challenges remain in visual tracking?", "Where do
# transformers struggle?". Answered by the sentences that state a limitation ("SSMs … struggle with
# tasks requiring in-context retrieval"), which other answers put last as background.
_FLAW = r"(?:limitations?|drawbacks?|weakness(?:es)?|shortcomings?|disadvantages?|downsides?|pitfalls?|bottlenecks?|" \
        r"failure modes?|open (?:problems?|questions?|issues?)|challenges?|problems?|issues?|difficult(?:y|ies))"
_LIMITATION = LazyPattern(
    rf"\b(?:what|which)\s+(?:are|were|is|was)\s+(?:the\s+|some\s+(?:of\s+the\s+)?)?(?:[\w-]+\s+){{0,2}}?{_FLAW}\s+"
    r"(?:of|with|in|for|facing|faced by)\b"
    rf"|\bwhat\s+(?:[\w-]+\s+){{0,2}}?{_FLAW}\s+(?:do|does|did)\s+.+?\s+(?:have|face|suffer from|struggle with|pose)\b"
    rf"|\bwhat\s+(?:[\w-]+\s+){{0,2}}?{_FLAW}\s+(?:remain|persist|are left)\b"
    r"|\b(?:where|when|why)\s+(?:do|does|did|would|might)\s+.+?\s+(?:fail|struggle|break down|fall short|underperform)\b"
    r"|\bwhat\s+limits\b"
    rf"|\b(?:what|which)\s+(?:are|were|is|was)\s+(?:its|their|the)\s+(?:[\w-]+\s+){{0,2}}?{_FLAW}\s*[?.!]*$", re.I)


_FLAW_WORDS = ("limit", "drawback", "weakness", "shortcoming", "disadvantage", "downside", "pitfall", "bottleneck",
               "failure", "open ", "challenge", "problem", "issue", "difficult", "fail", "struggle", "break down",
               "fall short", "underperform")


def asks_limitation(question: str) -> bool:
    """Whether a question asks what limits a method or a field (not what problem a paper solves:
    asks_problem)."""
    lowered = question.lower()
    if not any(w in lowered for w in _FLAW_WORDS):  # most questions: the pattern is not compiled
        return False
    return bool(_LIMITATION.search(question)) and not asks_problem(question)


# How many sentences an answer is asked for: "Summarize Mamba in one sentence.", "…in two
# sentences each", "Briefly, what does LoRAT do?", "tl;dr of PiToMe".
_SENTENCES = LazyPattern(r"\bin (?:just |only )?(?P<n>one|a single|a|1|two|2|three|3) sentences?\b"
                        r"|(?P<brief>\bbriefly\b|\bin brief\b|\bin short\b|\btl;? ?dr\b|\bone-liners?\b)", re.I)


# A question whose subject is one paper, by its name: "What is Mamba?", "Tell me about LoRAT",
# "Summarize PiToMe.", "Describe the Swin Transformer paper", "Give me an overview of Zero-TPrune".
# Answered from that paper (rag.paper_names.asked_about), not from the surveys that mention it.
_ABOUT_PAPER = LazyPattern(r"^\W*(?i:what\s+is|what's|tell\s+me\s+(?:more\s+)?about|summari[sz]e|describe|"
                          r"give\s+(?:me\s+)?(?:a|an)\s+(?:short\s+|brief\s+|quick\s+)?(?:summary|overview|description)\s+of|"
                          r"(?:a\s+)?(?:short\s+|brief\s+)?(?:summary|overview)\s+of|tl;?\s?dr\s+(?:of|for))\s+"
                          r"(?i:the\s+)?[A-Z]\S*(?:\s+\S+){0,3}?(?i:\s+(?:paper|model|method|architecture))?"
                          r"(?i:\s+in\s+(?:one|a|two|three|\d)\s+sentences?)?\W*$")


def asks_about_paper(question: str) -> bool:
    """Whether a question's subject is a name (a capitalised word after "What is", "Summarize",
    "Tell me about"…, and at most three more words): the paper so named, if the corpus holds it."""
    if not question.lstrip(" \t\"'(*").lower().startswith(("what", "tell", "summar", "describe", "give", "a ", "short",
                                                        "brief", "overview", "tl")):
        return False
    return bool(_ABOUT_PAPER.match(question))


def asked_sentences(question: str) -> int | None:
    """How many sentences a paper's quote may have when the question says ("in one sentence" -> 1,
    "in two sentences each" -> 2, "briefly" -> 1), else None."""
    lowered = question.lower()
    found = _SENTENCES.search(question) if any(w in lowered for w in ("sentence", "brief", "short", "tl", "one-liner")) \
        else None
    if not found:
        return None
    n = (found.group("n") or "one").lower()
    return {"one": 1, "a single": 1, "a": 1, "1": 1, "two": 2, "2": 2, "three": 3, "3": 3}[n]


def asked_count(question: str) -> int | None:
    """How many papers a list question asks for ("List three papers on speech recognition." -> 3),
    else None: the answer shows that many of its matches and still counts them all."""
    found = _ASKED_COUNT.match(question)
    if not found:
        return None
    n = found.group("n").lower()
    wanted = _COUNT_WORDS.get(n) or int(n)
    return wanted if wanted > 0 else None
