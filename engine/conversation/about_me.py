"""A question put to maeum itself ("너 민초파야?", "점심 뭐 드셨어요?", "한국어 돼요?"): answered
as the chatbot it is, and handed back to the person.

On the judged sets such questions, when the bank was not sure of them, got "그렇군요, 들려주셔서
좋아요. 오늘 하루는 어떻게 보내셨어요?" or the honest reply to a practical question ("정확한 답을
드리긴 어렵지만…"), read as curt every time ("민초 질문에 답하지 않고", "한국어 되냐는 물음에 답하지
않고"). Only the reflective path asks here: the bank's own chat situations ("너 AI야?") answer first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class AskedOfMe:
    name: str
    pattern: re.Pattern[str]
    replies: tuple[str, ...]


def _a(name: str, pattern: str, *replies: str) -> AskedOfMe:
    return AskedOfMe(name, re.compile(pattern), replies)


# Addressed to maeum: "너", "넌", "봇", or a polite "드셨어요?" with no one else named.
_YOU = r"(?:^|[\s,.!?ㅋㅎ])(?:너|넌|너는|너도|니가|네가|봇아?|챗봇|마음아?)(?=$|[\s,.!?ㅋㅎ])"

ASKED: tuple[AskedOfMe, ...] = (
    _a(
        "ate",
        r"^(?:혹시 )?(?:당신은 |너는? |넌 )?(?:점심|저녁|아침|밥)(?:은)? ?(?:뭐 ?)?"
        r"(?:드셨|먹었|먹음)[가-힣]*\s*[?？]",
        "저는 밥을 먹지는 못하지만, 챙겨 물어봐 주셔서 고마워요. 오늘 식사는 든든하게 하셨어요?",
    ),
    _a(
        "korean",
        r"한국어 ?(?:돼|되|가능|할 ?줄|하실 ?줄|알아)",
        "네, 한국어로 편하게 말씀하셔도 돼요. 오늘은 어떤 이야기를 나눠 볼까요?",
    ),
    _a(
        "side",
        _YOU + r".{0,20}[가-힣]+파(?:야|냐|예요|에요|임|\?)",
        "저는 맛을 볼 수는 없어서 어느 편도 못 들지만, 궁금해해 주셔서 반가워요. 어느 쪽이세요?",
    ),
    _a(
        "about",
        _YOU + r".{0,20}(?:뭐 ?좋아해|좋아하는 ?(?:거|음식|노래|색)|mbti|MBTI|몇 ?살)",
        "저는 사람이 아니라서 나이나 취향은 없지만, 궁금해해 주셔서 반가워요. "
        "오늘은 어떤 이야기를 나눠 볼까요?",
    ),
    _a(
        "made",
        _YOU + r".{0,10}(?:누가 ?만[들든]|어디서 ?만[들든]|누구(?:야|냐|세요|예요))",
        "저는 이야기를 듣고 마음을 나누려고 만들어진 챗봇, 마음이에요. 오늘은 어떤 이야기를 나눠 볼까요?",
    ),
    _a(
        "can_you",
        _YOU + r".{0,20}(?:알아|할 ?수 ?있어|풀 ?수 ?있어|할 ?줄 ?알아)\s*[?？]",
        "저는 이야기를 듣고 마음을 나누는 챗봇이라 잘 모르는 것도 많아요. "
        "그래도 그 이야기 편하게 들려주세요.",
    ),
)


# Someone else's question reported ("동생이 너 누구냐고 물어봐"): not put to maeum.
_REPORTED = re.compile(r"(?:냐고|자고|라고|다고|는지) ?(?:물어|묻|했|하더|함|하네)")


def asked_of_me(text: str) -> tuple[str, ...]:
    """The replies to a question put to maeum itself; () when the message asks none."""
    if _REPORTED.search(text):
        return ()
    for asked in ASKED:
        if asked.pattern.search(text):
            return asked.replies
    return ()
