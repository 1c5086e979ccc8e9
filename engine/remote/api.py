"""The engine's HTTP API, version 1: every :class:`~engine.client.EngineClient` call as
``POST /v1/<call>`` with a JSON object of its arguments, answered ``{"result": …}`` or
``{"error": {"type", "message"}}``; ``GET /healthz`` says whether the models are loaded.

The router is plain Python over any engine (no web framework): the Ray Serve ingress
(``serving/``) hands it each request, and tests can host it anywhere. Bodies are never logged,
and error answers carry no exception text that could quote what someone wrote."""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from engine.client import MoodResult, UserStatus
from engine.errors import CheckinError, EngineClosedError, MaeumError, StoreUnavailableError
from engine.remote.codec import CodecError, decode, encode
from engine.types import ConversationResult, InboxEntry, IncomingMessage, Receipt, UserRef

log = logging.getLogger(__name__)

API_VERSION = "v1"
MAX_BODY_BYTES = 4 * 1024 * 1024  # a Telegram update is at most a few kB; the inbox sends batches

__all__ = ["API_VERSION", "CALLS", "ApiRouter", "Call", "Response"]


@dataclass(frozen=True)
class Call:
    """One API call: its arguments' types, its result's type, and whether a retry is harmless."""

    params: dict[str, Any]
    result: Any
    # Safe to send again when the answer was lost. Claims are not: a lost answer means the claim
    # was taken, and it expires on its own.
    idempotent: bool = True
    defaults: dict[str, Any] = field(default_factory=dict)


CALLS: dict[str, Call] = {
    "respond": Call({"message": IncomingMessage}, ConversationResult),
    "acknowledge": Call({"receipt": Receipt}, bool),
    "referral": Call({"user": UserRef}, ConversationResult),
    "inbox_add": Call({"channel": str, "entries": list[InboxEntry]}, None),
    "inbox_pending": Call({"channel": str}, list[InboxEntry]),
    "inbox_done": Call({"channel": str, "entry_ids": list[str]}, None),
    "user_status": Call({"user": UserRef}, UserStatus),
    "set_consent": Call({"user": UserRef, "granted": bool}, None),
    "set_timezone": Call({"user": UserRef, "zone": str}, None),
    "export": Call({"user": UserRef}, dict[str, Any]),
    "forget": Call({"user": UserRef}, bool),
    "mood": Call({"user": UserRef, "weeks": int}, MoodResult, defaults={"weeks": 1}),
    "set_checkin": Call({"user": UserRef, "when": str}, str),
    "claim_checkins": Call(
        {"platforms": list[str], "lease_s": float},
        list[UserRef],
        idempotent=False,
        defaults={"lease_s": 120.0},
    ),
    "checkin_sent": Call({"user": UserRef}, None),
}

# Errors that cross the hop by name, re-raised as the same class on the client.
ERRORS: dict[str, type[Exception]] = {
    "CheckinError": CheckinError,
    "StoreUnavailableError": StoreUnavailableError,
    "EngineClosedError": EngineClosedError,
    "MaeumError": MaeumError,
}


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    content_type: str = "application/json"


def _json(status: int, payload: Any) -> Response:
    return Response(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"))


def _error(status: int, kind: str, message: str) -> Response:
    return _json(status, {"error": {"type": kind, "message": message}})


class ApiRouter:
    """Answers API requests from ``engine`` (an engine with the EngineClient calls, plus
    ``claim_checkins``/``checkin_sent``). ``token`` must match the request's bearer token."""

    def __init__(
        self,
        engine: Any,
        token: str,
        ready: Callable[[], Awaitable[bool]] | None = None,
        transient: Callable[[BaseException], bool] = lambda exc: False,
    ) -> None:
        """``transient``: errors that mean "try again" (a model replica restarting), answered 503 so
        that clients retry, instead of 500."""
        if not token:
            raise ValueError("the engine API needs a token (MAEUM_ENGINE_TOKEN)")
        self.engine = engine
        self._token = token.encode("utf-8")
        self._ready = ready
        self._transient = transient

    def _authorized(self, header: str | None) -> bool:
        if not header or not header.startswith("Bearer "):
            return False
        return hmac.compare_digest(header[len("Bearer ") :].encode("utf-8"), self._token)

    async def handle(self, method: str, path: str, authorization: str | None, body: bytes) -> Response:
        path = path.rstrip("/") or "/"
        if path == "/healthz" and method == "GET":
            ready = True if self._ready is None else await self._ready()
            status = {"status": "ready" if ready else "starting", "api": API_VERSION}
            return _json(200 if ready else 503, status)
        prefix = f"/{API_VERSION}/"
        if not path.startswith(prefix):
            return _error(404, "NotFound", f"unknown path; this engine speaks /{API_VERSION}/<call>")
        if method != "POST":
            return _error(405, "MethodNotAllowed", "use POST")
        if not self._authorized(authorization):
            return _error(401, "Unauthorized", "missing or wrong bearer token (MAEUM_ENGINE_TOKEN)")
        name = path[len(prefix) :]
        call = CALLS.get(name)
        if call is None:
            return _error(404, "NotFound", f"unknown call {name!r}")
        if len(body) > MAX_BODY_BYTES:
            return _error(413, "TooLarge", f"request bodies are limited to {MAX_BODY_BYTES} bytes")
        try:
            raw = json.loads(body or b"{}")
            if not isinstance(raw, dict):
                raise CodecError("expected a JSON object of arguments")
            args = {**call.defaults, **raw}
            unknown = set(args) - set(call.params)
            if unknown:
                raise CodecError(f"unknown arguments {sorted(unknown)}")
            values = {p: decode(kind, args[p]) for p, kind in call.params.items() if p in args}
            missing = set(call.params) - set(values)
            if missing:
                raise CodecError(f"missing arguments {sorted(missing)}")
        except (ValueError, CodecError) as exc:  # json.JSONDecodeError is a ValueError
            return _error(400, "BadRequest", str(exc) if isinstance(exc, CodecError) else "not JSON")
        if name == "claim_checkins":
            values["lease"] = timedelta(seconds=values.pop("lease_s"))
        try:
            result = await getattr(self.engine, name)(**values)
        except CheckinError as exc:  # a Korean sentence for the person, shown as it is
            return _error(422, "CheckinError", str(exc))
        except MaeumError as exc:  # one sentence for an operator; says what to do next
            kind = type(exc).__name__ if type(exc).__name__ in ERRORS else "MaeumError"
            log.error("engine call %s failed: %s", name, type(exc).__name__)
            return _error(503, kind, str(exc))
        except Exception as exc:
            log.error("engine call %s failed: %s", name, type(exc).__name__)
            if self._transient(exc):
                return _error(503, "Unavailable", f"try again ({type(exc).__name__})")
            return _error(500, "InternalError", f"the engine failed ({type(exc).__name__}); see its log")
        return _json(200, {"result": encode(result)})
