"""How well each candidate paper answers the question, from its sentences (evidence units).

Every sentence of every paper in the candidate pool is scored against the question:
dense similarity (the sentence's vector, rag.evidence) plus the idf-weighted share of the
question's specific terms it contains, so a condition such as "without fine-tuning" counts
and the words that only ask for a list ("which papers") do not. Background sentences
("Recently…", "However, most…") are marked down: they restate the topic rather than answer.

For each paper that gives:
- `match`: how well it meets *every* aspect of the question (rag.shapes.aspects: the topic
  and each condition), the weakest aspect counting — what list questions are decided on
  (rag.lists);
- `relevance`: the retrieval score combined with the match — the order sources are shown in;
- its sentences ranked for the answer.
`evidence_strength` turns the pool into the abstention signal: the share of the question the
best papers hold and how far their match stands above the pool's median (the same question
over another corpus gives other raw similarities, but a paper that answers still stands out
from the rest of the pool).
Calibration: evals/calibrate_evidence.py, figures in evals/README.md.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field

import numpy as np

from rag.conditions import negated_terms, says_without, term_spelling
from rag.evidence import PaperEvidence
from rag.injection import is_instruction
from rag.lexicon import alternatives, equivalents
from rag.names import paper_text
from rag.numbers import meets_number, number_condition
from rag.records import Hit
from rag.sentences import is_boilerplate, sentence_kinds
from rag.shapes import Reading

LEXICAL_WEIGHT = 0.4  # sentence score = 0.6 * cosine + 0.4 * term coverage
PAPER_TERMS_WEIGHT = 0.3  # an aspect's score also counts its terms anywhere in the paper
BACKGROUND_PENALTY = 0.08
RETRIEVAL_WEIGHT = 0.5  # relevance = 0.5 * fused retrieval score + 0.5 * match / best match
ILLUSTRATION_LIFT = 0.08  # the most an illustration's option raises a sentence's aspect score
EVIDENCE_GAP_WEIGHT = 0.5  # abstention: coverage + 0.5 * (match - pool median); evals/calibrate_evidence.py
CENTRAL_COSINE = 0.25  # coverage: a question word counts fully from this cosine to the question up…
CENTRAL_FLOOR = 0.2  # …and at least this share of its idf (central_terms; evals/calibrate_evidence.py)
_WORD_VECTORS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # encoder -> {word: vector}, across questions

# Words that ask rather than describe: they must not count as the question's terms.
ASKING_WORDS = ("which what who whom whose where when how why paper papers work works method methods approach "
                "approaches study studies model models technique techniques propose proposes proposed report "
                "reports reported use uses using used list name show find give any there exist exists existing "
                "does do did can could should would corpus article articles research researchers authors "
                "introduce introduces present presents describe describes")


@dataclass
class Judged:
    """One candidate paper, judged on its sentences."""

    hit: Hit
    sentences: list[str]
    scores: np.ndarray  # per sentence: its score against the whole question (background marked down)
    usable: np.ndarray  # per sentence: may be quoted (not boilerplate, not an instruction)
    match: float  # weakest aspect's score
    aspect_scores: list[float] = field(default_factory=list)
    aspect_best: list[int] = field(default_factory=list)  # per aspect: its best sentence (-1: the title)
    relevance: float = 0.0
    coverage: float = 0.0  # idf-weighted share of the topic's terms found anywhere in the paper
    kinds: list[str] = field(default_factory=list)  # per sentence: sentence_kinds
    unmet: tuple[str, ...] = ()  # the number conditions ("of 85% or higher") no sentence of it meets

    def __post_init__(self):
        if len(self.kinds) != len(self.sentences):
            self.kinds = sentence_kinds(self.sentences)

    @property
    def paper(self):
        return self.hit.paper

    @property
    def paper_cosine(self) -> float:
        """The dense cosine of the paper's best chunk to the question (0 when unknown): the whole
        abstract's meaning, where `match` is its best sentences'."""
        return self.hit.dense_score if self.hit is not None and self.hit.dense_score is not None else 0.0

    def standing(self, dense_weight: float) -> float:
        """What list answers rank on: the evidence match plus `dense_weight` x the paper's cosine."""
        return self.match + dense_weight * self.paper_cosine

    def best_sentences(self, n: int) -> list[int]:
        order = [int(i) for i in np.argsort(-self.scores) if self.usable[i]]
        return order[:n]

    def evidence(self, n: int = 3) -> list[dict]:
        return [{"text": self.sentences[i], "score": round(float(self.scores[i]), 4)} for i in self.best_sentences(n)]


