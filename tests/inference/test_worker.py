"""The inference worker: batching, responsiveness of the event loop, errors and shutdown."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Mapping
from pathlib import Path

import pytest

from engine.errors import EngineClosedError
from engine.inference.models import ModelConfig, ModelSet
from engine.inference.worker import BatchFn, InferenceWorker


def echo_loader(log: list[list[int]], gate: threading.Event | None = None) -> Mapping[str, BatchFn]:
    def double(batch: list[int]) -> list[int]:
        if gate is not None:
            gate.wait(5)
        log.append(list(batch))
        return [x * 2 for x in batch]

    return {"double": double}


async def test_each_caller_gets_its_own_result_and_requests_are_batched() -> None:
    batches: list[list[int]] = []
    worker = InferenceWorker(lambda: echo_loader(batches), batch_size=16, batch_window_s=0.05)
    await worker.start()
    try:
        results = await asyncio.gather(*(worker.submit("double", i) for i in range(40)))
    finally:
        await worker.stop()
    assert results == [i * 2 for i in range(40)]
    assert sorted(x for b in batches for x in b) == list(range(40))
    assert max(len(b) for b in batches) > 1 and all(len(b) <= 16 for b in batches)


async def test_without_a_window_what_queues_during_a_batch_runs_as_the_next_batch() -> None:
    batches: list[list[int]] = []
    started, gate = threading.Event(), threading.Event()

    def double(batch: list[int]) -> list[int]:
        started.set()
        gate.wait(5)
        batches.append(list(batch))
        return [x * 2 for x in batch]

    worker = InferenceWorker(lambda: {"double": double}, batch_size=8, batch_window_s=0)
    await worker.start()
    try:
        first = asyncio.ensure_future(worker.submit("double", 0))
        assert await asyncio.to_thread(started.wait, 5)  # the first request runs, held at the gate
        rest = [asyncio.ensure_future(worker.submit("double", i)) for i in range(1, 11)]
        await asyncio.sleep(0)  # let every submit reach the queue
        gate.set()
        assert await asyncio.gather(first, *rest) == [i * 2 for i in range(11)]
    finally:
        await worker.stop()
    # Nobody waited for a window: the first ran alone, the ten that queued meanwhile ran as
    # one batch of eight (the cap) and one of two.
    assert batches == [[0], list(range(1, 9)), [9, 10]]


async def test_event_loop_stays_responsive_while_the_models_compute(tiny_emotion_model: Path) -> None:
    models = ModelSet(ModelConfig(emotion=str(tiny_emotion_model), reply=None, device="cpu", warmup=False))
    worker = InferenceWorker(models.load)
    await worker.start()

    def heavy(batch: list[str]) -> list[float]:
        started = time.perf_counter()
        while time.perf_counter() - started < 0.3:  # stands in for a slow model on a busy CPU
            models.emotion.classify(batch)  # type: ignore[union-attr]
        return [0.0] * len(batch)

    worker._handlers = {**worker._handlers, "heavy": heavy}
    lags: list[float] = []

    async def ticker() -> None:
        for _ in range(30):
            before = time.perf_counter()
            await asyncio.sleep(0.01)
            lags.append(time.perf_counter() - before - 0.01)

    try:
        await asyncio.gather(ticker(), worker.submit("heavy", "오늘 너무 우울해"))
    finally:
        await worker.stop()
    # The loop kept ticking during 300 ms of model work; lag stays far below the work's duration.
    assert max(lags) < 0.1, max(lags)


async def test_a_failing_batch_reaches_its_callers_and_the_worker_survives() -> None:
    calls = 0

    def flaky(batch: list[int]) -> list[int]:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("boom")
        return batch

    worker = InferenceWorker(lambda: {"flaky": flaky}, batch_window_s=0)
    await worker.start()
    try:
        with pytest.raises(RuntimeError, match="boom"):
            await worker.submit("flaky", 1)
        assert await worker.submit("flaky", 2) == 2
    finally:
        await worker.stop()


async def test_load_errors_surface_from_start() -> None:
    def broken() -> Mapping[str, BatchFn]:
        raise FileNotFoundError("no model")

    worker = InferenceWorker(broken)
    with pytest.raises(FileNotFoundError):
        await worker.start()
    with pytest.raises(EngineClosedError):
        await worker.submit("x", 1)


async def test_shutdown_answers_queued_requests_and_rejects_new_ones() -> None:
    gate = threading.Event()
    batches: list[list[int]] = []
    worker = InferenceWorker(lambda: echo_loader(batches, gate), batch_size=1, batch_window_s=0)
    await worker.start()
    pending = [asyncio.ensure_future(worker.submit("double", i)) for i in range(5)]
    await asyncio.sleep(0)  # let them enqueue
    stopping = asyncio.ensure_future(worker.stop())
    await asyncio.sleep(0.01)
    with pytest.raises(EngineClosedError):
        await worker.submit("double", 99)
    gate.set()
    await stopping
    assert [p.result() for p in pending] == [0, 2, 4, 6, 8]


async def test_shutdown_timeout_cancels_instead_of_hanging() -> None:
    gate = threading.Event()
    worker = InferenceWorker(lambda: echo_loader([], gate), batch_size=1, batch_window_s=0)
    await worker.start()
    pending = [asyncio.ensure_future(worker.submit("double", i)) for i in range(3)]
    await asyncio.sleep(0)
    await worker.stop(grace_s=0.05)
    gate.set()
    done, not_done = await asyncio.wait(pending, timeout=5)
    assert not not_done
    outcomes = [p.exception() for p in done]
    assert any(isinstance(o, EngineClosedError) for o in outcomes)


async def test_a_cancelled_caller_does_not_break_the_batch() -> None:
    gate = threading.Event()
    worker = InferenceWorker(lambda: echo_loader([], gate), batch_size=4, batch_window_s=0.05)
    await worker.start()
    try:
        first = asyncio.ensure_future(worker.submit("double", 1))
        second = asyncio.ensure_future(worker.submit("double", 2))
        await asyncio.sleep(0.01)
        first.cancel()
        gate.set()
        assert await second == 4
    finally:
        await worker.stop()


def test_threads_follow_the_host_load() -> None:
    from engine.inference.threads import LoadAwareThreads

    policy = LoadAwareThreads(max_threads=2, cores=2)
    assert policy.for_load(0.0) == 2
    assert policy.for_load(0.2) == 2  # background noise keeps both threads
    assert policy.for_load(1.0) == 1  # a core's worth of other work: no team barrier to stall on
    assert policy.for_load(2.0) == 1  # never fewer than one
    assert LoadAwareThreads(max_threads=4, cores=16).for_load(6.0) == 4  # capped at the setting


async def test_the_worker_applies_the_thread_count_the_host_load_asks_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import torch

    from engine.inference import threads

    seen: list[int] = []

    def loader() -> Mapping[str, BatchFn]:
        def record(batch: list[int]) -> list[int]:
            seen.append(torch.get_num_threads())
            return batch

        return {"record": record}

    monkeypatch.setattr(threads.LoadAwareThreads, "threads", lambda self: 1)
    before = torch.get_num_threads()
    worker = InferenceWorker(loader, threads=2)
    await worker.start()
    try:
        await worker.submit("record", 0)
        assert seen == [1] and worker.torch_threads == 1
    finally:
        await worker.stop()
        torch.set_num_threads(before)


async def test_fixed_threads_are_not_adapted(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from engine.inference import threads

    monkeypatch.setattr(threads.LoadAwareThreads, "threads", lambda self: 1)
    before = torch.get_num_threads()
    worker = InferenceWorker(
        lambda: {"n": lambda b: [torch.get_num_threads() for _ in b]}, threads=2, adapt_threads=False
    )
    await worker.start()
    try:
        assert await worker.submit("n", 0) == 2
    finally:
        await worker.stop()
        torch.set_num_threads(before)


def test_a_policy_started_before_loading_measures_the_load_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.inference import threads

    # The worker samples before loading: its first batch, right after, already sees the
    # neighbours (one core's worth of other work here) instead of waiting out a window.
    samples = iter([(0.0, 0.0, 0.0), (1.0, 1.5, 0.5)])
    monkeypatch.setattr(threads.LoadAwareThreads, "sample", staticmethod(lambda: next(samples)))
    since = threads.LoadAwareThreads.sample()
    policy = threads.LoadAwareThreads(max_threads=2, cores=2, since=since)
    policy.enabled = True
    assert policy.threads() == 1 and policy.others == pytest.approx(1.0)
