"""The reply bank: everyday situations and the replies maeum gives to them (data/replies).

What a situation is, and the rules its replies follow, are in data/replies/README.md;
:func:`check_bank` applies those rules (the tests and ``scripts/check_reply_bank.py`` run it).
At run time the bank is the compiled ``bank.json`` beside the matcher's head (``maeum train
bank``): situations with their replies and emotions; of the example messages, only the keys of the
very short ones ("ㅎㅇ", "ㅠㅠ"), which are looked up as written instead of matched.
"""

from __future__ import annotations

import json
import random
import re
import unicodedata
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

BANK_FILE = "bank.json"
ID = re.compile(r"^[a-z][a-z0-9_]*\.[a-z0-9_]+$")
MIN_MESSAGES, MIN_REPLIES, MAX_REPLY_CHARS = 20, 5, 90
# A sentence of a reply ends politely (해요체/합니다체), optionally with punctuation or an emoji.
POLITE_END = re.compile(r"(?:요|니다|죠|까|세요)[.?!~…]*\s*[\U0001F300-\U0001FAFF\u2600-\u27BF]?$")
# Lines a bank must never serve: lectures, commands, judgement, minimising, assumptions.
BANNED = re.compile(
    r"힘내|하지 ?마세요|마세요|구걸|딴 ?생각|별일 ?아니|별거 ?아니|별것 ?아니|아무것도 ?아니|자살|죽|극단|"
    r"해야 ?(?:해요|합니다|돼요)|하셔야|반드시|무조건|남자 ?친구|여자 ?친구|남친|여친|그냥 ?잊|잊으세요|"
    r"정신 ?차리|예민하|오버|유난"
)


@dataclass(frozen=True)
class Situation:
    id: str
    title: str
    emotions: frozenset[str]
    replies: tuple[str, ...]
    replies_by_emotion: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # The message must contain one of these (the death situations: never assume a death).
    requires_any: tuple[str, ...] = ()
    # Words that say the situation's replies do not fit ("면접 결과" is not an interview ahead).
    excludes_any: tuple[str, ...] = ()

    def allows(self, text: str) -> bool:
        """The message says what the replies assume (``requires_any``), unless the matcher is very
        sure; see :meth:`refuses` for the words that rule a situation out whatever the matcher says."""
        return not self.requires_any or any(cue in text for cue in self.requires_any)

    def refuses(self, text: str) -> bool:
        return any(cue in text for cue in self.excludes_any)

    def options(self, emotion: str | None) -> tuple[str, ...]:
        """The replies for this emotion when the bank has some, else the general ones."""
        return self.replies_by_emotion.get(emotion or "", ()) or self.replies


def domain_of(situation_id: str) -> str:
    return situation_id.split(".", 1)[0]


class ReplyBank:
    """Situations by id, and for some domains a ``general`` entry (id ``<domain>.*``): replies that
    fit any message of the domain, for when the matcher can tell the domain but not the situation."""

    def __init__(
        self,
        situations: Iterable[Situation],
        general: Iterable[Situation] = (),
        short: dict[str, str] | None = None,
    ) -> None:
        self.situations = {s.id: s for s in situations}
        self.general = {domain_of(g.id): g for g in general}
        # A very short message written as one of the bank's own examples ("ㅎㅇ", "ㅠㅠㅠ", "..."):
        # its situation, by the key of short_key(). e5 reads two jamo or three dots as noise ("ㅎㅇ"
        # matched 한숨, "..." a smiling emoji), and there is nothing else in them to weigh.
        self.short = dict(short or {})

    def __len__(self) -> int:
        return len(self.situations)

    def get(self, situation_id: str) -> Situation | None:
        return self.situations.get(situation_id)

    def short_match(self, text: str) -> Situation | None:
        key = short_key(text)
        sid = self.short.get(key) if key is not None else None
        return self.situations.get(sid) if sid else None

    @classmethod
    def from_data(cls, folder: Path) -> ReplyBank:
        """The bank as written, from data/replies/*.json."""
        situations, general = [], []
        owners: dict[str, set[str]] = {}
        for path in sorted(folder.glob("*.json")):
            data = json.loads(path.read_text(encoding="utf-8"))
            situations += [_situation(raw) for raw in data["situations"]]
            if data.get("general"):
                general.append(_general(data["domain"], data["general"]))
            for raw in data["situations"]:
                for message in raw["messages"]:
                    key = short_key(message["text"])
                    if key is not None:
                        owners.setdefault(key, set()).add(raw["id"])
        # Only keys that belong to one situation ("응" is a short answer; "어" could be anything).
        short = {key: next(iter(ids)) for key, ids in sorted(owners.items()) if len(ids) == 1}
        return cls(situations, general, short)

    @classmethod
    def load(cls, location: str | Path) -> ReplyBank:
        """The compiled bank beside the matcher (``maeum train bank``)."""
        raw = json.loads((Path(location) / BANK_FILE).read_text(encoding="utf-8"))
        general = (_situation(g) for g in raw.get("general", []))
        return cls((_situation(s) for s in raw["situations"]), general, raw.get("short"))

    def save(self, location: Path) -> None:
        location.mkdir(parents=True, exist_ok=True)
        data = {
            "situations": [_raw(s) for s in self.situations.values()],
            "general": [_raw(g) for g in self.general.values()],
            "short": self.short,
        }
        (location / BANK_FILE).write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")


