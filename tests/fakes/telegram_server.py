"""A fake Telegram Bot API on 127.0.0.1: records every call, serves long polling, delivers webhooks.

It speaks the wire format python-telegram-bot uses (form, multipart and JSON bodies under
``/bot<token>/<method>``) so the real Application runs against it unchanged. Tests wait for calls
with :meth:`FakeTelegramServer.wait_for` (an asyncio condition with a bounded timeout), never by
sleeping.

Faults a real network and a real Bot API produce can be injected per call: 429s (:meth:`fail_once`),
5xx answers, an HTML page from a proxy, a dropped connection, a send that took effect but whose answer
was lost, a 403 for one chat (:meth:`fail_next`), and sends held in flight (:meth:`hold`) so a test can
kill a bot process while they are unanswered.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import aiohttp
from aiohttp import web

from tests.fakes.call_log import CallLog

BOT_ID = 7000001
BOT_USERNAME = "maeum_test_bot"
TEXT_FIELDS = frozenset({"text", "caption", "secret_token", "url", "callback_query_id"})

# "500": Telegram's JSON error with HTTP 500; "502": an HTML error page from a proxy in front of the
# API; "drop": the connection closes before any answer (the call took no effect); "lost": the call
# took effect (recorded as delivered), then the connection closed before its answer; "403": Forbidden
# (a person who never opened a private chat with the bot, or blocked it).
FaultKind = Literal["500", "502", "drop", "lost", "403"]
DROPPED = 0  # Call.status of a call whose connection was closed without an answer
BAD_GATEWAY_PAGE = (
    "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center>"
    "<hr><center>nginx</center></body></html>"
)


class ApiError(Exception):
    """A method handler's refusal, answered the way the Bot API answers it."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


@dataclass
class Fault:
    method: str
    kind: FaultKind
    times: int | None  # None: every matching call
    when: Callable[[dict[str, Any]], bool] | None


@dataclass(frozen=True)
class UploadedFile:
    filename: str | None
    content_type: str
    data: bytes


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    files: dict[str, UploadedFile] = field(default_factory=dict)
    status: int = 200
    result: Any = None
    url: str = ""
    at: float = field(default_factory=time.monotonic)


def _decode(key: str, value: str) -> Any:
    # PTB sends non-file parameters as form fields with JSON-encoded values (reply_markup, ids…).
    if key in TEXT_FIELDS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


