"""A busy host: one message at a time while CPU-bound neighbours use every core.

The engine (KoBERT-base emotion + KoGPT2 reply, through the worker thread) answers one message
at a time, first on the host as it is, then with one spinning process per core beside it; the
same again with the torch thread count held fixed (what the engine did before its threads
followed the host's load, engine/inference/threads.py). All four in the same run, so the
ratios mean something even on a shared machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.machine import LoadMeter
from bench.messages import MESSAGES
from bench.options import BenchOptions
from bench.report import Goal, Row, percentiles
from engine.inference import DecodingConfig, GenerationRequest, InferenceWorker, ModelConfig, ModelSet
from engine.inference.threads import available_cores

NEIGHBOUR = "while True: pass"


class Neighbours:
    """One CPU-bound process per core (plain Python loops: no threads of their own)."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.procs: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> Neighbours:
        self.procs = [subprocess.Popen([sys.executable, "-c", NEIGHBOUR]) for _ in range(self.count)]
        time.sleep(0.5)  # running, and seen by the engine's load window
        return self

    def __exit__(self, *exc: object) -> None:
        for p in self.procs:
            p.kill()
        for p in self.procs:
            p.wait()


async def _phase(worker: InferenceWorker, n: int, busy: int) -> tuple[list[float], float | None, list[int]]:
    async def one(i: int) -> float:
        text = MESSAGES[i % len(MESSAGES)]
        t0 = time.perf_counter()
        await worker.submit("emotion", text)
        await worker.submit("reply", GenerationRequest(text))
        return (time.perf_counter() - t0) * 1000

    samples: list[float] = []
    threads: list[int] = []
    ctx: Any = Neighbours(busy) if busy else contextlib.nullcontext()
    with ctx:
        await one(0)  # untimed: lets the thread count settle to this host
        meter = LoadMeter()
        for i in range(n):
            samples.append(await one(i + 1))
            threads.append(worker.torch_threads)
        # Read before the neighbours are reaped (then they would count as this process's own).
        share = meter.other_share()
    return samples, share, threads


def busy_host_rows(options: BenchOptions, emotion_dir: Path, reply_dir: Path, weights: str) -> list[Row]:
    n = {True: 3}.get(options.tiny, 8 if options.quick else 20)
    cores = available_cores()
    configured = options.threads or cores
    config = ModelConfig(
        emotion=str(emotion_dir),
        reply=str(reply_dir),
        device="cpu",
        decoding=DecodingConfig(max_new_tokens=options.new_tokens, min_new_tokens=options.new_tokens),
        emotion_precision=options.emotion_precision,
        emotion_runtime=options.emotion_runtime,
        reply_precision=options.reply_precision,
    )
    rows: list[Row] = []
    for adapt, label in ((True, "load-aware threads"), (False, f"fixed {configured} threads (before)")):
        # The fixed worker sets its count itself: the load-aware one before it may have lowered it.
        threads = options.threads if adapt else configured
        worker = InferenceWorker(ModelSet(config).load, threads=threads, adapt_threads=adapt)

        async def both(w: InferenceWorker = worker) -> list[tuple[list[float], float | None, list[int]]]:
            await w.start()
            try:
                return [await _phase(w, n, 0), await _phase(w, n, cores)]
            finally:
                await w.stop()

        phases = asyncio.run(both())
        precision = "int8" if options.reply_precision in ("auto", "int8") else options.reply_precision
        for (samples, share, threads), where in zip(
            phases, ("idle", f"{cores} CPU-bound neighbours"), strict=True
        ):
            median, p95 = percentiles(samples)
            used = sorted(set(threads))
            rows.append(
                Row(
                    "busy host",
                    f"message, {label}: {where}",
                    "cpu",
                    precision,
                    weights,
                    median,
                    p95,
                    len(samples),
                    note=(
                        f"p95/p50 {p95 / median:.2f}; torch threads {'/'.join(map(str, used))}; "
                        f"others used {(share or 0) * 100:.0f}% of the CPU; max {max(samples):.0f} ms"
                    ),
                    extra={
                        "adapt_threads": adapt,
                        "neighbours": cores if "neighbours" in where else 0,
                        "other_cpu_share": share,
                        "threads": threads,
                        "samples_ms": samples,
                    },
                )
            )
    return rows


def busy_host_goals(rows: list[Row]) -> list[Goal]:
    def find(adapt: bool, busy: bool) -> Row | None:
        return next(
            (
                r
                for r in rows
                if r.group == "busy host"
                and r.extra.get("adapt_threads") == adapt
                and bool(r.extra.get("neighbours")) == busy
            ),
            None,
        )

    goals: list[Goal] = []
    loaded, idle, fixed_idle = find(True, True), find(True, False), find(False, False)
    if loaded is not None and loaded.median_ms and loaded.p95_ms is not None:
        ratio = loaded.p95_ms / loaded.median_ms
        goals.append(Goal("busy host: message p95 / p50 (CPU)", ratio, "<= 2", ratio <= 2))
    if idle is not None and fixed_idle is not None and idle.median_ms and fixed_idle.median_ms:
        change = idle.median_ms / fixed_idle.median_ms
        goals.append(
            Goal("busy host: idle p50, load-aware / fixed threads", change, "<= 1.05", change <= 1.05)
        )
    return goals
