"""Rule-based crisis detector that runs on every user message before any model.

Design notes (why it looks like this):
* Recall first: a missed crisis is far worse than an extra referral card, but
  everyday Korean is full of 죽겠다/죽인다 intensifiers, so each rule is a
  specific phrase shape plus small context exclusions rather than a keyword.
* Every regex is linear: no nested quantifiers, context windows are bounded,
  so a 20,000-character or adversarial message cannot backtrack badly.
* Only a category is returned; the text is never stored or echoed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.safety._text import clean, deleet, join_single_syllables, words
from engine.safety.emoji import emoji_crisis
from engine.safety.english_rules import ENGLISH_RULES
from engine.safety.korean_rules import KOREAN_RULES, RESPELL

__all__ = ["CATEGORIES", "CrisisAssessment", "assess"]

CATEGORIES: tuple[str, ...] = (
    "direct",
    "indirect",
    "means",
    "self_harm",
    "goodbye",
    "english",
    "chosung",
    "emoji",
)


@dataclass(frozen=True, slots=True)
class CrisisAssessment:
    is_crisis: bool
    category: str | None


_NOT_CRISIS = CrisisAssessment(False, None)

_HAS_LATIN = re.compile("[a-z]")


def _respell(view: str) -> str:
    for wrong, right in RESPELL:
        if wrong in view:
            view = view.replace(wrong, right)
    return view


def _first_korean_hit(view: str) -> str | None:
    for rule in KOREAN_RULES:
        if rule.fires(view):
            return rule.category
    return None


def assess(text: str) -> CrisisAssessment:
    """Classify one user message. Never stores or returns the text."""
    if not text:
        return _NOT_CRISIS
    cleaned = clean(text)
    view = _respell(words(cleaned))

    category = _first_korean_hit(view)
    if category is None:
        joined = join_single_syllables(view)
        if joined != view:
            category = _first_korean_hit(joined)
    if category is None and view.replace(" ", "") == "ㅈㅅ":
        category = "chosung"  # a bare ㅈㅅ with nothing else: treat as the crisis reading
    if category is None and _HAS_LATIN.search(view):
        english = deleet(view)
        if any(rule.fires(english) for rule in ENGLISH_RULES):
            category = "english"
    if category is None and emoji_crisis(cleaned, view):
        category = "emoji"
    if category is None:
        return _NOT_CRISIS
    return CrisisAssessment(True, category)
