"""The emotion history store (SQLAlchemy 2 async; SQLite by default, PostgreSQL by URL)."""

from engine.store.db import create_engine_for, normalize_url
from engine.store.store import DuplicateUpdateError, EmotionStore, StoredEvent, UserRecord

__all__ = [
    "DuplicateUpdateError",
    "EmotionStore",
    "StoredEvent",
    "UserRecord",
    "create_engine_for",
    "normalize_url",
]
