"""How many torch threads the inference worker uses, batch by batch: fewer when the host is busy.

Measured on the 2-core VM (docs/performance.md, "A busy host"): with two CPU-bound processes
beside it, a message at 2 torch threads took p50 1.4 s and p95 19.6 s (9.6 s p95 in the issue),
against 0.22 s idle; at 1 thread it took p50 0.62 s and p95 1.05 s. The cause is OpenMP's
team barrier. A 32-token reply runs ~8,000 small parallel regions and each ends with both
threads waiting for each other. When the scheduler has given one thread's core to the
neighbour, the other waits (spinning, then asleep) for up to a scheduler time slice, at every
region. A single thread has no barrier to wait at and only runs at its share of a core.
Idle, two threads are faster (~1.5x on a reply), so the count follows the load: before each
batch the worker asks how much CPU *other* processes used recently and runs with as many
threads as there are cores left for it (at least one, at most the configured count).
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Any

# A core counts as free for another torch thread while others use at most a quarter of it.
FREE_CORE_SLACK = 0.25
WINDOW_S = 0.25  # measure the others' CPU over at least this long


_DEFAULT: list[int] = []


def default_threads(torch: Any) -> int:
    """torch's default intra-op thread count, as it was before any worker changed it."""
    if not _DEFAULT:
        _DEFAULT.append(int(torch.get_num_threads()))
    return _DEFAULT[0]


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _machine_busy_s() -> float | None:
    """CPU seconds all processes have been busy since boot (every core together), or None."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = f.readline().split()[1:]
        ticks = [int(x) for x in fields[:8]]
    except (OSError, ValueError):
        return None
    idle = ticks[3] + ticks[4]  # idle + iowait
    return (sum(ticks) - idle) / _HZ


def _own_busy_s() -> float:
    t = os.times()
    return t.user + t.system


_HZ = float(os.sysconf("SC_CLK_TCK")) if hasattr(os, "sysconf") else 100.0
Sample = tuple[float, float | None, float]


class LoadAwareThreads:
    """The thread count for the next batch: ``max_threads`` on a quiet host, fewer on a busy one.

    Reads ``/proc/stat`` (the whole machine) and ``os.times()`` (this process, every thread), at
    most once per ``window_s``; costs a few microseconds otherwise. Off Linux it always answers
    ``max_threads``.
    """

    def __init__(
        self,
        max_threads: int,
        cores: int | None = None,
        window_s: float = WINDOW_S,
        since: Sample | None = None,
    ) -> None:
        """``since``: a :meth:`sample` taken earlier (before loading the models, say), so that the
        first answer already measures the host instead of waiting out a window."""
        self.max_threads = max(1, max_threads)
        self.cores = cores or available_cores()
        self.window_s = window_s
        self.enabled = self.max_threads > 1 and Path("/proc/stat").is_file()
        self.others = 0.0  # cores' worth of CPU other processes used in the last window
        self._last = since or self.sample()
        self._threads = self.max_threads

    @staticmethod
    def sample() -> Sample:
        """(now, the machine's busy CPU seconds, this process's); no torch needed."""
        return time.monotonic(), _machine_busy_s(), _own_busy_s()

    def threads(self) -> int:
        if not self.enabled:
            return self.max_threads
        now = self.sample()
        elapsed = now[0] - self._last[0]
        if elapsed >= self.window_s and now[1] is not None and self._last[1] is not None:
            others = (now[1] - self._last[1]) - (now[2] - self._last[2])
            self.others = max(0.0, others / elapsed)
            self._last = now
            self._threads = self.for_load(self.others)
        return self._threads

    def apply(self, torch: Any) -> int:
        """Set torch's thread count to :meth:`threads` when it differs; the count now in use."""
        wanted = self.threads()
        if wanted != torch.get_num_threads():
            torch.set_num_threads(wanted)
        return wanted

    def for_load(self, others: float) -> int:
        """Threads for a host where other processes use ``others`` cores' worth of CPU."""
        free = self.cores - others
        return max(1, min(self.max_threads, math.floor(free + FREE_CORE_SLACK)))
