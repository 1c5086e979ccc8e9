"""A fake Discord REST API on 127.0.0.1, plus gateway-shaped payload builders.

Point ``discord.http.Route.BASE`` at :attr:`FakeDiscordServer.api_base`; deliver events through
discord.py's own parsing (``bot._connection.parse_interaction_create(payload)``,
``parse_message_create``, ``parse_message_update``). For tests of the connection itself (sharding)
there is a minimal gateway too: point ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` at
:attr:`FakeDiscordServer.gateway_url` and ``bot.start(token)`` connects to it. It says HELLO,
acknowledges heartbeats, records each IDENTIFY as a call to :data:`IDENTIFY` and answers READY for
that shard; :meth:`FakeDiscordServer.dispatch` sends an event down one shard's connection. Every REST call is
recorded; tests wait for calls with :meth:`FakeDiscordServer.wait_for` (an asyncio condition with a
bounded timeout). Faults: :meth:`~FakeDiscordServer.fail_next` answers a 5xx (or any status),
:meth:`~FakeDiscordServer.drop_next` closes the connection without an answer, and
:meth:`~FakeDiscordServer.refuse_dms_to` answers 403 to messages in one person's DM channel.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web

from tests.fakes.call_log import CallLog

APP_ID = 880000000000000001
BOT_USER_ID = 880000000000000002
GUILD_ID = 880000000000000003
GUILD_CHANNEL_ID = 880000000000000004

_snowflakes = itertools.count(900000000000000000)


def snowflake() -> str:
    return str(next(_snowflakes))


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def user_payload(user_id: int, name: str = "minji", *, bot: bool = False) -> dict[str, Any]:
    return {
        "id": str(user_id),
        "username": name,
        "discriminator": "0",
        "global_name": name,
        "avatar": None,
        "bot": bot,
        "public_flags": 0,
    }


BOT_USER = user_payload(BOT_USER_ID, "maeum", bot=True)


@dataclass(frozen=True)
class UploadedFile:
    filename: str | None
    content_type: str
    data: bytes


@dataclass
class Call:
    method: str  # HTTP method
    route: str  # e.g. "POST /interactions/{id}/{token}/callback"
    path: str
    match: dict[str, str]
    json: Any
    files: list[UploadedFile] = field(default_factory=list)
    query: dict[str, str] = field(default_factory=dict)
    status: int = 200  # what the fake answered; 0: the connection was dropped without an answer
    result: Any = None
    at: float = field(default_factory=time.monotonic)


@dataclass
class Fault:
    """The next ``times`` calls to ``route`` (matching ``when``) fail: ``status`` is answered, or
    with ``status`` None the connection is dropped (after the call was recorded, as when a message
    went through but its response was lost)."""

    route: str
    status: int | None
    times: int
    when: Callable[[Call], bool] | None = None
    html: bool = False  # a proxy's HTML error page instead of Discord's JSON


IDENTIFY = "GATEWAY IDENTIFY"  # the route name an IDENTIFY is recorded under (its json: the "d", no token)
GATEWAY_PATH = "/gateway-ws"
HEARTBEAT_INTERVAL_MS = 45_000

ROUTES: list[tuple[str, str]] = [
    ("GET", "/gateway/bot"),
    ("GET", "/users/@me"),
    ("GET", "/oauth2/applications/@me"),
    ("GET", "/applications/@me"),
    ("PUT", "/applications/{app}/commands"),
    ("PUT", "/applications/{app}/guilds/{guild}/commands"),
    ("POST", "/interactions/{id}/{token}/callback"),
    ("POST", "/webhooks/{app}/{token}"),
    ("GET", "/webhooks/{app}/{token}/messages/{message}"),
    ("PATCH", "/webhooks/{app}/{token}/messages/{message}"),
    ("DELETE", "/webhooks/{app}/{token}/messages/{message}"),
    ("POST", "/channels/{channel}/messages"),
    ("POST", "/channels/{channel}/typing"),
    ("POST", "/users/@me/channels"),
]


def _json(data: Any, status: int = 200) -> web.Response:
    # discord.py parses a body as JSON only for exactly "application/json" (no charset suffix).
    return web.Response(
        body=json.dumps(data).encode(), status=status, headers={"Content-Type": "application/json"}
    )


class FakeDiscordServer:
    def __init__(self, token: str) -> None:
        self.token = token
        self.log: CallLog[Call] = CallLog(lambda c: c.route)
        self.requested_urls: list[str] = []
        self.dm_channels: dict[int, str] = {}
        # Interaction token → channel id, so follow-ups are messages in the right channel.
        self._channels_by_token: dict[str, str] = {}
        self._faults: list[Fault] = []
        self._refused_dms: set[int] = set()
        self._runner: web.AppRunner | None = None
        self.port = 0
        # Gateway: the open connection of each shard id, and what /gateway/bot recommends.
        self.shard_sockets: dict[int, web.WebSocketResponse] = {}
        self._sequence: dict[int, int] = {}
        self.recommended_shards = 1

    async def start(self) -> None:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        for method, path in ROUTES:
            app.router.add_route(method, "/api/v10" + path, self._route(method, path))
        app.router.add_get(GATEWAY_PATH + "/", self._gateway)
        app.router.add_route("*", "/{tail:.*}", self._unknown)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[attr-defined]
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]

    async def close(self) -> None:
        for ws in list(self.shard_sockets.values()):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        """What goes in MAEUM_DISCORD_API_BASE (and so discord.http.Route.BASE)."""
        return f"{self.base_url}/api/v10"

    @property
    def gateway_url(self) -> str:
        """What goes in ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY`` (a yarl.URL of it)."""
        return f"ws://127.0.0.1:{self.port}{GATEWAY_PATH}/"

    # Test controls -----------------------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        return self.log.calls

    def calls_to(self, route: str) -> list[Call]:
        return [c for c in self.calls if c.route == route]

    async def wait_for(
        self,
        route: str,
        predicate: Callable[[Call], bool] | None = None,
        *,
        count: int = 1,
        within: float = 10.0,
    ) -> list[Call]:
        def matching() -> list[Call]:
            return [c for c in self.calls_to(route) if predicate is None or predicate(c)]

        return await self.log.wait_for(matching, what=route, count=count, within=within)

    async def wait_idle(self, quiet_s: float = 0.3) -> None:
        """For asserting that nothing happens: a bounded quiet period with no new call at all."""
        await self.log.wait_quiet(lambda: len(self.calls), quiet_s)

    def fail_next(
        self,
        route: str,
        *,
        status: int = 500,
        times: int = 1,
        when: Callable[[Call], bool] | None = None,
        html: bool = False,
    ) -> None:
        self._faults.append(Fault(route, status, times, when, html))

    def drop_next(self, route: str, *, times: int = 1, when: Callable[[Call], bool] | None = None) -> None:
        self._faults.append(Fault(route, None, times, when))

    def refuse_dms_to(self, user_id: int) -> None:
        """That person's DMs are closed: a message in their DM channel gets 403 (code 50007)."""
        self._refused_dms.add(user_id)

    def delivered(self, route: str, predicate: Callable[[Call], bool] | None = None) -> list[Call]:
        """Calls to ``route`` that were answered 2xx (what actually reached the platform)."""
        return [
            c for c in self.calls_to(route) if 200 <= c.status < 300 and (predicate is None or predicate(c))
        ]

    def dm_channel_of(self, user_id: int) -> str | None:
        return self.dm_channels.get(user_id)

    def register_interaction(self, payload: dict[str, Any]) -> None:
        self._channels_by_token[payload["token"]] = payload["channel_id"]

    async def dispatch(self, shard_id: int, event: str, data: dict[str, Any]) -> None:
        """Send a DISPATCH (``MESSAGE_CREATE``…) down the connection of ``shard_id``."""
        ws = self.shard_sockets[shard_id]
        await ws.send_json({"op": 0, "t": event, "s": self._next_sequence(shard_id), "d": data})

    def shard_of_guild(self, guild_id: int, shard_count: int) -> int:
        """The shard Discord sends a server's events to."""
        return (guild_id >> 22) % shard_count

    # Gateway -----------------------------------------------------------------------------------

    def _next_sequence(self, shard_id: int) -> int:
        self._sequence[shard_id] = self._sequence.get(shard_id, 0) + 1
        return self._sequence[shard_id]

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        """HELLO, heartbeat ACKs, and READY for the shard an IDENTIFY asks for. Text frames, no
        compression (discord.py only decompresses binary ones)."""
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS}})
        shard_id: int | None = None
        try:
            async for frame in ws:
                if frame.type is not aiohttp.WSMsgType.TEXT:
                    continue
                payload = json.loads(frame.data)
                op, data = payload.get("op"), payload.get("d")
                if op == 1:  # heartbeat
                    await ws.send_json({"op": 11})
                elif op == 2:  # identify
                    shard_id = await self._identify(ws, request, data)
                    if shard_id is None:
                        break
        finally:
            if shard_id is not None and self.shard_sockets.get(shard_id) is ws:
                del self.shard_sockets[shard_id]
        return ws

    async def _identify(
        self, ws: web.WebSocketResponse, request: web.Request, data: dict[str, Any]
    ) -> int | None:
        identify = {key: value for key, value in data.items() if key != "token"}
        call = Call("GATEWAY", IDENTIFY, request.path, {}, identify, query=dict(request.query))
        if data.get("token") != self.token:
            call.status = 401
            await self._record(call)
            await ws.close(code=4004, message=b"Authentication failed.")
            return None
        shard_id, shard_count = data.get("shard") or (0, 1)
        self.shard_sockets[shard_id] = ws
        self._sequence[shard_id] = 0
        await self._record(call)
        ready = {
            "v": 10,
            "user": BOT_USER,
            "guilds": [],
            "session_id": f"session-{snowflake()}",
            "resume_gateway_url": self.gateway_url,
            "shard": [shard_id, shard_count],
            "application": {"id": str(APP_ID), "flags": 0},
        }
        await ws.send_json({"op": 0, "t": "READY", "s": self._next_sequence(shard_id), "d": ready})
        return int(shard_id)

    # Wire --------------------------------------------------------------------------------------

    async def _body(self, request: web.Request) -> tuple[Any, list[UploadedFile]]:
        if request.content_type == "multipart/form-data":
            files: list[UploadedFile] = []
            payload: Any = None
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, aiohttp.BodyPartReader):
                    continue
                data = await part.read()
                if part.name == "payload_json":
                    payload = json.loads(data)
                else:
                    ctype = part.headers.get("Content-Type", "application/octet-stream")
                    files.append(UploadedFile(part.filename, ctype, bytes(data)))
            return payload, files
        raw = await request.read()
        return (json.loads(raw) if raw else None), []

    def _route(self, method: str, path: str) -> Callable[[web.Request], Any]:
        route = f"{method} {path}"

        async def handle(request: web.Request) -> web.StreamResponse:
            self.requested_urls.append(str(request.url))
            if request.headers.get("Authorization") not in (f"Bot {self.token}", None):
                return _json({"message": "401: Unauthorized", "code": 0}, status=401)
            body, files = await self._body(request)
            call = Call(
                method=method,
                route=route,
                path=request.path,
                match=dict(request.match_info),
                json=body,
                files=files,
                query=dict(request.query),
            )
            fault = self._fault_for(call)
            if fault is not None:
                return await self._fail(request, call, fault)
            call.result = self._answer(call)
            await self._record(call)
            if call.result is None:
                return web.Response(status=204)
            return _json(call.result)

        return handle

    def _fault_for(self, call: Call) -> Fault | None:
        if call.route == "POST /channels/{channel}/messages":
            refused = {self.dm_channels.get(u) for u in self._refused_dms}
            if call.match["channel"] in refused:
                return Fault(call.route, 403, 1)
        for fault in self._faults:
            if fault.route == call.route and fault.times > 0 and (fault.when is None or fault.when(call)):
                fault.times -= 1
                if fault.times == 0:
                    self._faults.remove(fault)
                return fault
        return None

    async def _fail(self, request: web.Request, call: Call, fault: Fault) -> web.StreamResponse:
        call.status = fault.status or 0
        await self._record(call)
        if fault.status is None:
            assert request.transport is not None
            request.transport.abort()  # the client sees the server disconnect, no response
            return web.Response(status=204)
        if fault.status == 403:
            body = {"message": "Cannot send messages to this user", "code": 50007}
            return _json(body, status=403)
        if fault.html:
            page = f"<html><body><h1>{fault.status} Bad Gateway</h1></body></html>"
            return web.Response(text=page, status=fault.status, content_type="text/html")
        return _json({"message": f"{fault.status}: Internal Server Error", "code": 0}, status=fault.status)

    async def _unknown(self, request: web.Request) -> web.Response:
        self.requested_urls.append(str(request.url))
        call = Call(request.method, f"{request.method} ?", request.path, {}, None, status=404)
        await self._record(call)
        return _json({"message": "404: Not Found", "code": 0}, status=404)

    async def _record(self, call: Call) -> None:
        await self.log.record(call)

    def _message(
        self, channel_id: str, body: dict[str, Any] | None, files: list[UploadedFile]
    ) -> dict[str, Any]:
        body = body or {}
        return message_payload(
            channel_id,
            body.get("content") or "",
            author=BOT_USER,
            embeds=body.get("embeds") or [],
            attachments=[
                {
                    "id": snowflake(),
                    "filename": f.filename,
                    "size": len(f.data),
                    "url": f"{self.base_url}/attachments/{f.filename}",
                    "proxy_url": f"{self.base_url}/attachments/{f.filename}",
                    "content_type": f.content_type,
                }
                for f in files
            ],
            flags=int(body.get("flags") or 0),
            components=body.get("components") or [],
        )

    def _answer(self, call: Call) -> Any:
        route, body, m = call.route, call.json, call.match
        if route == "GET /gateway/bot":
            limit = {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1}
            return {"url": self.gateway_url, "shards": self.recommended_shards, "session_start_limit": limit}
        if route == "GET /users/@me":
            return BOT_USER
        if route in ("GET /oauth2/applications/@me", "GET /applications/@me"):
            return {
                "id": str(APP_ID),
                "name": "maeum",
                "description": "",
                "icon": None,
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": user_payload(1, "owner"),
                "verify_key": "0" * 64,
                "flags": 0,
                "team": None,
                "summary": "",
            }
        if route.startswith("PUT /applications/"):
            commands = []
            for command in body or []:
                synced = {"id": snowflake(), "application_id": str(APP_ID), "version": snowflake(), **command}
                if "guild" in m:
                    synced["guild_id"] = m["guild"]
                commands.append(synced)
            return commands
        if route == "POST /interactions/{id}/{token}/callback":
            kind = int((body or {}).get("type", 0))
            data = (body or {}).get("data") or {}
            flags = int(data.get("flags") or 0)
            interaction: dict[str, Any] = {
                "id": m["id"],
                "type": 2,
                "response_message_loading": kind == 5,
                "response_message_ephemeral": bool(flags & 64),
            }
            result: dict[str, Any] = {"interaction": interaction}
            if kind in (4, 7):  # a message was created or updated: tell discord.py which
                channel = self._channels_by_token.get(m["token"], snowflake())
                message = self._message(channel, data, call.files)
                interaction["response_message_id"] = message["id"]
                result["resource"] = {"type": kind, "message": message}
            return result
        if route == "POST /webhooks/{app}/{token}":
            return self._message(self._channels_by_token.get(m["token"], snowflake()), body, call.files)
        if route.endswith("/messages/{message}"):
            if call.method == "DELETE":
                return None
            message = self._message(self._channels_by_token.get(m["token"], snowflake()), body, call.files)
            if m["message"] != "@original":
                message["id"] = m["message"]
            return message
        if route == "POST /channels/{channel}/messages":
            return self._message(m["channel"], body, call.files)
        if route == "POST /channels/{channel}/typing":
            return None
        if route == "POST /users/@me/channels":
            recipient = int(body["recipient_id"])
            channel_id = self.dm_channels.setdefault(recipient, snowflake())
            return {
                "id": channel_id,
                "type": 1,
                "recipients": [user_payload(recipient)],
                "last_message_id": None,
            }
        raise AssertionError(f"unhandled route {route}")


