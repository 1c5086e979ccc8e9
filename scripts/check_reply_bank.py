"""Validate the reply bank in data/replies (schema, counts, tone rules, duplicates, no crisis).

    python scripts/check_reply_bank.py [FILE ...]

Prints every problem and exits 1 when there is one. The rules are the ones in
data/replies/README.md; the engine's bank loader applies the same checks.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from engine.safety import assess  # noqa: E402

LABELS = {"일상", "기쁨", "불안", "슬픔", "분노", "우울"}
ID = re.compile(r"^[a-z][a-z0-9_]*\.[a-z0-9_]+$")
MIN_MESSAGES, MIN_REPLIES, MAX_REPLY_CHARS = 20, 5, 90
# A sentence of a reply ends politely (해요체/합니다체), optionally with punctuation or an emoji.
POLITE_END = re.compile(r"(?:요|니다|죠|까|세요)[.?!~…]*\s*[\U0001F300-\U0001FAFF\u2600-\u27BF]?$")
BANNED = re.compile(
    r"힘내|하지 ?마세요|마세요|구걸|딴 ?생각|별일 ?아니|별거 ?아니|별것 ?아니|아무것도 ?아니|자살|죽|극단|"
    r"해야 ?(?:해요|합니다|돼요)|하셔야|반드시|무조건|남자 ?친구|여자 ?친구|남친|여친|그냥 ?잊|잊으세요|"
    r"정신 ?차리|예민하|오버|유난"
)


def norm(text: str) -> str:
    """Spacing, punctuation and ㅋ/ㅎ/ㅠ/ㅜ runs do not make a message new; a message made only of
    them (ㅠㅠ, ㅋㅋㅋ, ...) is compared as written."""
    key = re.sub(r"[\s.,!?~…ㅋㅎㅠㅜ]+", "", text)
    return key or text.strip()


def sentences(reply: str) -> list[str]:
    parts = re.split(r"(?<=[.?!…])\s+", reply.strip())
    return [p for p in parts if p]


def check_reply(reply: str) -> list[str]:
    problems = []
    if len(reply) > MAX_REPLY_CHARS:
        problems.append(f"longer than {MAX_REPLY_CHARS} characters ({len(reply)})")
    parts = sentences(reply)
    if len(parts) > 2:
        problems.append(f"{len(parts)} sentences (at most 2)")
    for part in parts:
        if not POLITE_END.search(part):
            problems.append(f"sentence does not end in 존댓말: {part!r}")
    if reply.count("?") > 1:
        problems.append("more than one question")
    banned = BANNED.search(reply)
    if banned:
        problems.append(f"banned phrase {banned.group()!r}")
    return problems


def check_file(
    path: Path, seen_ids: set[str], seen_messages: dict[str, str], seen_replies: dict[str, str]
) -> list[str]:
    problems: list[str] = []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        return [f"{path.name}: not valid JSON ({exc})"]
    domain = data.get("domain")
    if not isinstance(domain, str) or not isinstance(data.get("situations"), list):
        return [f"{path.name}: needs 'domain' (string) and 'situations' (list)"]
    for situation in data["situations"]:
        sid = situation.get("id", "?")
        where = f"{path.name}:{sid}"
        if not isinstance(sid, str) or not ID.match(sid) or not sid.startswith(domain + "."):
            problems.append(f"{where}: id must look like '{domain}.snake_case'")
        if sid in seen_ids:
            problems.append(f"{where}: duplicate id")
        seen_ids.add(sid)
        if not isinstance(situation.get("title"), str) or not situation["title"].strip():
            problems.append(f"{where}: missing title")
        emotions = situation.get("emotions")
        if not isinstance(emotions, list) or not emotions or not set(emotions) <= LABELS:
            problems.append(f"{where}: emotions must be a non-empty list of {sorted(LABELS)}")
            emotions = list(LABELS)
        messages = situation.get("messages", [])
        if len(messages) < MIN_MESSAGES:
            problems.append(f"{where}: {len(messages)} messages (at least {MIN_MESSAGES})")
        for message in messages:
            text, emotion = message.get("text"), message.get("emotion")
            if not isinstance(text, str) or not text.strip():
                problems.append(f"{where}: empty message")
                continue
            if emotion not in emotions:
                problems.append(
                    f"{where}: message emotion {emotion!r} not in the situation's emotions: {text!r}"
                )
            key = norm(text)
            if key in seen_messages:
                problems.append(f"{where}: message repeats one in {seen_messages[key]}: {text!r}")
            seen_messages.setdefault(key, sid)
            if assess(text).is_crisis:
                problems.append(f"{where}: message trips the crisis detector (not bank material): {text!r}")
        replies = list(situation.get("replies", []))
        if len(replies) < MIN_REPLIES:
            problems.append(f"{where}: {len(replies)} replies (at least {MIN_REPLIES})")
        by_emotion = situation.get("replies_by_emotion", {}) or {}
        if not isinstance(by_emotion, dict) or not set(by_emotion) <= set(emotions):
            problems.append(f"{where}: replies_by_emotion keys must be among the situation's emotions")
            by_emotion = {}
        for options in by_emotion.values():
            replies.extend(options)
        for reply in replies:
            for problem in check_reply(reply):
                problems.append(f"{where}: reply {problem}: {reply!r}")
            if reply in seen_replies:
                problems.append(f"{where}: reply repeats one in {seen_replies[reply]}: {reply!r}")
            seen_replies.setdefault(reply, sid)
    return problems


def main(argv: list[str]) -> int:
    files = [Path(a) for a in argv] or sorted((REPO / "data" / "replies").glob("*.json"))
    seen_ids: set[str] = set()
    seen_messages: dict[str, str] = {}
    seen_replies: dict[str, str] = {}
    problems: list[str] = []
    counts: Counter[str] = Counter()
    for path in files:
        problems += check_file(path, seen_ids, seen_messages, seen_replies)
        data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        counts[path.name] = len(data.get("situations", []))
    for problem in problems:
        print(problem)
    total = sum(counts.values())
    print(
        f"{total} situations, {len(seen_messages)} messages, {len(seen_replies)} replies "
        f"in {len(files)} files; {len(problems)} problems"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
