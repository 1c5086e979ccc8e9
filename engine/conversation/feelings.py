"""Feelings a person names in their own words ("외로워서요", "쪽팔려", "서운하더라고요").

When maeum is not sure what a message is about, the person's own feeling word is the best thing
it has to reflect: on the judged dev sets, replies that swapped a named feeling for a nearby one
(창피함 answered as 아픔, 서운함 as 화, 외로움 as "오늘 하루는 어땠어요?") read as not listening.
Every reply here is written whole (no words pasted into templates), so none can be ungrammatical.

A word does not count when it is negated ("안 외로워", "외롭진 않은데"), when it is someone
else's feeling ("엄마가 서운해하셔"), or when it is only politeness ("미안한데 하나만 물어볼게").
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Feeling:
    name: str
    emotion: str  # the product label it belongs to: two feelings of different labels are both named
    pattern: re.Pattern[str]
    phrase: str  # "외로운 마음": for a message that names two feelings
    replies: tuple[str, ...]
    # Words just before the feeling word that make it another feeling ("화가 나서 손이 떨려요").
    not_after: re.Pattern[str] | None = None
    # Said of the person's own heart in so many words ("마음이 너무 안 좋네요"): it counts even
    # against a confident reading, which for these is the model's mistake, not tears of joy.
    plain: bool = False


def _f(
    name: str,
    emotion: str,
    pattern: str,
    phrase: str,
    *replies: str,
    not_after: str = "",
    plain: bool = False,
) -> Feeling:
    before = re.compile(not_after) if not_after else None
    return Feeling(name, emotion, re.compile(pattern), phrase, replies, before, plain)


FEELINGS: tuple[Feeling, ...] = (
    _f(
        "외로움", "슬픔", r"외로[워운움웠]|외롭|쓸쓸", "외로운 마음",
        "외로운 마음이 드셨군요. 그 마음을 꺼내 주셔서 고마워요, 제가 여기 있을게요.",
        "외로움은 말로 꺼내기도 쉽지 않은데 이야기해 주셨네요. 요즘 어떤 순간에 제일 외로우세요?",
        "마음이 많이 쓸쓸하셨겠어요. 여기서는 편하게 이야기 나누셔도 괜찮아요.",
    ),
    _f(
        "창피함", "슬픔", r"창피|쪽팔|쪽 팔|민망|부끄러|부끄럽|수치(?:심|스러|스럽)", "창피한 마음",
        "많이 창피하고 민망하셨겠어요. 그런 순간은 자꾸 떠올라서 더 힘들죠.",
        "얼굴이 화끈해지는 순간이었겠어요. 지금은 마음이 좀 어떠세요?",
        "창피한 마음이 크셨겠어요. 그 마음, 여기서는 편하게 털어놓으셔도 돼요.",
    ),
    _f(
        "억울함", "분노", r"억울", "억울한 마음",
        "정말 억울하셨겠어요. 어떤 점이 제일 억울하게 느껴지세요?",
        "억울한 마음이 쉽게 가라앉지 않으시겠어요. 제가 끝까지 들을게요.",
        "억울한 일을 겪으면 속이 계속 끓죠. 그 마음 충분히 이해돼요.",
    ),
    _f(
        "서운함", "슬픔", r"서운|섭섭", "서운한 마음",
        "서운한 마음이 드셨군요. 마음을 쓴 만큼 더 서운하게 느껴지죠.",
        "많이 서운하셨겠어요. 어떤 부분이 제일 마음에 남으세요?",
        "서운한 마음은 말하기도 조심스러운데, 여기서는 편하게 꺼내 주셔도 돼요.",
    ),
    _f(
        "서러움", "슬픔", r"서러[워운웠]|서럽", "서러운 마음",
        "많이 서러우셨겠어요. 그 마음 여기서 편하게 꺼내 주셔도 돼요.",
        "서러운 마음이 북받치셨군요. 제가 여기서 들을게요.",
        "혼자 서러운 마음을 안고 계셨군요. 이야기해 주셔서 고마워요.",
    ),
    _f(
        "미안함", "슬픔", r"미안(?!한데|하지만|한 데)|죄책감|죄송한 마음", "미안한 마음",
        "미안한 마음이 크시군요. 그 마음 여기서 편하게 꺼내 주셔도 돼요.",
        "미안한 마음을 안고 계셨군요. 그 마음 조금 더 들려주실래요?",
        "마음 한편이 계속 미안하셨겠어요. 그렇게 마음 쓰시는 것 자체가 따뜻해요.",
    ),
    _f(
        "후회", "슬픔", r"후회", "후회되는 마음",
        "후회되는 마음이 드시는군요. 어떤 부분이 제일 마음에 걸리세요?",
        "지나고 나서 후회가 밀려올 때가 있죠. 그 마음 여기서 천천히 꺼내 주셔도 돼요.",
        "후회가 마음에 오래 남아 있으셨군요. 이야기해 주셔서 고마워요.",
    ),
    _f(
        "막막함", "불안", r"막막", "막막한 마음",
        "앞이 막막하게 느껴지시는군요. 어디서부터 이야기해 볼까요?",
        "막막한 마음이 크시겠어요. 지금 제일 마음에 걸리는 것부터 들려주실래요?",
        "어떻게 해야 할지 막막할 때가 제일 힘들죠. 제가 같이 들을게요.",
    ),
    _f(
        "답답함", "분노", r"답답", "답답한 마음",
        "많이 답답하셨겠어요. 어떤 부분이 제일 답답하게 느껴지세요?",
        "속이 꽉 막힌 것처럼 답답하시겠어요. 여기서 편하게 풀어놓으셔도 돼요.",
        "답답한 마음이 쌓여 있으셨군요. 제가 끝까지 들을게요.",
    ),
    _f(
        "무서움", "불안", r"무서[워운웠]|무섭|두려[워운웠]|두렵|겁이 ?나|겁먹", "무서운 마음",
        "많이 무서우셨겠어요. 지금은 마음이 좀 어떠세요?",
        "두려운 마음이 드는 게 당연해요. 어떤 점이 제일 겁나세요?",
        "무섭고 불안한 마음을 혼자 안고 계셨군요. 제가 여기서 같이 들을게요.",
    ),
    _f(
        "떨림", "불안", r"떨려|떨리|긴장[이돼되하해]|초조|조마조마", "떨리는 마음",
        "많이 떨리고 긴장되시겠어요. 지금 제일 마음 쓰이는 건 어떤 부분이에요?",
        "마음이 조마조마하시겠어요. 그 떨림까지 이야기해 주셔서 고마워요.",
        "긴장되는 마음이 크시겠어요. 여기서 잠깐 숨 돌리셔도 괜찮아요.",
        # Hands shaking with anger ("너무 화가 나서 손이 떨려요") are anger, not nerves.
        not_after=r"(?:화가? ?나서|화나서|분해서|열 ?받아서|억울해서|어이없어서)\s*(?:손|몸)?[이도]?\s*$",
    ),
    _f(
        "걱정", "불안", r"걱정(?:[이돼되된스하]|임|됨|ㅠ|\s*$)|불안[해하한]", "걱정되는 마음",
        "걱정이 많이 되시겠어요. 어떤 점이 제일 마음에 걸리세요?",
        "불안한 마음이 계속 맴도시는군요. 그 걱정을 조금 더 나눠 주실래요?",
        "걱정을 혼자 안고 계셨군요. 제가 같이 들을게요.",
    ),
    _f(
        "지침", "우울", r"지쳐|지친|지칩|지쳤|녹초|기진맥진|무기력", "지친 마음",
        "많이 지치셨나 봐요. 오늘은 조금이라도 쉬실 수 있으면 좋겠어요.",
        "몸도 마음도 지치셨겠어요. 요즘 쉴 틈은 좀 있으세요?",
        "지친 마음을 여기까지 가져와 주셨네요. 천천히 이야기해 주셔도 돼요.",
    ),
    _f(
        "허전함", "우울", r"허전|헛헛", "허전한 마음",
        "마음 한쪽이 허전하시군요. 그 마음 조금 더 들려주실래요?",
        "허전하고 헛헛한 마음이 드실 때가 있죠. 제가 여기서 들을게요.",
    ),
    _f(
        "허무함", "우울", r"공허|허무", "허무한 마음",
        "마음이 많이 허무하시군요. 그 마음 조금 더 들려주실래요?",
        "허무하고 공허한 마음이 드실 때가 있죠. 제가 여기서 들을게요.",
    ),
    _f(
        "속상함", "슬픔", r"속상", "속상한 마음",
        "많이 속상하셨겠어요. 어떤 부분이 제일 마음에 남으세요?",
        "속상한 마음이 크시겠어요. 여기서는 편하게 털어놓으셔도 돼요.",
        "속상한 일은 쉽게 잊히지 않죠. 지금은 마음이 좀 어떠세요?",
    ),
    _f(
        "짜증",
        "분노",
        r"짜증|열받|열 받|빡치|빡쳐|빡침|(?<![가-힣])화(?:가 ?나|가 ?난|나|났|난)|어이[가 ]?없|황당"
        r"|기분 ?(?:망쳤|망침|잡쳤|상했|상함|나빴|더러)",
        "화나는 마음",
        "정말 화가 나셨겠어요. 어떤 점이 제일 짜증 나셨어요?",
        "듣기만 해도 속이 끓네요. 그 마음 여기서 마음껏 풀어놓으셔도 돼요.",
        "화가 나는 게 당연한 마음이에요. 지금은 좀 어떠세요?",
    ),
    _f(
        "부러움", "우울", r"부러[워운웠]|부럽|질투", "부러운 마음",
        "부러운 마음이 드는 건 자연스러운 일이에요. 그 마음 조금 더 들려주실래요?",
        "비교가 되면 마음이 복잡해지죠. 부럽다는 마음까지 솔직하게 말해 주셔서 고마워요.",
        "부러운 마음 뒤에 내 마음도 알아봐 달라는 바람이 있을 때가 있죠. 요즘 마음은 어떠세요?",
    ),
    _f(
        "그리움", "슬픔", r"그리[워운웠]|그립", "그리운 마음",
        "그리운 마음이 크시군요. 그 마음 조금 더 들려주실래요?",
        "그리운 마음은 참기 어렵죠. 어떤 순간에 제일 생각나세요?",
        "그리움이 마음에 가득하시군요. 여기서 천천히 꺼내 주셔도 돼요.",
    ),
    _f(
        "아쉬움", "슬픔", r"아쉬[워운웠]|아쉽", "아쉬운 마음",
        "아쉬운 마음이 크시겠어요. 어떤 부분이 제일 아쉬우세요?",
        "아쉬움이 남으셨군요. 그만큼 마음을 많이 쓰셨던 거겠죠.",
        "아쉬운 마음이 쉽게 가시지 않으시겠어요. 지금은 좀 어떠세요?",
    ),
    _f(
        "슬픔", "슬픔", r"슬퍼|슬프|슬펐", "슬픈 마음",
        "많이 슬프셨겠어요. 제가 여기서 천천히 들을게요.",
        "슬픈 마음이 크시군요. 괜찮으시다면 조금 더 이야기해 주실래요?",
        "마음이 많이 아프셨겠어요. 그 마음 여기 내려놓으셔도 돼요.",
    ),
    # "할머니 요양원에 모셔다 드리고 왔어요. 마음이 너무 안 좋네요" was read as joy at 0.67 ("정말
    # 기분 좋으셨겠어요!"), "오늘 기분 안 좋음" at 0.98: a heart or a mood "not good" is the person's
    # own hard feeling.
    _f(
        "안 좋은 마음", "슬픔", r"(?:마음|맘|기분)(?:이|은|도)? ?(?:너무 |좀 |많이 |참 |넘 |영 )?안 ?좋",
        "무거운 마음",
        "마음이 많이 안 좋으셨겠어요. 그 마음 여기서 천천히 꺼내 주셔도 돼요.",
        "마음이 많이 무거우시겠어요. 제가 여기서 들을게요.",
        "마음이 쉽게 편해지지 않는 날도 있죠. 지금은 좀 어떠세요?",
        plain=True,
    ),
    _f(
        "우울함", "우울", r"우울", "우울한 마음",
        "우울한 마음이 이어지고 있군요. 언제부터 그러셨는지 들려주실래요?",
        "마음이 많이 가라앉아 있으시군요. 이야기해 주셔서 고마워요.",
        "우울한 날이 계속되면 정말 무겁죠. 요즘 잠과 식사는 좀 어떠세요?",
    ),
    _f(
        "부담", "불안", r"부담[이돼되스]|부담감", "부담스러운 마음",
        "부담이 많이 되시겠어요. 어떤 부분이 제일 무겁게 느껴지세요?",
        "어깨가 많이 무거우시겠어요. 그 마음 조금 나눠 주셔도 괜찮아요.",
        "부담감을 안고 계셨군요. 제가 여기서 같이 들을게요.",
    ),
    _f(
        "당황", "불안", r"당황|멘붕", "놀란 마음",
        "많이 놀라셨겠어요. 지금은 마음이 좀 진정되셨어요?",
        "정말 당황스러우셨겠어요. 그때 어떤 마음이 제일 컸어요?",
        "갑작스러운 일에 많이 놀라셨겠어요. 제가 여기서 들을게요.",
    ),
    _f(
        "뿌듯함", "기쁨", r"뿌듯|기특|자랑스러", "뿌듯한 마음",
        "정말 뿌듯하시겠어요! 스스로 칭찬해 주셔도 될 것 같아요.",
        "뿌듯한 마음이 여기까지 전해져요. 어떤 순간이 제일 좋으셨어요?",
        "애쓴 만큼 뿌듯하시겠어요. 그 기분 오래 누리셨으면 좋겠어요.",
    ),
    _f(
        "설렘", "기쁨", r"설레|설렘|두근두근", "설레는 마음",
        "설레는 마음이 느껴져요! 어떤 점이 제일 기대되세요?",
        "두근거리는 마음이 여기까지 전해지네요. 조금 더 들려주실래요?",
        "설렘이 가득하시군요. 그 기분 마음껏 누리셨으면 좋겠어요.",
    ),
    _f(
        "기쁨", "기쁨", r"기뻐|기쁘|기쁜|기뻤|행복|신나|신났", "기쁜 마음",
        "기쁜 마음이 여기까지 전해져요! 어떤 순간이 제일 좋으셨어요?",
        "정말 행복하셨겠어요. 그 이야기 조금 더 들려주실래요?",
        "듣는 저까지 기분이 좋아지네요. 그 기쁨 오래 누리셨으면 좋겠어요.",
    ),
    _f(
        "후련함", "기쁨", r"후련|홀가분|속이 ?시원|속 ?시원", "후련한 마음",
        "후련한 마음이 드셨군요. 그동안 마음에 얹혀 있던 게 있었나 봐요.",
        "홀가분하시겠어요. 지금 마음은 어떠세요?",
        "속이 시원하시겠어요. 그 후련함 충분히 느끼셔도 돼요.",
    ),
    _f(
        # Relief: the hard part is over or easing ("덜 힘들어요", "한시름 놓았어요", "살 것 같아요").
        "안도", "기쁨",
        r"(?<!그나마 )다행(?!히|인 ?건|이라면)|안도|한시름|한숨 ?돌|살 것 같"
        r"|마음(?:이|은|도)? ?(?:좀 |한결 |많이 |조금 )?(?:놓[여이였]|편해|편하|가벼워|가볍)"
        r"|덜 (?:힘들|아프|불안)|(?:많이 |좀 |확실히 )?(?:나아졌|좋아졌)",
        "안도하는 마음",
        "정말 다행이에요. 마음이 한결 놓이셨겠어요.",
        "한시름 놓으셨겠어요. 그동안 마음 많이 쓰셨을 텐데 다행이에요.",
        "다행이라는 말씀에 저도 마음이 놓여요. 지금은 좀 편안하세요?",
    ),
    _f(
        # "좋은데 무서워요", "기쁜데 복잡해요": joy named just before a harder feeling (a mixed
        # message); alone, "좋은데" is too often about something else ("날씨 좋은데").
        "좋음", "기쁨",
        r"(?:좋|기쁘|기쁜)(?:은데|긴 ?한데|기는 ?한데|으면서도|지만|기도 ?하고|기도 ?한데)"
        r"(?=.{0,16}(?:무서|무섭|걱정|불안|두려|두렵|겁|복잡|미안|서운|슬프|슬퍼|아쉽|아쉬|허전|씁쓸|부담|막막))",
        "기쁜 마음",
        "기쁜 마음과 다른 마음이 함께 드시는군요. 두 마음 다 자연스러워요.",
    ),
    _f(
        "복잡함",
        "불안",
        r"(?:마음|기분|머리|생각)(?:이|은|도)? ?복잡|복잡한 (?:마음|기분|심경)|싱숭생숭|심란",
        "복잡한 마음",
        "마음이 많이 복잡하시겠어요. 어떤 생각이 제일 크게 맴도세요?",
        "여러 마음이 한꺼번에 드셔서 심란하시겠어요. 천천히 하나씩 이야기해 주셔도 돼요.",
        "복잡한 마음이 드는 게 당연해요. 제가 여기서 같이 들을게요.",
    ),
    _f(
        "멍함", "우울", r"멍해|멍하(?:다|고|네|니)|멍한 (?:상태|느낌|기분)|넋이 ?나",
        "멍한 마음",
        "멍해질 만큼 많이 지치셨나 봐요. 요즘 쉴 틈은 좀 있으세요?",
        "아무 느낌도 안 들 만큼 힘이 빠지셨군요. 여기서는 애쓰지 않으셔도 돼요.",
        "마음이 멍해질 때가 있죠. 지금은 좀 어떠세요?",
    ),
    _f(
        "고마움", "기쁨", r"고마[워운웠]|고맙|감사한|감사해|감사했", "고마운 마음",
        "고마운 마음이 가득하시군요. 듣는 저도 마음이 따뜻해져요.",
        "고마운 마음을 느끼셨다니 저도 기뻐요. 어떤 순간이었는지 들려주실래요?",
        "그 고마운 마음이 참 따뜻하게 느껴져요. 오래 간직하셨으면 좋겠어요.",
    ),
)

# The feeling word is negated, or someone else's ("엄마가 서운해하셔"), by what follows it...
_AFTER = re.compile(
    r"^\S{0,3}?(?:지 ?않|진 ?않|지도 ?않|지는 ?않|지 ?마|진 ?마|해하|워하|러워하|파하|해 ?하시"
    r"|[해워] ?보[이여]|다고들|다고 ?(?:하더|하시|그러|난리|했))"
    r"|^\S{0,2}\s*(?:안 |없|는 ?없|은 ?없|도 ?없)"
)
# ...or by a standalone 안/덜/못 just before it ("안 외로워"; "그동안 외로웠어" still counts).
_BEFORE = re.compile(r"(?:^|\s)(?:안|덜|못)\s*$")


def _own(feeling: Feeling, text: str) -> re.Match[str] | None:
    """Where the message first names this feeling as the writer's own; None when it does not."""
    for match in feeling.pattern.finditer(text):
        before = text[max(0, match.start() - 4) : match.start()]
        if _BEFORE.search(before) or _AFTER.search(text[match.end() :]):
            continue
        if feeling.not_after and feeling.not_after.search(text[max(0, match.start() - 12) : match.start()]):
            continue
        return match
    return None


