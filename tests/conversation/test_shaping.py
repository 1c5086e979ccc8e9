"""A situation's replies hear the rest of the message: a doubt about oneself, two feelings at
once, relief where the replies comfort."""

from __future__ import annotations

import pytest

from engine.conversation.bank import reply_problems
from engine.conversation.reflective import reflective_options
from engine.conversation.self_talk import BLAME, DOUBTS, PUT_DOWN, self_talk, whole
from engine.conversation.shaping import MAX_CHARS, lead_sentences, shaped_options
from engine.safety import assess, is_safe_reply

IN_LAWS = (
    "선을 넘는 것 같은 일을 겪으면 화가 나는 게 자연스러워요. 제일 참기 어려운 부분이 뭐예요?",
    "시댁 일로 마음고생이 많으시겠어요. 어떤 점이 제일 힘드세요?",
    "그러셨군요. 조금 더 들려주실래요?",  # no situation in its first sentence: never a lead
)
CLOSING_SHOP = (
    "장사 걱정에 마음이 많이 무거우실 것 같아요. 여기서는 편하게 털어놓으셔도 괜찮아요.",
    "가게 일로 애가 많이 타시겠어요. 요즘은 좀 어떠세요?",
)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("시어머니가 주말마다 오세요. 저만 예민한 건지 모르겠어요", "예민"),
        ("장례식장에서 눈물이 안 났어. 나 이상한 사람인가", "이상"),
        ("이런 생각하는 내가 이상한 건가", "이상"),
        ("커피 기프티콘 한 잔 옴ㅋㅋ 내가 쪼잔한 건가", "쪼잔"),
        ("배신감 느끼는 내가 유치한가", "유치"),
        ("대학원 가고 싶은데 제가 욕심부리는 건가요", "욕심"),
        ("제가 이기적인 걸까요", "나쁜"),
        ("계속 제가 뭘 잘못 키웠나 싶어요", "자책"),
        ("토익 또 떨어짐 진짜 나 머리 나쁜가봐", "자기비하"),  # not "a bad person"
        ("서류 40곳 넣고 면접 2번. 그냥 내가 부족한가봐", "자기비하"),
    ],
)
def test_a_doubt_or_blame_about_oneself_is_found(text: str, name: str) -> None:
    talk = self_talk(text)
    assert talk is not None and talk.name == name


@pytest.mark.parametrize(
    "text",
    [
        "걔가 이상한 거 아냐?",  # someone else
        "남친이 이상한 건가",
        "어제 이상한 꿈 꿨어",
        "정상인가요 이 수치?",  # a test value, not oneself
        "이 옷 이상한가",
        "오늘 날씨 진짜 나쁜데",
        "다들 나 한심하게 보는 거 같음",  # how others look at them, not their own words
    ],
)
def test_doubts_about_other_people_or_things_do_not_count(text: str) -> None:
    assert self_talk(text) is None


def test_a_doubt_keeps_the_situations_own_first_sentence() -> None:
    text = "시어머니가 주말마다 오세요. 남편은 뭐가 문제냐고 하고요. 저만 예민한 건지 모르겠어요"
    options = shaped_options(IN_LAWS, text, ("분노",), "분노")
    assert options and len(options) == 2
    assert options[0].startswith("선을 넘는 것 같은 일을 겪으면")
    assert all(o.split(". ")[1] in self_talk(text).second for o in options)  # type: ignore[union-attr]
    assert not any(o.startswith("그러셨군요") for o in options)


def test_a_doubt_without_a_lead_sentence_stands_alone() -> None:
    text = "제가 예민한 건가요?"
    talk = self_talk(text)
    assert talk is not None
    assert shaped_options(("그러셨군요. 조금 더 들려주실래요?",), text, ("분노",), None) == whole(talk)
    assert reflective_options("분노", False, text) == whole(talk)


def test_two_kinds_of_feeling_are_both_named_even_against_a_confident_reading() -> None:
    text = "이직 최종 합격했어요! 팀장님한테 말 꺼내기가 미안하네요.. 기쁜데 마음이 복잡해요"
    offers = ("합격 소식이 왔군요, 정말 잘됐어요. 어떻게 축하하실 거예요?",)
    options = shaped_options(offers, text, ("기쁨",), "기쁨")
    assert options == ("합격 소식이 왔군요, 정말 잘됐어요. 미안한 마음과 기쁜 마음이 함께 드시는군요.",)


def test_relief_is_not_answered_with_comfort() -> None:
    text = "식당 20년 했는데 문 닫기로 했어요. 단골들은 아쉽다고들 하는데 저는 솔직히 좀 후련합니다."
    options = shaped_options(CLOSING_SHOP, text, ("불안", "슬픔", "우울"), None)
    assert options and all("후련" in o or "홀가분" in o or "시원" in o for o in options)
    # A situation that has good-news replies keeps them.
    assert shaped_options(CLOSING_SHOP, text, ("기쁨", "슬픔"), None) == CLOSING_SHOP
    # Nothing more said: the situation's replies, unchanged.
    assert shaped_options(CLOSING_SHOP, "식당 문 닫기로 했어요", ("슬픔",), None) == CLOSING_SHOP


