"""Which papers a list answer names, and which papers of a chat's working set meet a follow-up's
condition: the list rule over the judged pool (rag.relevance.Judged).

A paper is named when its evidence stands out from the pool (its standing — the evidence match
plus `dense_weight` x its cosine — in median absolute deviations above the pool's median), by
at least a share of the best paper's lead, and holds at least a share of what the best-covering
paper holds of the question's terms; only papers of the kind asked for, saying the names asked
about and stating a number that meets each number condition. Calibration:
evals/calibrate_evidence.py (lists), evals/calibrate_set.py (working sets); figures in
evals/README.md.
"""

from __future__ import annotations

import numpy as np

from rag.kinds import of_kind, strength_floor
from rag.names import saying
from rag.relevance import Judged


def pool_spread(judged: list[Judged], dense_weight: float = 0.0) -> tuple[float, float]:
    """Median and median absolute deviation of the pool's match scores (Judged.standing)."""
    scores = np.array([j.standing(dense_weight) for j in judged], dtype=float)
    if len(scores) == 0:
        return 0.0, 1.0
    median = float(np.median(scores))
    return median, float(np.median(np.abs(scores - median))) or 1e-6


def list_matches(judged: list[Judged], relative: float, min_strength: float, min_coverage: float,
                 dense_weight: float = 0.0, kind: str | None = None, names: list[str] = (),
                 numbered: bool = False) -> list[Judged]:
    """The papers that meet the question, in relevance order: each stands out from the pool (its
    standing — the evidence match plus `dense_weight` x the paper's own cosine to the question, so
    that a paper whose whole abstract is about the question counts for more than one sentence
    near it — at least `min_strength` deviations above the median, and at least `relative` of the
    best paper's lead — relative, so one paper that restates the question word for word does not
    push the others out) and holds at least `min_coverage` of what the best-covering paper holds
    of the question's terms (a paper near the topic but without its specific terms is not a match).
    Only papers of the `kind` the question asks for are named (of_kind: no survey for "which
    methods…"); the pool's median and spread are still the whole pool's. A list of surveys needs
    no lead over the pool, only over its median: the kind already leaves a handful of candidates,
    and a survey's sentences span its whole field, so on a broad topic ("surveys of efficient
    transformers") none stands out from the method papers around it.
    A list about names the top papers say (`names`: listed_names, "…on ADE20K", "…a MindSpore
    implementation") names only papers that say one, likewise without the floor: saying "ADE20K"
    is a stronger sign than standing out, and a paper that reports on ADE20K among six other
    benchmarks need not. So too a list with a number condition ("…faster than 100 frames per
    second", `numbered`): only papers stating such a number are members, and stating it is the sign;
    when none of them holds enough of what the best-covering paper of the pool holds, their
    coverage is measured against the best member's instead ("Which models *run* faster than 100
    frames per second?": papers that say "run" but state no such speed named none of those that do).
    When no paper clears the pool floor at all, the topic fills the pool ("Which papers study how
    transformers learn in context?": 20 of its 100 papers do, so the median is theirs and the best
    stands 2.7 deviations above it): the papers are measured by the relative rule alone, rather
    than a list question being answered as a look-up of one paper."""
    floor = list_floor(min_strength, kind, names, numbered)
    members = list_members(judged, kind, names)
    found = set_matches(judged, members, relative, floor, min_coverage, dense_weight, covered_by_members=numbered)
    if not found and floor > 0 and members:
        median, spread = pool_spread(judged, dense_weight)
        if max(j.standing(dense_weight) for j in members) < median + floor * spread:  # none clears the floor
            found = set_matches(judged, members, relative, 0.0, min_coverage, dense_weight, covered_by_members=numbered)
    return found


def list_members(judged: list[Judged], kind: str | None, names: list[str] = ()) -> list[Judged]:
    """The papers a list may name: of the kind it asks for, saying the names it gives, stating a
    number that meets each number condition ("more than 85% top-1": not 83.3%, not "ResNet-50")."""
    return of_kind(saying([j for j in judged if not j.unmet], list(names)), kind)


def list_floor(min_strength: float, kind: str | None, names: list[str] = (), numbered: bool = False) -> float:
    """The pool floor a list's papers must clear: none for surveys (strength_floor), for a list
    about names or for one with a number condition (list_matches)."""
    return min(min_strength, 0.0) if names or numbered else strength_floor(min_strength, kind)


def set_matches(pool: list[Judged], members: list[Judged], relative: float, min_strength: float,
                min_coverage: float, dense_weight: float = 0.0, covered_by_members: bool = False) -> list[Judged]:
    """The members that meet the question by the list rule (list_matches), measured against the
    `pool`'s median, spread and best coverage: for a chat's working set the pool is a sample of
    the index (a set of four papers has no spread of its own) and the lead is the best member's."""
    if not members:
        return []
    median, spread = pool_spread(pool, dense_weight)
    lead = max((j.standing(dense_weight) - median) / spread for j in members)
    bar = max(min_strength, relative * lead)
    strong = [j for j in members if (j.standing(dense_weight) - median) / spread >= bar]
    covered = max(j.coverage for j in pool)
    found = [j for j in strong if j.coverage >= min_coverage * covered]
    if not found and covered_by_members:
        covered = max(j.coverage for j in members)
        found = [j for j in strong if j.coverage >= min_coverage * covered]
    return found
