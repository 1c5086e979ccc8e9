"""Split a long reply into pieces a platform accepts (Telegram 4096, Discord 2000)."""

from __future__ import annotations

import re

TELEGRAM_LIMIT = 4096
DISCORD_LIMIT = 2000

# A sentence ends at . ! ? … or their full-width forms, followed by whitespace.
_SENTENCE_END = re.compile(r"[.!?…。！？]\s")


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: what the platforms count, so an emoji counts as two."""
    return len(text.encode("utf-16-le")) // 2


def _fit(text: str, limit: int) -> int:
    """The largest prefix length (in code points) whose UTF-16 length is at most ``limit``."""
    units = 0
    for i, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return i
    return len(text)


def _cut(window: str) -> int:
    """Where to cut inside ``window``: a line break, else a sentence end, else a space, else its end."""
    floor = len(window) // 3  # don't leave a tiny first piece just to hit a boundary
    newline = window.rfind("\n")
    if newline > floor:
        return newline + 1
    sentence_ends = [m.end() for m in _SENTENCE_END.finditer(window)]
    if sentence_ends and sentence_ends[-1] > floor:
        return sentence_ends[-1]
    space = max(window.rfind(" "), window.rfind("\t"))
    if space > floor:
        return space + 1
    return len(window)


def split_message(text: str, limit: int) -> list[str]:
    """Pieces of at most ``limit`` UTF-16 units, cut at line, then sentence, then word boundaries."""
    if limit < 2:
        raise ValueError("limit must be at least 2")
    pieces: list[str] = []
    rest = text
    while utf16_len(rest) > limit:
        window = rest[: _fit(rest, limit)]
        cut = _cut(window)
        piece = rest[:cut].rstrip()
        if piece:
            pieces.append(piece)
        rest = rest[cut:].lstrip("\n")
    if not pieces:
        pieces.append(rest)  # short enough: sent exactly as the engine wrote it
    elif rest.strip():
        pieces.append(rest.rstrip())
    return pieces
