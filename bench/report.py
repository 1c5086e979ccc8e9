"""Rows, goals and the report: a text table, Markdown for the docs, and JSON."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

# Rows and the report ------------------------------------------------------------------------


@dataclass
class Row:
    group: str
    path: str
    device: str
    precision: str
    weights: str
    median_ms: float | None
    p95_ms: float | None
    n: int
    vs_seed: float | None = None  # how many times faster than the seed's way (same run)
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Goal:
    name: str
    value: float | None
    target: str
    ok: bool | None


@dataclass
class Report:
    machine: dict[str, Any]
    settings: dict[str, Any]
    rows: list[Row]
    goals: list[Goal]
    other_cpu_share: float | None = None

    def to_json(self) -> dict[str, Any]:
        machine = machine_line(self.machine)
        return {
            "machine": self.machine,
            "settings": self.settings,
            "other_cpu_share": self.other_cpu_share,
            "rows": [
                {**asdict(r), "machine": machine, "random_weights": r.weights == "random"} for r in self.rows
            ],
            "goals": [asdict(g) for g in self.goals],
        }

    def table(self) -> str:
        out = [f"maeum bench: {machine_line(self.machine)}"]
        if self.other_cpu_share is not None:
            share = self.other_cpu_share * 100
            warn = "  (the machine was busy: timings are pessimistic)" if share >= 10 else ""
            out.append(f"other processes used {share:.0f}% of the CPU during this run{warn}")
        bandwidth = self.machine.get("read_gbs_by_threads")
        if bandwidth:
            measured = ", ".join(f"{gbs:.1f} GB/s at {t} thread(s)" for t, gbs in bandwidth.items())
            out.append(f"memory read bandwidth (torch, this run): {measured}")
        out.append(", ".join(f"{k}={v}" for k, v in self.settings.items()))
        header = (
            f"{'group':<10} {'path':<46} {'device':<6} {'prec':<5} {'weights':<10} "
            f"{'median ms':>10} {'p95 ms':>9} {'x seed':>7} {'n':>4}  note"
        )
        out += ["", header, "-" * len(header)]
        for r in self.rows:
            out.append(
                f"{r.group:<10} {r.path:<46} {r.device:<6} {r.precision:<5} {_clip(r.weights, 10):<10} "
                f"{_fmt(r.median_ms):>10} {_fmt(r.p95_ms):>9} {_fmt(r.vs_seed, 1):>7} {r.n:>4}  {r.note}"
            )
        out += ["", "goals:"]
        for g in self.goals:
            mark = "n/a " if g.ok is None else ("ok  " if g.ok else "MISS")
            out.append(f"  [{mark}] {g.name}: {_fmt(g.value, 2)} (target {g.target})")
        return "\n".join(out)

    def markdown(self) -> str:
        """The same table for docs and READMEs."""
        out = [
            "| group | path | device | precision | weights | median ms | p95 ms | x seed | n | note |",
            "| --- | --- | --- | --- | --- | ---: | ---: | ---: | ---: | --- |",
        ]
        for r in self.rows:
            cells = [r.group, r.path, r.device, r.precision, r.weights]
            cells += [_fmt(r.median_ms), _fmt(r.p95_ms), _fmt(r.vs_seed, 1), str(r.n), r.note]
            out.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
        out += ["", "| goal | value | target | met |", "| --- | ---: | --- | --- |"]
        for g in self.goals:
            met = "n/a" if g.ok is None else ("yes" if g.ok else "no")
            out.append(f"| {g.name} | {_fmt(g.value, 2)} | {g.target} | {met} |")
        return "\n".join(out)


def machine_line(machine: dict[str, Any]) -> str:
    gpu = f", GPU {machine['gpu']}" if machine.get("gpu") else ", no GPU"
    return (
        f"{machine['cores']} CPU cores ({machine['cpu']}){gpu}, torch {machine['torch']}, "
        f"{machine['threads']} threads"
    )


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "~"


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def percentiles(samples_ms: Sequence[float]) -> tuple[float, float]:
    arr = np.asarray(samples_ms, dtype=float)
    return float(np.percentile(arr, 50)), float(np.percentile(arr, 95))


def goals_for(
    rows: list[Row], cold: dict[str, Any] | None, q: dict[str, Any] | None, new_tokens: int
) -> list[Goal]:
    def find(group: str, prefix: str, device: str = "cpu") -> Row | None:
        return next(
            (r for r in rows if r.group == group and r.path.startswith(prefix) and r.device == device), None
        )

    goals: list[Goal] = []
    lookup = find("replies", "bank lookup")
    if lookup is not None:
        goals.append(
            Goal("reply bank lookup p50 ms (CPU)", lookup.median_ms, "<= 40", _le(lookup.median_ms, 40))
        )
    bundled = find("replies", "cold start")
    if bundled is not None:
        seconds = None if bundled.median_ms is None else bundled.median_ms / 1000
        goals.append(Goal("bundled path: cold start to first reply, s", seconds, "<= 3", _le(seconds, 3)))
    decode = next((r for r in rows if r.group == "decode" and "vs_floor" in r.extra), None)
    if decode is not None:
        t = decode.extra["threads"]
        goals.append(
            Goal(
                f"decode within 1.3x the memory floor (ms/token / floor, {t} thread(s), CPU)",
                decode.extra["vs_floor"],
                "<= 1.3",
                _le(decode.extra["vs_floor"], 1.3),
            )
        )
    msg = find("message", "engine")
    if msg is not None:
        goals.append(
            Goal(
                f"message p50 ms (emotion + {new_tokens}-token reply, CPU)",
                msg.median_ms,
                "<= 250",
                _le(msg.median_ms, 250),
            )
        )
        goals.append(Goal("message p95 ms (CPU)", msg.p95_ms, "<= 400", _le(msg.p95_ms, 400)))
        goals.append(Goal("x faster than the seed's way (CPU)", msg.vs_seed, ">= 10", _ge(msg.vs_seed, 10)))
    crowd = next((r for r in rows if r.group == "users" and "at once" in r.path and r.device == "cpu"), None)
    if crowd is not None:
        ratio = crowd.extra.get("vs_one_at_a_time")
        goals.append(
            Goal("throughput under concurrent users vs one at a time (CPU)", ratio, ">= 4", _ge(ratio, 4))
        )
        goals.append(Goal("p95 latency under concurrent users, ms (CPU)", crowd.p95_ms, "reported", None))
    if cold is not None:
        goals.append(Goal("cold start to first reply, s", cold["to_first_reply_s"], "reported", None))
        goals.append(
            Goal("peak memory, MB", cold["peak_rss_mb"], "< 2048 on CPU", _le(cold["peak_rss_mb"], 2048))
        )
    if q is not None:
        goals.append(
            Goal("int8 labels agree with fp32", q["agreement"], ">= 0.98", _ge(q["agreement"], 0.98))
        )
        drop = (q["macro_f1_fp32"] - q["macro_f1_int8"]) * 100
        goals.append(Goal("macro-F1 drop, points", drop, "<= 1", _le(drop, 1.0)))
    goals += _peer_goals(rows)
    return goals


def _peer_goals(rows: list[Row]) -> list[Goal]:
    """The same-run comparisons with ONNX Runtime and CTranslate2 (bench/peers.py)."""
    goals: list[Goal] = []
    for r in rows:
        t = r.extra.get("threads")
        if "vs_torch_int8" in r.extra:
            value = r.extra["vs_torch_int8"]
            goals.append(
                Goal(
                    f"emotion: ONNX Runtime int8 x faster than torch int8, {t} thread(s)",
                    value,
                    ">= 1",
                    _ge(value, 1),
                )
            )
        if "maeum_vs_ct2" in r.extra:
            value = r.extra["maeum_vs_ct2"]
            goals.append(
                Goal(
                    f"one reply: maeum x faster than CTranslate2 int8, {t} thread(s)",
                    value,
                    ">= 1",
                    _ge(value, 1),
                )
            )
        if r.group == "quality" and r.extra.get("runtime") == "onnxruntime":
            value = r.extra["agreement"]
            goals.append(Goal("ONNX int8 labels agree with fp32", value, ">= 0.98", _ge(value, 0.98)))
    return goals


def _le(value: float | None, limit: float) -> bool | None:
    return None if value is None else value <= limit


def _ge(value: float | None, limit: float) -> bool | None:
    return None if value is None else value >= limit
