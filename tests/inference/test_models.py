"""The classifier and the generator, loaded from saved checkpoints through the users' code path."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from engine.errors import ModelLoadError
from engine.inference.classifier import TextClassifier
from engine.inference.generation import (
    DecodingConfig,
    GenerationRequest,
    ReplyGenerator,
    clean_reply,
    format_turn,
)
from engine.types import ChatTurn
from tests.inference.decoding_steps import step_lengths

CPU = torch.device("cpu")
GREEDY = DecodingConfig(max_new_tokens=12, do_sample=False, repetition_penalty=1.0, no_repeat_ngram_size=0)


def test_labels_come_from_the_checkpoint_config(tiny_emotion_model: Path) -> None:
    classifier = TextClassifier.load(tiny_emotion_model, CPU)
    assert classifier.labels == ["우울", "일상", "분노", "기쁨", "슬픔", "불안"]
    [prediction] = classifier.classify(["오늘 점심은 김치찌개를 먹었어요"])
    assert list(prediction.distribution) == classifier.labels
    assert sum(prediction.distribution.values()) == pytest.approx(1.0, abs=1e-5)
    best = max(prediction.distribution, key=lambda k: prediction.distribution[k])
    assert prediction.label == best
    assert prediction.confidence == pytest.approx(prediction.distribution[best])


def test_batch_results_match_single_results(tiny_emotion_model: Path) -> None:
    classifier = TextClassifier.load(tiny_emotion_model, CPU)
    texts = ["안녕", "내일 시험인데 너무 떨려서 잠이 안 와", "🙂", "hello there"]
    batched = classifier.probabilities(texts)
    for i, text in enumerate(texts):
        assert torch.allclose(batched[i], classifier.probabilities([text])[0], atol=1e-5)


def test_batches_pad_to_the_longest_input(tiny_emotion_model: Path) -> None:
    classifier = TextClassifier.load(tiny_emotion_model, CPU)
    seen: list[tuple[int, ...]] = []
    handle = classifier.model.register_forward_pre_hook(
        lambda _m, _a, kwargs: seen.append(tuple(kwargs["input_ids"].shape)), with_kwargs=True
    )
    try:
        classifier.classify(["안녕", "오늘 하루"])
    finally:
        handle.remove()
    assert seen and seen[0][1] < 16


def test_missing_emotion_model_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError) as info:
        TextClassifier.load(tmp_path / "nope", CPU)
    message = str(info.value)
    assert "MAEUM_EMOTION_MODEL" in message and "maeum train emotion" in message


def test_broken_checkpoint_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelLoadError):
        ReplyGenerator.load(tmp_path, CPU)


def test_prompt_uses_the_seed_chat_format() -> None:
    assert format_turn("안녕") == "<usr>안녕<unused1><sys>"
    assert format_turn("안녕", "반가워요") == "<usr>안녕<unused1><sys>반가워요</s>"


@pytest.mark.parametrize("lean", [True, False], ids=["lean-gpt2", "transformers-generate"])
def test_generation_uses_the_kv_cache(tiny_chat_model: Path, lean: bool) -> None:
    generator = ReplyGenerator.load(tiny_chat_model, CPU, GREEDY, lean=lean)
    assert (generator.decoder is not None) == lean
    with step_lengths(generator.model) as lengths:
        generator.generate([GenerationRequest("내일 시험인데 너무 떨려")])
    assert len(lengths) >= 2
    assert lengths[0] > 1 and all(n == 1 for n in lengths[1:]), lengths


@pytest.mark.parametrize("lean", [True, False], ids=["lean-gpt2", "transformers-generate"])
def test_new_tokens_are_capped(tiny_chat_model: Path, lean: bool) -> None:
    never_stops = DecodingConfig(max_new_tokens=12, min_new_tokens=12, do_sample=False)
    generator = ReplyGenerator.load(tiny_chat_model, CPU, never_stops, lean=lean)
    with step_lengths(generator.model) as lengths:
        generator.generate([GenerationRequest("안녕")])
    # The prompt, then one step per new token but the last (nothing reads its successor).
    assert len(lengths) == never_stops.max_new_tokens


def test_lean_and_transformers_decoding_give_the_same_reply(tiny_chat_model: Path) -> None:
    decoding = DecodingConfig(
        max_new_tokens=16, do_sample=False, repetition_penalty=1.3, no_repeat_ngram_size=2
    )
    lean = ReplyGenerator.load(tiny_chat_model, CPU, decoding)
    stock = ReplyGenerator.load(tiny_chat_model, CPU, decoding, lean=False)
    for text in ("안녕", "회사에서 발표를 망쳐서 속상해", "내일 시험인데 너무 떨려"):
        request = [GenerationRequest(text)]
        assert lean.generate(request) == stock.generate(request)


def test_batched_generation_matches_one_at_a_time(tiny_chat_model: Path) -> None:
    generator = ReplyGenerator.load(tiny_chat_model, CPU, GREEDY)
    requests = [GenerationRequest("안녕"), GenerationRequest("회사에서 발표를 망쳐서 속상해")]
    together = generator.generate(requests)
    alone = [generator.generate([r])[0] for r in requests]
    assert together == alone


def test_sampling_path_runs_and_returns_clean_text(tiny_chat_model: Path) -> None:
    generator = ReplyGenerator.load(tiny_chat_model, CPU, DecodingConfig(max_new_tokens=8))
    [reply] = generator.generate([GenerationRequest("주말에 여행 가기로 했어요")])
    assert "<usr>" not in reply and "</s>" not in reply and "<pad>" not in reply


def test_context_is_used_only_when_the_checkpoint_says_so(tiny_chat_model: Path) -> None:
    generator = ReplyGenerator.load(tiny_chat_model, CPU, GREEDY)
    request = GenerationRequest("그래서 어떻게 됐냐면", (ChatTurn("시험 봤어", "어땠어요?"),))
    assert not generator.supports_context
    assert generator.build_prompt(request) == format_turn("그래서 어떻게 됐냐면")
    generator.context_turns = 2
    assert generator.build_prompt(request) == format_turn("시험 봤어", "어땠어요?") + format_turn(
        "그래서 어떻게 됐냐면"
    )


def test_clean_reply() -> None:
    assert clean_reply("  많이 힘드셨겠어요.  많이 힘드셨겠어요. </s> 뒤에") == "많이 힘드셨겠어요."
    assert clean_reply("괜찮아요<usr>다음 질문") == "괜찮아요"
    assert clean_reply("<sys>좋아요<pad><pad>") == "좋아요"


def test_the_warm_up_runs_on_the_threads_the_host_load_leaves(
    tiny_emotion_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.inference import models, threads

    monkeypatch.setattr(threads.LoadAwareThreads, "threads", lambda self: 1)  # a busy host
    seen: list[int] = []
    monkeypatch.setattr(models.ModelSet, "_warm_up", lambda self: seen.append(torch.get_num_threads()))
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        models.ModelSet(models.ModelConfig(emotion=str(tiny_emotion_model), reply=None, device="cpu")).load()
        assert seen == [1]
        assert torch.get_num_threads() == 2  # restored for whoever serves next
    finally:
        torch.set_num_threads(before)
