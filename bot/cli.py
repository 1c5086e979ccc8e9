"""``maeum`` command line: chat, db, and the commands the other modules add."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from engine.errors import MaeumError
from engine.settings import Settings
from training.readers import DatasetFormatError


def _settings() -> Settings:
    return Settings()


async def _chat(args: argparse.Namespace) -> int:
    from engine.store.migrate import upgrade_or_explain

    settings = _settings()
    try:  # before the models load: a wrong database URL is one line, at once
        if not settings.engine_url:  # a remote engine owns its database
            await upgrade_or_explain(settings.resolved_database_url)
    except MaeumError as exc:
        print(f"maeum: {exc}", file=sys.stderr)
        return 2

    from bot.compose import build_client
    from bot.console import run_console

    engine = build_client(settings)
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


async def _mood_report(args: argparse.Namespace) -> Any:
    from bot.compose import build_engine
    from bot.console import PLATFORM
    from engine.types import UserRef

    engine = build_engine(_settings())
    try:
        await engine.start(load_models=False)
        return await engine.mood(UserRef(PLATFORM, args.user), weeks=args.weeks)
    finally:
        await engine.close()


def _mood(args: argparse.Namespace) -> int:
    result = asyncio.run(_mood_report(args))
    print(result.summary)
    out = Path(args.out)
    out.write_bytes(result.chart_png)
    print(f"(차트: {out})")
    return 0


def _bench(args: argparse.Namespace) -> int:
    import json

    from bench import BenchOptions, run_bench
    from bench.options import SCENARIOS

    unknown = sorted(set((args.only or "").replace(" ", "").split(",")) - set(SCENARIOS) - {""})
    if unknown:
        print(f"maeum: unknown scenario(s) {', '.join(unknown)}; use {', '.join(SCENARIOS)}", file=sys.stderr)
        return 2
    settings = _settings()
    use = args.use_settings
    options = BenchOptions(
        quick=args.quick,
        tiny=args.tiny,
        emotion_model=args.emotion_model or (settings.emotion_model if use else None),
        reply_model=args.reply_model or (settings.reply_model if use else None),
        device=args.device or settings.device,
        emotion_precision=settings.emotion_precision,
        emotion_runtime=settings.emotion_runtime,
        reply_precision=settings.reply_precision,
        threads=args.threads or settings.threads,
        batch_size=args.batch_size or settings.batch_size,
        batch_window_ms=settings.batch_window_ms if args.batch_window_ms is None else args.batch_window_ms,
        users=args.users,
        new_tokens=args.new_tokens,
        quality_data=args.quality_data or [],
        cold_start=not args.no_cold_start,
        remote=args.remote,
        only=[s.strip() for s in args.only.split(",") if s.strip()] if args.only else None,
    )
    report = run_bench(options)
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        print(report.markdown() if args.markdown else report.table())
    return 0


def _models_prepare(args: argparse.Namespace) -> int:
    """Save the int8 (CPU) form beside each torch checkpoint, so start-up loads it instead of quantizing."""
    from engine.inference.loading import is_local
    from engine.inference.tfidf import is_tfidf_checkpoint

    settings = _settings()
    emotion = args.emotion or settings.emotion_model
    reply = args.reply or settings.reply_model
    todo: list[tuple[str, str, str]] = []
    if emotion and not is_tfidf_checkpoint(emotion):
        todo.append(("emotion", emotion, "classifier"))
    if reply:
        todo.append(("reply", reply, "causal-lm"))
    if not todo:
        print("maeum: no torch checkpoint to prepare (the TF-IDF emotion model and the reply bank need none)")
        return 0
    from engine.inference.prepared import prepare, stale_reason

    for role, location, kind in todo:
        if not is_local(location):
            print(f"maeum: {role}: {location} is not a local directory; download it first", file=sys.stderr)
            return 2
        where = Path(location).expanduser()
        if not args.force and (where / "maeum-int8.json").is_file() and stale_reason(where, kind) is None:  # type: ignore[arg-type]
            print(f"{role}: {where} is already prepared")
            continue
        out = prepare(where, kind)  # type: ignore[arg-type]
        print(f"{role}: wrote {out} ({out.stat().st_size / 2**20:.0f} MB)")
    return 0


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

    mood = sub.add_parser("mood", help="print the weekly emotion report and write its chart")
    mood.add_argument("--user", default="me", help="whose history (the name used with `maeum chat --user`)")
    mood.add_argument("--weeks", type=int, default=1, choices=range(1, 13), metavar="N", help="1 to 12")
    mood.add_argument("--out", default="mood.png", help="where to write the chart PNG (default: mood.png)")
    mood.set_defaults(handler=_mood)

    bench = sub.add_parser(
        "bench", help="time the engine against the seed's way (random weights at real sizes by default)"
    )
    bench.add_argument("--quick", action="store_true", help="fewer samples: under two minutes on 2 cores")
    bench.add_argument("--json", action="store_true", help="print the report as JSON")
    bench.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    bench.add_argument("--emotion-model", help="bench this emotion checkpoint (default: random KoBERT-base)")
    bench.add_argument("--reply-model", help="bench this reply checkpoint (default: random KoGPT2-small)")
    bench.add_argument("--use-settings", action="store_true", help="bench the checkpoints MAEUM_*_MODEL name")
    bench.add_argument("--quality-data", action="append", help="labelled FILE[:FORMAT] for the int8 check")
    bench.add_argument("--device", choices=["auto", "cpu", "cuda"], help="default: MAEUM_DEVICE")
    bench.add_argument("--threads", type=int, help="default: MAEUM_THREADS")
    bench.add_argument("--batch-size", type=int, help="default: MAEUM_BATCH_SIZE")
    bench.add_argument("--batch-window-ms", type=float, help="default: MAEUM_BATCH_WINDOW_MS")
    bench.add_argument("--users", type=int, default=32, help="concurrent users (default: 32)")
    bench.add_argument("--new-tokens", type=int, default=32, help="tokens per reply (default: 32)")
    bench.add_argument("--no-cold-start", action="store_true", help="skip the fresh-process start-up row")
    bench.add_argument(
        "--remote", action="store_true", help="also time the hop to `maeum serve` and 1 vs 2 model replicas"
    )
    bench.add_argument(
        "--only",
        metavar="LIST",
        help="only these scenarios, comma-separated: engine, peers, replies, busy-host, cold-start",
    )
    bench.add_argument("--tiny", action="store_true", help=argparse.SUPPRESS)  # tests: tiny configs
    bench.set_defaults(handler=_bench)

    models = sub.add_parser("models", help="model files: prepare the int8 form for a fast start")
    models_sub = models.add_subparsers(dest="models_command", required=True)
    prepare = models_sub.add_parser(
        "prepare", help="save the int8 (CPU) form beside each checkpoint once; start-up then loads it"
    )
    prepare.add_argument("--emotion", help="emotion checkpoint directory (default: MAEUM_EMOTION_MODEL)")
    prepare.add_argument("--reply", help="reply checkpoint directory (default: MAEUM_REPLY_MODEL)")
    prepare.add_argument("--force", action="store_true", help="rewrite it even when it is up to date")
    prepare.set_defaults(handler=_models_prepare)

    db = sub.add_parser("db", help="database migrations")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    up = db_sub.add_parser("upgrade", help="migrate to the newest schema (the app also does this on start)")
    up.add_argument("revision", nargs="?", default="head")
    down = db_sub.add_parser("downgrade", help="migrate back to a revision ('base' empties the schema)")
    down.add_argument("revision")
    db_sub.add_parser("current", help="print the database's schema revision")
    db.set_defaults(handler=_db)

    from bot.run import add_parser as add_run_parser
    from serving.cli import add_parser as add_serve_parser
    from training.cli import add_parsers as add_training_parsers

    add_run_parser(sub)
    add_serve_parser(sub)
    add_training_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from bot.logs import configure_logging

    args = build_parser().parse_args(argv)
    try:
        # The terminal commands stay quiet unless asked; the bots log at INFO (see bot/run.py).
        quiet = args.command in ("chat", "mood", "db", "eval")
        configure_logging(_settings().log_level or ("WARNING" if quiet else "INFO"))
        return int(args.handler(args))
    except (MaeumError, DatasetFormatError, FileNotFoundError) as exc:
        print(f"maeum: {exc}", file=sys.stderr)
        return 2
    except ValidationError as exc:
        problems = "; ".join(
            f"MAEUM_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors()
        )
        print(f"maeum: invalid settings ({problems}); see .env.example", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
