"""`maeum run`: the process composition (settings → one engine → the platforms) and its errors."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.run import PLATFORMS, add_parser, serve
from engine.settings import Settings
from tests.fakes import network
from tests.fakes.telegram_server import FakeTelegramServer, text_update

TOKEN = "123456789:TEST-run-token"


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[network.NetworkGuard]:
    guard = network.install(monkeypatch)
    yield guard
    assert guard.refused == [], f"tried to reach the network: {guard.refused}"


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegramServer]:
    server = FakeTelegramServer(TOKEN)
    await server.start()
    yield server
    await server.close()


def settings_for(tmp_path: Path, emotion: Path, chat: Path, **platform: Any) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path,
        emotion_model=str(emotion),
        reply_model=str(chat),
        intent_model="none",
        device="cpu",
        max_new_tokens=8,
        **platform,
    )


def test_run_subcommand_is_registered() -> None:
    parser = argparse.ArgumentParser(prog="maeum")
    add_parser(parser.add_subparsers(dest="command", required=True))
    for platform in ("telegram", "discord", "all"):
        args = parser.parse_args(["run", platform])
        assert args.platform == platform and callable(args.handler)
    with pytest.raises(SystemExit):
        parser.parse_args(["run", "slack"])
    assert PLATFORMS["all"] == ("telegram", "discord")


@pytest.mark.parametrize(
    ("platform", "missing"), [("telegram", "MAEUM_TELEGRAM_TOKEN"), ("all", "MAEUM_DISCORD_TOKEN")]
)
async def test_a_missing_token_is_one_clear_sentence(
    tmp_path: Path,
    tiny_emotion_model: Path,
    tiny_chat_model: Path,
    capsys: pytest.CaptureFixture[str],
    platform: str,
    missing: str,
) -> None:
    settings = settings_for(tmp_path, tiny_emotion_model, tiny_chat_model, telegram_token=None)
    assert await serve(settings, PLATFORMS[platform], stop=asyncio.Event()) == 2
    err = capsys.readouterr().err
    assert missing in err and len(err.strip().splitlines()) == 1


async def test_run_telegram_serves_until_stopped_then_closes_cleanly(
    tmp_path: Path, tiny_emotion_model: Path, tiny_chat_model: Path, server: FakeTelegramServer
) -> None:
    settings = settings_for(
        tmp_path, tiny_emotion_model, tiny_chat_model, telegram_token=TOKEN, telegram_api_url=server.api_url
    )
    stop = asyncio.Event()
    running = asyncio.create_task(serve(settings, PLATFORMS["telegram"], stop=stop))
    await server.wait_for("deleteWebhook")  # polling is starting (no webhook is left behind)
    await server.queue_update(text_update(77, "오늘 너무 우울해"))
    [reply, _prompt] = await server.wait_for("sendMessage", count=2)
    assert reply.params["text"].strip()
    stop.set()
    assert await asyncio.wait_for(running, 30) == 0
    assert (tmp_path / "maeum.db").exists()  # the engine it built used the configured data dir


async def test_a_rejected_token_is_reported_not_a_traceback(
    tmp_path: Path,
    tiny_emotion_model: Path,
    tiny_chat_model: Path,
    server: FakeTelegramServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = settings_for(
        tmp_path,
        tiny_emotion_model,
        tiny_chat_model,
        telegram_token="999:WRONG",
        telegram_api_url=server.api_url,
    )
    assert await serve(settings, PLATFORMS["telegram"], stop=asyncio.Event()) == 2
    err = capsys.readouterr().err
    assert "MAEUM_TELEGRAM_TOKEN" in err and "999:WRONG" not in err
