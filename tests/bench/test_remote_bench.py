"""``maeum bench --remote`` on tiny sample counts: the rows exist, carry their numbers, and the
served engine answered every message (a failed call would raise, not time)."""

from __future__ import annotations

import pytest

from bench.options import BenchOptions
from tests.conftest import require_ray

require_ray()
pytestmark = pytest.mark.ray


def test_the_hop_and_the_replicas_are_timed_against_the_in_process_engine() -> None:
    from bench.remote import remote_rows

    rows = remote_rows(BenchOptions(tiny=True))
    paths = [r.path for r in rows]
    assert paths[0].startswith("one message, engine in this process")
    assert paths[1].startswith("one message through maeum serve")
    assert any("1 model replica" in p for p in paths) and any("2 model replica" in p for p in paths)
    for row in rows:
        assert row.group == "remote" and row.n > 0
        assert row.median_ms is not None and row.median_ms > 0
    assert "the hop adds" in rows[1].note
    assert all("msg/s" in r.note for r in rows[2:])
