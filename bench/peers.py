"""Peers in the same run: ONNX Runtime int8 for the classifier next to torch int8, and
CTranslate2 int8 for one reply next to maeum's lean GPT-2 loop, at 1 and 2 threads.

They need the optional ``bench`` extra (``pip install 'maeum[bench]'``: onnxruntime, onnx,
ctranslate2). Without it the rows are still there, saying ``skipped: install maeum[bench]``.

Each comparison runs on one fresh thread (see ``on_fresh_thread``) and alternates the two sides
in rounds, so a change in the machine's load hits both. CTranslate2 converts the same saved
checkpoint with its transformers converter and decodes with the engine's sampling rules and
the same fixed reply length.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.machine import on_fresh_thread
from bench.messages import MESSAGES
from bench.options import BenchOptions
from bench.report import Row, percentiles

PACKAGES = ("onnxruntime", "onnx", "ctranslate2")
SKIPPED = "skipped: install maeum[bench]"


def missing() -> list[str]:
    """The bench extra's packages that are not installed."""
    return [name for name in PACKAGES if not _installed(name)]


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a broken install, or blocked in sys.modules
        return False


def thread_counts() -> list[int]:
    return sorted({1, min(2, os.cpu_count() or 1)})


def _message(i: int) -> str:
    return MESSAGES[i % len(MESSAGES)]


def _skipped(path: str, weights: str, lacking: Sequence[str], group: str = "peers") -> Row:
    return Row(
        group, path, "cpu", "int8", weights, None, None, 0, note=f"{SKIPPED} (missing: {', '.join(lacking)})"
    )