SHORT_CHARS = 6


def short_key(text: str) -> str | None:
    """The key of a very short message (at most SHORT_CHARS once spaces go and runs of one
    character are cut to two: "ㅋㅋㅋㅋ" and "ㅋㅋ" are one key, "....." and ".." too); None for a
    longer one."""
    squeezed = re.sub(r"(.)\1+", r"\1\1", unicodedata.normalize("NFC", "".join(text.split())).lower())
    return squeezed if 0 < len(squeezed) <= SHORT_CHARS else None


def _raw(s: Situation) -> dict[str, object]:
    return {
        "id": s.id,
        "title": s.title,
        "emotions": sorted(s.emotions),
        "replies": list(s.replies),
        "replies_by_emotion": {k: list(v) for k, v in s.replies_by_emotion.items()},
        "requires_any": list(s.requires_any),
        "excludes_any": list(s.excludes_any),
    }


def _general(domain: str, raw: dict[str, object]) -> Situation:
    """A file's ``general`` block as a situation of the whole domain; its emotions are the ones it
    has replies for (the engine answers from it only for a confident one of those)."""
    by_emotion = raw.get("replies_by_emotion") or {}
    assert isinstance(by_emotion, dict)
    title = raw.get("title", domain)
    return _situation({**raw, "id": f"{domain}.*", "title": title, "emotions": sorted(by_emotion)})


def _situation(raw: dict[str, object]) -> Situation:
    by_emotion = raw.get("replies_by_emotion") or {}
    assert isinstance(by_emotion, dict)
    return Situation(
        id=str(raw["id"]),
        title=str(raw["title"]),
        emotions=frozenset(str(e) for e in raw["emotions"]),  # type: ignore[attr-defined]
        replies=tuple(str(r) for r in raw["replies"]),  # type: ignore[attr-defined]
        replies_by_emotion={str(k): tuple(str(r) for r in v) for k, v in by_emotion.items()},
        requires_any=tuple(str(c) for c in raw.get("requires_any") or ()),  # type: ignore[attr-defined]
        excludes_any=tuple(str(c) for c in raw.get("excludes_any") or ()),  # type: ignore[attr-defined]
    )


class ReplyPicker:
    """Picks a reply for a person without repeating the ones they got lately (in memory only:
    reply ids, never what they wrote)."""

    def __init__(self, rng: random.Random, remember: int = 6, max_users: int = 20_000) -> None:
        self.rng = rng
        self.remember = remember
        self.max_users = max_users
        self._recent: OrderedDict[str, list[str]] = OrderedDict()

    def pick(self, key: str, options: Sequence[str]) -> str:
        recent = self._recent.pop(key, [])
        fresh = [o for o in options if o not in recent] or list(options)
        choice = self.rng.choice(fresh)
        self._recent[key] = [*recent, choice][-self.remember :]
        while len(self._recent) > self.max_users:
            self._recent.popitem(last=False)
        return choice

    def forget(self, key: str) -> None:
        self._recent.pop(key, None)


@dataclass
class _Thread:
    situation: str
    at: datetime
    turns: int = 0


class SituationMemory:
    """The situation a person is talking about, for a few short follow-ups ("응", "그래서 더
    힘들어"): its id and time only, in memory, for ``ttl``."""

    def __init__(
        self, turns: int = 3, ttl: timedelta = timedelta(minutes=15), max_users: int = 20_000
    ) -> None:
        self.turns = turns
        self.ttl = ttl
        self.max_users = max_users
        self._threads: OrderedDict[str, _Thread] = OrderedDict()

    def set(self, key: str, situation: str, now: datetime) -> None:
        self._threads.pop(key, None)
        self._threads[key] = _Thread(situation, now)
        while len(self._threads) > self.max_users:
            self._threads.popitem(last=False)

    def follow(self, key: str, now: datetime) -> str | None:
        """The situation a follow-up continues, counting the turn; None when there is none."""
        thread = self._threads.get(key)
        if thread is None or now - thread.at > self.ttl or thread.turns >= self.turns:
            self._threads.pop(key, None)
            return None
        thread.turns += 1
        thread.at = now
        return thread.situation

    def forget(self, key: str) -> None:
        self._threads.pop(key, None)


