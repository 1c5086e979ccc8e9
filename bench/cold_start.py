"""Cold start in a fresh process, so imports and peak memory are the real ones."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.machine import status_mb
from bench.messages import MESSAGES
from bench.options import BenchOptions
from engine.inference import (
    DecodingConfig,
    GenerationRequest,
)

# Cold start, in a fresh process so imports and peak memory are the real ones -----------------


def _child_main(started: float) -> None:
    """Runs in ``python -c``: load the ModelSet as the app does, answer one message, report."""
    spec = json.loads(sys.stdin.read())
    import torch as _torch

    from engine.inference import ModelConfig, ModelSet

    if spec["threads"]:
        _torch.set_num_threads(spec["threads"])
    imported = time.perf_counter()
    models = ModelSet(
        ModelConfig(
            emotion=spec["emotion"],
            reply=spec["reply"],
            device=spec["device"],
            decoding=DecodingConfig(max_new_tokens=spec["new_tokens"], min_new_tokens=spec["new_tokens"]),
            emotion_precision=spec["emotion_precision"],
            reply_precision=spec["reply_precision"],
        )
    )
    handlers = models.load()
    loaded = time.perf_counter()
    times = []
    for text in MESSAGES[:2]:  # the second shows whether the warm-up left anything for the first
        t0 = time.perf_counter()
        handlers["emotion"]([text])
        handlers["reply"]([GenerationRequest(text)])
        times.append(time.perf_counter() - t0)
    result = {
        "import_s": imported - started,
        "load_s": loaded - imported,
        "first_message_ms": times[0] * 1000,
        "second_message_ms": times[1] * 1000,
        "to_first_reply_s": loaded + times[0] - started,
        "peak_rss_mb": status_mb("VmHWM"),
        "rss_mb": status_mb("VmRSS"),
        "gpu_peak_mb": _torch.cuda.max_memory_allocated() / 2**20 if _torch.cuda.is_available() else None,
        "describe": {k: v for k, v in models.describe().items() if k != "emotion_labels"},
    }
    print(json.dumps(result))


# Timed from before the first heavy import, so "imports" is what the app pays for torch & co.
CHILD = "import time; t = time.perf_counter(); from bench.cold_start import _child_main; _child_main(t)"


def cold_start(options: BenchOptions, device: str, emotion_dir: Path, reply_dir: Path) -> dict[str, Any]:
    spec = {
        "emotion": str(emotion_dir),
        "reply": str(reply_dir),
        "device": device,
        "threads": options.threads,
        "new_tokens": options.new_tokens,
        "emotion_precision": options.emotion_precision,
        "reply_precision": options.reply_precision,
    }
    root = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CHILD],
        input=json.dumps(spec),
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=900,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the cold-start process failed: {done.stderr.strip()[-800:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["process_s"] = time.perf_counter() - started
    return result
