"""Input hygiene: whatever people send, the models get clean, bounded text."""

from __future__ import annotations

import unicodedata

# Bidi overrides/isolates can reorder what an operator sees in logs and terminals.
_BIDI = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f"))


def clean_input(text: str) -> str:
    """NFC, no control or bidi characters, whitespace collapsed (newlines become spaces)."""
    text = unicodedata.normalize("NFC", text).translate(_BIDI)
    text = "".join(ch if unicodedata.category(ch)[0] != "C" or ch in "\n\t" else " " for ch in text)
    return " ".join(text.split())


def has_meaning(text: str) -> bool:
    """True when there is at least one letter, digit or symbol (emoji count) to respond to."""
    return any(unicodedata.category(ch)[0] in "LNS" for ch in text)
