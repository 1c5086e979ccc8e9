"""Crisis detector: required phrases both ways, the eval set, robustness."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.safety import CATEGORIES, CrisisAssessment, assess
from engine.safety.evaluate import evaluate, load_cases, main
from tests.conftest import REPO

DATA = REPO / "data" / "safety"

MUST_CATCH = [
    # direct
    "죽고 싶어",
    "자살",
    "자살하고 싶다",
    "죽어버리고 싶어",
    "살기 싫어",
    "살고 싶지 않아",
    "삶을 끝내고 싶다",
    # indirect
    "사라지고 싶어",
    "내가 없어지면 다들 편하겠지",
    # the subject left out, as people write it (a round-five blind test message was missed)
    "가끔은 그냥 이대로 조용히 없어져도 괜찮겠다는 생각이 들어요",
    "흔적도 없이 사라졌으면 좋겠어요",
    "요즘 잠들기 전에 내일이 안 왔으면 좋겠다는 생각을 자주 해요",
    "유서",
    "유서를 썼어",
    "다 정리하고 떠나려고",
    "다들 안녕 그동안 고마웠어",
    "그동안 고마웠어",
    "더 이상 버틸 수가 없어",
    "잠들어서 안 깨어났으면",
    # means
    "약을 모아뒀어",
    "수면제 모으고 있어",
    "번개탄",
    "옥상에 올라왔어",
    "뛰어내리고 싶어",
    "한강 가고 싶다",
    "목을 매",
    # self-harm
    "자해",
    "손목 긋고",
    "칼로 그었어",
    "몸에 상처 내",
    # misspellings and spacing tricks
    "죽고싶다",
    "죽 고 싶 어",
    "주꼬 싶어",
    "죽구싶다",
    "뒤지고 싶다",
    "디지고싶어",
    "죽\u200b고\u200b싶\u200b어",  # zero-width spaces
    "죽.고.싶.어",
    # 초성
    "ㅈㅅ",
    "ㅈㄱㅅㅇ",
    "ㅈㅅㅎㄱㅅㅇ",
    # emoji
    "💊😭",
    "💊💊💊",
    "🔪🩸",
    "🪦",
    # English
    "I want to die",
    "kill myself",
    "suicide",
    "end my life",
    "self harm",
    "cutting myself",
]

MUST_NOT_CATCH = [
    "배고파 죽겠다",
    "웃겨 죽겠네",
    "죽을 만큼 맛있어",
    "게임에서 죽었어",
    "자살골",
    "이 노래 죽인다",
    "사라진 줄 알았던 지갑",
    "통증이 이대로 사라졌으면 좋겠다",
    "이 뾰루지 조용히 없어졌으면 좋겠다",
    "회사가 그냥 이대로 없어졌으면 좋겠다 ㅋㅋ",
    "내일 시험인데 내일이 안 왔으면 좋겠다 ㅋㅋ",
    "내일이 빨리 왔으면 좋겠다",
    "피곤해 죽겠어",
    "귀여워 죽겠다",
    "더워 죽겠네",
    "죽이는 날씨",
    "핸드폰 배터리가 죽었어",
    "캐릭터가 죽었어",
    "옥상 정원 예쁘다",
    "약 먹을 시간이야",
    "감기약 먹었어",
    "한강에서 치맥",
    "손목시계 샀어",
    "손목이 아파",
    "ㅈㅅ합니다",
    "killing it",
    "dying of laughter",
    "this song kills",
    # more everyday Korean
    "농담이야",
    "장난이야",
    "선물 주고 싶어",
    "피자살까 치킨살까",
    "혼자해도 돼?",
    "유서 깊은 절에 다녀왔어",
    "승진에 목매지 마",
    "정치에 투신했다는 뉴스 봤어",
    "번지점프 뛰어내리고 싶어",
    "캠핑 가서 번개탄으로 숯 불 붙였어",
    "커터칼로 박스 테이프 그었어",
    "이 꿈에서 깨어나지 않았으면 좋겠어",
    "늦어서 ㅈㅅ",
    "죽 먹고 싶어 속 안 좋아",
    "내 통장 🪦 ㅋㅋ",
    "요리 중 🔪🥕",
    "I cut myself shaving this morning",
]


@pytest.mark.parametrize("text", MUST_CATCH)
def test_must_catch(text: str) -> None:
    result = assess(text)
    assert result.is_crisis, text
    assert result.category in CATEGORIES


@pytest.mark.parametrize("text", MUST_NOT_CATCH)
def test_must_not_catch(text: str) -> None:
    assert assess(text) == CrisisAssessment(False, None), text


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("ㅈㄱㅅㅇ", "chosung"),
        ("I want to die", "english"),
        ("🔪🩸", "emoji"),
        ("손목 긋고", "self_harm"),
        ("번개탄", "means"),
        ("죽고 싶어", "direct"),
        ("유서", "indirect"),
        ("다들 안녕 그동안 고마웠어", "goodbye"),
    ],
)
def test_category(text: str, category: str) -> None:
    assert assess(text).category == category


def test_result_carries_no_text() -> None:
    # The assessment must never hold the message (it may end up in logs).
    fields = {f.name for f in dataclasses.fields(CrisisAssessment)}
    assert fields == {"is_crisis", "category"}
    secret = "비밀번호1234 죽고 싶어"
    assert secret not in repr(assess(secret))


def test_eval_set_meets_targets() -> None:
    cases = load_cases(DATA / "crisis_eval.jsonl")
    report = evaluate(cases)
    assert report["n_crisis"] >= 150
    assert report["n_safe"] >= 150
    assert report["missed"] == [], report["missed"]
    assert report["recall"] == 1.0
    assert report["false_alarm_rate"] <= 0.02, report["false_alarms"]


def test_eval_set_covers_every_category() -> None:
    kinds = {str(c["kind"]) for c in load_cases(DATA / "crisis_eval.jsonl") if c["crisis"]}
    assert set(CATEGORIES) <= kinds


def test_holdout_is_well_formed() -> None:
    # Numbers on the held-out set are reported, not asserted: asserting them
    # would turn it into a second tuning set.
    cases = load_cases(DATA / "crisis_holdout.jsonl")
    assert sum(1 for c in cases if c["crisis"]) >= 40
    assert sum(1 for c in cases if not c["crisis"]) >= 40
    eval_texts = {c["text"] for c in load_cases(DATA / "crisis_eval.jsonl")}
    assert not eval_texts & {c["text"] for c in cases}


def test_evaluate_counts() -> None:
    report = evaluate(
        [
            {"text": "죽고 싶어", "crisis": True, "kind": "direct"},
            {"text": "배고파 죽겠다", "crisis": False, "kind": "idiom"},
            {"text": "자살골", "crisis": True, "kind": "wrong-label"},
        ]
    )
    assert report["n_crisis"] == 2
    assert report["n_safe"] == 1
    assert report["recall"] == 0.5
    assert report["false_alarm_rate"] == 0.0
    assert [m["text"] for m in report["missed"]] == ["자살골"]


def test_cli_prints_numbers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "cases.jsonl"
    rows = [{"text": "죽고 싶어", "crisis": True, "kind": "direct"}, {"text": "웃겨 죽겠네", "crisis": False}]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    assert main(["--file", str(path)]) == 0
    out = capsys.readouterr().out
    assert "100.0%" in out
    assert "0.0%" in out


def test_normal_message_is_fast() -> None:
    texts = [str(c["text"]) for c in load_cases(DATA / "crisis_eval.jsonl")]
    start = time.perf_counter()
    for text in texts:
        assess(text)
    mean = (time.perf_counter() - start) / len(texts)
    assert mean < 0.001


@pytest.mark.parametrize(
    "text",
    [
        "가" * 20_000,
        "죽" * 20_000,
        "ㅈ" * 20_000,
        "💊" * 20_000,
        "\u202e" * 20_000,
        "".join(chr(i % 32) for i in range(20_000)),
        "옥상 " * 4_000,
        "a " * 10_000,
        "죽 으 " * 5_000,
        "가" * 19_990 + " 죽고 싶어",
    ],
    ids=["hangul", "jug", "jamo", "pill", "rtl", "control", "roof", "latin", "spaced", "crisis-at-end"],
)
def test_twenty_thousand_characters(text: str) -> None:
    start = time.perf_counter()
    result = assess(text)
    assert time.perf_counter() - start < 1.0
    assert isinstance(result, CrisisAssessment)


def test_crisis_at_end_of_long_message_is_found() -> None:
    assert assess("오늘 있었던 일 " * 2_000 + "그리고 죽고 싶어").is_crisis


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=2_000))
def test_never_raises_and_is_bounded(text: str) -> None:
    start = time.perf_counter()
    result = assess(text)
    assert time.perf_counter() - start < 0.5
    assert result.category is None or result.category in CATEGORIES
    assert result.is_crisis == (result.category is not None)


_TRICKY = st.sampled_from(
    [
        *"죽고싶어살기싫자해약옥상한강ㅈㅅㄱㅇ \u3000.\u200b\u202e💊🔪🩸😭🪦",
        "자살",
        "죽고",
        "ㅋㅋ",
        "kill",
        "die",
    ]
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_TRICKY, max_size=3_000).map("".join))
def test_never_raises_on_crisis_vocabulary(text: str) -> None:
    start = time.perf_counter()
    assess(text)
    assert time.perf_counter() - start < 0.5
