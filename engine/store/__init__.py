"""The emotion history store (SQLAlchemy 2 async; SQLite by default, PostgreSQL by URL)."""

from engine.store.db import create_engine_for, normalize_url
from engine.store.store import EmotionStore, StoredEvent, UserRecord

__all__ = ["EmotionStore", "StoredEvent", "UserRecord", "create_engine_for", "normalize_url"]
