"""The `extractive` answer: abstract sentences chosen for the question's shape, each one cited.

No language model. The papers come judged on their sentences (rag.relevance); this module
only decides which sentences to quote and in what form (rag.shapes):
- list: "4 papers match:" and one line per paper, short name — its matching sentence [n], what
  it proposes [n] and its result with a measure (or its next best sentences) [n];
  "showing 3 of 4" and how to see all when more match than the sources hold;
- single / explanation: the top paper (plus any within a calibrated margin), 2–4 sentences —
  the one that answers, the contribution, the result with its numbers — in abstract order;
- quantity: the top paper's sentence holding the numbers the question asks about first;
- comparison: a block per paper named in the question.
Background sentences are quoted only when nothing better matches. Every quote is verbatim and
cited with its paper's source rank, so every claim is correctly attributed. It does not decide
abstention; the pipeline does, before calling it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.citations import with_markers
from rag.conditions import NAME
from rag.intents import asked_sentences, asks_about_paper, asks_limitation, asks_problem, asks_verdict
from rag.measures import NUMBER_WORD, measure_names, missing_measure, says_measure
from rag.paper_names import asked_about, is_setting, named_sources, paper_name, recased, short_name
from rag.relevance import Judged
from rag.sentences import OWN_VOICE, proposes, states_limitation

_NUMBER = re.compile(r"\d")
# A number with a measure: a share, a factor, a rate, a score ("97.5%", "3X", "2.2 AP", "108 FPS").
_MEASURE = re.compile(r"\d(?:\.\d+)?\s*(?:%|x\b|×|times\b|-?fold\b|fps\b|ms\b|db\b|points?\b|pp\b|"
                      r"bleu\b|ap\b|map\b|miou\b|fid\b|auc\b|f1\b|top-1\b|wer\b|psnr\b)|"
                      r"\b(?:accuracy|ap|map|miou|fid|auc|f1|bleu|wer|psnr|speedup|speed-up) (?:of |by |to )?\d", re.I)
_NAME = re.compile(NAME + r"\b")
# What a paper was trained or tested on: "a large cohort (n=2421) from the Osteoarthritis Initiative
# dataset", "three hospital datasets totalling 811336 patients", "evaluated on GOT-10k and UAV123".
_DATA = re.compile(r"\b(?:data ?sets?|cohorts?|corpus|corpora|benchmarks?|patients|participants|subjects|samples|"
                   r"(?:pre-?)?train\w* (?:on|with)|evaluat\w* on|experiments? on|tested on|collected|consists? of|contains?|"
                   r"comprising|totall?ing)\b", re.I)
# "How many images / patients / tasks…": a question about the data is answered by its size.
_ASKS_COUNT = re.compile(r"^\s*how\s+(?:many|large|big)\b", re.I)
# What a paper concludes: the sentence that answers "does X…?" ("In conclusion, …", "These
# results suggest …", "CONCLUSIONS: …").
_CONCLUSION = re.compile(r"^(?:conclusions?|interpretations?|in conclusion|in summary|to conclude|taken together)\b"
                         r"|\b(?:we conclude|(?:these|our|the) (?:results|findings|data|observations) (?:\w+ )?"
                         r"(?:suggest|indicate|show|demonstrate|support|imply|reveal|confirm))", re.I)
# A list of up to this many papers quotes one sentence more per paper (its next best): a short list
# has room to say what each paper found. Chosen on the calibration split (evals/README.md).
SHORT_LIST = 5
LIST_SHOW_HINT = "use --k {count} (or the papers slider) to see all"


def showing(shown: int, count: int, see: int | None = None) -> str:
    """", showing 10 of 26 (use --k 26 …)" when fewer are shown than `count` (`see`: the --k that
    shows all, when it is not `count`), else ""."""
    return "" if shown >= count else f", showing {shown} of {count} ({LIST_SHOW_HINT.format(count=see or count)})"


@dataclass
class ExtractiveAnswer:
    text: str
    markers: list[int]  # the source ranks cited, in order of first appearance
    form: str = "single"  # the shape it was composed for (an LLM is asked for the same)


class Composer:
    """Quotes for each shape, from papers already judged and ranked as the sources are."""

    def __init__(self, sources: list[Judged], single_margin: float, max_papers: int, sentences_per_paper: int,
                 list_sentences: int = 3, limitation: bool = False, most: int | None = None, summary: bool = False):
        self.sources = sources  # in rank order; sources[i].hit.rank == i + 1
        self.limitation = limitation  # "What are the limitations of X?": lead with what limits it (limited)
        self.most = most  # "…in one sentence": the most sentences a paper's quote has (intents.asked_sentences)
        self.summary = summary  # "What is Mamba?": the sentence that introduces it, how it works, its result
        self.single_margin = single_margin
        self.max_papers = max_papers
        self.sentences_per_paper = sentences_per_paper
        self.list_sentences = list_sentences
        self.quoted: dict[int, list[int]] = {}

    def quote(self, judged: Judged, indexes: list[int]) -> str:
        rank = judged.hit.rank
        self.quoted.setdefault(rank, []).extend(i for i in indexes if i not in self.quoted.get(rank, []))
        return " ".join(with_markers(judged.sentences[i], [rank]) for i in indexes)

    def result(self, lines: list[str]) -> ExtractiveAnswer:
        return ExtractiveAnswer(text="\n".join(lines), markers=list(self.quoted))

    # -- choosing sentences ------------------------------------------------------------
    def pick(self, judged: Judged, quota: int, lead_with_number: bool = False, verdict: bool = False,
             about_data: bool = True, explain: bool = False, named: tuple[str, ...] = (),
             problem: bool = False) -> list[int]:
        """Up to `quota` sentences: the best answer, the contribution, a result with numbers, the
        data it was trained or tested on (the dataset, the cohort, its size), then the next best —
        for a yes-or-no question about a finding (`verdict`), what the paper concludes comes second;
        for "how does X work?" (`explain`), how it works (the sentence after "we propose X", then
        the paper's other sentences that are neither setting nor result) before any result;
        for "what problem does X solve?" (`problem`), its problem statement, then what it proposes;
        otherwise background only when nothing else is usable. Returned in abstract order, except that
        a quantity answer leads with its number-bearing sentence."""
        ranked = judged.best_sentences(len(judged.sentences))
        if not ranked:
            return []
        kinds = {i: judged.kinds[i] for i in ranked}
        foreground = [i for i in ranked if kinds[i] != "background"] or ranked
        # A result is best told by its measure ("by up to 3X", "97.5%"), whatever else the sentence
        # says ("we demonstrate that … improves throughput by 3X"); counts ("50 epochs") come after.
        measured = [i for i in foreground if _MEASURE.search(judged.sentences[i])]
        numbered = measured + [i for i in foreground if _NUMBER.search(judged.sentences[i]) and i not in measured]
        if lead_with_number and named and named[0].islower():  # a count may be spelled out ("Forty-two
            # studies", "eight relevant trials") when "how many" names what it counts (measure_names)
            numbered += [i for i in foreground if i not in numbered and NUMBER_WORD.search(judged.sentences[i])]
        results = measured or [i for i in foreground if kinds[i] == "result" and (i in numbered or not numbered)]
        chosen: list[int] = []
        if lead_with_number and numbered:
            # the number asked for, not the size of the cohort it was measured on ("in 7715 subjects
            # (40% men)") unless the question asks about the data
            findings = [i for i in numbered if about_data or not _DATA.search(judged.sentences[i])]
            # the number of the measure or dataset the question names ("what precision@10 … on
            # MIMIC-III?"), in question order, before any other measured one ("relevancy of 97%")
            # (the first name that some sentence says: what "how many" counts comes first)
            asked = next(([i for i in numbered if says_measure(judged.sentences[i], n)] for n in named
                          if any(says_measure(judged.sentences[i], n) for i in numbered)), [])
            chosen.append((asked or findings or numbered)[0])
        data = [i for i in foreground if _DATA.search(judged.sentences[i])]
        concluded = [i for i in foreground if _CONCLUSION.search(judged.sentences[i])]
        # "Does X reduce Y?" is answered by what the paper concludes, then its result
        wants = ("background", "background", "contribution", "any") if problem else \
            ("limitation", "limitation", "contribution", "any") if self.limitation else \
            ("introduces", "how", "result", "any") if self.summary and not (lead_with_number or verdict) else \
            ("any", "conclusion", "result", "contribution", "data", "any") if verdict else \
            ("any", "contribution", "how", "how", "any") if explain else ("any", "contribution", "result", "data", "any")
        setting = [i for i in ranked if kinds[i] == "background"]
        contributions = sorted((i for i in foreground if kinds[i] == "contribution"), key=lambda i: not proposes(judged.sentences[i]))
        how = [i for i in self.mechanism(judged)[1:] if i in foreground] + \
            [i for i in foreground if kinds[i] in ("other", "contribution") and not _MEASURE.search(judged.sentences[i])]
        for want in wants:
            if len(chosen) >= quota:
                break
            pool = foreground if want == "any" else results if want == "result" else data if want == "data" else \
                setting if want == "background" else (self.limited(judged) or setting) if want == "limitation" else \
                (self.introducing(judged) or contributions) if want == "introduces" else \
                concluded if want == "conclusion" else how if want == "how" else contributions
            for i in pool:
                if i not in chosen:
                    chosen.append(i)
                    break
        for i in foreground:  # at least two sentences when the paper has them
            if len(chosen) >= min(2, quota):
                break
            if i not in chosen:
                chosen.append(i)
        lead = chosen[:1] if lead_with_number and numbered else []
        return lead + sorted(i for i in chosen if i not in lead)

    def companions(self, alone: bool = False) -> list[Judged]:
        """The top source and any other within the margin of its match (single look-ups); the top
        source `alone` when the question asks about it by name ("What is the main idea of Mamba?":
        not the Mamba survey and Mamba-ND beside the Mamba paper)."""
        top = self.sources[0]
        near = [] if alone else [j for j in self.sources[1:] if j.match >= top.match - self.single_margin]
        return [top, *near][: self.max_papers]

    # -- shapes ------------------------------------------------------------------------
    def single(self, lead_with_number: bool = False, verdict: bool = False, about_data: bool = True,
               explain: bool = False, named: tuple[str, ...] = (), alone: bool = False,
               problem: bool = False) -> ExtractiveAnswer:
        lines = []
        for position, judged in enumerate(self.companions(alone)):
            quota = min(self.sentences_per_paper if position == 0 else 1, self.most or self.sentences_per_paper)
            picked = self.pick(judged, quota, lead_with_number, verdict, about_data, explain, named, problem)
            if picked:
                lines.append(f"{paper_name(judged.paper)}: {self.quote(judged, picked)}")
        return self.result(lines)

    def listing(self, matches: list[Judged], count: int, head: str | None = None, extra=None) -> ExtractiveAnswer:
        """`matches`: the matching papers among the sources (rank order); `count`: all that match.
        `head` replaces the "4 papers match:" line; `extra(judged)` adds text to a paper's line.
        A line quotes list_sentences sentences, one more in a list of up to SHORT_LIST papers, and
        as many as a look-up when one paper is shown."""
        shown = len(matches)
        noun = "paper matches" if count == 1 else "papers match"
        head = head or f"{count} {noun}{showing(shown, count)}:"
        lines = [head]
        extra_sentences = self.list_sentences - 1 + int(shown <= SHORT_LIST)
        if self.most:
            extra_sentences = min(extra_sentences, self.most - 1)
        for judged in matches:
            index = next(iter(self.limited(judged)), None) if self.limitation else None
            index = self.matching_sentence(judged) if index is None else index
            if index is not None:
                picked = [index, *self.list_extra(judged, index, extra_sentences)]
                if shown == 1:  # one paper: as much of it as a look-up quotes, the matching sentence first chosen
                    picked = list(dict.fromkeys([index, *self.pick(judged, self.sentences_per_paper)]))[
                        : min(self.sentences_per_paper, self.most or self.sentences_per_paper)]
                tail = f" {extra(judged)}" if extra else ""
                lines.append(f"- {paper_name(judged.paper)} — {self.quote(judged, sorted(picked))}{tail}")
        return self.result(lines)

    def list_extra(self, judged: Judged, index: int, most: int | None = None) -> list[int]:
        """What a list line adds to the matching sentence, up to `most` (list_sentences - 1) of them: what
        the paper contributes ("we propose…", its mechanism), then its result with a measure, else
        its next best sentences (never background)."""
        ranked = [i for i in judged.best_sentences(len(judged.sentences))
                  if i != index and judged.kinds[i] != "background"]
        said = judged.kinds[index]
        contributions = sorted((i for i in ranked if judged.kinds[i] == "contribution"),
                               key=lambda i: not proposes(judged.sentences[i]))[: int(said != "contribution")]
        measured = [i for i in ranked if _MEASURE.search(judged.sentences[i])]
        results = measured + [i for i in ranked if _NUMBER.search(judged.sentences[i]) and judged.kinds[i] == "result"]
        if _MEASURE.search(judged.sentences[index]):
            results = []
        return list(dict.fromkeys(contributions + results[:1] + ranked))[: self.list_sentences - 1 if most is None else most]

    @staticmethod
    def introducing(judged: Judged) -> list[int]:
        """The sentences in which the paper says its own name in its own voice ("We integrate these
        selective SSMs into … (Mamba)", "This paper presents … PiToMe"), in abstract order."""
        name = paper_name(judged.paper).lower()
        return [i for i, sentence in enumerate(judged.sentences)
                if judged.usable[i] and name in sentence.lower() and OWN_VOICE.search(sentence)]

    @staticmethod
    def limited(judged: Judged) -> list[int]:
        """The sentences that state a limitation (rag.sentences.states_limitation), those that say
        what goes wrong first, each best first; of whatever kind: for "What are the limitations of
        X?" the setting is the answer."""
        said = {i: states_limitation(judged.sentences[i]) for i in judged.best_sentences(len(judged.sentences))}
        return sorted((i for i, sure in said.items() if sure), key=lambda i: -said[i])  # stable: best first within each

    @staticmethod
    def matching_sentence(judged: Judged) -> int | None:
        """The sentence that meets the question's condition: the weakest aspect's best one
        (that is what had to be found) unless it is background, else the paper's best sentence."""
        ranked = judged.best_sentences(len(judged.sentences))
        if judged.aspect_scores:
            weakest = min(range(len(judged.aspect_scores)), key=lambda a: judged.aspect_scores[a])
            index = judged.aspect_best[weakest]
            if index >= 0 and judged.kinds[index] == "background":
                # the setting restates the topic ("Recent advancements in text-to-speech…"); the
                # paper's own best sentence says what it does about it
                own = [i for i in ranked if judged.kinds[i] != "background"]
                if own:
                    return own[0]
            if index >= 0 and judged.usable[index]:
                return index
        best = [i for i in ranked if judged.kinds[i] != "background"] or ranked
        return best[0] if best else None

    def comparison(self, question: str) -> ExtractiveAnswer:
        """A block per paper the question compares: the sources it names by the names answers
        use for them ("Mamba", "Swin Transformer"), and those its other names ("RT-DETR-R50",
        "LoRAT") lead to. A name it compares *on* ("on the LaSOT benchmark") is the setting, not a
        paper to compare, unless fewer than two papers are found without it."""
        names = [n for n in dict.fromkeys(_NAME.findall(question)) if len(n) > 2]
        found = [(question.find(name), name, judged) for judged, name in named_sources(question, self.sources)]
        found += [(question.find(name), name, judged) for name in names
                  for judged in [self.paper_titled(name)] if judged is not None]
        if len({id(f[2]) for f in found}) < 2:  # "Compare Swin and CSWin": the first word of "Swin Transformer"
            words = [w for w in dict.fromkeys(re.findall(r"(?<=\s)[A-Z][a-z]{2,}\b", question))
                     if w not in names and w not in {f[1] for f in found}]
            found += [(question.find(word), word, judged) for word in words
                      for judged in [self.paper_led_by(word)] if judged is not None and judged not in [f[2] for f in found]]
        if len({id(f[2]) for f in found if not is_setting(question, f[1])}) < 2:
            # only then a paper whose abstract says a name ("LoRAT"): "ImageNet" is in many
            found += [(question.find(name), name, judged) for name in names
                      for judged in [self.paper_saying(name)] if judged is not None]
        compared = [f for f in found if not is_setting(question, f[1])]
        if len({id(f[2]) for f in compared}) < 2:
            compared = found
        blocks = list({id(j): j for _, _, j in sorted(compared, key=lambda f: f[0])}.values())
        if len(blocks) < 2 and not (blocks and blocks[0] is self.sources[0]):
            # one paper found by a name some abstract says ("…in COPD?") is no comparison: a look-up
            # from the best source (which may spell the name out: "chronic obstructive pulmonary disease")
            return self.single()
        return self.blocks(blocks, names + [paper_name(j.paper) for j in blocks])

    def blocks(self, papers: list[Judged], names: list[str] = ()) -> ExtractiveAnswer:
        """A block per paper, up to four sentences: what it proposes and how it works (the sentence
        after "we propose X"), a sentence that names what is compared, and its result with its
        numbers — so that two papers can be told apart by what they do, not only by how well."""
        lines = []
        for judged in papers[: self.max_papers]:
            mentions = [i for i in judged.best_sentences(len(judged.sentences))
                        if any(n.lower() in judged.sentences[i].lower() for n in names)]
            picked = list(dict.fromkeys([*self.mechanism(judged), *mentions[:1], *self.pick(judged, 3, lead_with_number=True)]))
            lines.append(f"{paper_name(judged.paper)}: {self.quote(judged, sorted(picked[:min(4, self.most or 4)]))}")
        return self.result(lines)

    @staticmethod
    def mechanism(judged: Judged) -> list[int]:
        """The paper's proposal ("we propose X") and the sentence after it, which usually says how X
        works; [] when it proposes nothing or says nothing usable after."""
        proposal = next((i for i, sentence in enumerate(judged.sentences) if proposes(sentence)), None)
        if proposal is None or proposal + 1 >= len(judged.sentences) or not judged.usable[proposal + 1] \
                or judged.kinds[proposal + 1] == "background":
            return []
        return [proposal, proposal + 1]

    def paper_titled(self, name: str) -> Judged | None:
        """The source a name in the question is the short name of, or that its title says."""
        key = name.lower()
        for judged in self.sources:
            if key in (short_name(judged.paper.title).lower(), paper_name(judged.paper).lower()) or re.search(rf"\b{re.escape(key)}\b", judged.paper.title.lower()):
                return judged
        return None

    def paper_led_by(self, word: str) -> Judged | None:
        """The one source whose name of several words starts with `word` ("Swin" -> "Swin Transformer")."""
        names = [(j, n) for j in self.sources for n in dict.fromkeys((paper_name(j.paper), short_name(j.paper.title)))]
        if any(n == word for _, n in names):  # a paper goes by the word itself ("Mamba")
            return None
        led = list({id(j): j for j, n in names if len(n.split()) > 1 and n.split()[0] == word}.values())
        return led[0] if len(led) == 1 else None

    def paper_saying(self, name: str) -> Judged | None:
        """The highest-ranked source whose abstract says a name in the question."""
        key = name.lower()
        for judged in self.sources:
            if re.search(rf"\b{re.escape(key)}\b", judged.paper.abstract.lower()):
                return judged
        return None


def more_head(shown: int, count: int, beyond: int) -> str:
    """"3 more papers match, beyond the 10 above:" (and "showing 10 of 14 (…)" when not all are shown)."""
    noun = "paper matches" if count == 1 else "papers match"
    return f"{count} more {noun}, beyond the {beyond} above{showing(shown, count, count + beyond)}:"


def compose(form: str, question: str, sources: list[Judged], matches: list[Judged], match_count: int, settings,
            beyond: int = 0, asked_for: bool = False, near: str | None = None) -> ExtractiveAnswer:
    """`beyond`: the papers in play a follow-up asks for more than ("Any more like these?"), not
    among `sources`: the list says how many more match, or that none does. `asked_for`: `matches`
    are as many as the question asked for ("List three papers on…"), out of `match_count`. `near`:
    the paper `matches` are the nearest to ("Which papers are similar to Zero-TPrune?", rag.similar)."""
    composer = Composer(sources, settings.relevance_margin, settings.answer_max_papers, settings.sentences_per_paper,
                        settings.list_sentences, limitation=asks_limitation(question), most=asked_sentences(question),
                        summary=form == "single" and asks_about_paper(question) and bool(asked_about(question, sources[:1])))
    if near:  # papers near one the question names (rag.similar): the nearest, not said to match
        noun = "paper" if len(matches) == 1 else "papers"
        return composer.listing(matches, len(matches), head=f"The {len(matches)} {noun} nearest to {near}:") if matches \
            else ExtractiveAnswer(text=f"No other paper is near {near}.", markers=[], form=form)
    if beyond and not matches:  # the nearest papers not in play, said to be no match
        nearest = sources[:settings.k]
        head = f"No other paper matches beyond the {beyond} above" + ("; the nearest others:" if nearest else ".")
        return composer.listing(nearest, len(nearest), head=head) if nearest else \
            ExtractiveAnswer(text=head, markers=[], form=form)
    if not sources:
        return ExtractiveAnswer(text="", markers=[], form=form)
    if form == "list" and matches:
        noun = "paper matches" if match_count == 1 else "papers match"
        head = more_head(len(matches), match_count, beyond) if beyond else \
            f"{match_count} {noun}, showing the {len(matches)} asked for:" if asked_for and len(matches) < match_count else None
        plan = composer.listing(matches, match_count, head=head)
    elif form == "comparison":
        plan = composer.comparison(recased(question, sources))
    else:
        plan = composer.single(lead_with_number=form == "quantity", verdict=asks_verdict(question),
                               about_data=bool(_DATA.search(question) or _ASKS_COUNT.match(question)),
                               explain=form == "explanation", named=measure_names(question),
                               alone=composer.summary or (form in ("quantity", "explanation")
                                                          and bool(asked_about(question, sources[:1]))),
                               problem=asks_problem(question))
    missing = missing_measure(form, question, sources[0].sentences)
    if missing:
        plan.text = f"The abstract does not give the {missing}; what it reports:\n{plan.text}"
    plan.form = form
    return plan
