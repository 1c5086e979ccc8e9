"""Decoding against the memory-bandwidth floor: how fast one token could be if reading the weights
were all a step did, measured on the same machine in the same run.

- **Read bandwidth**: torch reductions (a sum and a max) over a buffer much larger than the
  caches (512 MB; a small one in the tests' tiny mode, which is then no measurement), on a fresh
  thread at a given thread count (see ``on_fresh_thread``), best of a few repeats, in GB/s.
- **Bytes per token**: counted from the loaded reply model, module by module: every linear
  layer's weight and bias as stored (int8 for the quantized ones, the LM head included), the
  layer norms, and one row of each embedding. The KV cache is left out: a few MB a step that
  stays in the caches between steps.
- **ms per token**: from the engine's own replies, the time after the prompt's forward pass
  (prefill) until the reply is done, divided by the decoding steps; each step is one forward
  pass and the sampling of its token.

floor = bytes per token / bandwidth at the thread count the replies ran with; ratio = ms per
token / floor.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from bench.machine import on_fresh_thread

BANDWIDTH_MB = 512  # far beyond any L3 this bench runs on
TINY_BANDWIDTH_MB = 8  # the tests' smoke run: the code path, not a measurement


# Read bandwidth -----------------------------------------------------------------------------


def _read_gbs(megabytes: int, repeats: int) -> float:
    """Best GB/s of a sum and a max over a float32 buffer of ``megabytes``, on this thread."""
    data = torch.ones(megabytes * (1 << 20) // 4, dtype=torch.float32)
    nbytes = data.numel() * data.element_size()
    best = float("inf")
    for reduce in (torch.sum, torch.amax):
        reduce(data)  # warm-up: pages touched, threads started
        for _ in range(repeats):
            started = time.perf_counter()
            reduce(data)
            best = min(best, time.perf_counter() - started)
    return nbytes / best / 1e9


def read_bandwidth(threads: Sequence[int], tiny: bool = False) -> dict[int, float]:
    """GB/s at each thread count, each on a fresh thread that ends before the engine is timed."""
    megabytes, repeats = (TINY_BANDWIDTH_MB, 2) if tiny else (BANDWIDTH_MB, 5)
    return {t: on_fresh_thread(_read_gbs, megabytes, repeats, threads=t) for t in sorted(set(threads))}


# Bytes a decoding step reads ----------------------------------------------------------------


def _dynamic_int8(module: nn.Module) -> bool:
    return type(module).__module__.startswith("torch.ao.nn.quantized.dynamic")


def _nbytes(tensor: torch.Tensor | None) -> int:
    return 0 if tensor is None else tensor.numel() * tensor.element_size()


def bytes_per_token(model: nn.Module) -> dict[str, int]:
    """Bytes of the model one decoding step (one token, batch 1) reads, by kind, and the total."""
    counts = {"int8_linears": 0, "float_linears": 0, "lm_head": 0, "norms": 0, "embedding_rows": 0}
    for name, module in model.named_modules():
        if _dynamic_int8(module):
            weight, bias = module._packed_params._weight_bias()
            size = _nbytes(weight) + _nbytes(bias)
            kind = "int8_linears"
        elif isinstance(module, nn.Linear) or type(module).__name__ == "Conv1D":
            size = _nbytes(module.weight) + _nbytes(getattr(module, "bias", None))
            kind = "float_linears"
        elif isinstance(module, nn.LayerNorm):
            size = _nbytes(module.weight) + _nbytes(module.bias)
            kind = "norms"
        elif isinstance(module, nn.Embedding):
            size = module.weight.shape[1] * module.weight.element_size()  # one row per token
            kind = "embedding_rows"
        else:
            continue
        counts["lm_head" if name.split(".")[-1] == "lm_head" else kind] += size
    counts["total"] = sum(counts.values())
    return counts


# Timing the engine's decoding steps ---------------------------------------------------------


@dataclass
class Reply:
    started: float
    ended: float
    forwards: list[tuple[float, float]]
    threads: int
    batch: int
    prompt_tokens: int

    @property
    def steps(self) -> int:
        return len(self.forwards) - 1  # the first is the prompt (prefill)

    def step_ms(self) -> float:
        return (self.ended - self.forwards[0][1]) * 1000 / self.steps

    def forward_ms(self) -> float:
        return float(np.mean([(end - start) * 1000 for start, end in self.forwards[1:]]))

    def prefill_ms(self) -> float:
        return (self.forwards[0][1] - self.started) * 1000


@dataclass
class DecodeProbe:
    """Times each forward pass of a ``GPT2Decoder`` while active, on whichever thread runs it."""

    replies: list[Reply] = field(default_factory=list)

    @contextmanager
    def watching(self, decoder: Any) -> Iterator[DecodeProbe]:
        forward, generate = decoder._forward, decoder.generate

        def timed_forward(*args: Any, **kwargs: Any) -> torch.Tensor:
            started = time.perf_counter()
            logits: torch.Tensor = forward(*args, **kwargs)
            current.append((started, time.perf_counter()))
            return logits

        def timed_generate(prompts: Sequence[Sequence[int]], **kwargs: Any) -> list[list[int]]:
            current.clear()
            started = time.perf_counter()
            out: list[list[int]] = generate(prompts, **kwargs)
            ended = time.perf_counter()
            threads = torch.get_num_threads()  # the worker's own count, set per batch
            self.replies.append(Reply(started, ended, list(current), threads, len(prompts), len(prompts[0])))
            return out

        current: list[tuple[float, float]] = []
        # Instance attributes shadow the methods; generate calls self._forward, so it finds ours.
        decoder._forward, decoder.generate = timed_forward, timed_generate
        try:
            yield self
        finally:
            del decoder._forward, decoder.generate


def decode_summary(
    replies: Sequence[Reply], weights: dict[str, int], bandwidth: dict[int, float]
) -> dict[str, Any] | None:
    """ms per token, the floor and the ratio, from single-prompt replies with at least one step."""
    usable = [r for r in replies if r.batch == 1 and r.steps >= 1]
    if not usable or not bandwidth:
        return None
    threads = Counter(r.threads for r in usable).most_common(1)[0][0]
    # The bandwidth at that count; a count not measured uses the nearest one below it.
    measured_at = max((t for t in bandwidth if t <= threads), default=min(bandwidth))
    gbs = bandwidth[measured_at]
    steps = [r.step_ms() for r in usable]
    median = float(np.median(steps))
    floor_ms = weights["total"] / (gbs * 1e9) * 1000
    return {
        "ms_per_token": median,
        "ms_per_token_p95": float(np.percentile(steps, 95)),
        "forward_ms_per_token": float(np.median([r.forward_ms() for r in usable])),
        "prefill_ms": float(np.median([r.prefill_ms() for r in usable])),
        "prompt_tokens": float(np.mean([r.prompt_tokens for r in usable])),
        "steps_per_reply": usable[0].steps,
        "replies": len(usable),
        "threads": threads,
        "threads_seen": sorted({r.threads for r in usable}),
        "bandwidth_threads": measured_at,
        "read_gbs": gbs,
        "read_gbs_by_threads": {str(t): v for t, v in sorted(bandwidth.items())},
        "bytes_per_token": weights["total"],
        "bytes_by_kind": {k: v for k, v in weights.items() if k != "total"},
        "floor_ms": floor_ms,
        "vs_floor": median / floor_ms,
        "samples_ms": steps,
    }
