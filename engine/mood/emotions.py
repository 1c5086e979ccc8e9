"""The one table of what each emotion label means for the report: valence, colour and emoji.

Labels come from whatever model recorded the event, so lookups never fail: an unknown label is
neutral, has no emoji, and gets a muted fallback colour chosen from its name (stable across
reports, so the same unknown label keeps its colour from week to week).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import IntEnum
from types import MappingProxyType
from typing import Final


class Valence(IntEnum):
    NEGATIVE = -1
    NEUTRAL = 0
    POSITIVE = 1


@dataclass(frozen=True)
class EmotionStyle:
    valence: Valence
    colour: str  # a Matplotlib colour, "#RRGGBB"
    emoji: str | None  # for text surfaces (Telegram, Discord); the chart shows Korean only


NEUTRAL_LABEL: Final = "일상"
# Not an emotion: a reading below the model's confidence line, shown as what it is.
UNCERTAIN_LABEL: Final = "잘 모르겠음"

# Insertion order is the display order (legend, stacking from the bottom, ties in the summary).
EMOTIONS: Final[Mapping[str, EmotionStyle]] = MappingProxyType(
    {
        NEUTRAL_LABEL: EmotionStyle(Valence.NEUTRAL, "#B8C4D0", "🙂"),
        "기쁨": EmotionStyle(Valence.POSITIVE, "#F5B83D", "😊"),
        "불안": EmotionStyle(Valence.NEGATIVE, "#A67DD4", "😟"),
        "슬픔": EmotionStyle(Valence.NEGATIVE, "#4A90D9", "😢"),
        "분노": EmotionStyle(Valence.NEGATIVE, "#E5533C", "😠"),
        "우울": EmotionStyle(Valence.NEGATIVE, "#3D4A63", "😞"),
        UNCERTAIN_LABEL: EmotionStyle(Valence.NEUTRAL, "#DADDE1", "❔"),
    }
)

# Muted tones that cannot be mistaken for a product emotion's colour.
FALLBACK_COLOURS: Final = ("#86B86B", "#D4965F", "#D98CB3", "#A8A35A", "#9C7A5B")


def style_of(label: str) -> EmotionStyle:
    known = EMOTIONS.get(label)
    if known is not None:
        return known
    # crc32, not hash(): str hashes are salted per process, and colours must not change per restart.
    colour = FALLBACK_COLOURS[zlib.crc32(label.encode("utf-8")) % len(FALLBACK_COLOURS)]
    return EmotionStyle(Valence.NEUTRAL, colour, None)


def colours_for(labels: Iterable[str]) -> dict[str, str]:
    """Colours for labels drawn together: as style_of, but unknown labels never share a colour
    while a free fallback colour remains (a hash collision would merge two emotions in a chart)."""
    ordered = sorted(set(labels), key=display_order)
    out = {lb: EMOTIONS[lb].colour for lb in ordered if lb in EMOTIONS}
    taken: set[str] = set()
    for lb in (lb for lb in ordered if lb not in EMOTIONS):
        first = FALLBACK_COLOURS.index(style_of(lb).colour)
        # Probe from the label's own colour, so a lone unknown label keeps it from week to week.
        probe = (FALLBACK_COLOURS[(first + i) % len(FALLBACK_COLOURS)] for i in range(len(FALLBACK_COLOURS)))
        out[lb] = next((c for c in probe if c not in taken), style_of(lb).colour)
        taken.add(out[lb])
    return out


def valence_of(label: str) -> Valence:
    return style_of(label).valence


def is_negative(label: str) -> bool:
    return valence_of(label) is Valence.NEGATIVE


_ORDER: Final = {label: i for i, label in enumerate(EMOTIONS)}


def display_order(label: str) -> tuple[int, str]:
    """Sort key: product labels in table order, then unknown labels alphabetically."""
    return (_ORDER.get(label, len(_ORDER)), label)
