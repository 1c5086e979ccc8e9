"""The judged reply sets (``data/eval/replies_<name>.jsonl``), in one place: the reply eval runs
them, the emotion model reports on their messages, the CLI offers them."""

from __future__ import annotations

# dev and dev2: round one; dev3: round two's blind test; test: round three's, judged blind.
JUDGED_SETS: tuple[str, ...] = ("dev", "dev2", "dev3", "test")
