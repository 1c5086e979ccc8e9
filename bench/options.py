"""What a bench run measures and how many samples it takes."""

from __future__ import annotations

from dataclasses import dataclass, field

SCENARIOS = ("engine", "peers", "replies", "busy-host", "cold-start")

# Options ------------------------------------------------------------------------------------


@dataclass
class BenchOptions:
    quick: bool = False
    tiny: bool = False  # tiny configs: the tests' smoke run, not a measurement
    emotion_model: str | None = None
    reply_model: str | None = None
    device: str = "auto"
    emotion_precision: str = "auto"
    emotion_runtime: str = "auto"  # auto|torch|onnx, as MAEUM_EMOTION_RUNTIME
    reply_precision: str = "auto"
    threads: int | None = None
    batch_size: int = 16
    batch_window_ms: float = 0.0
    users: int = 32
    new_tokens: int = 32
    quality_data: list[str] = field(default_factory=list)
    cold_start: bool = True
    remote: bool = False  # also time the hop to `maeum serve` (needs ray[serve]; ~2 minutes)
    # Only these scenarios (None: all): engine, peers, replies, busy-host, cold-start.
    only: list[str] | None = None

    def selects(self, scenario: str) -> bool:
        return self.only is None or scenario in self.only

    def counts(self) -> dict[str, int]:
        if self.tiny:
            return {"emotion": 3, "seed_reply": 2, "reply": 2, "message": 3, "rounds": 1}
        if self.quick:
            return {"emotion": 15, "seed_reply": 2, "reply": 4, "message": 8, "rounds": 1}
        return {"emotion": 60, "seed_reply": 5, "reply": 10, "message": 30, "rounds": 3}
