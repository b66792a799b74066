"""Server-rendered charts for the statistics page: geometry computed here, SVG drawn by the template.

No charting library and no script: the numbers become rectangles with a ``<title>`` each, and
the page also carries the same figures as a table for screen readers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _

from moderation.dashboard import labels
from moderation.services.stats import Statistics

#: Stack order, bottom to top.
STACK = ("published", "review", "rejected", "pending")
WIDTH = 760
HEIGHT = 240
MARGIN_LEFT = 44
MARGIN_BOTTOM = 28
MARGIN_TOP = 12


@dataclass(frozen=True)
class Piece:
    outcome: str
    count: int
    y: float
    height: float


@dataclass
class DayBar:
    day: date
    x: float
    width: float
    total: int
    pieces: list[Piece] = field(default_factory=list)
    show_label: bool = False


@dataclass
class DailyChart:
    width: int
    height: int
    plot_left: int
    plot_bottom: int
    bars: list[DayBar]
    ticks: list[tuple[float, int]]
    legend: list[tuple[str, str]]
    empty: bool


TICKS = 4


def _nice_max(value: int) -> int:
    """An axis maximum at or above ``value`` split into ``TICKS`` round whole-number steps."""
    raw = max(1, value) / TICKS
    magnitude = 10 ** (len(str(int(raw))) - 1)
    for factor in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        step = factor * magnitude
        if step >= raw and step == int(step):
            return int(step) * TICKS
    return 10 * magnitude * TICKS


def daily_chart(stats: Statistics) -> DailyChart:
    """Comments per day, stacked by outcome."""
    totals = {day: sum(stats.per_day.get(day, {}).values()) for day in stats.days}
    top = _nice_max(max(totals.values(), default=0))
    plot_height = HEIGHT - MARGIN_BOTTOM - MARGIN_TOP
    plot_width = WIDTH - MARGIN_LEFT - 8
    slot = plot_width / max(1, len(stats.days))
    label_every = max(1, len(stats.days) // 10)
    bars: list[DayBar] = []
    for index, day in enumerate(stats.days):
        counts = stats.per_day.get(day, {})
        bar = DayBar(
            day=day,
            x=round(MARGIN_LEFT + index * slot + slot * 0.15, 2),
            width=round(slot * 0.7, 2),
            total=totals[day],
            show_label=(len(stats.days) - 1 - index) % label_every == 0,
        )
        base = HEIGHT - MARGIN_BOTTOM
        for outcome in STACK:
            count = counts.get(outcome, 0)
            if not count:
                continue
            height = plot_height * count / top
            base -= height
            bar.pieces.append(Piece(outcome, count, round(base, 2), round(height, 2)))
        bars.append(bar)
    ticks = [
        (round(HEIGHT - MARGIN_BOTTOM - plot_height * index / TICKS, 2), top * index // TICKS)
        for index in range(TICKS + 1)
    ]
    return DailyChart(
        width=WIDTH,
        height=HEIGHT,
        plot_left=MARGIN_LEFT,
        plot_bottom=HEIGHT - MARGIN_BOTTOM,
        bars=bars,
        ticks=ticks,
        legend=[(outcome, labels.label(labels.OUTCOMES, outcome)) for outcome in STACK],
        empty=not any(totals.values()),
    )


def duration(seconds: float | None) -> str | None:
    """A waiting time for people, in the interface language: "45 giây", "12 phút", "3 giờ 05 phút"."""
    if seconds is None:
        return None
    if seconds < 60:
        return _("%(num)d s", num=round(seconds))
    minutes = round(seconds / 60)
    if minutes < 60:
        return _("%(num)d min", num=minutes)
    hours, rest = divmod(minutes, 60)
    return _("%(hours)d h %(minutes)02d min", hours=hours, minutes=rest)
