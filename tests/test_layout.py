"""The house rules of the code base, checked: who may import whom, and every package's surface."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

FACE = {"engine.client", "engine.types", "engine.settings", "engine.errors"}
ADAPTERS = ("bot/telegram_bot.py", "bot/discord_bot.py", "bot/console.py")


def imports_of(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def python_files(folder: str) -> list[Path]:
    return sorted((REPO / folder).rglob("*.py"))


def test_the_engine_imports_no_platform_training_or_bench() -> None:
    forbidden = ("telegram", "discord", "training", "bench", "bot", "ray", "serving")
    for path in python_files("engine"):
        bad = {m for m in imports_of(path) if m.split(".")[0] in forbidden}
        assert not bad, f"{path.relative_to(REPO)} imports {sorted(bad)}"


def test_adapters_import_only_the_engines_face() -> None:
    for name in ADAPTERS:
        engine_imports = {m for m in imports_of(REPO / name) if m.split(".")[0] == "engine"}
        assert engine_imports <= FACE, f"{name} imports {sorted(engine_imports - FACE)}"


def test_only_the_cli_imports_the_bench() -> None:
    for folder in ("engine", "bot", "training"):
        for path in python_files(folder):
            if path.name == "cli.py" and folder == "bot":
                continue
            assert not any(m.split(".")[0] == "bench" for m in imports_of(path)), path


def test_engine_top_level_is_small_and_every_package_names_its_surface() -> None:
    entries = [p for p in (REPO / "engine").iterdir() if p.name != "__pycache__"]
    assert len(entries) <= 11, sorted(p.name for p in entries)
    for init in [*(REPO / "engine").glob("*/__init__.py"), REPO / "bench" / "__init__.py"]:
        tree = ast.parse(init.read_text(encoding="utf-8"))
        names = [
            t.id
            for node in tree.body
            if isinstance(node, ast.Assign)
            for t in node.targets
            if isinstance(t, ast.Name)
        ]
        assert "__all__" in names, f"{init.relative_to(REPO)} has no __all__"
