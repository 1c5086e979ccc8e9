"""Logging set-up: never message text, never tokens."""

from __future__ import annotations

import logging

QUIET_LOGGERS = ("httpx", "httpcore", "telegram.ext", "discord.http", "discord.gateway", "alembic")


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # Request URLs carry the bot token (Telegram puts it in the path): keep these libraries quiet.
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
