"""A feeling the person names in their own words is the one maeum reflects."""

from __future__ import annotations

import pytest

from engine.conversation.bank import reply_problems
from engine.conversation.feelings import FEELINGS, feeling_options, mixed_reply, named_feelings, said_after
from engine.conversation.reflective import TOLD_UNCERTAIN, reflective_options
from engine.safety import assess, is_safe_reply


def names(text: str) -> list[str]:
    return [f.name for f in named_feelings(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("별건 아니고 그냥 오늘 좀 외로워서요", ["외로움"]),
        ("면허 시험 또 떨어졌어 도로주행만 4번째.. 쪽팔려", ["창피함"]),
        ("그동안 외로웠어요", ["외로움"]),  # 그동안 is not 안
        ("ADHD 진단 받았어요. 좀 후련하기도 한데 왜 몰랐나 억울하기도 해요", ["후련함", "억울함"]),
        ("화가 나서 잠이 안 와", ["짜증"]),
        ("너무 화가 나서 손이 떨려요.", ["짜증"]),  # shaking with anger is not nerves
        ("내일 발표라 손이 떨려요", ["떨림"]),
    ],
)
def test_the_writers_own_feeling_words_are_found_in_order(text: str, expected: list[str]) -> None:
    assert names(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "안 외로워 괜찮아",  # negated before
        "외롭진 않은데 심심해",  # negated after
        "후회는 없어요",
        "걱정하지 마 나 잘 지내",
        "엄마가 서운해하셔",  # someone else's feeling
        "아빠가 처음으로 나한테 미안하다고 했어",  # someone else's, reported
        "미안한데 하나만 물어볼게",  # politeness
        "영화가 너무 재밌었어",  # 화가 inside another word
        "대화가 안 통해",
        "겁나 맛있다",  # slang for "very"
    ],
)
def test_negated_borrowed_or_polite_words_do_not_count(text: str) -> None:
    assert names(text) == []


def test_two_feelings_of_different_kinds_are_both_named() -> None:
    text = "아내가 둘째 임신했어요. 기쁜데 솔직히 돈 걱정이 먼저 드네요"
    options = feeling_options(text)
    assert options and all("기쁜 마음과 걱정되는 마음이" in o for o in options)
    same_kind = "너무 슬프고 속상해"  # two words, one kind: that feeling's own replies
    assert feeling_options(same_kind) == named_feelings(same_kind)[0].replies


def test_a_named_feeling_comes_before_the_uncertain_floor() -> None:
    text = "오늘 회사에서 생각지도 못한 일이 있었는데 너무 억울해요"
    assert reflective_options("분노", True, text) == named_feelings(text)[0].replies
    plain = "오늘 회사에서 생각지도 못한 일이 있었어요"
    assert reflective_options("분노", True, plain) == TOLD_UNCERTAIN


def test_a_feeling_word_against_a_confident_reading_does_not_count() -> None:
    """Tears of joy, a hand that trembles after a proposal: the whole message reads as joy."""
    text = "방금 프로포즈 받았어요 손 떨려서 타자도 잘 안쳐져요"
    assert feeling_options(text) == named_feelings(text)[0].replies
    assert feeling_options(text, reading="기쁨") == ()
    assert feeling_options(text, reading="불안") == named_feelings(text)[0].replies
    assert names("다들 행복해 보이는데 나만 회색인 느낌") == []  # someone else's happiness


def test_a_heart_said_to_be_not_good_counts_even_against_a_confident_joy() -> None:
    """"마음이 너무 안 좋네요" read as joy at 0.67 got "정말 기분 좋으셨겠어요!": the person's own
    words about their heart are not tears of joy. A knee or a test result "not good" is no feeling."""
    text = "할머니 요양원에 모셔다 드리고 왔어요. 마음이 너무 안 좋네요"
    assert names(text) == ["안 좋은 마음"]
    assert feeling_options(text, reading="기쁨") == named_feelings(text)[0].replies
    assert names("오늘 기분 안 좋음") == ["안 좋은 마음"]
    assert said_after(text, "기쁨") == "마음이 많이 안 좋으셨겠어요."
    assert names("무릎이 좀 안 좋아서 걱정임") == ["걱정"]
    assert names("울 냥이 신장 수치가 안 좋대") == []


def test_every_feeling_reply_keeps_the_banks_rules() -> None:
    replies = [r for f in FEELINGS for r in f.replies]
    replies += [r for a in FEELINGS for b in FEELINGS if a.emotion != b.emotion for r in mixed_reply(a, b)]
    assert len({f.name for f in FEELINGS}) == len(FEELINGS)
    for reply in replies:
        assert reply_problems(reply) == [], reply
        assert is_safe_reply(reply) and not assess(reply).is_crisis, reply


@pytest.mark.parametrize(
    ("text", "sentence"),
    [
        ("자취 4년찬데 아플때 진짜 서럽다ㅠㅠ", "많이 서러우셨겠어요."),  # not 서운함
        ("돌잔치 다녀왔는데 괜히 허전함", "마음 한쪽이 많이 허전하셨겠어요."),  # not 허무함
        ("동창들 만나고 오는 길이 허무했어요", "많이 허무하셨겠어요."),
        ("면접 붙었는데 기쁘면서도 걱정돼", "기쁜 마음과 걱정되는 마음이 함께 드시겠어요."),
    ],
)
def test_after_the_event_the_feeling_is_said_in_the_persons_own_word(text: str, sentence: str) -> None:
    assert said_after(text) == sentence
    assert reply_problems(sentence) == [] and is_safe_reply(sentence)


def test_a_named_feeling_follows_the_restated_event_once() -> None:
    from engine.conversation.restate import restate

    text = "오늘 대학동기 애기 돌잔치 다녀왔는데 괜히 허전함ㅠ"
    assert reflective_options("슬픔", False, text, None, restate) == (
        "오늘 대학동기 애기 돌잔치 다녀오셨군요. 마음 한쪽이 많이 허전하셨겠어요.",
    )
    # The restatement already says the feeling: not said twice ("지치셨군요. 많이 지치셨겠어요.").
    tired = "그냥 좀 지쳤어"
    assert reflective_options("우울", False, tired, None, restate) == named_feelings(tired)[0].replies


def test_every_after_sentence_keeps_the_banks_rules() -> None:
    from engine.conversation.feelings import _SAID_AFTER

    for _, sentence in _SAID_AFTER:
        assert reply_problems(sentence) == [], sentence
        assert is_safe_reply(sentence) and not assess(sentence).is_crisis, sentence
