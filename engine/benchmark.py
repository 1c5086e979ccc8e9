"""``maeum bench``: the engine against the seed's way of running the same models, in one process.

Speed depends on the architecture, not on what the weights learned, so by default the models are
built at the real sizes (KoBERT-base: vocab 8002, 768 × 12 layers; KoGPT2-small: vocab 51200,
768 × 12 layers) with random weights, saved, and loaded through the users' code path. Real
checkpoints can be benched instead (``--emotion-model``/``--reply-model``); a trained emotion
checkpoint also gets the int8-vs-fp32 quality check on its held-out split.

The seed's way: emotion in fp32 padded to 64 tokens; replies by re-running the whole sequence for
every new token (no KV cache) in fp32; one message at a time. Every timed reply is exactly
``new_tokens`` long on both sides (EOS is suppressed until then), so the comparison is fair.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import torch

from engine.classifier import TextClassifier
from engine.conversation import ConversationPolicy
from engine.generation import DecodingConfig, GenerationRequest, ReplyGenerator, format_turn
from engine.loading import resolve_device
from engine.quantize import resolve_precision
from engine.settings import BUNDLED_MODELS

log = logging.getLogger(__name__)

LABELS = ["일상", "기쁨", "불안", "슬픔", "분노", "우울"]
SEED_MAX_LENGTH = 64  # the seed padded every message to this many tokens

# Architecture sizes only; the weights are random.
KOBERT_BASE: dict[str, Any] = {
    "vocab_size": 8002,
    "hidden_size": 768,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "intermediate_size": 3072,
    "max_position_embeddings": 512,
}
KOGPT2_SMALL: dict[str, Any] = {
    "vocab_size": 51200,
    "n_embd": 768,
    "n_layer": 12,
    "n_head": 12,
    "n_positions": 1024,
}
# For the tests: the same code path in well under a second per row.
TINY_BERT: dict[str, Any] = {
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "intermediate_size": 64,
    "max_position_embeddings": 128,
}
TINY_GPT2: dict[str, Any] = {"n_embd": 32, "n_layer": 2, "n_head": 2, "n_positions": 128}

# What people write to maeum: short to medium everyday messages, none of them a crisis.
MESSAGES = [
    "요즘 회사 일 때문에 너무 지치고 잠도 잘 못 자요",
    "오늘 친구랑 오랜만에 만나서 정말 즐거웠어",
    "내일 발표가 있는데 너무 떨려서 아무것도 손에 안 잡혀요",
    "강아지가 아파서 병원에 다녀왔는데 마음이 무거워",
    "팀장님이 또 내 탓만 해서 진짜 화가 나",
    "그냥 하루 종일 누워만 있었어요",
    "시험 끝났다! 이제 좀 쉬어야지",
    "엄마랑 말다툼을 해서 기분이 안 좋아요",
    "혼자 밥 먹는 게 요즘 좀 쓸쓸하네요",
    "면접 결과가 언제 나올지 계속 신경 쓰여",
    "비 오는 날에는 괜히 기분이 가라앉아요",
    "동생이 대학에 합격해서 온 가족이 기뻐했어요",
    "회의 시간에 실수해서 계속 생각나요",
    "주말에 뭐 할지 아직 못 정했어",
    "월급날인데 벌써 돈이 다 나갔어요 ㅠㅠ",
    "헤어진 지 꽤 됐는데 아직도 가끔 생각나",
]


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


# Options ------------------------------------------------------------------------------------


@dataclass
class BenchOptions:
    quick: bool = False
    tiny: bool = False  # tiny configs: the tests' smoke run, not a measurement
    emotion_model: str | None = None
    reply_model: str | None = None
    device: str = "auto"
    emotion_precision: str = "auto"
    reply_precision: str = "auto"
    threads: int | None = None
    batch_size: int = 16
    batch_window_ms: float = 0.0
    users: int = 32
    new_tokens: int = 32
    quality_data: list[str] = field(default_factory=list)
    cold_start: bool = True

    def counts(self) -> dict[str, int]:
        if self.tiny:
            return {"emotion": 3, "seed_reply": 2, "reply": 2, "message": 3, "rounds": 1}
        if self.quick:
            return {"emotion": 15, "seed_reply": 2, "reply": 4, "message": 8, "rounds": 1}
        return {"emotion": 60, "seed_reply": 5, "reply": 10, "message": 30, "rounds": 3}


# Checkpoints with random weights -----------------------------------------------------------


def _corpus() -> list[str]:
    """Text to train the random GPT-2's BPE on, so prompts tokenize to realistic lengths."""
    texts = list(MESSAGES)
    data = Path(__file__).resolve().parent.parent / "data" / "emotion"
    for path in sorted(data.glob("*.jsonl")) if data.is_dir() else []:
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                texts.append(str(json.loads(line)["text"]))
            except (ValueError, KeyError, TypeError):
                continue
    return texts


