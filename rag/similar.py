"""Papers near one the question names: "Which papers are similar to Zero-TPrune?", "Find papers
like PiToMe", "Which two papers are most similar to LoRAT?".

The named paper is found among the question's own sources (rag.paper_names.named_sources), then
its title and abstract are the query: the pool around it is judged as any question's is, the
paper itself left out, and the answer lists the first papers in source order (retrieval score
and evidence): the nearest, not said to match — likeness has no condition to meet. (Tried and
not kept: the list rule, which named a sparse-attention and an adapter paper for Zero-TPrune, and
the abstracts' dense cosine alone, which put Tokens-to-Token ViT first for PiToMe; in source
order PiToMe's are Zero-TPrune, token fusion, MAELRE, TRAMS and BACTrack's MixFormer and LaSOT.)
"""

from __future__ import annotations

import re
from dataclasses import replace

from rag.shapes import Reading

_SIMILAR = re.compile(r"\b(?:similar|related|closest|nearest|close)\s+to\s+(?P<name>[^?!]+?)\s*[?.!]*$"
                      r"|\b(?:papers?|works?|methods?|studies)\s+(?:like|such as)\s+(?P<like>[^?!]+?)\s*[?.!]*$", re.I)
_NOT_A_NAME = re.compile(r"^(?:these|those|them|it|this|that|the (?:above|previous|ones?))\b", re.I)


def similar_name(question: str) -> str | None:
    """What a question asks for papers near ("…similar to Zero-TPrune?" -> "Zero-TPrune"), else None;
    not the papers in play ("…similar to these", a follow-up: rag.working_set.asks_for_more)."""
    found = _SIMILAR.search(question)
    name = found and (found.group("name") or found.group("like")).strip()
    return name if name and not _NOT_A_NAME.match(name) else None


def like_reading(paper) -> tuple[str, Reading]:
    """The named paper as a query — its title and abstract — read as a list question's topic."""
    query = f"{paper.title}. {paper.abstract}"
    return query, Reading(shape="list", topic=query, aspects=(query,))


def nearest(ranking, count: int):
    """The ranking's first `count` sources, none counted a match: nearest, not said to meet anything."""
    return replace(ranking, sources=ranking.sources[:count], matches=[])