class FakeTelegramServer:
    def __init__(self, token: str, *, bot_id: int = BOT_ID, username: str = BOT_USERNAME) -> None:
        self.token = token
        self.bot = {
            "id": bot_id,
            "is_bot": True,
            "first_name": "마음",
            "username": username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.log: CallLog[Call] = CallLog(lambda c: c.method)
        self.requested_urls: list[str] = []
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(100)
        self._chats: dict[int, dict[str, Any]] = {}
        self._fail_once: dict[str, int] = {}
        self._faults: list[Fault] = []
        self._hold: tuple[str, int] | None = None  # (method, calls let through before holding)
        self._hold_passed = 0
        self.held = 0  # calls held in flight right now
        self._release_held = asyncio.Event()
        self.confirmed_offset = 0  # the highest getUpdates offset seen: updates below it are forgotten
        self._updates_changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._closing = False
        self.port = 0

    # Lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[attr-defined]
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def close(self) -> None:
        self._release_held.set()
        # Release held long polls first, or shutting the server down waits out their timeout.
        async with self._updates_changed:
            self._closing = True
            self._updates_changed.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """What goes in MAEUM_TELEGRAM_API_URL: PTB appends the token."""
        return f"{self.base_url}/bot"

    # Test controls -----------------------------------------------------------------------------

    async def queue_update(self, update: dict[str, Any]) -> int:
        """Queue an update for getUpdates (waking a held long poll); returns its update_id."""
        update = dict(update)
        update.setdefault("update_id", next(self._update_ids))
        self._remember_chats(update)
        async with self._updates_changed:
            self._updates.append(update)
            self._updates_changed.notify_all()
        return int(update["update_id"])

    def fail_once(self, method: str, retry_after: int) -> None:
        """The next call to ``method`` gets 429 Too Many Requests with this retry_after."""
        self._fail_once[method.lower()] = retry_after

    def fail_next(
        self,
        method: str,
        kind: FaultKind,
        *,
        times: int | None = 1,
        when: Callable[[dict[str, Any]], bool] | None = None,
    ) -> None:
        """The next ``times`` calls to ``method`` (those whose params match ``when``; every one when
        ``times`` is None) fail with ``kind`` (see :data:`FaultKind`). Failed calls are recorded with
        their status (:data:`DROPPED` for a closed connection); a "lost" call is recorded as a
        successful one, since it took effect."""
        self._faults.append(Fault(method.lower(), kind, times, when))

    def clear_faults(self) -> None:
        self._faults.clear()

    def hold(self, method: str, *, after: int) -> None:
        """Let ``after`` more calls to ``method`` through, then hold every later one in flight: not
        answered and not taking effect, until :meth:`drop_held` closes their connections (the way
        requests of a killed process end)."""
        self._hold = (method.lower(), after)
        self._hold_passed = 0
        self._release_held.clear()

    def drop_held(self) -> None:
        """Stop holding: calls held so far end without effect; later ones are served normally."""
        self._hold = None
        self._release_held.set()

    def forgotten(self, update_id: int) -> bool:
        """Whether getUpdates confirmed ``update_id`` (Telegram would never deliver it again)."""
        return update_id < self.confirmed_offset

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates queued and not yet confirmed by a getUpdates with a higher offset."""
        return list(self._updates)

    async def deliver_webhook(
        self, update: dict[str, Any], *, secret: str | None = None, url: str | None = None
    ) -> int:
        """POST an update to the registered webhook, as Telegram does; returns the HTTP status.
        ``secret`` defaults to the one registered with setWebhook; ``url`` (a replica's own
        address, as a reverse proxy in front of several picks one) to the registered URL."""
        assert self.webhook_url is not None, "no webhook registered"
        update = dict(update)
        update.setdefault("update_id", next(self._update_ids))
        self._remember_chats(update)
        token = self.webhook_secret if secret is None else secret
        headers = {"X-Telegram-Bot-Api-Secret-Token": token} if token else {}
        async with (
            aiohttp.ClientSession() as session,
            session.post(url or self.webhook_url, json=update, headers=headers) as response,
        ):
            return response.status

    @property
    def calls(self) -> list[Call]:
        return self.log.calls

    def calls_to(self, method: str, *, ok_only: bool = True) -> list[Call]:
        return [
            c for c in self.calls if c.method.lower() == method.lower() and (c.status == 200 or not ok_only)
        ]

    async def wait_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        *,
        count: int = 1,
        within: float = 10.0,
    ) -> list[Call]:
        """Wait until ``count`` successful calls to ``method`` (matching ``predicate``) were made."""

        def matching() -> list[Call]:
            return [c for c in self.calls_to(method) if predicate is None or predicate(c)]

        return await self.log.wait_for(matching, what=method, count=count, within=within)

    async def wait_idle(self, method: str, *, quiet_s: float = 0.3) -> None:
        """For asserting that something does NOT happen: wait a bounded quiet period in which no
        new ``method`` call arrives (there is nothing to wait *for*, so a bound is all there is)."""
        await self.log.wait_quiet(lambda: len(self.calls_to(method, ok_only=False)), quiet_s)

    # Wire --------------------------------------------------------------------------------------

    async def _params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
        params: dict[str, Any] = {k: _decode(k, v) for k, v in request.query.items()}
        files: dict[str, UploadedFile] = {}
        if request.content_type == "application/json":
            body = await request.json()
            params.update(body or {})
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    files[key] = UploadedFile(value.filename, value.content_type, value.file.read())
                else:
                    params[key] = _decode(key, str(value))
        return params, files

    async def _handle(self, request: web.Request) -> web.Response:
        self.requested_urls.append(str(request.url))
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        params, files = await self._params(request)
        call = Call(method=method, params=params, files=files, url=str(request.url))
        retry_after = self._fail_once.pop(method.lower(), None)
        if retry_after is not None:
            call.status = 429
            await self._record(call)
            return web.json_response(
                {
                    "ok": False,
                    "error_code": 429,
                    "description": f"Too Many Requests: retry after {retry_after}",
                    "parameters": {"retry_after": retry_after},
                },
                status=429,
            )
        fault = self._take_fault(method, params)
        if fault in ("500", "502", "403", "drop"):
            return await self._fail(request, call, fault)
        if self._holds(method):
            self.held += 1
            try:
                await self._release_held.wait()
            finally:
                self.held -= 1
            self._drop_connection(request)
            return web.Response()
        handler = getattr(self, f"_m_{method.lower()}", None)
        if handler is None:
            call.status = 404
            await self._record(call)
            return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)
        try:
            if method.lower() == "getupdates":
                call.result = await handler(params, files)
            else:
                call.result = handler(params, files)
        except ApiError as exc:
            call.status = exc.code
            await self._record(call)
            return web.json_response(
                {"ok": False, "error_code": exc.code, "description": exc.description}, status=exc.code
            )
        await self._record(call)
        if fault == "lost":
            self._drop_connection(request)
            return web.Response()
        return web.json_response({"ok": True, "result": call.result})

    async def _record(self, call: Call) -> None:
        await self.log.record(call)

    def _take_fault(self, method: str, params: dict[str, Any]) -> FaultKind | None:
        for fault in self._faults:
            if fault.method == method.lower() and (fault.when is None or fault.when(params)):
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                return fault.kind
        return None

    def _holds(self, method: str) -> bool:
        if self._hold is None or self._hold[0] != method.lower():
            return False
        if self._hold_passed < self._hold[1]:
            self._hold_passed += 1
            return False
        return True

    @staticmethod
    def _drop_connection(request: web.Request) -> None:
        if request.transport is not None:
            request.transport.abort()

    async def _fail(self, request: web.Request, call: Call, kind: FaultKind) -> web.Response:
        if kind == "drop":
            call.status = DROPPED
            await self._record(call)
            self._drop_connection(request)
            return web.Response()
        if kind == "502":
            call.status = 502
            await self._record(call)
            return web.Response(status=502, text=BAD_GATEWAY_PAGE, content_type="text/html")
        code, description = (
            (403, "Forbidden: bot can't initiate conversation with a user")
            if kind == "403"
            else (500, "Internal Server Error")
        )
        call.status = code
        await self._record(call)
        return web.json_response({"ok": False, "error_code": code, "description": description}, status=code)

    def _remember_chats(self, update: dict[str, Any]) -> None:
        for key in ("message", "edited_message"):
            if key in update:
                chat = update[key]["chat"]
                self._chats[int(chat["id"])] = chat
        if "callback_query" in update and "message" in update["callback_query"]:
            chat = update["callback_query"]["message"]["chat"]
            self._chats[int(chat["id"])] = chat

    def _chat(self, chat_id: Any) -> dict[str, Any]:
        cid = int(chat_id)
        return self._chats.get(cid, {"id": cid, "type": "private" if cid > 0 else "supergroup", "title": "?"})

    def _message(self, params: dict[str, Any], **content: Any) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": int(params.get("message_id") or next(self._message_ids)),
            "date": int(time.time()),
            "chat": self._chat(params["chat_id"]),
            "from": self.bot,
            **content,
        }
        if "reply_markup" in params:
            message["reply_markup"] = params["reply_markup"]
        return message

    # Methods -----------------------------------------------------------------------------------

    def _m_getme(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return self.bot

    async def _m_getupdates(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        offset = int(params.get("offset") or 0)
        self.confirmed_offset = max(self.confirmed_offset, offset)
        if offset:
            # Telegram forgets updates below the offset: they were confirmed.
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        timeout = float(params.get("timeout") or 0)
        async with self._updates_changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._updates_changed.wait_for(lambda: bool(self._updates) or self._closing), timeout
                )
        limit = int(params.get("limit") or 100)
        return self._updates[:limit]

    def _m_sendmessage(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        if not str(params.get("text") or "").strip():
            raise ApiError(400, "Bad Request: message text is empty")  # as Telegram answers
        return self._message(params, text=params["text"])

    def _m_sendphoto(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        size = len(files["photo"].data) if "photo" in files else 0
        photo = [
            {"file_id": "photo-1", "file_unique_id": "p1", "width": 800, "height": 600, "file_size": size}
        ]
        extra = {"caption": params["caption"]} if "caption" in params else {}
        return self._message(params, photo=photo, **extra)

    def _m_senddocument(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        upload = files.get("document")
        document = {
            "file_id": "doc-1",
            "file_unique_id": "d1",
            "file_name": upload.filename if upload else None,
            "mime_type": upload.content_type if upload else None,
            "file_size": len(upload.data) if upload else 0,
        }
        extra = {"caption": params["caption"]} if "caption" in params else {}
        return self._message(params, document=document, **extra)

    def _m_editmessagetext(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return self._message(params, text=params["text"], edit_date=int(time.time()))

    def _m_sendchataction(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return True

    def _m_answercallbackquery(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return True

    def _m_setmycommands(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return True

    def _m_deletemycommands(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return True

    def _m_setwebhook(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        self.webhook_url = params["url"] or None
        self.webhook_secret = params.get("secret_token")
        return True

    def _m_deletewebhook(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        self.webhook_url = None
        self.webhook_secret = None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def _m_getwebhookinfo(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return {"url": self.webhook_url or "", "has_custom_certificate": False, "pending_update_count": 0}

    def _m_close(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return True


# Update builders -------------------------------------------------------------------------------

_message_ids = itertools.count(1)


def user(user_id: int, first_name: str = "민지") -> dict[str, Any]:
    return {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "ko"}


def private_chat(user_id: int) -> dict[str, Any]:
    return {"id": user_id, "type": "private", "first_name": "민지"}


def group_chat(chat_id: int = -1001234567890) -> dict[str, Any]:
    return {"id": chat_id, "type": "supergroup", "title": "친구들"}


def message(
    user_id: int,
    *,
    chat: dict[str, Any] | None = None,
    text: str | None = None,
    entities: list[dict[str, Any]] | None = None,
    reply_to: dict[str, Any] | None = None,
    **content: Any,
) -> dict[str, Any]:
    msg: dict[str, Any] = {
        "message_id": next(_message_ids),
        "date": int(time.time()),
        "chat": chat or private_chat(user_id),
        "from": user(user_id),
        **content,
    }
    if text is not None:
        msg["text"] = text
    if entities:
        msg["entities"] = entities
    if reply_to is not None:
        msg["reply_to_message"] = reply_to
    return msg


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def text_update(user_id: int, text: str, **kwargs: Any) -> dict[str, Any]:
    return {"message": message(user_id, text=text, **kwargs)}


def command_update(user_id: int, text: str, **kwargs: Any) -> dict[str, Any]:
    """``/mood 4w`` with the bot_command entity Telegram adds."""
    command = text.split(maxsplit=1)[0]
    entity = {"type": "bot_command", "offset": 0, "length": _utf16(command)}
    return {"message": message(user_id, text=text, entities=[entity], **kwargs)}


def mention_update(
    user_id: int, text: str, chat: dict[str, Any], username: str = BOT_USERNAME
) -> dict[str, Any]:
    """A group message starting with ``@username``."""
    handle = f"@{username}"
    entity = {"type": "mention", "offset": 0, "length": _utf16(handle)}
    return {"message": message(user_id, chat=chat, text=f"{handle} {text}", entities=[entity])}


def sticker_update(user_id: int, **kwargs: Any) -> dict[str, Any]:
    sticker = {
        "file_id": "sticker-1",
        "file_unique_id": "s1",
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "emoji": "🥲",
    }
    return {"message": message(user_id, sticker=sticker, **kwargs)}


def edited_update(user_id: int, text: str) -> dict[str, Any]:
    edited = message(user_id, text=text, edit_date=int(time.time()))
    return {"edited_message": edited}


def callback_update(user_id: int, data: str, bot_message: dict[str, Any]) -> dict[str, Any]:
    """A press on an inline button under ``bot_message`` (a message the fake answered with)."""
    return {
        "callback_query": {
            "id": f"cb-{next(_message_ids)}",
            "from": user(user_id),
            "chat_instance": "instance-1",
            "data": data,
            "message": bot_message,
        }
    }


def photo_update(user_id: int, caption: str, **kwargs: Any) -> dict[str, Any]:
    """A photo with words under it."""
    photo = [{"file_id": "photo-in", "file_unique_id": "pi", "width": 640, "height": 480}]
    return {"message": message(user_id, photo=photo, caption=caption, **kwargs)}


def forwarded_update(
    user_id: int, text: str, *, from_user_id: int, first_name: str = "지수"
) -> dict[str, Any]:
    """Someone else's message that ``user_id`` forwards to the bot."""
    origin = {"type": "user", "date": int(time.time()) - 60, "sender_user": user(from_user_id, first_name)}
    return {"message": message(user_id, text=text, forward_origin=origin)}


def external_quote_update(
    user_id: int, text: str, *, quoted: str, from_user_id: int, from_chat: dict[str, Any]
) -> dict[str, Any]:
    """A private message that replies to (and quotes) a message from another chat: Telegram's
    "reply in another chat" sends the quoted part as ``quote`` and the source as ``external_reply``."""
    origin = {"type": "user", "date": int(time.time()) - 60, "sender_user": user(from_user_id, "지수")}
    external = {"origin": origin, "chat": from_chat, "message_id": next(_message_ids)}
    quote = {"text": quoted, "position": 0, "is_manual": True}
    return {"message": message(user_id, text=text, external_reply=external, quote=quote)}
