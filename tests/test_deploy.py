"""deploy/ checked without Docker or a cluster: the YAML parses, the compose file uses only
variables an ``.env.example`` lists (and those hold no values for secrets), every ``maeum``
command in it exists, and the RayService names the Serve application that is really there."""

from __future__ import annotations

import argparse
import ast
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.cli import build_parser

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy"
COMPOSE = DEPLOY / "docker-compose.yml"
RAYSERVICE = DEPLOY / "kuberay" / "rayservice.yaml"
FRONTENDS = DEPLOY / "kuberay" / "frontends.yaml"
# ${VAR}, ${VAR:-default}, ${VAR:?message}; "$${VAR}" is compose's escape for the container's shell.
INTERPOLATION = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)")


def env_example(path: Path) -> dict[str, str]:
    names: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            names[name.strip()] = value.strip()
    return names


def compose() -> dict[str, Any]:
    return dict(yaml.safe_load(COMPOSE.read_text(encoding="utf-8")))


def maeum_services() -> dict[str, dict[str, Any]]:
    """The services that run the maeum image."""
    return {
        name: service
        for name, service in compose()["services"].items()
        if str(service.get("image", "")).startswith("maeum")
    }


def kubernetes(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def containers(doc: dict[str, Any]) -> list[dict[str, Any]]:
    if doc["kind"] == "RayService":
        cluster = doc["spec"]["rayClusterConfig"]
        groups = [cluster["headGroupSpec"], *cluster["workerGroupSpecs"]]
        return [c for group in groups for c in group["template"]["spec"]["containers"]]
    if "template" not in doc["spec"]:  # a Service
        return []
    return list(doc["spec"]["template"]["spec"]["containers"])


def maeum_commands() -> list[tuple[str, list[str]]]:
    """(where, argv after `maeum`) for every maeum command in the compose file and the manifests."""
    found = [(f"compose:{name}", list(s["command"])) for name, s in maeum_services().items()]
    for path in (RAYSERVICE, FRONTENDS):
        for doc in kubernetes(path):
            for container in containers(doc):
                if "args" in container:
                    found.append((f"{path.name}:{doc['metadata']['name']}", list(container["args"])))
    return found


# The compose file and its environment ------------------------------------------------------------


def test_the_compose_file_uses_only_variables_an_env_example_lists() -> None:
    listed = set(env_example(REPO / ".env.example")) | set(env_example(DEPLOY / ".env.example"))
    used = set(INTERPOLATION.findall(COMPOSE.read_text(encoding="utf-8")))
    for service in compose()["services"].values():
        environment = service.get("environment") or {}
        assert isinstance(environment, dict)
        used |= set(environment)
    assert used, "the compose file uses no variables at all?"
    assert used - listed == set(), "not in .env.example or deploy/.env.example"


def test_the_deploy_env_example_holds_no_secret_values() -> None:
    values = env_example(DEPLOY / ".env.example")
    secrets = [name for name in values if re.search(r"TOKEN|SECRET|PASSWORD", name)]
    assert {"MAEUM_ENGINE_TOKEN", "POSTGRES_PASSWORD", "MAEUM_TELEGRAM_WEBHOOK_SECRET"} <= set(secrets)
    assert {name: values[name] for name in secrets if values[name]} == {}


def test_the_compose_file_wires_the_scale_out_as_described() -> None:
    services = compose()["services"]
    engine = services["engine"]
    assert engine["command"] == ["serve", "--host", "0.0.0.0", "--port", "8000"]
    assert engine["environment"]["MAEUM_DATABASE_URL"].startswith("postgresql+asyncpg://")
    assert engine["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "healthz" in " ".join(engine["healthcheck"]["test"])
    assert services["postgres"]["healthcheck"] and services["postgres"]["volumes"]
    telegram = {n: s for n, s in services.items() if s.get("command") == ["run", "telegram"]}
    discord = {n: s for n, s in services.items() if s.get("command") == ["run", "discord"]}
    assert len(telegram) == 2 and len(discord) == 2
    for service in [*telegram.values(), *discord.values()]:
        env = service["environment"]
        assert env["MAEUM_ENGINE_URL"] == "http://engine:8000" and "MAEUM_ENGINE_TOKEN" in env
        assert "MAEUM_DATABASE_URL" not in env  # the engine owns the database
    assert {s["environment"]["MAEUM_TELEGRAM_WEBHOOK_URL"] for s in telegram.values()} == {
        "https://${PUBLIC_HOST:?set PUBLIC_HOST in deploy/.env}/maeum/telegram"
    }
    shards = sorted(
        (s["environment"]["MAEUM_DISCORD_SHARD_COUNT"], s["environment"]["MAEUM_DISCORD_SHARD_IDS"])
        for s in discord.values()
    )
    assert shards == [("2", "0"), ("2", "1")]


def test_the_proxy_forwards_to_the_telegram_replicas_on_their_webhook_port() -> None:
    services = compose()["services"]
    caddyfile = (DEPLOY / "Caddyfile").read_text(encoding="utf-8")
    [upstreams] = re.findall(r"reverse_proxy ([^{\n]+)", caddyfile)
    expected = {
        f"{name}:{s['environment']['MAEUM_TELEGRAM_WEBHOOK_PORT']}"
        for name, s in services.items()
        if s.get("command") == ["run", "telegram"]
    }
    assert set(upstreams.split()) == expected
    assert "handle /maeum/telegram" in caddyfile  # the path of MAEUM_TELEGRAM_WEBHOOK_URL


# maeum commands -----------------------------------------------------------------------------------


def subcommands(parser: argparse.ArgumentParser) -> set[str]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return set(action.choices)
    return set()


@pytest.mark.parametrize(("where", "argv"), maeum_commands(), ids=[w for w, _ in maeum_commands()])
def test_every_maeum_command_deployed_exists(where: str, argv: list[str]) -> None:
    parser = build_parser()
    if argv[0] == "serve" and "serve" not in subcommands(parser):
        pytest.skip("`maeum serve` is not in bot/cli.py's parser yet (being written)")
    args = parser.parse_args(argv)  # argparse exits (SystemExit 2) on an unknown command or choice
    assert callable(args.handler)


# Kubernetes --------------------------------------------------------------------------------------


def test_the_rayservice_deploys_the_serve_application_builder() -> None:
    [service] = kubernetes(RAYSERVICE)
    assert service["apiVersion"] == "ray.io/v1" and service["kind"] == "RayService"
    [app] = yaml.safe_load(service["spec"]["serveConfigV2"])["applications"]
    assert app["import_path"] == "serving.app:build_app" and app["args"] == {}
    module, _, attribute = app["import_path"].partition(":")
    source = REPO / (module.replace(".", "/") + ".py")
    if not source.exists():
        pytest.skip(f"{source.relative_to(REPO)} does not exist yet (being written)")
    tree = ast.parse(source.read_text(encoding="utf-8"))
    assert attribute in {node.name for node in tree.body if isinstance(node, ast.FunctionDef)}


def test_the_rayservice_has_a_gpu_worker_group_and_its_ray_matches_the_image() -> None:
    [service] = kubernetes(RAYSERVICE)
    cluster = service["spec"]["rayClusterConfig"]
    [gpu] = cluster["workerGroupSpecs"]
    [worker] = gpu["template"]["spec"]["containers"]
    assert worker["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert gpu["minReplicas"] <= gpu["replicas"] <= gpu["maxReplicas"]
    env = {e["name"]: e.get("value") for e in worker["env"]}
    assert env["MAEUM_SERVE_GPUS_PER_REPLICA"] == "1"
    assert int(env["MAEUM_SERVE_MAX_REPLICAS"]) <= gpu["maxReplicas"]  # one GPU per replica fits
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    [ray_version] = re.findall(r"^ARG RAY_VERSION=(\S+)$", dockerfile, re.MULTILINE)
    assert cluster["rayVersion"] == ray_version


def test_manifests_take_secrets_from_the_secret_and_name_only_real_settings() -> None:
    settings = set(env_example(REPO / ".env.example"))
    for path in (RAYSERVICE, FRONTENDS):
        for doc in kubernetes(path):
            for container in containers(doc):
                for entry in container["env"]:
                    name = entry["name"]
                    assert name in settings or name == "RAY_USAGE_STATS_ENABLED", name
                    if re.search(r"TOKEN|SECRET|DATABASE_URL", name):
                        assert entry["valueFrom"]["secretKeyRef"] == {"name": "maeum", "key": name}


def test_the_discord_statefulset_gives_each_pod_its_own_shard() -> None:
    [statefulset] = [d for d in kubernetes(FRONTENDS) if d["kind"] == "StatefulSet"]
    [container] = containers(statefulset)
    env = {e["name"]: e for e in container["env"]}
    assert int(env["MAEUM_DISCORD_SHARD_COUNT"]["value"]) == statefulset["spec"]["replicas"]
    index = env["MAEUM_DISCORD_SHARD_IDS"]["valueFrom"]["fieldRef"]["fieldPath"]
    assert index == "metadata.labels['apps.kubernetes.io/pod-index']"


# The image ---------------------------------------------------------------------------------------


def test_the_image_points_the_settings_at_the_bundled_models_it_copies() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert "COPY models /opt/maeum/models" in dockerfile
    paths = dict(re.findall(r"(MAEUM_\w+_MODEL)=/opt/maeum/models/([\w-]+)", dockerfile))
    assert set(paths) == {"MAEUM_EMOTION_MODEL", "MAEUM_BANK_MODEL", "MAEUM_CRISIS_MODEL"}
    for name in paths.values():
        assert (REPO / "models" / name).is_dir(), name
    for folder in re.findall(r"^COPY (\w+) \1$", dockerfile, re.MULTILINE):
        assert (REPO / folder).is_dir() or folder == "serving", folder
    assert re.search(r"^USER 10001$", dockerfile, re.MULTILINE)
    assert re.search(r'^ENTRYPOINT \["maeum"\]$', dockerfile, re.MULTILINE)
