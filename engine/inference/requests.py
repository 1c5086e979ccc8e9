"""What a reply request is, and the rules its decoding follows: plain data, no torch, so the
conversation (and a remote client) can build requests without loading any model code."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from engine.types import ChatTurn


@dataclass(frozen=True)
class SamplingRules:
    temperature: float = 0.8
    top_k: int = 50
    top_p: float = 0.9
    repetition_penalty: float = 1.2
    no_repeat_ngram_size: int = 3
    do_sample: bool = True


USR, SYS, SENT, EOS, PAD = "<usr>", "<sys>", "<unused1>", "</s>", "<pad>"
CHAT_TOKENS = (USR, SYS, SENT)


@dataclass(frozen=True)
class DecodingConfig(SamplingRules):
    """How a reply is decoded: the sampling rules plus its length."""

    max_new_tokens: int = 32
    # The benchmark sets this to max_new_tokens so every timed reply has the same length.
    min_new_tokens: int = 0


@dataclass(frozen=True)
class GenerationRequest:
    message: str
    history: tuple[ChatTurn, ...] = field(default_factory=tuple)


def format_turn(question: str, answer: str | None = None) -> str:
    prompt = f"{USR}{question}{SENT}{SYS}"
    return prompt if answer is None else f"{prompt}{answer}{EOS}"


def clean_reply(text: str) -> str:
    """Tidy decoded text: no chat tokens, one space, no repeated sentences, no dangling half sentence."""
    text = text.split(EOS)[0].split(USR)[0]  # the model started a new turn: that is not the reply
    for token in (SYS, SENT, PAD, "\ufffd"):  # U+FFFD: a multi-byte character cut off by the cap
        text = text.replace(token, " ")
    text = " ".join(text.split())
    sentences = re.split(r"(?<=[.!?])\s+", text)
    kept: list[str] = []
    for sentence in sentences:
        if sentence and sentence not in kept:
            kept.append(sentence)
    text = " ".join(kept)
    return text.strip()