# Gateway-shaped payloads -----------------------------------------------------------------------


def message_payload(
    channel_id: str,
    content: str,
    *,
    author: dict[str, Any],
    guild_id: str | None = None,
    mentions: list[dict[str, Any]] | None = None,
    embeds: list[dict[str, Any]] | None = None,
    attachments: list[dict[str, Any]] | None = None,
    flags: int = 0,
    components: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": snowflake(),
        "channel_id": str(channel_id),
        "author": author,
        "content": content,
        "timestamp": now_iso(),
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": mentions or [],
        "mention_roles": [],
        "attachments": attachments or [],
        "embeds": embeds or [],
        "pinned": False,
        "type": 0,
        "flags": flags,
        "components": components or [],
    }
    if guild_id is not None:
        payload["guild_id"] = guild_id
        payload["member"] = {"roles": [], "joined_at": now_iso(), "deaf": False, "mute": False, "flags": 0}
    return payload


def dm_message(user_id: int, content: str, *, channel_id: str | None = None) -> dict[str, Any]:
    return message_payload(channel_id or str(user_id + 1), content, author=user_payload(user_id))


def guild_message(user_id: int, content: str, *, mention_bot: bool = False) -> dict[str, Any]:
    mentions = [BOT_USER] if mention_bot else []
    if mention_bot:
        content = f"<@{BOT_USER_ID}> {content}"
    return message_payload(
        str(GUILD_CHANNEL_ID),
        content,
        author=user_payload(user_id),
        guild_id=str(GUILD_ID),
        mentions=mentions,
    )


