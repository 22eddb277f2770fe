"""Geometry of small server-drawn SVG charts. Pure: the templates only place what this
computes, as SVG attributes (no inline style, so the pages keep a strict CSP)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    x: float
    y: float
    width: float
    height: float
    label: str  # under the column; "" for columns between labelled ones
    label_x: float
    value: int
    title: str


@dataclass(frozen=True)
class Tick:
    y: float
    value: int


@dataclass(frozen=True)
class ColumnChart:
    width: int
    height: int
    left: int
    baseline: float
    columns: list[Column]
    ticks: list[Tick]

    @property
    def empty(self) -> bool:
        return not any(c.value for c in self.columns)


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50, … at least `value` (and at least 1)."""
    if value <= 1:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power  # unreachable: 10 * power >= value by the choice of power


def column_chart(
    points: Sequence[tuple[str, int, str]],
    *,
    width: int = 640,
    height: int = 180,
    every: int = 7,
) -> ColumnChart:
    """Vertical columns for (label, value, title) points, left to right, on a scale from 0
    to a round maximum, with ticks at 0, the middle (when whole) and the top. Every
    `every`-th label (counting back from the last column) is written under its column, so
    labels never collide."""
    left, bottom, top = 36, 22, 8
    plot_w, plot_h = width - left - 4, height - bottom - top
    top_value = nice_ceiling(max((v for _, v, _ in points), default=0))
    slot = plot_w / max(len(points), 1)
    gap = min(2.0, slot / 4)
    baseline = top + plot_h
    columns = []
    for i, (label, value, title) in enumerate(points):
        h = plot_h * value / top_value
        x = left + i * slot + gap / 2
        shown = label if (len(points) - 1 - i) % every == 0 else ""
        columns.append(
            Column(
                x=round(x, 1),
                y=round(baseline - h, 1),
                width=round(slot - gap, 1),
                height=round(h, 1),
                label=shown,
                label_x=round(x + (slot - gap) / 2, 1),
                value=value,
                title=title,
            )
        )
    # A middle tick only where it falls on a whole number (no "2.5 submissions").
    steps = (0, 0.5, 1) if top_value % 2 == 0 else (0, 1)
    ticks = [Tick(round(baseline - plot_h * f, 1), int(top_value * f)) for f in steps]
    return ColumnChart(width, height, left, baseline, columns, ticks)
