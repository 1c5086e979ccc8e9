"""The machine a run is on, how busy it was, and running torch work on threads that end."""

from __future__ import annotations

import os
import platform
import resource
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import torch

T = TypeVar("T")


# Machine and load ---------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info(threads: int) -> dict[str, Any]:
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {
        "cores": os.cpu_count(),
        "cpu": cpu_model(),
        "gpu": gpu,
        "threads": threads,
        "torch": torch.__version__,
        "python": platform.python_version(),
    }


def _proc_stat() -> tuple[float, float] | None:
    """(busy, total) CPU seconds of the whole machine since boot, or None off Linux."""
    try:
        fields = Path("/proc/stat").read_text(encoding="utf-8").splitlines()[0].split()[1:]
    except (OSError, IndexError):
        return None
    ticks = [float(x) for x in fields[:8]]
    hz = float(os.sysconf("SC_CLK_TCK"))
    idle = ticks[3] + ticks[4]
    return (sum(ticks) - idle) / hz, sum(ticks) / hz


def _own_cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


class LoadMeter:
    """How much CPU other processes took while the bench ran: timings are only honest when ~0."""

    def __init__(self) -> None:
        self.start = _proc_stat()
        self.own = _own_cpu_seconds()

    def other_share(self) -> float | None:
        end = _proc_stat()
        if self.start is None or end is None:
            return None
        busy, total = end[0] - self.start[0], end[1] - self.start[1]
        if total <= 0:
            return None
        other = max(0.0, busy - (_own_cpu_seconds() - self.own))
        return min(1.0, other / total)


def on_fresh_thread(fn: Callable[..., T], *args: Any, threads: int | None = None) -> T:
    """Run ``fn`` on a new thread that ends when it returns.

    Measured on the 2-core VM: while any other live thread has run torch's parallel (OpenMP)
    code, torch on the inference worker gets ~1.4x slower (int8 GPT-2 step 12.6 ms against 9.1),
    because libgomp then manages more threads than there are cores and stops spin-waiting
    between the hundreds of small parallel regions of a decoding step. The app runs torch on
    the worker only; the bench's own torch work (building models, the baselines) therefore runs
    on threads that have ended before the engine is timed.
    """
    result: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            if threads:
                torch.set_num_threads(threads)
            result.append(fn(*args))
        except BaseException as exc:  # re-raised on the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=run, name="maeum-bench-torch")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]
    return result[0]


def status_mb(key: str) -> float:
    """VmHWM (peak) or VmRSS from /proc: ru_maxrss would also count the parent that forked us."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="utf-8").splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # off Linux: the best there is
