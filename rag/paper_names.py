"""How a paper is named and found by name: the short name an answer gives it ("Zero-TPrune",
"PiToMe" from "…called PiToMe"), the names its abstract introduces ("we propose LoRAT, …"), and
the sources a question names — to compare them, to answer a look-up about one, or to tell a name
the comparison is made *on* ("… on the LaSOT benchmark") from a paper compared.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from rag.conditions import NAME
from rag.names import EXAMPLES

if TYPE_CHECKING:
    from rag.relevance import Judged

_NAME = re.compile(NAME + r"\b")


def short_name(title: str) -> str:
    """'Zero-TPrune: Zero-Shot Token Pruning…' -> 'Zero-TPrune'; otherwise the whole title."""
    head = title.split(":", 1)[0].strip()
    return head if ":" in title and len(head.split()) <= 6 else title


# How an abstract introduces a name: "…called PiToMe", "We present Lightning Attention, …".
_NAMING = r"(?:called|named|dubbed|termed|coined)"
_WE_INTRODUCE = r"[Ww]e (?:propose|present|introduce|develop)"
_INTRODUCED = re.compile(rf"\b{_NAMING}\s+([A-Z][\w+\-^]*[A-Z0-9][\w+\-^]*)"
                         rf"|\b{_WE_INTRODUCE}\s+([A-Z][\w+\-^]*[A-Z0-9][\w+\-^]*)\s*[,:(]")
_INTRODUCED_PHRASE = re.compile(rf"\b(?:{_WE_INTRODUCE}|{_NAMING})\s+"
                                r"((?!(?:A|An|The|This|Our|These|In|To)\b)[A-Z][\w+\-^]*(?:\s+[A-Z][\w+\-^]*){1,2})\s*[,:(]")


def introduced_names(paper) -> list[str]:
    """The names the abstract introduces, which its title may not carry: one word ("we propose
    LoRAT, a method…" under "Tracking Meets LoRA: …") or two or three capitalised words ("We
    present Lightning Attention, the first…" under "Various Lengths, Constant Speed: …")."""
    words = [next(g for g in m.groups() if g) for m in _INTRODUCED.finditer(paper.abstract)]
    return list(dict.fromkeys(words + [m.group(1) for m in _INTRODUCED_PHRASE.finditer(paper.abstract)]))


def paper_name(paper) -> str:
    """How an answer names a paper: the title's head before a colon ('Zero-TPrune'), else the
    name the abstract introduces ('a novel paradigm called PiToMe'), else the whole title."""
    if ":" in paper.title:
        return short_name(paper.title)
    match = _INTRODUCED.search(paper.abstract)
    return next(g for g in match.groups() if g) if match else paper.title.rstrip(" .")  # "….: " reads badly


# A name the comparison is made on, not a paper compared: "… compare on the LaSOT benchmark?"
_SETTING = re.compile(r"\b(?:on|using)\s+(?:the\s+)?\x00NAME\x00(?:\s+(?:benchmark|dataset|data|split|test set|task))?"
                      r"\s*(?:[?.,;]|$)|\bon (?:the )?\x00NAME\x00 (?:benchmark|dataset|split|test set)\b", re.I)


def is_setting(question: str, name: str) -> bool:
    """Whether the question compares *on* the name ("… on the LaSOT benchmark?", "On TensorRT, …")."""
    return bool(_SETTING.search(question.replace(name, "\0NAME\0")))


def named_sources(question: str, sources: list[Judged]) -> list[tuple[Judged, str]]:
    """(source, the name it goes by) for each source the question names by the name answers use
    for it ("Mamba", "Swin Transformer", "ConvNeXt") or one its abstract introduces ("Lightning
    Attention"), written as the paper writes it: a name of up to three words, as a whole word."""
    out = []
    for judged in sources:
        for name in dict.fromkeys((paper_name(judged.paper), short_name(judged.paper.title), *introduced_names(judged.paper))):
            if len(name) >= 3 and len(name.split()) <= 3 and re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", question):
                out.append((judged, name))
                break
    return out


def asked_about(question: str, sources: list[Judged]) -> list[Judged]:
    """The sources a question asks about by name ("How fast does MixFormer run?"), not as an example
    ("Why can't linear RNNs such as Mamba solve parity?")."""
    return [j for j, _ in named_sources(EXAMPLES.sub(" ", question), sources)]


def papers_by_name(question: str, sources: list[Judged]) -> list[Judged]:
    """The sources a question names by their own short name ("DiC and PixelDiT … how do they
    differ?"): a comparison of two papers the corpus holds is answered however weak its overall
    evidence ("move away from the standard recipe" says little), as a look-up naming one is not."""
    names = {n.lower() for n in _NAME.findall(question) if len(n) > 2}
    named = {id(j) for j, _ in named_sources(question, sources)}
    return [j for j in sources if short_name(j.paper.title).lower() in names or paper_name(j.paper).lower() in names
            or id(j) in named]


def recased(question: str, sources: list[Judged]) -> str:
    """A question typed all in lower case ("compare swin and cswin") with the words of the sources'
    names written as the papers write them ("Swin", "CSWin"), so that names are found as names."""
    if question != question.lower():
        return question
    cased = {w.lower(): w for j in sources for n in (paper_name(j.paper), short_name(j.paper.title))
             for i, w in enumerate(re.findall(r"[\w.+-]+", n))
             if len(w) > 2 and (re.search(r"[A-Z\d]", w[1:]) or (i == 0 and w[0].isupper()))}  # "CSWin", "Swin"
    return re.sub(r"[\w.+-]+", lambda m: cased.get(m.group(0).lower(), m.group(0)), question)
