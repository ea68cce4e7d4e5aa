"""Distance and angle measurements: plain values in image pixels, lengths in mm from spacing.

A measurement belongs to one image of a stack (``slice_index``). Points are
``(column, row)`` in image pixels, origin at the centre of the top-left pixel,
the same space as AI findings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Point = tuple[float, float]


@dataclass(frozen=True)
class Distance:
    slice_index: int
    start: Point
    end: Point

    def length_mm(self, spacing: tuple[float, float]) -> float:
        """Length in mm; ``spacing`` is (column spacing, row spacing)."""
        dx = (self.end[0] - self.start[0]) * spacing[0]
        dy = (self.end[1] - self.start[1]) * spacing[1]
        return math.hypot(dx, dy)

    @property
    def points(self) -> tuple[Point, ...]:
        return (self.start, self.end)


@dataclass(frozen=True)
class Angle:
    slice_index: int
    first: Point
    vertex: Point
    second: Point

    def degrees(self, spacing: tuple[float, float]) -> float:
        """Angle at ``vertex`` in degrees, measured in mm so non-square pixels do not skew it."""
        ax = (self.first[0] - self.vertex[0]) * spacing[0]
        ay = (self.first[1] - self.vertex[1]) * spacing[1]
        bx = (self.second[0] - self.vertex[0]) * spacing[0]
        by = (self.second[1] - self.vertex[1]) * spacing[1]
        if (ax == 0.0 and ay == 0.0) or (bx == 0.0 and by == 0.0):
            return 0.0
        return abs(math.degrees(math.atan2(ax * by - ay * bx, ax * bx + ay * by)))

    @property
    def points(self) -> tuple[Point, ...]:
        return (self.first, self.vertex, self.second)


Measurement = Distance | Angle