def _rounds(sides: dict[str, Callable[[int], object]], n: int, rounds: int = 2) -> dict[str, list[float]]:
    """Milliseconds per call for each side, ``n`` calls in all, alternating sides between rounds."""
    samples: dict[str, list[float]] = {name: [] for name in sides}
    order = list(sides)
    for fn in sides.values():  # warm-up, untimed
        fn(0)
    per_round = max(1, -(-n // rounds))
    for r in range(rounds):
        for name in order if r % 2 == 0 else order[::-1]:
            for i in range(per_round):
                started = time.perf_counter()
                sides[name](r * per_round + i)
                samples[name].append((time.perf_counter() - started) * 1000)
    return samples


def peer_rows(
    options: BenchOptions, emotion_dir: Path, reply_dir: Path, weights: dict[str, str]
) -> list[Row]:
    lacking = missing()
    counts = options.counts()
    threads = thread_counts()
    if lacking:
        return [
            _skipped("emotion: ONNX Runtime int8 vs torch int8", weights["emotion"], lacking),
            _skipped("one reply: CTranslate2 int8 vs maeum's lean loop", weights["reply"], lacking),
        ]
    import torch

    before = torch.get_num_threads()
    try:
        rows = on_fresh_thread(_emotion_rows, emotion_dir, weights["emotion"], threads, counts["emotion"])
        rows += _reply_rows(options, reply_dir, weights["reply"], threads, counts["reply"])
    finally:
        torch.set_num_threads(before)
    return rows


# Emotion: torch int8 against ONNX Runtime int8 ----------------------------------------------


def _one_message(classifier: Any) -> Callable[[int], object]:
    return lambda i: classifier.classify([_message(i)])


def _emotion_rows(emotion_dir: Path, weights: str, threads: Sequence[int], n: int) -> list[Row]:
    import torch

    from engine.inference.classifier import TextClassifier
    from engine.inference.onnx_emotion import OnnxTextClassifier, cached_export

    started = time.perf_counter()
    cached_export(emotion_dir)  # exported once per checkpoint; later loads reuse it
    export_s = time.perf_counter() - started
    reference = TextClassifier.load(emotion_dir, torch.device("cpu"), precision="int8")
    tokens = np.mean([len(reference.tokenizer(m)["input_ids"]) for m in MESSAGES])
    rows = []
    for t in threads:
        torch.set_num_threads(t)
        onnx = OnnxTextClassifier.load(emotion_dir, threads=t)
        samples = _rounds(
            {
                "torch": _one_message(reference),
                "onnx": _one_message(onnx),
            },
            n,
        )
        torch_p50, torch_p95 = percentiles(samples["torch"])
        onnx_p50, onnx_p95 = percentiles(samples["onnx"])
        plural = "thread" if t == 1 else "threads"
        rows.append(
            Row(
                "peers",
                f"emotion: torch int8 (reference), {t} {plural}",
                "cpu",
                "int8",
                weights,
                torch_p50,
                torch_p95,
                len(samples["torch"]),
                note=f"one message, {tokens:.0f} tokens on average; direct call",
                extra={"threads": t, "runtime": "torch"},
            )
        )
        rows.append(
            Row(
                "peers",
                f"emotion: ONNX Runtime int8, {t} {plural}",
                "cpu",
                "int8",
                weights,
                onnx_p50,
                onnx_p95,
                len(samples["onnx"]),
                note=(
                    f"{torch_p50 / onnx_p50:.2f}x torch int8 at p50; "
                    f"export {export_s:.1f} s (once per checkpoint)"
                ),
                extra={"threads": t, "runtime": "onnxruntime", "vs_torch_int8": torch_p50 / onnx_p50},
            )
        )
    return rows


def onnx_quality(emotion_dir: Path, records: Sequence[Any], weights: str, source: str) -> Row:
    """ONNX Runtime int8 labels against fp32 torch on held-out messages, one message at a time
    (the engine's common case) and in batches of 32."""
    lacking = [p for p in ("onnxruntime", "onnx") if p in missing()]
    path = "ONNX Runtime int8 vs fp32 torch labels"
    if lacking:
        return _skipped(path, weights, lacking, group="quality")
    import torch

    from engine.inference.classifier import TextClassifier
    from engine.inference.onnx_emotion import OnnxTextClassifier
    from training.classify import evaluate_classifier
    from training.report import classification_metrics

    fp32 = TextClassifier.load(emotion_dir, torch.device("cpu"), role="emotion", precision="fp32")
    onnx = OnnxTextClassifier.load(emotion_dir)
    records = [r for r in records if r.label in fp32.labels]
    gold = [r.label for r in records]
    ref = evaluate_classifier(fp32, records, batch_size=32)
    batched = evaluate_classifier(onnx, records, batch_size=32)
    alone = evaluate_classifier(onnx, records, batch_size=1)
    n = max(1, len(records))
    agree = sum(a == b for a, b in zip(ref, alone, strict=True)) / n
    agree_batched = sum(a == b for a, b in zip(ref, batched, strict=True)) / n
    f1_ref = classification_metrics(gold, ref, fp32.labels)["macro_f1"]
    f1_onnx = classification_metrics(gold, alone, fp32.labels)["macro_f1"]
    return Row(
        "quality",
        path,
        "cpu",
        "int8",
        weights,
        None,
        None,
        len(records),
        note=(
            f"agree {agree * 100:.1f}% one at a time, {agree_batched * 100:.1f}% in batches of 32; "
            f"macro-F1 fp32 {f1_ref:.3f}, ONNX int8 {f1_onnx:.3f} ({source})"
        ),
        extra={
            "runtime": "onnxruntime",
            "n": len(records),
            "agreement": agree,
            "agreement_batched": agree_batched,
            "macro_f1_fp32": f1_ref,
            "macro_f1_onnx_int8": f1_onnx,
        },
    )


# One reply: maeum's lean loop against CTranslate2 -------------------------------------------


@contextlib.contextmanager
def _vocabulary_padded_to_the_model() -> Iterator[None]:
    """The bench's random GPT-2 keeps KoGPT2's 51,200 outputs over a smaller BPE; CTranslate2's
    converter wants one vocabulary entry per output, so the missing ids get placeholder names."""
    from ctranslate2.converters import transformers as ct2t

    registry: dict[str, Any] = ct2t._MODEL_LOADERS
    original = registry["GPT2Config"]

    class Padded(type(original)):  # type: ignore[misc]
        def get_vocabulary(self, model: Any, tokenizer: Any) -> list[str]:
            tokens: list[str] = super().get_vocabulary(model, tokenizer)
            return tokens + [f"<maeum_unused_{i}>" for i in range(len(tokens), model.config.vocab_size)]

    registry["GPT2Config"] = Padded()
    try:
        yield
    finally:
        registry["GPT2Config"] = original


def convert_ct2(reply_dir: Path, out: Path) -> Path:
    import ctranslate2

    with _vocabulary_padded_to_the_model():
        ctranslate2.converters.TransformersConverter(str(reply_dir)).convert(
            str(out), quantization="int8", force=True
        )
    return out


def _reply_rows(
    options: BenchOptions, reply_dir: Path, weights: str, threads: Sequence[int], n: int
) -> list[Row]:
    from engine.inference import DecodingConfig

    new = options.new_tokens
    decoding = DecodingConfig(max_new_tokens=new, min_new_tokens=new)
    with tempfile.TemporaryDirectory(prefix="maeum-bench-ct2-") as tmp:
        started = time.perf_counter()
        ct2_dir = on_fresh_thread(convert_ct2, reply_dir, Path(tmp) / "ct2")
        convert_s = time.perf_counter() - started
        rows: list[Row] = []
        for t in threads:
            rows += on_fresh_thread(
                _time_replies, reply_dir, ct2_dir, decoding, weights, t, max(3, n), convert_s, threads=t
            )
    return rows


def _time_replies(
    reply_dir: Path,
    ct2_dir: Path,
    decoding: Any,
    weights: str,
    t: int,
    n: int,
    convert_s: float,
) -> list[Row]:
    import ctranslate2
    import torch

    from engine.inference import GenerationRequest
    from engine.inference.generation import ReplyGenerator

    maeum = ReplyGenerator.load(reply_dir, torch.device("cpu"), decoding, precision="int8")
    generator = ctranslate2.Generator(str(ct2_dir), device="cpu", compute_type="int8", intra_threads=t)
    tokenizer = maeum.tokenizer
    lengths: list[int] = []

    def ct2_reply(i: int) -> object:
        ids = tokenizer(maeum.build_prompt(GenerationRequest(_message(i))), add_special_tokens=False)
        prompt = tokenizer.convert_ids_to_tokens(ids["input_ids"])
        result = generator.generate_batch(
            [prompt],
            max_length=decoding.max_new_tokens,
            min_length=decoding.min_new_tokens,
            sampling_topk=decoding.top_k,
            sampling_topp=decoding.top_p,
            sampling_temperature=decoding.temperature,
            repetition_penalty=decoding.repetition_penalty,
            no_repeat_ngram_size=decoding.no_repeat_ngram_size,
            include_prompt_in_result=False,
        )
        lengths.append(len(result[0].sequences_ids[0]))
        return tokenizer.decode(result[0].sequences_ids[0])

    samples = _rounds(
        {"maeum": lambda i: maeum.generate([GenerationRequest(_message(i))]), "ct2": ct2_reply}, n
    )
    maeum_p50, maeum_p95 = percentiles(samples["maeum"])
    ct2_p50, ct2_p95 = percentiles(samples["ct2"])
    plural = "thread" if t == 1 else "threads"
    new = decoding.max_new_tokens
    return [
        Row(
            "peers",
            f"one reply: maeum lean loop, {t} {plural}",
            "cpu",
            "int8",
            weights,
            maeum_p50,
            maeum_p95,
            len(samples["maeum"]),
            note=f"{new} tokens, direct call",
            extra={"threads": t, "runtime": "maeum"},
        ),
        Row(
            "peers",
            f"one reply: CTranslate2 int8, {t} {plural}",
            "cpu",
            "int8",
            weights,
            ct2_p50,
            ct2_p95,
            len(samples["ct2"]),
            note=(
                f"p50 {ct2_p50 / maeum_p50:.2f}x maeum's (above 1: maeum ahead); "
                f"{min(lengths)}-{max(lengths)} tokens; converted in {convert_s:.1f} s"
            ),
            extra={
                "threads": t,
                "runtime": "ctranslate2",
                "maeum_vs_ct2": ct2_p50 / maeum_p50,
                "tokens": [min(lengths), max(lengths)],
                "ctranslate2": ctranslate2.__version__,
            },
        ),
    ]
