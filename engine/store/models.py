"""Tables. The schema is created only by the Alembic migrations in ``migrations/``."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes in, UTC out, on every backend (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use timezone-aware times")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("platform", "platform_user_id", name="uq_users_platform_user"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    platform_user_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    timezone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # None: never asked; True/False: the person's answer. Nothing is recorded unless True.
    consent: Mapped[bool | None] = mapped_column(nullable=True)
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class EmotionEvent(Base):
    __tablename__ = "emotion_events"
    __table_args__ = (Index("ix_emotion_events_user_time", "user_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    label: Mapped[str] = mapped_column(String(32))
    confidence: Mapped[float] = mapped_column(Float)
    distribution: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Below the model's confidence line: the report shows it as "잘 모르겠음", not as the label.
    uncertain: Mapped[bool] = mapped_column(default=False, server_default=false())


class CrisisEvent(Base):
    """A crisis card was shown. Deliberately not linked to a user and without text: it exists to
    count how often the safety layer fires, not to build a record about anyone."""

    __tablename__ = "crisis_events"
    __table_args__ = (Index("ix_crisis_events_time", "occurred_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    category: Mapped[str | None] = mapped_column(String(32), nullable=True)


class ProcessedUpdate(Base):
    """Platform update ids already handled, so a redelivery after a crash is not handled twice."""

    __tablename__ = "processed_updates"
    __table_args__ = (Index("ix_processed_updates_time", "processed_at"),)

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    update_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CheckinRow(Base):
    """One opt-in daily check-in per person; deleting the person deletes it (cascade)."""

    __tablename__ = "checkins"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    local_time: Mapped[str] = mapped_column(String(5))  # "HH:MM" in the person's time zone
    last_sent_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # A scheduler took today's check-in until then (a lease: a crashed one's claim runs out).
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class HeightenedRow(Base):
    """Someone showed a crisis: until when the replies stay careful (any replica, after a restart).

    Only a key and an expiry: no text, no label, not even when the crisis was. Kept before consent,
    because it protects the person's life (PIPA's vital interests); gone within hours, and with the
    person's other data on /forget."""

    __tablename__ = "heightened"

    user_key: Mapped[str] = mapped_column(String(96), primary_key=True)  # UserRef.key
    until: Mapped[datetime] = mapped_column(UTCDateTime())


class InboxRow(Base):
    """A platform update received and confirmed to the platform but not yet answered. Held so that
    a crash loses no message; deleted as soon as the answer is out (seconds), and with the person's
    other data on /forget. The only table that ever holds message text, and only for that long."""

    __tablename__ = "inbox"

    channel: Mapped[str] = mapped_column(String(64), primary_key=True)  # e.g. "telegram:<bot id>"
    entry_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_key: Mapped[str | None] = mapped_column(String(96), nullable=True, index=True)
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
