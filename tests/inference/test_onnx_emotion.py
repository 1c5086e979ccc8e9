"""The emotion classifier on ONNX Runtime int8: same labels as fp32 torch, an export cached beside
the checkpoint and redone when the weights change, and the runtime choice. No timing here
(speed is in `maeum bench`'s peer rows)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from engine.inference import ModelConfig, ModelSet, onnx_emotion
from engine.inference.classifier import TextClassifier
from tests.conftest import CORPUS

needs_onnx = pytest.mark.skipif(
    not onnx_emotion.exporter_installed(),
    reason="onnxruntime and onnx are not installed (pip install 'maeum[onnx]' or 'maeum[bench]')",
)
TEXTS = sorted(set(CORPUS))


@pytest.fixture
def checkpoint(tiny_emotion_model: Path, tmp_path: Path) -> Path:
    """A copy of the tiny BERT, so each test starts with no export beside it."""
    return Path(
        shutil.copytree(tiny_emotion_model, tmp_path / "emotion", ignore=shutil.ignore_patterns("onnx"))
    )


@pytest.fixture(autouse=True)
def _no_user_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


def _fp32(checkpoint: Path) -> TextClassifier:
    return TextClassifier.load(checkpoint, torch.device("cpu"), precision="fp32")


@needs_onnx
def test_int8_onnx_labels_agree_with_fp32_torch(checkpoint: Path) -> None:
    onnx = onnx_emotion.OnnxTextClassifier.load(checkpoint, threads=1)
    fp32 = _fp32(checkpoint)
    assert onnx.labels == fp32.labels  # from the checkpoint's id2label, not the product order
    ref = fp32.probabilities(TEXTS).numpy()
    alone = [onnx.probabilities([t])[0] for t in TEXTS]
    batched = onnx.probabilities(TEXTS)  # padded to the longest: the mask must hold
    same = sum(int(a.argmax() == r.argmax()) for a, r in zip(alone, ref, strict=True))
    assert same / len(TEXTS) >= 0.98
    assert abs(batched - ref).max() < 0.02 and abs(batched - alone).max() < 0.02
    prediction = onnx.classify([TEXTS[0]])[0]
    assert prediction.label in fp32.labels and abs(sum(prediction.distribution.values()) - 1) < 1e-6
    assert onnx.classify([]) == []


@needs_onnx
def test_export_is_cached_beside_the_checkpoint_and_redone_when_it_changes(checkpoint: Path) -> None:
    first = onnx_emotion.cached_export(checkpoint)
    assert first == checkpoint / "onnx" / onnx_emotion.MODEL_FILE
    meta = json.loads((first.parent / onnx_emotion.META_FILE).read_text(encoding="utf-8"))
    written = first.stat().st_mtime_ns

    # A rewritten file with the same weights (a copy, a touch) keeps the export.
    weights = checkpoint / "model.safetensors"
    weights.write_bytes(weights.read_bytes())
    assert onnx_emotion.cached_export(checkpoint) == first and first.stat().st_mtime_ns == written

    # New weights: exported again, and the ONNX model follows them.
    from transformers import BertForSequenceClassification

    model = BertForSequenceClassification.from_pretrained(checkpoint)
    with torch.no_grad():
        model.classifier.weight.mul_(-3.0)
    model.save_pretrained(checkpoint)
    with pytest.raises(FileNotFoundError):
        onnx_emotion.cached_export(checkpoint, export=False)
    again = onnx_emotion.cached_export(checkpoint)
    new_meta = json.loads((again.parent / onnx_emotion.META_FILE).read_text(encoding="utf-8"))
    assert new_meta["key"] != meta["key"] and again.stat().st_mtime_ns != written
    onnx = onnx_emotion.OnnxTextClassifier.load(checkpoint, export=False)
    ref = _fp32(checkpoint).probabilities(TEXTS).numpy()
    assert abs(onnx.probabilities(TEXTS) - ref).max() < 0.05


@needs_onnx
def test_a_read_only_checkpoint_exports_to_the_user_cache(
    checkpoint: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_mkdir = Path.mkdir

    def refuse_beside(self: Path, *args: object, **kwargs: object) -> None:
        if self == checkpoint / "onnx":
            raise PermissionError(str(self))
        real_mkdir(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "mkdir", refuse_beside)
    path = onnx_emotion.cached_export(checkpoint)
    assert (tmp_path / "cache" / "maeum" / "onnx") in path.parents
    assert onnx_emotion.cached_export(checkpoint, export=False) == path


@needs_onnx
def test_model_set_serves_emotion_on_onnx_on_a_cpu(checkpoint: Path) -> None:
    def load(runtime: str, precision: str = "auto") -> ModelSet:
        models = ModelSet(
            ModelConfig(
                emotion=str(checkpoint),
                reply=None,
                device="cpu",
                emotion_precision=precision,
                emotion_runtime=runtime,
                warmup=False,
            )
        )
        models.load()
        return models

    onnx, reference = load("auto"), load("torch")
    assert onnx.describe()["emotion_runtime"] == "onnxruntime"
    assert onnx.describe()["emotion_precision"] == "int8"
    assert reference.describe()["emotion_runtime"] == "torch"
    assert load("auto", "fp32").describe()["emotion_runtime"] == "torch"  # fp32 asks for the reference
    got = onnx.handlers()["emotion"](TEXTS[:4])
    assert [p.label for p in got] == [p.label for p in _fp32(checkpoint).classify(TEXTS[:4])]


def test_runtime_choice(checkpoint: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    choose = onnx_emotion.choose_runtime
    assert choose("torch", "cpu", "int8", checkpoint) == "torch"
    assert choose("auto", "cuda", "bf16", checkpoint) == "torch"  # GPUs stay on torch
    assert choose("auto", "cpu", "fp32", checkpoint) == "torch"
    assert choose("auto", "cpu", "int8", "some-org/hub-model") == "torch"
    with pytest.raises(onnx_emotion.OnnxUnavailableError, match="CPU only"):
        choose("onnx", "cuda", "bf16", checkpoint)
    with pytest.raises(ValueError, match="unknown emotion runtime"):
        choose("tensorrt", "cpu", "int8", checkpoint)
    broken = checkpoint.parent / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{", encoding="utf-8")
    assert choose("onnx", "cpu", "int8", broken) == "torch"  # torch's loader says what is wrong
    monkeypatch.setattr(onnx_emotion, "runtime_installed", lambda: False)
    assert choose("auto", "cpu", "int8", checkpoint) == "torch"
    with pytest.raises(onnx_emotion.OnnxUnavailableError, match="maeum\\[onnx\\]"):
        choose("onnx", "cpu", "int8", checkpoint)


def test_the_runtime_setting_reaches_the_model_config(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from bot.compose import model_config
    from engine.settings import Settings

    monkeypatch.setenv("MAEUM_EMOTION_RUNTIME", "torch")
    assert model_config(Settings(_env_file=None, data_dir=tmp_path)).emotion_runtime == "torch"  # type: ignore[call-arg]
    monkeypatch.delenv("MAEUM_EMOTION_RUNTIME")
    assert model_config(Settings(_env_file=None, data_dir=tmp_path)).emotion_runtime == "auto"  # type: ignore[call-arg]


def test_auto_takes_the_prepared_torch_form_and_onnx_still_can_be_asked_for(
    checkpoint: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.inference import prepared

    choose = onnx_emotion.choose_runtime
    assert choose("auto", "cpu", "int8", checkpoint) == "onnx"
    prepared.prepare(checkpoint, "classifier")
    assert choose("auto", "cpu", "int8", checkpoint) == "torch"  # starts without ONNX Runtime
    assert choose("onnx", "cpu", "int8", checkpoint) == "onnx"
    assert choose("auto", "cpu", "fp32", checkpoint) == "torch"
    monkeypatch.setattr(prepared, "ENABLED", False)  # the bench's quantizing start: as before
    assert choose("auto", "cpu", "int8", checkpoint) == "onnx"
    monkeypatch.setattr(prepared, "ENABLED", True)
    (checkpoint / "config.json").write_text(
        (checkpoint / "config.json").read_text(encoding="utf-8") + "\n", encoding="utf-8"
    )
    assert choose("auto", "cpu", "int8", checkpoint) == "onnx"  # a stale form is not used
