"""Sequence classification training (the seed's S1 emotion model and S3 intent model)."""

from __future__ import annotations

import json
import logging
import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from transformers import (
    AutoModelForSequenceClassification,
    BertConfig,
    BertForSequenceClassification,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from engine.inference import TextClassifier, load_tokenizer
from training.baseline import TfidfBaseline
from training.common import TrainConfig, Trainer, set_seed, write_json
from training.readers import PRODUCT_LABELS, LabeledText
from training.report import classification_metrics, confusion_png, curves_png, model_card

log = logging.getLogger(__name__)

# From-scratch BERT sizes for offline use (the KoBERT-base config is 768 × 12).
SCRATCH_SIZES: dict[str, dict[str, Any]] = {
    "tiny": {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 128},
    "compact": {
        "hidden_size": 192,
        "num_hidden_layers": 3,
        "num_attention_heads": 4,
        "intermediate_size": 768,
    },
    "mini": {"hidden_size": 256, "num_hidden_layers": 4, "num_attention_heads": 4, "intermediate_size": 1024},
    "small": {
        "hidden_size": 512,
        "num_hidden_layers": 4,
        "num_attention_heads": 8,
        "intermediate_size": 2048,
    },
}


@dataclass
class Splits:
    train: list[LabeledText]
    val: list[LabeledText]
    test: list[LabeledText]


def stratified_split(
    records: Sequence[LabeledText], val_share: float, test_share: float, seed: int
) -> Splits:
    """Per-label shuffled split, so rare classes appear in every part; the same seed, the same split."""
    by_label: dict[str, list[LabeledText]] = defaultdict(list)
    for record in records:
        by_label[record.label].append(record)
    rng = random.Random(seed)
    splits = Splits([], [], [])
    for label in sorted(by_label):
        items = by_label[label]
        rng.shuffle(items)
        n_val = max(1, round(len(items) * val_share)) if len(items) >= 3 else 0
        n_test = max(1, round(len(items) * test_share)) if len(items) >= 3 else 0
        splits.val += items[:n_val]
        splits.test += items[n_val : n_val + n_test]
        splits.train += items[n_val + n_test :]
    return splits


def label_order(labels: Sequence[str]) -> list[str]:
    present = set(labels)
    if present <= set(PRODUCT_LABELS):
        return [label for label in PRODUCT_LABELS if label in present]
    return sorted(present)


def scratch_classifier(
    tokenizer: PreTrainedTokenizerBase, labels: list[str], size: str, max_len: int
) -> PreTrainedModel:
    config = BertConfig(
        vocab_size=len(tokenizer),
        max_position_embeddings=max(128, max_len),
        num_labels=len(labels),  # type: ignore[call-arg]  # a PretrainedConfig kwarg the stubs miss
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
        pad_token_id=tokenizer.pad_token_id,
        hidden_dropout_prob=0.1,
        **SCRATCH_SIZES[size],
    )
    return BertForSequenceClassification(config)


def base_classifier(base: str, labels: list[str]) -> PreTrainedModel:
    """A pretrained encoder (KoBERT, or our own MLM-pretrained mini BERT) with a fresh head."""
    return AutoModelForSequenceClassification.from_pretrained(
        base,
        num_labels=len(labels),
        id2label=dict(enumerate(labels)),
        label2id={label: i for i, label in enumerate(labels)},
        ignore_mismatched_sizes=True,
    )


def evaluate_classifier(
    classifier: TextClassifier, records: Sequence[LabeledText], batch_size: int = 128
) -> list[str]:
    predictions: list[str] = []
    for start in range(0, len(records), batch_size):
        chunk = [r.text for r in records[start : start + batch_size]]
        predictions += [p.label for p in classifier.classify(chunk)]
    return predictions


def train_classifier(
    task: str,
    splits: Splits,
    config: TrainConfig,
    *,
    tokenizer_location: str,
    scratch_size: str = "mini",
    extra_train: Sequence[LabeledText] = (),
    also_eval: dict[str, list[LabeledText]] | None = None,
    data_note: str = "",
    licence: str = "",
    answers: dict[str, list[str]] | None = None,
    label_smoothing: float = 0.1,
) -> dict[str, Any]:
    """Train, keep the best epoch by validation macro-F1, and write checkpoint + report."""
    set_seed(config.seed)
    train = list(splits.train) + list(extra_train)
    labels = label_order([r.label for r in train])
    label_ids = {label: i for i, label in enumerate(labels)}
    val = [r for r in splits.val if r.label in label_ids]
    tokenizer = load_tokenizer(config.base or tokenizer_location)
    if config.base:
        model = base_classifier(config.base, labels)
    else:
        model = scratch_classifier(tokenizer, labels, scratch_size, config.max_len)
    log.info("training %s on %d examples (%s)", task, len(train), dict(Counter(r.label for r in train)))

    def encode(texts: list[str]) -> dict[str, torch.Tensor]:
        batch = tokenizer(
            texts, padding="longest", truncation=True, max_length=config.max_len, return_tensors="pt"
        )
        return {k: v.to(trainer.device) for k, v in batch.items()}

    # Label smoothing keeps a small model from becoming certain of everything it memorised, so
    # its confidence stays usable (the intent threshold, the mood chart's weighting).
    smoothed = torch.nn.CrossEntropyLoss(label_smoothing=label_smoothing)

    def loss_fn(batch: list[LabeledText]) -> torch.Tensor:
        target = torch.tensor([label_ids[r.label] for r in batch], device=trainer.device)
        logits = model(**encode([r.text for r in batch])).logits
        return smoothed(logits, target)

    def evaluate() -> dict[str, float]:
        total, gold, pred = 0.0, [], []
        for start in range(0, len(val), 256):
            chunk = val[start : start + 256]
            target = torch.tensor([label_ids[r.label] for r in chunk], device=trainer.device)
            output = model(**encode([r.text for r in chunk]), labels=target)
            total += float(output.loss) * len(chunk)
            gold += [r.label for r in chunk]
            pred += [labels[i] for i in output.logits.argmax(-1).tolist()]
        metrics = classification_metrics(gold, pred, labels)
        return {
            "val_loss": total / max(len(val), 1),
            "val_accuracy": metrics["accuracy"],
            "val_macro_f1": metrics["macro_f1"],
        }

    trainer = Trainer(model, tokenizer, config, loss_fn, evaluate, monitor="val_macro_f1")
    state = trainer.fit(train)
    out = config.output_dir
    if answers is not None:
        write_json(out / "answers.json", {k: v for k, v in answers.items() if k in label_ids})
    trainer.finish()

    # Evaluate the saved checkpoint exactly as the engine will load it.
    best = TextClassifier.load(out, torch.device("cpu"), role=task)
    baseline = TfidfBaseline.fit([r.text for r in train], [r.label for r in train])
    report: dict[str, Any] = {"task": task, "labels": labels, "history": state.history, "splits": {}}
    for name, records in {"val": val, "test": splits.test, **(also_eval or {})}.items():
        records = [r for r in records if r.label in label_ids]
        if not records:
            continue
        gold = [r.label for r in records]
        model_metrics = classification_metrics(gold, evaluate_classifier(best, records), labels)
        base_metrics = classification_metrics(gold, baseline.predict([r.text for r in records]), labels)
        report["splits"][name] = {"model": model_metrics, "tfidf_baseline": base_metrics}
    write_json(out / "metrics.json", report)
    headline_split = "test" if "test" in report["splits"] else "val"
    headline = report["splits"][headline_split]["model"]
    (out / "confusion_matrix.png").write_bytes(
        confusion_png(headline, f"{task} — {headline_split} 혼동 행렬")
    )
    (out / "learning_curves.png").write_bytes(
        curves_png(state.history, ["train_loss", "val_loss", "val_macro_f1"], f"{task} 학습 곡선")
    )
    summary = {
        f"{split}_{who}_{key}": report["splits"][split][who][key]
        for split in report["splits"]
        for who in ("model", "tfidf_baseline")
        for key in ("accuracy", "macro_f1")
    }
    (out / "README.md").write_text(
        model_card(
            out.name,
            f"{task} classification over {len(labels)} labels: {', '.join(labels)}",
            data_note,
            licence,
            config.to_json(),
            summary,
            extra=f"Examples: train {len(train)}, val {len(val)}, test {len(splits.test)}.",
        ),
        encoding="utf-8",
    )
    return report


def load_answers(path: Path) -> dict[str, list[str]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return {str(k): [str(a) for a in v] for k, v in data.items()}
