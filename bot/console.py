"""The console adapter: a REPL on a terminal, one message per line (optionally JSON) in a pipe."""

from __future__ import annotations

import asyncio
import codecs
import json
import os
import sys
import threading
from typing import TextIO

from engine.client import EngineClient
from engine.errors import MaeumError
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
            "situation": result.situation,
            "uncertain": result.uncertain,
        },
        ensure_ascii=False,
    )


def result_text(result: ConversationResult) -> str:
    line = f"마음 > {result.reply}"
    if result.emotion is not None and result.confidence is not None:
        line += f"\n       ({EMOJI.get(result.emotion, '•')} {result.emotion} {result.confidence:.0%})"
    return line


class LineReader:
    """Lines from ``stream``. A real file descriptor (a terminal, a pipe) is read on a daemon
    thread with ``os.read``: a read waiting on a terminal cannot be cancelled, and a worker thread
    stuck in it would keep ``asyncio.run`` (and so the process) from ending when the engine fails.
    Other streams (a StringIO in tests) are read with ``readline`` on a worker thread."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._queue: asyncio.Queue[str | None] | None = None
        try:
            fd = stream.fileno()
        except (AttributeError, OSError, ValueError):
            return
        self._queue = asyncio.Queue()
        loop = asyncio.get_running_loop()
        encoding = getattr(stream, "encoding", None) or "utf-8"
        thread = threading.Thread(
            target=self._pump, args=(fd, encoding, loop, self._queue), name="console-stdin", daemon=True
        )
        thread.start()

    @staticmethod
    def _pump(
        fd: int, encoding: str, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[str | None]
    ) -> None:
        decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        pending = ""
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            pending += decoder.decode(chunk, final=not chunk)
            *lines, pending = pending.split("\n")
            if not chunk:
                lines += [pending] if pending else []
            try:
                for line in lines:
                    loop.call_soon_threadsafe(queue.put_nowait, line.rstrip("\r"))
                if not chunk:
                    loop.call_soon_threadsafe(queue.put_nowait, None)
            except RuntimeError:  # the loop is gone: the console has ended
                return
            if not chunk:
                return

    async def readline(self) -> str | None:
        """The next line without its line ending, or None at the end of input."""
        if self._queue is not None:
            return await self._queue.get()
        line = await asyncio.to_thread(self.stream.readline)
        return None if line == "" else line.rstrip("\r\n")


async def run_console(
    engine: EngineClient,
    user_name: str,
    *,
    as_json: bool,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    interactive: bool | None = None,
) -> int:
    """Answer each line of ``stdin`` (default: the process's) until its end or /quit. Returns 0,
    or 2 when the engine failed underneath (the error is printed as ``maeum: …`` on ``stderr``)."""
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    user = UserRef(PLATFORM, user_name)
    # The console is the operator's own terminal: history is recorded without a consent prompt.
    await engine.set_consent(user, True)
    interactive = stdin.isatty() if interactive is None else interactive
    if interactive and not as_json:
        print(GREETING, file=stdout, flush=True)
    reader = LineReader(stdin)
    # The engine can stop working under us (its database file deleted): then stop reading and say
    # so, instead of answering on while nothing is kept.
    failed: asyncio.Task[MaeumError] = asyncio.create_task(engine.failure())
    try:
        while True:
            if interactive and not as_json:
                print("나 > ", end="", file=stdout, flush=True)
            reading = asyncio.create_task(reader.readline())
            await asyncio.wait([reading, failed], return_when=asyncio.FIRST_COMPLETED)
            if failed.done():
                reading.cancel()
                print(f"maeum: {failed.result()}", file=stderr, flush=True)
                return 2
            line = reading.result()
            # /quit ends a piped session too: a script that says it means it, as a person would.
            if line is None or line.strip() in ("/quit", "/exit"):
                break
            result = await engine.respond(IncomingMessage(user=user, text=line))
            stored = await engine.acknowledge(result.receipt) if result.receipt is not None else False
            print(result_json(result, stored) if as_json else result_text(result), file=stdout, flush=True)
    finally:
        failed.cancel()
    return 0
