"""The engine's one public face. Adapters talk to an :class:`EngineClient`; today it is the
in-process engine below, later it can be a remote one without touching any adapter."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from engine.conversation import ConversationPolicy, ConversationService, Inference, ReplyBank
from engine.errors import CheckinError, MaeumError, StoreUnavailableError
from engine.inference import GenerationRequest, InferenceWorker, ModelSet, SituationMatch
from engine.mood import (
    Checkin,
    CheckinScheduler,
    MoodEvent,
    MoodReport,
    QuietHours,
    Sender,
    build_report,
    parse_time,
    parse_zone,
    summarize,
)
from engine.mood.emotions import UNCERTAIN_LABEL
from engine.safety import CrisisScreen
from engine.store import EmotionStore
from engine.store.db import sqlite_path, unreachable_message
from engine.store.migrate import upgrade_async
from engine.types import (
    ConversationResult,
    EmotionPrediction,
    InboxEntry,
    IncomingMessage,
    IntentPrediction,
    Receipt,
    UserRef,
)

log = logging.getLogger(__name__)

NEEDS_CONSENT = (
    "안부 알림과 시간대는 저장해야 드릴 수 있는 기능이라, 감정 기록 저장에 동의해 주신 분께만 "
    "설정해 드려요. 동의하시면 바로 맞춰 드릴게요."
)


@dataclass(frozen=True)
class UserStatus:
    known: bool
    consent: bool | None
    timezone: str | None


@dataclass(frozen=True)
class MoodResult:
    summary: str
    chart_png: bytes
    report: MoodReport


@runtime_checkable
class EngineClient(Protocol):
    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def respond(self, message: IncomingMessage) -> ConversationResult: ...

    async def acknowledge(self, receipt: Receipt) -> bool:
        """Call once the reply to ``respond`` was delivered; True when an emotion was stored."""
        ...

    async def referral(self, user: UserRef) -> ConversationResult:
        """The crisis card on request (the private-chat link under a crisis reply in a group)."""
        ...

    async def inbox_add(self, channel: str, entries: list[InboxEntry]) -> None: ...

    async def inbox_pending(self, channel: str) -> list[InboxEntry]: ...

    async def inbox_done(self, channel: str, entry_ids: list[str]) -> None: ...

    async def failure(self) -> MaeumError:
        """Wait until the engine can no longer work (its database file was deleted, say); returns
        the error to show. Never returns while all is well."""
        ...

    async def user_status(self, user: UserRef) -> UserStatus: ...

    async def set_consent(self, user: UserRef, granted: bool) -> None: ...

    async def set_timezone(self, user: UserRef, zone: str) -> None: ...

    async def export(self, user: UserRef) -> dict[str, Any]: ...

    async def forget(self, user: UserRef) -> bool: ...

    async def mood(self, user: UserRef, weeks: int = 1) -> MoodResult: ...

    async def set_checkin(self, user: UserRef, when: str) -> str: ...

    def register_checkin_sender(self, platform: str, sender: Sender) -> None: ...


class Worker(Protocol):
    """Runs batches of one kind of model call: the worker thread here, or model replicas elsewhere."""

    @property
    def kinds(self) -> frozenset[str]: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def submit(self, kind: str, payload: Any) -> Any: ...


class ModelBackend(Inference, Protocol):
    """Where the models run: the worker thread in this process (:class:`WorkerInference`), or model
    replicas elsewhere (``serving/``: Ray Serve deployments); the engine around them is the same."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class WorkerInference:
    """Adapts a worker's queue to what the conversation service needs."""

    def __init__(self, worker: Worker, models: ModelSet) -> None:
        self.worker = worker
        self.models = models
        self._bank: ReplyBank | None = None
        self._bank_threshold = self._domain_threshold = 1.0
        if models.config.bank:
            # The texts beside the matcher's head; read here, not on the worker: they are data.
            self._bank = ReplyBank.load(models.config.bank)
            self._bank_threshold, self._domain_threshold = bank_thresholds(models.config.bank)

    async def start(self) -> None:
        await self.worker.start()

    async def stop(self) -> None:
        await self.worker.stop()

    @property
    def has_intent(self) -> bool:
        return "intent" in self.worker.kinds

    @property
    def has_generator(self) -> bool:
        return "reply" in self.worker.kinds

    @property
    def bank(self) -> ReplyBank | None:
        return self._bank if "match" in self.worker.kinds else None

    @property
    def bank_threshold(self) -> float:
        return self._bank_threshold

    @property
    def domain_threshold(self) -> float:
        return self._domain_threshold

    async def classify(self, text: str) -> EmotionPrediction:
        result: EmotionPrediction = await self.worker.submit("emotion", text)
        return result

    async def match(self, text: str) -> list[SituationMatch]:
        result: list[SituationMatch] = await self.worker.submit("match", text)
        return result

    async def intent(self, text: str) -> IntentPrediction:
        result: IntentPrediction = await self.worker.submit("intent", text)
        return result

    def intent_answer(self, category: str, rng: random.Random) -> str | None:
        return self.models.intent_answer(category, rng)

    async def generate(self, request: GenerationRequest) -> str:
        result: str = await self.worker.submit("reply", request)
        return result


