"""Issue 11's attacks on the processes: a dead PostgreSQL port, the SQLite file deleted while
running (`maeum run` and `maeum chat`), and a file of messages piped into the console, which is
the operator's own terminal and not rate-limited. Real `maeum` subprocesses where the process
itself is the point (exit code, one line on stderr, ending while stdin is still open)."""

from __future__ import annotations

import asyncio
import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

import bot.run
from bot.console import run_console
from bot.run import PLATFORMS, serve
from engine.client import InProcessEngine
from engine.conversation.service import RATE_LIMITED_REPLY
from tests.bot.test_console import env_for
from tests.bot.test_telegram_run import TOKEN, settings_for
from tests.fakes import network
from tests.fakes.engine import make_engine
from tests.fakes.eventually import eventually
from tests.fakes.telegram_server import FakeTelegramServer, text_update

PASSWORD = "hunter2-do-not-print"


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[network.NetworkGuard]:
    guard = network.install(monkeypatch)
    yield guard
    assert guard.refused == [], f"tried to reach the network: {guard.refused}"


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def maeum(*args: str, env: dict[str, str], stdin: Any = subprocess.DEVNULL) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", *args],
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def assert_one_clear_line(stderr: str, *, names: str) -> None:
    assert "Traceback" not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("maeum: ") and names in lines[0], stderr


def database_files(data_dir: Path) -> list[Path]:
    return [p for p in data_dir.iterdir() if p.name.startswith("maeum.db")]


# A dead PostgreSQL port -----------------------------------------------------------------------


def test_a_dead_postgres_port_is_one_clear_line_for_chat_and_for_run(
    tmp_path: Path, tiny_emotion_model: Path, tiny_chat_model: Path
) -> None:
    port = closed_port()
    env = env_for(tmp_path, tiny_emotion_model, tiny_chat_model)
    env["MAEUM_DATABASE_URL"] = f"postgresql+asyncpg://postgres:{PASSWORD}@127.0.0.1:{port}/test"
    # `maeum run discord` must fail on the database before it tries Discord: its API base is a
    # closed loopback port too, and the token a dummy.
    run_env = {
        **env,
        "MAEUM_DISCORD_TOKEN": "dummy-token",
        "MAEUM_DISCORD_API_BASE": f"http://127.0.0.1:{closed_port()}/api/v10",
    }
    # Both at once: each spends its seconds importing the models' libraries.
    chat, run = maeum("chat", "--json", env=env), maeum("run", "discord", env=run_env)
    for proc in (chat, run):
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 2, err
        assert out == ""
        assert_one_clear_line(err, names="MAEUM_DATABASE_URL")
        assert f"127.0.0.1:{port}" in err  # which database it could not open
        assert PASSWORD not in err
        assert "Discord" not in err and "MAEUM_DISCORD_TOKEN" not in err


# The SQLite file deleted while running -------------------------------------------------------


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegramServer]:
    server = FakeTelegramServer(TOKEN)
    await server.start()
    yield server
    await server.close()