def build_random_emotion(out: Path, tiny: bool) -> Path:
    from transformers import BertConfig, BertForSequenceClassification

    from engine.loading import load_tokenizer

    bundled = BUNDLED_MODELS / "kobert-tokenizer"
    if bundled.is_dir():
        tokenizer = load_tokenizer(str(bundled))
    else:  # an installed package without models/: a small KoBERT-format vocabulary of our own
        from training.tokenizers import train_kobert_style_tokenizer

        tokenizer = train_kobert_style_tokenizer(MESSAGES * 3, out / "_tok", vocab_size=300)
    sizes = dict(TINY_BERT) if tiny else dict(KOBERT_BASE)
    sizes["vocab_size"] = max(len(tokenizer), sizes.get("vocab_size", 0))
    sizes.update(
        num_labels=len(LABELS),
        id2label=dict(enumerate(LABELS)),
        label2id={label: i for i, label in enumerate(LABELS)},
        pad_token_id=tokenizer.pad_token_id,
    )
    config = BertConfig(**sizes)
    torch.manual_seed(0)
    BertForSequenceClassification(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def build_random_reply(out: Path, tiny: bool) -> Path:
    from transformers import GPT2Config, GPT2LMHeadModel

    from training.tokenizers import train_chat_tokenizer

    tokenizer = train_chat_tokenizer(_corpus(), vocab_size=400 if tiny else 8000)
    sizes = dict(TINY_GPT2) if tiny else dict(KOGPT2_SMALL)
    # The model keeps KoGPT2's 51,200-entry vocabulary (the LM head's cost); ids the small BPE
    # does not know decode to nothing, which the timing does not care about.
    sizes["vocab_size"] = max(len(tokenizer), sizes.get("vocab_size", 0))
    config = GPT2Config(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        **sizes,
    )
    torch.manual_seed(0)
    GPT2LMHeadModel(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


# The seed's way -----------------------------------------------------------------------------


@torch.inference_mode()
def seed_emotion(classifier: TextClassifier, text: str) -> list[float]:
    batch = classifier.tokenizer(
        [text], padding="max_length", truncation=True, max_length=SEED_MAX_LENGTH, return_tensors="pt"
    ).to(classifier.device)
    logits = classifier.model(**batch).logits
    probs: list[float] = torch.softmax(logits.float(), dim=-1)[0].cpu().tolist()
    return probs


@torch.inference_mode()
def seed_reply(generator: ReplyGenerator, text: str, new_tokens: int) -> list[int]:
    """Greedy, re-running the whole sequence for every token, as the seed's loop did."""
    ids = generator.tokenizer(format_turn(text), return_tensors="pt", add_special_tokens=False)["input_ids"]
    ids = ids.to(generator.device)
    for _ in range(new_tokens):
        mask = torch.ones_like(ids)
        logits = generator.model(input_ids=ids, attention_mask=mask, use_cache=False).logits
        ids = torch.cat([ids, logits[:, -1].argmax(-1, keepdim=True)], dim=1)
    return [int(x) for x in ids[0, -new_tokens:]]


# Timing -------------------------------------------------------------------------------------


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_calls(fn: Callable[[int], object], n: int, device: torch.device, warmup: int = 1) -> list[float]:
    """Milliseconds for each of ``n`` calls ``fn(i)``, after ``warmup`` untimed calls."""
    for i in range(warmup):
        fn(i)
    samples = []
    for i in range(n):
        _sync(device)
        started = time.perf_counter()
        fn(i)
        _sync(device)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


async def time_async(
    fn: Callable[[int], Awaitable[object]], n: int, device: torch.device, warmup: int = 1
) -> list[float]:
    for i in range(warmup):
        await fn(i)
    samples = []
    for i in range(n):
        started = time.perf_counter()
        await fn(i)
        _sync(device)
        samples.append((time.perf_counter() - started) * 1000)
    return samples


@contextmanager
def count_forwards(model: torch.nn.Module) -> Iterator[list[int]]:
    calls: list[int] = []
    handle = model.register_forward_pre_hook(lambda *_: calls.append(1))
    try:
        yield calls
    finally:
        handle.remove()


def message(i: int) -> str:
    return MESSAGES[i % len(MESSAGES)]


# The suites ---------------------------------------------------------------------------------


class Suite:
    """All rows for one device, against the seed's way on that device."""

    def __init__(
        self,
        options: BenchOptions,
        device: torch.device,
        emotion_dir: Path,
        reply_dir: Path,
        weights: dict[str, str],
    ) -> None:
        self.options = options
        self.device = device
        self.emotion_dir = emotion_dir
        self.reply_dir = reply_dir
        self.weights = weights
        self.counts = options.counts()
        self.rows: list[Row] = []
        self.decoding = DecodingConfig(max_new_tokens=options.new_tokens, min_new_tokens=options.new_tokens)
        self.dev = "cuda" if device.type == "cuda" else "cpu"

    def row(
        self, group: str, path: str, precision: str, samples: Sequence[float], seed: float | None, **kw: Any
    ) -> Row:
        median, p95 = percentiles(samples)
        weights = self.weights[group] if group in self.weights else self.message_weights()
        row = Row(
            group,
            path,
            self.dev,
            precision,
            weights,
            median,
            p95,
            len(samples),
            vs_seed=(seed / median) if seed and median else None,
            **kw,
        )
        self.rows.append(row)
        return row

    def message_weights(self) -> str:
        emotion, reply = self.weights["emotion"], self.weights["reply"]
        return emotion if emotion == reply else "mixed"  # the settings line names both

    async def run(self) -> list[Row]:
        from engine.client import InProcessEngine
        from engine.models import ModelConfig, ModelSet
        from engine.store import EmotionStore

        # The fp32 models are loaded in a method of their own, so they are freed before the engine's.
        # Blocks the loop on purpose: nothing else runs meanwhile, and the thread must be gone
        # before the engine's worker is timed (see on_fresh_thread).
        seed_e, seed_r = on_fresh_thread(self._fp32_rows, threads=self.options.threads)
        emotion_precision = resolve_precision(self.options.emotion_precision, self.device)
        reply_precision = resolve_precision(self.options.reply_precision, self.device)
        seed_message = (seed_e.median_ms or 0) + (seed_r.median_ms or 0)
        seed_message_p95 = (seed_e.p95_ms or 0) + (seed_r.p95_ms or 0)

        # The engine: ModelSet on the worker thread, batching, the store ----------------------
        config = ModelConfig(
            emotion=str(self.emotion_dir),
            reply=str(self.reply_dir),
            device=self.dev,
            decoding=self.decoding,
            emotion_precision=emotion_precision,
            reply_precision=reply_precision,
        )
        with tempfile.TemporaryDirectory(prefix="maeum-bench-db-") as db_dir:
            engine = InProcessEngine(
                ModelSet(config),
                EmotionStore(f"sqlite+aiosqlite:///{Path(db_dir) / 'bench.db'}"),
                # Every message must reach both models: no curated replies, no rate limit.
                ConversationPolicy(empathy_first=False, rate_per_minute=0),
                batch_size=self.options.batch_size,
                batch_window_s=self.options.batch_window_ms / 1000,
                threads=self.options.threads,
            )
            await engine.start()
            try:
                await self._engine_rows(engine, emotion_precision, reply_precision, seed_e, seed_r)
                self.rows.append(
                    Row(
                        "message",
                        "seed: emotion + reply, one at a time",
                        self.dev,
                        "fp32",
                        self.message_weights(),
                        seed_message,
                        seed_message_p95,
                        min(seed_e.n, seed_r.n),
                        vs_seed=1.0,
                        note="sum of the seed emotion and seed reply rows",
                    )
                )
                await self._message_rows(engine, emotion_precision, reply_precision, seed_message)
            finally:
                await engine.close()
        order = ["emotion", "reply", "message", "users"]
        return sorted(self.rows, key=lambda r: order.index(r.group))

    def _fp32_rows(self) -> tuple[Row, Row]:
        """The seed's way and plain fp32 (unpadded, KV cache), called directly; returns the seed rows."""
        c = self.counts
        new = self.options.new_tokens
        fp32_cls = TextClassifier.load(self.emotion_dir, self.device, precision="fp32")
        # transformers' generate, as a straightforward fix of the seed would use it.
        fp32_gen = ReplyGenerator.load(
            self.reply_dir, self.device, self.decoding, precision="fp32", lean=False
        )

        # Emotion ------------------------------------------------------------------------
        seed_e = self.row(
            "emotion",
            "seed: padded to 64, one at a time",
            "fp32",
            time_calls(lambda i: seed_emotion(fp32_cls, message(i)), c["emotion"], self.device),
            None,
        )
        seed_e.vs_seed = 1.0
        tokens = np.mean([len(fp32_cls.tokenizer(m)["input_ids"]) for m in MESSAGES])
        self.row(
            "emotion",
            "unpadded (padding to the longest)",
            "fp32",
            time_calls(lambda i: fp32_cls.classify([message(i)]), c["emotion"], self.device),
            seed_e.median_ms,
            note=f"{tokens:.0f} tokens on average",
        )

        # Replies (direct calls; the engine's own rows come through the worker below) --------
        seed_reply(fp32_gen, message(0), 2)  # warms the same kernels as a full reply, in a tenth of the time
        seed_r = self.row(
            "reply",
            f"seed: no KV cache, {new} tokens",
            "fp32",
            time_calls(
                lambda i: seed_reply(fp32_gen, message(i), new), c["seed_reply"], self.device, warmup=0
            ),
            None,
        )
        seed_r.vs_seed = 1.0
        with count_forwards(fp32_gen.model) as calls:
            samples = time_calls(
                lambda i: fp32_gen.generate([GenerationRequest(message(i))]), c["reply"], self.device
            )
        self.row(
            "reply",
            f"transformers generate, KV cache, {new} tokens",
            "fp32",
            samples,
            seed_r.median_ms,
            note=f"{len(calls) / (c['reply'] + 1):.0f} forward passes per reply",
        )
        # The engine's precision through transformers' generate: what the lean GPT-2 loop adds.
        reply_precision = resolve_precision(self.options.reply_precision, self.device)
        stock = ReplyGenerator.load(
            self.reply_dir, self.device, self.decoding, precision=reply_precision, lean=False
        )
        self.row(
            "reply",
            "transformers generate, KV cache",
            reply_precision,
            time_calls(lambda i: stock.generate([GenerationRequest(message(i))]), c["reply"], self.device),
            seed_r.median_ms,
            note="the engine's rows below use maeum's lean GPT-2 loop instead",
        )
        return seed_e, seed_r

    async def _engine_rows(
        self, engine: Any, emotion_precision: str, reply_precision: str, seed_e: Row, seed_r: Row
    ) -> None:
        c = self.counts
        worker = engine.worker
        self.row(
            "emotion",
            "engine: worker thread",
            emotion_precision,
            await time_async(lambda i: worker.submit("emotion", message(i)), c["emotion"], self.device),
            seed_e.median_ms,
        )
        self.row(
            "reply",
            "engine: worker thread, lean GPT-2 loop",
            reply_precision,
            await time_async(
                lambda i: worker.submit("reply", GenerationRequest(message(i))), c["reply"], self.device
            ),
            seed_r.median_ms,
        )
        batch = min(8, self.options.batch_size)

        async def together(i: int) -> object:
            return await asyncio.gather(
                *(worker.submit("reply", GenerationRequest(message(i + k))) for k in range(batch))
            )

        self.row(
            "reply",
            f"engine: {batch} replies at once (batched)",
            reply_precision,
            await time_async(together, max(2, c["reply"] // 2), self.device),
            seed_r.median_ms * batch if seed_r.median_ms else None,
            note=f"time for all {batch}; x seed against {batch} seed replies",
        )

    async def _message_rows(
        self, engine: Any, emotion_precision: str, reply_precision: str, seed_message: float
    ) -> None:
        from engine.types import IncomingMessage, UserRef

        c = self.counts
        precision = (
            f"{emotion_precision}/{reply_precision}"
            if emotion_precision != reply_precision
            else reply_precision
        )
        # A fresh person for every message: no rate limit or context from earlier bench messages.
        needed = c["message"] + 1 + 2 * c["rounds"] * self.options.users
        users = [UserRef("bench", f"u{i}") for i in range(needed)]
        for user in users:
            await engine.set_consent(user, True)
        fresh = iter(users)
        sources: dict[str, int] = {}

        async def respond(i: int) -> object:
            result = await engine.respond(IncomingMessage(next(fresh), message(i)))
            sources[str(result.source)] = sources.get(str(result.source), 0) + 1
            return result

        self.row(
            "message",
            "engine: emotion + store + reply",
            precision,
            await time_async(respond, c["message"], self.device),
            seed_message,
            note="InProcessEngine.respond, one user at a time",
        )

        n_users = self.options.users
        alone: list[float] = []
        together: list[float] = []
        alone_s = together_s = 0.0
        for _ in range(c["rounds"]):
            started = time.perf_counter()
            for _ in range(n_users):
                alone += await time_async(respond, 1, self.device, warmup=0)
            alone_s += time.perf_counter() - started

            async def timed(i: int) -> float:
                t0 = time.perf_counter()
                await respond(i)
                return (time.perf_counter() - t0) * 1000

            started = time.perf_counter()
            together += await asyncio.gather(*(timed(i) for i in range(n_users)))
            together_s += time.perf_counter() - started
        total = n_users * c["rounds"]
        seed_rate = 1000 / seed_message if seed_message else None
        alone_rate, together_rate = total / alone_s, total / together_s
        row = self.row(
            "users",
            f"{n_users} users, served one at a time",
            precision,
            alone,
            None,
            note=f"{alone_rate:.2f} msg/s",
            extra={"throughput_msg_s": alone_rate},
        )
        row.vs_seed = alone_rate / seed_rate if seed_rate else None
        row = self.row(
            "users",
            f"{n_users} users at once (batch {self.options.batch_size}, {self.options.batch_window_ms:g} ms)",
            precision,
            together,
            None,
            note=f"{together_rate:.2f} msg/s, {together_rate / alone_rate:.1f}x one at a time",
            extra={"throughput_msg_s": together_rate, "vs_one_at_a_time": together_rate / alone_rate},
        )
        row.vs_seed = together_rate / seed_rate if seed_rate else None
        # Only answers that ran the models count: a guard or crisis reply would flatter the timing.
        row.extra["answered_by"] = dict(sources)
        skipped = sum(n for k, n in sources.items() if k not in ("generated", "fallback", "intent"))
        if skipped:
            row.note += f"; WARNING: {skipped} answers skipped the models"


# Cold start, in a fresh process so imports and peak memory are the real ones -----------------


def _child_main(started: float) -> None:
    """Runs in ``python -c``: load the ModelSet as the app does, answer one message, report."""
    spec = json.loads(sys.stdin.read())
    import torch as _torch

    from engine.models import ModelConfig, ModelSet

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
        "peak_rss_mb": _status_mb("VmHWM"),
        "rss_mb": _status_mb("VmRSS"),
        "gpu_peak_mb": _torch.cuda.max_memory_allocated() / 2**20 if _torch.cuda.is_available() else None,
        "describe": {k: v for k, v in models.describe().items() if k != "emotion_labels"},
    }
    print(json.dumps(result))


# Timed from before the first heavy import, so "imports" is what the app pays for torch & co.
CHILD = "import time; t = time.perf_counter(); from engine.benchmark import _child_main; _child_main(t)"


def _status_mb(key: str) -> float:
    """VmHWM (peak) or VmRSS from /proc: ru_maxrss would also count the parent that forked us."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="utf-8").splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # off Linux: the best there is


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


# int8 quality on a trained checkpoint ---------------------------------------------------------


def held_out(emotion_dir: Path, quality_data: Sequence[str]) -> tuple[list[Any], str]:
    """Labelled texts the checkpoint never trained on: given files, or its own test split."""
    from training.classify import stratified_split
    from training.cli import SOURCES_FILE, read_labeled

    if quality_data:
        return read_labeled(list(quality_data), None), ", ".join(quality_data)
    sources_file = emotion_dir / SOURCES_FILE
    if not sources_file.is_file():
        return [], ""
    sources = json.loads(sources_file.read_text(encoding="utf-8"))
    if sources.get("test"):
        return read_labeled(sources["test"], sources.get("label_map")), "the checkpoint's test files"
    data = read_labeled(sources["data"], sources.get("label_map"))
    return stratified_split(data, 0.1, 0.1, sources["seed"]).test, "the checkpoint's held-out test split"


def quality(emotion_dir: Path, records: Sequence[Any]) -> dict[str, Any]:
    from training.classify import evaluate_classifier
    from training.report import classification_metrics

    cpu = torch.device("cpu")
    fp32 = TextClassifier.load(emotion_dir, cpu, role="emotion", precision="fp32")
    int8 = TextClassifier.load(emotion_dir, cpu, role="emotion", precision="int8")
    records = [r for r in records if r.label in fp32.labels]
    gold = [r.label for r in records]
    pred32 = evaluate_classifier(fp32, records, batch_size=32)
    pred8 = evaluate_classifier(int8, records, batch_size=32)
    m32 = classification_metrics(gold, pred32, fp32.labels)
    m8 = classification_metrics(gold, pred8, fp32.labels)
    agree = sum(a == b for a, b in zip(pred32, pred8, strict=True)) / max(1, len(records))
    return {
        "n": len(records),
        "agreement": agree,
        "macro_f1_fp32": m32["macro_f1"],
        "macro_f1_int8": m8["macro_f1"],
        "accuracy_fp32": m32["accuracy"],
        "accuracy_int8": m8["accuracy"],
    }


# Putting it together ---------------------------------------------------------------------------


def _goals(
    rows: list[Row], cold: dict[str, Any] | None, q: dict[str, Any] | None, new_tokens: int
) -> list[Goal]:
    def find(group: str, prefix: str, device: str = "cpu") -> Row | None:
        return next(
            (r for r in rows if r.group == group and r.path.startswith(prefix) and r.device == device), None
        )

    goals: list[Goal] = []
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
    return goals


def _le(value: float | None, limit: float) -> bool | None:
    return None if value is None else value <= limit


def _ge(value: float | None, limit: float) -> bool | None:
    return None if value is None else value >= limit


T = TypeVar("T")


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
        for device in devices:
            rows += asyncio.run(Suite(options, device, emotion_dir, reply_dir, weights).run())

        cold = None
        if options.cold_start:
            cold = cold_start(options, primary.type, emotion_dir, reply_dir)
            precision = "/".join(
                sorted({str(v) for k, v in cold["describe"].items() if k.endswith("precision") and v})
            )
            rows.append(
                Row(
                    "start",
                    "fresh process: import, load, quantize, warm-up",
                    primary.type,
                    precision,
                    weights["emotion"] if weights["emotion"] == weights["reply"] else "mixed",
                    cold["to_first_reply_s"] * 1000,
                    None,
                    1,
                    note=(
                        f"load {cold['load_s']:.1f} s (imports {cold['import_s']:.1f} s); "
                        f"1st/2nd message {cold['first_message_ms']:.0f}/{cold['second_message_ms']:.0f} ms; "
                        f"peak RSS {cold['peak_rss_mb']:.0f} MB, after load {cold['rss_mb']:.0f} MB"
                        + (f", GPU peak {cold['gpu_peak_mb']:.0f} MB" if cold.get("gpu_peak_mb") else "")
                    ),
                    extra=cold,
                )
            )

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
    return Report(
        machine=machine_info(threads),
        settings=settings,
        rows=rows,
        goals=_goals(rows, cold, q, options.new_tokens),
        other_cpu_share=meter.other_share(),
    )
