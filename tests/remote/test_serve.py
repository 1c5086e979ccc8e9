"""``maeum serve`` for real: a local Ray on this machine, the Serve application (two ingress
replicas, model replicas autoscaled from one) on the bundled models and PostgreSQL, and two
front-ends (``RemoteEngine``, as ``maeum run`` builds them) in front of it.

Ray's own components talk over this host's interface address (Ray does not bind its node to
loopback); the engine's HTTP API listens on 127.0.0.1 and nothing leaves the machine."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from engine.mood import Sender
from engine.remote.client import RemoteEngine
from engine.safety import CRISIS_CARD, HEIGHTENED_REPLY_SUFFIX
from engine.types import IncomingMessage, ReplySource, UserRef
from tests.conftest import REPO, _reset_postgres, postgres_url, require_ray

require_ray()
pytestmark = pytest.mark.ray

TOKEN = "serve-test-token-5b9f0c"
MAEUM = str(Path(sys.executable).with_name("maeum"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = postgres_url()
    if url is None:  # replicas share SQLite's WAL file just as well on one machine
        yield f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('serve') / 'maeum.db'}"
        return
    _reset_postgres(url)
    yield url
    _reset_postgres(url)


@pytest.fixture(scope="module")
def served(database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    home = tmp_path_factory.mktemp("serve-home")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MAEUM_")},
        "MAEUM_ENGINE_TOKEN": TOKEN,
        "MAEUM_DATABASE_URL": database,
        "MAEUM_DATA_DIR": str(home),
        "MAEUM_SERVE_INGRESS_REPLICAS": "2",
        "MAEUM_SERVE_MIN_REPLICAS": "1",
        "MAEUM_SERVE_MAX_REPLICAS": "2",
        "MAEUM_CHECKIN_QUIET_HOURS": "none",  # the test runs at any hour
        "RAY_USAGE_STATS_ENABLED": "0",
    }
    log = (home / "serve.log").open("w")
    process = subprocess.Popen(
        [MAEUM, "serve", "--port", str(port), "--num-cpus", "2", "--model-cpus", "0.5"],
        cwd=home,  # not the repository: the settings must reach the replicas without its .env
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    while "engine ready at" not in (home / "serve.log").read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            tail = (home / "serve.log").read_text(errors="replace")[-3000:]
            pytest.fail(f"maeum serve did not become ready:\n{tail}")
        time.sleep(0.5)
    yield f"http://127.0.0.1:{port}"
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    log.close()


@pytest.fixture
async def front_ends(served: str) -> AsyncIterator[tuple[RemoteEngine, RemoteEngine]]:
    a = RemoteEngine(served, TOKEN, checkin_every_s=3600, retries=6, backoff_s=0.5)
    b = RemoteEngine(served, TOKEN, checkin_every_s=3600, retries=6, backoff_s=0.5)
    await a.start()
    await b.start()
    yield a, b
    await a.close()
    await b.close()


async def test_two_front_ends_answer_everyone_exactly_once(
    front_ends: tuple[RemoteEngine, RemoteEngine],
) -> None:
    a, b = front_ends
    people = [UserRef("telegram", f"p{i}") for i in range(12)]
    for person in people:
        await (a if int(person.user_id[1:]) % 2 else b).set_consent(person, True)
    texts = ["오늘 팀장님한테 혼났어", "주말에 친구랑 맛집 다녀왔어요", "요즘 잠이 잘 안 와요"]

    async def say(i: int, person: UserRef, j: int) -> ReplySource:
        front = (a, b)[(i + j) % 2]  # any replica may get a person's next message
        result = await front.respond(IncomingMessage(person, texts[j], update_id=f"{person.user_id}-{j}"))
        assert result.reply and result.receipt is not None
        await front.acknowledge(result.receipt)
        return result.source

    sources = await asyncio.gather(*(say(i, p, j) for i, p in enumerate(people) for j in range(3)))
    assert ReplySource.FALLBACK not in sources and ReplySource.DUPLICATE not in sources
    # Telegram retrying a delivery to the other replica: answered once, nothing sent again.
    again = await a.respond(IncomingMessage(people[0], texts[0], update_id="p0-0"))
    assert again.source is ReplySource.DUPLICATE and again.reply == ""
    for person in people:
        exported = await b.export(person)
        assert len(exported["emotion_events"]) == 3


async def test_a_crisis_on_one_front_end_heightens_the_person_on_the_other(
    front_ends: tuple[RemoteEngine, RemoteEngine],
) -> None:
    a, b = front_ends
    for i in range(6):  # several people: the requests spread over both ingress replicas
        person = UserRef("discord", f"c{i}")
        card = await a.respond(IncomingMessage(person, "요즘 진짜 죽고 싶다는 생각만 들어"))
        assert card.source is ReplySource.CRISIS and card.reply == CRISIS_CARD
        later = await b.respond(IncomingMessage(person, "아니야 그냥 피곤해서 그랬어"))
        assert later.source is not ReplySource.CRISIS
        assert HEIGHTENED_REPLY_SUFFIX in later.reply


async def test_a_check_in_due_once_is_sent_once_with_two_schedulers(
    front_ends: tuple[RemoteEngine, RemoteEngine],
) -> None:
    a, b = front_ends
    person = UserRef("telegram", "checkin-1")
    await a.set_consent(person, True)
    local = (datetime.now(UTC) - timedelta(minutes=1)).astimezone(ZoneInfo("Asia/Seoul"))  # the default
    await a.set_checkin(person, f"{local:%H:%M}")
    sent: list[tuple[str, UserRef]] = []

    def sender(name: str) -> Sender:
        async def send(user: UserRef, text: str) -> None:
            sent.append((name, user))

        return send

    a.register_checkin_sender("telegram", sender("a"))
    b.register_checkin_sender("telegram", sender("b"))
    done = [asyncio.ensure_future(c.checkins_sent.wait()) for c in (a, b)]
    await asyncio.wait_for(asyncio.wait(done, return_when=asyncio.FIRST_COMPLETED), 30)
    rounds = await asyncio.gather(*(c.checkins_once() for c in (a, b, a, b)))
    for task in done:
        task.cancel()
    assert [user for _, user in sent] == [person] and not any(rounds)


def _model_replica_pids() -> list[int]:
    found = subprocess.run(["pgrep", "-f", "ServeReplica:maeum:models"], capture_output=True, text=True)
    return [int(p) for p in found.stdout.split()]


async def test_killing_a_model_replica_mid_load_loses_no_message(
    front_ends: tuple[RemoteEngine, RemoteEngine],
) -> None:
    a, b = front_ends
    [victim, *_] = _model_replica_pids() or pytest.fail("no model replica process found")
    people = [UserRef("telegram", f"k{i}") for i in range(24)]

    async def say(i: int, person: UserRef) -> ReplySource:
        await asyncio.sleep(0.05 * i)  # spread over the kill
        result = await (a, b)[i % 2].respond(IncomingMessage(person, "오늘 하루 너무 길었어요"))
        assert result.reply
        return result.source

    load = asyncio.gather(*(say(i, p) for i, p in enumerate(people)))
    await asyncio.sleep(0.3)
    os.kill(victim, signal.SIGKILL)
    sources = await asyncio.wait_for(load, 120)
    # Every message answered, none with the "something went wrong" apology: the calls that were
    # on the dead replica came back 503 and the front-ends sent them again.
    assert len(sources) == len(people) and ReplySource.FALLBACK not in sources
    assert victim not in _model_replica_pids()


def test_maeum_chat_talks_to_the_served_engine(served: str, tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MAEUM_")},
        "MAEUM_ENGINE_URL": served,
        "MAEUM_ENGINE_TOKEN": TOKEN,
        "MAEUM_DATA_DIR": str(tmp_path),  # nothing may be written here: the engine owns the store
    }
    done = subprocess.run(
        [MAEUM, "chat", "--json", "--user", "remote-console"],
        input="주말에 등산 다녀왔는데 너무 상쾌했어요\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    [line] = [json.loads(x) for x in done.stdout.splitlines() if x.startswith("{")]
    assert line["reply"] and line["source"] in ("bank", "reflective")
    assert not list(tmp_path.iterdir())


async def test_two_telegram_replicas_on_the_served_engine(served: str, tmp_path: Path) -> None:
    """The real Telegram adapter, twice (webhook replicas behind one URL), each over its own
    RemoteEngine, against the fake Bot API: a crisis on A, the next message on B in the heightened
    state, Telegram's retry of an update to the other replica not answered again."""
    from bot.telegram_bot import TelegramRunner
    from tests.bot.test_telegram import TOKEN as BOT_TOKEN
    from tests.bot.test_telegram import buttons, free_port, make_settings, to
    from tests.fakes.telegram_server import FakeTelegramServer, text_update

    server = FakeTelegramServer(BOT_TOKEN)
    await server.start()
    public = f"http://127.0.0.1:{free_port()}/maeum/telegram"
    runners: list[tuple[TelegramRunner, RemoteEngine, str]] = []
    try:
        for _ in range(2):
            port = free_port()
            settings = make_settings(
                server,
                tmp_path,
                telegram_webhook_url=public,
                telegram_webhook_port=port,
                telegram_webhook_secret="replica-secret",
            )
            front = RemoteEngine(served, TOKEN, retries=6, backoff_s=0.5)
            await front.start()
            runner = TelegramRunner(front, settings)
            await runner.start()
            runners.append((runner, front, f"http://127.0.0.1:{port}/maeum/telegram"))
        (_, _, url_a), (_, _, url_b) = runners
        person = 424242

        def answers() -> list[str]:
            calls = server.calls_to("sendMessage")
            return [str(c.params["text"]) for c in calls if to(person)(c) and not buttons(c)]

        crisis = {**text_update(person, "요즘 계속 죽고 싶다는 생각이 들어요"), "update_id": 9001}
        assert await server.deliver_webhook(crisis, url=url_a) == 200
        assert "109" in answers()[0]
        later = {**text_update(person, "그냥 오늘 좀 피곤해서 그랬어요"), "update_id": 9002}
        assert await server.deliver_webhook(later, url=url_b) == 200
        assert HEIGHTENED_REPLY_SUFFIX in answers()[1]
        # Telegram's retry of B's update, on A: already handled, nothing sent. (A redelivered
        # crisis message would get the card again, by design: the card comes before any lookup.)
        assert await server.deliver_webhook(later, url=url_a) == 200
        await server.wait_idle("sendMessage")
        assert len(answers()) == 2
    finally:
        for runner, front, _ in runners:
            await runner.stop()
            await front.close()
        await server.close()


