"""Conditions a question puts that similarity cannot judge: exclusions and names.

"Without fine-tuning" is met only by a sentence that says so ("without model re-training",
"off-the-shelf", "training-free"), never by one that mentions fine-tuning — which usually says
the opposite. A name ("ADE20K", "F1") is said only as written, in pieces or spelled out.
Numbers are rag.numbers'. Pure functions on text; rag.relevance scores sentences with them.
"""

from __future__ import annotations

import re
from functools import lru_cache

# A condition that excludes something ("without fine-tuning", "no labels"): a sentence meets it
# only by saying so, never by mentioning the excluded thing — that is usually the opposite.
_NEGATED_ASPECT = re.compile(r"^(?:without|with no|no|not|free of|rather than|instead of|other than|except|but not|and not)\b\s*", re.I)
_NEGATION_CUE = r"(?:without|no|not|never|free of|w/o|eliminat\w*|avoid\w*|dispens\w* with|removing the need for)"
# How abstracts say "no training needed" without the question's words (a question's "without
# fine-tuning" is met by "off-the-shelf" or "training-free").
_TRAINING = re.compile(r"^(?:re-?)?(?:train|fine-?tun|finetun|tun|learn|optimi[sz]|updat|gradient)", re.I)
_NO_TRAINING = re.compile(
    r"(?<!with and )(?<!both )\b(?:training[- ]free|tuning[- ]free|off[- ]the[- ]shelf|plug[- ]and[- ]play|"
    r"zero[- ]shot (?:method|approach|manner|fashion|way|setting|framework|technique|pruning|merging|compression|quantization)|"
    # post-training quantization / pruning: applied to the trained model, no retraining
    r"post[- ]training (?:[\w-]+ ){0,2}(?:quantization|pruning|sparsification|compression)|PTQ|"
    r"without (?:any |additional |extra |further |model |the need for |requiring )*(?:re-?)?(?:training|fine-?tuning|retraining|tuning)|"
    r"no (?:additional |extra |further )?(?:re-?)?(?:training|fine-?tuning|tuning)|"
    r"(?:does|do|did) not (?:require|need) (?:any )?(?:additional |extra |further )?(?:re-?)?(?:training|fine-?tuning))\b", re.I)


def negated_terms(aspect: str) -> list[str] | None:
    """The excluded words of a negated condition ("without fine-tuning" -> ["fine-tuning"]), else None."""
    match = _NEGATED_ASPECT.match(aspect.strip())
    if not match:
        return None
    rest = aspect.strip()[match.end():]
    words = re.findall(r"[\w-]{3,}", rest)
    return [w for w in words if w.lower() not in ("any", "all", "the", "additional", "extra", "further", "model", "models")] or None


def says_without(sentence: str, excluded: list[str]) -> bool:
    """Does the sentence state the absence of the excluded thing?"""
    if any(_TRAINING.match(w) for w in excluded) and _NO_TRAINING.search(sentence):
        return True
    for word in excluded:
        stem = re.escape(word.lower()[: max(4, len(word) - 3)])
        if re.search(rf"(?<!with and )(?<!both )\b{_NEGATION_CUE}\s+(?:\w+[\s-]+){{0,3}}?{stem}|\b{stem}[\w-]*[- ]free\b", sentence, re.I):
            return True
    return False


# Spellings of one term that the index's tokenizer keeps apart: a plural acronym ("FPGAs",
# "LLMs": the stemmer leaves "fpgas" whole) and a name with a hyphenated number
# ("FlashAttention-2" loses its "2" and becomes "flashattent"; "FlashAttention2" does not).
_ACRONYM_PLURAL = re.compile(r"\b([A-Za-z0-9-]*[A-Z][A-Za-z0-9-]*[A-Z][A-Za-z0-9-]*)s\b")
_HYPHENATED_NUMBER = re.compile(r"(?<=[A-Za-z])-(?=\d)")


def term_spelling(text: str) -> str:
    """'FPGAs' -> 'FPGA', 'FlashAttention-2' -> 'FlashAttention2' (for matching terms only)."""
    return _HYPHENATED_NUMBER.sub("", _ACRONYM_PLURAL.sub(r"\1", text))


# The names a question gives (datasets, benchmarks, methods: "ADE20K", "TrackingNet", "GPT-4"):
# a paper that answers a look-up about them says them. A name the best paper never says is a
# question the corpus does not answer ("What ADE20K mIoU does Segformer++ reach?" when the paper
# reports Cityscapes only), however close the rest of the question is.
# A name: two capitals or a capital and a digit ("ADE20K", "LoRA"), letters with a number
# ("GPT-4"), or CamelCase ("TrackingNet"). rag.extractive finds the papers a comparison names with it.
NAME = r"\b(?:[A-Z][\w.+-]*[A-Z0-9][\w.+-]*|[A-Za-z]+[-+]?\d[\w.+-]*|[A-Z][a-z]+(?:[A-Z]\w*)+)"
_QUESTION_NAME = re.compile(NAME)
_SMALL_WORDS = {"of", "for", "from", "and", "the", "to", "with", "in", "on", "by", "a", "an"}


