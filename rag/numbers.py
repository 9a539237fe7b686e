"""Number conditions: how a question puts one and whether a sentence meets it.

"Of 85% or higher", "at least 50 AP on COCO", "to 4 bits or fewer", "faster than 100 frames per
second", "from more than 100,000 people", "more than 2x speedup": a condition on a number (NUMBER_CONDITION; rag.shapes
makes it an aspect of its own) is met only by a sentence that states a number in its unit or
metric satisfying it (`meets_number`), never by one that merely mentions the unit; a unit asked
for without a number ("report a speed in frames per second": UNIT_CONDITION) by any number in it.
Pure functions on text; rag.relevance scores sentences with them.
"""

from __future__ import annotations

import re

from rag.measures import PEOPLE

# A condition on a number: "of 85% or higher", "to 4 bits or fewer", "faster than 100 frames per second".
# A benchmark metric a number can be given in ("50 AP", "58.7 box AP", "an mIoU of at least 50"),
# written as papers write it (case matters: "map" is no metric).
METRIC = r"(?-i:(?:box |mask )?(?:mAP|AP|mIoU|BLEU|PQ|FID))"
_COMPARATOR = (r"(?:(?:more|higher|greater|faster|larger|fewer|less|lower|smaller|slower|better)\s+than\s+|"
               r"at\s+(?:least|most)\s+|up\s+to\s+|over\s+|above\s+|under\s+|below\s+|"
               r"(?:exceed|surpass|beat|top)(?:s|es|ing|ping)?\s+)")
_OR_BEYOND = r"(?:\s+or\s+(?:higher|more|above|better|greater|fewer|less|lower|below|smaller|faster))?"
# A factor ("2x", "3×", "5 times", "10-fold"; not the "3x3" of a kernel size).
FACTOR = r"(?:x\b|×(?!\s*\d)|times\b|-?fold\b)"
# A count ("100,000", "671 945", "1.2 million") and the people a study counts in it (PEOPLE).
COUNT = r"(?:\d{1,3}(?:[,\u2009\u202f ]\d{3})+|\d+(?:\.\d+)?)(?:\s*(?:million|thousand))?"
NUMBER_CONDITION = re.compile(
    r"(?:\b(?:of|to|with|at|by|reaching|exceeding)\s+)?"
    rf"{_COMPARATOR}?"
    rf"\d+(?:\.\d+)?\s*(?:%?\s*{METRIC}\b|%|percent\b|-?bits?\b|fps\b|frames per second|ms\b|milliseconds\b|{FACTOR})"
    rf"{_OR_BEYOND}"
    rf"|\b(?:(?:of|with|at|by|reaching)\s+)?(?:an?\s+)?{METRIC}\s+(?:score\s+)?(?:of\s+)?{_COMPARATOR}?\d+(?:\.\d+)?{_OR_BEYOND}"
    # how many people a study counts: "from more than 100,000 people", "of at least 1 million patients"
    rf"|(?:\b(?:of|with|from|on|in|among|including|involving|covering)\s+)?{_COMPARATOR}?{COUNT}\s+{PEOPLE}{_OR_BEYOND}",
    re.I)


# A unit the question asks for without a number ("report a speed in frames per second", "latency
# in milliseconds"): met by a sentence that states a number in it (number_condition).
UNIT_CONDITION = re.compile(r"\b(?:in|as)\s+(?:frames per second|fps|milliseconds|ms)\b", re.I)


