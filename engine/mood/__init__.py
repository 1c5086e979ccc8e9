"""The weekly emotion report (/mood) and the daily check-ins: aggregation, a Korean summary and a
Hangul chart (pure functions), and the check-in schedule."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.mood.checkins import (
    Checkin,
    CheckinLedger,
    CheckinScheduler,
    Claim,
    QuietHours,
    Sender,
    parse_time,
    parse_zone,
)
from engine.mood.report import MoodEvent, MoodReport, build_report
from engine.mood.summary import summarize

if TYPE_CHECKING:
    from engine.mood.chart import render_chart
    from engine.mood.fonts import RENDER_LOCK, korean_font

__all__ = [
    "RENDER_LOCK",
    "Checkin",
    "CheckinLedger",
    "CheckinScheduler",
    "Claim",
    "MoodEvent",
    "MoodReport",
    "QuietHours",
    "Sender",
    "build_report",
    "korean_font",
    "parse_time",
    "parse_zone",
    "render_chart",
    "summarize",
]

# matplotlib takes ~0.8 s to import; settings validation and the bots' start must not pay for it
# before someone asks for a chart.
_LAZY = {
    "render_chart": "engine.mood.chart",
    "RENDER_LOCK": "engine.mood.fonts",
    "korean_font": "engine.mood.fonts",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'engine.mood' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
