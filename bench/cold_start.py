"""Cold start in a fresh process, so imports and peak memory are the real ones."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.machine import on_fresh_thread
from bench.messages import MESSAGES
from bench.options import BenchOptions
from bench.report import Row

# The child runs bench/cold_child.py as a file, so its imports are the app's alone.
CHILD = Path(__file__).resolve().with_name("cold_child.py")


def cold_start(
    options: BenchOptions, device: str, emotion_dir: Path, reply_dir: Path, use_prepared: bool = True
) -> dict[str, Any]:
    spec = {
        "use_prepared": use_prepared,
        "root": str(Path(__file__).resolve().parent.parent),
        "messages": MESSAGES[:2],
        "emotion": str(emotion_dir),
        "reply": str(reply_dir),
        "device": device,
        "threads": options.threads,
        "new_tokens": options.new_tokens,
        "emotion_precision": options.emotion_precision,
        "reply_precision": options.reply_precision,
        "emotion_runtime": options.emotion_runtime,
    }
    root = str(Path(__file__).resolve().parent.parent)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-P", str(CHILD)],
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


def cold_start_rows(
    options: BenchOptions, device: str, emotion_dir: Path, reply_dir: Path, weights: str, owned: bool
) -> tuple[list[Row], dict[str, Any] | None]:
    """The fresh-process start quantizing at start-up, then loading the prepared int8 form.

    ``owned``: the checkpoints are the bench's own (random weights in its scratch directory), so
    it may write the prepared form beside them; a user's checkpoint is prepared only by
    ``maeum models prepare``. Returns the rows and the start the app would get (prepared when
    there is one).
    """
    from engine.inference.prepared import has_prepared, prepare, stale_reason

    rows: list[Row] = []
    quantizing = cold_start(options, device, emotion_dir, reply_dir, use_prepared=False)
    rows.append(_start_row("fresh process: import, load, quantize, warm-up", device, weights, quantizing))
    int8 = device == "cpu" and options.emotion_precision in ("auto", "int8")
    reply_int8 = device == "cpu" and options.reply_precision in ("auto", "int8")
    if not (int8 or reply_int8):
        return rows, quantizing
    prepare_s = 0.0
    todo = [(emotion_dir, "classifier")] if int8 else []
    todo += [(reply_dir, "causal-lm")] if reply_int8 else []
    for location, kind in todo:
        current = has_prepared(location) and stale_reason(location, kind) is None  # type: ignore[arg-type]
        if current:
            continue
        if not owned:
            rows[-1].note += "; run `maeum models prepare` for the prepared-form row"
            return rows, quantizing
        t0 = time.perf_counter()
        on_fresh_thread(prepare, location, kind)
        prepare_s += time.perf_counter() - t0
    loaded = cold_start(options, device, emotion_dir, reply_dir, use_prepared=True)
    row = _start_row("fresh process: import, load prepared int8, warm-up", device, weights, loaded)
    if prepare_s:
        row.note += f"; `maeum models prepare` took {prepare_s:.1f} s, once"
    speedup = quantizing["to_first_reply_s"] / loaded["to_first_reply_s"]
    row.note += f"; {speedup:.1f}x faster start than quantizing"
    row.extra["prepared"] = True
    rows.append(row)
    return rows, loaded


_NEITHER = "neither transformers nor ONNX Runtime"


def _start_row(path: str, device: str, weights: str, cold: dict[str, Any]) -> Row:
    precision = "/".join(
        sorted({str(v) for k, v in cold["describe"].items() if k.endswith("precision") and v})
    )
    return Row(
        "start",
        path,
        device,
        precision,
        weights,
        cold["to_first_reply_s"] * 1000,
        None,
        1,
        note=(
            f"load {cold['load_s']:.1f} s (imports {cold['import_s']:.1f} s); "
            f"1st/2nd message {cold['first_message_ms']:.0f}/{cold['second_message_ms']:.0f} ms"
            + _threads_note(cold)
            + "; "
            f"peak RSS {cold['peak_rss_mb']:.0f} MB, after load {cold['rss_mb']:.0f} MB"
            + (f", GPU peak {cold['gpu_peak_mb']:.0f} MB" if cold.get("gpu_peak_mb") else "")
            + f"; imported {' and '.join(cold.get('imported') or []) or _NEITHER}"
        ),
        extra=cold,
    )


def _threads_note(cold: dict[str, Any]) -> str:
    """The torch threads the two messages ran with (the worker's load-aware count, unless fixed)."""
    threads = [int(t) for t in cold.get("message_threads") or [] if t]
    return f" at {'/'.join(map(str, threads))} thread(s)" if threads else ""