def bank_thresholds(location: str) -> tuple[float, float]:
    """The bank's "not sure" lines for a situation and for a domain, chosen on validation and saved
    with it (a bank without a domain line never answers for a domain alone)."""
    config = json.loads((Path(location) / "config.json").read_text(encoding="utf-8"))
    return float(config["threshold"]), float(config.get("domain_threshold", 1.0))


class InProcessEngine:
    """Models on a worker thread in this process, the store on this process's event loop."""

    def __init__(
        self,
        models: ModelSet,
        store: EmotionStore,
        policy: ConversationPolicy | None = None,
        *,
        batch_size: int = 16,
        batch_window_s: float = 0.0,
        threads: int | None = None,
        migrate: bool = True,
        default_zone: ZoneInfo | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        retention_days: int | None = None,
        quiet_hours: QuietHours | None = None,
        crisis_screen: CrisisScreen | None = None,
        backend: ModelBackend | None = None,
    ) -> None:
        self.models = models
        self.store = store
        # Not started unless it is the backend (a remote backend leaves it idle).
        self.worker = InferenceWorker(
            models.load, batch_size=batch_size, batch_window_s=batch_window_s, threads=threads
        )
        self.backend: ModelBackend = backend if backend is not None else WorkerInference(self.worker, models)
        self.conversation = ConversationService(self.backend, store, policy, screen=crisis_screen)
        self._migrate = migrate
        self._started = False
        self.default_zone = default_zone or ZoneInfo("Asia/Seoul")
        self.clock = clock
        self.retention_days = retention_days
        self._retention: asyncio.Task[None] | None = None
        self.retention_ran = asyncio.Event()  # set after each purge (tests and health checks)
        self.checkins = CheckinScheduler(
            self._load_checkins,
            store,
            quiet_hours or QuietHours.parse("23:00-07:00"),
            clock,
        )
        self._checkin_task: asyncio.Task[None] | None = None
        self._watchdog: asyncio.Task[None] | None = None
        self._scrubber: asyncio.Task[None] | None = None
        self.scrub_every_s = 60.0
        self._failed: asyncio.Future[MaeumError] | None = None
        self.watch_every_s = 2.0

    async def start(self, load_models: bool = True) -> None:
        """Migrate the store, then load the models (skipped for store-only commands like reports)."""
        self._failed = asyncio.get_running_loop().create_future()
        if self._migrate:
            try:
                await upgrade_async(self.store.url)
            except MaeumError:
                raise
            except Exception as exc:
                raise StoreUnavailableError(unreachable_message(self.store.url, exc)) from None
        if load_models:
            # Kiwi (the restatement's analyser, engine/conversation/restate.py) is not loaded here:
            # its load holds the GIL for seconds, and beside the models it took the bundled start
            # from 2.1 s to 6.7 s (medians of 3). The first restatement loads it instead.
            await self.backend.start()
        if self.retention_days is not None:
            self._retention = asyncio.create_task(self._retention_loop(self.retention_days))
        if load_models:  # a running bot; store-only commands (reports) send nothing
            self._checkin_task = asyncio.create_task(self.checkins.run())
        path = sqlite_path(self.store.url)
        if path is not None:
            self._watchdog = asyncio.create_task(self._watch_database_file(path))
            self._scrubber = asyncio.create_task(self._scrub_loop())
        self._started = True

    async def _watch_database_file(self, path: Path) -> None:
        """SQLite keeps writing to a deleted file's inode, and everything is gone on restart: notice
        the file disappearing (or being swapped) and stop instead of losing history silently."""

        def identity() -> tuple[int, int] | None:
            try:
                found = os.stat(path)  # a stat is microseconds: no thread needed
            except OSError:
                return None
            return found.st_ino, found.st_dev

        first = identity()
        if first is None:
            return
        while True:
            await asyncio.sleep(self.watch_every_s)
            same = identity() == first
            if not same:
                log.critical("the database file was deleted or replaced while running; stopping")
                if self._failed is not None and not self._failed.done():
                    self._failed.set_result(
                        StoreUnavailableError(
                            f"The database file {path} was deleted or replaced while maeum was running, "
                            "so nothing more could be stored. Restore it from a backup (or let maeum "
                            "create a new one) and start maeum again."
                        )
                    )
                return

    async def _scrub_loop(self) -> None:
        """Answered messages' text leaves the SQLite WAL within a minute, not at some checkpoint."""
        while True:
            await asyncio.sleep(self.scrub_every_s)
            try:
                await self.store.scrub_if_needed()
            except Exception as exc:
                log.warning("could not scrub the database: %s", type(exc).__name__)

    async def failure(self) -> MaeumError:
        if self._failed is None:
            self._failed = asyncio.get_running_loop().create_future()
        return await asyncio.shield(self._failed)

    async def close(self) -> None:
        """Answer what is queued, finish background writes, then release the models and the store."""
        # Wait for the cancelled loops to unwind: closing the store under a query in flight can
        # leave the aiosqlite connection's close waiting forever.
        tasks = [
            t for t in (self._retention, self._checkin_task, self._watchdog, self._scrubber) if t is not None
        ]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.backend.stop()
        await self.conversation.drain()
        await self.store.close()

    async def _retention_loop(
        self,
        days: int,
        every: timedelta = timedelta(hours=6),
        heightened_every: timedelta = timedelta(minutes=30),
    ) -> None:
        # Expired heightened states more often than old events: they should be gone soon after 6 h.
        rounds = max(1, round(every / heightened_every))
        done = 0
        while True:
            if done % rounds == 0:
                try:
                    purged = await self.store.purge_older_than(days, now=self.clock())
                    if purged:
                        log.info("retention: deleted %d emotion events older than %d days", purged, days)
                except Exception as exc:
                    log.error("retention purge failed: %s", type(exc).__name__)
            try:
                await self.store.purge_expired_heightened(now=self.clock())
            except Exception as exc:
                log.error("heightened-state purge failed: %s", type(exc).__name__)
            done += 1
            self.retention_ran.set()
            await asyncio.sleep(heightened_every.total_seconds())

    async def respond(self, message: IncomingMessage) -> ConversationResult:
        return await self.conversation.handle(message)

    async def acknowledge(self, receipt: Receipt) -> bool:
        return await self.conversation.acknowledge(receipt)

    async def referral(self, user: UserRef) -> ConversationResult:
        return self.conversation.referral(user)

    async def inbox_add(self, channel: str, entries: list[InboxEntry]) -> None:
        await self.store.inbox_add(channel, entries)

    async def inbox_pending(self, channel: str) -> list[InboxEntry]:
        return await self.store.inbox_pending(channel)

    async def inbox_done(self, channel: str, entry_ids: list[str]) -> None:
        await self.store.inbox_done(channel, entry_ids)

    async def user_status(self, user: UserRef) -> UserStatus:
        record = await self.store.get_user(user)
        if record is None:
            return UserStatus(known=False, consent=None, timezone=None)
        return UserStatus(known=True, consent=record.consent, timezone=record.timezone)

    async def set_consent(self, user: UserRef, granted: bool) -> None:
        if not granted:  # a "no" forgets what this process remembers too
            self.conversation.forget(user.key)
            await self.conversation.settle(user.key)  # a heightened-state write in flight lands first
        await self.store.set_consent(user, granted)

    async def _require_consent(self, user: UserRef) -> None:
        # A time zone or a check-in is stored about the person: not before they said yes.
        record = await self.store.get_user(user)
        if record is None or record.consent is not True:
            raise CheckinError(NEEDS_CONSENT)

    async def set_timezone(self, user: UserRef, zone: str) -> None:
        """Raises :class:`CheckinError` (a Korean message) for a name that is not a time zone."""
        key = parse_zone(zone).key
        await self._require_consent(user)
        await self.store.set_timezone(user, key)

    async def set_checkin(self, user: UserRef, when: str) -> str:
        """``"21:00"`` turns the daily check-in on, ``"off"`` turns it off; returns the answer to show.
        Raises :class:`CheckinError` with a Korean message for times it cannot honour."""
        if when.strip().lower() in ("off", "끄기", "해제", "취소"):
            if await self.store.get_user(user) is not None:
                await self.store.set_checkin(user, None)
            return "매일 안부 알림을 껐어요. 언제든 /checkin 21:00 처럼 다시 켤 수 있어요."
        at = parse_time(when)
        await self._require_consent(user)
        if self.checkins.quiet.contains(at):
            raise CheckinError(
                f"{self.checkins.quiet.describe()}는 쉬는 시간이라 알림을 보내지 않아요. "
                "다른 시간을 골라 주세요."
            )
        await self.store.set_checkin(user, f"{at:%H:%M}")
        zone = await self.zone_of(user)
        return f"매일 {at:%H:%M}({zone.key})에 안부를 여쭐게요. 끄려면 /checkin off 라고 보내 주세요."

    def register_checkin_sender(self, platform: str, sender: Sender) -> None:
        self.checkins.register(platform, sender)

    async def claim_checkins(
        self, platforms: Sequence[str], lease: timedelta = timedelta(minutes=2)
    ) -> list[UserRef]:
        """Claim every check-in due now on these platforms, for a front-end that sends them itself
        (a remote one): returns whom to send to. Each is claimed for ``lease``; call
        :meth:`checkin_sent` once it went out. One not confirmed in time (the front-end crashed) is
        claimed again after the lease, by any replica. The same claims the in-process scheduler
        takes, so the two never both send one."""
        claims = await self.checkins.claim_due(frozenset(platforms), lease)
        return [claim.checkin.user for claim in claims]

    async def checkin_sent(self, user: UserRef) -> None:
        """Today's check-in (today in the person's time zone) went out to ``user``."""
        zone = await self.zone_of(user)
        await self.store.checkin_sent(user, self.clock().astimezone(zone).date())

    async def _load_checkins(self) -> list[Checkin]:
        loaded = []
        for user, local_time, zone_name, last_sent in await self.store.checkins():
            try:
                zone = ZoneInfo(zone_name) if zone_name else self.default_zone
            except (ZoneInfoNotFoundError, ValueError):
                zone = self.default_zone
            loaded.append(Checkin(user, parse_time(local_time), zone, last_sent))
        return loaded

    async def export(self, user: UserRef) -> dict[str, Any]:
        return await self.store.export(user)

    async def forget(self, user: UserRef) -> bool:
        self.conversation.forget(user.key)
        await self.conversation.settle(user.key)  # a heightened-state write in flight lands first
        return await self.store.forget(user)

    async def zone_of(self, user: UserRef) -> ZoneInfo:
        record = await self.store.get_user(user)
        if record is not None and record.timezone:
            try:
                return ZoneInfo(record.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                log.warning("stored time zone is not valid; using the default")
        return self.default_zone

    async def mood(self, user: UserRef, weeks: int = 1) -> MoodResult:
        """The report for the last ``weeks`` weeks ending today in the person's own time zone."""
        weeks = max(1, min(weeks, 12))
        zone = await self.zone_of(user)
        today: date = self.clock().astimezone(zone).date()
        # Two periods (this one and the one before, for the comparison), in local days.
        start_local = datetime.combine(today - timedelta(days=14 * weeks - 1), time.min, zone)
        end_local = datetime.combine(today + timedelta(days=1), time.min, zone)
        stored = await self.store.events(user, since=start_local, until=end_local)
        events = [
            MoodEvent(
                e.occurred_at, UNCERTAIN_LABEL if e.uncertain else e.label, min(max(e.confidence, 0.0), 1.0)
            )
            for e in stored
        ]
        report = build_report(events, zone, today, weeks)
        from engine.mood import render_chart  # matplotlib: imported when the first chart is drawn

        chart = await asyncio.to_thread(render_chart, report)  # ~0.2 s of CPU: keep the loop free
        return MoodResult(summary=summarize(report), chart_png=chart, report=report)
