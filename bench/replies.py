"""The bundled reply path, as people get it: the TF-IDF emotion model, the e5 bank lookup and the
store, through the real engine. Rows: emotion alone, the bank lookup alone, and one message end to
end with the bank (emotion + lookup + reply choice + store), each timed through the worker; and the
cold start of that path in a fresh process (no torch is imported on it)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.messages import MESSAGES
from bench.options import BenchOptions
from bench.report import Row, percentiles
from engine.settings import BUNDLED_MODELS


def available() -> bool:
    from engine.inference import encoder

    return encoder.available() and (BUNDLED_MODELS / "maeum-bank").is_dir()


async def _time(fn: Any, n: int) -> list[float]:
    await fn(0)  # the first call is warm-up, not timed
    samples = []
    for i in range(1, n + 1):
        started = time.perf_counter()
        await fn(i)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


async def _rows(options: BenchOptions) -> list[Row]:
    from engine.client import InProcessEngine
    from engine.conversation import ConversationPolicy
    from engine.conversation.restate import restate
    from engine.inference import ModelConfig, ModelSet
    from engine.store import EmotionStore
    from engine.types import IncomingMessage, UserRef

    n = 8 if options.tiny else (40 if options.quick else 150)
    config = ModelConfig(
        emotion=str(BUNDLED_MODELS / "maeum-emotion"),
        reply=None,
        bank=str(BUNDLED_MODELS / "maeum-bank"),
        threads=options.threads,
    )
    with tempfile.TemporaryDirectory(prefix="maeum-bench-bank-") as tmp:
        engine = InProcessEngine(
            ModelSet(config),
            EmotionStore(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"),
            ConversationPolicy(rate_per_minute=0),
            threads=options.threads,
        )
        await engine.start()
        try:
            inference = engine.conversation.inference
            # A new text each call: the e5 cache would otherwise make repeats free.
            emotion = await _time(lambda i: inference.classify(f"{MESSAGES[i % len(MESSAGES)]} e{i}"), n)
            lookup = await _time(lambda i: inference.match(f"{MESSAGES[i % len(MESSAGES)]} l{i}"), n)
            # A person per message (consented beforehand): one person's short follow-ups would keep
            # their open situation and skip the lookup this row is meant to include.
            users = [UserRef("bench", f"u{i}") for i in range(n + 1)]
            for user in users:
                await engine.set_consent(user, True)

            async def message(i: int) -> None:
                text = f"{MESSAGES[i % len(MESSAGES)]} m{i}"
                result = await engine.respond(IncomingMessage(users[i], text))
                if result.receipt is not None:
                    await engine.acknowledge(result.receipt)

            whole = await _time(message, n)
            # Saying back what happened (reflective replies only): Kiwi's analysis and the rules.
            restating = await _time(
                lambda i: asyncio.to_thread(restate, f"{MESSAGES[i % len(MESSAGES)]} r{i}"), n
            )
        finally:
            await engine.close()
    lookup_p50 = percentiles(lookup)[0]

    def row(path: str, samples: list[float], note: str = "") -> Row:
        median, p95 = percentiles(samples)
        return Row("replies", path, "cpu", "fp32", "bundled", median, p95, len(samples), note=note)

    return [
        row("emotion: char TF-IDF (bundled maeum-emotion)", emotion),
        row("bank lookup: e5 embedding + situation head", lookup, "the issue's budget: <= 40 ms"),
        row(
            "message with the bank: emotion + lookup + store",
            whole,
            f"lookup is {lookup_p50:.0f} ms of it",
        ),
        row("restating what happened: Kiwi + rules (reflective replies only)", restating),
    ]


CHILD = (
    "import time; t = time.perf_counter()\n"
    "import json, sys, asyncio, tempfile\n"
    "from pathlib import Path\n"
    "from engine.settings import Settings\n"
    "from bot.compose import build_engine\n"
    "from engine.types import IncomingMessage, UserRef\n"
    "async def main():\n"
    "    with tempfile.TemporaryDirectory() as tmp:\n"
    "        engine = build_engine(Settings(_env_file=None, data_dir=Path(tmp)))\n"
    "        await engine.start()\n"
    "        ready = time.perf_counter()\n"
    "        await engine.respond(IncomingMessage(UserRef('bench', 'x'), '오늘 하루 진짜 길었다'))\n"
    "        first = time.perf_counter()\n"
    "        await engine.respond(IncomingMessage(UserRef('bench', 'y'), '노쇼 또 당했어요 케이크 3개'))\n"
    "        restated = time.perf_counter()\n"
    "        await engine.close()\n"
    "        import resource\n"
    "        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024\n"
    "        print(json.dumps({'ready_s': ready - t, 'first_reply_s': first - t, 'peak_mb': peak_mb,\n"
    "                          'first_restatement_s': restated - first,\n"
    "                          'torch_imported': 'torch' in sys.modules}))\n"
    "asyncio.run(main())\n"
)


def cold_start_row(root: Path) -> Row:
    done = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, cwd=root, timeout=300, check=True
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    note = (
        f"default settings, fresh process; then the first restated reply "
        f"{result['first_restatement_s'] * 1000:.0f} ms (Kiwi loads); peak {result['peak_mb']:.0f} MB; "
        f"torch imported: {result['torch_imported']}"
    )
    return Row(
        "replies",
        "cold start: bundled path to the first reply",
        "cpu",
        "fp32",
        "bundled",
        result["first_reply_s"] * 1000,
        None,
        1,
        note=note,
        extra=result,
    )


def reply_rows(options: BenchOptions) -> list[Row]:
    if not available():
        return []
    rows = asyncio.run(_rows(options))
    if options.cold_start:
        rows.append(cold_start_row(Path(__file__).resolve().parents[1]))
    return rows
