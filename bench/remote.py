"""``maeum bench --remote``: what the hop to ``maeum serve`` costs, and what a second model replica
buys, on the bundled models. Same run, same messages:
- one message at a time through the engine in this process (the baseline) and through a
  ``RemoteEngine`` to ``maeum serve`` on a local Ray (the hop: HTTP, the ingress, the model
  deployment's handle);
- many people at once (``users`` concurrent, a few messages each) against 1 and 2 model replicas.
Each served engine is a fresh ``maeum serve`` process on 127.0.0.1, as in production."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.messages import MESSAGES
from bench.options import BenchOptions
from bench.report import Row, percentiles

TOKEN = "maeum-bench-token"


def available() -> bool:
    try:
        import ray.serve  # noqa: F401
    except ImportError:
        return False
    from bench.replies import available as bank_available

    return bank_available()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def served(home: Path, replicas: int, cpus_per_replica: float) -> Iterator[str]:
    port = _free_port()
    # The e5 encoder's threads: with one replica all cores, as in-process; with more, a share each.
    threads = max(1, round((os.cpu_count() or 2) / replicas))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MAEUM_")},
        "MAEUM_ENGINE_TOKEN": TOKEN,
        "MAEUM_DATA_DIR": str(home),
        "MAEUM_SERVE_MIN_REPLICAS": str(replicas),
        "MAEUM_SERVE_MAX_REPLICAS": str(replicas),
        "MAEUM_RATE_LIMIT_PER_MINUTE": "0",
        "MAEUM_THREADS": str(threads),
        "RAY_USAGE_STATS_ENABLED": "0",
    }
    maeum = str(Path(sys.executable).with_name("maeum"))
    log_path = home / f"serve-{replicas}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [maeum, "serve", "--port", str(port), "--model-cpus", str(cpus_per_replica)],
            cwd=home,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 600
            while "engine ready at" not in log_path.read_text(errors="replace"):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"maeum serve did not start; see {log_path}")
                time.sleep(0.5)
            yield f"http://127.0.0.1:{port}"
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


Respond = Callable[[int, int], Awaitable[None]]


async def _one_at_a_time(respond: Respond, n: int) -> list[float]:
    await respond(0, 0)  # warm-up
    samples = []
    for i in range(1, n + 1):
        started = time.perf_counter()
        await respond(0, i)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


async def _many(respond: Respond, users: int, each: int) -> tuple[float, list[float]]:
    latencies: list[float] = []

    async def person(u: int) -> None:
        for j in range(each):
            started = time.perf_counter()
            await respond(u, 1000 + j)
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(person(u) for u in range(users)))
    return users * each / (time.perf_counter() - started), latencies


def _responder(engine: object) -> Respond:
    from engine.types import IncomingMessage, UserRef

    async def respond(user: int, i: int) -> None:
        text = f"{MESSAGES[(user * 7 + i) % len(MESSAGES)]} r{user}-{i}"  # new text: no e5 cache hit
        result = await engine.respond(IncomingMessage(UserRef("bench", f"u{user}"), text))  # type: ignore[attr-defined]
        if result.receipt is not None:
            await engine.acknowledge(result.receipt)  # type: ignore[attr-defined]

    return respond


async def _in_process(home: Path, n: int, users: int, each: int) -> tuple[list[float], float, list[float]]:
    from bot.compose import build_engine
    from engine.settings import Settings

    engine = build_engine(Settings(_env_file=None, data_dir=home, rate_limit_per_minute=0))  # type: ignore[call-arg]
    await engine.start()
    try:
        respond = _responder(engine)
        alone = await _one_at_a_time(respond, n)
        rate, latencies = await _many(respond, users, each)
    finally:
        await engine.close()
    return alone, rate, latencies


async def _remote(url: str, n: int, users: int, each: int) -> tuple[list[float], float, list[float]]:
    from engine.remote.client import RemoteEngine

    engine = RemoteEngine(url, TOKEN, ready_timeout_s=300)
    await engine.start()
    try:
        respond = _responder(engine)
        alone = await _one_at_a_time(respond, n) if n else []
        rate, latencies = await _many(respond, users, each)
    finally:
        await engine.close()
    return alone, rate, latencies


def remote_rows(options: BenchOptions) -> list[Row]:
    if not available():
        return []
    n = 5 if options.tiny else (30 if options.quick else 100)
    users = 4 if options.tiny else options.users
    each = 2 if options.tiny else (3 if options.quick else 6)
    cpus = float(os.cpu_count() or 2)
    rows = []
    with tempfile.TemporaryDirectory(prefix="maeum-bench-remote-") as tmp:
        base = Path(tmp)
        (base / "local").mkdir()
        local_alone, local_rate, local_lat = asyncio.run(_in_process(base / "local", n, users, each))
        results = {}
        for replicas in (1, 2):
            home = base / f"served-{replicas}"
            home.mkdir()
            # Each replica gets its share of the machine, the ingress and Ray what is left.
            with served(home, replicas, max(0.5, (cpus - 0.5) / replicas)) as url:
                results[replicas] = asyncio.run(_remote(url, n if replicas == 1 else 0, users, each))

    def row(path: str, samples: list[float], note: str, vs: float | None = None) -> Row:
        median, p95 = percentiles(samples)
        return Row("remote", path, "cpu", "fp32", "bundled", median, p95, len(samples), vs, note)

    local_p50 = percentiles(local_alone)[0]
    remote_alone = results[1][0]
    remote_p50 = percentiles(remote_alone)[0]
    rows.append(row("one message, engine in this process (baseline)", local_alone, "bank path, SQLite"))
    rows.append(
        row(
            "one message through maeum serve (1 model replica)",
            remote_alone,
            f"the hop adds {remote_p50 - local_p50:.1f} ms at p50 ({remote_p50 / local_p50:.2f}x)",
        )
    )
    rows.append(row(f"{users} people at once, in this process", local_lat, f"{local_rate:.1f} msg/s"))
    for replicas in (1, 2):
        rate, latencies = results[replicas][1], results[replicas][2]
        rows.append(
            row(
                f"{users} people at once, maeum serve, {replicas} model replica(s)",
                latencies,
                f"{rate:.1f} msg/s ({rate / local_rate:.2f}x in-process)",
            )
        )
    return rows
