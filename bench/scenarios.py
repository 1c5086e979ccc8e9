"""The timed scenarios: emotion, one reply, batched replies, one message end to end, many users
at once, each next to the seed's way on the same device."""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bench.baselines import seed_emotion, seed_reply
from bench.floor import DecodeProbe, bytes_per_token, decode_summary, read_bandwidth
from bench.machine import on_fresh_thread
from bench.messages import MESSAGES
from bench.options import BenchOptions
from bench.report import Row, percentiles
from engine.conversation import ConversationPolicy
from engine.inference import (
    DecodingConfig,
    GenerationRequest,
    ReplyGenerator,
    TextClassifier,
    resolve_precision,
)

# Timing -------------------------------------------------------------------------------------


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_calls(fn: Callable[[int], object], n: int, device: torch.device, warmup: int = 1) -> list[float]:
    """Milliseconds for each of ``n`` calls ``fn(i)``, after ``warmup`` untimed calls."""
    for i in range(warmup):
        fn(i)
    samples = []
    for i in range(n):
        _sync(device)
        started = time.perf_counter()
        fn(i)
        _sync(device)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


async def time_async(
    fn: Callable[[int], Awaitable[object]], n: int, device: torch.device, warmup: int = 1
) -> list[float]:
    for i in range(warmup):
        await fn(i)
    samples = []
    for i in range(n):
        started = time.perf_counter()
        await fn(i)
        _sync(device)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


@contextmanager
def count_forwards(model: torch.nn.Module) -> Iterator[list[int]]:
    calls: list[int] = []
    handle = model.register_forward_pre_hook(lambda *_: calls.append(1))
    try:
        yield calls
    finally:
        handle.remove()


def message(i: int) -> str:
    return MESSAGES[i % len(MESSAGES)]


# The suites ---------------------------------------------------------------------------------


