"""Render a mood report as a PNG (1200x800) for a Telegram photo or a Discord embed.

Thread-safety and isolation, on purpose:
- Object-oriented Figure + Agg canvas only; pyplot's global figure state is never touched.
- No rcParams are changed, not even inside rc_context/style.context: those swap the *global*
  rcParams for the duration of the block, which another thread rendering at the same moment would
  see. Every colour, size and font is passed explicitly instead.
- Fonts are NanumGothic files bundled with koreanize_matplotlib, loaded by path. We locate the
  package with find_spec instead of importing it, because importing it rewrites the global
  rcParams (font family, unicode_minus) for the whole process.
- Matplotlib does not promise thread-safety even for separate figures (shared font and text
  caches), so rendering is serialised by a lock; one chart takes a fraction of a second.
"""

from __future__ import annotations

import io
import math
from typing import Final, TypeVar

from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from engine.mood.emotions import colours_for
from engine.mood.fonts import RENDER_LOCK as _LOCK
from engine.mood.fonts import korean_font as _font
from engine.mood.korean import day_label, period_name
from engine.mood.report import MoodReport

WIDTH_PX: Final = 1200
HEIGHT_PX: Final = 800
DPI: Final = 100

_INK: Final = "#2B2F36"
_MUTED: Final = "#6B7280"
_GRID: Final = "#E5E7EB"
_SCORE: Final = "#1F2937"
_SAT: Final = "#2F6FD0"  # Korean calendars colour Saturday blue and Sunday red
_SUN: Final = "#D0453A"

_LEGEND_MAX_COLS: Final = 7


def _label_step(n_days: int) -> int:
    # A "11/25 (수)" label needs about 140 px; 7 per row stays legible when a phone scales it down.
    return max(1, math.ceil(n_days / 7))


def _style_axes(ax: Axes) -> None:
    ax.spines["top"].set_visible(False)
    for side in ("left", "right", "bottom"):
        ax.spines[side].set_color(_GRID)
    ax.tick_params(axis="both", colors=_MUTED, length=0, pad=8)


def _draw_days_axis(ax: Axes, report: MoodReport) -> None:
    n = len(report.days)
    step = _label_step(n)
    # Anchor labels on today so the most recent day is always named.
    idx = list(range(n - 1, -1, -step))[::-1]
    size = 18 if step == 1 else 17
    ax.set_xticks(idx, [day_label(report.days[i].day) for i in idx], fontproperties=_font(size))
    for i, tick in zip(idx, ax.get_xticklabels(), strict=True):
        weekday = report.days[i].day.weekday()
        tick.set_color(_SAT if weekday == 5 else _SUN if weekday == 6 else _INK)
    ax.set_xlim(-0.6, n - 0.4)


def _integer_ticks(top: int) -> list[int]:
    step = max(1, math.ceil(top / 5))
    return list(range(0, top + 1, step))


def _axis_title(ax: Axes, text: str, *, left: bool) -> None:
    # Horizontal above the axis rather than rotated beside it: rotated Hangul is hard to read on a phone.
    ax.text(
        0.0 if left else 1.0,
        1.02,
        text,
        transform=ax.transAxes,
        ha="left" if left else "right",
        va="bottom",
        fontproperties=_font(17),
        color=_MUTED,
    )


_T = TypeVar("_T")


def _row_major(items: list[_T], ncol: int) -> list[_T]:
    """Reorder so a legend (which fills column by column) reads left to right, row by row."""
    rows = math.ceil(len(items) / ncol)
    grid = [items[r * ncol : (r + 1) * ncol] for r in range(rows)]
    return [row[c] for c in range(ncol) for row in grid if c < len(row)]


def render_chart(report: MoodReport) -> bytes:
    """Stacked bars of emotions per day, with the daily mood score as a line on a second axis."""
    with _LOCK:
        fig = build_figure(report)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=DPI, facecolor="white", metadata={"Software": None})
        return buf.getvalue()


