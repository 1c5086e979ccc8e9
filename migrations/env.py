"""Alembic environment: async engines, batch mode on SQLite (it cannot ALTER most things)."""

from __future__ import annotations

import asyncio
import contextlib

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

from engine.store.db import create_engine_for, is_sqlite
from engine.store.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=is_sqlite(str(connection.engine.url)),
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


# Two processes starting at once on a fresh PostgreSQL would both create the tables (and collide on
# pg_type). A session-level advisory lock makes the second wait, then find the schema up to date.
MIGRATION_LOCK = 0x6D6165756D  # "maeum"


async def _run_async(url: str) -> None:
    engine = create_engine_for(url)
    try:
        async with engine.connect() as conn:
            postgres = conn.dialect.name == "postgresql"
            if postgres:
                await conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
                await conn.commit()
            try:
                await conn.run_sync(_run)
                await conn.commit()
            finally:
                if postgres:
                    # A failed migration leaves the transaction aborted: roll back first, or the
                    # unlock itself fails and hides the real error. (Closing the connection would
                    # release the lock too; unlocking is the polite, immediate way.)
                    await conn.rollback()
                    with contextlib.suppress(Exception):
                        await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
                        await conn.commit()
    finally:
        await engine.dispose()


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    asyncio.run(_run_async(str(config.get_main_option("sqlalchemy.url"))))
