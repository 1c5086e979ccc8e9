"""Watch a language model decode: the number of new tokens each forward step processes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from torch import nn


@contextmanager
def step_lengths(model: nn.Module) -> Iterator[list[int]]:
    """Tokens embedded per step, via the token embedding: every decoding path calls it once a step
    (transformers' ``generate`` and maeum's lean GPT-2 loop alike)."""
    lengths: list[int] = []
    embedding = model.get_input_embeddings()  # type: ignore[operator]

    def record(_module: Any, args: tuple[Any, ...]) -> None:
        lengths.append(int(args[0].shape[1]))

    handle = embedding.register_forward_pre_hook(record)
    try:
        yield lengths
    finally:
        handle.remove()
