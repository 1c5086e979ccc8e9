"""One dedicated thread owns the models; async callers await results without blocking the loop.

Requests that queue up while a batch runs are run together as the next batch, one per kind,
which is where the throughput under many users comes from. An optional window makes the
worker wait a little for companions before a batch; by default it does not wait (measured:
the 5 ms window cost a lone message ~10 ms and gained no throughput, docs/performance.md).
Shutdown answers what was already queued, rejects new work, and cancels whatever is still
waiting after the timeout: nothing hangs.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from engine.errors import EngineClosedError
from engine.inference.threads import LoadAwareThreads, Sample, default_threads

log = logging.getLogger(__name__)

BatchFn = Callable[[list[Any]], list[Any]]
Loader = Callable[[], Mapping[str, BatchFn]]


@dataclass
class _Job:
    kind: str
    payload: Any
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop


_STOP = object()


def _resolve(job: _Job, result: Any = None, error: BaseException | None = None) -> None:
    def apply() -> None:
        if job.future.done():  # the caller gave up (cancelled); nothing to deliver
            return
        if error is not None:
            job.future.set_exception(error)
        else:
            job.future.set_result(result)

    try:
        job.loop.call_soon_threadsafe(apply)
    except RuntimeError:  # the caller's loop is already closed
        pass


class InferenceWorker:
    def __init__(
        self,
        loader: Loader,
        *,
        batch_size: int = 16,
        batch_window_s: float = 0.0,
        threads: int | None = None,
        adapt_threads: bool = True,
        name: str = "maeum-inference",
    ) -> None:
        self._loader = loader
        self.batch_size = batch_size
        self.batch_window_s = batch_window_s
        self._threads = threads
        # torch threads follow the host's load (engine/inference/threads.py); False: always ``threads``.
        self._adapt_threads = adapt_threads
        self._thread_policy: Any = None
        self._torch: Any = None
        self._torch_threads = 0
        self._queue: queue.Queue[_Job | object] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._handlers: Mapping[str, BatchFn] = {}
        self._ready = threading.Event()
        self._load_error: BaseException | None = None
        self._closing = False
        self.batches_run = 0
        self.largest_batch = 0

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(self._handlers)

    async def start(self) -> None:
        """Start the thread and wait (without blocking the loop) until the models are loaded."""
        self._thread.start()
        await asyncio.to_thread(self._ready.wait)
        if self._load_error is not None:
            raise self._load_error

    async def submit(self, kind: str, payload: Any) -> Any:
        if self._closing or not self._thread.is_alive():
            raise EngineClosedError("the inference worker is stopped")
        if kind not in self._handlers:
            raise KeyError(f"no model for {kind!r}")
        loop = asyncio.get_running_loop()
        job = _Job(kind, payload, loop.create_future(), loop)
        self._queue.put(job)
        return await job.future

    async def stop(self, grace_s: float = 30.0) -> None:
        """Answer queued requests, then stop; cancel whatever is still queued after ``grace_s``."""
        if self._closing:
            return
        self._closing = True
        self._queue.put(_STOP)
        if self._thread.is_alive():
            await asyncio.to_thread(self._thread.join, grace_s)
        self._cancel_remaining()

    def _cancel_remaining(self) -> None:
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if isinstance(item, _Job):
                _resolve(item, error=EngineClosedError("the engine shut down before this request ran"))

    # The thread -----------------------------------------------------------------------------

    def _run(self) -> None:
        # The host's load is measured from here, so the first batch (often the first message,
        # moments after loading) already gets the thread count for it, not the maximum.
        since = LoadAwareThreads.sample()
        try:
            if self._threads:
                import torch

                torch.set_num_threads(self._threads)
            self._handlers = dict(self._loader())
            self._setup_threads(since)
        except BaseException as exc:
            self._load_error = exc
            self._closing = True
            return
        finally:
            self._ready.set()
        while True:
            batch, stop = self._collect()
            if batch:
                self._execute(batch)
            if stop:
                return

    def _setup_threads(self, since: Sample | None = None) -> None:
        torch = sys.modules.get("torch")  # only models that use torch have imported it
        if torch is None:
            return
        self._torch = torch
        self._torch_threads = torch.get_num_threads()
        if self._adapt_threads:
            # torch's own default, not the current count: an earlier worker may have lowered it.
            self._thread_policy = LoadAwareThreads(self._threads or default_threads(torch), since=since)

    @property
    def torch_threads(self) -> int:
        """The torch threads the last batch ran with (0 before any, or without torch)."""
        return self._torch_threads

    def _pick_threads(self) -> None:
        if self._thread_policy is None:
            return
        wanted = self._thread_policy.apply(self._torch)
        if wanted != self._torch_threads:
            self._torch_threads = wanted
            log.debug("torch threads now %d (others used %.2f cores)", wanted, self._thread_policy.others)

    def _collect(self) -> tuple[list[_Job], bool]:
        first = self._queue.get()
        if first is _STOP:
            return [], True
        assert isinstance(first, _Job)
        batch = [first]
        deadline = time.monotonic() + self.batch_window_s
        while len(batch) < self.batch_size:
            remaining = deadline - time.monotonic()
            try:
                item = self._queue.get(timeout=remaining) if remaining > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            if item is _STOP:
                return batch, True
            assert isinstance(item, _Job)
            batch.append(item)
        return batch, False

    def _execute(self, batch: list[_Job]) -> None:
        self._pick_threads()
        groups: dict[str, list[_Job]] = {}
        for job in batch:
            if not job.future.cancelled():
                groups.setdefault(job.kind, []).append(job)
        for kind, jobs in groups.items():
            self.batches_run += 1
            self.largest_batch = max(self.largest_batch, len(jobs))
            try:
                results = self._handlers[kind]([j.payload for j in jobs])
                if len(results) != len(jobs):
                    raise RuntimeError(f"{kind} returned {len(results)} results for {len(jobs)} inputs")
            except Exception as exc:
                # Type and code location only: exception messages can quote the input text.
                where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
                log.error(
                    "inference failed for a batch of %d %s request(s): %s at %s:%s",
                    len(jobs),
                    kind,
                    type(exc).__name__,
                    where.filename if where else "?",
                    where.lineno if where else "?",
                )
                for job in jobs:
                    _resolve(job, error=exc)
                continue
            for job, result in zip(jobs, results, strict=True):
                _resolve(job, result)
