"""Input hygiene: whatever people send, the models get clean, bounded text."""

from __future__ import annotations

import re
import unicodedata

# Bidi overrides/isolates can reorder what an operator sees in logs and terminals.
_BIDI = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f"))


# Terminal escape sequences (colours, cursor moves) pasted into a console or a chat.
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|[@-Z\\-_])")


def clean_input(text: str) -> str:
    """NFC, no escape sequences, control or bidi characters, whitespace collapsed."""
    text = _ANSI.sub(" ", unicodedata.normalize("NFC", text)).translate(_BIDI)
    text = "".join(ch if unicodedata.category(ch)[0] != "C" or ch in "\n\t" else " " for ch in text)
    return " ".join(text.split())
