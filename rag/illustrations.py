"""Illustrations in a question: "…, for example by using spectral transforms", "such as satellite
or drone imagery", "i.e. …". Pure text rules (rag.shapes.phrased_aspects gives each option to the
aspect it illustrates; rag.relevance scores it as a nudge, ILLUSTRATION_LIFT)."""

from __future__ import annotations

import re

# An illustration ("…, for example by using spectral transforms", "such as satellite or drone
# imagery", "e.g. on ImageNet") shows what is meant: each of its options is one way to meet the
# aspect before it, not a condition every paper must meet. A restatement ("i.e. …", "that is, …",
# "namely …") is one more phrasing of it, whole. A scope after a comma (", whether in camera video,
# point clouds or sensor measurements", ", be it text or images") says any of its options will do:
# set apart like an example ("check whether…" with no comma is the question's own clause), as is
# an emphasis (", especially via pruning or quantization": the papers asked for are all of them).
# ", like patch attacks" gives examples as "such as" does.
_ILLUSTRATION = re.compile(r"\s*[,;(]?\s*\b(?P<marker>for example|for instance|e\.g\.|i\.e\.|such as|including|namely|"
                           r"that is(?=,)|(?<=,\s)(?:whether|be it|either|especially|particularly|in particular|like)|"
                           r"(?<=\()like)(?!\w)[,:]?\s*", re.I)
_RESTATEMENT = ("i.e.", "namely", "that is")
_SET_APART = ("for example", "for instance", "e.g.", "whether", "be it", "either", "especially", "particularly", "in particular")
_CONJUNCTION = re.compile(r"(?<!-)\s(?:or|and)\s+", re.I)
# Where an illustration's last option ends and the aspect goes on: "such as ketamine or psilocybin
# | in treatment-resistant depression".
_GOES_ON = re.compile(r"\s+(?=(?:in|on|for|with|to|from|at|into|across|under|over|via|through|within|without)\b)", re.I)
_LEADING_PREPOSITION = re.compile(r"(?:(?:by|to|on|in|for|with|from|through|via|using)\s+)?\S+", re.I)
_OPTION_SPLIT = re.compile(r"\s*[,;]\s*(?:(?:or|and)\s+)?|\s+or\s+|(?<!-)\s+and\s+", re.I)
MAX_ILLUSTRATIONS = 6
_EXCLUDING = re.compile(r"\b(?:without|rather than|instead of|not|no|never)\b", re.I)


def _illustration_end(rest: str, inline: bool) -> int:
    """Where the illustration that `rest` starts with ends: after its list's last option (the list
    runs over short comma-separated options up to its "or" / "and"; an `inline` one, "such as…",
    also ends where a preposition takes the sentence on), else at the first comma."""
    segments = re.split(r"(?<=[,;)])", rest)
    at = 0
    for i, segment in enumerate(segments):
        conjunction = _CONJUNCTION.search(segment)
        if conjunction:
            after = segment[conjunction.end():]
            first = _LEADING_PREPOSITION.match(after)
            goes_on = _GOES_ON.search(after, first.end()) if first and inline else None
            return at + conjunction.end() + (goes_on.start() if goes_on else len(after.rstrip(",;)")))
        if i > 0 and len(segment.split()) > 4:  # not an option: the illustration ended at the last comma
            break
        at += len(segment)
    return len(segments[0].rstrip(",;)"))


def _options(body: str) -> list[str]:
    """The options of an illustration's list; when all but the last are one word and the last is
    two, they share its head noun ("satellite or drone imagery": "satellite imagery", "drone imagery")."""
    options = [o.strip() for o in _OPTION_SPLIT.split(body) if re.search(r"\w{2,}", o)]
    if len(options) > 1 and all(len(o.split()) == 1 for o in options[:-1]) and len(options[-1].split()) == 2:
        head = options[-1].split()[-1]
        options = [f"{o} {head}" for o in options[:-1]] + options[-1:]
    shared = re.match(r"(?:in|on|for|with|from|at|by|through|via|using)\s", options[0], re.I) if options else None
    if shared and len(options) > 1:  # "in camera video, point clouds or sensor measurements": each is "in …"
        options = options[:1] + [o if re.match(shared.group(0), o, re.I) else shared.group(0) + o for o in options[1:]]
    return options


def illustrations(text: str) -> tuple[str, list[tuple[tuple[int, int], str]]]:
    """The text without its illustrations, and the phrasings they offer, each with where in that
    text it was given ("process images in the frequency domain, for example by splitting high- and
    low-frequency content or by using spectral transforms" -> "process images in the frequency
    domain", [(…, "by splitting high- and low-frequency content"), (…, "by using spectral transforms")])."""
    core, offered, at = text, [], 0
    while (m := _ILLUSTRATION.search(core, at)) and m.end() < len(core):
        rest, marker = core[m.end():], m.group("marker").lower()
        end = _illustration_end(rest, inline=marker not in _SET_APART)
        body = rest[:end].strip(" ,;()")
        if marker in _SET_APART:
            after = rest[end:].lstrip(")")
            if m.group(0).lstrip().startswith(","):  # ", for example …, affects": one comma goes with it
                after = re.sub(r"^\s*,", "", after)
            core, at, span = (core[:m.start()] + after).strip(" ,;"), m.start(), (m.start(), m.start())
        else:
            at = m.end() + end
            if "(" in m.group(0) and core[at:at + 1] == ")":  # "(like ALiBi or RoPE variants)": the bracket goes with it
                at += 1
            span = (m.start(), at)
        options = [body] if marker in _RESTATEMENT else _options(body)
        # an option that excludes something ("i.e. quantization without retraining") is a
        # condition, read as one where it stands, not a phrasing to meet
        offered += [(span, o) for o in options if re.search(r"\w{2,}", o) and not _EXCLUDING.search(o)]
    return core or text, offered[:MAX_ILLUSTRATIONS]
