"""``RemoteEngine``: the :class:`~engine.client.EngineClient` of a front-end whose engine runs
elsewhere (``maeum serve``, on Ray Serve). Adapters cannot tell it from the in-process engine.

What it adds to a plain HTTP client:
- the crisis card does not depend on the engine: every message is screened here first (the same
  rules and classifier, ~1 ms), and when the engine is down or slow the card is sent from here;
- retries with backoff and jitter, only where a second request is harmless (see ``CALLS``);
- one clear error (:class:`EngineUnavailableError`) that says what to check;
- check-ins: due ones are claimed from the engine's database and sent through this process's
  platform senders, so two front-ends never send the same one.
Nothing here logs message text: calls are logged by name, failures by exception type."""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from engine.client import MoodResult, UserStatus
from engine.conversation.first import screen_message
from engine.errors import CheckinError, EngineUnavailableError, MaeumError
from engine.mood import Sender
from engine.mood.checkins import CHECKIN_MESSAGE
from engine.remote.api import API_VERSION, CALLS, ERRORS
from engine.remote.codec import CodecError, decode, encode
from engine.safety import CrisisScreen
from engine.types import ConversationResult, InboxEntry, IncomingMessage, Receipt, ReplySource, UserRef

log = logging.getLogger(__name__)

__all__ = ["RemoteEngine"]

RETRY_STATUS = {502, 503, 504}


