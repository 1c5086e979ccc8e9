"""The engine across an HTTP hop, without Ray: the real engine (bundled models, SQLite) behind the
API router on 127.0.0.1, and the front-end's ``RemoteEngine`` in front of it. What the router and
the client promise: every call round-trips, errors keep their meaning, the crisis card never
depends on the engine, retries only where harmless, and no message text in any log."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.compose import build_engine
from engine.client import InProcessEngine, MoodResult, UserStatus
from engine.errors import CheckinError, EngineUnavailableError
from engine.remote.api import CALLS, ApiRouter
from engine.remote.client import RemoteEngine
from engine.remote.codec import CodecError, decode, encode
from engine.safety import CRISIS_CARD, THIRD_PARTY_CARD
from engine.settings import Settings
from engine.types import (
    ConversationResult,
    EmotionPrediction,
    InboxEntry,
    IncomingMessage,
    MessageKind,
    Receipt,
    ReplySource,
    UserRef,
)

TOKEN = "test-token-0123456789"
SECRET_TEXT = "비밀스러운문장입니다 오늘 팀장님한테 혼났어"


class Server:
    """The router on a loopback port, with switches a test can flip: answer normally, hang, or
    answer 503 for the next few requests."""

    def __init__(self, router: ApiRouter) -> None:
        self.router = router
        self.hang = False
        self.fail_next = 0
        self.requests: list[str] = []
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def _handle(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        if self.hang:
            await asyncio.Event().wait()
        if self.fail_next > 0 and request.path.startswith("/v1/"):
            self.fail_next -= 1
            return web.json_response({"error": {"type": "Unavailable", "message": "x"}}, status=503)
        answer = await self.router.handle(
            request.method, request.path, request.headers.get("Authorization"), await request.read()
        )
        return web.Response(body=answer.body, status=answer.status, content_type="application/json")

    async def start(self, port: int = 0) -> None:
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[InProcessEngine]:
    settings = Settings(_env_file=None, data_dir=tmp_path, checkin_quiet_hours="")  # type: ignore[call-arg]
    engine = build_engine(settings)
    await engine.start()
    yield engine
    await engine.close()


@pytest.fixture
async def server(engine: InProcessEngine) -> AsyncIterator[Server]:
    server = Server(ApiRouter(engine, TOKEN))
    await server.start()
    yield server
    await server.stop()


Remote = Callable[..., Awaitable[RemoteEngine]]


@pytest.fixture
async def remote(server: Server) -> AsyncIterator[Remote]:
    made: list[RemoteEngine] = []

    async def make(**options: Any) -> RemoteEngine:
        client = RemoteEngine(server.url, options.pop("token", TOKEN), **options)
        await client.start()
        made.append(client)
        return client

    yield make
    for client in made:
        await client.close()


# The codec ------------------------------------------------------------------------------------


def test_every_type_on_the_api_round_trips_through_json() -> None:
    import json

    at = datetime(2026, 12, 1, 21, 30, tzinfo=UTC)
    user = UserRef("telegram", "42")
    emotion = EmotionPrediction("슬픔", 0.71, {"슬픔": 0.71, "일상": 0.29}, uncertain=True)
    values: list[tuple[Any, Any]] = [
        (
            IncomingMessage,
            IncomingMessage(user, "안녕", "u1", at, ("인용",), forwarded=True, kind=MessageKind.EDIT),
        ),
        (Receipt, Receipt(user, at, "u1", emotion)),
        (
            ConversationResult,
            ConversationResult(
                "답", ReplySource.BANK, "슬픔", 0.7, {"슬픔": 0.7}, True, None, "work.x", Receipt(user, at)
            ),
        ),
        (list[InboxEntry], [InboxEntry("7", "telegram:42", '{"update_id": 7}', at)]),
        (UserStatus, UserStatus(True, None, "Asia/Seoul")),
        (list[UserRef], [user, UserRef("discord", "9")]),
    ]
    for kind, value in values:
        assert decode(kind, json.loads(json.dumps(encode(value)))) == value
    # A timezone-aware time stays aware (naive times would mix up hosts' local clocks).
    back = decode(Receipt, json.loads(json.dumps(encode(Receipt(user, at)))))
    assert back.at.tzinfo is not None and back.at == at


def test_a_payload_of_the_wrong_shape_is_refused_without_quoting_it() -> None:
    with pytest.raises(CodecError) as caught:
        decode(IncomingMessage, {"user": {"platform": "x"}, "text": SECRET_TEXT})
    assert SECRET_TEXT not in str(caught.value)
    with pytest.raises(CodecError):
        decode(ConversationResult, {"reply": "x", "source": "no-such-source"})
    with pytest.raises(CodecError):
        decode(UserStatus, {"known": "yes", "consent": None, "timezone": None})


def test_the_api_covers_every_engine_client_call() -> None:
    from engine.client import EngineClient

    calls = {
        name
        for name, value in vars(EngineClient).items()
        if callable(value) and not name.startswith("_") and name not in ("start", "close", "failure")
    }
    calls.discard("register_checkin_sender")  # local: senders are this process's platforms
    assert calls <= set(CALLS), sorted(calls - set(CALLS))
    assert {"claim_checkins", "checkin_sent"} <= set(CALLS)
    for name in calls:
        assert hasattr(RemoteEngine, name)


# The router -----------------------------------------------------------------------------------


async def test_the_router_refuses_a_missing_or_wrong_token_and_unknown_calls(engine: InProcessEngine) -> None:
    router = ApiRouter(engine, TOKEN)
    body = b'{"user": {"platform": "console", "user_id": "me"}}'
    assert (await router.handle("POST", "/v1/user_status", None, body)).status == 401
    assert (await router.handle("POST", "/v1/user_status", "Bearer wrong", body)).status == 401
    assert (await router.handle("POST", "/v1/user_status", f"Bearer {TOKEN}", body)).status == 200
    assert (await router.handle("POST", "/v1/drop_tables", f"Bearer {TOKEN}", body)).status == 404
    assert (await router.handle("GET", "/v1/user_status", f"Bearer {TOKEN}", body)).status == 405
    assert (await router.handle("POST", "/v2/user_status", f"Bearer {TOKEN}", body)).status == 404
    bad = await router.handle("POST", "/v1/respond", f"Bearer {TOKEN}", b'{"message": {"text": 1}}')
    assert bad.status == 400
    unknown = await router.handle("POST", "/v1/user_status", f"Bearer {TOKEN}", b'{"user": null, "x": 1}')
    assert unknown.status == 400
    health = await router.handle("GET", "/healthz", None, b"")
    assert health.status == 200 and b'"ready"' in health.body


async def test_health_says_starting_until_the_engine_is_ready(engine: InProcessEngine) -> None:
    ready = False

    async def is_ready() -> bool:
        return ready

    router = ApiRouter(engine, TOKEN, ready=is_ready)
    assert (await router.handle("GET", "/healthz", None, b"")).status == 503
    ready = True
    assert (await router.handle("GET", "/healthz", None, b"")).status == 200


# The remote engine ----------------------------------------------------------------------------


async def test_a_whole_conversation_through_the_hop_matches_the_engine(
    remote: Remote, engine: InProcessEngine
) -> None:
    client = await remote()
    me = UserRef("console", "me")
    await client.set_consent(me, True)
    result = await client.respond(IncomingMessage(me, "오늘 팀장님한테 엄청 혼났어", update_id="1"))
    assert result.source is ReplySource.BANK and result.reply and result.emotion
    assert result.receipt is not None and result.receipt.emotion is not None
    assert await client.acknowledge(result.receipt) is True
    # A redelivery of the same update: already handled, nothing to send.
    again = await client.respond(IncomingMessage(me, "오늘 팀장님한테 엄청 혼났어", update_id="1"))
    assert again.source is ReplySource.DUPLICATE and again.reply == ""

    status = await client.user_status(me)
    assert status == UserStatus(known=True, consent=True, timezone=None)
    await client.set_timezone(me, "Asia/Tokyo")
    assert (await client.user_status(me)).timezone == "Asia/Tokyo"
    assert "21:00" in await client.set_checkin(me, "21:00")

    mood = await client.mood(me, weeks=2)
    assert isinstance(mood, MoodResult) and mood.chart_png.startswith(b"\x89PNG")
    assert mood.report.total == 1 and mood.report.weeks == 2
    assert mood.summary == (await engine.mood(me, weeks=2)).summary

    exported = await client.export(me)
    assert exported == await engine.export(me)
    assert len(exported["emotion_events"]) == 1 and exported["checkin"] == {"local_time": "21:00"}

    assert await client.forget(me) is True
    assert (await engine.export(me))["user"] is None


async def test_errors_keep_their_meaning_across_the_hop(remote: Remote) -> None:
    client = await remote()
    stranger = UserRef("telegram", "1")
    with pytest.raises(CheckinError) as caught:  # not before consent: the Korean answer as it is
        await client.set_checkin(stranger, "21:00")
    assert "동의" in str(caught.value)
    with pytest.raises(CheckinError):
        await client.set_timezone(stranger, "Mars/Olympus")


async def test_the_inbox_round_trips(remote: Remote) -> None:
    client = await remote()
    at = datetime.now(UTC)
    entries = [InboxEntry(str(i), f"telegram:{i}", f'{{"update_id": {i}}}', at) for i in range(3)]
    await client.inbox_add("telegram:bot", entries)
    await client.inbox_add("telegram:bot", entries[:1])  # held ones are kept as they are
    assert [e.entry_id for e in await client.inbox_pending("telegram:bot")] == ["0", "1", "2"]
    await client.inbox_done("telegram:bot", ["0", "2"])
    assert [e.entry_id for e in await client.inbox_pending("telegram:bot")] == ["1"]


async def test_a_crisis_gets_the_card_from_the_engine_when_it_is_up(remote: Remote) -> None:
    client = await remote()
    result = await client.respond(IncomingMessage(UserRef("telegram", "5"), "요즘 진짜 죽고 싶어"))
    assert result.source is ReplySource.CRISIS and result.reply == CRISIS_CARD
    # The engine saw it too: the person is in the heightened state there.
    after = await client.respond(IncomingMessage(UserRef("telegram", "5"), "그냥 오늘 피곤했어"))
    assert after.source is not ReplySource.CRISIS and "109" in after.reply


async def test_the_card_arrives_at_once_when_the_engine_is_down(remote: Remote, server: Server) -> None:
    client = await remote()
    await server.stop()
    loop = asyncio.get_running_loop()
    started = loop.time()
    result = await client.respond(IncomingMessage(UserRef("telegram", "6"), "다 끝내고 싶어 죽고 싶다"))
    assert result.source is ReplySource.CRISIS and result.reply == CRISIS_CARD
    assert loop.time() - started < 1.5  # connection refused: no retries, no waiting
    forwarded = IncomingMessage(UserRef("telegram", "6"), "친구가 죽고 싶대", forwarded=True)
    assert (await client.respond(forwarded)).reply == THIRD_PARTY_CARD
    card = await client.referral(UserRef("telegram", "6"))
    assert card.reply == CRISIS_CARD
    # An everyday message cannot be answered without the engine: one clear error, what to check.
    with pytest.raises(EngineUnavailableError) as caught:
        await client.respond(IncomingMessage(UserRef("telegram", "6"), "오늘 점심 뭐 먹지"))
    assert "maeum serve" in str(caught.value) and "MAEUM_ENGINE_URL" in str(caught.value)


async def test_the_card_waits_on_a_hanging_engine_only_a_moment(remote: Remote, server: Server) -> None:
    client = await remote(crisis_wait_s=0.5, timeout_s=30.0)
    server.hang = True
    loop = asyncio.get_running_loop()
    started = loop.time()
    result = await client.respond(IncomingMessage(UserRef("telegram", "7"), "오늘 죽으려고 약 모아놨어"))
    assert result.reply == CRISIS_CARD
    assert loop.time() - started < 2.0


async def test_harmless_calls_are_retried_through_503s(remote: Remote, server: Server) -> None:
    client = await remote(backoff_s=0.01)
    server.fail_next = 2
    result = await client.respond(IncomingMessage(UserRef("console", "me"), "주말에 등산 다녀왔어요"))
    assert result.reply and server.fail_next == 0
    server.fail_next = 10  # more than the retries: a clear error, not a hang
    with pytest.raises(EngineUnavailableError):
        await client.user_status(UserRef("console", "me"))


async def test_a_check_in_claim_is_never_sent_twice(remote: Remote, server: Server) -> None:
    client = await remote(backoff_s=0.01)
    server.fail_next = 1
    with pytest.raises(EngineUnavailableError):  # a claim's answer lost: not retried
        await client._call("claim_checkins", platforms=["telegram"], lease_s=60.0)
    assert sum(p == "/v1/claim_checkins" for p in server.requests) == 1


async def test_start_says_what_is_wrong(server: Server) -> None:
    with pytest.raises(EngineUnavailableError) as caught:
        await RemoteEngine(server.url, "not-the-token").start()
    assert "MAEUM_ENGINE_TOKEN" in str(caught.value)
    with pytest.raises(EngineUnavailableError) as missing:
        RemoteEngine(server.url, "")
    assert "MAEUM_ENGINE_TOKEN" in str(missing.value)
    await server.stop()
    with pytest.raises(EngineUnavailableError) as down:
        await RemoteEngine(server.url, TOKEN, ready_timeout_s=0.5).start()
    assert "did not answer" in str(down.value)


async def test_check_ins_are_claimed_and_sent_through_the_front_end(
    remote: Remote, engine: InProcessEngine
) -> None:
    person = UserRef("telegram", "8")
    await engine.set_consent(person, True)
    zone = await engine.zone_of(person)
    due = (datetime.now(UTC) - timedelta(minutes=1)).astimezone(zone)
    await engine.set_checkin(person, f"{due:%H:%M}")
    sent: list[UserRef] = []

    async def sender(user: UserRef, text: str) -> None:
        sent.append(user)

    first, second = await remote(checkin_every_s=3600), await remote(checkin_every_s=3600)
    # Registering starts each front-end's check-in loop: the two race for the same claim.
    first.register_checkin_sender("telegram", sender)
    second.register_checkin_sender("telegram", sender)
    await asyncio.wait_for(
        asyncio.wait(
            [asyncio.ensure_future(c.checkins_sent.wait()) for c in (first, second)],
            return_when=asyncio.FIRST_COMPLETED,
        ),
        10,
    )
    more = await asyncio.gather(*(c.checkins_once() for c in (first, second, first, second)))
    assert sent == [person] and not any(more)


async def test_no_message_text_in_any_log_on_either_side(
    remote: Remote, server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = await remote(backoff_s=0.01)
    me = UserRef("console", "me")
    result = await client.respond(IncomingMessage(me, SECRET_TEXT))
    assert result.receipt is not None
    await client.acknowledge(result.receipt)
    server.fail_next = 10
    with pytest.raises(EngineUnavailableError):
        await client.respond(IncomingMessage(me, SECRET_TEXT))
    await server.stop()
    await client.respond(IncomingMessage(me, f"{SECRET_TEXT} 죽고 싶어"))
    bad = dataclasses.replace(IncomingMessage(me, SECRET_TEXT))
    await server.router.handle("POST", "/v1/respond", f"Bearer {TOKEN}", repr(bad).encode())
    for record in caplog.records:
        assert "비밀스러운" not in record.getMessage()
        assert TOKEN not in record.getMessage()