_SERIES = r"(?:\d+(?:\.\d+)?\s*/\s*)*"  # "108 / 74 FPS": each number of the series is in the unit
_UNITS = {  # unit -> how sentences write numbers in it
    # a top-1 / top-5 accuracy is a percentage however written ("87.3 top-1 accuracy")
    "%": re.compile(r"(\d+(?:\.\d+)?)\s*(?:\\?%|percent\b)|(?<![\d.])(\d{1,2}(?:\.\d+)?)\s+(?=top-?[15]\b)", re.I),
    "bit": re.compile(r"(\d+)\s*-?\s*bits?\b|\bW(\d+)A\d+|\bINT(\d+)\b|\bFP(\d+)\b", re.I),
    "fps": re.compile(rf"{_SERIES}(\d+(?:\.\d+)?)\s*(?:fps\b|frames per second)", re.I),
    "ms": re.compile(rf"{_SERIES}(\d+(?:\.\d+)?)\s*(?:ms|milliseconds)\b", re.I),
    "x": re.compile(rf"(?<![\w.])(\d+(?:\.\d+)?)\s*{FACTOR}", re.I),  # "2.5X faster", "2.73x - 7.63x", "5times"
}
# People counted: the count, then up to two words about them ("671 945 women", "728,136 individuals",
# "1.2 million pregnant women").
_UNITS["people"] = re.compile(rf"(?<![\d.,])({COUNT})\s+(?:[\w-]+\s+){{0,2}}?{PEOPLE}", re.I)
# A benchmark metric (METRIC): its number before it ("51.7% AP", "58.7 box AP") or after it ("AP
# of 52.1", "mIoU: 53.5"), never a model's name ("ResNet-50", "AP50").
_METRIC_UNITS = {"ap": r"m?AP", "miou": r"mIoU", "bleu": r"BLEU", "pq": r"PQ", "fid": r"FID"}
for _unit, _name in _METRIC_UNITS.items():
    _UNITS[_unit] = re.compile(rf"(?<![\w.-])(\d+(?:\.\d+)?)\s*%?\s*(?:box |mask )?{_name}\b(?!\d)"
                               rf"|\b(?:box |mask )?{_name}(?:\s*[=:]\s*|\s+of\s+)(\d+(?:\.\d+)?)")
_METRIC_NAMES = [(re.compile(rf"\b(?:box |mask )?{name}\b"), unit) for unit, name in _METRIC_UNITS.items()]
_LOWER_IS_ASKED = re.compile(r"\b(?:fewer|less|lower|smaller|slower|below|under|at most|up to)\b", re.I)
_HIGHER_IS_ASKED = re.compile(r"\b(?:more|higher|greater|faster|larger|better|above|over|at least|exceed\w*|surpass\w*|"
                              r"beat\w*|tops?|topping)\b", re.I)


def number_condition(aspect: str) -> tuple[str, float, str] | None:
    """'of 85% or higher' -> ('>=', 85.0, '%'); '4 bits or fewer' -> ('<=', 4.0, 'bit');
    'of at least 50 AP' -> ('>=', 50.0, 'ap'); 'in frames per second' -> ('>=', 0.0, 'fps'): any
    number in the unit."""
    if UNIT_CONDITION.fullmatch(aspect.strip()):
        return ">=", 0.0, "fps" if re.search(r"fps|frames", aspect, re.I) else "ms"
    match = NUMBER_CONDITION.fullmatch(aspect.strip())
    if not match:
        return None
    value = float(re.search(r"\d+(?:\.\d+)?", aspect).group(0))
    text = aspect.lower()
    metric = next((unit for pattern, unit in _METRIC_NAMES if pattern.search(aspect)), None)
    counted = re.search(rf"({COUNT})\s+{PEOPLE}", aspect, re.I)
    if counted and not metric:
        metric, value = "people", count_value(counted.group(1))
    unit = metric or ("%" if ("%" in text or "percent" in text) else "bit" if "bit" in text else
                      "fps" if ("fps" in text or "frames per second" in text) else
                      "x" if re.search(rf"\d\s*{FACTOR}", text) else "ms")
    op = "<=" if _LOWER_IS_ASKED.search(text) else ">=" if _HIGHER_IS_ASKED.search(text) else "=="
    return op, value, unit


def count_value(count: str) -> float:
    """'100,000' -> 100000; '671 945' -> 671945; '1.2 million' -> 1200000."""
    scale = 1e6 if "million" in count.lower() else 1e3 if "thousand" in count.lower() else 1.0
    return float(re.sub(r"[^\d.]", "", re.sub(r"(?i)million|thousand", "", count))) * scale


def meets_number(sentence: str, condition: tuple[str, float, str]) -> bool:
    """Does the sentence state a number in the condition's unit that satisfies it?"""
    op, value, unit = condition
    for match in _UNITS[unit].finditer(sentence):
        numbers = [count_value(match.group(1)) if unit == "people" else float(next(g for g in match.groups() if g))]
        if unit in ("fps", "ms"):
            numbers = [float(n) for n in re.findall(r"\d+(?:\.\d+)?", match.group(0))]
        for number in numbers:
            if (op == ">=" and number >= value) or (op == "<=" and number <= value) or (op == "==" and number == value):
                return True
    return False
