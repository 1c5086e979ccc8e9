"""Safety layer: crisis detection, referral texts, output checks, heightened state.

Pure standard library so it can run before (and without) any model.
"""

from engine.safety.crisis import CATEGORIES, CrisisAssessment, assess
from engine.safety.output_check import choose_fallback, is_safe_reply
from engine.safety.referral import (
    CRISIS_CARD,
    HEIGHTENED_REPLY_SUFFIX,
    SAFE_FALLBACK_REPLIES,
    THIRD_PARTY_CARD,
)
from engine.safety.screen import CrisisScreen, CrisisVerdict, bounded
from engine.safety.tracker import DEFAULT_WINDOW, CrisisTracker, HeightenedStore

__all__ = [
    "CATEGORIES",
    "CRISIS_CARD",
    "DEFAULT_WINDOW",
    "HEIGHTENED_REPLY_SUFFIX",
    "SAFE_FALLBACK_REPLIES",
    "THIRD_PARTY_CARD",
    "CrisisAssessment",
    "CrisisScreen",
    "CrisisTracker",
    "CrisisVerdict",
    "HeightenedStore",
    "assess",
    "bounded",
    "choose_fallback",
    "is_safe_reply",
]
