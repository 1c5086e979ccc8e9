"""Everything that decides "show the referral card", in one place, before anything that can fail.

A message is a crisis when the rules (or the learned classifier, where one is loaded) fire on:
- its own text — capped in size, head and tail, so a megabyte cannot stall everyone while a
  crisis at the end of a long message is still read;
- text it quotes, forwards or replies to — then the card speaks to someone worried about another
  person, and leaves the door open in case the "friend" is the person themselves;
- its text joined to the same person's last few short messages from the last minutes, so
  "죽고" / "싶어" sent apart are read together. Those recent texts live in memory only, for
  ``window`` at most, and are dropped on a crisis, on /forget and when they age out.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from engine.safety.crisis import CrisisAssessment, assess

__all__ = ["CrisisScreen", "CrisisVerdict", "bounded"]

# Rules and classifier read at most this much of a message: the first and the last part.
HEAD_TAIL_CHARS = 4000
# Short messages are the ones a thought gets split into; longer ones are complete on their own.
SPLIT_MAX_CHARS = 300

# Someone else as the subject, with reported speech: "동생이 죽고 싶대", "친구가 ... 라고 했어".
_OTHER_PERSON = re.compile(
    r"(?:친구|동생|언니|누나|오빠|(?<![가-힣])형|엄마|아빠|어머니|아버지|남편|아내|와이프|남친|여친|애인|"
    r"남자 ?친구|여자 ?친구|(?<![가-힣])딸|아들|동료|선배|후배|(?<![가-힣])걔|그 ?애|그 ?사람|지인|룸메|"
    r"반 ?친구|제자|학생)(?:가|이|는|은|도|한테서|이가)? "
)
_REPORTED = re.compile(
    r"(?:[가-힣](?:대|래|댔|랬|대요|래요)(?![가-힣])|다고|라고|냐고|자고|하더라|그러더라|그랬어|"
    r"그러네|하는 ?것 ?같|하는 ?거 ?같|보내 ?왔|보냈|문자|카톡|메시지|글을 ?올|게시)"
)

Classifier = Callable[[str], float]  # the probability that a text is a crisis


@dataclass(frozen=True, slots=True)
class CrisisVerdict:
    is_crisis: bool
    category: str | None = None
    about_someone_else: bool = False
    by: str | None = None  # "rules", "model" or "split": which reading fired (for counts, no text)


_SAFE = CrisisVerdict(False)


def bounded(text: str, limit: int = HEAD_TAIL_CHARS) -> str:
    """The text, or its first and last ``limit`` characters when it is longer than twice that."""
    if len(text) <= 2 * limit:
        return text
    return f"{text[:limit]} {text[-limit:]}"


class CrisisScreen:
    def __init__(
        self,
        classifier: Classifier | None = None,
        threshold: float = 0.5,
        *,
        window: timedelta = timedelta(minutes=3),
        keep: int = 3,
        max_users: int = 50_000,
    ) -> None:
        self.classifier = classifier
        self.threshold = threshold
        self.window = window
        self.keep = keep
        self.max_users = max_users
        self._recent: OrderedDict[str, deque[tuple[datetime, str]]] = OrderedDict()
        self._lock = threading.Lock()

    def _read(self, text: str) -> CrisisVerdict:
        found: CrisisAssessment = assess(text)
        if found.is_crisis:
            return CrisisVerdict(True, found.category, by="rules")
        if self.classifier is not None and text.strip():
            try:
                if self.classifier(text) >= self.threshold:
                    return CrisisVerdict(True, "model", by="model")
            except Exception:  # a broken model must never stop the rules from answering
                return _SAFE
        return _SAFE

    def check(
        self, key: str, text: str, quoted: Sequence[str] = (), *, now: datetime, forwarded: bool = False
    ) -> CrisisVerdict:
        """``forwarded``: the text is someone else's message passed on by the person."""
        text = bounded(text)
        verdict = self._read(text)
        if verdict.is_crisis:
            about_other = forwarded or bool(_OTHER_PERSON.search(text) and _REPORTED.search(text))
            self.forget(key)
            return CrisisVerdict(True, verdict.category, about_other, verdict.by)
        for other in quoted:
            found = self._read(bounded(other))
            if found.is_crisis:
                self.forget(key)
                return CrisisVerdict(True, found.category, True, found.by)
        recent = self._recent_texts(key, now)
        if recent and len(text) <= SPLIT_MAX_CHARS:
            joined = self._read(" ".join([*recent, text]))
            if joined.is_crisis:
                self.forget(key)
                return CrisisVerdict(True, joined.category, False, "split")
        self._remember(key, text, now)
        return _SAFE

    def _recent_texts(self, key: str, now: datetime) -> list[str]:
        with self._lock:
            entries = self._recent.get(key)
            if not entries:
                return []
            while entries and now - entries[0][0] > self.window:
                entries.popleft()
            return [t for _, t in entries]

    def _remember(self, key: str, text: str, now: datetime) -> None:
        if len(text) > SPLIT_MAX_CHARS or not text.strip():
            return
        with self._lock:
            entries = self._recent.pop(key, None) or deque(maxlen=self.keep)
            entries.append((now, text))
            self._recent[key] = entries
            while len(self._recent) > self.max_users:
                self._recent.popitem(last=False)

    def forget(self, key: str) -> None:
        with self._lock:
            self._recent.pop(key, None)

    def __len__(self) -> int:
        with self._lock:
            return len(self._recent)