# Checking the bank as written ------------------------------------------------------------------


def _norm(text: str) -> str:
    """Spacing, punctuation and ㅋ/ㅎ/ㅠ/ㅜ runs do not make a message new; a message made only of
    them (ㅠㅠ, ㅋㅋㅋ, ...) is compared as written."""
    key = re.sub(r"[\s.,!?~…ㅋㅎㅠㅜ]+", "", text)
    return key or text.strip()


def reply_problems(reply: str) -> list[str]:
    problems = []
    if len(reply) > MAX_REPLY_CHARS:
        problems.append(f"longer than {MAX_REPLY_CHARS} characters ({len(reply)})")
    parts = [p for p in re.split(r"(?<=[.?!…])\s+", reply.strip()) if p]
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


def check_bank(files: Sequence[Path], labels: Iterable[str]) -> tuple[list[str], dict[str, int]]:
    """Every problem in the bank's files, and counts (situations, messages, replies)."""
    from engine.safety import assess

    allowed = set(labels)
    problems: list[str] = []
    seen_ids: set[str] = set()
    seen_messages: dict[str, str] = {}
    seen_replies: dict[str, str] = {}
    situations = 0
    for path in files:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as exc:
            problems.append(f"{path.name}: not valid JSON ({exc})")
            continue
        domain = data.get("domain")
        if not isinstance(domain, str) or not isinstance(data.get("situations"), list):
            problems.append(f"{path.name}: needs 'domain' (string) and 'situations' (list)")
            continue
        for situation in data["situations"]:
            situations += 1
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
            if not isinstance(emotions, list) or not emotions or not set(emotions) <= allowed:
                problems.append(f"{where}: emotions must be a non-empty list of {sorted(allowed)}")
                emotions = list(allowed)
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
                        f"{where}: message emotion {emotion!r} not among the situation's: {text!r}"
                    )
                key = _norm(text)
                if key in seen_messages:
                    problems.append(f"{where}: message repeats one in {seen_messages[key]}: {text!r}")
                seen_messages.setdefault(key, sid)
                excluded = [cue for cue in situation.get("excludes_any") or () if cue in text]
                if excluded:
                    problems.append(f"{where}: message contains an excluded word {excluded[0]!r}: {text!r}")
                if assess(text).is_crisis:
                    problems.append(
                        f"{where}: message trips the crisis detector (not bank material): {text!r}"
                    )
            replies = list(situation.get("replies", []))
            if len(replies) < MIN_REPLIES:
                problems.append(f"{where}: {len(replies)} replies (at least {MIN_REPLIES})")
            by_emotion = situation.get("replies_by_emotion", {}) or {}
            if not isinstance(by_emotion, dict) or not set(by_emotion) <= set(emotions):
                problems.append(f"{where}: replies_by_emotion keys must be among the situation's emotions")
                by_emotion = {}
            for options in by_emotion.values():
                replies.extend(options)
            problems += _reply_problems(where, sid, replies, seen_replies)
        general = data.get("general")
        if general is not None:
            problems += _general_problems(path.name, domain, general, allowed, seen_replies)
    counts = {"situations": situations, "messages": len(seen_messages), "replies": len(seen_replies)}
    return problems, counts


def _reply_problems(where: str, owner: str, replies: Sequence[str], seen: dict[str, str]) -> list[str]:
    from engine.safety import is_safe_reply

    problems = []
    for reply in replies:
        problems += [f"{where}: reply {problem}: {reply!r}" for problem in reply_problems(reply)]
        if not is_safe_reply(reply):
            problems.append(f"{where}: reply fails the output safety check: {reply!r}")
        if reply in seen:
            problems.append(f"{where}: reply repeats one in {seen[reply]}: {reply!r}")
        seen.setdefault(reply, owner)
    return problems


def _general_problems(
    name: str, domain: str, general: object, allowed: set[str], seen: dict[str, str]
) -> list[str]:
    """A file's ``general`` block: at least MIN_REPLIES general replies, per-emotion ones only for
    known emotions, every reply under the same rules as a situation's."""
    where = f"{name}:{domain}.*"
    if not isinstance(general, dict):
        return [f"{where}: 'general' must be an object with 'title', 'replies', 'replies_by_emotion'"]
    problems = []
    replies = list(general.get("replies") or [])
    if len(replies) < MIN_REPLIES:
        problems.append(f"{where}: {len(replies)} general replies (at least {MIN_REPLIES})")
    by_emotion = general.get("replies_by_emotion") or {}
    if not isinstance(by_emotion, dict) or not set(by_emotion) <= allowed:
        problems.append(f"{where}: replies_by_emotion keys must be among {sorted(allowed)}")
        by_emotion = {}
    for options in by_emotion.values():
        replies.extend(options)
    return problems + _reply_problems(where, f"{domain}.*", replies, seen)
