"""The prepared int8 form (`maeum models prepare`): loaded instead of quantizing, ignored when stale."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import pytest
import torch

from bot.cli import main
from engine.inference import prepared
from engine.inference.classifier import TextClassifier
from engine.inference.generation import ReplyGenerator
from engine.inference.quantize import is_quantized
from engine.inference.requests import DecodingConfig, GenerationRequest


@pytest.fixture
def emotion_copy(tiny_emotion_model: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(tiny_emotion_model, tmp_path / "emotion"))


@pytest.fixture
def chat_copy(tiny_chat_model: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(tiny_chat_model, tmp_path / "chat"))


def _no_quantizing(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*_: object) -> None:
        raise AssertionError("quantized at start-up although a prepared form is present")

    monkeypatch.setattr("engine.inference.classifier.apply_precision", fail)
    monkeypatch.setattr("engine.inference.generation.apply_precision", fail)


def test_prepared_classifier_gives_the_same_outputs_without_quantizing(
    emotion_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cpu = torch.device("cpu")
    texts = ["오늘 너무 불안해요", "기분이 좋아요", "그냥 그래요"]
    quantized = TextClassifier.load(emotion_copy, cpu, precision="int8").probabilities(texts)
    prepared.prepare(emotion_copy, "classifier")
    assert (emotion_copy / prepared.PREPARED_FILE).is_file()
    _no_quantizing(monkeypatch)
    loaded = TextClassifier.load(emotion_copy, cpu, precision="int8")
    assert is_quantized(loaded.model) and loaded.precision == "int8"
    assert torch.equal(loaded.probabilities(texts), quantized)


def test_prepared_generator_gives_the_same_logits_and_reply(
    chat_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cpu = torch.device("cpu")
    greedy = DecodingConfig(max_new_tokens=6, min_new_tokens=6, do_sample=False)
    quantized = ReplyGenerator.load(chat_copy, cpu, greedy, precision="int8")
    prepared.prepare(chat_copy, "causal-lm")
    _no_quantizing(monkeypatch)
    loaded = ReplyGenerator.load(chat_copy, cpu, greedy, precision="int8")
    assert loaded.decoder is not None and quantized.decoder is not None  # still the lean int8 loop
    ids = torch.tensor([[3, 9, 27, 5, 11]])
    assert torch.equal(loaded.decoder.logits(ids), quantized.decoder.logits(ids))
    request = [GenerationRequest("요즘 잠을 못 자요")]
    assert loaded.generate(request) == quantized.generate(request)


def test_a_stale_prepared_form_is_ignored_with_a_log_line(
    emotion_copy: Path, caplog: pytest.LogCaptureFixture
) -> None:
    prepared.prepare(emotion_copy, "classifier")
    weights = prepared.weight_files(emotion_copy)[0]
    stat = weights.stat()
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))  # retrained, say
    assert prepared.stale_reason(emotion_copy, "classifier") == "the weights changed since it was prepared"
    with caplog.at_level(logging.WARNING, logger="engine.inference.prepared"):
        assert prepared.load_prepared(emotion_copy, "classifier") is None
    assert "ignoring the prepared int8 form" in caplog.text
    # Loading still works: it quantizes at start-up as before.
    classifier = TextClassifier.load(emotion_copy, torch.device("cpu"), precision="int8")
    assert classifier.precision == "int8"


def test_the_wrong_kind_and_fp32_do_not_use_it(emotion_copy: Path) -> None:
    prepared.prepare(emotion_copy, "classifier")
    assert prepared.stale_reason(emotion_copy, "causal-lm") is not None
    fp32 = TextClassifier.load(emotion_copy, torch.device("cpu"), precision="fp32")
    assert fp32.precision == "fp32"


def test_models_prepare_command_writes_both_and_skips_when_current(
    emotion_copy: Path, chat_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["models", "prepare", "--emotion", str(emotion_copy), "--reply", str(chat_copy)]) == 0
    for where, kind in ((emotion_copy, "classifier"), (chat_copy, "causal-lm")):
        assert prepared.stale_reason(where, kind) is None  # type: ignore[arg-type]
    assert main(["models", "prepare", "--emotion", str(emotion_copy), "--reply", str(chat_copy)]) == 0
    assert capsys.readouterr().out.count("already prepared") == 2
