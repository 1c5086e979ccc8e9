"""What an everyday message implies without a feeling word is what maeum answers, where it would
otherwise assume no feeling at all."""

from __future__ import annotations

import pytest

from engine.conversation.bank import reply_problems
from engine.conversation.reflective import GRIEF, PET_GRIEF, TOLD, TOLD_UNCERTAIN, reflective_options
from engine.conversation.restate import restate
from engine.conversation.tones import TONES, implied_tone
from engine.safety import assess, is_safe_reply

EVERYDAY = {"일상": 0.8, "기쁨": 0.1, "불안": 0.03, "슬픔": 0.03, "분노": 0.02, "우울": 0.02}
UNSURE = {"일상": 0.45, "기쁨": 0.35, "불안": 0.05, "슬픔": 0.05, "분노": 0.05, "우울": 0.05}


def tone_of(text: str) -> str | None:
    tone = implied_tone(text)
    return None if tone is None else tone.name


@pytest.mark.parametrize(
    ("text", "tone"),
    [
        ("마감함 ㅋ", "수고"),
        ("143콜 끝", "수고"),
        ("오늘 김장했어요. 허리 끊어지는 줄 ㅋㅋ 그래도 100포기 끝냈어요", "수고"),  # done, not worn
        ("12시간 타고 9만원", "고단함"),
        ("점심 10분 먹고 들어옴 김밥 씹지도 않고 삼킴", "고단함"),
        ("또 리젝ㅋ", "반복"),
        ("수정 요청 14번째. 결국 처음 시안으로 가자고 함.", "반복"),
        ("오늘 매출 0원", "일 없는 날"),
        ("콜 없음", "일 없는 날"),
        ("알바비 들어오자마자 월세 빠지니까 통장에 3만 원 남음ㅋ", "빠듯함"),
        ("오늘 영단어 200개 다 외움 ㅋㅋ 나 좀 칭찬해줘", "칭찬"),
        ("조기축구에서 제가 결승골 넣었어요 ㅋㅋㅋ", "해냄"),
        ("방학 D-1", "기다려지는 날"),
        ("학식 돈가스 개맛있음", "소소한 기쁨"),
        ("우리 집 앵무새가 '엄마 밥' 이라고 말함ㅋㅋㅋㅋ", "웃긴 일"),
        ("오늘 저녁 뭐 해먹지.. 냉장고에 계란이랑 애호박밖에 없음", "메뉴 고민"),
        ("점심 뭐 먹을지 추천 좀 해줘요. 김치찌개는 이번주만 세번 먹었음", "메뉴 고민"),
        ("급식에 마라탕 나옴 ㅋㅋ 우리학교 미쳤나봐", "한 끼"),
        ("떡볶이 먹는 중ㅋㅋ", "한 끼"),
        ("점심 먹고 옴", "한 끼"),
        ("편의점 알바 사장님이 나 면접 간다고 셔츠 다려주심ㅠㅠ 넘 감동이야", "받은 마음"),
        ("엄마가 택배로 김치랑 밑반찬 보내주셨어", "받은 마음"),
        ("간호사 선생님이 보호자분도 식사 챙기시라고 귤 두 개를 주고 가셨어요.", "받은 마음"),
        ("코인으로 천만원 날렸어요. 와이프는 아직 몰라요", "잃은 돈"),
        ("주식으로 퇴직금 일부 잃었습니다. 아내한테 아직 말 못했어요", "잃은 돈"),
        ("아버지가 치매 진단 받으셨어요.", "진단"),
        ("오늘 야근 안 하고 6시 정각에 퇴근함 이게 얼마만이냐", "오랜만의 여유"),
        ("수능 끝났다ㅏㅏㅏㅏ 해방이다", "오랜만의 여유"),
        ("첫 손자 봤습니다 허허", "웃으며 전한 소식"),
        ("오늘 단체 예약 들어왔다 ㅎ", "웃으며 전한 소식"),
    ],
)
def test_the_tone_an_everyday_message_implies(text: str, tone: str) -> None:
    assert tone_of(text) == tone


