"""Checkpoints with random weights at the real architecture sizes (speed does not depend on what
the weights learned), saved and then loaded through the users' code path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from bench.messages import MESSAGES
from engine.settings import BUNDLED_MODELS

LABELS = ["일상", "기쁨", "불안", "슬픔", "분노", "우울"]

# Architecture sizes only; the weights are random.
KOBERT_BASE: dict[str, Any] = {
    "vocab_size": 8002,
    "hidden_size": 768,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "intermediate_size": 3072,
    "max_position_embeddings": 512,
}
KOGPT2_SMALL: dict[str, Any] = {
    "vocab_size": 51200,
    "n_embd": 768,
    "n_layer": 12,
    "n_head": 12,
    "n_positions": 1024,
}
# For the tests: the same code path in well under a second per row.
TINY_BERT: dict[str, Any] = {
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 64,
    "max_position_embeddings": 128,
}
TINY_GPT2: dict[str, Any] = {"n_embd": 32, "n_layer": 2, "n_head": 2, "n_positions": 128}

# Checkpoints with random weights -----------------------------------------------------------


def _corpus() -> list[str]:
    """Text to train the random GPT-2's BPE on, so prompts tokenize to realistic lengths."""
    texts = list(MESSAGES)
    data = Path(__file__).resolve().parent.parent / "data" / "emotion"
    for path in sorted(data.glob("*.jsonl")) if data.is_dir() else []:
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                texts.append(str(json.loads(line)["text"]))
            except (ValueError, KeyError, TypeError):
                continue
    return texts


def build_random_emotion(out: Path, tiny: bool) -> Path:
    from transformers import BertConfig, BertForSequenceClassification

    from engine.inference import load_tokenizer

    bundled = BUNDLED_MODELS / "kobert-tokenizer"
    if bundled.is_dir():
        tokenizer = load_tokenizer(str(bundled))
    else:  # an installed package without models/: a small KoBERT-format vocabulary of our own
        from training.tokenizers import train_kobert_style_tokenizer

        tokenizer = train_kobert_style_tokenizer(MESSAGES * 3, out / "_tok", vocab_size=300)
    sizes = dict(TINY_BERT) if tiny else dict(KOBERT_BASE)
    sizes["vocab_size"] = max(len(tokenizer), sizes.get("vocab_size", 0))
    sizes.update(
        num_labels=len(LABELS),
        id2label=dict(enumerate(LABELS)),
        label2id={label: i for i, label in enumerate(LABELS)},
        pad_token_id=tokenizer.pad_token_id,
    )
    config = BertConfig(**sizes)
    torch.manual_seed(0)
    BertForSequenceClassification(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def build_random_reply(out: Path, tiny: bool) -> Path:
    from transformers import GPT2Config, GPT2LMHeadModel

    from training.tokenizers import train_chat_tokenizer

    tokenizer = train_chat_tokenizer(_corpus(), vocab_size=400 if tiny else 8000)
    sizes = dict(TINY_GPT2) if tiny else dict(KOGPT2_SMALL)
    # The model keeps KoGPT2's 51,200-entry vocabulary (the LM head's cost); ids the small BPE
    # does not know decode to nothing, which the timing does not care about.
    sizes["vocab_size"] = max(len(tokenizer), sizes.get("vocab_size", 0))
    config = GPT2Config(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        **sizes,
    )
    torch.manual_seed(0)
    GPT2LMHeadModel(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