async def test_discord_and_telegram_front_ends_share_the_served_engine(
    served: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two front-end processes on the served engine, built from settings as ``maeum run`` builds
    them (``build_client``: a RemoteEngine for ``MAEUM_ENGINE_URL``): the first runs Discord
    (``maeum run discord``), the second Telegram and the same Discord bot on one RemoteEngine
    (``maeum run all``: a second instance, as in a rolling deploy). The real adapters against the
    fake Discord REST API and the fake Bot API, on the engine's PostgreSQL: every DM, /talk and
    Telegram message answered exactly once on its platform and recorded once; a DM the gateway
    gives both instances answered once; a crisis DM on the first makes the same person's next
    /talk on the second carry the heightened-state suffix."""
    import discord
    from pydantic import SecretStr

    from bot import texts
    from bot.compose import build_client, build_discord, build_telegram
    from bot.discord_bot import MaeumDiscordBot
    from engine.conversation.service import MODEL_FAILURE_REPLY
    from tests.bot import test_discord as dc
    from tests.bot import test_telegram as tg
    from tests.fakes import network
    from tests.fakes.discord_server import FakeDiscordServer, dm_message, slash
    from tests.fakes.eventually import eventually
    from tests.fakes.telegram_server import FakeTelegramServer, text_update

    guard = network.install(monkeypatch)  # this process reaches loopback only
    discord_api, telegram_api = FakeDiscordServer(dc.TOKEN), FakeTelegramServer(tg.TOKEN)
    await discord_api.start()
    await telegram_api.start()
    monkeypatch.setattr(discord.http.Route, "BASE", discord_api.api_base)  # restored afterwards
    remote: dict[str, Any] = {"engine_url": served, "engine_token": SecretStr(TOKEN)}
    discord_settings = dc.make_settings(discord_api, tmp_path, **remote)
    engine_1 = build_client(discord_settings)
    engine_2 = build_client(tg.make_settings(telegram_api, tmp_path, **remote))
    assert isinstance(engine_1, RemoteEngine) and isinstance(engine_2, RemoteEngine)
    sources: list[tuple[str, ReplySource]] = []  # what the engine answered, message by message

    def watched(front: RemoteEngine) -> None:
        real = front.respond

        async def respond(message: IncomingMessage) -> Any:
            result = await real(message)  # the real call; only its source is noted
            sources.append((message.user.key, result.source))
            return result

        monkeypatch.setattr(front, "respond", respond)

    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(telegram_api.close)
        stack.push_async_callback(discord_api.close)
        for front in (engine_1, engine_2):
            watched(front)
            await front.start()
            stack.push_async_callback(front.close)
        runner = build_telegram(tg.make_settings(telegram_api, tmp_path, **remote), engine_2)
        stack.push_async_callback(runner.stop)
        await runner.start()
        first, second = build_discord(discord_settings, engine_1), build_discord(discord_settings, engine_2)
        for bot in (first, second):
            await dc.logged_in(await stack.enter_async_context(bot))

        people = [UserRef("discord", str(320000000000000000 + i)) for i in range(4)]
        chats = [UserRef("telegram", str(6100 + i)) for i in range(4)]
        careful = [UserRef("discord", str(330000000000000000 + i)) for i in range(3)]  # a crisis first
        await asyncio.gather(*(engine_1.set_consent(p, True) for p in people + chats + careful))  # no prompts

        def dm(bot: MaeumDiscordBot, person: UserRef, text: str) -> dict[str, Any]:
            payload = dm_message(int(person.user_id), text)
            bot._connection.parse_message_create(payload)  # type: ignore[arg-type]
            return payload

        def talk(bot: MaeumDiscordBot, person: UserRef, text: str) -> dict[str, Any]:
            return dc.deliver(bot, discord_api, slash("talk", int(person.user_id), message=text))

        def in_dm(person: UserRef) -> Any:
            return lambda call: call.match["channel"] == str(int(person.user_id) + 1)  # dm_message's

        # Everyone at once; either instance may get a person's next message.
        dms: list[tuple[MaeumDiscordBot, dict[str, Any]]] = []
        talks: list[dict[str, Any]] = []
        for i, person in enumerate(people):
            dm_bot, talk_bot = (first, second) if i % 2 else (second, first)
            dms.append((dm_bot, dm(dm_bot, person, "오늘 팀장님한테 혼났어")))
            talks.append(talk(talk_bot, person, "요즘 잠이 잘 안 와요"))
        for i, person in enumerate(chats):  # update ids of their own: this module shares one database
            for j, said in enumerate(["주말에 친구랑 맛집 다녀왔어요", "비가 와서 우산을 챙겼어"]):
                update = {**text_update(int(person.user_id), said), "update_id": 7000 + 10 * i + j}
                await telegram_api.queue_update(update)
        for person in people:
            await discord_api.wait_for(dc.CHANNEL_MESSAGE, in_dm(person), within=30)
        for payload in talks:
            await discord_api.wait_for(dc.FOLLOWUP, dc.token_of(payload), within=30)
        for person in chats:
            await telegram_api.wait_for("sendMessage", tg.to(int(person.user_id)), count=2, within=30)
        for person in people + chats:  # each message recorded once, after its reply went out
            await eventually(
                functools.partial(engine_2.export, person), lambda d: len(d["emotion_events"]) == 2
            )
        assert all(source not in (ReplySource.FALLBACK, ReplySource.DUPLICATE) for _, source in sources)

        # The gateway gives one DM to both instances (old and new process during a deploy): the
        # other one finds it handled in the database and sends nothing.
        dm_bot, payload = dms[0]
        other = second if dm_bot is first else first
        other._connection.parse_message_create(payload)  # type: ignore[arg-type]

        async def noted() -> list[tuple[str, ReplySource]]:
            return sources

        await eventually(noted, lambda seen: (people[0].key, ReplySource.DUPLICATE) in seen)

        # A crisis on the first instance; the same person's next /talk on the second.
        for person in careful:
            dm(first, person, "요즘 진짜 죽고 싶다는 생각만 들어")
        later: list[dict[str, Any]] = []
        for person in careful:
            [card] = await discord_api.wait_for(dc.CHANNEL_MESSAGE, in_dm(person), within=30)
            assert card.json["content"] == CRISIS_CARD
            # The state is written to the database just after the card (which never waits on it);
            # a person's next message comes seconds later. Wait for the row, not for a while.
            await eventually(functools.partial(engine_2.export, person), lambda d: "heightened" in d)
            later.append(talk(second, person, "아니야 그냥 피곤해서 그랬어"))
        for payload in later:
            [reply] = await discord_api.wait_for(dc.FOLLOWUP, dc.token_of(payload), within=30)
            assert HEIGHTENED_REPLY_SUFFIX in reply.json["content"]

        # Exactly one reply per message, on its platform; nothing else was sent.
        await discord_api.wait_idle()
        await telegram_api.wait_idle("sendMessage")
        messages, follow_ups = discord_api.calls_to(dc.CHANNEL_MESSAGE), discord_api.calls_to(dc.FOLLOWUP)
        for person in people + careful:
            assert len([c for c in messages if in_dm(person)(c)]) == 1
        for payload in talks + later:
            assert len([c for c in follow_ups if dc.token_of(payload)(c)]) == 1
            [deferred] = [c for c in discord_api.calls_to(dc.CALLBACK) if dc.token_of(payload)(c)]
            assert deferred.json["type"] == 5  # "maeum is thinking…", then the follow-up
        assert len(messages) == len(people + careful) and len(follow_ups) == len(talks + later)
        telegram_sent = telegram_api.calls_to("sendMessage")
        assert len(telegram_sent) == 2 * len(chats) and not any(tg.buttons(c) for c in telegram_sent)
        assert {str(c.params["chat_id"]) for c in telegram_sent} == {p.user_id for p in chats}
        replies = [str(c.json["content"]) for c in messages + follow_ups]
        replies += [c.params["text"] for c in telegram_sent]
        assert all(r.strip() and r not in (texts.SOMETHING_WENT_WRONG, MODEL_FAILURE_REPLY) for r in replies)
    assert all(url.startswith(discord_api.api_base + "/") for url in discord_api.requested_urls)
    assert all(url.startswith(telegram_api.base_url + "/bot") for url in telegram_api.requested_urls)
    assert guard.refused == [], f"tried to reach the network: {guard.refused}"
