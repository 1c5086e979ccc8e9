"""Logging set-up: never message text, never tokens."""

from __future__ import annotations

import logging

# httpx/httpcore log request URLs (Telegram puts the token in the path); aiosqlite logs every
# statement with its parameters at DEBUG (people's ids and emotions); alembic chatters at INFO.
QUIET_LOGGERS = (
    "httpx",
    "httpcore",
    "telegram.ext",
    "discord.http",
    "discord.gateway",
    "alembic",
    "aiosqlite",
    "asyncpg",
)


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
