"""Logging set-up: never message text, never tokens."""

from __future__ import annotations

import logging

# httpx/httpcore log request URLs (Telegram puts the token in the path); telegram.Bot logs message
# text and discord.py's webhook logger interaction tokens at DEBUG; aiosqlite logs every statement
# with its parameters (people's ids and emotions); alembic chatters at INFO. Our own modules log
# what happened, never the text, and stay at the level asked for.
QUIET_LOGGERS = (
    "httpx",
    "httpcore",
    "telegram",
    "discord",
    "aiohttp.access",
    "tornado.access",
    "alembic",
    "aiosqlite",
    "asyncpg",
)


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
