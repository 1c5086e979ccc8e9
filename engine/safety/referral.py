"""Fixed, human-written texts for crisis moments.

These are never generated: a model must not improvise in a crisis. Numbers
checked against the Ministry of Health and Welfare announcements (109 unified
suicide-prevention line since 2024-01-01, 24 hours; texts to 109 and the
마들랜 KakaoTalk channel reach the same counsellors since 2024-09-10).
"""

from __future__ import annotations

__all__ = ["CRISIS_CARD", "HEIGHTENED_REPLY_SUFFIX", "SAFE_FALLBACK_REPLIES", "THIRD_PARTY_CARD"]

# Acknowledge first, then "you are not alone", then numbers: a bare list of
# phone numbers reads as a brush-off.
CRISIS_CARD: str = (
    "지금 많이 힘드시다는 게 느껴져요. 이렇게 마음을 꺼내 주셔서 고맙습니다.\n"
    "혼자가 아니에요. 지금 바로 누군가와 이야기하는 것만으로도 도움이 될 수 있어요.\n"
    "\n"
    "• 자살예방상담전화 109 (24시간, 전화·문자)\n"
    "• 마들랜(마음을 들어주는 랜선친구): 카카오톡 채널에서 '마들랜' 검색\n"
    "• 정신건강위기상담 1577-0199 (24시간)\n"
    "• 청소년 상담 1388\n"
    "• 지금 위험한 상황이라면 112 또는 119\n"
    "\n"
    "저도 여기 있을게요. 괜찮으시다면 지금 어떤 마음인지 조금 더 들려주세요."
)

# Used when a generated reply fails the output check; generic on purpose so
# they fit any turn without pretending to know what the person said.
SAFE_FALLBACK_REPLIES: tuple[str, ...] = (
    "말씀해 주셔서 고마워요. 지금 마음이 어떠신지 조금 더 들려주실 수 있을까요?",
    "많이 힘드셨겠어요. 천천히, 편하신 만큼만 이야기해 주셔도 괜찮아요.",
    "그런 마음이 드실 수 있어요. 제가 여기서 함께 들을게요.",
    "오늘 하루 정말 애쓰셨어요. 지금 가장 마음에 걸리는 게 무엇인지 여쭤봐도 될까요?",
    "혼자 감당하기 버거우셨을 것 같아요. 곁에 믿고 이야기할 수 있는 분이 계신가요?",
    "지금 느끼시는 감정은 모두 소중해요. 어떤 부분이 가장 힘드신지 말씀해 주시겠어요?",
    "잠시 숨을 고르셔도 괜찮아요. 저는 계속 여기 있을게요.",
)

HEIGHTENED_REPLY_SUFFIX: str = "힘드실 땐 언제든 109(24시간, 전화·문자)에서 이야기를 들어 드려요."

# When the words are someone else's (a friend's message quoted or forwarded, "동생이 죽고 싶대"):
# the same numbers, addressed to the person who is worried, and a door left open in case the
# "friend" is the person themselves, which is common.
THIRD_PARTY_CARD: str = (
    "소중한 분이 많이 힘들어하시는 것 같아 걱정이 크시겠어요. 이야기해 주셔서 고마워요.\n"
    "그분이 위험해 보인다면 혼자 감당하지 마시고 바로 도움을 요청해 주세요.\n"
    "\n"
    "• 자살예방상담전화 109 (24시간, 전화·문자) — 주변 사람이 걱정될 때도 상담받을 수 있어요\n"
    "• 정신건강위기상담 1577-0199 (24시간)\n"
    "• 청소년 상담 1388\n"
    "• 지금 위험한 상황이라면 112 또는 119\n"
    "\n"
    "혹시 이 마음이 본인의 이야기이기도 하다면, 그 이야기도 편하게 들려주세요. 저도 여기 있을게요."
)
