"""The judged reply sets (``data/eval/replies_<name>.jsonl``), in one place: the reply eval runs
them, the emotion model reports on their messages, the CLI offers them."""

from __future__ import annotations

# dev and dev2: round one; dev3: round two's blind test; dev4: round three's (t3-*), read after it
# was judged; dev5: round four's (t4-*), read after it was judged; dev6: round five's (t5-*), read after it
# was judged; dev7: round six's (t6-*), read after it was judged; dev8: round seven's (t7-*), read
# after it was judged; dev9: round eight's first test (t8-*), read after it was judged; dev10: round
# eight's second (t9-*), read after it was judged; dev11: round nine's first test (t10-*), read after
# it was judged; dev12: round nine's second (t11-*), read after it was judged; test: round ten's
# (t12-*), judged blind.
JUDGED_SETS: tuple[str, ...] = (
    "dev",
    "dev2",
    "dev3",
    "dev4",
    "dev5",
    "dev6",
    "dev7",
    "dev8",
    "dev9",
    "dev10",
    "dev11",
    "dev12",
    "test",
)