def question_names(question: str) -> list[str]:
    """'a LoRA-tuned ViT on TrackingNet' -> ['TrackingNet']: the names the question asks about.
    Left out, as the asker's own words rather than the paper's: a name with a lower-case suffix
    ('LoRA-tuned', 'AlphaZero-style', 'IoT-class') only describes a kind of thing, and a short
    letter-only abbreviation ('ViT', 'RGB', 'OAI') is as often a paraphrase as a name."""
    names = []
    for raw in _QUESTION_NAME.findall(question):
        name = raw.rstrip(".,;:?!")
        if re.search(r"-[a-z]+$", name) or (len(name) < 5 and not re.search(r"\d", name)):
            continue  # short letter-only abbreviations ("ViT", "RGB", "MRI") are often the asker's own
        if name not in names:
            names.append(name)
    return names


# A dataset or benchmark's acronym where the question says what papers are evaluated on: "on COCO",
# "results on GLUE", "on both ImageNet and COCO", "on the KITTI or nuScenes benchmark". Elsewhere a
# short acronym is as often the asker's paraphrase ("use CNNs") as a name (question_names).
# (a lookahead, so that "on both ImageNet and COCO" and a later "on GLUE" are each found in one pass)
_DATA_ACRONYM = re.compile(r"(?=\bon\s+(?:the\s+)?(?:both\s+|either\s+)?(?:[\w-]+\s*(?:,|and|or)\s+){0,3}"
                           r"(?P<name>[A-Z]{3,6})(?=s?\b))")


_EVALUATED = re.compile(r"\b(?:evaluat\w*|test(?:s|ed|ing)?|benchmark\w*|results?|scores?|report\w*|accura\w*|"
                        r"experiment\w*|datasets?|trained|train(?:s|ing)?|fine-tun\w*|pretrain\w*)\b", re.IGNORECASE)


def data_acronyms(question: str) -> list[str]:
    """The acronyms a question names as what papers are evaluated on ("COCO", "GLUE", "KITTI"), in
    a question about evaluation ("report results on GLUE"; not "measure speed on CPUs")."""
    if not _EVALUATED.search(question):
        return []
    return list(dict.fromkeys(m.group("name") for m in _DATA_ACRONYM.finditer(question)))


def is_option(name: str, text: str) -> bool:
    """Whether a name is one option of an "A or B" in the text ("on phones or with Apple's CoreML",
    "on LaSOT or GOT-10k"): a paper saying any option meets it."""
    n = re.escape(name)
    return bool(re.search(rf"\bor\s+(?:[\w'’-]+\s+){{0,3}}{n}|{n}\s+(?:[\w'’-]+\s+){{0,3}}or\b", text))


def says_name(text: str, name: str) -> bool:
    """Does the text say the name — as written (plural or hyphenated spellings aside), or, for an
    acronym, spelled out ('NSCLC' = 'non-small cell lung cancer')?"""
    # as a word of its own: "LoRA" is not said by "exploration" or "LoRAT" (a plural still is)
    if re.search(rf"(?<![a-z0-9]){re.escape(term_spelling(name).lower())}(?:e?s)?(?![a-z0-9])", term_spelling(text).lower()):
        return True
    if _said_in_pieces(text, name):
        return True
    if re.fullmatch(r"[A-Z]{2,6}", name):
        words = [w for w in re.findall(r"[A-Za-z]+", text) if w.lower() not in _SMALL_WORDS]
        initials = "".join(w[0].upper() for w in words)
        return name in initials and _spelled_out(words, name)
    return False


_SHORT_TO = re.compile(r"([a-z]{3,})2([a-z]{3,})")  # "seq2seq": "sequence-to-sequence"


@lru_cache(maxsize=2048)
def _pieces(text: str) -> tuple[str, str, tuple[str, ...]]:
    """The text lower-cased, its letters and digits alone, and its words (a paper's text is asked
    about once per name, for every question)."""
    lowered = text.lower()
    return lowered, re.sub(r"[^a-z0-9]", "", lowered), tuple(w for w in re.split(r"[^a-z0-9]+", lowered) if w)


def _said_in_pieces(text: str, name: str) -> bool:
    """The name written in pieces or joined: "F1" as "F_1" or "F1-score", "CNN/DailyMail" as "CNN
    Daily Mail", "seq2seq" as "sequence-to-sequence" — a run of the text's words (split at
    anything but letters and digits) that spells the name's letters and digits, whole words only
    ("GPT-4o" does not say "GPT-4")."""
    compact = re.sub(r"[^a-z0-9]", "", name.lower())
    short = _SHORT_TO.fullmatch(compact)
    lowered, joined_text, words = _pieces(text)
    # the run's letters and digits are the text's with the gaps taken out: absent there, absent
    if compact not in joined_text and not (short and short.group(1) in lowered):
        return False
    for i in range(len(words)):
        if short and i + 2 < len(words) and words[i + 1] == "to" and words[i].startswith(short.group(1)) \
                and words[i + 2].startswith(short.group(2)):
            return True
        joined = ""
        for word in words[i:i + 5]:
            joined += word
            if joined == compact:
                return True
            if not compact.startswith(joined):
                break
    return False


def _spelled_out(words: list[str], acronym: str) -> bool:
    n = len(acronym)
    return any("".join(w[0].upper() for w in words[i:i + n]) == acronym for i in range(len(words) - n + 1))


def missing_names(question: str, text: str) -> list[str]:
    """The names the question gives that the text never says."""
    return [name for name in question_names(question) if not says_name(text, name)]
