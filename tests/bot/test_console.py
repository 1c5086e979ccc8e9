"""The console adapter and the `maeum` command: the JSON contract and clear errors."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.console import run_console
from engine.types import UserRef
from tests.fakes.engine import make_engine

LABELS = {"일상", "기쁨", "불안", "슬픔", "분노", "우울"}


def env_for(tmp_path: Path, emotion: Path | str, chat: Path | str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAEUM_")}
    env.update(
        MAEUM_DATA_DIR=str(tmp_path / "data"),
        MAEUM_EMOTION_MODEL=str(emotion),
        MAEUM_REPLY_MODEL=str(chat) if chat else "none",
        MAEUM_INTENT_MODEL="none",
        MAEUM_MAX_NEW_TOKENS="8",
    )
    return env


async def console_json(
    models: tuple[Path, Path], sqlite_url: str, stdin: str
) -> tuple[int, str, dict[str, Any]]:
    """Run the JSON console over ``stdin``: exit code, output, and what the store kept."""
    engine = make_engine(*models, sqlite_url)
    await engine.start()
    out = io.StringIO()
    try:
        code = await run_console(engine, "me", as_json=True, stdin=io.StringIO(stdin), stdout=out)
        events = await engine.export(UserRef("console", "me"))
    finally:
        await engine.close()
    return code, out.getvalue(), events


async def test_json_lines_contract_in_process(
    tiny_emotion_model: Path, tiny_chat_model: Path, sqlite_url: str
) -> None:
    models = (tiny_emotion_model, tiny_chat_model)
    code, output, events = await console_json(models, sqlite_url, "오늘 너무 우울해\n\n시험 망했어\n")
    assert code == 0
    lines = [json.loads(line) for line in output.splitlines()]
    assert len(lines) == 3  # one answer per input line, the empty one included
    for line in lines:
        assert set(line) >= {"emotion", "confidence", "reply", "source"}
        assert line["reply"]
    assert lines[0]["emotion"] in LABELS and lines[2]["emotion"] in LABELS
    assert lines[1]["source"] == "guard" and lines[1]["emotion"] is None
    # The console records history without a consent prompt (the operator's own terminal).
    assert len(events["emotion_events"]) == 2


async def test_quit_ends_the_session_and_is_not_a_message(
    tiny_emotion_model: Path, tiny_chat_model: Path, sqlite_url: str
) -> None:
    models = (tiny_emotion_model, tiny_chat_model)
    _, output, events = await console_json(models, sqlite_url, "안녕\n/quit\n그 뒤의 줄\n")
    assert len(output.splitlines()) == 1
    assert len(events["emotion_events"]) == 1


def test_maeum_chat_json_command(tmp_path: Path, tiny_emotion_model: Path, tiny_chat_model: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat", "--json"],
        input="오늘 너무 우울해\n",
        capture_output=True,
        text=True,
        env=env_for(tmp_path, tiny_emotion_model, tiny_chat_model),
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    [line] = proc.stdout.splitlines()
    payload = json.loads(line)
    assert (
        payload["emotion"] in LABELS
        and payload["reply"]
        and payload["source"] in ("bank", "reflective", "generated")
    )


@pytest.mark.parametrize("broken", ["missing", "corrupt"])
def test_missing_or_broken_model_is_one_clear_sentence(tmp_path: Path, broken: str) -> None:
    model = tmp_path / "model"
    if broken == "corrupt":
        model.mkdir()
        (model / "config.json").write_text("{", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat", "--json"],
        input="안녕\n",
        capture_output=True,
        text=True,
        env=env_for(tmp_path, model, None),
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert "MAEUM_EMOTION_MODEL" in proc.stderr and "maeum train emotion" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
