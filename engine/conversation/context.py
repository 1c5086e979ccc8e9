"""Recent turns per person, in memory only and briefly: conversation context is never stored."""

from __future__ import annotations

from collections import OrderedDict, deque
from datetime import datetime, timedelta

from engine.types import ChatTurn


class ContextMemory:
    def __init__(self, max_turns: int, ttl: timedelta, max_users: int = 10_000) -> None:
        self.max_turns = max_turns
        self.ttl = ttl
        self.max_users = max_users
        self._turns: OrderedDict[str, deque[tuple[datetime, ChatTurn]]] = OrderedDict()

    def recent(self, user_key: str, now: datetime) -> tuple[ChatTurn, ...]:
        turns = self._turns.get(user_key)
        if not turns:
            return ()
        while turns and now - turns[0][0] > self.ttl:
            turns.popleft()
        return tuple(turn for _, turn in turns)

    def add(self, user_key: str, turn: ChatTurn, now: datetime) -> None:
        if self.max_turns <= 0:
            return
        turns = self._turns.pop(user_key, None) or deque(maxlen=self.max_turns)
        turns.append((now, turn))
        self._turns[user_key] = turns
        while len(self._turns) > self.max_users:
            self._turns.popitem(last=False)

    def forget(self, user_key: str) -> None:
        self._turns.pop(user_key, None)
