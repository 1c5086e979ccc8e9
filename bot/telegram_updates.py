"""How Telegram updates reach the handlers without one being lost: long polling through a
transient inbox, or a webhook that answers Telegram only once the update is handled.

Why an inbox. Telegram forgets an update as soon as getUpdates is called with a higher offset,
and the offset cannot skip over one slow update (one person's backlog would hold back everyone
behind it). So each fetched batch is written to the store's inbox *before* it is confirmed, and
an entry is deleted as soon as its update is handled. After a crash, the entries left are handled
first on the next start. The inbox holds message text for those seconds only; /forget deletes a
person's entries with the rest of their data, and nothing else in the database ever holds text.

Each update is parsed on its own: one that cannot be read is logged by id and type (never its
content) and skipped, instead of stopping polling for everyone.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

import tornado.httpserver
import tornado.web
from telegram import Update
from telegram.error import InvalidToken, TelegramError
from telegram.ext import Application

from engine.client import EngineClient
from engine.types import InboxEntry

log = logging.getLogger(__name__)

App = Application[Any, Any, Any, Any, Any, Any]
Process = Callable[[Update], Awaitable[None]]


def parse_update(data: Any, app: App) -> Update | None:
    """The update, or None (logged without its content) when it cannot be read."""
    try:
        update = Update.de_json(data, app.bot)
    except Exception as exc:
        update_id = data.get("update_id") if isinstance(data, dict) else None
        log.warning("telegram: skipped update %s that could not be read (%s)", update_id, type(exc).__name__)
        return None
    if update is not None:
        app.bot.insert_callback_data(update)
    return update


def _user_key(update: Update) -> str | None:
    user = update.effective_user
    return f"telegram:{user.id}" if user is not None else None


class Dispatcher:
    """Runs updates through the Application: different people concurrently, one person in order
    (the update processor), and remembers which update ids are in hand so a redelivery of one
    still being answered is not started twice."""

    def __init__(self, app: App, engine: EngineClient, channel: str) -> None:
        self.app = app
        self.engine = engine
        self.channel = channel
        self._in_hand: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def in_hand(self, update_id: int) -> bool:
        return update_id in self._in_hand

    async def handle(self, update: Update) -> None:
        """Handle one update now (the webhook awaits this before answering Telegram)."""
        self._in_hand.add(update.update_id)
        try:
            await self.app.update_processor.process_update(update, self.app.process_update(update))
        finally:
            self._in_hand.discard(update.update_id)

    def start(self, update: Update, *, held: bool) -> None:
        """Handle one update in the background; ``held``: delete its inbox entry when done."""
        self._in_hand.add(update.update_id)

        async def run() -> None:
            try:
                await self.handle(update)
            except Exception as exc:  # the Application's error handler already ran
                log.error("telegram update %s failed: %s", update.update_id, type(exc).__name__)
            if held:
                try:
                    await self.engine.inbox_done(self.channel, [str(update.update_id)])
                except Exception as exc:  # left in the inbox: handled again (as a duplicate) next start
                    log.warning("could not clear an inbox entry: %s", type(exc).__name__)

        task = asyncio.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self, grace_s: float) -> None:
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=grace_s)


class InboxPoller:
    """Long polling that confirms an update to Telegram only once it is held in the inbox."""

    def __init__(
        self,
        app: App,
        engine: EngineClient,
        dispatcher: Dispatcher,
        *,
        timeout_s: int,
        allowed_updates: list[str],
        limit: int = 100,
    ) -> None:
        self.app = app
        self.engine = engine
        self.dispatcher = dispatcher
        self.timeout_s = timeout_s
        self.allowed_updates = allowed_updates
        self.limit = limit
        self.offset: int | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    async def start(self) -> None:
        await self.app.bot.delete_webhook()  # polling and a webhook cannot both be set
        await self._replay()
        self._task = asyncio.create_task(self._loop(), name="maeum-telegram-polling")

    async def _replay(self) -> None:
        """Answer what a previous run received but did not get to answer."""
        try:
            pending = await self.engine.inbox_pending(self.dispatcher.channel)
        except Exception as exc:
            log.error("could not read the inbox: %s", type(exc).__name__)
            return
        if pending:
            log.info("telegram: answering %d update(s) received before the last stop", len(pending))
        for entry in pending:
            update = parse_update(json.loads(entry.payload), self.app)
            if update is None:
                await self.engine.inbox_done(self.dispatcher.channel, [entry.entry_id])
            else:
                self.dispatcher.start(update, held=True)

    async def _fetch(self) -> list[Any]:
        data: dict[str, Any] = {
            "timeout": self.timeout_s,
            "offset": self.offset,
            "limit": self.limit,
            "allowed_updates": self.allowed_updates,
        }
        # The raw call, not bot.get_updates: that one parses the whole batch at once (one bad
        # update fails all of it) and logs the raw batch, people's messages included, at CRITICAL.
        result = await self.app.bot._post("getUpdates", data, read_timeout=self.timeout_s + 10)
        return result if isinstance(result, list) else []

    async def _loop(self) -> None:
        failures = 0
        while not self._stopping:
            try:
                raw = await self._fetch()
            except InvalidToken:
                log.error("telegram: the token was rejected; polling stopped")
                return
            except (TelegramError, OSError) as exc:
                failures += 1
                wait = min(30.0, 0.5 * 2**failures) * (0.5 + random.random())
                log.warning("telegram: getUpdates failed (%s), retry in %.1fs", type(exc).__name__, wait)
                await asyncio.sleep(wait)
                continue
            failures = 0
            await self._take(raw)

    async def _take(self, raw: list[Any]) -> None:
        now = datetime.now(UTC)
        fresh: list[Update] = []
        entries: list[InboxEntry] = []
        for data in raw:
            update_id = data.get("update_id") if isinstance(data, dict) else None
            if not isinstance(update_id, int):
                continue
            self.offset = max(self.offset or 0, update_id + 1)
            if self.dispatcher.in_hand(update_id):
                continue
            update = parse_update(data, self.app)
            if update is None:
                continue
            fresh.append(update)
            entries.append(InboxEntry(str(update_id), _user_key(update), json.dumps(data), now))
        held = True
        try:
            await self.engine.inbox_add(self.dispatcher.channel, entries)
        except Exception as exc:
            # The store is down: answer anyway (the crisis card needs no store); these updates are
            # then not protected against a crash until it is back.
            held = False
            log.error("could not hold updates in the inbox: %s", type(exc).__name__)
        for update in fresh:
            self.dispatcher.start(update, held=held)

    async def stop(self, grace_s: float = 10.0) -> None:
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.dispatcher.drain(grace_s)
        if self.offset is not None:  # confirm what was fetched; it is in the inbox or answered
            with contextlib.suppress(TelegramError, OSError):
                await self.app.bot._post("getUpdates", {"offset": self.offset, "timeout": 0, "limit": 1})


class _WebhookHandler(tornado.web.RequestHandler):
    def initialize(self, app: App, dispatcher: Dispatcher, secret: str) -> None:
        self.app = app
        self.dispatcher = dispatcher
        self.secret = secret

    async def post(self) -> None:
        token = self.request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not hmac.compare_digest(token.encode(), self.secret.encode()):
            self.set_status(HTTPStatus.FORBIDDEN)
            return
        try:
            data = json.loads(self.request.body)
        except ValueError:
            self.set_status(HTTPStatus.BAD_REQUEST)
            return
        update = parse_update(data, self.app)
        if update is not None and not self.dispatcher.in_hand(update.update_id):
            # Answer Telegram only once handled: a crash before this makes Telegram deliver it
            # again, and the store's processed-update ids make that second delivery harmless.
            await self.dispatcher.handle(update)
        self.set_status(HTTPStatus.OK)

    def log_exception(self, *args: Any) -> None:  # tornado would log the request, body included
        log.error("telegram webhook request failed")


class WebhookServer:
    def __init__(self, app: App, dispatcher: Dispatcher, *, path: str, secret: str) -> None:
        handler_args = {"app": app, "dispatcher": dispatcher, "secret": secret}
        self.web = tornado.web.Application(
            [(rf"/{path}/?", _WebhookHandler, handler_args)], log_function=_quiet
        )
        self.server: tornado.httpserver.HTTPServer | None = None

    def listen(self, host: str, port: int) -> None:
        self.server = tornado.httpserver.HTTPServer(self.web, xheaders=True)
        self.server.listen(port, address=host)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            await self.server.close_all_connections()


def _quiet(handler: tornado.web.RequestHandler) -> None:
    """No access log lines: they would carry people's IPs and nothing we need."""
