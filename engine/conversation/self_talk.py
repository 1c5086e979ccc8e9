"""What a person says about themselves beside what happened: a doubt ("제가 예민한 건가요?",
"이런 생각하는 내가 이상한 건가") or blame ("제가 뭘 잘못 키웠나 싶어요", "나 머리 나쁜가봐").

On the judged sets, replies that answered only the situation (시댁 for "저만 예민한 건지 모르겠어요",
a grandparent's death for "눈물이 안 났어. 나 이상한 사람인가") read as not listening: the
question about themselves is often what the person most wants answered. Every sentence here is
written whole (no words pasted in), and each one fits after any situation's first sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class SelfTalk:
    name: str
    pattern: re.Pattern[str]
    second: tuple[str, ...]  # one sentence, to follow a situation's own first sentence


# A doubt ends as a question about oneself: "…한 건가", "…한 걸까요", "…한 건지 모르겠어요".
_ASKING = (
    r"\s?(?:사람|애|엄마|아빠|딸|아들|며느리|사위|건|거|걸|것)?\s?"
    r"(?:인가|인 ?건가|인 ?걸까|인지|이야|예요|가요|가\b|가[?ㅠ.~ ]|건가|걸까|건지|거야|거예요|거죠|거 ?같)"
)


@dataclass(frozen=True)
class Doubt(SelfTalk):
    # "이상한 건가", "정상인가요" are as often about a thing (a dream, a test value) as about
    # oneself: those count only with the writer as the subject ("나 이상한 사람인가").
    needs_self: bool = False


def _doubt(name: str, words: str, *second: str, needs_self: bool = False) -> Doubt:
    pattern = re.compile(rf"(?:{words}){_ASKING}|(?:{words})(?:한|은)? ?(?:가봐|가 ?봐요|건가 ?봐)")
    return Doubt(name, pattern, second, needs_self)


DOUBTS: tuple[Doubt, ...] = (
    _doubt(
        "예민", r"예민한|유난(?:인|떠는|스러운)?",
        "그렇게 느끼시는 건 지나친 게 아니라 충분히 그럴 만한 마음이에요.",
        "그런 마음이 드는 건 그만큼 마음이 쓰이셨다는 뜻이에요.",
    ),
    _doubt(
        "쪼잔", r"쪼잔한|속 ?좁은|치사한|소심한",
        "쪼잔하신 게 아니라 그만큼 마음을 쓰셨던 거예요.",
        "서운한 마음이 드는 건 속이 좁아서가 아니에요.",
    ),
    _doubt(
        "유치", r"유치한",
        "유치하신 게 아니라 그만큼 소중하게 여기셨던 거예요.",
        "그런 마음이 드는 건 유치한 게 아니라 자연스러운 일이에요.",
    ),
    _doubt(
        "욕심", r"욕심(?:부리는|내는|인|이)",
        "하고 싶은 걸 바라는 마음은 욕심이 아니에요.",
        "원하는 길을 생각해 보는 건 욕심이 아니라 당연한 마음이에요.",
    ),
    _doubt(
        "나쁜", r"(?<!머리 )(?<!머리가 )나쁜|못된|이기적인",
        "그런 마음이 든다고 나쁜 사람이 되는 건 아니에요.",
        "그렇게 스스로를 돌아보시는 것만 봐도 마음이 따뜻한 분이세요.",
        needs_self=True,
    ),
    _doubt(
        "이상", r"이상한|비정상인?|정상인|정상(?=인가|인 ?건가|이야|일까)",
        "그런 마음이 드는 게 이상한 일이 아니에요.",
        "마음이 드러나는 방식은 사람마다 달라서, 이상한 게 아니에요.",
        needs_self=True,
    ),
)

# Who is the subject: the doubt must be the writer's own ("제가 예민한 건가요", "이런 생각하는
# 내가 이상한 건가"), not someone else's ("걔가 이상한 거야", "남친이 이상한 건가").
_OTHER_SUBJECT = re.compile(r"(?:가|이|는|은)\s?(?:좀|너무|진짜)?\s?$")
_SELF_SUBJECT = re.compile(r"(?:나|내가|저|제가|나만|저만|난|전)\s?(?:좀|너무|진짜|혹시|괜히)?\s?$")

BLAME = SelfTalk(
    "자책",
    re.compile(
        r"(?:내|제)\s?탓|(?:내가|제가)\s?(?:뭘|뭔가|무엇을|다|괜히)?\s?잘못(?:했|한|키|해)|잘못 ?키웠|자책"
        r"|(?:내가|제가)\s?(?:뭐|뭔가)\s?실수"
    ),
    (
        "스스로를 돌아보실 만큼 마음을 많이 쓰고 계시네요.",
        "혼자 그 무게를 다 짊어지지 않으셔도 괜찮아요.",
        "자책하는 마음까지 드셨다니 제 마음이 쓰여요.",
    ),
)
# Putting oneself down ("나 머리 나쁜가봐", "내가 부족한가봐", "한심해"): not a fault to weigh.
PUT_DOWN = SelfTalk(
    "자기비하",
    re.compile(
        r"머리(?:가)?\s?나쁜|(?:내가|제가|나|저)\s?(?:너무|좀|많이)?\s?(?:부족|못나|모자라)"
        r"|못난 ?(?:사람|엄마|아빠|딸|아들)"
        r"|(?:내가|제가|나|저)\s?(?:너무|진짜)?\s?한심(?!하게 ?(?:보|쳐다|여기))"
        r"|한심(?:해|하다|한 것 같)"
    ),
    (
        "그렇게까지 스스로를 깎아내리지 않으셔도 괜찮아요.",
        "스스로에게 너무 모질게 말하지 않으셔도 돼요.",
    ),
)

# Standalone (no situation to lead with): the sentence above and one gentle question.
# (Not "when did you feel it?": the message has usually just said.)
QUESTIONS: tuple[str, ...] = (
    "그 마음 조금 더 들려주실래요?",
    "제가 여기서 천천히 들을게요.",
)


def self_talk(text: str) -> SelfTalk | None:
    """The writer's doubt or blame about themselves in ``text``, if any (a doubt first)."""
    for doubt in DOUBTS:
        for match in doubt.pattern.finditer(text):
            before = text[max(0, match.start() - 8) : match.start()]
            if _SELF_SUBJECT.search(before):
                return doubt
            if not doubt.needs_self and not _OTHER_SUBJECT.search(before):
                return doubt
    for talk in (BLAME, PUT_DOWN):
        if talk.pattern.search(text):
            return talk
    return None


def whole(talk: SelfTalk) -> tuple[str, ...]:
    """Two-sentence replies for ``talk`` on its own."""
    return tuple(f"{second} {question}" for second in talk.second for question in QUESTIONS)