class RemoteEngine:
    def __init__(
        self,
        url: str,
        token: str,
        *,
        screen: CrisisScreen | None = None,
        timeout_s: float = 15.0,
        retries: int = 3,
        backoff_s: float = 0.2,
        crisis_wait_s: float = 2.0,
        ready_timeout_s: float = 60.0,
        checkin_every_s: float = 30.0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not token:
            raise EngineUnavailableError(
                "MAEUM_ENGINE_URL is set but MAEUM_ENGINE_TOKEN is not: set it to the same secret as on "
                "the `maeum serve` side."
            )
        self.url = url.rstrip("/")
        self._token = token
        # Not `screen or ...`: an empty screen has len() 0 and would read as false.
        self.screen = screen if screen is not None else CrisisScreen()
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s
        self.crisis_wait_s = crisis_wait_s
        self.ready_timeout_s = ready_timeout_s
        self.checkin_every_s = checkin_every_s
        self.clock = clock
        self._transport = transport
        self._http: httpx.AsyncClient | None = None
        self._senders: dict[str, Sender] = {}
        self._checkins: asyncio.Task[None] | None = None
        self._never: asyncio.Future[MaeumError] | None = None
        self.checkins_sent = asyncio.Event()  # set after a round that sent one (tests, health)

    def _unreachable(self, what: str) -> EngineUnavailableError:
        return EngineUnavailableError(
            f"The maeum engine at {self.url} {what}. Check that `maeum serve` is running there and that "
            "MAEUM_ENGINE_URL points at it."
        )

    # Life cycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Wait (up to ``ready_timeout_s``) until the engine answers and its models are loaded."""
        self._http = httpx.AsyncClient(
            base_url=self.url,
            timeout=self.timeout_s,
            headers={"Authorization": f"Bearer {self._token}"},
            transport=self._transport,
            trust_env=False,  # a proxy from the environment must not see the engine's traffic
        )
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.ready_timeout_s
        last = "did not answer"
        while True:
            try:
                answer = await self._http.get("/healthz")
                status = answer.json()
                if status.get("api") != API_VERSION:
                    raise EngineUnavailableError(
                        f"The maeum engine at {self.url} speaks API {status.get('api')!r}, this front-end "
                        f"{API_VERSION!r}: run the same maeum version on both sides."
                    )
                if answer.status_code == 200:
                    break
                last = "is still loading its models"
            except (httpx.HTTPError, ValueError) as exc:
                last = f"did not answer ({type(exc).__name__})"
            if loop.time() >= deadline:
                await self._http.aclose()
                raise self._unreachable(f"{last} after {self.ready_timeout_s:.0f} s")
            await asyncio.sleep(0.5)
        # A wrong token is a setup error: say so at start, not on the first message.
        await self._call("user_status", user=UserRef("maeum", "healthcheck"))
        if self._senders:
            self._start_checkins()

    async def close(self) -> None:
        if self._checkins is not None:
            self._checkins.cancel()
            await asyncio.gather(self._checkins, return_exceptions=True)
        if self._http is not None:
            await self._http.aclose()

    async def failure(self) -> MaeumError:
        """Engine-side failures reach each call as an error; this front-end itself never fails."""
        if self._never is None:
            self._never = asyncio.get_running_loop().create_future()
        return await asyncio.shield(self._never)

    # The hop ------------------------------------------------------------------------------

    async def _call(self, name: str, *, retry: bool = True, **args: Any) -> Any:
        if self._http is None:
            raise EngineUnavailableError("the remote engine client was not started (call start() first)")
        call = CALLS[name]
        body = json.dumps({k: encode(v) for k, v in args.items()}, ensure_ascii=False).encode("utf-8")
        attempts = 1 + (self.retries if retry else 0)
        problem = "did not answer"
        for attempt in range(attempts):
            if attempt:
                await asyncio.sleep(self.backoff_s * 2 ** (attempt - 1) * random.uniform(0.5, 1.5))
            try:
                answer = await self._http.post(
                    f"/{API_VERSION}/{name}", content=body, headers={"Content-Type": "application/json"}
                )
            except httpx.ConnectError as exc:  # nothing was sent: always safe to try again
                problem = f"could not be reached ({type(exc).__name__})"
                continue
            except httpx.HTTPError as exc:  # sent, answer lost: again only if harmless
                problem = f"did not answer in time ({type(exc).__name__})"
                if call.idempotent:
                    continue
                break
            if answer.status_code in RETRY_STATUS and call.idempotent and attempt + 1 < attempts:
                problem = f"answered {answer.status_code}"
                continue
            return self._result(name, call.result, answer)
        log.warning("engine call %s failed after %d attempt(s)", name, attempts)
        raise self._unreachable(problem)

    def _result(self, name: str, kind: Any, answer: httpx.Response) -> Any:
        try:
            payload = answer.json()
        except ValueError:
            raise self._unreachable(f"answered {answer.status_code} without JSON") from None
        if answer.status_code == 200:
            try:
                return None if kind is None else decode(kind, payload["result"])
            except (CodecError, KeyError, TypeError):
                raise self._unreachable(f"sent a {name} answer this version cannot read") from None
        error = payload.get("error") if isinstance(payload, dict) else None
        error = error if isinstance(error, dict) else {}
        kind_name, message = str(error.get("type", "")), str(error.get("message", ""))
        if answer.status_code == 401:
            raise EngineUnavailableError(
                f"The maeum engine at {self.url} refused this front-end's token: set MAEUM_ENGINE_TOKEN to "
                "the same secret on both sides."
            )
        if kind_name == "CheckinError":
            raise CheckinError(message)
        error_class = ERRORS.get(kind_name)
        if error_class is not None and issubclass(error_class, MaeumError):
            raise error_class(message)
        raise self._unreachable(f"answered {answer.status_code} ({kind_name or 'no error type'})")

    # EngineClient -------------------------------------------------------------------------

    async def respond(self, message: IncomingMessage) -> ConversationResult:
        now = message.received_at or self.clock()
        _, card = screen_message(self.screen, message, now)
        if card is None:
            result: ConversationResult = await self._call("respond", message=message)
            return result
        # A crisis: the engine is asked too (it keeps the heightened state and the count), but the
        # card never waits on it for more than a moment, and never depends on it.
        try:
            remote: ConversationResult = await asyncio.wait_for(
                self._call("respond", retry=False, message=message), self.crisis_wait_s
            )
        except (MaeumError, TimeoutError) as exc:
            log.warning("crisis card sent without the engine: %s", type(exc).__name__)
            return card
        return remote if remote.source is ReplySource.CRISIS else card

    async def acknowledge(self, receipt: Receipt) -> bool:
        stored: bool = await self._call("acknowledge", receipt=receipt)
        return stored

    async def referral(self, user: UserRef) -> ConversationResult:
        try:
            result: ConversationResult = await self._call("referral", user=user)
            return result
        except MaeumError:  # the card on request never depends on the engine either
            from engine.safety import CRISIS_CARD

            return ConversationResult(reply=CRISIS_CARD, source=ReplySource.CRISIS)

    async def inbox_add(self, channel: str, entries: list[InboxEntry]) -> None:
        await self._call("inbox_add", channel=channel, entries=entries)

    async def inbox_pending(self, channel: str) -> list[InboxEntry]:
        pending: list[InboxEntry] = await self._call("inbox_pending", channel=channel)
        return pending

    async def inbox_done(self, channel: str, entry_ids: list[str]) -> None:
        await self._call("inbox_done", channel=channel, entry_ids=entry_ids)

    async def user_status(self, user: UserRef) -> UserStatus:
        status: UserStatus = await self._call("user_status", user=user)
        return status

    async def set_consent(self, user: UserRef, granted: bool) -> None:
        await self._call("set_consent", user=user, granted=granted)

    async def set_timezone(self, user: UserRef, zone: str) -> None:
        await self._call("set_timezone", user=user, zone=zone)

    async def export(self, user: UserRef) -> dict[str, Any]:
        data: dict[str, Any] = await self._call("export", user=user)
        return data

    async def forget(self, user: UserRef) -> bool:
        self.screen.forget(user.key)  # this front-end's recent short messages go too
        deleted: bool = await self._call("forget", user=user)
        return deleted

    async def mood(self, user: UserRef, weeks: int = 1) -> MoodResult:
        result: MoodResult = await self._call("mood", user=user, weeks=weeks)
        return result

    async def set_checkin(self, user: UserRef, when: str) -> str:
        answer: str = await self._call("set_checkin", user=user, when=when)
        return answer

    # Check-ins ----------------------------------------------------------------------------

    def register_checkin_sender(self, platform: str, sender: Sender) -> None:
        self._senders[platform] = sender
        if self._http is not None:
            self._start_checkins()

    def _start_checkins(self) -> None:
        if self._checkins is None or self._checkins.done():
            self._checkins = asyncio.create_task(self._checkin_loop())

    async def checkins_once(self) -> list[UserRef]:
        """Claim the due check-ins for this front-end's platforms and send them; returns whom."""
        if not self._senders:
            return []
        claimed: list[UserRef] = await self._call(
            "claim_checkins", platforms=sorted(self._senders), lease_s=120.0
        )
        sent = []
        for user in claimed:
            sender = self._senders.get(user.platform)
            if sender is None:
                continue
            try:
                await sender(user, CHECKIN_MESSAGE)
            except Exception as exc:  # the claim runs out and another round sends it
                log.error("check-in could not be sent on %s: %s", user.platform, type(exc).__name__)
                continue
            await self._call("checkin_sent", user=user)
            sent.append(user)
        if sent:
            self.checkins_sent.set()
        return sent

    async def _checkin_loop(self) -> None:
        while True:
            try:
                await self.checkins_once()
            except Exception as exc:
                log.error("check-in round failed: %s", type(exc).__name__)
            await asyncio.sleep(self.checkin_every_s)
