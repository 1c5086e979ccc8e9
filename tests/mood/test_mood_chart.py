"""The mood chart PNG: decodes, has the promised size, isn't blank, has no missing glyphs, leaks nothing."""

from __future__ import annotations

import io
import struct
import warnings
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import matplotlib
import matplotlib.image
import numpy as np
import pytest
from matplotlib.patches import Rectangle
from matplotlib.text import Text

from engine.mood import MoodEvent, MoodReport, build_report, render_chart
from engine.mood.chart import HEIGHT_PX, WIDTH_PX, build_figure

KST = ZoneInfo("Asia/Seoul")
TODAY = date(2026, 11, 25)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
LABELS = ["일상", "기쁨", "불안", "슬픔", "분노", "우울"]


def history(days: int, *, skip: frozenset[int] = frozenset(), extra: tuple[str, ...] = ()) -> list[MoodEvent]:
    """A deterministic mixed history over `days` days ending today, with silent days in `skip`."""
    labels = LABELS + list(extra)
    out = []
    for d in range(days):
        if d in skip:
            continue
        day = TODAY - timedelta(days=d)
        for i in range(1 + (d * 7) % 5):
            label = labels[(d * 3 + i) % len(labels)]
            at = datetime(day.year, day.month, day.day, (9 + 5 * i) % 24, tzinfo=KST)
            out.append(MoodEvent(at, label, 0.5 + 0.1 * (i % 5)))
    return out


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == PNG_SIGNATURE
    length, kind = struct.unpack(">I4s", png[8:16])
    assert kind == b"IHDR" and length == 13
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def decode(png: bytes) -> np.ndarray:
    return np.asarray(matplotlib.image.imread(io.BytesIO(png), format="png"))


def glyph_warnings(report: MoodReport) -> tuple[bytes, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = render_chart(report)
    return png, [str(w.message) for w in caught if "missing from font" in str(w.message)]


@pytest.fixture(scope="module")
def week_report() -> MoodReport:
    return build_report(history(14, skip=frozenset({2, 5})), KST, TODAY)


@pytest.mark.parametrize(
    "report",
    [
        pytest.param(build_report(history(14, skip=frozenset({2, 5})), KST, TODAY), id="week"),
        pytest.param(
            build_report(history(56, skip=frozenset({3, 10}), extra=("놀람",)), KST, TODAY, 4),
            id="four-weeks-unknown-label",
        ),
        pytest.param(build_report([], KST, TODAY), id="empty"),
        pytest.param(build_report(history(1), KST, TODAY), id="sparse"),
    ],
)
def test_png_decodes_with_expected_size_and_content(report: MoodReport) -> None:
    png, missing = glyph_warnings(report)
    assert png_size(png) == (WIDTH_PX, HEIGHT_PX) == (1200, 800)
    pixels = decode(png)
    assert pixels.shape[:2] == (800, 1200)
    assert float(pixels[..., :3].std()) > 0.05  # not a blank canvas
    assert missing == []  # every Hangul/symbol glyph exists in NanumGothic: no tofu boxes


def test_chart_text_is_korean_and_shows_every_label() -> None:
    report = build_report(history(56, extra=("놀람",)), KST, TODAY, weeks=4)
    fig = build_figure(report)
    texts = {t.get_text() for t in fig.findobj(Text)}
    assert "지난 4주 마음 날씨" in texts
    assert {*LABELS, "놀람", "마음 점수"} <= texts  # legend, unknown label included
    assert "11/25 (수)" in texts  # today is always labelled
    assert all("Nanum" in t.get_fontname() for t in fig.findobj(Text) if t.get_text())


def test_four_weeks_has_28_bars() -> None:
    report = build_report(history(28), KST, TODAY, weeks=4)
    fig = build_figure(report)
    bars_ax = fig.axes[0]
    bars = [p for p in bars_ax.patches if isinstance(p, Rectangle)]
    assert len({round(p.get_x() + p.get_width() / 2) for p in bars}) == 28


def test_missing_days_are_gaps_in_the_score_line() -> None:
    report = build_report(history(7, skip=frozenset({2, 5})), KST, TODAY)
    fig = build_figure(report)
    (line,) = [ln for ln in fig.axes[1].get_lines() if len(ln.get_xdata()) == 7]  # type: ignore[arg-type]
    ys = np.asarray(line.get_ydata(), dtype=float)
    assert np.isnan(ys[[6 - 2, 6 - 5]]).all()  # NaN: Matplotlib breaks the line there
    assert np.isfinite(np.delete(ys, [4, 1])).all()


def test_empty_chart_has_a_kind_message() -> None:
    fig = build_figure(build_report([], KST, TODAY))
    assert any("이야기를 들려주세요" in t.get_text() for t in fig.findobj(Text))


def rc_snapshot() -> dict[str, object]:
    # Skip "backend": reading it resolves the auto backend, which imports pyplot.
    return {k: matplotlib.rcParams[k] for k in matplotlib.rcParams if k != "backend"}


def test_rendering_does_not_touch_global_matplotlib_state(week_report: MoodReport) -> None:
    before = rc_snapshot()
    render_chart(week_report)
    assert rc_snapshot() == before


def test_thread_safe_and_deterministic(week_report: MoodReport) -> None:
    other = build_report(history(28), KST, TODAY, weeks=4)
    expected = [render_chart(week_report), render_chart(other)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        got = list(pool.map(render_chart, [week_report, other]))
    assert got == expected