def named_feelings(text: str) -> list[Feeling]:
    """The feelings the message names as the writer's own, in the order they appear."""
    found = [(match.start(), f) for f in FEELINGS if (match := _own(f, text)) is not None]
    return [f for _, f in sorted(found, key=lambda pair: pair[0])]


def pair_phrase(first: Feeling, second: Feeling) -> str:
    """"기쁜 마음과 걱정되는 마음이": both feelings, as the subject of what follows."""
    return f"{first.phrase}과 {second.phrase}이"


def mixed_reply(first: Feeling, second: Feeling) -> tuple[str, ...]:
    """Two feelings of different kinds ("기쁜데 돈 걱정이 먼저 드네요"): name both, let both be."""
    pair = pair_phrase(first, second)
    return (
        f"{pair} 함께 드시는군요. 두 마음 다 자연스러운 마음이에요.",
        f"{pair} 같이 있으시군요. 어느 쪽이 더 크게 느껴지세요?",
    )


POSITIVE = frozenset({"기쁨"})


def opposed(a: str, b: str) -> bool:
    """One feeling is joy and the other a hard one (일상 is opposed to neither)."""
    return (a in POSITIVE) != (b in POSITIVE) and "일상" not in (a, b)


def feeling_options(text: str, reading: str | None = None) -> tuple[str, ...]:
    """Replies for the feelings the message names: one feeling, its replies; two of different
    kinds (good news and worry), both named; none, nothing. A word whose feeling is opposed to
    a confident ``reading`` of the whole message does not count (tears of joy, a trembling
    hand after a proposal, "고맙기도 한데 짐이 되는 것 같아")."""
    named = _reflected(text, reading)
    if named is None:
        return ()
    first, other = named
    return first.replies if other is None else mixed_reply(first, other)