class EvidenceScorer:
    def __init__(self, bm25, encoder):
        self.bm25 = bm25
        self.encoder = encoder
        self.tokenize = lambda text: bm25.tokenizer(term_spelling(text))
        self.asking = set(self.tokenize(ASKING_WORDS))
        self.forms: dict[str, frozenset[str]] = {}  # a question term -> its other spellings that meet it (term_words)

    def terms(self, text: str) -> dict[str, float]:
        """The text's terms (stemmed, no stopwords or asking words) with their idf. A term the
        corpus never uses gets the highest idf: its absence is what "not covered" means — unless
        it is two words the corpus writes apart ("PageRank" / "Page Rank"): then it is those two
        words ("page+rank"), found where both are."""
        return self._terms(self.term_words(text))

    def _terms(self, words: dict[str, str]) -> dict[str, float]:
        """`terms` of a text from its term_words."""
        out: dict[str, float] = {}
        for term in words:
            if term in self.asking:
                continue
            if self.bm25.term_id(term) is None:
                parts = self.split_compound(term)
                if parts:
                    out["+".join(parts)] = sum(self.bm25.idf(p) for p in parts) / 2
                    continue
            out[term] = self.bm25.idf(term)
        return out

    def central_terms(self, texts: list[str], vectors: dict[str, np.ndarray] | None = None) -> list[dict[str, float]]:
        """For each text, `terms` with each idf scaled by how central the word is to the text's
        meaning (its cosine to the whole text over CENTRAL_COSINE, between CENTRAL_FLOOR and 1): what
        coverage is decided on. A question's rarest words are often its phrasing, not its topic
        ("papers *devoted* to processing *recorded* speech", "let a transformer *decide* how many
        layers to run"): by idf alone a paper that lacks them covered little of it, however much of
        the speech or the layers it holds; a word far from the question's meaning counts for less.
        `vectors`: texts already encoded; the rest, and words not seen before, in one batch."""
        plans = [(text, self._terms(words), words) for text in texts for words in [self.term_words(text)]]
        if self.encoder is None:
            return [terms for _, terms, _ in plans]
        known = _WORD_VECTORS.setdefault(self.encoder, {})
        vectors = dict(vectors or {})
        texts_needed = [t for t in dict.fromkeys(t for t, terms, _ in plans if len(terms) > 1) if t not in vectors]
        words_needed = [w for w in dict.fromkeys(words.get(key, key.replace("+", " ")) for _, terms, words in plans
                                                 if len(terms) > 1 for key in terms) if w not in known]
        if texts_needed or words_needed:
            encoded = self.encoder.encode(texts_needed + words_needed)
            vectors.update(zip(texts_needed, encoded))
            if len(known) > 100_000:
                known.clear()
            known.update(zip(words_needed, encoded[len(texts_needed):]))
        out = []
        for text, terms, words in plans:
            if len(terms) > 1:
                terms = {key: idf * min(1.0, max(CENTRAL_FLOOR, float(known[words.get(key, key.replace("+", " "))]
                                                                      @ vectors[text]) / CENTRAL_COSINE))
                         for key, idf in terms.items()}
            out.append(terms)
        return out

    def term_words(self, text: str) -> dict[str, str]:
        """Each term of the text, in the corpus's spelling (BM25Index.query_tokens), with the word it
        was read from ("tumor" for "tumours")."""
        words: dict[str, str] = {}
        for word, term in self.bm25.query_words(term_spelling(text)):
            words.setdefault(term, word)
            # …met in a sentence by any other spelling of the word the corpus uses ("tumour" or
            # "tumor", "mice" or "mouse"), or by its own
            others = [f for f in (*self.bm25.spelling_terms(word), *self.tokenize(word)) if f != term]
            if others:
                self.forms[term] = frozenset((*self.forms.get(term, ()), *others))
        return words

    def split_compound(self, term: str) -> tuple[str, str] | None:
        for cut in range(3, len(term) - 2):
            head, tail = self.tokenize(term[:cut]), self.tokenize(term[cut:])
            if len(head) == 1 == len(tail) and all(self.bm25.term_id(t) is not None for t in (head[0], tail[0])):
                return head[0], tail[0]
        return None

    def paper_tokens(self, paper) -> set[str]:
        """The stemmed words of a paper's title and abstract, each also in the spelling the
        corpus uses most ("tumour" as "tumor" too: the question's terms are read so)."""
        tokens = set(self.tokenize(paper_text(paper)))
        return tokens | {terms[0] for t in tokens for terms in [self.bm25.spelling_terms(t)] if terms}

    def coverage(self, terms: dict[str, float], tokens: set[str]) -> float:
        """The idf-weighted share of `terms` among `tokens`, a term found in any of its spellings
        (term_words)."""
        total = sum(terms.values())
        if not total:
            return 0.0
        forms, found = self.forms, 0.0
        for t, w in terms.items():
            if t in tokens or (t in forms and not tokens.isdisjoint(forms[t])) \
                    or ("+" in t and all(p in tokens for p in t.split("+"))):
                found += w
        return found / total

    def variant_coverage(self, aspect_texts, aspect_variants, paper_tokens: set[str]) -> float:
        """The share of the question's terms a paper holds when each positive aspect may be met in
        its other phrasings (rag.lexicon: a paper that merges tokens covers "prune tokens")."""
        weighted = [(sum(forms[0][0].values()), max(self.coverage(terms, paper_tokens) for terms, _ in forms))
                    for text, forms in zip(aspect_texts, aspect_variants) if not negated_terms(text) and not number_condition(text)]
        total = sum(w for w, _ in weighted)
        return sum(w * c for w, c in weighted) / total if total else 0.0

    def judge(self, reading: Reading, query: str, query_vector: np.ndarray, hits: list[Hit],
              evidence: dict[str, PaperEvidence]) -> list[Judged]:
        """Every hit judged, best relevance first (ties keep the retrieval order)."""
        aspect_texts = list(reading.aspects) or [reading.topic]
        texts = [reading.topic] if aspect_texts == [reading.topic] else [reading.topic, *aspect_texts]
        vectors = self.encoder.encode(texts) if reading.topic != query else np.vstack(
            [query_vector[None, :], self.encoder.encode(texts[1:])] if len(texts) > 1 else [query_vector[None, :]])
        # What the question asks about: its aspects minus the conditions that exclude something
        # ("…without labels"): those words need not (and should not) appear.
        positive = [a for a in aspect_texts if not negated_terms(a) and not number_condition(a)] or [reading.topic]
        topic_terms = self.terms(" ".join(positive))
        aspect_terms = [self.terms(a) for a in aspect_texts]
        aspect_vectors = vectors[1:] if len(texts) > 1 else vectors[:1]
        # Each aspect may also be met by one option of its "A, B or C", or in the words the field
        # uses for it (rag.lexicon).
        # Only for list questions: a look-up names its own thing ("a keep/drop token classifier")
        # and must not be widened to a whole family of methods.
        variants = [[] if negated_terms(a) or number_condition(a) or reading.shape != "list" else
                    alternatives(a) + equivalents(a) for a in aspect_texts]
        # Its illustrations' options ("…, such as satellite or drone imagery") are phrasings too, but
        # only a nudge (ILLUSTRATION_LIFT): an option alone ("…, for example to build QA data")
        # would admit papers far from the aspect itself.
        given = [[] if reading.shape != "list" or i >= len(reading.phrasings) else list(reading.phrasings[i])
                 for i in range(len(aspect_texts))]
        flat = [v for vs in variants for v in vs] + [g for gs in given for g in gs]
        flat_vectors = self.encoder.encode(flat) if flat else None
        aspect_variants, aspect_illustrations, at = [], [], 0
        for text, terms, vector, phrases in zip(aspect_texts, aspect_terms, aspect_vectors, variants):
            forms = [(terms, vector)]
            for phrase in phrases:
                forms.append((self.terms(phrase), flat_vectors[at]))
                at += 1
            aspect_variants.append(forms)
        # What coverage weighs: the same terms weighed by meaning (central_terms), in one batch
        covered_texts = [" ".join(positive)] + [t for text, phrases in zip(aspect_texts, variants) for t in (text, *phrases)]
        encoded = dict(zip(texts, vectors)) | (dict(zip(flat, flat_vectors)) if flat else {})
        covered = iter(self.central_terms(covered_texts, encoded))
        covered_terms = next(covered)
        covered_variants = [[(next(covered), None) for _ in (text, *phrases)] for text, phrases in zip(aspect_texts, variants)]
        for phrases in given:
            aspect_illustrations.append([(self.terms(phrase), flat_vectors[at + k]) for k, phrase in enumerate(phrases)])
            at += len(phrases)
        judged = []
        for hit in hits:
            paper_evidence = evidence[hit.paper.paper_id]
            sentences = paper_evidence.sentences
            tokens = [set(self.tokenize(s)) for s in sentences]
            title_tokens = set(self.tokenize(hit.paper.title))
            paper_tokens = title_tokens.union(*tokens) if tokens else title_tokens
            kinds = sentence_kinds(sentences)
            background = np.array([kind == "background" for kind in kinds], dtype=bool)
            usable = np.array([not is_boilerplate(s) and not is_instruction(s) for s in sentences], dtype=bool)
            penalty = np.where(background, BACKGROUND_PENALTY, 0.0) + np.where(usable, 0.0, 1.0)

            def blend(vector, lexical, vectors=paper_evidence.vectors, penalty=penalty):
                """Per sentence: 0.6 x its cosine to `vector` + 0.4 x `lexical`, background marked down."""
                return (1 - LEXICAL_WEIGHT) * (vectors @ vector) + LEXICAL_WEIGHT * lexical - penalty

            scores = blend(vectors[0], np.array([self.coverage(topic_terms, t) for t in tokens]))
            aspect_scores, aspect_best, unmet = [], [], []
            for text, forms, illustrated in zip(aspect_texts, aspect_variants, aspect_illustrations):
                excluded = negated_terms(text)
                number = number_condition(text)
                per, paper_hit, stated = None, 0.0, False
                for terms, vector in forms:
                    if number:  # met by a sentence whose numbers satisfy it, in a paper on the topic
                        on_topic = min(1.0, 2 * self.coverage(topic_terms, paper_tokens))
                        meets = np.array([float(meets_number(s, number)) for s in sentences])
                        lexical_hits = meets * on_topic
                        hit_here = float(lexical_hits.max()) if len(lexical_hits) else 0.0
                        # a percentage says what it measures: in a sentence with half the topic's words
                        # ("87.3% top-1 accuracy on ImageNet"), not any "accuracy of 96%" or "95% fewer FLOPs"
                        said = meets if number[2] != "%" else \
                            meets * np.array([self.coverage(topic_terms, t) >= 0.5 for t in tokens])
                        stated = stated or bool(said.any())
                        vector = vectors[0]  # the number alone has no meaning to compare: the topic's
                    elif excluded:
                        lexical_hits = np.array([float(says_without(s, excluded)) for s in sentences])
                        hit_here = float(says_without(hit.paper.title, excluded) or bool(lexical_hits.any()))
                    else:
                        lexical_hits = np.array([self.coverage(terms, t) for t in tokens])
                        hit_here = self.coverage(terms, paper_tokens)
                    form = blend(vector, lexical_hits)
                    per = form if per is None else np.maximum(per, form)
                    paper_hit = max(paper_hit, hit_here)
                if illustrated and len(per):
                    lifted, lifted_hit = per, paper_hit
                    for terms, vector in illustrated:
                        form = blend(vector, np.array([self.coverage(terms, t) for t in tokens]))
                        lifted = np.maximum(lifted, np.minimum(form, per + ILLUSTRATION_LIFT))
                        lifted_hit = max(lifted_hit, min(self.coverage(terms, paper_tokens), paper_hit + ILLUSTRATION_LIFT))
                    per, paper_hit = lifted, lifted_hit
                best = int(np.argmax(per)) if len(per) else -1
                best_score = float(per[best]) if best >= 0 else 0.0
                aspect_scores.append((1 - PAPER_TERMS_WEIGHT) * best_score + PAPER_TERMS_WEIGHT * paper_hit)
                if number and not stated:  # however far from the topic, a paper that states it is a candidate
                    unmet.append(text)
                aspect_best.append(best)
            judged.append(Judged(hit=hit, sentences=sentences, scores=scores, usable=usable,
                                 match=min(aspect_scores), aspect_scores=aspect_scores, aspect_best=aspect_best, kinds=kinds,
                                 unmet=tuple(unmet),
                                 coverage=max(self.coverage(covered_terms, paper_tokens),
                                              self.variant_coverage(aspect_texts, covered_variants, paper_tokens))))
        top = max((j.match for j in judged), default=0.0)
        for j in judged:
            j.relevance = RETRIEVAL_WEIGHT * j.hit.score + (1 - RETRIEVAL_WEIGHT) * (j.match / top if top > 0 else 0.0)
        order = sorted(range(len(judged)), key=lambda i: (-judged[i].relevance, i))
        return [judged[i] for i in order]


def evidence_strength(judged: list[Judged], depth: int = 3) -> float:
    """The abstention signal: for the best of the top papers, the share of the question's terms
    it contains (idf-weighted, a corpus-independent share) plus half of how far its evidence
    stands above the pool's median (relative to this question's own pool, not to a fixed scale)."""
    if not judged:
        return 0.0
    median = float(np.median([j.match for j in judged]))
    return max(j.coverage + EVIDENCE_GAP_WEIGHT * (j.match - median) for j in judged[:depth])