async def test_serve_stops_with_exit_2_when_the_database_file_is_deleted(
    tmp_path: Path,
    tiny_emotion_model: Path,
    tiny_chat_model: Path,
    telegram: FakeTelegramServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    real_build = bot.run.build_engine

    def watched_closely(settings: Any) -> InProcessEngine:
        engine = real_build(settings)  # the engine `maeum run` builds, checked every 50 ms
        engine.watch_every_s = 0.05
        return engine

    monkeypatch.setattr(bot.run, "build_engine", watched_closely)
    settings = settings_for(
        tmp_path, tiny_emotion_model, tiny_chat_model, telegram_token=TOKEN, telegram_api_url=telegram.api_url
    )
    stop = asyncio.Event()  # never set: only the failure may end it
    running = asyncio.create_task(serve(settings, PLATFORMS["telegram"], stop=stop))
    await telegram.queue_update(text_update(77, "오늘 너무 우울해"))
    await telegram.wait_for("sendMessage", count=2, within=30)  # answering: the reply and the question
    assert not running.done()

    db = tmp_path / "maeum.db"
    for path in database_files(tmp_path):
        path.unlink()
    deleted = time.monotonic()
    assert await asyncio.wait_for(running, 10) == 2
    assert time.monotonic() - deleted < 3  # noticed within a few checks, then a clean stop
    assert_one_clear_line(capsys.readouterr().err, names=str(db))


async def test_the_console_stops_with_exit_2_when_the_database_file_is_deleted(
    tmp_path: Path, tiny_emotion_model: Path, tiny_chat_model: Path, sqlite_url: str
) -> None:
    engine = make_engine(tiny_emotion_model, tiny_chat_model, sqlite_url)
    engine.watch_every_s = 0.05
    await engine.start()
    read_fd, write_fd = os.pipe()  # a terminal that stays open: nobody types Ctrl+D
    stdin = os.fdopen(read_fd, encoding="utf-8", closefd=False)
    out, err = io.StringIO(), io.StringIO()
    try:
        console = asyncio.create_task(
            run_console(engine, "me", as_json=True, stdin=stdin, stdout=out, stderr=err)
        )
        os.write(write_fd, "오늘 너무 우울해\n".encode())

        async def printed() -> str:
            return out.getvalue()

        await eventually(printed, lambda text: text.count("\n") == 1)
        for path in database_files(tmp_path):
            path.unlink()
        assert await asyncio.wait_for(console, 5) == 2
        assert json.loads(out.getvalue())["reply"]  # the answer before, nothing after
        assert_one_clear_line(err.getvalue(), names=str(tmp_path / "maeum.db"))
    finally:
        await engine.close()
        os.close(write_fd)  # the reader thread sees the end of input and ends
        for thread in threading.enumerate():
            if thread.name == "console-stdin":
                thread.join(timeout=5)
        stdin.close()
        os.close(read_fd)


def test_maeum_chat_answers_60_piped_lines_unlimited_then_stops_when_its_file_is_deleted(
    tmp_path: Path, tiny_emotion_model: Path, tiny_chat_model: Path
) -> None:
    # The operator's own terminal is not rate-limited: a file of messages piped into
    # `maeum chat --json` is answered line by line (before the fix most lines got the rate-limit
    # text). Then the database file is deleted while stdin is still open: the process must end by
    # itself, with exit code 2 and one line, not hang on the pending read.
    lines = [f"오늘 있었던 일 {i}번째: 회사에서 발표를 망쳐서 속상해" for i in range(60)]
    proc = maeum(
        "chat", "--json", env=env_for(tmp_path, tiny_emotion_model, tiny_chat_model), stdin=subprocess.PIPE
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    try:
        proc.stdin.write("".join(f"{line}\n" for line in lines))
        proc.stdin.flush()
        answers = [json.loads(proc.stdout.readline()) for _ in lines]
        assert all(a["reply"] for a in answers)
        assert [a for a in answers if a["reply"] == RATE_LIMITED_REPLY or a["source"] == "guard"] == []
        assert all(a["stored"] for a in answers)  # and each one kept in the history

        for path in database_files(tmp_path / "data"):
            path.unlink()
        assert proc.wait(timeout=30) == 2  # stdin is still open
        assert proc.stdout.read() == ""
        err = proc.stderr.read()
        # The watchdog's own log record (CRITICAL, no text) may come first; the last line is the
        # one sentence for the operator.
        logged = [line for line in err.splitlines() if " CRITICAL engine.client: " in line]
        assert len(logged) <= 1
        assert_one_clear_line(
            err.replace(logged[0], "") if logged else err, names=str(tmp_path / "data" / "maeum.db")
        )
        assert err.strip().splitlines()[-1].startswith("maeum: ")
    finally:
        proc.stdin.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