def edited(message: dict[str, Any], content: str) -> dict[str, Any]:
    """The MESSAGE_UPDATE for ``message`` whose text was changed to ``content``."""
    return {**message, "content": content, "edited_timestamp": now_iso()}


def forwarded_dm(user_id: int, original: dict[str, Any]) -> dict[str, Any]:
    """``user_id`` forwards ``original`` (someone else's message) into their DM with the bot: an
    empty message of its own with a FORWARD reference and a snapshot of the original."""
    payload = dm_message(user_id, "")
    payload["message_reference"] = {
        "type": 1,
        "message_id": original["id"],
        "channel_id": original["channel_id"],
        **({"guild_id": original["guild_id"]} if "guild_id" in original else {}),
    }
    snapshot = {
        key: original[key]
        for key in ("type", "content", "embeds", "attachments", "timestamp", "edited_timestamp", "flags")
    }
    payload["message_snapshots"] = [{"message": {**snapshot, "mentions": [], "components": []}}]
    return payload


def guild_reply(
    user_id: int, content: str, to: dict[str, Any], *, mention_bot: bool = True, resolved: bool = True
) -> dict[str, Any]:
    """A reply in the server channel to the message ``to``; with ``resolved`` the gateway sends the
    replied-to message along (``referenced_message``), without it only the reference."""
    payload = guild_message(user_id, content, mention_bot=mention_bot)
    payload["type"] = 19  # REPLY
    payload["message_reference"] = {
        "type": 0,
        "message_id": to["id"],
        "channel_id": to["channel_id"],
        "guild_id": str(GUILD_ID),
    }
    if resolved:
        payload["referenced_message"] = to
    return payload


