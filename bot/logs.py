"""Logging set-up: never message text, never tokens."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

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
# Libraries that put whole updates, request bodies or URLs into their log arguments, at levels a
# cap cannot reach: python-telegram-bot logs an update it could not build a context for at CRITICAL,
# with the update (people's text and names) as an argument. Their arguments are redacted.
REDACTED_LOGGERS = (*QUIET_LOGGERS, "tornado", "aiohttp")
REDACTED = "<redacted>"


def _is_redacted(name: str) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in REDACTED_LOGGERS)


def _redact(value: Any) -> Any:
    # Numbers stay (retry delays, status codes) so %d / %f formats still work; anything else may be
    # an update, a request, a URL with a token or a payload.
    if isinstance(value, bool | int | float) or value is None:
        return value
    return REDACTED


def _redacting_factory(previous: Any) -> Any:
    def factory(name: str, level: int, pathname: str, lineno: int, msg: Any, args: Any, *rest: Any) -> Any:
        if _is_redacted(name) and args:
            if isinstance(args, tuple) and len(args) == 1 and isinstance(args[0], Mapping):
                args = args[0]  # logging's own "%(key)s" form
            if isinstance(args, Mapping):
                args = ({key: _redact(value) for key, value in args.items()},)
            elif isinstance(args, tuple):
                args = tuple(_redact(value) for value in args)
        return previous(name, level, pathname, lineno, msg, args, *rest)

    factory.maeum_redacting = True  # type: ignore[attr-defined]
    return factory


def install_redaction() -> None:
    """Redact the arguments of third-party log records, whatever their level (idempotent)."""
    current = logging.getLogRecordFactory()
    if not getattr(current, "maeum_redacting", False):
        logging.setLogRecordFactory(_redacting_factory(current))


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    install_redaction()
