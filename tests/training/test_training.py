"""The training pipeline end to end, a few CPU steps per task, producing checkpoints the engine uses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from bot.cli import main as maeum
from engine.inference.classifier import TextClassifier
from engine.inference.generation import EOS, DecodingConfig, GenerationRequest, ReplyGenerator, format_turn
from engine.inference.intent import IntentResponder
from training.chat import IGNORE, encode_pair, split_pairs
from training.classify import stratified_split
from training.common import TrainConfig
from training.readers import LabeledText, QAPair
from training.tokenizers import train_chat_tokenizer

CPU = torch.device("cpu")
PNG = b"\x89PNG\r\n\x1a\n"

EXAMPLES = {
    "일상": [
        "점심으로 김밥 먹었어",
        "내일 비 온대요",
        "퇴근하고 마트 갈 거야",
        "오늘 빨래했어요",
        "버스 타고 가는 중",
    ],
    "기쁨": [
        "합격했어요 너무 좋아",
        "월급 들어와서 신나",
        "친구가 선물 줘서 행복해",
        "여행 가서 즐거웠어",
        "칭찬 받아서 기뻐요",
    ],
    "불안": [
        "내일 발표라 떨려",
        "검사 결과가 걱정돼요",
        "면접 망칠까 봐 불안해",
        "돈이 모자랄까 봐 걱정이야",
        "시험이 무서워요",
    ],
    "슬픔": [
        "강아지가 떠났어요",
        "헤어져서 눈물 나",
        "할머니가 보고 싶어",
        "친구가 이사 가서 슬퍼",
        "떨어져서 속상해요",
    ],
    "분노": [
        "팀장 때문에 화나",
        "새치기해서 열받아",
        "사기 당해서 짜증나",
        "층간소음 미치겠어",
        "무시당해서 화가 나요",
    ],
    "우울": [
        "요즘 아무것도 하기 싫어",
        "하루 종일 누워만 있어",
        "뭘 해도 재미가 없어",
        "계속 무기력해요",
        "마음이 텅 빈 것 같아",
    ],
}


def write_jsonl(path: Path) -> Path:
    lines = [
        json.dumps({"text": t, "label": label}, ensure_ascii=False)
        for label, ts in EXAMPLES.items()
        for t in ts
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def tiny_args(out: Path, tokenizer: Path | None = None) -> list[str]:
    args = [
        "--out",
        str(out),
        "--scratch",
        "tiny",
        "--epochs",
        "2",
        "--batch-size",
        "8",
        "--lr",
        "1e-3",
        "--max-len",
        "32",
        "--device",
        "cpu",
        "--no-progress",
    ]
    return args + (["--tokenizer", str(tokenizer)] if tokenizer else [])


def test_train_emotion_writes_a_checkpoint_the_engine_uses(tmp_path: Path, tiny_emotion_model: Path) -> None:
    data = write_jsonl(tmp_path / "emotion.jsonl")
    out = tmp_path / "emotion-model"
    assert maeum(["train", "emotion", "--data", f"{data}:text", *tiny_args(out, tiny_emotion_model)]) == 0
    for name in (
        "config.json",
        "model.safetensors",
        "spiece.model",
        "vocab.txt",
        "metrics.json",
        "README.md",
    ):
        assert (out / name).is_file(), name
    assert (out / "confusion_matrix.png").read_bytes().startswith(PNG)
    assert (out / "learning_curves.png").read_bytes().startswith(PNG)
    assert not (out / "last").exists()  # resumable state is dropped once the run ends well
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert [h["epoch"] for h in metrics["history"]] == [1.0, 2.0]
    assert all("val_loss" in h and "val_macro_f1" in h for h in metrics["history"])
    test = metrics["splits"]["test"]
    assert set(test) == {"model", "tfidf_baseline"}
    assert set(test["model"]["per_class"]) == set(EXAMPLES)
    assert {"precision", "recall", "f1", "support"} <= set(test["model"]["per_class"]["기쁨"])
    classifier = TextClassifier.load(out, CPU)
    assert classifier.labels == list(EXAMPLES)  # product order, from the checkpoint's config
    assert classifier.classify(["오늘 기분 좋아"])[0].label in EXAMPLES


def test_eval_prints_model_and_baseline(
    tmp_path: Path, tiny_emotion_model: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = write_jsonl(tmp_path / "emotion.jsonl")
    out = tmp_path / "m"
    maeum(["train", "emotion", "--data", f"{data}:text", *tiny_args(out, tiny_emotion_model)])
    capsys.readouterr()
    assert maeum(["eval", "emotion", "--model", str(out), "--data", f"{data}:text", "--json"]) == 0
    printed = capsys.readouterr().out
    assert "tfidf_baseline" in printed and "macro-F1" in printed
    result = json.loads(printed.strip().splitlines()[-1])
    assert result["model"]["n"] == 30 and 0 <= result["tfidf_baseline"]["macro_f1"] <= 1


def test_same_seed_gives_the_same_weights(tmp_path: Path, tiny_emotion_model: Path) -> None:
    from training.classify import train_classifier

    records = [LabeledText(t, label) for label, ts in EXAMPLES.items() for t in ts]
    splits = stratified_split(records, 0.2, 0.2, 1)

    def run(out: Path, epochs: int, resume: bool = False) -> dict[str, torch.Tensor]:
        config = TrainConfig(
            output_dir=out,
            epochs=epochs,
            batch_size=8,
            lr=1e-3,
            max_len=32,
            device="cpu",
            progress=False,
            resume=resume,
            patience=10,
        )
        report = train_classifier(
            "emotion", splits, config, tokenizer_location=str(tiny_emotion_model), scratch_size="tiny"
        )
        assert len(report["history"]) == epochs
        return TextClassifier.load(out, CPU).model.state_dict()

    first = run(tmp_path / "a", 1)
    second = run(tmp_path / "b", 1)
    assert all(torch.equal(first[k], second[k]) for k in first)


def test_train_intent_ships_an_answer_bank(tmp_path: Path, tiny_emotion_model: Path) -> None:
    intents = [
        {"category": c, "utterances": ts, "answers": [f"{c} 답 {i}" for i in range(3)]}
        for c, ts in EXAMPLES.items()
    ]
    data = tmp_path / "intents.json"
    data.write_text(json.dumps(intents, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "intent"
    assert maeum(["train", "intent", "--data", str(data), *tiny_args(out, tiny_emotion_model)]) == 0
    responder = IntentResponder.load(out, CPU)
    [prediction] = responder.predict(["합격했어요"])
    assert prediction.category in EXAMPLES
    import random

    assert (
        responder.answer(prediction.category, random.Random(0))
        in intents[list(EXAMPLES).index(prediction.category)]["answers"]
    )


def test_chat_loss_is_only_on_the_answer() -> None:
    tokenizer = train_chat_tokenizer(
        [format_turn(q, a) for q, a in [("안녕", "반가워요"), ("배고파", "밥 드세요")]] * 5, 300
    )
    encoded = encode_pair(tokenizer, QAPair("안녕", "반가워요"), max_len=64)
    assert encoded is not None
    prompt = tokenizer(format_turn("안녕"), add_special_tokens=False)["input_ids"]
    answer = tokenizer("반가워요" + EOS, add_special_tokens=False)["input_ids"]
    assert encoded.input_ids == prompt + answer
    assert encoded.labels == [IGNORE] * len(prompt) + answer
    # Too little room for the answer: the example is skipped, not silently cut mid-answer.
    assert encode_pair(tokenizer, QAPair("안녕", "반가워요 " * 30), max_len=16) is None


def test_train_chat_writes_a_generator_the_engine_uses(tmp_path: Path) -> None:
    pairs = [f"{t},{t} 이야기 들려줘서 고마워요.,0" for ts in EXAMPLES.values() for t in ts]
    data = tmp_path / "qa.csv"
    data.write_text("Q,A,label\n" + "\n".join(pairs) + "\n", encoding="utf-8")
    out = tmp_path / "chat"
    assert maeum(["train", "chat", "--data", str(data), "--vocab-size", "400", *tiny_args(out)]) == 0
    metrics = json.loads((out / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["best"]["val_perplexity"] > 1
    assert len(metrics["samples"]) == 12
    generator = ReplyGenerator.load(out, CPU, DecodingConfig(max_new_tokens=6))
    assert generator.generate([GenerationRequest("안녕")])[0] is not None


def test_chat_split_keeps_each_question_on_one_side() -> None:
    pairs = [QAPair(f"q{i % 20}", f"a{i}") for i in range(100)]
    train, val = split_pairs(pairs, 0.1, 0)
    assert {p.question for p in train}.isdisjoint({p.question for p in val}) and val


def test_pretrained_encoder_is_a_base_for_fine_tuning(tmp_path: Path, tiny_emotion_model: Path) -> None:
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(t for ts in EXAMPLES.values() for t in ts) * 3, encoding="utf-8")
    base = tmp_path / "mlm"
    assert (
        maeum(
            [
                "train",
                "pretrain",
                "mlm",
                "--corpus",
                str(corpus),
                "--max-steps",
                "3",
                *tiny_args(base, tiny_emotion_model),
            ]
        )
        == 0
    )
    data = write_jsonl(tmp_path / "emotion.jsonl")
    out = tmp_path / "fine"
    args = ["train", "emotion", "--data", f"{data}:text", "--base", str(base), *tiny_args(out)]
    assert maeum(args) == 0
    assert TextClassifier.load(out, CPU).labels == list(EXAMPLES)
    # The classifier starts from the pretrained encoder's weights, with a fresh head.
    from transformers import BertForMaskedLM

    from training.classify import base_classifier

    encoder = BertForMaskedLM.from_pretrained(base).bert
    started = base_classifier(str(base), list(EXAMPLES)).bert  # type: ignore[attr-defined]
    assert torch.equal(started.embeddings.word_embeddings.weight, encoder.embeddings.word_embeddings.weight)
    assert torch.equal(
        started.encoder.layer[0].attention.self.query.weight,
        encoder.encoder.layer[0].attention.self.query.weight,
    )


def test_an_interrupted_run_resumes_where_it_stopped(tmp_path: Path, tiny_emotion_model: Path) -> None:
    from training.classify import scratch_classifier
    from training.common import LAST, Trainer

    tokenizer = TextClassifier.load(tiny_emotion_model, CPU).tokenizer
    items = [LabeledText(t, label) for label, ts in EXAMPLES.items() for t in ts]
    labels = list(EXAMPLES)
    config = TrainConfig(
        output_dir=tmp_path, epochs=3, batch_size=10, lr=1e-3, device="cpu", progress=False, patience=9
    )

    def make(crash_at: int | None) -> Trainer:
        model = scratch_classifier(tokenizer, labels, "tiny", 32)
        steps = 0

        def loss_fn(batch: list[LabeledText]) -> torch.Tensor:
            nonlocal steps
            steps += 1
            if crash_at is not None and steps == crash_at:
                raise KeyboardInterrupt  # the power goes out in epoch 2
            enc = tokenizer([r.text for r in batch], padding=True, return_tensors="pt")
            target = torch.tensor([labels.index(r.label) for r in batch])
            return model(**enc, labels=target).loss  # type: ignore[no-any-return]

        return Trainer(model, tokenizer, config, loss_fn, lambda: {"score": float(steps)}, monitor="score")

    with pytest.raises(KeyboardInterrupt):
        make(crash_at=5).fit(items)  # 3 steps an epoch: dies in the second epoch
    assert json.loads((tmp_path / LAST / "loop_state.json").read_text())["epoch"] == 1
    config.resume = True
    state = make(crash_at=None).fit(items)
    assert [h["epoch"] for h in state.history] == [1.0, 2.0, 3.0]
    assert state.step == 9


def test_bad_data_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("foo,bar\n1,2\n", encoding="utf-8")
    assert maeum(["train", "emotion", "--data", str(bad), "--out", str(tmp_path / "x")]) == 2
    assert "text" in capsys.readouterr().err