def _interaction_base(user_id: int, kind: int, *, guild: bool) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": snowflake(),
        "application_id": str(APP_ID),
        "type": kind,
        "token": f"itoken-{snowflake()}",
        "version": 1,
        "locale": "ko",
        "app_permissions": "0",
        "attachment_size_limit": 8 * 1024 * 1024,
        "entitlements": [],
        "authorizing_integration_owners": {"0": str(GUILD_ID) if guild else "0"},
    }
    if guild:
        payload.update(
            guild_id=str(GUILD_ID),
            guild_locale="ko",
            channel_id=str(GUILD_CHANNEL_ID),
            channel={
                "id": str(GUILD_CHANNEL_ID),
                "type": 0,
                "guild_id": str(GUILD_ID),
                "name": "일상",
                "position": 0,
                "permission_overwrites": [],
                "nsfw": False,
                "parent_id": None,
            },
            member={
                "user": user_payload(user_id),
                "roles": [],
                "joined_at": now_iso(),
                "deaf": False,
                "mute": False,
                "flags": 0,
                "permissions": "0",
            },
            context=0,
        )
    else:
        channel_id = str(user_id + 1)
        payload.update(
            channel_id=channel_id,
            channel={"id": channel_id, "type": 1, "recipients": [user_payload(user_id)]},
            user=user_payload(user_id),
            context=1,
        )
    return payload


def slash(name: str, user_id: int, *, guild: bool = False, **options: Any) -> dict[str, Any]:
    """An APPLICATION_COMMAND interaction for ``/name option=value…``."""
    payload = _interaction_base(user_id, 2, guild=guild)
    payload["data"] = {
        "id": snowflake(),
        "name": name,
        "type": 1,
        "options": [
            {"name": key, "type": 4 if isinstance(value, int) else 3, "value": value}
            for key, value in options.items()
        ],
    }
    return payload


def button_press(
    user_id: int, custom_id: str, message: dict[str, Any], *, guild: bool = False
) -> dict[str, Any]:
    """A MESSAGE_COMPONENT interaction: ``user_id`` pressed ``custom_id`` under ``message``."""
    payload = _interaction_base(user_id, 3, guild=guild)
    payload["data"] = {"custom_id": custom_id, "component_type": 2}
    payload["message"] = message
    return payload


def custom_ids(components: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(label, custom_id) of every button in a message's components."""
    found: list[tuple[str, str]] = []
    for row in components:
        for item in row.get("components", []):
            if item.get("type") == 2 and "custom_id" in item:
                found.append((item.get("label", ""), item["custom_id"]))
    return found