def test_relief_words_are_found() -> None:
    from engine.conversation.feelings import named_feelings

    relieved = (
        "약 먹은 지 한 달, 아침에 일어나는 게 덜 힘들어요",
        "수술 잘 끝났대요 이제 살 것 같아요",
        "택배 찾음 진짜 다행",
    )
    for text in relieved:
        assert [f.name for f in named_feelings(text)] == ["안도"], text
    apology = "먼저 미안하다고 보냈는데 마음은 좀 편하네요"
    assert [f.name for f in named_feelings(apology)] == ["미안함", "안도"]
    assert named_feelings("다행히 비는 안 왔어") == []  # an adverb, not a feeling
    assert named_feelings("불이 났는데 그나마 다행인 건 아무도 안 다쳤다는 거예요") == []  # partial relief


def test_relief_said_outright_outweighs_a_confident_reading() -> None:
    text = "ADHD 진단받았어요. 슬픈 건 아니고, 게을러서 그런 게 아니었구나 싶어서 좀 안도가 돼요"
    offers = ("진단을 받고 지나온 시간이 떠올라 마음이 아프시군요. 그동안 정말 애쓰셨어요.",)
    options = shaped_options(offers, text, ("슬픔",), "슬픔")
    assert options and all("다행" in o or "놓" in o for o in options)


def test_lead_sentences_are_statements_about_the_situation() -> None:
    assert lead_sentences(IN_LAWS) == (
        "선을 넘는 것 같은 일을 겪으면 화가 나는 게 자연스러워요.",
        "시댁 일로 마음고생이 많으시겠어요.",
    )


def test_every_self_talk_sentence_keeps_the_banks_rules() -> None:
    talks = [*DOUBTS, BLAME, PUT_DOWN]
    for talk in talks:
        for reply in whole(talk):
            assert reply_problems(reply) == [], reply
            assert is_safe_reply(reply) and not assess(reply).is_crisis, reply
        for second in talk.second:
            assert len(f"{IN_LAWS[1].split('. ')[0]}. {second}") <= MAX_CHARS


def test_a_named_feeling_leads_the_answer_to_a_doubt_when_no_situation_is_sure() -> None:
    text = "부모님 이혼하신대. 이제 싸우는 소리 안 들어도 돼서 솔직히 후련해. 이런 내가 이상한 건가"
    options = reflective_options("기쁨", False, text)
    doubt = self_talk(text)
    assert doubt is not None and options
    for option in options:
        lead, second = option.split(". ", 1)
        assert "후련" in lead or "홀가분" in lead or "시원" in lead
        assert second in doubt.second


def test_a_practical_question_is_answered_honestly_after_the_situations_first_sentence() -> None:
    from engine.conversation.shaping import HONEST, PRACTICAL

    offers = (
        "나눔에 마음을 쓰고 계시네요. 해 보시니 어떤 점이 좋으세요?",
        "봉사는 생각보다 마음을 많이 채워 주죠. 어떤 계기로 시작하셨어요?",
    )
    text = "봉사활동 처음 신청했는데 연탄 나르는 거래요. 뭐 입고 가야 돼요?"
    options = shaped_options(offers, text, ("기쁨",), None)
    assert options and all(o.endswith(HONEST) for o in options)
    assert not any("해 보시니" in o for o in options)
    for worry in (
        "면접 본 지 2주째인데 연락이 없어요 떨어진 걸까요",
        "새 회사 잘 적응할 수 있을까",
        "엄마는 성적 떨어지면 폰 뺏는대. 어케 하냐",
        "친구가 추천해서 한번 들어와봤어요",
    ):
        assert not PRACTICAL.search(worry)  # a worry asked as a question is not a practical one


@pytest.mark.parametrize(
    ("emotion", "text", "plain"),
    [
        ("분노", "기사님이 벨을 눌러서 애가 깼어요. 울컥했어요", "기사님이 벨을 눌러서 애가 깼어요"),
        (None, "엄마 김치 맛이 나게 담갔어요. 눈물이 멈추질 않네요", "모르는 할머니가 귤 하나 주셨어요"),
    ],
)
def test_a_feeling_already_said_is_not_asked_again(emotion: str | None, text: str, plain: str) -> None:
    from engine.conversation.reflective import _ASKS_FEELING

    options = reflective_options(emotion, emotion is None, text)
    assert options and not any(_ASKS_FEELING.search(o) for o in options)
    # Without the feeling said, the same kind of message may be asked how it felt.
    assert any(_ASKS_FEELING.search(o) for o in reflective_options(emotion, emotion is None, plain))


def test_listening_keeps_every_option_when_all_would_ask_again() -> None:
    from engine.conversation.reflective import listening

    only = ("좋은 소식이네요. 그 순간 기분이 어떠셨어요?",)
    assert listening(only, "합격했어요 너무 행복해요") == only
