"""Measure the crisis detector on the project's labelled sentences.

    python -m engine.safety.evaluate [--file PATH ...] [--model DIR | --rules-only]

Prints recall on must-catch lines, the false-alarm rate on must-not-catch
lines, and every miss, for the rules alone and for rules OR the learned model
(the bundled ``models/maeum-crisis`` by default). The texts are the project's
own test sentences.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TypedDict

from engine.safety.crisis import assess
from engine.safety.learned import CrisisModel

_REPO = Path(__file__).resolve().parents[2]
_DATA_DIR = _REPO / "data" / "safety"
DEFAULT_MODEL = _REPO / "models" / "maeum-crisis"
DEFAULT_FILES: tuple[Path, ...] = (_DATA_DIR / "crisis_eval.jsonl", _DATA_DIR / "crisis_holdout.jsonl")


class Miss(TypedDict):
    text: str
    kind: str
    category: str | None


class Report(TypedDict):
    n_crisis: int
    n_safe: int
    recall: float
    false_alarm_rate: float
    missed: list[Miss]
    false_alarms: list[Miss]


def load_cases(path: Path) -> list[dict[str, object]]:
    cases: list[dict[str, object]] = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            row = json.loads(line)
            if not isinstance(row, dict) or not isinstance(row.get("text"), str):
                raise ValueError(f"{path}:{lineno}: expected an object with a 'text' string")
            if not isinstance(row.get("crisis"), bool):
                raise ValueError(f"{path}:{lineno}: 'crisis' must be true or false")
            cases.append(row)
    return cases


def evaluate(cases: Iterable[Mapping[str, object]], model: CrisisModel | None = None) -> Report:
    """Score `assess` (OR ``model`` at its threshold) on cases shaped like
    {"text": str, "crisis": bool, "kind": str}."""
    n_crisis = n_safe = 0
    missed: list[Miss] = []
    false_alarms: list[Miss] = []
    for case in cases:
        text = str(case["text"])
        kind = str(case.get("kind", ""))
        result = assess(text)
        category = result.category
        fired = result.is_crisis
        if not fired and model is not None and model.probability(text) >= model.threshold:
            fired, category = True, "model"
        if case["crisis"]:
            n_crisis += 1
            if not fired:
                missed.append({"text": text, "kind": kind, "category": None})
        else:
            n_safe += 1
            if fired:
                false_alarms.append({"text": text, "kind": kind, "category": category})
    recall = (n_crisis - len(missed)) / n_crisis if n_crisis else 1.0
    false_alarm_rate = len(false_alarms) / n_safe if n_safe else 0.0
    return {
        "n_crisis": n_crisis,
        "n_safe": n_safe,
        "recall": recall,
        "false_alarm_rate": false_alarm_rate,
        "missed": missed,
        "false_alarms": false_alarms,
    }


def _print_report(path: Path, report: Report, who: str) -> None:
    caught = report["n_crisis"] - len(report["missed"])
    print(f"== {path} ({who})")
    print(f"recall (must-catch):          {report['recall']:.1%}  ({caught}/{report['n_crisis']})")
    print(
        f"false alarms (must-not-catch): {report['false_alarm_rate']:.1%}  "
        f"({len(report['false_alarms'])}/{report['n_safe']})"
    )
    for miss in report["missed"]:
        print(f"  MISSED      [{miss['kind']}] {miss['text']}")
    for alarm in report["false_alarms"]:
        print(f"  FALSE ALARM [{alarm['kind']} -> {alarm['category']}] {alarm['text']}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m engine.safety.evaluate", description=__doc__)
    parser.add_argument(
        "--file",
        action="append",
        type=Path,
        help="JSONL file to score (repeatable; default: the eval and held-out sets)",
    )
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="the learned crisis model")
    parser.add_argument("--rules-only", action="store_true", help="score the rules alone")
    args = parser.parse_args(argv)
    files: list[Path] = args.file or list(DEFAULT_FILES)
    model = None if args.rules_only else CrisisModel.load(args.model)
    for path in files:
        cases = load_cases(path)
        _print_report(path, evaluate(cases), "rules")
        if model is not None:
            _print_report(path, evaluate(cases, model), f"rules or model at {model.threshold}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
