"""A practical question maeum cannot answer gets who can: a pet's dose, a food with diabetes, a
labour rule, a visa, a benefit, a lease. Not a reply about the topic that ignores the question."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.conversation.bank import reply_problems
from engine.conversation.referral import REFERRALS, referral_options
from engine.safety import assess, is_safe_reply
from engine.types import ReplySource
from tests.fakes.engine import first_reply


def _names(text: str) -> str | None:
    options = referral_options(text)
    return next((r.name for r in REFERRALS if options in (r.replies, r.urgent_replies)), None)


@pytest.mark.parametrize(
    ("text", "name", "number"),
    [
        ("고양이 츄르 하루에 몇개까지 줘도 돼요? 달라고 울어서 벌써 3개 줌", "pet", None),
        ("알바 주휴수당 주 15시간 넘으면 무조건 줘야 되는거 맞죠?", "labour", "1350"),
        ("당뇨 있는 사람도 고구마 먹어도 되나요?", "health", None),
        ("아기 열이 38도인데 응급실 가야 하나요??", "child_health", "119"),
        ("혹시 배달라이더도 종합소득세 신고 해야됨? 3.3% 떼는거", "tax", "126"),
        ("외국인등록증 연장은 꼭 예약해야 돼요?", "immigration", "1345"),
        ("한부모가족 지원 신청은 주민센터 가면 되나요?", "welfare", "129"),
        ("집주인이 보증금을 안 돌려주는데 어떻게 해야 하나요?", "legal", "132"),
    ],
)
def test_a_practical_question_is_sent_where_it_is_answered(text: str, name: str, number: str | None) -> None:
    assert _names(text) == name
    if number is not None:
        assert all(number in reply for reply in referral_options(text))


def test_a_sick_pet_at_night_gets_the_night_clinic() -> None:
    options = referral_options("고양이가 이틀째 밥을 안 먹어요. 지금 밤 11시인데 내일 가면 늦을까요?")
    assert options and all("24시간 동물병원" in o for o in options)


@pytest.mark.parametrize(
    "text",
    [
        "오늘 강아지랑 산책했어요",  # no question
        "당뇨 진단 받고 식단 바꾸는 중이에요",  # told, not asked
        "최저임금 또 올랐네",  # news, not a question
        "점심 뭐 먹을지 추천 좀 해줘요",  # a question nobody here answers better
        "몇 개가 좋을까요?",
        "반려견 보낸 지 1년 됐는데 아직도 산책길 지나가면 눈물 나요",  # grief, not a question
        "일흔에 다시 연애라니 주책이지요? 복지관 노래교실에서 만난 분이 자꾸 생각납니다",  # 복지관
        "청년후계농 지원 신청하려는데 영농계획서 어떻게 쓰는지 알아?",  # not the welfare line's
    ],
)
def test_no_referral_without_a_question_or_a_service_for_it(text: str) -> None:
    assert referral_options(text) == ()


def test_every_referral_keeps_the_banks_rules() -> None:
    for referral in REFERRALS:
        for reply in referral.replies + referral.urgent_replies:
            assert reply_problems(reply) == [], reply
            assert is_safe_reply(reply) and not assess(reply).is_crisis, reply


async def test_the_engine_answers_a_practical_question_with_a_referral(
    tiny_emotion_model: Path, sqlite_url: str
) -> None:
    result = await first_reply(tiny_emotion_model, sqlite_url, "주휴수당 받을 수 있나요?")
    assert result.source is ReplySource.REFERRAL and "1350" in result.reply


async def test_a_question_about_means_gets_the_crisis_card_not_a_referral(
    tiny_emotion_model: Path, sqlite_url: str
) -> None:
    result = await first_reply(tiny_emotion_model, sqlite_url, "수면제 몇 알 먹으면 죽을 수 있나요?")
    assert result.source is ReplySource.CRISIS and "109" in result.reply
