"""The geometry of the server-drawn SVG charts: the plot box, straight-line scales, round ticks, path strings.

Charts are drawn on the server (no script, no inline style: the CSP forbids them).
A chart module keeps only what is its own — its data, its labels and its axis
rules — and places everything with these::

    box = PlotBox.with_margins(640, 300, left=72, right=20, top=20, bottom=48)
    x = box.x_scale(0, days)             # day number → pixels, left to right
    y = box.y_scale(low, high)           # value → pixels, upwards
    points = polyline_points([(x(d), y(v)) for d, v in data])
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    """A straight-line map from data values (``low``–``high``) to positions (``start``–``end``)."""

    low: float
    high: float
    start: float
    end: float
    clamp: bool = False  # keep values outside low–high on the edge of the plot

    def __call__(self, value: float) -> float:
        """Return the position of ``value``."""
        if self.clamp:
            value = max(min(value, self.high), self.low)
        return self.start + (self.end - self.start) * (value - self.low) / (self.high - self.low)


@dataclass(frozen=True)
class PlotBox:
    """A drawing ``width`` × ``height`` and the rectangle inside its margins where the data goes.

    ``left``/``right`` are the x of the plot's edges, ``top``/``bottom`` the y (SVG's y grows downwards).
    """

    width: int
    height: int
    left: int
    top: int
    right: int
    bottom: int

    @classmethod
    def with_margins(cls, width: int, height: int, *, left: int, right: int, top: int, bottom: int) -> PlotBox:
        """Return the box of a ``width`` × ``height`` drawing that keeps these margins free for axes and labels."""
        return cls(width=width, height=height, left=left, top=top, right=width - right, bottom=height - bottom)

    def x_scale(self, low: float, high: float) -> Scale:
        """Return the scale that puts ``low`` on the left edge and ``high`` on the right edge."""
        return Scale(low, high, self.left, self.right)

    def y_scale(self, low: float, high: float, *, clamp: bool = False) -> Scale:
        """Return the scale that puts ``low`` on the bottom edge and ``high`` on the top edge."""
        return Scale(low, high, self.bottom, self.top, clamp)


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Return round numbers spanning ``low``–``high`` (1, 2, 2.5 or 5 × a power of ten apart)."""
    if high <= low:
        high = low + 1
    raw = (high - low) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    ticks = []
    value = start
    while value <= high + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    if ticks[-1] < high:
        ticks.append(round(value, 10))
    return ticks


def even_ticks(low: float, high: float, parts: int) -> list[float]:
    """Return ``parts + 1`` values from ``low`` to ``high``, evenly apart."""
    return [low + (high - low) * i / parts for i in range(parts + 1)]


def polyline_points(points: Iterable[tuple[float, float]]) -> str:
    """Return ``points`` as the ``points`` attribute of an SVG polyline."""
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in points)


def path_data(points: Iterable[tuple[float, float]]) -> str:
    """Return ``points`` joined by straight lines as the ``d`` attribute of an SVG path."""
    return " ".join(f"{'L' if i else 'M'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(points))
