"""``maeum train crisis``: the learned crisis classifier that runs beside the rules.

Data, and what each part is for:
- training: ``data/safety/crisis_train.jsonl`` (new varied phrasings and hard negatives) and
  ``crisis_eval.jsonl`` (the rules' own set), plus 80% of the project's everyday messages
  (emotion data, reply-bank messages) as negatives — without them the model learns "sad means
  crisis" and shows the card to about 1 in 10 ordinary sad or lonely messages;
- threshold: ``crisis_dev.jsonl`` (written apart from the training lines, not tuned into the
  rules): the lowest threshold at which rules OR model keep false alarms there at most
  ``max_dev_false_alarms``, on the held-back 20% of everyday messages at most
  ``max_everyday_false_alarms``, and fire on at most ``max_probe_false_alarms`` of the short
  everyday probes (``crisis_short_probes.jsonl``: 안녕, 끝, 그만, 살고 싶다…);
- report only, never tuned on: ``crisis_holdout.jsonl``.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from engine.safety import assess
from engine.safety.learned import CrisisModel, featurize

DATA = Path(__file__).resolve().parents[1] / "data"


@dataclass(frozen=True)
class Case:
    text: str
    crisis: bool
    kind: str = ""


def read_cases(path: Path) -> list[Case]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [Case(str(r["text"]), bool(r["crisis"]), str(r.get("kind", ""))) for r in rows]


def everyday_messages(data: Path = DATA) -> list[Case]:
    """The project's own non-crisis messages: emotion data and reply-bank examples."""
    cases: list[Case] = []
    for path in sorted((data / "emotion").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                cases.append(Case(str(json.loads(line)["text"]), False, "everyday"))
    for path in sorted((data / "replies").glob("*.json")):
        for situation in json.loads(path.read_text(encoding="utf-8"))["situations"]:
            cases += [Case(str(m["text"]), False, "everyday") for m in situation["messages"]]
    return cases


def _matrix(cases: Sequence[Case], dim: int, max_n: int) -> Any:
    from scipy.sparse import csr_matrix

    indices: list[np.ndarray] = []
    values: list[np.ndarray] = []
    pointers = [0]
    for case in cases:
        ids = featurize(case.text, dim, max_n)
        indices.append(ids)
        values.append(np.ones(ids.size, dtype=np.float32))  # binary, as CrisisModel.probability reads
        pointers.append(pointers[-1] + ids.size)
    return csr_matrix(
        (np.concatenate(values), np.concatenate(indices), np.array(pointers)), shape=(len(cases), dim)
    )


def rates(cases: Sequence[Case], model: CrisisModel | None, threshold: float | None = None) -> dict[str, Any]:
    """Recall on must-catch lines and the false-alarm rate on must-not-catch lines, for the rules
    alone and (with a model) for rules OR model."""
    t = model.threshold if model is not None and threshold is None else threshold
    fired = []
    for case in cases:
        hit = assess(case.text).is_crisis
        if not hit and model is not None and t is not None:
            hit = model.probability(case.text) >= t
        fired.append(hit)
    crisis = [f for f, c in zip(fired, cases, strict=True) if c.crisis]
    safe = [f for f, c in zip(fired, cases, strict=True) if not c.crisis]
    return {
        "n_crisis": len(crisis),
        "n_safe": len(safe),
        "recall": sum(crisis) / len(crisis) if crisis else None,
        "false_alarm_rate": sum(safe) / len(safe) if safe else None,
        "false_alarms": sum(safe),
    }


def _is_short(text: str) -> bool:
    return len(text.replace(" ", "")) <= 8


def train_crisis(
    out: Path,
    *,
    data: Path = DATA,
    dim: int = 1 << 18,
    max_n: int = 3,
    c: float = 4.0,
    everyday_weight: float = 0.3,
    short_weight: float = 2.0,
    max_dev_false_alarms: float = 0.025,
    max_everyday_false_alarms: float = 0.005,
    max_probe_false_alarms: int = 1,
    seed: int = 0,
) -> dict[str, Any]:
    """Train, choose the threshold, save the model and its metrics; returns the metrics."""
    from sklearn.linear_model import LogisticRegression

    safety = data / "safety"
    train = read_cases(safety / "crisis_train.jsonl") + read_cases(safety / "crisis_eval.jsonl")
    dev = read_cases(safety / "crisis_dev.jsonl")
    everyday = everyday_messages(data)
    random.Random(seed).shuffle(everyday)
    cut = int(len(everyday) * 0.8)
    everyday_train, everyday_check = everyday[:cut], everyday[cut:]

    rows = train + everyday_train
    y = np.array([r.crisis for r in rows])
    # Short everyday messages weigh more: without them "안녕" or "끝" read like a goodbye.
    weights = np.array(
        [
            1.0 if i < len(train) else (short_weight if _is_short(r.text) else everyday_weight)
            for i, r in enumerate(rows)
        ]
    )
    weights[y] *= weights[~y].sum() / weights[y].sum()  # the two classes weigh the same overall
    fit = LogisticRegression(C=c, max_iter=5000).fit(_matrix(rows, dim, max_n), y, sample_weight=weights)
    # Rounded to float16 now, as saved, so the threshold is chosen on the weights that ship.
    shipped = fit.coef_[0].astype(np.float16).astype(np.float32)
    model = CrisisModel(shipped, float(fit.intercept_[0]), dim, max_n, 1.0)

    dev_p = np.array([model.probability(r.text) for r in dev])
    dev_rules = np.array([assess(r.text).is_crisis for r in dev])
    check_p = np.array([model.probability(r.text) for r in everyday_check])
    probes = (
        read_cases(safety / "crisis_short_probes.jsonl")
        if (safety / "crisis_short_probes.jsonl").exists()
        else []
    )
    probe_p = np.array([model.probability(r.text) for r in probes])
    dev_safe = np.array([not r.crisis for r in dev])
    threshold = 0.995
    for t in np.arange(0.30, 0.995, 0.005):
        dev_fa = (dev_rules | (dev_p >= t))[dev_safe].mean()
        if (
            dev_fa <= max_dev_false_alarms
            and (check_p >= t).mean() <= max_everyday_false_alarms
            and int((probe_p >= t).sum()) <= max_probe_false_alarms
        ):
            threshold = round(float(t), 3)
            break
    model = CrisisModel(model.weights, model.bias, dim, max_n, threshold)

    metrics: dict[str, Any] = {
        "threshold": threshold,
        "chosen_on": "crisis_dev.jsonl, 20% of everyday messages held back, crisis_short_probes.jsonl",
        "settings": {
            "dim": dim,
            "max_n": max_n,
            "C": c,
            "everyday_weight": everyday_weight,
            "short_weight": short_weight,
            "seed": seed,
        },
        "training": {"crisis_lines": int(y.sum()), "other_lines": int((~y).sum())},
        "sets": {},
    }
    holdout = read_cases(safety / "crisis_holdout.jsonl")
    sets = (
        ("dev", dev),
        ("everyday_held_back", everyday_check),
        ("short_probes", probes),
        ("holdout", holdout),
    )
    for name, cases in sets:
        metrics["sets"][name] = {"rules": rates(cases, None), "rules_or_model": rates(cases, model)}
    model.save(out, metrics)
    return metrics
