"""The emotion history: users, their consent and time zone, and one row per detected emotion."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from engine.store.db import WRITE_OPTION, create_engine_for, is_sqlite, with_retry
from engine.store.models import (
    CheckinRow,
    CrisisEvent,
    EmotionEvent,
    HeightenedRow,
    InboxRow,
    ProcessedUpdate,
    User,
)
from engine.types import EmotionPrediction, InboxEntry, UserRef

# Platforms redeliver unacknowledged updates within hours; a week of ids is plenty.
UPDATE_ID_TTL = timedelta(days=7)


class DuplicateUpdateError(Exception):
    """This platform update was already handled (a redelivery after a crash or restart)."""


@dataclass(frozen=True)
class UserRecord:
    id: int
    platform: str
    platform_user_id: str
    created_at: datetime
    timezone: str | None
    consent: bool | None


@dataclass(frozen=True)
class StoredEvent:
    occurred_at: datetime
    label: str
    confidence: float
    distribution: dict[str, float]
    uncertain: bool = False


def _record(user: User) -> UserRecord:
    return UserRecord(
        id=user.id,
        platform=user.platform,
        platform_user_id=user.platform_user_id,
        created_at=user.created_at,
        timezone=user.timezone,
        consent=user.consent,
    )


class EmotionStore:
    """Async access to the history. Call :func:`engine.store.migrate.upgrade` before first use."""

    def __init__(self, url: str, engine: AsyncEngine | None = None) -> None:
        self.url = url
        self.engine = engine or create_engine_for(url)
        self._sqlite = is_sqlite(str(self.engine.url))
        self._read = async_sessionmaker(self.engine, expire_on_commit=False)
        self._write = async_sessionmaker(
            self.engine.execution_options(**{WRITE_OPTION: True}), expire_on_commit=False
        )
        self.text_deleted = False

    async def close(self) -> None:
        await self.engine.dispose()

    @asynccontextmanager
    async def _writing(self) -> AsyncIterator[AsyncSession]:
        async with self._write() as session, session.begin():
            yield session

    # Users -----------------------------------------------------------------------------------

    async def _get_or_create(self, session: AsyncSession, ref: UserRef) -> User:
        query = select(User).where(User.platform == ref.platform, User.platform_user_id == ref.user_id)
        user = (await session.execute(query)).scalar_one_or_none()
        if user is not None:
            return user
        user = User(platform=ref.platform, platform_user_id=ref.user_id)
        try:
            async with session.begin_nested():
                session.add(user)
        except IntegrityError:
            # Another process created the same user between our SELECT and INSERT (PostgreSQL).
            user = (await session.execute(query)).scalar_one()
        return user

    async def ensure_user(self, ref: UserRef) -> UserRecord:
        async def op() -> UserRecord:
            async with self._writing() as session:
                return _record(await self._get_or_create(session, ref))

        return await with_retry(op)

    async def get_user(self, ref: UserRef) -> UserRecord | None:
        async def op() -> UserRecord | None:
            async with self._read() as session:
                query = select(User).where(
                    User.platform == ref.platform, User.platform_user_id == ref.user_id
                )
                user = (await session.execute(query)).scalar_one_or_none()
                return _record(user) if user else None

        return await with_retry(op)

    async def set_consent(self, ref: UserRef, granted: bool, now: datetime | None = None) -> None:
        """Yes creates (or updates) the person's row; no deletes everything stored about them, so a
        "no" leaves no trace that they ever contacted the bot."""
        if not granted:
            await self.forget(ref)
            return

        async def op() -> None:
            async with self._writing() as session:
                user = await self._get_or_create(session, ref)
                user.consent = True
                user.consent_at = now or datetime.now(UTC)

        await with_retry(op)

    async def set_timezone(self, ref: UserRef, zone: str) -> None:
        async def op() -> None:
            async with self._writing() as session:
                (await self._get_or_create(session, ref)).timezone = zone

        await with_retry(op)

    # Events ----------------------------------------------------------------------------------

    async def is_processed(self, platform: str, update_id: str) -> bool:
        async def op() -> bool:
            async with self._read() as session:
                found = await session.get(ProcessedUpdate, (platform, update_id))
                return found is not None

        return await with_retry(op)

    async def mark_processed(self, platform: str, update_id: str, at: datetime) -> bool:
        """Remember an update id; False when it was already there (a redelivery)."""

        async def op() -> bool:
            try:
                async with self._writing() as session:
                    session.add(ProcessedUpdate(platform=platform, update_id=update_id, processed_at=at))
                return True
            except IntegrityError:
                return False

        return await with_retry(op)

    async def record_crisis(self, platform: str, category: str | None, at: datetime) -> None:
        async def op() -> None:
            async with self._writing() as session:
                session.add(CrisisEvent(platform=platform, category=category, occurred_at=at))

        await with_retry(op)

    async def count_crisis_events(self) -> int:
        async def op() -> int:
            async with self._read() as session:
                return int((await session.execute(select(func.count(CrisisEvent.id)))).scalar_one())

        return await with_retry(op)

    async def record_emotion(
        self,
        ref: UserRef,
        prediction: EmotionPrediction,
        at: datetime,
        require_consent: bool = True,
        update_id: str | None = None,
    ) -> bool:
        """Record one detected emotion (no message text). Returns False when not consented.

        With ``update_id`` the update is marked processed in the same transaction, so a crash
        either keeps both or neither; a redelivered update raises :class:`DuplicateUpdateError`."""
        if at.tzinfo is None:
            raise ValueError("event time must be timezone-aware")

        async def op() -> bool:
            async with self._writing() as session:
                if update_id is not None:
                    if await session.get(ProcessedUpdate, (ref.platform, update_id)) is not None:
                        raise DuplicateUpdateError(update_id)
                    session.add(ProcessedUpdate(platform=ref.platform, update_id=update_id, processed_at=at))
                # Nothing about a person is stored before they said yes: no user row, no event.
                query = select(User).where(
                    User.platform == ref.platform, User.platform_user_id == ref.user_id
                )
                user = (await session.execute(query)).scalar_one_or_none()
                if user is None and not require_consent:
                    user = await self._get_or_create(session, ref)
                if user is None or (require_consent and user.consent is not True):
                    return False
                session.add(
                    EmotionEvent(
                        user_id=user.id,
                        occurred_at=at,
                        label=prediction.label,
                        confidence=float(prediction.confidence),
                        distribution={k: round(float(v), 6) for k, v in prediction.distribution.items()},
                        uncertain=prediction.uncertain,
                    )
                )
                return True

        return await with_retry(op)

    async def events(
        self, ref: UserRef, since: datetime | None = None, until: datetime | None = None
    ) -> list[StoredEvent]:
        async def op() -> list[StoredEvent]:
            async with self._read() as session:
                query = (
                    select(EmotionEvent)
                    .join(User, User.id == EmotionEvent.user_id)
                    .where(User.platform == ref.platform, User.platform_user_id == ref.user_id)
                    .order_by(EmotionEvent.occurred_at, EmotionEvent.id)
                )
                if since is not None:
                    query = query.where(EmotionEvent.occurred_at >= since)
                if until is not None:
                    query = query.where(EmotionEvent.occurred_at < until)
                rows = (await session.execute(query)).scalars().all()
                return [
                    StoredEvent(r.occurred_at, r.label, r.confidence, dict(r.distribution), bool(r.uncertain))
                    for r in rows
                ]

        return await with_retry(op)

    async def count_events(self, ref: UserRef | None = None) -> int:
        async def op() -> int:
            async with self._read() as session:
                query = select(func.count(EmotionEvent.id))
                if ref is not None:
                    query = query.join(User, User.id == EmotionEvent.user_id).where(
                        User.platform == ref.platform, User.platform_user_id == ref.user_id
                    )
                return int((await session.execute(query)).scalar_one())

        return await with_retry(op)

    # Inbox: platform updates received but not yet answered ------------------------------------

    async def inbox_add(self, channel: str, entries: list[InboxEntry]) -> None:
        """Hold updates until they are answered (a crash then loses none). Already held ones are
        kept as they are."""
        if not entries:
            return

        async def op() -> None:
            async with self._writing() as session:
                ids = [e.entry_id for e in entries]
                held = set(
                    (
                        await session.execute(
                            select(InboxRow.entry_id).where(
                                InboxRow.channel == channel, InboxRow.entry_id.in_(ids)
                            )
                        )
                    ).scalars()
                )
                for e in entries:
                    if e.entry_id not in held:
                        held.add(e.entry_id)
                        session.add(
                            InboxRow(
                                channel=channel,
                                entry_id=e.entry_id,
                                user_key=e.user_key,
                                payload=e.payload,
                                received_at=e.received_at,
                            )
                        )

        await with_retry(op)

    async def inbox_pending(self, channel: str) -> list[InboxEntry]:
        async def op() -> list[InboxEntry]:
            async with self._read() as session:
                query = select(InboxRow).where(InboxRow.channel == channel)
                rows = (await session.execute(query)).scalars().all()
                entries = [InboxEntry(r.entry_id, r.user_key, r.payload, r.received_at) for r in rows]
                # In the order received; within a batch by the platform's numeric id ("9" before "10").
                return sorted(entries, key=lambda e: (e.received_at, len(e.entry_id), e.entry_id))

        return await with_retry(op)

    async def inbox_done(self, channel: str, entry_ids: list[str]) -> None:
        if not entry_ids:
            return

        async def op() -> None:
            async with self._writing() as session:
                await session.execute(
                    delete(InboxRow).where(InboxRow.channel == channel, InboxRow.entry_id.in_(entry_ids))
                )

        await with_retry(op)
        self.text_deleted = True  # the WAL may still hold it: scrub_if_needed() empties it soon

    # Check-ins -------------------------------------------------------------------------------

    async def set_checkin(self, ref: UserRef, local_time: str | None) -> None:
        """``"HH:MM"`` turns the daily check-in on (or moves it); None turns it off."""

        async def op() -> None:
            async with self._writing() as session:
                user = await self._get_or_create(session, ref)
                row = await session.get(CheckinRow, user.id)
                if local_time is None:
                    if row is not None:
                        await session.delete(row)
                elif row is None:
                    session.add(CheckinRow(user_id=user.id, local_time=local_time))
                else:
                    row.local_time = local_time

        await with_retry(op)

    async def get_checkin(self, ref: UserRef) -> str | None:
        async def op() -> str | None:
            async with self._read() as session:
                query = (
                    select(CheckinRow.local_time)
                    .join(User, User.id == CheckinRow.user_id)
                    .where(User.platform == ref.platform, User.platform_user_id == ref.user_id)
                )
                return (await session.execute(query)).scalar_one_or_none()

        return await with_retry(op)

    async def checkins(self) -> list[tuple[UserRef, str, str | None, date | None]]:
        """Every active check-in: (person, "HH:MM", their time zone or None, last sent local date)."""

        async def op() -> list[tuple[UserRef, str, str | None, date | None]]:
            async with self._read() as session:
                query = select(User, CheckinRow).join(CheckinRow, CheckinRow.user_id == User.id)
                rows = (await session.execute(query)).all()
                return [
                    (UserRef(u.platform, u.platform_user_id), c.local_time, u.timezone, c.last_sent_on)
                    for u, c in rows
                ]

        return await with_retry(op)

    @staticmethod
    def _user_id(ref: UserRef) -> Any:
        return (
            select(User.id)
            .where(User.platform == ref.platform, User.platform_user_id == ref.user_id)
            .scalar_subquery()
        )

    async def claim_checkin(self, ref: UserRef, day: date, now: datetime, lease: timedelta) -> bool:
        """Take the person's check-in for ``day`` (their local date) until ``now + lease``; True only
        for the one caller that got it. Not when it was sent that day, nor while another holds an
        unexpired claim: a scheduler that crashed after claiming loses it once the lease runs out.

        One conditional UPDATE is the whole test-and-set, so no SELECT ... FOR UPDATE SKIP LOCKED is
        needed: on SQLite writers are serialised (BEGIN IMMEDIATE), so the second sees the first's
        claim; on PostgreSQL (READ COMMITTED) the second UPDATE waits on the row lock and then
        re-checks the WHERE clause against the committed row, which no longer matches. Times come
        from the callers' clocks, so replicas' clocks must agree to well within the lease."""
        until = now + lease

        async def op() -> bool:
            async with self._writing() as session:
                result = await session.execute(
                    update(CheckinRow)
                    .where(
                        CheckinRow.user_id == self._user_id(ref),
                        or_(CheckinRow.last_sent_on.is_(None), CheckinRow.last_sent_on != day),
                        or_(CheckinRow.claimed_until.is_(None), CheckinRow.claimed_until < now),
                    )
                    .values(claimed_until=until)
                    .execution_options(synchronize_session=False)
                )
                return int(getattr(result, "rowcount", 0) or 0) == 1

        return await with_retry(op)

    async def checkin_sent(self, ref: UserRef, day: date) -> None:
        """The check-in for ``day`` went out: not again that day, and the claim is done."""

        async def op() -> None:
            async with self._writing() as session:
                await session.execute(
                    update(CheckinRow)
                    .where(CheckinRow.user_id == self._user_id(ref))
                    .values(last_sent_on=day, claimed_until=None)
                    .execution_options(synchronize_session=False)
                )

        await with_retry(op)

    async def release_checkin(self, ref: UserRef, claimed_until: datetime) -> None:
        """Give back a claim (the send failed) so the next round retries it. Only the claim that
        ends at ``claimed_until``: one that ran out and was taken by another scheduler stays."""

        async def op() -> None:
            async with self._writing() as session:
                await session.execute(
                    update(CheckinRow)
                    .where(
                        CheckinRow.user_id == self._user_id(ref), CheckinRow.claimed_until == claimed_until
                    )
                    .values(claimed_until=None)
                    .execution_options(synchronize_session=False)
                )

        await with_retry(op)

    # The heightened state after a crisis (see engine/safety/tracker.py) -------------------------

    async def mark_heightened(self, user_key: str, until: datetime) -> None:
        """Keep the person heightened until ``until`` (a later expiry already stored stays)."""
        if until.tzinfo is None:
            raise ValueError("until must be timezone-aware")

        async def op() -> None:
            async with self._writing() as session:
                # An upsert, because two replicas may mark the same person at once.
                if self._sqlite:
                    lite = sqlite_insert(HeightenedRow).values(user_key=user_key, until=until)
                    upsert: Any = lite.on_conflict_do_update(
                        index_elements=[HeightenedRow.user_key],
                        set_={"until": lite.excluded.until},
                        where=HeightenedRow.until < lite.excluded.until,
                    )
                else:
                    pg = pg_insert(HeightenedRow).values(user_key=user_key, until=until)
                    upsert = pg.on_conflict_do_update(
                        index_elements=[HeightenedRow.user_key],
                        set_={"until": pg.excluded.until},
                        where=HeightenedRow.until < pg.excluded.until,
                    )
                await session.execute(upsert)

        await with_retry(op)

    async def heightened_until(self, user_key: str, now: datetime) -> datetime | None:
        """The stored expiry when it is after ``now``; an expired row is deleted and gives None."""

        # Few attempts: this is read on the way to a reply, and memory answers when it fails.
        until = await self._heightened_row(user_key, attempts=3)
        if until is None or until > now:
            return until
        await self._delete_heightened(HeightenedRow.user_key == user_key, HeightenedRow.until <= now)
        return None

    async def purge_expired_heightened(self, now: datetime | None = None) -> int:
        """Delete every expired heightened row (the engine's retention loop calls this)."""
        return await self._delete_heightened(HeightenedRow.until <= (now or datetime.now(UTC)))

    async def _delete_heightened(self, *where: Any) -> int:
        async def op() -> int:
            async with self._writing() as session:
                result = await session.execute(delete(HeightenedRow).where(*where))
                return int(getattr(result, "rowcount", 0) or 0)

        deleted = await with_retry(op)
        if deleted:
            self.text_deleted = True  # the key is an identifier: out of the WAL within a minute too
        return deleted

    async def _heightened_row(self, user_key: str, attempts: int = 6) -> datetime | None:
        async def op() -> datetime | None:
            async with self._read() as session:
                query = select(HeightenedRow.until).where(HeightenedRow.user_key == user_key)
                return (await session.execute(query)).scalar_one_or_none()

        return await with_retry(op, attempts=attempts)

    # Privacy ---------------------------------------------------------------------------------

    async def export(self, ref: UserRef) -> dict[str, Any]:
        """Everything stored about one person, as plain JSON-ready data."""
        # Kept even before consent (see engine/safety/tracker.py), so shown even without a user row.
        until = await self._heightened_row(ref.key)
        heightened = {} if until is None else {"heightened": {"until": until.isoformat()}}
        user = await self.get_user(ref)
        if user is None:
            return {"user": None, "emotion_events": [], "checkin": None, **heightened}
        events = await self.events(ref)
        checkin = await self.get_checkin(ref)
        return {
            **heightened,
            "checkin": None if checkin is None else {"local_time": checkin},
            "user": {
                "platform": user.platform,
                "platform_user_id": user.platform_user_id,
                "created_at": user.created_at.isoformat(),
                "timezone": user.timezone,
                "consent": user.consent,
            },
            "emotion_events": [
                {
                    "occurred_at": e.occurred_at.isoformat(),
                    "label": e.label,
                    "confidence": e.confidence,
                    "distribution": e.distribution,
                    "uncertain": e.uncertain,
                }
                for e in events
            ],
        }

    async def forget(self, ref: UserRef) -> bool:
        """Delete everything of one person; on SQLite also scrub free pages and the WAL."""

        async def op() -> tuple[bool, bool]:
            """(whether the person had a record, whether anything at all was deleted)"""
            async with self._writing() as session:
                query = select(User.id).where(
                    User.platform == ref.platform, User.platform_user_id == ref.user_id
                )
                user_id = (await session.execute(query)).scalar_one_or_none()
                # Their messages still waiting to be answered go too (the inbox holds their text).
                waiting = await session.execute(delete(InboxRow).where(InboxRow.user_key == ref.key))
                # And the heightened state, which is kept even before consent.
                careful = await session.execute(
                    delete(HeightenedRow).where(HeightenedRow.user_key == ref.key)
                )
                held = bool(getattr(waiting, "rowcount", 0)) or bool(getattr(careful, "rowcount", 0))
                if user_id is None:
                    return False, held
                await session.execute(delete(EmotionEvent).where(EmotionEvent.user_id == user_id))
                await session.execute(delete(CheckinRow).where(CheckinRow.user_id == user_id))
                await session.execute(delete(User).where(User.id == user_id))
                return True, True

        known, deleted = await with_retry(op)
        if deleted:  # someone without a record can still have had messages waiting in the inbox
            await self.scrub()
        return known

    async def scrub(self) -> None:
        """Make deletions unrecoverable: secure_delete zeroes pages; the checkpoint empties the WAL."""
        if not self._sqlite:
            return
        async with self.engine.connect() as conn:
            await conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))

    async def scrub_if_needed(self) -> bool:
        """Scrub when answered inbox entries (message text) were deleted since the last scrub.
        Not after every message (a checkpoint per reply costs too much), but within a minute."""
        if not self.text_deleted:
            return False
        self.text_deleted = False
        await self.scrub()
        return True

    async def purge_older_than(self, days: int, now: datetime | None = None) -> int:
        cutoff = (now or datetime.now(UTC)) - timedelta(days=days)

        async def op() -> int:
            async with self._writing() as session:
                result = await session.execute(delete(EmotionEvent).where(EmotionEvent.occurred_at < cutoff))
                return int(getattr(result, "rowcount", 0) or 0)

        purged = await with_retry(op)
        if purged:
            await self.scrub()
        return purged