def _reflected(text: str, reading: str | None) -> tuple[Feeling, Feeling | None] | None:
    """The first feeling the message names that a confident ``reading`` does not contradict, and
    the first after it of a different kind (None when there is none); None when none is named."""
    found = [f for f in named_feelings(text) if reading is None or f.plain or not opposed(f.emotion, reading)]
    if not found:
        return None
    first = found[0]
    return first, next((f for f in found[1:] if f.emotion != first.emotion), None)


# A death told ("환자분이 돌아가셨어요", "무지개다리를 건넜어요"); "돌아가다" alone is also "go back".
_DEATH = re.compile(
    r"돌아가셨|돌아가신|세상을 ?떠|떠나보냈|떠나보낸|별세|숨졌|숨을 ?거두|장례|빈소|발인|49재|사십구재|"
    r"무지개 ?다리|하늘나라|임종|부고|납골당|추모 ?공원|[🐶🐱🐕🐈🐹🐰🐾]\s*🌈"
)


def tells_a_death(text: str) -> bool:
    """The message tells of a death: never answered as good news, whatever the reading says."""
    return bool(_DEATH.search(text))


# After the event said back ("돌잔치 다녀오셨군요."), the feeling in the person's own word: on the
# judged sets a restatement followed by the right, specific feeling read as listening, and a
# named feeling swapped for a neighbour (서럽다 answered as 서운함, 허전함 as 허무함) did not.
_SAID_AFTER: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(word), sentence)
    for word, sentence in (
        (r"외로|외롭", "많이 외로우셨겠어요."),
        (r"쓸쓸", "많이 쓸쓸하셨겠어요."),
        (r"창피|쪽 ?팔", "많이 창피하셨겠어요."),
        (r"민망", "많이 민망하셨겠어요."),
        (r"부끄", "얼굴이 화끈하셨겠어요."),
        (r"수치", "많이 수치스러우셨겠어요."),
        (r"억울", "정말 억울하셨겠어요."),
        (r"서운", "많이 서운하셨겠어요."),
        (r"섭섭", "많이 섭섭하셨겠어요."),
        (r"서러|서럽", "많이 서러우셨겠어요."),
        (r"죄책감", "죄책감이 많이 드셨겠어요."),
        (r"미안|죄송", "미안한 마음이 크셨겠어요."),
        (r"후회", "후회되는 마음이 크시겠어요."),
        (r"막막", "앞이 많이 막막하시겠어요."),
        (r"답답", "많이 답답하셨겠어요."),
        (r"무서|무섭", "많이 무서우셨겠어요."),
        (r"두려|두렵", "많이 두려우셨겠어요."),
        (r"겁", "겁이 많이 나셨겠어요."),
        (r"떨려|떨리", "많이 떨리시겠어요."),
        (r"긴장", "많이 긴장되시겠어요."),
        (r"초조|조마조마", "마음이 많이 초조하시겠어요."),
        (r"걱정", "걱정이 많이 되시겠어요."),
        (r"불안", "많이 불안하시겠어요."),
        (r"무기력|녹초|기진맥진", "몸도 마음도 많이 지치셨겠어요."),
        (r"지쳐|지친|지칩|지쳤", "많이 지치셨겠어요."),
        (r"허전", "마음 한쪽이 많이 허전하셨겠어요."),
        (r"공허", "마음이 많이 공허하셨겠어요."),
        (r"허무", "많이 허무하셨겠어요."),
        (r"헛헛", "마음이 많이 헛헛하셨겠어요."),
        (r"속상", "많이 속상하셨겠어요."),
        (r"안 ?좋", "마음이 많이 안 좋으셨겠어요."),
        (r"짜증", "정말 짜증 나셨겠어요."),
        (r"어이", "정말 어이없으셨겠어요."),
        (r"황당", "정말 황당하셨겠어요."),
        (r"열 ?받|빡|화", "정말 화가 나셨겠어요."),
        (r"부러|부럽", "부러운 마음이 드는 것도 당연해요."),
        (r"질투", "그런 마음이 드는 것도 자연스러워요."),
        (r"그리|그립", "많이 그리우시겠어요."),
        (r"아쉬|아쉽", "많이 아쉬우셨겠어요."),
        (r"슬퍼|슬프|슬펐", "많이 슬프셨겠어요."),
        (r"우울", "마음이 많이 우울하셨겠어요."),
        (r"부담", "부담이 많이 되시겠어요."),
        (r"당황|멘붕", "많이 당황하셨겠어요."),
        (r"뿌듯|기특|자랑스러", "정말 뿌듯하시겠어요!"),
        (r"설레|설렘|두근", "정말 설레시겠어요!"),
        (r"행복", "정말 행복하셨겠어요!"),
        (r"신나|신났", "정말 신나셨겠어요!"),
        (r"기뻐|기쁘|기쁜|기뻤", "정말 기쁘셨겠어요!"),
        (r"후련|시원", "속이 후련하시겠어요."),
        (r"홀가분", "마음이 홀가분하시겠어요."),
        (r"복잡|싱숭생숭|심란", "마음이 많이 복잡하시겠어요."),
        (r"고마|고맙|감사", "고마운 마음이 참 따뜻하게 느껴져요."),
    )
)


def said_after(text: str, reading: str | None = None) -> str | None:
    """The sentence for the feeling the message names, to follow its restated event: the first
    named feeling, in the person's own word; two feelings of different kinds, both; None when
    the message names none (or only one with no such sentence: relief, a mixed "좋은데")."""
    named = _reflected(text, reading)
    if named is None:
        return None
    first, other = named
    if other is not None:
        return f"{pair_phrase(first, other)} 함께 드시겠어요."
    match = _own(first, text)
    if match is None:
        return None
    word = match.group(0)
    return next((sentence for pattern, sentence in _SAID_AFTER if pattern.search(word)), None)
