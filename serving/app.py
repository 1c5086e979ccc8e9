"""maeum's engine as a Ray Serve application: ``maeum serve``, or ``serve run serving.app:build_app``
(KubeRay's ``import_path``).

Two deployments:
- ``Models``: the models (``ModelSet``, exactly as in-process), one thread per replica owning them,
  ``@serve.batch`` dynamic batching with the in-process worker's batch size and window, one GPU per
  replica when CUDA is present, autoscaled between ``MAEUM_SERVE_MIN/MAX_REPLICAS``.
- ``Ingress``: the HTTP front door. It runs the same ``InProcessEngine`` (reply policy, crisis
  screen, store on PostgreSQL) with the ``Models`` replicas as its backend, and answers the
  versioned JSON API of ``engine.remote.api``. Its replicas keep no per-person state that matters
  across messages (that lives in the database), so any replica can take any request.

Settings come from ``MAEUM_*`` environment variables on every node, as for ``maeum run``."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ray import serve
from ray.exceptions import ActorDiedError, ActorUnavailableError, RayActorError
from ray.serve.exceptions import BackPressureError, DeploymentUnavailableError, ReplicaUnavailableError
from ray.serve.handle import DeploymentHandle
from starlette.requests import Request
from starlette.responses import Response

from engine.client import WorkerInference
from engine.errors import EngineUnavailableError
from engine.inference import GenerationRequest, ModelSet
from engine.settings import Settings

log = logging.getLogger("maeum.serving")

# Errors that mean "a replica is gone or busy", not "the model failed on this input".
TRANSIENT: tuple[type[BaseException], ...] = (
    ActorDiedError,
    ActorUnavailableError,
    RayActorError,
    BackPressureError,
    DeploymentUnavailableError,
    ReplicaUnavailableError,
)

__all__ = ["HandleWorker", "Ingress", "Models", "build_app"]


def _cuda() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


@serve.deployment(name="models", max_ongoing_requests=64)
class Models:
    """The model replica. Calls from every ingress replica queue into one batch per kind."""

    def __init__(self, batch_size: int = 16, batch_window_s: float = 0.0) -> None:
        from bot.compose import model_config

        settings = Settings()
        self.models = ModelSet(model_config(settings))
        # One thread owns the models (and any CUDA context), as in-process: torch on a second
        # thread runs measurably slower (docs/performance.md).
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="maeum-models")

        def load() -> Any:
            if settings.threads and self.models.needs_torch:
                import torch

                torch.set_num_threads(settings.threads)
            return self.models.load()

        self.handlers = self._pool.submit(load).result()
        # The in-process worker's batch size and window (the decorators' values are placeholders).
        for method in (self.emotion, self.match, self.intent, self.reply):
            batched: Any = method
            batched.set_max_batch_size(batch_size)
            batched.set_batch_wait_timeout_s(batch_window_s)
        self.batches = 0
        self.largest_batch = 0
        self._lock = threading.Lock()

    def kinds(self) -> list[str]:
        return sorted(self.handlers)

    def stats(self) -> dict[str, int]:
        return {"batches": self.batches, "largest_batch": self.largest_batch}

    async def _run(self, kind: str, items: list[Any]) -> list[Any]:
        with self._lock:
            self.batches += 1
            self.largest_batch = max(self.largest_batch, len(items))
        try:
            results: list[Any] = await asyncio.get_running_loop().run_in_executor(
                self._pool, self.handlers[kind], items
            )
        except Exception as exc:
            # Type only, and a fresh exception: Ray logs the error it carries back, and the original
            # message could quote the input text.
            log.error("%s batch of %d failed: %s", kind, len(items), type(exc).__name__)
            raise RuntimeError(f"the {kind} model failed ({type(exc).__name__})") from None
        return results

    @serve.batch(max_batch_size=16, batch_wait_timeout_s=0.0)
    async def emotion(self, texts: list[str]) -> list[Any]:
        return await self._run("emotion", texts)

    @serve.batch(max_batch_size=16, batch_wait_timeout_s=0.0)
    async def match(self, texts: list[str]) -> list[Any]:
        return await self._run("match", texts)

    @serve.batch(max_batch_size=16, batch_wait_timeout_s=0.0)
    async def intent(self, texts: list[str]) -> list[Any]:
        return await self._run("intent", texts)

    @serve.batch(max_batch_size=16, batch_wait_timeout_s=0.0)
    async def reply(self, requests: list[GenerationRequest]) -> list[Any]:
        return await self._run("reply", requests)


class HandleWorker:
    """The in-process worker's interface (``kinds``, ``submit``) over the ``Models`` deployment,
    so the engine's ``WorkerInference`` runs unchanged on top of it."""

    def __init__(self, handle: DeploymentHandle) -> None:
        self.handle = handle
        self._kinds: frozenset[str] = frozenset()

    @property
    def kinds(self) -> frozenset[str]:
        return self._kinds

    async def start(self) -> None:
        self._kinds = frozenset(await self.handle.kinds.remote())

    async def stop(self) -> None:
        return None

    async def submit(self, kind: str, payload: Any) -> Any:
        if kind not in self._kinds:
            raise KeyError(f"no model for {kind!r}")
        try:
            return await getattr(self.handle, kind).remote(payload)
        except TRANSIENT as exc:
            # A replica died or is restarting: an engine error, so the service does not answer with
            # an apology, the API answers 503 and the front-end sends the message again.
            raise EngineUnavailableError(f"a model replica is unavailable ({type(exc).__name__})") from None


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, TRANSIENT)


