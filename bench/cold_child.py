"""The cold-start process: load the ModelSet as the app does, answer two messages, report JSON.

Run as a file (``python -P bench/cold_child.py``), not as ``bench.cold_child``: importing the
``bench`` package would import the whole bench (its scenarios, peers, torch and transformers)
and charge that to the app's start-up. Only what the app itself imports is timed here.
"""

import time

STARTED = time.perf_counter()

import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402


def status_mb(key: str) -> float | None:
    """VmHWM (peak) or VmRSS of this process, from /proc (ru_maxrss would count the parent too)."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="utf-8").splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    spec = json.loads(sys.stdin.read())
    sys.path.insert(0, spec["root"])
    from engine.inference import DecodingConfig, GenerationRequest, ModelConfig, ModelSet

    if not spec["use_prepared"]:
        import engine.inference.prepared as prepared

        prepared.ENABLED = False  # quantize at start-up, as without `maeum models prepare`
    imported = time.perf_counter()
    models = ModelSet(
        ModelConfig(
            emotion=spec["emotion"],
            reply=spec["reply"],
            device=spec["device"],
            decoding=DecodingConfig(max_new_tokens=spec["new_tokens"], min_new_tokens=spec["new_tokens"]),
            emotion_precision=spec["emotion_precision"],
            reply_precision=spec["reply_precision"],
            emotion_runtime=spec.get("emotion_runtime", "auto"),
        )
    )
    if spec["threads"]:
        import torch

        torch.set_num_threads(spec["threads"])
    from engine.inference.threads import LoadAwareThreads, default_threads

    since = LoadAwareThreads.sample()  # as the app's worker does: its first batch is load-aware
    handlers = models.load()
    loaded = time.perf_counter()
    torch = sys.modules.get("torch")
    # Without a fixed count, each message gets the thread count the app's worker would give it.
    policy = None
    if torch is not None and not spec["threads"] and models.device == "cpu":
        policy = LoadAwareThreads(default_threads(torch), since=since)
    times = []
    threads = []
    for text in spec["messages"]:  # the second shows whether the warm-up left anything for the first
        if policy is not None:
            policy.apply(torch)
        threads.append(torch.get_num_threads() if torch is not None else 0)
        t0 = time.perf_counter()
        handlers["emotion"]([text])
        handlers["reply"]([GenerationRequest(text)])
        times.append(time.perf_counter() - t0)
    cuda = torch is not None and torch.cuda.is_available()
    result = {
        "import_s": imported - STARTED,
        "load_s": loaded - imported,
        "first_message_ms": times[0] * 1000,
        "second_message_ms": times[1] * 1000,
        "message_threads": threads,
        "to_first_reply_s": loaded + times[0] - STARTED,
        "peak_rss_mb": status_mb("VmHWM"),
        "rss_mb": status_mb("VmRSS"),
        "gpu_peak_mb": torch.cuda.max_memory_allocated() / 2**20 if cuda and torch else None,
        "describe": {k: v for k, v in models.describe().items() if k != "emotion_labels"},
        # What the start path pulled in (the prepared int8 path needs neither transformers nor ORT
        # when the classifier runs on torch).
        "imported": [m for m in ("transformers", "onnxruntime") if m in sys.modules],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
