"""The seed's way of running the same models: the baseline every engine row is compared with."""

from __future__ import annotations

import torch

from engine.inference import (
    ReplyGenerator,
    TextClassifier,
    format_turn,
)

SEED_MAX_LENGTH = 64  # the seed padded every message to this many tokens

# The seed's way -----------------------------------------------------------------------------


@torch.inference_mode()
def seed_emotion(classifier: TextClassifier, text: str) -> list[float]:
    batch = classifier.tokenizer(
        [text], padding="max_length", truncation=True, max_length=SEED_MAX_LENGTH, return_tensors="pt"
    ).to(classifier.device)
    logits = classifier.model(**batch).logits
    probs: list[float] = torch.softmax(logits.float(), dim=-1)[0].cpu().tolist()
    return probs


@torch.inference_mode()
def seed_reply(generator: ReplyGenerator, text: str, new_tokens: int) -> list[int]:
    """Greedy, re-running the whole sequence for every token, as the seed's loop did."""
    ids = generator.tokenizer(format_turn(text), return_tensors="pt", add_special_tokens=False)["input_ids"]
    ids = ids.to(generator.device)
    for _ in range(new_tokens):
        mask = torch.ones_like(ids)
        logits = generator.model(input_ids=ids, attention_mask=mask, use_cache=False).logits
        ids = torch.cat([ids, logits[:, -1].argmax(-1, keepdim=True)], dim=1)
    return [int(x) for x in ids[0, -new_tokens:]]
