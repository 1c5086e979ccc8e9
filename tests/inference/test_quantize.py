"""Precision per model: Conv1D → Linear is exact, int8 stays close, settings parse, ModelSet applies it."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from pydantic import ValidationError
from torch import nn
from transformers import GPT2LMHeadModel
from transformers.pytorch_utils import Conv1D

from engine.inference.classifier import TextClassifier
from engine.inference.generation import DecodingConfig, GenerationRequest, ReplyGenerator
from engine.inference.models import ModelConfig, ModelSet
from engine.inference.quantize import (
    conv1d_to_linear,
    is_quantized,
    precision_of,
    quantize_int8,
    resolve_precision,
)
from engine.settings import Settings
from tests.conftest import CORPUS
from tests.inference.decoding_steps import step_lengths

CPU = torch.device("cpu")
GREEDY = DecodingConfig(max_new_tokens=8, do_sample=False, repetition_penalty=1.0, no_repeat_ngram_size=0)


def _chat_batch(generator: ReplyGenerator) -> dict[str, torch.Tensor]:
    return dict(generator.tokenizer(CORPUS[:8], return_tensors="pt", padding=True))


def test_conv1d_to_linear_gives_identical_logits(tiny_chat_model: Path) -> None:
    model = GPT2LMHeadModel.from_pretrained(tiny_chat_model).eval()
    ids = torch.randint(0, model.config.vocab_size, (3, 17), generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        before = model(ids).logits
        replaced = conv1d_to_linear(model)
        after = model(ids).logits
    assert replaced == 4 * model.config.n_layer  # c_attn, c_proj, mlp.c_fc, mlp.c_proj per block
    assert not any(isinstance(m, Conv1D) for m in model.modules())
    assert torch.equal(before, after)


def test_conv1d_weight_is_transposed_into_the_linear() -> None:
    conv = Conv1D(5, 3)  # 3 in, 5 out; weight stored (in, out)
    holder = nn.Sequential(conv)
    conv1d_to_linear(holder)
    linear = holder[0]
    assert isinstance(linear, nn.Linear)
    assert linear.weight.shape == (5, 3)
    assert torch.equal(linear.weight, conv.weight.t())
    x = torch.randn(4, 3)
    assert torch.allclose(linear(x), conv(x))


def test_int8_quantizes_every_linear_including_gpt2_blocks(tiny_chat_model: Path) -> None:
    model = quantize_int8(GPT2LMHeadModel.from_pretrained(tiny_chat_model).eval())
    assert is_quantized(model) and precision_of(model) == "int8"
    assert not any(type(m) is nn.Linear for m in model.modules())  # not just the LM head
    assert not any(isinstance(m, Conv1D) for m in model.modules())


def test_layer_by_layer_int8_equals_stock_quantize_dynamic(tiny_chat_model: Path) -> None:
    import copy
    import warnings

    from torch.ao.quantization import quantize_dynamic

    model = GPT2LMHeadModel.from_pretrained(tiny_chat_model).eval()
    stock = copy.deepcopy(model)
    conv1d_to_linear(stock)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stock = quantize_dynamic(stock, {nn.Linear}, dtype=torch.qint8)
    ours = quantize_int8(model)
    ids = torch.randint(0, model.config.vocab_size, (2, 11), generator=torch.Generator().manual_seed(2))
    with torch.inference_mode():
        assert torch.equal(ours(ids).logits, stock(ids).logits)


def test_int8_classifier_loads_and_agrees_with_fp32(tiny_emotion_model: Path) -> None:
    fp32 = TextClassifier.load(tiny_emotion_model, CPU, precision="fp32")
    int8 = TextClassifier.load(tiny_emotion_model, CPU, precision="int8")
    assert fp32.precision == "fp32" and int8.precision == "int8"
    texts = CORPUS[:20]
    p32, p8 = fp32.probabilities(texts), int8.probabilities(texts)
    assert torch.allclose(p32, p8, atol=0.01)
    assert torch.equal(p32.argmax(-1), p8.argmax(-1))
    [prediction] = int8.classify(["오늘 너무 우울해"])
    assert prediction.label in int8.labels
    assert sum(prediction.distribution.values()) == pytest.approx(1.0, abs=1e-5)


def test_int8_generator_logits_stay_close(tiny_chat_model: Path) -> None:
    fp32 = ReplyGenerator.load(tiny_chat_model, CPU, GREEDY, precision="fp32")
    int8 = ReplyGenerator.load(tiny_chat_model, CPU, GREEDY, precision="int8")
    batch = _chat_batch(fp32)
    with torch.inference_mode():
        l32, l8 = fp32.model(**batch).logits, int8.model(**batch).logits
    real = batch["attention_mask"].bool()
    # Random tiny weights give nearly flat logits, so compare against their spread.
    assert (l32 - l8).abs().max() < 0.25 * l32.std()
    assert (l32.argmax(-1) == l8.argmax(-1))[real].float().mean() > 0.9


def test_int8_generator_generates_with_the_kv_cache(tiny_chat_model: Path) -> None:
    generator = ReplyGenerator.load(tiny_chat_model, CPU, GREEDY, precision="int8")
    assert generator.precision == "int8"
    with step_lengths(generator.model) as lengths:
        replies = generator.generate([GenerationRequest("안녕"), GenerationRequest("시험 망쳐서 속상해")])
    assert len(replies) == 2 and all(isinstance(r, str) for r in replies)
    assert lengths[0] > 1 and all(n == 1 for n in lengths[1:])


def test_min_new_tokens_fixes_the_reply_length(tiny_chat_model: Path) -> None:
    fixed = DecodingConfig(max_new_tokens=6, min_new_tokens=6)
    generator = ReplyGenerator.load(tiny_chat_model, CPU, fixed, precision="int8")
    with step_lengths(generator.model) as lengths:
        generator.generate([GenerationRequest("안녕")])
    assert len(lengths) == 6  # the prompt, then 5 single-token steps: 6 new tokens, never fewer


def test_half_precision_path_loads(tiny_emotion_model: Path) -> None:
    # The GPU path; bf16 also runs on a CPU, which is enough to check the conversion.
    classifier = TextClassifier.load(tiny_emotion_model, CPU, precision="bf16")
    assert classifier.precision == "bf16"
    assert next(classifier.model.parameters()).dtype == torch.bfloat16
    [prediction] = classifier.classify(["안녕"])
    assert prediction.label in classifier.labels


def test_no_precision_keeps_the_old_default(tiny_emotion_model: Path) -> None:
    assert TextClassifier.load(tiny_emotion_model, CPU).precision == "fp32"


def test_resolve_precision() -> None:
    cuda = torch.device("cuda")
    assert resolve_precision("auto", CPU) == "int8"
    assert resolve_precision("auto", cuda) in ("bf16", "fp16")
    assert resolve_precision("fp32", cuda) == "fp32"
    assert resolve_precision("fp16", cuda) == "fp16"
    with pytest.raises(ValueError, match="CPU only"):
        resolve_precision("int8", cuda)
    with pytest.raises(ValueError, match="unknown precision"):
        resolve_precision("int4", CPU)


def test_settings_parse_precision(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.emotion_precision == "auto" and settings.reply_precision == "auto"
    monkeypatch.setenv("MAEUM_EMOTION_PRECISION", "INT8")
    monkeypatch.setenv("MAEUM_REPLY_PRECISION", " bf16 ")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.emotion_precision == "int8" and settings.reply_precision == "bf16"
    monkeypatch.setenv("MAEUM_REPLY_PRECISION", "int4")
    with pytest.raises(ValidationError):
        Settings(_env_file=None)  # type: ignore[call-arg]


def test_compose_passes_precision_to_the_models(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.compose import model_config

    monkeypatch.setenv("MAEUM_EMOTION_PRECISION", "fp32")
    monkeypatch.setenv("MAEUM_REPLY_PRECISION", "int8")
    config = model_config(Settings(_env_file=None))  # type: ignore[call-arg]
    assert config.emotion_precision == "fp32" and config.reply_precision == "int8"


def test_model_set_quantizes_on_load(tiny_emotion_model: Path, tiny_chat_model: Path) -> None:
    models = ModelSet(
        ModelConfig(
            emotion=str(tiny_emotion_model),
            reply=str(tiny_chat_model),
            device="cpu",
            decoding=GREEDY,
            emotion_precision="fp32",
            reply_precision="auto",
        )
    )
    handlers = models.load()
    assert models.describe()["emotion_precision"] == "fp32"
    assert models.describe()["reply_precision"] == "int8"
    assert isinstance(handlers["reply"]([GenerationRequest("안녕")])[0], str)


def test_intent_classifier_follows_the_emotion_precision(tiny_emotion_model: Path, tmp_path: Path) -> None:
    import json
    import shutil

    intent = tmp_path / "intent"
    shutil.copytree(tiny_emotion_model, intent)
    answers = {label: [f"{label} 답변"] for label in ["우울", "일상", "분노", "기쁨", "슬픔", "불안"]}
    (intent / "answers.json").write_text(json.dumps(answers, ensure_ascii=False), encoding="utf-8")
    models = ModelSet(
        ModelConfig(
            emotion=str(tiny_emotion_model), reply=None, intent=str(intent), device="cpu", warmup=False
        )
    )
    handlers = models.load()
    assert models.intent is not None and models.intent.classifier.precision == "int8"
    assert is_quantized(models.intent.classifier.model)
    [prediction] = handlers["intent"](["오늘 너무 우울해"])
    assert prediction.category in answers