class Suite:
    """All rows for one device, against the seed's way on that device."""

    def __init__(
        self,
        options: BenchOptions,
        device: torch.device,
        emotion_dir: Path,
        reply_dir: Path,
        weights: dict[str, str],
    ) -> None:
        self.options = options
        self.device = device
        self.emotion_dir = emotion_dir
        self.reply_dir = reply_dir
        self.weights = weights
        self.counts = options.counts()
        self.rows: list[Row] = []
        self.decoding = DecodingConfig(max_new_tokens=options.new_tokens, min_new_tokens=options.new_tokens)
        self.dev = "cuda" if device.type == "cuda" else "cpu"
        self.bandwidth: dict[int, float] = {}  # read GB/s by thread count (CPU suites)

    def row(
        self, group: str, path: str, precision: str, samples: Sequence[float], seed: float | None, **kw: Any
    ) -> Row:
        median, p95 = percentiles(samples)
        weights = self.weights[group] if group in self.weights else self.message_weights()
        row = Row(
            group,
            path,
            self.dev,
            precision,
            weights,
            median,
            p95,
            len(samples),
            vs_seed=(seed / median) if seed and median else None,
            **kw,
        )
        self.rows.append(row)
        return row

    def message_weights(self) -> str:
        emotion, reply = self.weights["emotion"], self.weights["reply"]
        return emotion if emotion == reply else "mixed"  # the settings line names both

    async def run(self) -> list[Row]:
        from engine.client import InProcessEngine
        from engine.inference import ModelConfig, ModelSet
        from engine.store import EmotionStore

        # The fp32 models are loaded in a method of their own, so they are freed before the engine's.
        # Blocks the loop on purpose: nothing else runs meanwhile, and the thread must be gone
        # before the engine's worker is timed (see on_fresh_thread).
        seed_e, seed_r = on_fresh_thread(self._fp32_rows, threads=self.options.threads)
        if self.device.type == "cpu":
            # Before the engine starts, on threads that end (see on_fresh_thread): 1 and 2 threads
            # and the count the engine starts with.
            engine_threads = self.options.threads or torch.get_num_threads()
            counts = {1, min(2, os.cpu_count() or 1), engine_threads}
            self.bandwidth = read_bandwidth(sorted(counts), self.options.tiny)
        emotion_precision = resolve_precision(self.options.emotion_precision, self.device)
        reply_precision = resolve_precision(self.options.reply_precision, self.device)
        seed_message = (seed_e.median_ms or 0) + (seed_r.median_ms or 0)
        seed_message_p95 = (seed_e.p95_ms or 0) + (seed_r.p95_ms or 0)

        # The engine: ModelSet on the worker thread, batching, the store ----------------------
        config = ModelConfig(
            emotion=str(self.emotion_dir),
            reply=str(self.reply_dir),
            device=self.dev,
            decoding=self.decoding,
            emotion_precision=emotion_precision,
            emotion_runtime=self.options.emotion_runtime,
            reply_precision=reply_precision,
        )
        with tempfile.TemporaryDirectory(prefix="maeum-bench-db-") as db_dir:
            engine = InProcessEngine(
                ModelSet(config),
                EmotionStore(f"sqlite+aiosqlite:///{Path(db_dir) / 'bench.db'}"),
                # Every message must reach both models: no bank (none configured), no rate limit.
                ConversationPolicy(rate_per_minute=0),
                batch_size=self.options.batch_size,
                batch_window_s=self.options.batch_window_ms / 1000,
                threads=self.options.threads,
            )
            await engine.start()
            try:
                await self._engine_rows(engine, emotion_precision, reply_precision, seed_e, seed_r)
                self.rows.append(
                    Row(
                        "message",
                        "seed: emotion + reply, one at a time",
                        self.dev,
                        "fp32",
                        self.message_weights(),
                        seed_message,
                        seed_message_p95,
                        min(seed_e.n, seed_r.n),
                        vs_seed=1.0,
                        note="sum of the seed emotion and seed reply rows",
                    )
                )
                await self._message_rows(engine, emotion_precision, reply_precision, seed_message)
            finally:
                await engine.close()
        order = ["emotion", "reply", "decode", "message", "users"]
        return sorted(self.rows, key=lambda r: order.index(r.group))

    def _fp32_rows(self) -> tuple[Row, Row]:
        """The seed's way and plain fp32 (unpadded, KV cache), called directly; returns the seed rows."""
        c = self.counts
        new = self.options.new_tokens
        fp32_cls = TextClassifier.load(self.emotion_dir, self.device, precision="fp32")
        # transformers' generate, as a straightforward fix of the seed would use it.
        fp32_gen = ReplyGenerator.load(
            self.reply_dir, self.device, self.decoding, precision="fp32", lean=False
        )

        # Emotion ------------------------------------------------------------------------
        seed_e = self.row(
            "emotion",
            "seed: padded to 64, one at a time",
            "fp32",
            time_calls(lambda i: seed_emotion(fp32_cls, message(i)), c["emotion"], self.device),
            None,
        )
        seed_e.vs_seed = 1.0
        tokens = np.mean([len(fp32_cls.tokenizer(m)["input_ids"]) for m in MESSAGES])
        self.row(
            "emotion",
            "unpadded (padding to the longest)",
            "fp32",
            time_calls(lambda i: fp32_cls.classify([message(i)]), c["emotion"], self.device),
            seed_e.median_ms,
            note=f"{tokens:.0f} tokens on average",
        )

        # Replies (direct calls; the engine's own rows come through the worker below) --------
        seed_reply(fp32_gen, message(0), 2)  # warms the same kernels as a full reply, in a tenth of the time
        seed_r = self.row(
            "reply",
            f"seed: no KV cache, {new} tokens",
            "fp32",
            time_calls(
                lambda i: seed_reply(fp32_gen, message(i), new), c["seed_reply"], self.device, warmup=0
            ),
            None,
        )
        seed_r.vs_seed = 1.0
        with count_forwards(fp32_gen.model) as calls:
            samples = time_calls(
                lambda i: fp32_gen.generate([GenerationRequest(message(i))]), c["reply"], self.device
            )
        self.row(
            "reply",
            f"transformers generate, KV cache, {new} tokens",
            "fp32",
            samples,
            seed_r.median_ms,
            note=f"{len(calls) / (c['reply'] + 1):.0f} forward passes per reply",
        )
        # The engine's precision through transformers' generate: what the lean GPT-2 loop adds.
        reply_precision = resolve_precision(self.options.reply_precision, self.device)
        stock = ReplyGenerator.load(
            self.reply_dir, self.device, self.decoding, precision=reply_precision, lean=False
        )
        self.row(
            "reply",
            "transformers generate, KV cache",
            reply_precision,
            time_calls(lambda i: stock.generate([GenerationRequest(message(i))]), c["reply"], self.device),
            seed_r.median_ms,
            note="the engine's rows below use maeum's lean GPT-2 loop instead",
        )
        return seed_e, seed_r

    async def _engine_rows(
        self, engine: Any, emotion_precision: str, reply_precision: str, seed_e: Row, seed_r: Row
    ) -> None:
        c = self.counts
        worker = engine.worker
        self.row(
            "emotion",
            "engine: worker thread",
            emotion_precision,
            await time_async(lambda i: worker.submit("emotion", message(i)), c["emotion"], self.device),
            seed_e.median_ms,
        )
        generator = engine.models.generator
        decoder = getattr(generator, "decoder", None)
        probe = DecodeProbe()
        # The same replies also time each decoding step (two clock reads per forward pass).
        with probe.watching(decoder) if decoder is not None and self.bandwidth else nullcontext(probe):
            self.row(
                "reply",
                "engine: worker thread, lean GPT-2 loop",
                reply_precision,
                await time_async(
                    lambda i: worker.submit("reply", GenerationRequest(message(i))), c["reply"], self.device
                ),
                seed_r.median_ms,
            )
        self._decode_row(probe, generator, reply_precision)
        batch = min(8, self.options.batch_size)

        async def together(i: int) -> object:
            return await asyncio.gather(
                *(worker.submit("reply", GenerationRequest(message(i + k))) for k in range(batch))
            )

        self.row(
            "reply",
            f"engine: {batch} replies at once (batched)",
            reply_precision,
            await time_async(together, max(2, c["reply"] // 2), self.device),
            seed_r.median_ms * batch if seed_r.median_ms else None,
            note=f"time for all {batch}; x seed against {batch} seed replies",
        )

    def _decode_row(self, probe: DecodeProbe, generator: Any, reply_precision: str) -> None:
        """ms per decoding step of the engine's replies against the memory floor (CPU only)."""
        weights = bytes_per_token(generator.model) if generator is not None else None
        # The first reply was the untimed warm-up.
        summary = decode_summary(probe.replies[1:], weights, self.bandwidth) if weights else None
        if summary is None:
            return
        t = summary["threads"]
        plural = "thread" if t == 1 else "threads"
        by_threads = ", ".join(f"{gbs:.1f} GB/s at {n}" for n, gbs in summary["read_gbs_by_threads"].items())
        self.rows.append(
            Row(
                "decode",
                f"engine: decode step (ms/token), {t} {plural}",
                self.dev,
                reply_precision,
                self.weights["reply"],
                summary["ms_per_token"],
                summary["ms_per_token_p95"],
                len(summary["samples_ms"]),
                note=(
                    f"prompt excluded; {summary['vs_floor']:.2f}x the memory floor "
                    f"{summary['floor_ms']:.3g} ms = {summary['bytes_per_token'] / 1e6:.4g} MB/token "
                    f"at {summary['read_gbs']:.1f} GB/s (read: {by_threads} threads); "
                    f"forward pass alone {summary['forward_ms_per_token']:.2f} ms"
                ),
                extra=summary,
            )
        )

    async def _message_rows(
        self, engine: Any, emotion_precision: str, reply_precision: str, seed_message: float
    ) -> None:
        from engine.types import IncomingMessage, UserRef

        c = self.counts
        precision = (
            f"{emotion_precision}/{reply_precision}"
            if emotion_precision != reply_precision
            else reply_precision
        )
        # A fresh person for every message: no rate limit or context from earlier bench messages.
        needed = c["message"] + 1 + 2 * c["rounds"] * self.options.users
        users = [UserRef("bench", f"u{i}") for i in range(needed)]
        for user in users:
            await engine.set_consent(user, True)
        fresh = iter(users)
        sources: dict[str, int] = {}

        async def respond(i: int) -> object:
            result = await engine.respond(IncomingMessage(next(fresh), message(i)))
            sources[str(result.source)] = sources.get(str(result.source), 0) + 1
            return result

        self.row(
            "message",
            "engine: emotion + store + reply",
            precision,
            await time_async(respond, c["message"], self.device),
            seed_message,
            note="InProcessEngine.respond, one user at a time",
        )

        n_users = self.options.users
        alone: list[float] = []
        together: list[float] = []
        alone_s = together_s = 0.0
        for _ in range(c["rounds"]):
            started = time.perf_counter()
            for _ in range(n_users):
                alone += await time_async(respond, 1, self.device, warmup=0)
            alone_s += time.perf_counter() - started

            async def timed(i: int) -> float:
                t0 = time.perf_counter()
                await respond(i)
                return (time.perf_counter() - t0) * 1000

            started = time.perf_counter()
            together += await asyncio.gather(*(timed(i) for i in range(n_users)))
            together_s += time.perf_counter() - started
        total = n_users * c["rounds"]
        seed_rate = 1000 / seed_message if seed_message else None
        alone_rate, together_rate = total / alone_s, total / together_s
        row = self.row(
            "users",
            f"{n_users} users, served one at a time",
            precision,
            alone,
            None,
            note=f"{alone_rate:.2f} msg/s",
            extra={"throughput_msg_s": alone_rate},
        )
        row.vs_seed = alone_rate / seed_rate if seed_rate else None
        row = self.row(
            "users",
            f"{n_users} users at once (batch {self.options.batch_size}, {self.options.batch_window_ms:g} ms)",
            precision,
            together,
            None,
            note=f"{together_rate:.2f} msg/s, {together_rate / alone_rate:.1f}x one at a time",
            extra={"throughput_msg_s": together_rate, "vs_one_at_a_time": together_rate / alone_rate},
        )
        row.vs_seed = together_rate / seed_rate if seed_rate else None
        # Only answers that ran the models count: a guard or crisis reply would flatter the timing.
        row.extra["answered_by"] = dict(sources)
        skipped = sum(n for k, n in sources.items() if k not in ("generated", "fallback", "intent"))
        if skipped:
            row.note += f"; WARNING: {skipped} answers skipped the models"
