"""What a quantity question asks a number for, and whether a sentence gives it: the measure or
dataset it names ("precision@10 … MIMIC-III"), what "how many" counts ("trials", people in any
word for them), a prevalence ("how common"), a value asked for by its own words ("What was the
median follow-up…?"), and whether an abstract reports a measure at all ("which of them is the
fastest?": "speed"). Pure text rules; rag.extractive leads an answer with the sentence that
gives the number, or says that the abstract gives none; rag.set_answers says when none of the
papers in play reports the measure a superlative asks about."""

from __future__ import annotations

import re

_NUMBER = re.compile(r"\d")
NUMBER_WORD = re.compile(r"\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|"
                         r"sixty|seventy|eighty|ninety|hundred|thousand|dozens?)\b", re.I)


def measure_names(question: str) -> tuple[str, ...]:
    """What a quantity question names its number by: a word with a digit, a capital inside or an
    "@" ("precision@10", "MIMIC-III", "ImageNet-1K", "mIoU"), not a bare number; what "how many"
    counts ("How many trials…": "trial"); "how common / prevalent / often" asks for a prevalence."""
    names = [w.strip(".,;:?!()") for w in question.split()[1:]
             if re.search(r"\d|@|[a-z][A-Z]|[A-Z]{2}", w) and re.search(r"[A-Za-z]", w)
             and len(w.strip(".,;:?!()")) > 2]  # a year ("between 1990 and 2015") names no measure
    counted = re.match(r"\s*how\s+many\s+(?:\w+\s+)?([a-z]{3,}?)(?:e?s)?\b"  # "How many [relevant] trials [of X] were…"
                       r"(?=(?:\s+of\s+[\w' -]+?)?\s+(?:were|was|are|did|do|does|had|have)\b)", question, re.I)
    if counted:
        names.insert(0, counted.group(1))
    if re.match(r"\s*how\s+(?:common|prevalent|frequent)\b", question, re.I):
        names.insert(0, "prevalen")
    return tuple(dict.fromkeys(names))


# The words a count of people is given in ("728,136 individuals", "671 945 women"): a head count for
# "how many patients…" here, a number condition in rag.numbers ("from more than 100,000 people").
PEOPLE = (r"\b(?:people|persons?|participants?|patients?|individuals?|subjects?|adults?|children|women|men|mothers?|"
          r"infants?|volunteers?|cases?|pregnancies|births?)\b")
_PEOPLE = re.compile(PEOPLE, re.I)


def says_measure(sentence: str, name: str) -> bool:
    """Whether a sentence gives a number for what a quantity question names (measure_names): a
    name ("MIMIC-III", "precision@10") anywhere in it; a counted word or "prevalence" with a
    number at most 4 words before it or 6 after ("eight relevant trials", "the prevalence of PAD
    was 19.1%"); a count of people in any of the words for them, right after its number
    ("728,136 individuals" for "How many patients…")."""
    if _PEOPLE.fullmatch(name) or _PEOPLE.fullmatch(name + "s"):  # a head count: the number right before them
        return bool(re.search(rf"(?:\b\d[\d,.]*|{NUMBER_WORD.pattern})\s+(?:[a-z-]+\s+){{0,2}}{_PEOPLE.pattern}",
                              sentence, re.I))
    if not name.islower():  # a name ("MIMIC-III", "precision@10") anywhere in a sentence with numbers
        return name.lower() in sentence.lower() and bool(_NUMBER.search(sentence))
    words = sentence.split()
    for at, word in enumerate(words):
        if name.lower() in word.lower():
            near = words[max(0, at - 4):at] + words[at + 1:at + 7]
            if any(_NUMBER.search(w) or NUMBER_WORD.fullmatch(w.strip(",.;:()").lower()) for w in near):
                return True
    return False


# "What was the median follow-up in…?", "What dose of X was given…?": the measure a quantity asks
# for by its own words (a name, "precision@10", is measure_names' and the unsaid-name check's).
_ASKED_MEASURE = re.compile(r"^\s*what\s+(?:was|were|is|are)\s+the\s+(?P<m>(?:[a-z][a-z-]*\s+){0,2}?[a-z][a-z-]*)"
                            r"(?=\s+(?:of|in|for|among|at|after|with|on|used|given|reported)\b)"
                            r"|^\s*what\s+(?P<d>dose|dosage|duration|sample size)\b", re.I)
# What a look-up asks a number for by name, though no "how much" says so ("What was the median follow-up…?").
_NUMERIC_HEAD = re.compile(r"\b(?:follow-up|dose|dosage|duration|ratio|rate|prevalence|incidence|heritability|risk|odds|"
                           r"mortality|count|length|age|weight|height|concentration|percentage|proportion|speed-?up|"
                           r"latency|throughput|sample size)$", re.I)
_VAGUE = {"effect", "result", "results", "outcome", "finding", "findings", "difference", "impact", "role", "number",
          "amount", "size", "value", "level", "rate", "score", "accuracy", "performance"}


def asked_measure(question: str) -> str | None:
    """The measure a quantity question asks for in its own words ("median follow-up", "dose"),
    else None (a vague one, "the effect of…", says nothing to check)."""
    found = _ASKED_MEASURE.match(question)
    measure = found and (found.group("m") or found.group("d"))
    return measure.lower() if measure and measure.split()[-1].lower() not in _VAGUE else None


def gives_measure(sentences: list[str], measure: str) -> bool:
    """Whether a sentence with a number says every word of the measure (stems: "followed up for a
    median of 5 years" gives the "median follow-up")."""
    stems = [w[:5] for w in re.findall(r"[a-z]+", measure.lower()) if len(w) > 2]
    return any(_NUMBER.search(s) and all(st in s.lower() for st in stems) for s in sentences)


def missing_measure(form: str, question: str, sentences: list[str]) -> str | None:
    """The measure a look-up asks a number for that the answering abstract's `sentences` never
    give ("What was the median follow-up…?": "median follow-up"), else None."""
    measure = asked_measure(question) if form in ("quantity", "single") else None
    if measure and (form == "quantity" or _NUMERIC_HEAD.search(measure)) and not gives_measure(sentences, measure):
        return measure
    return None


# The words an abstract reports a measure in ("which of them is the fastest?" asks for "speed").
MEASURE_WORDS = {
    "speed": r"speed|fast|faster|fps|frames per second|latency|throughput|runtime|inference time|ms\b|milliseconds?",
    "cost": r"cost|flops|macs|compute|cheaper|energy|gpu hours|memory",
    "size": r"size|parameters|params|memory|smaller|compact|mb\b|gb\b",
    "performance": r"accuracy|performance|score|ap\b|map\b|miou|f1|bleu|top-1|outperform|state-of-the-art",
}


def reports_measure(sentences: list[str], measure: str) -> bool:
    """Whether an abstract's sentences give a number in the words of a measure ("speed": "108 FPS",
    "1.6 ms latency"); a measure without a word list ("accurate") is taken as reported."""
    words = MEASURE_WORDS.get(measure.lower())
    if words is None:
        return True
    return any(re.search(rf"\b(?:{words})", sentence, re.I) and re.search(r"\d", sentence) for sentence in sentences)