@pytest.mark.parametrize(
    "text",
    [
        "팀 단톡에서 나만 빼고 회식 날짜 잡았더라ㅋㅋㅋ 괜찮아 괜찮은척 하는중",  # laughing it off
        "연봉협상 결과 나왔는데 2% 인상이래 ㅋㅋㅋ 물가가 몇 프론데 장난하나",
        "요즘 편의점 컵라면 뭐가 젤 맛있음?",  # a question, not a joy told
        "모고 망했어요ㅋㅋㅋㅋ 수학4등급",
    ],
)
def test_no_light_tone_where_trouble_is_told_or_a_question_asked(text: str) -> None:
    tone = implied_tone(text)
    assert tone is None or not tone.light, tone


def test_words_that_turn_a_tone_around() -> None:
    assert tone_of("명절인데 저는 원룸에서 혼자 라면 먹고 있습니다") is None  # a lonely meal
    assert tone_of("아침도 못 먹고 나옴") is None
    assert tone_of("오늘 야근 안 하고 6시 정각에 퇴근함") == "오랜만의 여유"  # not "고단함"
    assert tone_of("엄마가 완치 판정 받으셨어요") != "진단"
    assert tone_of("남친이 공무원 되면 칼퇴하는 줄 알았대요ㅋㅋ 저 이번주 야근 4번째인데") != "오랜만의 여유"
    assert tone_of("그냥 들어와 봤어요 ㅎㅎ") is None  # a hello, not news
    assert tone_of("이직 확정됐어요 이제 야근지옥 탈출이에요") != "고단함"
    assert tone_of("계주 1등 할 줄 알았는데 졌어") is None


def test_a_tone_answers_only_where_no_feeling_would_be_assumed() -> None:
    done = "마감함 ㅋ"
    tone = implied_tone(done)
    assert tone is not None
    assert reflective_options("일상", False, done, EVERYDAY) == tone.alone
    assert reflective_options(None, True, done, UNSURE) == tone.alone
    # A confident hard reading keeps its own replies; a plain message keeps the plain ones.
    assert reflective_options("우울", False, done, None) != tone.alone
    plain = "오늘 회사에서 생각지도 못한 일이 있었어요"
    assert reflective_options("일상", False, plain, EVERYDAY) == TOLD["일상"]
    assert reflective_options(None, True, plain, UNSURE) == TOLD_UNCERTAIN


def test_after_the_event_said_back_the_tone_is_the_second_sentence() -> None:
    text = "편집자님이 또 수정 요청함 ㅋㅋ 이번 화만 벌써 4번째 ㅋㅋ 웃음밖에 안나옴"
    tone = implied_tone(text)
    assert tone is not None and tone.name == "반복"
    said = restate(text)
    assert said is not None
    assert reflective_options("일상", False, text, EVERYDAY, restate) == tuple(
        f"{said}. {after}" for after in tone.after
    )


def test_a_death_told_without_a_feeling_word_is_answered_as_a_loss() -> None:
    person = "같이 일하던 형님이 지난주에 사고로 돌아가셨어요. 단톡방 프사를 볼 때마다 이상하네요"
    assert reflective_options("슬픔", False, person, None, restate) == GRIEF
    assert reflective_options("일상", True, "우리 초코🐶🌈", UNSURE, restate) == PET_GRIEF
    assert reflective_options("슬픔", True, "올해는 엄마 생신에 납골당에 꽃 들고 가요", UNSURE) == GRIEF


def test_every_tone_sentence_keeps_the_banks_rules() -> None:
    sentences = [s for t in TONES for s in (*t.after, *t.alone)] + [*GRIEF, *PET_GRIEF]
    assert len({t.name for t in TONES}) == len(TONES)
    for sentence in sentences:
        assert reply_problems(sentence) == [], sentence
        assert is_safe_reply(sentence) and not assess(sentence).is_crisis, sentence
