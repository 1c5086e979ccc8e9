"""Causal-LM training on Q/A pairs in the seed's chat format (the seed's S2).

Only the answer is learned: the question part of each example gets label ``-100`` (the seed
reached the same end with a ``-1e18`` logits mask)."""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from transformers import (
    AutoModelForCausalLM,
    GPT2Config,
    GPT2LMHeadModel,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from engine.inference import (
    CHAT_TOKENS,
    EOS,
    DecodingConfig,
    GenerationRequest,
    ReplyGenerator,
    format_turn,
    load_tokenizer,
)
from training.common import TrainConfig, Trainer, set_seed, write_json
from training.readers import QAPair
from training.report import curves_png, model_card
from training.tokenizers import train_chat_tokenizer

log = logging.getLogger(__name__)

IGNORE = -100
SCRATCH_SIZES: dict[str, dict[str, Any]] = {
    "tiny": {"n_embd": 64, "n_layer": 2, "n_head": 2},
    "compact": {"n_embd": 192, "n_layer": 3, "n_head": 4},
    "mini": {"n_embd": 256, "n_layer": 4, "n_head": 4},
    "small": {"n_embd": 512, "n_layer": 6, "n_head": 8},
}
SAMPLE_MESSAGES = [
    "오늘 회사에서 너무 힘들었어",
    "시험 잘 봤어요!",
    "요즘 잠이 안 와",
    "친구랑 싸웠어",
    "내일 면접이라 떨려요",
    "강아지가 너무 귀여워",
    "비 와서 우울해",
    "오늘 점심 뭐 먹지",
    "헤어졌어",
    "월급 들어왔다",
    "엄마가 보고 싶어요",
    "아무것도 하기 싫어",
]


@dataclass(frozen=True)
class Encoded:
    input_ids: list[int]
    labels: list[int]


def encode_pair(tokenizer: PreTrainedTokenizerBase, pair: QAPair, max_len: int) -> Encoded | None:
    prompt = tokenizer(format_turn(pair.question), add_special_tokens=False)["input_ids"]
    answer = tokenizer(pair.answer + EOS, add_special_tokens=False)["input_ids"]
    # Keep the whole answer when possible; long questions lose their beginning, not their end.
    room = max_len - len(answer)
    if room < 4:
        return None
    prompt = prompt[-room:]
    return Encoded(prompt + answer, [IGNORE] * len(prompt) + answer)


def collate(items: Sequence[Encoded], pad_id: int, device: torch.device) -> dict[str, torch.Tensor]:
    width = max(len(i.input_ids) for i in items)
    ids = torch.full((len(items), width), pad_id, dtype=torch.long)
    labels = torch.full((len(items), width), IGNORE, dtype=torch.long)
    mask = torch.zeros((len(items), width), dtype=torch.long)
    for row, item in enumerate(items):
        n = len(item.input_ids)
        ids[row, :n] = torch.tensor(item.input_ids)
        labels[row, :n] = torch.tensor(item.labels)
        mask[row, :n] = 1
    return {"input_ids": ids.to(device), "labels": labels.to(device), "attention_mask": mask.to(device)}


def chat_tokenizer(config: TrainConfig, pairs: Sequence[QAPair], vocab_size: int) -> PreTrainedTokenizerBase:
    if config.base:
        tokenizer = load_tokenizer(config.base)
        missing = [t for t in (*CHAT_TOKENS, EOS) if t not in tokenizer.get_vocab()]
        if missing:
            tokenizer.add_special_tokens({"additional_special_tokens": missing})
        if tokenizer.pad_token is None:
            tokenizer.pad_token = EOS
        return tokenizer
    texts = [t for p in pairs for t in (p.question, p.answer)]
    return train_chat_tokenizer(texts, vocab_size=vocab_size)


def chat_model(config: TrainConfig, tokenizer: PreTrainedTokenizerBase, size: str) -> PreTrainedModel:
    if config.base:
        model = AutoModelForCausalLM.from_pretrained(config.base)
        embeddings = model.get_input_embeddings()
        assert isinstance(embeddings, torch.nn.Embedding)
        if embeddings.num_embeddings < len(tokenizer):
            model.resize_token_embeddings(len(tokenizer))
        return model
    gpt = GPT2Config(
        vocab_size=len(tokenizer),
        n_positions=max(128, config.max_len),
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        **SCRATCH_SIZES[size],
    )
    return GPT2LMHeadModel(gpt)


def train_chat(
    train: Sequence[QAPair],
    val: Sequence[QAPair],
    config: TrainConfig,
    *,
    scratch_size: str = "mini",
    vocab_size: int = 8000,
    tokenizer: PreTrainedTokenizerBase | None = None,
    data_note: str = "",
    licence: str = "",
) -> dict[str, Any]:
    set_seed(config.seed)
    tokenizer = tokenizer or chat_tokenizer(config, list(train), vocab_size)
    model = chat_model(config, tokenizer, scratch_size)
    model.config.maeum_context_turns = 0  # trained on single turns: no earlier turns in prompts
    pad_id = int(tokenizer.pad_token_id)
    encoded_train = [e for p in train if (e := encode_pair(tokenizer, p, config.max_len))]
    encoded_val = [e for p in val if (e := encode_pair(tokenizer, p, config.max_len))]

    def loss_fn(batch: list[Encoded]) -> torch.Tensor:
        return model(**collate(batch, pad_id, trainer.device)).loss

    def evaluate() -> dict[str, float]:
        total, tokens = 0.0, 0
        for start in range(0, len(encoded_val), 128):
            chunk = encoded_val[start : start + 128]
            n = sum(sum(1 for x in e.labels if x != IGNORE) for e in chunk)
            total += float(model(**collate(chunk, pad_id, trainer.device)).loss) * n
            tokens += n
        loss = total / max(tokens, 1)
        return {"val_loss": loss, "val_perplexity": math.exp(min(loss, 50))}

    trainer = Trainer(model, tokenizer, config, loss_fn, evaluate, monitor="val_loss", higher_is_better=False)
    state = trainer.fit(encoded_train)
    trainer.finish()
    examples = {"train": len(encoded_train), "val": len(encoded_val)}
    return write_chat_report(config, state.history, examples, data_note, licence)


def write_chat_report(
    config: TrainConfig,
    history: list[dict[str, float]],
    examples: dict[str, int],
    data_note: str = "",
    licence: str = "",
) -> dict[str, Any]:
    """metrics.json, learning curves and the model card, with sample replies from the saved model."""
    out = config.output_dir
    generator = ReplyGenerator.load(out, torch.device("cpu"), DecodingConfig(max_new_tokens=32))
    torch.manual_seed(config.seed)
    replies = generator.generate([GenerationRequest(m) for m in SAMPLE_MESSAGES])
    samples = [{"message": m, "reply": r} for m, r in zip(SAMPLE_MESSAGES, replies, strict=True)]
    best = min(history, key=lambda h: h["val_loss"])
    report: dict[str, Any] = {
        "task": "chat",
        "history": history,
        "best": {"val_loss": best["val_loss"], "val_perplexity": best["val_perplexity"]},
        "examples": examples,
        "samples": samples,
    }
    write_json(out / "metrics.json", report)
    (out / "learning_curves.png").write_bytes(
        curves_png(history, ["train_loss", "val_loss"], "chat 학습 곡선")
    )
    table = "\n".join(f"| {s['message']} | {s['reply']} |" for s in samples)
    (out / "README.md").write_text(
        model_card(
            out.name,
            "reply generation (GPT-2 causal LM, seed chat format `<usr>Q<unused1><sys>A</s>`)",
            data_note,
            licence,
            config.to_json(),
            dict(report["best"]),
            extra=(
                f"## Sample replies (sampling, seed {config.seed})\n\n| message | reply |\n|---|---|\n{table}"
            ),
        ),
        encoding="utf-8",
    )
    return report


def split_pairs(pairs: Sequence[QAPair], val_share: float, seed: int) -> tuple[list[QAPair], list[QAPair]]:
    """Split by question, so the same question never sits on both sides (ChatbotData repeats some)."""
    questions = sorted({p.question for p in pairs})
    random.Random(seed).shuffle(questions)
    held = set(questions[: max(1, round(len(questions) * val_share))])
    return [p for p in pairs if p.question not in held], [p for p in pairs if p.question in held]
