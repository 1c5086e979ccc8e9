"""Run the Alembic migrations programmatically: the only way the schema is created."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection

import migrations
from engine.errors import MaeumError, StoreUnavailableError
from engine.store.db import create_engine_for, normalize_url, unreachable_message

SCRIPT_LOCATION = Path(migrations.__file__).resolve().parent


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPT_LOCATION))
    # ConfigParser interpolation would choke on '%' in passwords.
    cfg.set_main_option("sqlalchemy.url", normalize_url(url).replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Synchronous; env.py runs its own event loop, so call it from a thread when inside one."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


async def upgrade_async(url: str, revision: str = "head") -> None:
    await asyncio.to_thread(upgrade, url, revision)


async def upgrade_or_explain(url: str, revision: str = "head") -> None:
    """:func:`upgrade_async`, with any failure to reach the database turned into one sentence for
    the operator (:class:`StoreUnavailableError`; the password never in it). Light to import: the
    commands call it before they load the models, so a wrong MAEUM_DATABASE_URL is reported in a
    second, not after the machine-learning libraries have loaded."""
    try:
        await upgrade_async(url, revision)
    except MaeumError:
        raise
    except Exception as exc:
        raise StoreUnavailableError(unreachable_message(url, exc)) from None


async def current_revision(url: str) -> str | None:
    engine = create_engine_for(url)

    def _current(conn: Connection) -> str | None:
        return MigrationContext.configure(conn).get_current_revision()

    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_current)
    finally:
        await engine.dispose()