def build_figure(report: MoodReport) -> Figure:
    """The chart as a Figure (for tests and other output formats); callers drawing it from several
    threads must serialise that themselves, as render_chart does."""
    layout = ConstrainedLayoutEngine(w_pad=0.25, h_pad=0.2)  # inches of breathing room at the edges
    fig = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, facecolor="white", layout=layout)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_facecolor("white")
    _style_axes(ax)

    period = period_name(report.weeks)
    fig.suptitle(f"{period} 마음 날씨", fontproperties=_font(32, bold=True), color=_INK)
    first, last = report.days[0].day, report.days[-1].day
    ax.set_title(
        f"{day_label(first)} ~ {day_label(last)}  ·  대화 {report.total}번",
        fontproperties=_font(18),
        color=_MUTED,
        pad=14,
    )
    _draw_days_axis(ax, report)

    if report.total == 0:
        _draw_empty(ax, report.weeks)
    else:
        _draw_data(fig, ax, report)
    return fig


def _draw_empty(ax: Axes, weeks: int) -> None:
    ax.set_ylim(0, 5)
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    ax.spines["right"].set_visible(False)
    when = "이번 주에는" if weeks == 1 else f"지난 {weeks}주 동안"
    ax.text(
        0.5,
        0.55,
        f"{when} 아직 기록된 마음이 없어요.\n편하실 때 이야기를 들려주세요.",
        transform=ax.transAxes,
        ha="center",
        va="center",
        linespacing=1.8,
        fontproperties=_font(26),
        color=_MUTED,
    )


def _draw_data(fig: Figure, ax: Axes, report: MoodReport) -> None:
    x = list(range(len(report.days)))
    width = 0.72 if len(x) <= 7 else 0.8
    bottoms = [0] * len(x)
    handles: list[Artist] = []
    labels: list[str] = []
    colours = colours_for(report.labels)
    for label in report.labels:  # display order: neutral and positive at the bottom
        heights = [day.counts.get(label, 0) for day in report.days]
        colour = colours[label]
        ax.bar(
            x, heights, width=width, bottom=bottoms, color=colour, edgecolor="white", linewidth=1.2, zorder=2
        )
        bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
        handles.append(Patch(facecolor=colour, edgecolor="none"))
        labels.append(label)

    top = max(bottoms)
    ticks = _integer_ticks(top)
    ax.set_ylim(0, max(ticks[-1], top) * 1.12)
    ax.set_yticks(ticks, [str(t) for t in ticks], fontproperties=_font(17))
    _axis_title(ax, "대화 수", left=True)
    ax.grid(axis="y", color=_GRID, linewidth=1, zorder=0)
    ax.set_axisbelow(True)

    # Mood score on its own axis. NaN for days without messages makes Matplotlib break the line
    # there instead of drawing through the gap; markers keep an isolated day visible.
    score_ax = ax.twinx()
    _style_axes(score_ax)
    score_ax.spines["left"].set_visible(False)
    score_ax.spines["bottom"].set_visible(False)
    scores = [math.nan if day.score is None else day.score for day in report.days]
    score_ax.axhline(0, color=_MUTED, linewidth=1, linestyle=(0, (3, 5)), alpha=0.7, zorder=1)
    score_ax.plot(
        x,
        scores,
        color=_SCORE,
        linewidth=3.5,
        marker="o",
        markersize=10 if len(x) <= 14 else 7,
        markerfacecolor="white",
        markeredgewidth=2.5,
        zorder=3,
    )
    score_ax.set_ylim(-1.15, 1.15)
    # Plain ASCII hyphen: NanumGothic has no U+2212 minus sign, the default would draw a box.
    score_ax.set_yticks([-1, 0, 1], ["흐림 -1", "보통 0", "맑음 +1"], fontproperties=_font(17))
    _axis_title(score_ax, "마음 점수", left=False)
    score_ax.set_xlim(ax.get_xlim())

    handles.append(
        Line2D(
            [],
            [],
            color=_SCORE,
            linewidth=3.5,
            marker="o",
            markersize=10,
            markerfacecolor="white",
            markeredgewidth=2.5,
        )
    )
    labels.append("마음 점수")
    rows = math.ceil(len(labels) / _LEGEND_MAX_COLS)
    ncol = math.ceil(len(labels) / rows)
    handles, labels = _row_major(handles, ncol), _row_major(labels, ncol)
    fig.legend(
        handles,
        labels,
        loc="outside lower center",
        ncol=ncol,
        frameon=False,
        prop=_font(18),
        handlelength=1.6,
        columnspacing=1.6,
        labelcolor=_INK,
    )
