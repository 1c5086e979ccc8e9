"""Curated empathetic replies keyed by the detected emotion.

A small generator trained from scratch can answer a breakup with "좋은 선택이네요". For someone who
is anxious, sad, angry or low, a tone-deaf reply does harm, so by default those messages get one
of these hand-written answers instead (MAEUM_EMPATHY_FIRST); a fine-tuned KoGPT2 can take over by
turning that off. They also stand in when generation fails, matched to the emotion."""

from __future__ import annotations

import random

NEGATIVE = frozenset({"불안", "슬픔", "분노", "우울"})

REPLIES: dict[str, tuple[str, ...]] = {
    "우울": (
        "마음이 많이 무거우셨겠어요. 어떤 하루를 보내셨는지 천천히 들려주실 수 있을까요?",
        "기운이 나지 않는 날도 있죠. 지금 이렇게 이야기해 주셔서 고마워요.",
        "요즘 많이 지치셨나 봐요. 무엇이 가장 힘들게 느껴지세요?",
        "그런 날에는 아무것도 하지 않아도 괜찮아요. 제가 여기서 들을게요.",
        "마음이 가라앉아 있으시군요. 오늘 조금이라도 편했던 순간이 있었나요?",
    ),
    "슬픔": (
        "많이 속상하셨겠어요. 충분히 슬퍼하셔도 괜찮아요.",
        "마음이 아프셨겠어요. 어떤 일이 있었는지 들려주실래요?",
        "그 슬픔이 얼마나 큰지 다 알 수는 없지만, 곁에서 함께 들을게요.",
        "눈물이 나는 날도 있죠. 지금 마음은 좀 어떠세요?",
        "소중한 만큼 더 아프신 것 같아요. 천천히 이야기해 주세요.",
    ),
    "분노": (
        "정말 화가 나셨겠어요. 그런 일을 겪으면 누구라도 속상할 거예요.",
        "억울하고 답답하셨겠어요. 무슨 일이 있었는지 더 들려주세요.",
        "화가 나는 게 당연한 상황이네요. 지금은 좀 가라앉으셨어요?",
        "그 말을 들으셨을 때 많이 불쾌하셨겠어요. 제가 끝까지 들을게요.",
        "참느라 힘드셨죠. 여기서는 마음껏 털어놓으셔도 돼요.",
    ),
    "불안": (
        "많이 긴장되고 걱정되시겠어요. 어떤 점이 가장 마음에 걸리세요?",
        "불안한 마음이 드는 건 그만큼 잘하고 싶어서일 거예요.",
        "걱정이 꼬리를 물 때는 숨을 한번 크게 쉬어 보세요. 제가 같이 있을게요.",
        "아직 일어나지 않은 일 때문에 마음이 조마조마하시군요. 이야기해 주셔서 고마워요.",
        "떨리는 마음 충분히 이해해요. 지금까지 잘 준비해 오셨을 거예요.",
    ),
    "기쁨": (
        "정말 잘됐네요! 저까지 기분이 좋아져요.",
        "좋은 일이 있으셨군요. 어떤 순간이 제일 기뻤어요?",
        "축하드려요! 그 기쁨을 마음껏 누리세요.",
        "듣기만 해도 행복해지네요. 오늘은 스스로를 칭찬해 주세요.",
    ),
    "일상": (
        "그러셨군요. 오늘 하루는 어떻게 보내고 계세요?",
        "이야기해 주셔서 고마워요. 요즘은 어떻게 지내세요?",
        "그렇군요. 더 하고 싶은 이야기가 있으면 편하게 들려주세요.",
        "네, 듣고 있어요. 지금 기분은 어떠세요?",
    ),
}


def empathetic_reply(label: str | None, rng: random.Random) -> str | None:
    options = REPLIES.get(label or "")
    return rng.choice(options) if options else None
