"""Check-ins exactly once across replicas: two engines on one database (SQLite and PostgreSQL)
claim each due check-in in the store before sending it; a claim never completed (a crashed
scheduler) runs out after its lease, and a failed send is retried."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from engine.client import InProcessEngine
from engine.inference.models import ModelConfig, ModelSet
from engine.mood.checkins import LEASE, QuietHours
from engine.store import EmotionStore
from engine.types import UserRef

SEOUL = ZoneInfo("Asia/Seoul")
QUIET = QuietHours.parse("23:00-07:00")
AT_21 = datetime(2026, 12, 8, 21, 1, tzinfo=SEOUL)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now.astimezone(UTC)


class Outbox:
    """A platform's sender that records what it sent (and can fail on request)."""

    def __init__(self) -> None:
        self.sent: list[UserRef] = []
        self.failures = 0

    async def __call__(self, user: UserRef, text: str) -> None:
        await asyncio.sleep(0)  # let the other replica run in between, as a real send would
        if self.failures:
            self.failures -= 1
            raise ConnectionError("the platform did not answer")
        self.sent.append(user)


@pytest.fixture
async def replicas(
    tiny_emotion_model: Path, db_url: str
) -> AsyncIterator[tuple[InProcessEngine, InProcessEngine, Clock, Outbox]]:
    """Two engines on one database, one clock, one platform both can send on."""
    clock = Clock(AT_21 - timedelta(hours=9))
    outbox = Outbox()
    engines = []
    for _ in range(2):
        engine = InProcessEngine(
            ModelSet(ModelConfig(str(tiny_emotion_model), None, device="cpu", warmup=False)),
            EmotionStore(db_url),
            clock=clock,
            quiet_hours=QUIET,
        )
        engine.register_checkin_sender("telegram", outbox)
        await engine.start(load_models=False)  # the scheduler loop stays off: rounds run by hand
        engines.append(engine)
    try:
        yield engines[0], engines[1], clock, outbox
    finally:
        for engine in engines:
            await engine.close()


async def subscribe(engine: InProcessEngine, people: list[UserRef], when: str = "21:00") -> None:
    for person in people:
        await engine.set_consent(person, True)
        await engine.set_checkin(person, when)


async def test_two_replicas_send_each_due_check_in_exactly_once(
    replicas: tuple[InProcessEngine, InProcessEngine, Clock, Outbox],
) -> None:
    a, b, clock, outbox = replicas
    people = [UserRef("telegram", str(1000 + i)) for i in range(50)]
    await subscribe(a, people)
    clock.now = AT_21
    returned: list[UserRef] = []
    for _ in range(5):  # the same evening, again and again, both at once
        for sent in await asyncio.gather(a.checkins.run_once(), b.checkins.run_once()):
            returned.extend(c.user for c in sent)
    assert Counter(outbox.sent) == dict.fromkeys(people, 1)
    assert sorted(returned, key=str) == sorted(people, key=str)
    clock.now = AT_21 + LEASE * 3  # the claims' leases ran out long ago: sent stays sent
    assert await asyncio.gather(a.checkins.run_once(), b.checkins.run_once()) == [[], []]
    clock.now = AT_21 + timedelta(days=1)  # the next evening: once more, once each
    await asyncio.gather(a.checkins.run_once(), b.checkins.run_once())
    assert Counter(outbox.sent) == dict.fromkeys(people, 2)


async def test_a_crashed_schedulers_claim_is_sent_by_another_after_the_lease(
    replicas: tuple[InProcessEngine, InProcessEngine, Clock, Outbox],
) -> None:
    a, b, clock, outbox = replicas
    alice = UserRef("telegram", "alice")
    await subscribe(a, [alice])
    clock.now = AT_21
    # A scheduler claims and then dies: it never sends, never marks sent, never releases.
    assert await a.store.claim_checkin(alice, AT_21.date(), clock(), LEASE)
    assert not await a.store.claim_checkin(alice, AT_21.date(), clock(), LEASE)  # held: no one else
    assert await b.checkins.run_once() == []
    clock.now = AT_21 + LEASE - timedelta(seconds=1)
    assert await b.checkins.run_once() == []
    clock.now = AT_21 + LEASE + timedelta(seconds=1)  # still well within the 3-hour grace
    assert [c.user for c in await b.checkins.run_once()] == [alice]
    assert await asyncio.gather(a.checkins.run_once(), b.checkins.run_once()) == [[], []]
    assert outbox.sent == [alice]


async def test_a_front_end_claims_sends_and_confirms_through_the_engine(
    replicas: tuple[InProcessEngine, InProcessEngine, Clock, Outbox],
) -> None:
    a, b, clock, outbox = replicas
    alice, bob = UserRef("telegram", "alice"), UserRef("discord", "bob")
    await subscribe(a, [alice, bob])
    clock.now = AT_21
    assert await a.claim_checkins(["discord"]) == [bob]
    assert await b.claim_checkins(["discord", "telegram"]) == [alice]  # bob is held
    assert await a.checkins.run_once() == []  # the scheduler takes the same claims: alice is held
    await a.checkin_sent(bob)
    await b.checkin_sent(alice)
    clock.now = AT_21 + LEASE * 2
    assert await a.claim_checkins(["discord", "telegram"]) == []  # both went out today
    assert await b.checkins.run_once() == []
    assert outbox.sent == []  # the front-end sent them; the schedulers sent nothing


async def test_a_failed_send_is_retried(
    replicas: tuple[InProcessEngine, InProcessEngine, Clock, Outbox],
) -> None:
    a, b, clock, outbox = replicas
    alice = UserRef("telegram", "alice")
    await subscribe(a, [alice])
    clock.now = AT_21
    outbox.failures = 1
    assert await a.checkins.run_once() == []  # the send failed: the claim is given back at once
    assert [c.user for c in await b.checkins.run_once()] == [alice]  # so the next round sends it
    assert await a.checkins.run_once() == [] and outbox.sent == [alice]


async def test_a_released_claim_that_ran_out_and_was_retaken_is_not_released(db_url: str) -> None:
    from engine.store.migrate import upgrade_async

    await upgrade_async(db_url)
    store = EmotionStore(db_url)
    alice = UserRef("telegram", "alice")
    try:
        await store.set_consent(alice, True)
        await store.set_checkin(alice, "21:00")
        day, start = AT_21.date(), AT_21.astimezone(UTC)
        assert await store.claim_checkin(alice, day, start, LEASE)  # a slow scheduler
        later = start + LEASE + timedelta(seconds=1)
        assert await store.claim_checkin(alice, day, later, LEASE)  # its lease ran out: retaken
        await store.release_checkin(alice, start + LEASE)  # the slow one gives up its old claim
        assert not await store.claim_checkin(alice, day, later, LEASE)  # the new claim still holds
        await store.checkin_sent(alice, day)
        assert not await store.claim_checkin(alice, day, later + LEASE * 2, LEASE)
    finally:
        await store.close()
