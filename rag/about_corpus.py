"""What is not a question about the papers: a greeting or thanks ("hi", "thanks!"), a question
about the assistant ("What can you do?") and one about the corpus itself ("How many papers are in
the corpus?", "What topics does the corpus cover?").

Searched as questions they were answered from whatever papers came nearest ("thanks!" quoted a
captioning paper's "thanks to their transfer learning capacity"). They are answered from the
index instead — how many papers, from which files, what their titles are mostly about — and
cite nothing: no paper says what the corpus holds.
"""

from __future__ import annotations

import re
from collections import Counter

from rag.sentences import LazyPattern

# A whole message that only greets, thanks or acknowledges.
_SOCIAL = LazyPattern(
    r"^\W*(?:(?:hi|hello|hey|hiya|howdy|greetings|good (?:morning|afternoon|evening|day))(?: there| all| everyone)?"
    r"|(?:many |great |ok(?:ay)?,? |cool,? )?(?:thanks|thank you|thx|ty|cheers)(?: (?:a lot|so much|very much|again))?"
    r"(?:,? (?:that|this) (?:helps|helped|is (?:great|helpful|perfect)))?"
    r"|ok(?:ay)?|great|cool|nice|perfect|awesome|got it|i see|bye|goodbye|see you)\W*$", re.IGNORECASE)
# A question about the assistant itself.
_ABOUT_ME = LazyPattern(
    r"^\W*(?:what (?:can|do|should) (?:you|i) (?:do|ask)(?: (?:here|with (?:you|this)))?|how (?:do|can|should) i use "
    r"(?:you|this(?: tool| assistant| chat)?)|who are you|what are you|help|help me|what is this(?: tool| assistant)?)"
    r"\W*$", re.IGNORECASE)
_CORPUS = r"(?:(?:the|this|your) (?:corpus|index|collection|database|library|dataset)|you)"
# How many papers the corpus holds: "How many papers are in the corpus?", "How many papers do you have?"
_SIZE = LazyPattern(
    rf"^\W*how (?:many|much) (?:papers|abstracts|documents|articles|records|entries)(?: (?:are|is))?"
    rf"(?: (?:there|indexed|stored|included))?(?: (?:in|on|inside) {_CORPUS})?"
    rf"(?: (?:do|does) {_CORPUS} (?:have|hold|contain|include|know(?: about)?|cover))?\W*$"
    rf"|^\W*how (?:big|large) is {_CORPUS}\W*$", re.IGNORECASE)
# What it is about: "What topics does the corpus cover?", "What's in the corpus?", "What papers do you have?"
_TOPICS = LazyPattern(
    rf"^\W*(?:what|which) (?:topics|subjects|areas|fields|themes|kinds? of papers|sorts? of papers|papers|research)"
    rf"(?: (?:are|is))? (?:(?:do|does) {_CORPUS} (?:cover|contain|include|have|hold|know(?: about)?)"
    rf"|(?:covered|included) (?:in|by) {_CORPUS}|(?:in|inside) {_CORPUS})\W*$"
    rf"|^\W*what(?:'s| is) (?:in|inside) {_CORPUS}\W*$|^\W*what (?:is|are) {_CORPUS} about\W*$", re.IGNORECASE)

TOPIC_WORDS = 10  # how many of the titles' commonest words the topics answer names
_TITLE_WORD = re.compile(r"[A-Za-z][A-Za-z0-9+-]{2,}")
_COMMON = set("""a an and are as at based be by can do does for from how in into is it its of on or our over the their
this to towards toward via what when where which while who why with without we you your new using use study
approach approaches method methods model models paper papers novel learning""".split())


def reading(question: str) -> str | None:
    """"social", "help", "size" or "topics" for a message about the chat or the corpus, else None."""
    text = " ".join(question.split())
    if len(text) > 80:  # every message these read is short: a longer one is a question, and no pattern need compile
        return None
    if _SOCIAL.match(text):
        return "social"
    if _ABOUT_ME.match(text):
        return "help"
    if _SIZE.match(text):
        return "size"
    if _TOPICS.match(text):
        return "topics"
    return None


def reply(kind: str, catalog, files: list[str]) -> str:
    """The answer to a `reading`, from the index: its paper count and files, and for topics the
    records' commonest categories, else the words its titles use most (in how many titles)."""
    count = catalog.count_papers()
    papers = f"{count} paper{'s' if count != 1 else ''}"
    where = f" from {len(files)} corpus file{'s' if len(files) != 1 else ''}" if files else ""
    examples = 'for example "Which papers …?", "How does <method> work?" or "Compare <A> and <B>"'
    if kind == "social":
        return f"Ask me anything about the {papers} of this corpus, {examples}."
    if kind == "help":
        return (f"I answer questions from the abstracts of the {papers} of this corpus{where}, quoting them and "
                f"citing each as [n], and I say so when the corpus does not cover a question. Ask, {examples}.")
    if kind == "size":
        return f"The corpus holds {papers}{where}."
    return f"The corpus holds {papers}{where}. {_topics(catalog)}"


def _topics(catalog) -> str:
    categories: Counter = Counter()
    words: Counter = Counter()
    for paper in catalog.iter_papers():
        found = paper.metadata.get("categories") if isinstance(paper.metadata, dict) else None
        if isinstance(found, str):
            categories.update(set(found.split()))
        elif isinstance(found, list):
            categories.update({c for c in found if isinstance(c, str)})
        words.update(set(_title_words(paper.title)))
    if categories:
        top = ", ".join(f"{c} ({n})" for c, n in _commonest(categories))
        return f"Its commonest categories (papers in each): {top}."
    top = ", ".join(f"{w} ({n})" for w, n in _commonest(words))
    return f"The words its titles use most (in how many titles): {top}." if top else ""


def _commonest(counts: Counter) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda item: (-item[1], item[0].lower()))[:TOPIC_WORDS]


def _title_words(title: str) -> list[str]:
    """A title's words as topics: lower-cased unless written as a name ("LoRA", "ImageNet"), a
    plural folded into its singular ("transformers" -> "transformer"), common words left out."""
    out = []
    for word in _TITLE_WORD.findall(title):
        key = word if re.search(r"[A-Z].*[A-Z]|\d", word[1:]) else word.lower()
        if key.lower() in _COMMON:
            continue
        if key.islower() and key.endswith("s") and not key.endswith("ss") and len(key) > 4:
            key = key[:-1]
        out.append(key)
    return out