class ServeInference(WorkerInference):
    """``WorkerInference`` over the model replicas; intent answers are read here (they are text the
    ingress picks from, not a model)."""

    def __init__(self, worker: HandleWorker, models: ModelSet) -> None:
        super().__init__(worker, models)
        self._answers: dict[str, list[str]] = {}
        if models.config.intent:
            path = Path(models.config.intent) / "answers.json"
            if path.exists():
                raw = json.loads(path.read_text(encoding="utf-8"))
                self._answers = {str(k): [str(a) for a in v] for k, v in raw.items() if v}

    def intent_answer(self, category: str, rng: random.Random) -> str | None:
        options = self._answers.get(category)
        return rng.choice(options) if options else None


@serve.deployment(name="ingress", max_ongoing_requests=256)
class Ingress:
    def __init__(self, models: DeploymentHandle) -> None:
        from bot.compose import build_engine, model_config
        from bot.logs import configure_logging
        from engine.remote.api import ApiRouter

        settings = Settings()
        configure_logging(settings.log_level or "INFO")  # redacts third-party log arguments too
        if settings.engine_token is None:
            raise RuntimeError("MAEUM_ENGINE_TOKEN must be set for `maeum serve` (a long random secret)")
        backend = ServeInference(HandleWorker(models), ModelSet(model_config(settings)))
        # Wait (up to a second, under the front-ends' own 2 s) for the heightened state to be shared
        # before answering a crisis: the person's next message may reach another replica.
        self.engine = build_engine(settings, backend=backend, crisis_settle_s=1.0)
        self.router = ApiRouter(
            self.engine, settings.engine_token.get_secret_value(), ready=self._ready, transient=is_transient
        )
        self._started = False
        self._starting: asyncio.Task[None] | None = None

    async def _ready(self) -> bool:
        """Starts the engine on first contact (migrations, the models' kinds); ready once done."""
        if self._started:
            return True
        if self._starting is None or (self._starting.done() and self._starting.exception() is not None):
            self._starting = asyncio.create_task(self.engine.start())
        try:
            await asyncio.wait_for(asyncio.shield(self._starting), timeout=5.0)
        except TimeoutError:
            return False
        self._started = True
        return True

    async def __call__(self, request: Request) -> Response:
        if not self._started and request.url.path.rstrip("/") != "/healthz" and not await self._ready():
            return Response(b'{"error": {"type": "Starting", "message": "the engine is starting"}}', 503)
        body = await request.body()
        answer = await self.router.handle(
            request.method, request.url.path, request.headers.get("authorization"), body
        )
        return Response(answer.body, answer.status, media_type=answer.content_type)

    async def check_health(self) -> None:
        # Serve restarts a replica whose engine failed underneath (its database gone).
        if self._started and self.engine._failed is not None and self.engine._failed.done():
            raise RuntimeError("the engine failed; see the replica's log")


def build_app(args: dict[str, Any] | None = None) -> Any:
    """The application, sized from the settings (and ``args``, e.g. from a RayService config:
    ``model_cpus``, ``gpus``, ``min_replicas``, ``max_replicas``, ``ingress_replicas``)."""
    args = dict(args or {})
    settings = Settings()
    gpus = args.get("gpus", settings.serve_gpus_per_replica)
    if gpus is None:
        gpus = 1.0 if _cuda() else 0.0
    low = int(args.get("min_replicas", settings.serve_min_replicas))
    high = max(low, int(args.get("max_replicas", settings.serve_max_replicas)), 1)
    models = Models.options(  # type: ignore[attr-defined]
        ray_actor_options={"num_cpus": float(args.get("model_cpus", 1.0)), "num_gpus": float(gpus)},
        autoscaling_config={
            "min_replicas": low,
            "max_replicas": high,
            "initial_replicas": max(low, 1),
            # Enough queued calls per replica to fill a batch before another replica is added.
            "target_ongoing_requests": settings.batch_size,
            "upscale_delay_s": 10.0,
            "downscale_delay_s": 300.0,
        },
    ).bind(batch_size=settings.batch_size, batch_window_s=settings.batch_window_ms / 1000)
    ingress = Ingress.options(  # type: ignore[attr-defined]
        num_replicas=int(args.get("ingress_replicas", settings.serve_ingress_replicas)),
        ray_actor_options={"num_cpus": float(args.get("ingress_cpus", 0.25))},
    )
    return ingress.bind(models)
