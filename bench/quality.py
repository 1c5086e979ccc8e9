"""int8 against fp32 on a trained checkpoint's held-out messages."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from engine.inference import (
    TextClassifier,
)

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
