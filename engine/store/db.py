"""Engines and sessions: SQLite in WAL mode with write transactions that take the lock up front."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from engine.errors import StoreUnavailableError

log = logging.getLogger(__name__)
T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_MS = 5000
WRITE_OPTION = "maeum_write"


def normalize_url(url: str) -> str:
    """Accept the URLs people type and pick the async driver for them."""
    parsed = make_url(url)
    driver = parsed.drivername
    if driver in ("sqlite", "sqlite+pysqlite"):
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif driver in ("postgresql", "postgres", "postgresql+psycopg2", "postgresql+psycopg"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def create_engine_for(url: str, **kwargs: Any) -> AsyncEngine:
    url = normalize_url(url)
    if not is_sqlite(url):
        return create_async_engine(url, pool_pre_ping=True, **kwargs)
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, emit BEGIN, so writes can ask for BEGIN IMMEDIATE.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Deleted health data is overwritten, not left in free pages.
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A deferred transaction that later writes can fail at once with SQLITE_BUSY (the reader
        # → writer upgrade deadlock); taking the write lock at BEGIN lets busy_timeout queue writers.
        mode = "IMMEDIATE" if conn.get_execution_options().get(WRITE_OPTION) else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def unreachable_message(url: str, exc: BaseException) -> str:
    """One sentence for an operator: what failed and what to check (never the password)."""
    shown = make_url(normalize_url(url)).render_as_string(hide_password=True)
    return (
        f"Could not open the database at {shown} ({type(exc).__name__}). Check MAEUM_DATABASE_URL, "
        "that the server is running and reachable, and the user's permissions."
    )


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, OperationalError):
        text = str(exc.orig).lower() if exc.orig is not None else str(exc).lower()
        return "locked" in text or "busy" in text or "unable to open" in text
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, (ConnectionError, OSError))


async def with_retry(operation: Callable[[], Awaitable[T]], attempts: int = 6, base_delay: float = 0.05) -> T:
    """Run a store operation, retrying with jittered backoff while the database is locked or away."""
    for attempt in range(attempts):
        try:
            return await operation()
        except Exception as exc:
            if not _is_transient(exc):
                raise
            if attempt == attempts - 1:
                raise StoreUnavailableError(
                    "The database stayed locked or unreachable; check MAEUM_DATABASE_URL and that "
                    "no other program holds a long write lock on it."
                ) from exc
            delay = base_delay * (2**attempt) * (0.5 + random.random())
            log.warning("store busy (%s), retry %d in %.2fs", type(exc).__name__, attempt + 1, delay)
            await asyncio.sleep(delay)
    raise AssertionError("unreachable")
