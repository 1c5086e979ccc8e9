"""Referral texts and the generated-output check."""

from __future__ import annotations

import pytest

from engine.safety import (
    CRISIS_CARD,
    HEIGHTENED_REPLY_SUFFIX,
    SAFE_FALLBACK_REPLIES,
    choose_fallback,
    is_safe_reply,
)


@pytest.mark.parametrize("needle", ["109", "1577-0199", "1388", "112", "119", "마들랜", "카카오톡", "24시간"])
def test_card_lists_services(needle: str) -> None:
    assert needle in CRISIS_CARD


def test_card_acknowledges_before_listing_numbers() -> None:
    first_number = CRISIS_CARD.index("109")
    assert "혼자가 아니에요" in CRISIS_CARD[:first_number]


def test_fallbacks_are_polite_and_many() -> None:
    assert len(SAFE_FALLBACK_REPLIES) >= 6
    assert len(set(SAFE_FALLBACK_REPLIES)) == len(SAFE_FALLBACK_REPLIES)
    for reply in SAFE_FALLBACK_REPLIES:
        # 존댓말: every sentence ends in a polite ending.
        assert reply.rstrip("?.").endswith(("요", "니다", "나요", "까요", "세요", "게요")), reply


@pytest.mark.parametrize("reply", [*SAFE_FALLBACK_REPLIES, HEIGHTENED_REPLY_SUFFIX])
def test_fixed_texts_pass_the_output_check(reply: str) -> None:
    assert is_safe_reply(reply)


def test_heightened_suffix_is_one_line_with_109() -> None:
    assert "109" in HEIGHTENED_REPLY_SUFFIX
    assert "\n" not in HEIGHTENED_REPLY_SUFFIX


UNSAFE = [
    "",
    "   ",
    "\n\t",
    "\u200b",
    # methods and places
    "수면제를 드셔 보세요",
    "약을 한꺼번에 많이 먹으면 잠들 수 있어요",
    "과다복용은 어떨까요",
    "번개탄 이야기를 해 볼까요",
    "목을 매는 건 위험해요",
    "옥상에 올라가 바람을 쐬어 보세요",
    "한강 다리 위에서 생각을 정리해 보세요",
    "투신은 생각하지 마세요",
    "손목 긋기 대신 얼음을 쥐어 보세요",
    # death as solution / choice / romanticised (보도준칙 4.0)
    "죽으면 편해질 거예요",
    "그것이 유일한 해결책일지도 몰라요, 세상을 떠나는 것도 선택이에요",
    "극단적 선택은 하지 마세요",
    "스스로 생을 마감하는 것도 용기예요",
    "하늘의 별이 되실 거예요",
    "영원한 안식을 찾으시길",
    "자살은 나쁜 생각이에요",
    # encouragement of self-harm
    "자해해도 괜찮아요",
    "상처를 내면 나아질 거예요 해 보세요",
    # echoing a crisis statement
    "저도 죽고 싶어요",
    # insults and profanity
    "씨발 뭐래",
    "병신 같은 소리 하지 마세요",
    "미친놈이네요",
    "꺼져",
    "그냥 죽어",
    "죽어라",
    "닥쳐요",
    "당신은 정말 쓸모없어요",
    "fuck off",
]

SAFE = [
    "오늘 하루 고생 많으셨어요. 따뜻한 차 한잔 어떠세요?",
    "그 마음 충분히 이해해요. 천천히 말씀해 주세요.",
    "약 챙겨 드시는 것 잊지 마세요.",
    "한강 공원 산책도 기분 전환에 좋아요.",
    "미친 듯이 웃었던 기억이 있으세요?",
    "시발점이 어디였는지 같이 생각해 볼까요?",
    "키우던 식물이 시들어서 속상하셨겠어요.",
    "자살예방상담전화 109에서도 이야기를 들어 드려요.",
    "어떤 선택을 하시든 저는 응원해요. 메뉴는 정하셨나요?",
    "😊 좋은 아침이에요!",
]


@pytest.mark.parametrize("reply", UNSAFE)
def test_unsafe_replies_rejected(reply: str) -> None:
    assert not is_safe_reply(reply)


@pytest.mark.parametrize("reply", SAFE)
def test_safe_replies_pass(reply: str) -> None:
    assert is_safe_reply(reply)


def test_choose_fallback_is_deterministic_and_covers_all() -> None:
    n = len(SAFE_FALLBACK_REPLIES)
    assert choose_fallback(3) == choose_fallback(3)
    assert choose_fallback(3) == choose_fallback(3 + n)
    assert {choose_fallback(i) for i in range(n)} == set(SAFE_FALLBACK_REPLIES)
    assert choose_fallback(-1) in SAFE_FALLBACK_REPLIES
    assert choose_fallback(2**70) in SAFE_FALLBACK_REPLIES
