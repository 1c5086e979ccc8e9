"""A question put to maeum itself is answered as the chatbot it is, not as a practical question or
an event."""

from __future__ import annotations

import pytest

from engine.conversation.about_me import ASKED, asked_of_me
from engine.conversation.bank import reply_problems
from engine.conversation.reflective import QUESTION, reflective_options
from engine.safety import is_safe_reply


def kind_of(text: str) -> str | None:
    replies = asked_of_me(text)
    return next((a.name for a in ASKED if a.replies == replies), None) if replies else None


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("점심 뭐 드셨어요?", "ate"),
        ("점심먹었어요?", "ate"),
        ("당신은 밥 먹었어요? 나는 지금 먹었어요 ㅎㅎ", "ate"),
        ("hello? 한국어 돼요?", "korean"),
        ("야 너 민초파야 반민초파야 이거 중요함", "side"),
        ("너는 몇살이야 ㅋㅋ", "about"),
        ("너 mbti 뭐야? ㅋㅋ 왠지 infj일듯", "about"),
        ("너는 누가 만든 거야?", "made"),
        ("너는 ai야? 수능 수학 문제도 풀 수 있어?", "can_you"),
    ],
)
def test_a_question_put_to_maeum(text: str, kind: str) -> None:
    assert kind_of(text) == kind


@pytest.mark.parametrize(
    "text",
    [
        "동생이 너 누구냐고 물어봐",  # someone else's question, reported
        "엄마가 밥은 먹었냐고 물어봄",
        "점심 먹고 옴",  # told, not asked
        "너무 힘들어",  # "너무" is not "너"
        "팀장이 너 이거 할 수 있냐고 물어봄",
    ],
)
def test_not_a_question_put_to_maeum(text: str) -> None:
    assert asked_of_me(text) == ()


def test_the_answers_keep_the_banks_rules_and_come_before_the_honest_reply() -> None:
    for asked in ASKED:
        for reply in asked.replies:
            assert not reply_problems(reply) and is_safe_reply(reply), reply
    text = "너는 MBTI 뭐야? 나 ENFP인데 면접에서 물어보면 뭐라고 해야 됨ㅋㅋ"
    options = reflective_options("일상", False, text, None)
    assert options == asked_of_me(text) and options != QUESTION
