"""``maeum bench``: put the scenarios, the cold start and the quality check into one report."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

import torch

from bench.busy_host import busy_host_goals, busy_host_rows
from bench.checkpoints import build_random_emotion, build_random_reply
from bench.cold_start import cold_start_rows
from bench.machine import LoadMeter, machine_info, on_fresh_thread
from bench.options import BenchOptions
from bench.peers import onnx_quality, peer_rows
from bench.quality import held_out, quality
from bench.replies import reply_rows
from bench.report import Report, Row, goals_for
from bench.scenarios import Suite
from engine.inference import (
    resolve_device,
)


def run_bench(options: BenchOptions, work_dir: Path | None = None) -> Report:
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # per-shard bars would bury the table
    meter = LoadMeter()
    if options.threads:
        torch.set_num_threads(options.threads)
    threads = torch.get_num_threads()
    with tempfile.TemporaryDirectory(prefix="maeum-bench-") as tmp:
        base = work_dir or Path(tmp)
        weights = {"emotion": "random", "reply": "random"}
        if options.emotion_model:
            emotion_dir = Path(options.emotion_model).expanduser()
            weights["emotion"] = emotion_dir.name
        else:
            emotion_dir = on_fresh_thread(build_random_emotion, base / "emotion-random", options.tiny)
        if options.reply_model:
            reply_dir = Path(options.reply_model).expanduser()
            weights["reply"] = reply_dir.name
        else:
            reply_dir = on_fresh_thread(build_random_reply, base / "reply-random", options.tiny)

        primary = resolve_device(options.device)
        devices = [torch.device("cpu")]
        if primary.type == "cuda":
            devices = [primary] if options.device == "cuda" else [torch.device("cpu"), primary]
        rows: list[Row] = []
        for device in devices if options.selects("engine") else []:
            rows += asyncio.run(Suite(options, device, emotion_dir, reply_dir, weights).run())
        # Peers in the same run (the `bench` extra): ONNX Runtime and CTranslate2 int8.
        if options.selects("peers"):
            rows += peer_rows(options, emotion_dir, reply_dir, weights)
        if options.selects("replies"):
            rows += reply_rows(options)  # the bundled path people get by default: bank, no torch
        if options.remote:
            from bench.remote import remote_rows

            rows += remote_rows(options)

        both = weights["emotion"] if weights["emotion"] == weights["reply"] else "mixed"
        if options.selects("busy-host"):
            rows += busy_host_rows(options, emotion_dir, reply_dir, both)

        cold = None
        if options.cold_start and options.selects("cold-start"):
            owned = not (options.emotion_model or options.reply_model)
            start_rows, cold = cold_start_rows(options, primary.type, emotion_dir, reply_dir, both, owned)
            rows += start_rows

        q = None
        if options.emotion_model or options.quality_data:
            records, source = held_out(emotion_dir, options.quality_data)
            if records:
                q = on_fresh_thread(quality, emotion_dir, records, threads=options.threads)
                rows.append(
                    Row(
                        "quality",
                        "int8 vs fp32 emotion labels",
                        "cpu",
                        "int8",
                        weights["emotion"],
                        None,
                        None,
                        q["n"],
                        note=(
                            f"agree {q['agreement'] * 100:.1f}%; macro-F1 fp32 {q['macro_f1_fp32']:.3f}, "
                            f"int8 {q['macro_f1_int8']:.3f} ({source})"
                        ),
                        extra=q,
                    )
                )
                rows.append(on_fresh_thread(onnx_quality, emotion_dir, records, weights["emotion"], source))
    settings = {
        "threads": threads,
        "batch_size": options.batch_size,
        "batch_window_ms": options.batch_window_ms,
        "users": options.users,
        "new_tokens": options.new_tokens,
        "mode": "tiny" if options.tiny else ("quick" if options.quick else "full"),
        "weights": "random (KoBERT-base / KoGPT2-small configs)"
        if set(weights.values()) == {"random"} and not options.tiny
        else (
            "random (tiny test configs)"
            if options.tiny
            else f"emotion={weights['emotion']}, reply={weights['reply']}"
        ),
    }
    machine = machine_info(threads)
    decode = next((r for r in rows if r.group == "decode" and r.device == "cpu"), None)
    if decode is not None:  # measured in the engine suite, before the engine started
        machine["read_gbs_by_threads"] = decode.extra["read_gbs_by_threads"]
    return Report(
        machine=machine,
        settings=settings,
        rows=rows,
        goals=goals_for(rows, cold, q, options.new_tokens) + busy_host_goals(rows),
        other_cpu_share=meter.other_share(),
    )
