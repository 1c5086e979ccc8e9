"""``maeum serve``: deploy the engine on a local Ray (or an existing cluster: ``--address`` /
``RAY_ADDRESS``) and keep it up until Ctrl+C / SIGTERM."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from typing import Any

from engine.settings import Settings

APP_NAME = "maeum"


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = subparsers.add_parser(
        "serve",
        help="run the engine on Ray Serve behind its HTTP API (front-ends set MAEUM_ENGINE_URL)",
        description="Deploy maeum's engine (models, reply policy, store) as a Ray Serve application. "
        "Needs MAEUM_ENGINE_TOKEN, and MAEUM_DATABASE_URL on PostgreSQL when front-ends run elsewhere.",
    )
    serve.add_argument("--host", default="127.0.0.1", help="where the HTTP API listens (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="default: 8000")
    serve.add_argument(
        "--address",
        default=os.environ.get("RAY_ADDRESS"),
        help="an existing Ray cluster (default: RAY_ADDRESS; none: a local Ray)",
    )
    serve.add_argument("--num-cpus", type=int, help="CPUs for a local Ray (default: all)")
    serve.add_argument("--model-cpus", type=float, default=1.0, help="CPUs per model replica (default: 1)")
    serve.add_argument("--ready-timeout", type=float, default=600.0, help="seconds to wait for the models")
    serve.set_defaults(handler=run)


def _fail(message: str) -> int:
    print(f"maeum: {message}", file=sys.stderr)
    return 2


def _maeum_env() -> dict[str, str]:
    """MAEUM_* settings from the environment and ``.env``, for the Ray workers (which may not
    start in this directory, and on a cluster do not share this environment)."""
    values: dict[str, str] = {}
    try:
        from dotenv import dotenv_values

        values.update({k: v for k, v in dotenv_values(".env").items() if k.startswith("MAEUM_") and v})
    except ImportError:
        pass
    values.update({k: v for k, v in os.environ.items() if k.startswith("MAEUM_")})
    return values


def wait_ready(url: str, timeout_s: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=5) as answer:
                return dict(json.loads(answer.read()))
        except urllib.error.HTTPError as exc:
            last = f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError, ValueError) as exc:
            last = type(exc).__name__
        time.sleep(0.5)
    raise TimeoutError(last)


def run(args: argparse.Namespace) -> int:
    settings = Settings()
    if settings.engine_token is None:
        return _fail(
            "MAEUM_ENGINE_TOKEN must be set for `maeum serve`: a long random secret (e.g. `openssl rand "
            "-hex 32`), the same on every front-end"
        )
    try:
        import ray
        from ray import serve
    except ImportError:
        return _fail("Ray Serve is not installed: pip install 'maeum[serve]'")

    import asyncio

    from engine.errors import MaeumError
    from engine.store.migrate import upgrade_or_explain

    try:  # once, here, before any replica starts: a wrong database URL is one line at once
        asyncio.run(upgrade_or_explain(settings.resolved_database_url))
    except MaeumError as exc:
        return _fail(str(exc))

    from serving.app import build_app

    # Ray reports usage statistics to its makers unless told not to; maeum sends nothing anywhere.
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    runtime_env = {"env_vars": {**_maeum_env(), "RAY_USAGE_STATS_ENABLED": "0"}}
    if args.address:
        ray.init(address=args.address, runtime_env=runtime_env, log_to_driver=False)
    else:
        ray.init(
            address="local",
            num_cpus=args.num_cpus,
            include_dashboard=False,
            runtime_env=runtime_env,
            log_to_driver=False,
            _node_ip_address="127.0.0.1",
        )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        serve.start(http_options={"host": args.host, "port": args.port})
        serve.run(build_app({"model_cpus": args.model_cpus}), name=APP_NAME, route_prefix="/", blocking=False)
        shown = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
        url = f"http://{shown}:{args.port}"
        try:
            status = wait_ready(url, args.ready_timeout)
        except TimeoutError as exc:
            return _fail(
                f"the engine did not become ready in {args.ready_timeout:.0f} s ({exc}); see Ray's logs"
            )
        print(f"maeum engine ready at {url} (API {status.get('api')}); Ctrl+C stops it", flush=True)
        stop.wait()
        return 0
    finally:
        # Our application only (its replicas close their engines cleanly); on a cluster that leaves
        # anything else deployed there alone, and a local Ray goes with ray.shutdown().
        try:
            serve.delete(APP_NAME)
        except Exception as exc:
            print(f"maeum: could not remove the application cleanly ({type(exc).__name__})", file=sys.stderr)
        finally:
            ray.shutdown()
