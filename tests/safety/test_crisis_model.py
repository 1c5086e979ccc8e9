"""The learned crisis classifier beside the rules: it catches what the rules miss, stays quiet on
idioms and everyday sadness, never replaces the rules, and can be retrained by `maeum train crisis`."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from engine.safety import CrisisScreen, assess
from engine.safety.evaluate import evaluate, load_cases
from engine.safety.learned import CrisisModel
from tests.conftest import REPO

MODEL = REPO / "models" / "maeum-crisis"
SAFETY = REPO / "data" / "safety"
NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)

# Issue 11's examples of phrasings the rules missed: weariness plus stopping, a place plus an
# ending, a farewell, dialect, a photo caption.
MISSED_BY_RULES = [
    "살아있는 게 지겹고 이제 그만하고 싶어",
    "한강 가서 다 끝낼래",
    "이 메시지가 마지막이 될 거야",
    "주글래",
    "수면제 다 모았어 오늘 먹을 거야",
]
IDIOMS = ["배고파 죽겠다", "자살골 넣었어 ㅋㅋ", "이 노래 죽인다", "더워 죽겠네 진짜", "웃겨 죽는 줄"]
EVERYDAY_SAD = [
    "오늘 너무 우울해",
    "요즘 너무 지쳐서 아무것도 하기 싫어",
    "시험 망했어 ㅠㅠ",
    "다이어트 그만하고 싶어",
]


@pytest.fixture(scope="module")
def model() -> CrisisModel:
    return CrisisModel.load(MODEL)


def test_it_catches_what_the_rules_miss(model: CrisisModel) -> None:
    screen = CrisisScreen(model, model.threshold)
    for text in MISSED_BY_RULES:
        assert not assess(text).is_crisis  # the rules alone miss these...
        verdict = screen.check(f"u-{text}", text, now=NOW)
        assert verdict.is_crisis and verdict.by == "model", text  # ...the model does not


def test_it_stays_quiet_on_idioms_and_everyday_sadness(model: CrisisModel) -> None:
    screen = CrisisScreen(model, model.threshold)
    for text in IDIOMS + EVERYDAY_SAD:
        assert not screen.check(f"u-{text}", text, now=NOW).is_crisis, text


def test_held_out_recall_up_and_false_alarms_not_up(model: CrisisModel) -> None:
    """The held-out file was never tuned on (the threshold comes from crisis_dev.jsonl)."""
    cases = load_cases(SAFETY / "crisis_holdout.jsonl")
    rules, both = evaluate(cases), evaluate(cases, model)
    assert both["recall"] >= rules["recall"] + 0.05
    assert both["false_alarm_rate"] <= rules["false_alarm_rate"]


def test_everyday_messages_rarely_get_the_card(model: CrisisModel) -> None:
    """On the 20% of everyday messages held back from its training: at most 0.5% fire."""
    from training.crisis import everyday_messages

    everyday = everyday_messages()
    random.Random(json.loads((MODEL / "config.json").read_text())["metrics"]["settings"]["seed"]).shuffle(
        everyday
    )
    held_back = everyday[int(len(everyday) * 0.8) :]
    fired = sum(model.probability(c.text) >= model.threshold for c in held_back)
    assert fired / len(held_back) <= 0.005


def test_the_rules_still_decide_without_a_model_or_with_a_broken_one(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text('{"dim": 8, "max_n": 3, "bias": 0, "threshold": 0.5}')
    (tmp_path / "weights.npy").write_bytes(b"not numpy")
    assert CrisisModel.load_or_none(tmp_path) is None
    assert CrisisModel.load_or_none(tmp_path / "missing") is None

    def broken(text: str) -> float:
        raise RuntimeError("model exploded")

    screen = CrisisScreen(broken, 0.5)
    assert screen.check("a", "죽고 싶어", now=NOW).is_crisis  # rules first, always
    assert not screen.check("b", "오늘 점심 뭐 먹지", now=NOW).is_crisis


def test_train_crisis_writes_a_model_with_a_threshold_chosen_on_dev(tmp_path: Path) -> None:
    from training.crisis import train_crisis

    data = tmp_path / "data"
    (data / "safety").mkdir(parents=True)
    (data / "emotion").mkdir()
    (data / "replies").mkdir()
    crisis = ["죽고 싶어", "다 끝내고 싶다", "사라지고 싶어", "살기 싫어", "약 다 모았어", "옥상에 왔어"]
    safe = ["배고파 죽겠다", "점심 먹었어", "게임에서 죽었어", "시험 끝났다", "오늘 날씨 좋다", "퇴근했어"]
    rows = [{"text": t, "crisis": True} for t in crisis] + [{"text": t, "crisis": False} for t in safe]
    for name in ("crisis_train", "crisis_eval", "crisis_dev", "crisis_holdout"):
        lines = "\n".join(json.dumps(r, ensure_ascii=False) for r in rows)
        (data / "safety" / f"{name}.jsonl").write_text(lines, encoding="utf-8")
    everyday = [{"text": f"오늘 {i}번째 평범한 하루", "label": "일상"} for i in range(40)]
    (data / "emotion" / "daily.jsonl").write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in everyday), encoding="utf-8"
    )
    metrics = train_crisis(tmp_path / "out", data=data, dim=1 << 12)
    trained = CrisisModel.load(tmp_path / "out")
    assert trained.threshold == metrics["threshold"] and 0.3 <= trained.threshold < 1.0
    assert set(metrics["sets"]) == {"dev", "everyday_held_back", "short_probes", "holdout"}
    assert trained.probability("죽고 싶어") > trained.probability("점심 먹었어")
