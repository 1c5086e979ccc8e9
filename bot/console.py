"""The console adapter: a REPL on a terminal, one message per line (optionally JSON) in a pipe."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import TextIO

from engine.client import EngineClient
from engine.types import ConversationResult, IncomingMessage, UserRef

PLATFORM = "console"
EMOJI = {"일상": "🙂", "기쁨": "😊", "불안": "😟", "슬픔": "😢", "분노": "😠", "우울": "😔"}
GREETING = (
    "마음에 오신 걸 환영해요. 오늘 있었던 일이나 지금 기분을 편하게 적어 주세요.\n"
    "(나가려면 /quit 또는 Ctrl+D)"
)


def result_json(result: ConversationResult, stored: bool) -> str:
    return json.dumps(
        {
            "emotion": result.emotion,
            "confidence": None if result.confidence is None else round(result.confidence, 4),
            "reply": result.reply,
            "source": result.source.value,
            "stored": stored,
            "intent": result.intent,
        },
        ensure_ascii=False,
    )


def result_text(result: ConversationResult) -> str:
    line = f"마음 > {result.reply}"
    if result.emotion is not None and result.confidence is not None:
        line += f"\n       ({EMOJI.get(result.emotion, '•')} {result.emotion} {result.confidence:.0%})"
    return line


async def _readline(stream: TextIO) -> str | None:
    line = await asyncio.to_thread(stream.readline)
    return None if line == "" else line.rstrip("\r\n")


async def run_console(
    engine: EngineClient,
    user_name: str,
    *,
    as_json: bool,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    interactive: bool | None = None,
) -> int:
    user = UserRef(PLATFORM, user_name)
    # The console is the operator's own terminal: history is recorded without a consent prompt.
    await engine.set_consent(user, True)
    interactive = stdin.isatty() if interactive is None else interactive
    if interactive and not as_json:
        print(GREETING, file=stdout, flush=True)
    while True:
        if interactive and not as_json:
            print("나 > ", end="", file=stdout, flush=True)
        line = await _readline(stdin)
        # /quit ends a piped session too: a script that says it means it, as a person typing would.
        if line is None or line.strip() in ("/quit", "/exit"):
            break
        result = await engine.respond(IncomingMessage(user=user, text=line))
        stored = await engine.acknowledge(result.receipt) if result.receipt is not None else False
        print(result_json(result, stored) if as_json else result_text(result), file=stdout, flush=True)
    return 0
