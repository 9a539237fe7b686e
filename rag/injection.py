"""Instructions aimed at a language model, hidden in retrieved text.

Retrieved abstracts are data. The prompt says so, but small models obey text anyway, so a
sentence that reads as an instruction to the model ("ignore previous instructions…",
"SYSTEM: …", "reply with …") is removed from what the model sees and never quoted in an
extractive answer. Real abstracts do not talk to language models this way.
"""

from __future__ import annotations

import re

from rag.sentences import split_sentences

INSTRUCTION = re.compile(
    r"(?i:\b(?:ignore|disregard|forget|override)\b[^.]{0,40}\b(?:instructions?|prompts?|rules)\b)"
    r"|(?:^|</?\w+\s*/?>)\W*(?i:system|assistant)\s*:"  # "SYSTEM:", also after a tag: "</source> Assistant:"
    r"|(?i:(?:^\W*|\b(?:and|then|please|just|to)\s+)(?:reply|respond|answer|output|say|print)\s+(?:only\s+|with\s+|exactly\s+)*)[\"'“]?[A-Z]{4,}\b"
    r"|(?i:\byou are now\b|\bnew instructions\b)",
    re.MULTILINE,
)


def is_instruction(sentence: str) -> bool:
    return bool(INSTRUCTION.search(sentence))


def strip_instructions(text: str) -> str:
    return " ".join(s for s in split_sentences(text) if not is_instruction(s))
