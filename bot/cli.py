"""``maeum`` command line: chat, db, and the commands the other modules add."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from bot.compose import build_engine, configure_logging
from engine.errors import MaeumError
from engine.settings import Settings


def _settings() -> Settings:
    return Settings()


async def _chat(args: argparse.Namespace) -> int:
    from bot.console import run_console

    settings = _settings()
    engine = build_engine(settings)
    try:
        await engine.start()
    except MaeumError as exc:
        print(f"maeum: {exc}", file=sys.stderr)
        await engine.close()
        return 2
    try:
        return await run_console(engine, args.user, as_json=args.json)
    finally:
        await engine.close()


def _db(args: argparse.Namespace) -> int:
    from engine.store import migrate

    url = _settings().resolved_database_url
    if args.db_command == "upgrade":
        migrate.upgrade(url, args.revision)
    elif args.db_command == "downgrade":
        migrate.downgrade(url, args.revision)
    else:
        print(asyncio.run(migrate.current_revision(url)) or "(empty database)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="maeum", description="마음 — a Korean emotional-support chatbot")
    sub = parser.add_subparsers(dest="command", required=True)

    chat = sub.add_parser(
        "chat", help="talk to maeum in this terminal (one JSON line per message with --json)"
    )
    chat.add_argument("--user", default="me", help="whose history to use (default: me)")
    chat.add_argument("--json", action="store_true", help="print one JSON object per reply")
    chat.set_defaults(handler=lambda a: asyncio.run(_chat(a)))

    db = sub.add_parser("db", help="database migrations")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    up = db_sub.add_parser("upgrade", help="migrate to the newest schema (the app also does this on start)")
    up.add_argument("revision", nargs="?", default="head")
    down = db_sub.add_parser("downgrade", help="migrate back to a revision ('base' empties the schema)")
    down.add_argument("revision")
    db_sub.add_parser("current", help="print the database's schema revision")
    db.set_defaults(handler=_db)

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        configure_logging(_settings().log_level)
        return int(args.handler(args))
    except MaeumError as exc:
        print(f"maeum: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
