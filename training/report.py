"""Training reports: metrics, a confusion-matrix PNG, learning curves, and a model card."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support

from engine.mood import RENDER_LOCK, korean_font


def classification_metrics(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> dict[str, Any]:
    labels = list(labels)
    precision, recall, f1, support = precision_recall_fscore_support(
        gold, pred, labels=labels, zero_division=0
    )
    return {
        "n": len(gold),
        "accuracy": float(accuracy_score(gold, pred)) if gold else 0.0,
        "macro_f1": float(f1_score(gold, pred, labels=labels, average="macro", zero_division=0)),
        "per_class": {
            label: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, label in enumerate(labels)
        },
        "confusion_matrix": confusion_matrix(gold, pred, labels=labels).tolist(),
        "labels": labels,
    }


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    FigureCanvasAgg(fig).print_png(buffer)
    return buffer.getvalue()


def confusion_png(metrics: dict[str, Any], title: str) -> bytes:
    labels: list[str] = metrics["labels"]
    matrix = np.array(metrics["confusion_matrix"], dtype=float)
    rows = matrix.sum(axis=1, keepdims=True)
    share = np.divide(matrix, rows, out=np.zeros_like(matrix), where=rows > 0)
    size = max(6.0, 0.45 * len(labels) + 3)
    with RENDER_LOCK:
        fig = Figure(figsize=(size, size), dpi=110)
        ax = fig.add_subplot()
        ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
        ticks = range(len(labels))
        small = len(labels) > 12
        font = korean_font(8 if small else 12)
        ax.set_xticks(list(ticks), labels, fontproperties=font, rotation=90 if small else 0)
        ax.set_yticks(list(ticks), labels, fontproperties=font)
        ax.set_xlabel("예측", fontproperties=korean_font(13))
        ax.set_ylabel("정답", fontproperties=korean_font(13))
        ax.set_title(title, fontproperties=korean_font(15, bold=True))
        if not small:
            for i in ticks:
                for j in ticks:
                    colour = "white" if share[i, j] > 0.5 else "#333333"
                    ax.text(j, i, f"{int(matrix[i, j])}", ha="center", va="center", color=colour, fontsize=11)
        fig.tight_layout()
        return _png(fig)


def curves_png(history: Sequence[dict[str, float]], keys: Sequence[str], title: str) -> bytes:
    with RENDER_LOCK:
        fig = Figure(figsize=(8, 5), dpi=110)
        ax = fig.add_subplot()
        epochs = [h["epoch"] for h in history]
        for key in keys:
            values = [h.get(key, math.nan) for h in history]
            ax.plot(epochs, values, marker="o", label=key)
        ax.set_xlabel("에포크", fontproperties=korean_font(12))
        ax.set_title(title, fontproperties=korean_font(14, bold=True))
        ax.grid(alpha=0.3)
        ax.legend(prop=korean_font(11))
        fig.tight_layout()
        return _png(fig)


def model_card(
    name: str,
    task: str,
    data: str,
    licence: str,
    config: dict[str, Any],
    metrics: dict[str, Any],
    extra: str = "",
) -> str:
    lines = [
        f"# {name}",
        "",
        f"Task: {task}. Trained with `maeum train` on {datetime.now(UTC).date().isoformat()}.",
        "",
        "## Data",
        data,
        "",
        "## Licence",
        licence,
        "",
        "## Metrics",
    ]
    for key, value in metrics.items():
        if isinstance(value, (int, float)):
            lines.append(f"- {key}: {value:.4f}" if isinstance(value, float) else f"- {key}: {value}")
    if extra:
        lines += ["", extra]
    lines += ["", "## Training configuration", "```json"]
    import json

    lines += [json.dumps(config, ensure_ascii=False, indent=2), "```", ""]
    return "\n".join(lines)


def write_png(path: Path, data: bytes) -> None:
    path.write_bytes(data)
