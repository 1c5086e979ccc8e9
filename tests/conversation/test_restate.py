"""Saying back what happened (engine/conversation/restate.py), with the real Kiwi analyser."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.conversation import reflective, restate
from engine.conversation.bank import reply_problems
from engine.safety import assess, is_safe_reply
from engine.types import ReplySource
from tests.fakes.engine import first_reply

pytestmark = pytest.mark.skipif(not restate.available(), reason="kiwipiepy (Kiwi) is not installed")


@pytest.mark.parametrize(
    ("message", "said"),
    [
        # The person did it: the subject honorific, the first-person subject dropped.
        ("노쇼 또 당했어요 케이크 3개", "노쇼 또 당하셨군요"),
        ("나 체육대회 계주 1등함ㅋㅋ", "체육대회 계주 1등하셨군요"),
        (
            "퇴직하고 처음으로 주민센터 서예 교실 등록 했습니다",
            "퇴직하고 처음으로 주민센터 서예 교실 등록하셨군요",
        ),
        # Someone or something else did: no honorific for a child or a bank account, one for a mother.
        ("은행 계좌가 갑자기 정지됐어요 이유도 안 알려주고..", "은행 계좌가 갑자기 정지됐군요"),
        ("남편이 회식하고 새벽 1시에 들어왔어요", "남편이 회식하고 새벽 1시에 들어왔군요"),
        ("어머니가 오늘 옛날 노래 한소절 따라 부르셨어요", "어머니가 오늘 옛날 노래 한소절 따라 부르셨군요"),
        ("드디어 3교대 끝나고 외래로 발령났어요!!", "드디어 3교대 끝나고 외래로 발령 났군요"),
        ("가게 문 닫고 빚만 남았어요", "가게 문 닫고 빚만 남았군요"),
        # Going on now, a state, an event named by a noun.
        ("요즘 운동 다녀요", "요즘 운동 다니시는군요"),
        ("요즘 다이어트 하고 있어요", "요즘 다이어트 하고 계시는군요"),
        ("폐업 생각 중이에요", "폐업 생각 중이시군요"),
        ("오늘 딸 결혼식이었어요. 사위도 듬직하고요", "오늘 딸 결혼식이었군요"),
        # A leading "아" is dropped; the subject of an embedded clause is not the main one's.
        ("아 오늘 버스 놓쳐서 지각함 근데 팀장님도 지각해서 살았다", "오늘 버스 놓쳐서 지각하셨군요"),
        (
            "제가 작업한 과자 패키지가 마트 진열대에 놓인 걸 봤어요",
            "작업한 과자 패키지가 마트 진열대에 놓인 걸 보셨군요",
        ),
        # An inner clause with its own ending is left out: "사 갔는데" said back would mix speech levels.
        ("엄마 생신이라 케이크 사 갔는데 엄마가 엄청 좋아함", "엄마가 엄청 좋아하셨군요"),
        # When the rest cannot be said back, the event before "-었는데" is.
        ("큰 계약을 따냈는데 마감이 2주라 벌써 무섭네요.", "큰 계약을 따내셨군요"),
        ("건강검진 결과 문자 왔는데 재검 하래요", "건강검진 결과 문자 왔군요"),
        ("머리 탈색 했는데 생각보다 색 너무 잘나옴", "머리 탈색하셨군요"),
        (
            "오늘 버스에서 할머니한테 자리양보했는데 사탕주심ㅋㅋ귀여우셔",
            "오늘 버스에서 할머니한테 자리양보하셨군요",
        ),
        # One noun and its own verb; only a person "다녀오"s; a chat "-ㅁ" before a full stop.
        ("된장 담갔다ㅎ", "된장 담그셨군요"),
        ("새벽 시장 다녀옴", "새벽 시장 다녀오셨군요"),
        ("오늘 드디어 이사함.", "오늘 드디어 이사하셨군요"),
        # A thing's passive keeps no honorific; a humble word for one's own wife is raised.
        ("월급 들어오자마자 카드값으로 순삭됨ㅋㅋㅋ", "월급 들어오자마자 카드값으로 순삭됐군요"),
        ("작년 가을에 집사람을 먼저 보냈습니다.", "작년 가을에 아내분을 먼저 보내셨군요"),
        # Everyone else's act is not said back; the event before it is.
        ("오랜만에 지하철 탔는데 다들 폰만 보고 있네.", "오랜만에 지하철 타셨군요"),
        # Quote marks go without a space; a rotten crop or a figure gets no honorific.
        ("아빠가 노래 '목포의 눈물'을 끝까지 부르셨어.", "아빠가 노래 목포의 눈물을 끝까지 부르셨군요"),
        ("장마 길어져서 감자 다 썩었어..", "장마 길어져서 감자 다 썩었군요"),
        ("이번달 애드센스 수익 38만원 찍혔다. 월세가 55인데", "이번달 애드센스 수익 38만원 찍혔군요"),
        ("은행 계좌가 갑자기 정지됐어요 이유도 안 알려주고..", "은행 계좌가 갑자기 정지됐군요"),
        # A person named bare before a reason or a place: still the person's act; a noun-verb whole.
        ("엄마 생신이라 미역국 끓였어요", "엄마 생신이라 미역국 끓이셨군요"),
        ("친구 결혼식 다녀왔어요", "친구 결혼식 다녀오셨군요"),
        ("남편 퇴원했어요!!", "남편 퇴원하셨군요"),
        ("시험 끝났다!!! 이제 잠만 잘 거야", "시험 끝났군요"),
        # A price or a score moved to a level: no honorific ("단가 …떨어지셨군요" read as broken).
        ("배차 바뀌고 나서 단가 2500원으로 떨어짐", "배차 바뀌고 나서 단가 2500원으로 떨어졌군요"),
        ("아침에 커피 쏟아서 흰 셔츠 망함..", "아침에 커피 쏟아서 흰 셔츠 망했군요"),
        ("월급날인데 통장 스쳐 지나감 ㅋㅋ", "월급날인데 통장 스쳐 지나갔군요"),
        ("교양 과제 A+ 받았어요!!", "교양 과제 A+ 받으셨군요"),  # not "A"
        ("전 오늘 병원 다녀왔어요", "오늘 병원 다녀오셨군요"),
        # A thing left over takes no "-시-"; the time since the person's act does; "펴", not "피".
        ("편의점에 제육도시락 마지막 하나 남아있었음ㅋㅋ", "편의점에 제육도시락 마지막 하나 남아있었군요"),
        ("입맛이 없어 하루 한 끼만 먹은 지 꽤 되었습니다.", "입맛이 없어 하루 한 끼만 먹은 지 꽤 되셨군요"),
        ("중간고사 D-3인데 아직 책 한번도 안폈어...망햇다", "중간고사 D-3인데 아직 책 한번도 안펴셨군요"),
        # A chat "-ㅁ" run into the next sentence still ends the first one.
        ("시어머니가 또 연락없이 오심 비번은 언제 알아내셨는지", "시어머니가 또 연락없이 오셨군요"),
        # What comes before words quoted as said is still the person's act.
        ("정중하게 메모를 붙였는데 '예민하시네요'라는 쪽지가 왔어요", "정중하게 메모를 붙이셨군요"),
        # The person's own "내/제/제가" go where the rest still says what happened.
        ("수간호사님이 또 내 오프를 바꿔놨어.", "수간호사님이 또 오프를 바꿔놓으셨군요"),
        ("오늘 제가 처음으로 김치를 담갔어요", "오늘 처음으로 김치를 담그셨군요"),
        (
            "조별 과제에서 한국 친구들이 저한테는 자료 조사만 시켜요.",
            "조별 과제에서 한국 친구들이 자료 조사만 시키는군요",
        ),
        # A reason someone gave before an act that is not speech ("고생한다고 … 주셨어요").
        (
            "어떤 입주민이 밤에 고생한다고 따뜻한 호빵을 갖다주셨어요.",
            "어떤 입주민이 밤에 고생한다고 따뜻한 호빵을 갖다주셨군요",
        ),
        (
            "오빠 결혼식 축사를 내가 하게 됐는데 ㅋㅋ",
            "오빠 결혼식 축사를 하게 되셨군요",
        ),  # came to do: "-시-"
        # News and orders heard are taken in as heard, with "-다니" ("-시-" only where it was raised).
        ("배달앱 수수료 또 올랐대. 이러면 남는 게 없어.", "배달앱 수수료 또 올랐다니"),
        ("건물주가 재계약하면서 월세를 30% 올리겠대요.", "건물주가 재계약하면서 월세를 30% 올리겠다니"),
        ("가게 맞은편에 프랜차이즈 국밥집 생긴대", "가게 맞은편에 프랜차이즈 국밥집 생긴다니"),
        ("본가에서 키우던 강아지가 많이 아프대.", "본가에서 키우던 강아지가 많이 아프다니"),
        ("저 키워주신 할머니가 편찮으시대요.", "키워주신 할머니가 편찮으시다니"),
        ("건강검진 결과 재검 하래요", "건강검진 결과 재검 하라니"),
        # The person's act before "-는데" goes without "-시-" beside a thing's: only the rest is said.
        ("요양원 알아보고 있는데 한달 200 가까이 든대요.", "한달 200 가까이 든다니"),
        ("요즘 뜨개질 배우는데 목도리가 자꾸 사다리꼴이 돼요ㅋㅋ", "목도리가 자꾸 사다리꼴이 되는군요"),
        ("안녕 ㅋㅋ 심심해서 들어와봄", "심심해서 들어와보셨군요"),
        # What happens these days, in a chat "-ㅁ": now, not past.
        ("요즘 시험만 치면 배 아파서 화장실 감..", "요즘 시험만 치면 배 아파서 화장실 가시는군요"),
    ],
)
def test_an_event_is_said_back_in_the_persons_words(message: str, said: str) -> None:
    assert restate.restate(message) == said


@pytest.mark.parametrize(
    "message",
    [
        "병원에 가봐야 할까요?",  # a question
        "합격한 줄 알았는데 떨어졌어요",  # a belief before "-는데", not an event
        "이러다 시험 망하겠다",  # a guess
        "집에 가고 싶어요",  # a wish
        "출근길에 누가 제 신발을 밟고 갔어요",  # other people's pronouns: whose shoes, said back?
        "학식 돈까스 개맛있었음",  # an adjective: whose taste?
        "잤어",  # nothing of what happened to say back
        "남편이랑 냉랭했는데 알고 보니 둘 다 몰래 준비하느라 예민했던 거였어요",  # an explanation
        "ㅋㅋㅋㅋ",
        # Who acted cannot be told, or an honorific would land on a thing.
        "밤에 어머니가 현관문 열고 나가셔서 동네를 한 시간 찾아 헤맸습니다",
        "간부가 주말에 작업 시켜서 종교행사도 못감",
        "네일 받았는데 3일 만에 다 떨어짐",
        "형은 부모님 모시는 거 하나도 안 도와주면서 유산 얘기만 해요",
        "MT 가서 밤새 마피아 게임함ㅋㅋㅋ 목 다 쉼",
        "사람 만나는 게 다 피곤해요 연락 오면 일부러 안 받아요",
        "",
        # Someone else's act, given "-시-", would be the person's (or a death).
        "아들 전화 안받네 벌써 세번째",
        "필리핀 친구 오늘 고향 돌아갔어요.",
        "15살 노견인데 오늘 산책하다가 꼬리를 막 흔들면서 뛰었어요",
        # Requests to maeum; sentence ends Kiwi ran on ("들어옴 김밥…").
        "랩미팅 30분 전인데 잠깐 수다 좀 떨어줘",
        "러닝화 추천 좀요 평발이고 주 3회 5키로 정도 뜀",
        "점심 10분 먹고 들어옴 김밥 씹지도 않고 삼킴",
        "비온다 쉼",
        "동생이 내 충전기 또 가져감 진짜 짜증나",  # "내 충전기" said back is maeum's charger
        # Words quoted as said would be said back as the person's act ("그림체 퇴화하셨군요").
        "댓글에 '그림체 퇴화했네' 이거 하나 보고 하루종일 아무것도 못했어요",
        "요즘 젊은 사람들 말 중에 '킹받는다'가 무슨 뜻이오",
        "아침부터 비 와서 기분이 꿀꿀해",  # a mood, not an event ("꿀꿀하는군요")
        "전남편이 또 양육비 날짜 어겼어요",  # not "남편이… 어겼군요": "전" is part of the word
        # "-시-" on a thing or a state: "밴드 … 나오셨군요", "해지셨군요", "안 나가지시는군요".
        "드디어 웨스턴 밴드 깔끔하게 나왔다 ㅋㅋㅋㅋ 6번 만에!!",
        "방금 일어났는데 밖에 벌써 해졌네ㅋㅋ",
        "요즘 쉬는 날에도 침대에서 안 나가져. 씻지도 않고",
        "시장 할머니가 저 이름 기억했어요!",  # "저 이름" said back would be maeum's name
        # The person's own words that cannot go: without them, what happened changes.
        "처가에 가면 명절마다 저만 설거지 시켜요",  # without "저만", the person gives the order
        "아기가 저 보고 웃었어요!!",
        "애기 자는거 보다가 저도 모르게 사진 200장 찍음",
        "신규 때 맨날 혼나던 제가 이번에 프리셉터가 됐어요",
        "가족들은 제가 집에서 노는 줄 알아요.",
        "상병인데 선임이 자꾸 내 카드로 PX에서 사먹음.",  # "카드로": whose, without "내"?
        "나 혼자 산다고 무시해요",  # a reason, but who looks down on whom?
        "이장님이 마을회의 때 또 나만 빼고 얘기함.",  # "나만" carries what happened
        "손녀가 할머니 사랑해 하고 전화했어요",  # words said, run on without quote marks
        # Who acted cannot be told: a person heads a relative clause; "-더니", someone else seen.
        "센터장이 일정 바꾼걸 당일 아침에 카톡으로 통보함 ㅡㅡ",
        "대리 불러놓고 30분 기다리게 하더니 취소함 ㅡㅡ",
        # Only the background ("내일 수학 수행평가군요", "다음 주 설이군요"): read as missing the news.
        "박사 4년차인데 결과가 하나도 없어요.",
        "명절인데 아이는 제 엄마한테 가 있고",
        "내일 수학 수행평가인데 하나도 몰겠어요ㅠㅠ",
        "다음 주 설인데 친척들이 왜 아직 결혼 안 하냐고 물어볼 게 벌써 스트레스예요.",
    ],
)
def test_nothing_is_said_back_where_it_would_not_be_safe(message: str) -> None:
    assert restate.restate(message) is None


def test_the_first_sentence_is_the_news_not_what_follows() -> None:
    # The second sentence is the neighbour's act; said back it would be the person's. The first is
    # news heard, taken in as heard.
    assert (
        restate.restate("강아지가 하루종일 짖는대요. 옆집에서 문에 쪽지 붙였어요")
        == "강아지가 하루종일 짖는다니"
    )


def test_replies_after_a_restatement_keep_the_banks_rules_and_pass_the_safety_checks() -> None:
    said = restate.restate("노쇼 또 당했어요 케이크 3개")
    assert said is not None
    groups = [*reflective.RESTATED.values(), reflective.RESTATED_UNCERTAIN, tuple(reflective._PAIRS.values())]
    groups.append((reflective.LONELY, *reflective.CONGRATULATED))
    for group in groups:
        for second in group:
            reply = f"{said}. {second}"
            assert not reply_problems(reply), reply
            assert is_safe_reply(reply) and not assess(reply).is_crisis, reply
            assert "군요" not in second  # one "-군요" a reply


def test_a_joyful_restatement_is_exclaimed_and_asks_nothing_already_said() -> None:
    text = "오늘 빵 완판했어요!! 기분 최고"
    options = reflective.reflective_options("기쁨", False, text, None, restate.restate)
    assert options and all(o.startswith("오늘 빵 완판하셨군요! ") for o in options)
    uncertain = reflective.reflective_options("일상", True, text, None, lambda _: "오늘 빵 완판하셨군요")
    # The message says how it felt: no "그때 마음이 어떠셨어요?".
    assert uncertain and not any("마음이 어떠셨" in o for o in uncertain)


async def test_an_engine_that_is_not_sure_says_back_what_happened(
    tiny_emotion_model: Path, sqlite_url: str
) -> None:
    result = await first_reply(tiny_emotion_model, sqlite_url, "노쇼 또 당했어요 케이크 3개")
    assert result.source is ReplySource.REFLECTIVE
    assert result.reply.startswith("노쇼 또 당하셨군요")


async def test_without_kiwi_the_reflective_reply_stands_alone(
    tiny_emotion_model: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(restate, "_analyzer", lambda: None)
    result = await first_reply(tiny_emotion_model, sqlite_url, "노쇼 또 당했어요 케이크 3개")
    assert result.source is ReplySource.REFLECTIVE and not result.reply.startswith("노쇼")
    assert not reply_problems(result.reply)


def test_the_persons_words_are_held_to_the_banks_rules_too() -> None:
    """ "반죽", "죽 한 그릇": the bank never says "죽", so a restatement with it is not used."""
    text = "새벽 5시에 반죽하러 나왔어요"
    said = restate.restate(text)
    assert said is not None and "죽" in said
    options = reflective.reflective_options("일상", False, text, None, restate.restate)
    assert options and not any("죽" in o for o in options)
    assert all(not reply_problems(o) for o in options)


def test_a_counter_is_not_an_animal() -> None:
    assert restate.restate("콜 연속 14개 잡아서 하루 23만원 찍음") is not None  # 개: a counter


def test_a_question_without_a_question_mark_gets_the_honest_reply_not_its_first_sentence() -> None:
    from engine.conversation.reflective import QUESTION, reflective_options

    text = "생후 4개월인데 아직 뒤집기를 안해요 맘카페 보니까 다들 하던데 괜찮은건가요"
    assert reflective_options("불안", False, text, None, restate.restate) == QUESTION


def test_news_heard_runs_on_into_one_feeling_sentence_and_never_thanks_for_it() -> None:
    text = "배달앱 수수료 또 올랐대. 이러면 남는 게 없어."
    for emotion, uncertain in (("불안", False), ("일상", False), (None, True)):
        options = reflective.reflective_options(emotion, uncertain, text, None, restate.restate)
        assert options
        for reply in options:
            assert reply.startswith("배달앱 수수료 또 올랐다니, "), reply
            assert reply.count(",") == 1, reply  # "…올랐다니, 화가 많이 나셨을 텐데, …" is too much
            assert "고마워요" not in reply, reply
            assert not reply_problems(reply) and is_safe_reply(reply)
