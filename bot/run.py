"""``maeum run telegram|discord|all``: the chat bots, in one process over one engine.

The engine (models on a worker thread, the store, its retention purge) starts once and is shared:
with ``all`` a Telegram and a Discord user are batched through the same models. Ctrl+C / SIGTERM stop both
platforms cleanly, then the engine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from bot.common import shard_plan
from engine.errors import MaeumError
from engine.settings import Settings
from engine.store.migrate import upgrade_or_explain

if TYPE_CHECKING:
    from engine.client import EngineClient

log = logging.getLogger(__name__)

PLATFORMS: dict[str, tuple[str, ...]] = {
    "telegram": ("telegram",),
    "discord": ("discord",),
    "all": ("telegram", "discord"),
}
EXTRAS = {"telegram": "telegram", "discord": "discord"}


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    run = subparsers.add_parser(
        "run",
        help="run the chat bot on Telegram, Discord or both (one process, one engine)",
        description="Run maeum on a chat platform. Tokens come from MAEUM_TELEGRAM_TOKEN / "
        "MAEUM_DISCORD_TOKEN; Telegram uses long polling unless MAEUM_TELEGRAM_WEBHOOK_URL is set.",
    )
    run.add_argument("platform", choices=sorted(PLATFORMS), help="which platform(s) to serve")
    run.set_defaults(handler=lambda args: asyncio.run(serve(Settings(), PLATFORMS[args.platform])))


def missing_settings(settings: Settings, platforms: tuple[str, ...]) -> list[str]:
    missing = []
    if "telegram" in platforms and settings.telegram_token is None:
        missing.append("MAEUM_TELEGRAM_TOKEN")
    if "discord" in platforms and settings.discord_token is None:
        missing.append("MAEUM_DISCORD_TOKEN")
    return missing


def missing_libraries(platforms: tuple[str, ...]) -> list[str]:
    missing = []
    for platform, module in (("telegram", "telegram.ext"), ("discord", "discord.ext.commands")):
        if platform in platforms:
            try:
                __import__(module)
            except ImportError:
                missing.append(platform)
    return missing


def build_engine(settings: Settings) -> EngineClient:
    # Imported here: the engine brings the machine-learning libraries (seconds to import), and
    # `maeum --help` or a wrong database URL should not wait for them.
    from bot.compose import build_client

    return build_client(settings)


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on Windows' loop
            loop.add_signal_handler(sig, stop.set)


def _fail(message: str) -> int:
    print(f"maeum: {message}", file=sys.stderr)
    return 2


async def serve(settings: Settings, platforms: tuple[str, ...], *, stop: asyncio.Event | None = None) -> int:
    """Run the given platforms until ``stop`` is set (or SIGINT/SIGTERM); returns an exit code."""
    missing = missing_settings(settings, platforms)
    if missing:
        return _fail(f"{' and '.join(missing)} must be set for `maeum run` (see .env.example)")
    if "discord" in platforms:
        try:
            shard_plan(settings.discord_shard_count, settings.shard_ids)
        except ValueError as exc:
            return _fail(str(exc))
    absent = missing_libraries(platforms)
    if absent:
        extras = ",".join(EXTRAS[p] for p in absent)
        return _fail(f"the {' and '.join(absent)} library is not installed: pip install 'maeum[{extras}]'")

    try:  # the database first, before anything heavy is loaded: a wrong URL is one line at once
        if not settings.engine_url:  # a remote engine owns its database
            await upgrade_or_explain(settings.resolved_database_url)
    except MaeumError as exc:
        return _fail(str(exc))

    from bot.compose import build_discord, build_telegram

    engine = build_engine(settings)
    try:
        await engine.start()
    except MaeumError as exc:
        await engine.close()
        return _fail(str(exc))

    if stop is None:
        stop = asyncio.Event()
        _stop_on_signals(stop)
    stoppers: list[Callable[[], Awaitable[object]]] = []
    tasks: list[asyncio.Task[object]] = []
    code = 0
    try:
        if "telegram" in platforms:
            runner = build_telegram(settings, engine)
            stoppers.append(runner.stop)  # also after a failed start: it releases what did start
            try:
                await runner.start()
            except Exception as exc:
                return _fail(f"Telegram did not start ({type(exc).__name__}); check MAEUM_TELEGRAM_TOKEN")
        if "discord" in platforms:
            assert settings.discord_token is not None
            bot = build_discord(settings, engine)
            stoppers.append(bot.close)
            tasks.append(asyncio.create_task(bot.start(settings.discord_token.get_secret_value())))
        log.info("maeum is running on %s", " and ".join(platforms))

        stopped = asyncio.create_task(stop.wait())
        # The engine can fail under the platforms (its database file deleted): then stop, loudly,
        # rather than answer on while nothing more is stored.
        failed: asyncio.Task[MaeumError] = asyncio.create_task(engine.failure())
        done, _ = await asyncio.wait([stopped, failed, *tasks], return_when=asyncio.FIRST_COMPLETED)
        if failed in done:
            code = _fail(str(failed.result()))
        for task in done:
            if task not in (stopped, failed) and task.exception() is not None:
                error = task.exception()
                code = _fail(f"Discord stopped ({type(error).__name__}); check MAEUM_DISCORD_TOKEN")
        stopped.cancel()
        failed.cancel()
    finally:
        for stopper in reversed(stoppers):
            try:
                await stopper()
            except Exception as exc:
                log.warning("shutdown step failed: %s", type(exc).__name__)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await engine.close()
    return code
