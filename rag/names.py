"""The names a question gives ("ADE20K", "MindSpore", "TrackingNet") and whether the candidate
papers say them: a look-up naming what its paper never says is refused (`unsaid_names`), a weak
question sharing an identifier with a top paper is answered (`said_identifiers`, down to
IDENTIFIER_FLOOR), and a list about a name names only papers that say it (`listed_names`,
`saying`). Calibration: evals/calibrate_evidence.py, figures in evals/README.md.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from rag.conditions import data_acronyms, is_option, missing_names, question_names, says_name

# A name given as an example is not what a question asks about: "…antidepressants such as ketamine"
EXAMPLES = re.compile(r"\b(?:such as|like|e\.g\.|including|for example|for instance)\b[^,;:?.!]*", re.IGNORECASE)

if TYPE_CHECKING:
    from rag.records import Paper
    from rag.relevance import Judged

# An identifier the question and a top paper share carries a question whose other words are the
# asker's own paraphrase — down to this strength (below it, the identifier alone does not).
IDENTIFIER_FLOOR = 0.35


def paper_text(paper: Paper) -> str:
    return f"{paper.title}. {paper.abstract}"


def unsaid_names(form: str, question: str, judged: list[Judged], depth: int = 3) -> list[str]:
    """The names a look-up asks about ("ADE20K", "TrackingNet", "PCSK9") that the paper it would be
    answered from never says: for a single, quantity or explanation question the top source; for
    a comparison, each name by any of the top `depth`. Lists are judged on their evidence instead."""
    if not judged or form not in ("single", "quantity", "explanation", "comparison"):
        return []
    papers = [j.paper for j in judged[:depth]] if form == "comparison" else [judged[0].paper]
    return missing_names(question, " ".join(paper_text(p) for p in papers))


def said_by_top(names: list[str], judged: list[Judged], depth: int = 3) -> list[str]:
    """The names that one of the top `depth` papers says."""
    texts = [paper_text(j.paper) for j in judged[:depth]]
    return [n for n in names if any(says_name(text, n) for text in texts)]


def said_identifiers(question: str, judged: list[Judged], depth: int = 3) -> list[str]:
    """The identifiers the question gives — names with a capital and a digit ("ADE20K", "Cas9",
    "MeCP2", "WSJ0": datasets, genes, model versions; not "top-1") — that one of the top `depth`
    papers says. Such a name is what the question is about, and it is no one's paraphrase: a
    question that shares one with a paper is covered even when its other words are not the paper's
    ("Which papers evaluate their models on the ADE20K scene-parsing benchmark?")."""
    names = [n for n in question_names(question) if re.search(r"\d", n) and re.search(r"[A-Z]", n)]
    return said_by_top(names, judged, depth)


def titled_identifiers(question: str, judged: list[Judged]) -> list[str]:
    """The identifiers the question gives (said_identifiers) that the top paper's title carries:
    the paper is about it, and a question about it is answered however weak the rest of its
    evidence ("How does miR-375 affect liver cancer cells under low oxygen?" of "miR-375 inhibits
    autophagy … of hepatocellular carcinoma cells under hypoxic conditions": 0.30, under the floor)."""
    names = [n for n in question_names(question) if re.search(r"\d", n) and re.search(r"[A-Z]", n)]
    return [n for n in names if judged and says_name(judged[0].paper.title, n)]


# A rare term: a word that is not English and that tiktoken's vocabulary, built from web text, splits
# into at least this many pieces ("metformin", "pembrolizumab"; not "watermark", "commas").
RARE_PIECES = 3
RARE_SHARE = 0.01  # a word the corpus uses in at most this share of its chunks says what its papers are about
_WORD = re.compile(r"(?<![\w-])[A-Za-z][a-z]{4,}(?![\w-])")


def unknown_terms(question: str, bm25, judged: list[Judged]) -> list[str]:
    """The rare terms of a look-up that no paper of the corpus uses ("Is metformin associated with
    lower cancer risk?" in a corpus without metformin was answered from a vitamin D study): what
    it asks about is not in the corpus, however near its other words come. Not a word given as an
    example or one option of an "A or B", nor a typo (_a_typo), nor any when the question also
    gives a word the corpus rarely uses that the top paper says (its subject is there: "the oral
    immunomodulator fingolimod")."""
    from rag.spelling import is_english
    from rag.tokens import count_tokens

    asked = EXAMPLES.sub(" ", question)
    words = [m.group(0).lower() for m in _WORD.finditer(asked)
             if not re.search(r"\bor\s*$", asked[:m.start()]) and not re.match(r"\s*,?\s*or\b", asked[m.end():])]
    words = [w for w in dict.fromkeys(words) if not is_english(w)]
    unknown = [w for w in words if not bm25.uses(w) and not _a_typo(bm25, w)]
    if not unknown:
        return []
    top = paper_text(judged[0].paper).lower() if judged else ""
    if any(w in top and _rarely_used(bm25, w) for w in words if w not in unknown):
        return []
    return [w for w in unknown if count_tokens(f" {w}") >= RARE_PIECES]


def _rarely_used(bm25, word: str) -> bool:
    ids = [bm25.term_id(t) for t in bm25.spelling_terms(word)]
    return any(i is not None and bm25.df(i) <= RARE_SHARE * bm25.n_docs for i in ids)


def _a_typo(bm25, word: str) -> bool:
    """One edit from an English word or one the corpus uses ("conventoinally", "claudiaction"): a
    typo the speller left (it corrects only to the corpus's words), not a term the corpus lacks."""
    from rag.spelling import is_english, one_edit

    return any(is_english(c) or bm25.uses(c) for c in one_edit(word))


def listed_names(question: str, judged: list[Judged], depth: int = 3) -> list[str]:
    """The names a list question is about ("ADE20K", "MindSpore", "FPGAs") that one of the top
    `depth` papers says — a list names only papers that say one (rag.lists.list_matches) —
    except a name that is one option of an "A or B" ("on phones or with Apple's CoreML": a paper
    that measures on an iPhone answers it too)."""
    names = [n for n in dict.fromkeys([*question_names(question), *data_acronyms(question)]) if not is_option(n, question)]
    return said_by_top(names, judged, depth)


def saying(judged: list[Judged], names: list[str]) -> list[Judged]:
    """The papers that say every one of the names (all papers when no name is given): a list
    question about a name ("…on the ADE20K benchmark") names only the papers that say it, and one
    about two ("…evaluate on both ImageNet and COCO") only those that say both (the options of an
    "A or B" are no such names: listed_names)."""
    if not names:
        return judged
    return [j for j in judged if all(says_name(paper_text(j.paper), n) for n in names)]
