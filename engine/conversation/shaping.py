"""A situation's replies shaped by what else the message says: a doubt or blame about oneself,
two feelings at once, or relief where the situation's replies comfort.

The bank's replies fit every message of their situation, so they cannot hear the rest of one
message: "저만 예민한 건지 모르겠어요" after 시댁 trouble, "기쁜데 마음이 복잡해요" after a job offer,
"솔직히 좀 후련합니다" after closing a shop. On the judged sets those replies read as half
listening (or, for relief answered with comfort, as wrong). Here a reply keeps its situation's own
first sentence (what happened) and says the second thing itself; every sentence is written whole.
"""

from __future__ import annotations

import re

from engine.conversation.feelings import POSITIVE, Feeling, mixed_reply, named_feelings, opposed, pair_phrase
from engine.conversation.self_talk import SelfTalk, self_talk, whole

# A composed reply stays short (the bank's own line is 90; two sentences a little over it read fine).
MAX_CHARS = 100
RELIEF = frozenset({"안도", "후련함"})
_SENTENCE = re.compile(r"(?<=[.?!…])\s+")


# A practical question maeum cannot answer: what to wear or add, how much, which one. Not "어케
# 하냐" / "어떻게 해야 할지 모르겠어요": those are distress, not a request for instructions.
PRACTICAL = re.compile(
    r"뭐 ?(?:입|넣|사|챙기)|뭘 (?:더 )?(?:넣|입|사|챙기)|얼마(?:나)? ?(?:해야|내야|줘야|자주|드려야|넣어야)"
    r"|어떻게 ?(?:써|쓰|고르)|어디서부터|방법 ?(?:없을까|있을까|좀|알려)|뭐가 (?:더 )?나을"
    r"|(?:할까|갈까|살까|바꿀까)요?[^.?]{0,6}(?:말까|기다릴까)|추천 ?(?:좀|해 ?줘|해 ?주|ㄱ|부탁)"
)
HONEST: tuple[str, ...] = (
    "정확한 답을 드리기는 어렵지만, 고민되는 마음은 충분히 알 것 같아요.",
    "제가 딱 잘라 말씀드리긴 어렵지만, 같이 생각해 볼 수는 있어요.",
)


def lead_sentences(options: tuple[str, ...]) -> tuple[str, ...]:
    """The first sentences of the replies that open with a statement about the situation (not a
    question, not a bare "그러셨군요.") and go on to a second sentence."""
    leads = []
    for reply in options:
        parts = _SENTENCE.split(reply.strip())
        if len(parts) != 2:
            continue
        first = parts[0]
        if first.endswith("?") or len(first.replace(" ", "")) < 10 or first in leads:
            continue
        leads.append(first)
    return tuple(leads)


def _compose(leads: tuple[str, ...], seconds: tuple[str, ...]) -> tuple[str, ...]:
    out = []
    for i, lead in enumerate(leads):
        second = seconds[i % len(seconds)]
        reply = f"{lead} {second}"
        if len(reply) <= MAX_CHARS:
            out.append(reply)
    return tuple(out)


def with_self_talk(options: tuple[str, ...], talk: SelfTalk) -> tuple[str, ...]:
    """The options' own first sentences followed by the answer to ``talk``; that answer on its
    own when no option opens with a statement."""
    return _compose(lead_sentences(options), talk.second) or whole(talk)


def _mixed_sentence(first: Feeling, second: Feeling) -> tuple[str, ...]:
    pair = pair_phrase(first, second)
    return (f"{pair} 함께 드시는군요.", f"{pair} 같이 있으시군요.")


def shaped_options(
    options: tuple[str, ...], text: str, emotions: frozenset[str] | tuple[str, ...], reading: str | None
) -> tuple[str, ...]:
    """``options`` (a situation's replies for this message) shaped by the rest of ``text``;
    ``options`` unchanged when the message says nothing more. ``emotions`` are the feelings the
    replies are written for; ``reading`` is a confident emotion reading, or None."""
    talk = self_talk(text)
    if talk is not None:
        return with_self_talk(options, talk)
    if PRACTICAL.search(text):
        # "뭐 입고 가야 돼요?", "축의금 얼마 해야 돼?": the situation's replies ignore the question
        # (or assume it is behind them: "해 보시니 어떤 점이 좋으세요?"); say honestly that maeum
        # cannot answer it, after the situation's own first sentence.
        return _compose(lead_sentences(options), HONEST) or options
    named = named_feelings(text)
    # Both kinds named outright ("기쁜데 마음이 복잡해요") is a mixed message whatever the reading.
    first = named[0] if named else None
    other = next((f for f in named[1:] if first and opposed(f.emotion, first.emotion)), None)
    if first is not None and other is not None:
        composed = _compose(lead_sentences(options), _mixed_sentence(first, other))
        return composed or mixed_reply(first, other)
    # Relief said outright outweighs the reading (the emotion model reads "안도가 돼요" after a
    # diagnosis as sadness); other feeling words against a confident reading do not count (tears
    # of joy, a trembling hand after a proposal).
    found = [f for f in named if reading is None or not opposed(f.emotion, reading) or f.name in RELIEF]
    if not found:
        return options
    first = found[0]
    # One kind of feeling: relief or joy where the replies are written only for hard feelings
    # would answer the opposite of what was said; the person's own word wins.
    positive = first.emotion in POSITIVE
    if positive and not (set(emotions) & POSITIVE):
        return first.replies
    return options
