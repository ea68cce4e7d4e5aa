"""The radiologist's own marks (point, box, ellipse, polygon) as drawn over a slice.

Coordinates: image pixels with ``(0, 0)`` at the top-left CORNER of the top-left pixel,
x = column to the right, y = row downwards — the convention of ``reading.model.Mark``,
of AI results and of DICOM SR/GSPS graphic data (the centre of the top-left pixel is
``(0.5, 0.5)``). :meth:`SliceView.display_to_image` and the distance/angle tools use pixel
CENTRES instead (the centre of the top-left pixel is ``(0, 0)``): the view converts with
:meth:`SliceView.display_to_image_corner`, so callers pass reading marks through unchanged.

Glyphs are plain values; :func:`glyph_props` turns them into VTK props given a mapping
from image points to scene points (the view's, which also handles the mirrored views).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from vtkmodules.vtkRenderingCore import vtkProp

from viewer import props
from viewer.measure import Point
from viewer.overlays import CYAN

MarkRole = Literal["reader", "selected", "agreed", "ai_only", "reader_only"]
RGB = tuple[float, float, float]

ROLE_COLOURS: dict[str, RGB] = {
    "reader": CYAN,
    "selected": (0.3, 1.0, 1.0),  # brighter cyan, thicker, on a white outline
    "agreed": (0.2, 0.9, 0.3),
    "ai_only": (1.0, 0.2, 0.85),  # magenta: the AI's "possible miss"
    "reader_only": (0.3, 0.65, 1.0),  # #4da6ff: reads on black and on white bone
}
_HALO_DARK: RGB = (0.0, 0.0, 0.0)
_HALO_SELECTED: RGB = (1.0, 1.0, 1.0)
_WIDTH, _WIDTH_SELECTED = 2.0, 3.0
_HALO_EXTRA = 2.0  # the outline is this much wider than the line it surrounds
POINT_RADIUS_PX = 7.0  # display pixels: a point mark keeps its size at any zoom
_ELLIPSE_SEGMENTS = 64
_CAPTION_SIZE = 13


@dataclass(frozen=True)
class MarkGlyph:
    """One mark to draw on image ``slice_index`` of the view's stack.

    ``points``: point = 1; box and ellipse = 2 opposite corners of the bounding box;
    polygon = 3 or more vertices (closed implicitly); polyline (previews) = open.
    """

    mark_id: str
    slice_index: int
    shape: str
    points: tuple[Point, ...]
    role: MarkRole = "reader"
    caption: str = ""

    def moved(self, dx: float, dy: float) -> MarkGlyph:
        return replace(self, points=tuple((x + dx, y + dy) for x, y in self.points))

    def bbox(self) -> tuple[float, float, float, float]:
        xs = [p[0] for p in self.points]
        ys = [p[1] for p in self.points]
        return (min(xs), min(ys), max(xs), max(ys))


def outline(glyph: MarkGlyph) -> list[Point]:
    """The drawn outline in image pixels (closed shapes repeat their first point)."""
    pts = list(glyph.points)
    if glyph.shape in ("box", "ellipse") and len(pts) >= 2:
        x0, y0, x1, y1 = glyph.bbox()
        if glyph.shape == "box":
            return [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]
        cx, cy, rx, ry = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2, (y1 - y0) / 2
        return [(cx + rx * math.cos(t), cy + ry * math.sin(t))
                for t in (2 * math.pi * k / _ELLIPSE_SEGMENTS
                          for k in range(_ELLIPSE_SEGMENTS + 1))]
    if glyph.shape == "polygon" and len(pts) >= 3:
        return [*pts, pts[0]]
    return pts


def _segment_distance(p: Point, a: Point, b: Point) -> float:
    ax, ay = b[0] - a[0], b[1] - a[1]
    length2 = ax * ax + ay * ay
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, ((p[0] - a[0]) * ax + (p[1] - a[1]) * ay)
                                              / length2))
    return math.hypot(p[0] - a[0] - t * ax, p[1] - a[1] - t * ay)


def _inside(p: Point, ring: Sequence[Point]) -> bool:
    """Even-odd rule over a closed ring (first point repeated last)."""
    inside = False
    for (x0, y0), (x1, y1) in itertools.pairwise(ring):
        if (y0 > p[1]) != (y1 > p[1]) and p[0] < x0 + (p[1] - y0) * (x1 - x0) / (y1 - y0):
            inside = not inside
    return inside


def distance_to(glyph: MarkGlyph, p: Point) -> float:
    """Image-pixel distance from ``p`` to the mark: 0 inside a closed shape."""
    if not glyph.points:
        return math.inf
    if glyph.shape == "point" or len(glyph.points) == 1:
        return math.hypot(p[0] - glyph.points[0][0], p[1] - glyph.points[0][1])
    ring = outline(glyph)
    closed = glyph.shape in ("box", "ellipse", "polygon") and len(ring) >= 4
    if closed and _inside(p, ring):
        return 0.0
    return min(_segment_distance(p, a, b) for a, b in itertools.pairwise(ring))


def nearest_mark(glyphs: Sequence[MarkGlyph], p: Point, tolerance: float) -> str | None:
    """The id of the closest glyph within ``tolerance``; among marks containing ``p``, the
    smallest one (so a mark drawn inside another can still be picked)."""
    best: tuple[float, float, str] | None = None
    for g in glyphs:
        d = distance_to(g, p)
        if d > tolerance:
            continue
        x0, y0, x1, y1 = g.bbox()
        key = (d, (x1 - x0) * (y1 - y0), g.mark_id)
        if best is None or key[:2] < best[:2]:
            best = key
    return None if best is None else best[2]


ToScene = Callable[[Point, float], props.World]  # image point, depth offset -> scene


def glyph_props(glyph: MarkGlyph, to_scene: ToScene, *, flipped: bool) -> list[vtkProp]:
    """Props of one glyph: a dark (selected: white) outline under a coloured line, and its
    caption at the mark's top-left corner on screen."""
    if not glyph.points:
        return []
    selected = glyph.role == "selected"
    colour = ROLE_COLOURS.get(glyph.role, CYAN)
    halo = _HALO_SELECTED if selected else _HALO_DARK
    width = _WIDTH_SELECTED if selected else _WIDTH
    built: list[vtkProp] = []
    if glyph.shape == "point":
        at = to_scene(glyph.points[0], 0.0)
        built += [props.screen_glyph(_point_symbol(), at, halo, width + _HALO_EXTRA, layer=0),
                  props.screen_glyph(_point_symbol(), at, colour, width, layer=1)]
        if glyph.caption:
            built.append(props.world_text(glyph.caption, at, colour, _CAPTION_SIZE,
                                          offset_px=(POINT_RADIUS_PX + 2, POINT_RADIUS_PX - 2)))
        return built
    line = outline(glyph)
    built += [props.polyline_actor([[to_scene(p, -0.2) for p in line]], halo,
                                   width + _HALO_EXTRA),
              props.polyline_actor([[to_scene(p, 0.0) for p in line]], colour, width)]
    if glyph.caption:
        x0, y0, x1, _ = glyph.bbox()
        at = to_scene((x1 if flipped else x0, y0), 0.0)
        built.append(props.world_text(glyph.caption, at, colour, _CAPTION_SIZE,
                                      offset_px=(0.0, 3.0)))
    return built


def _point_symbol() -> list[list[tuple[float, float]]]:
    """A circle with a cross through it, in display pixels around (0, 0); the cross stops
    short of the centre so the marked pixel stays visible."""
    r = POINT_RADIUS_PX
    circle = [(r * math.cos(2 * math.pi * k / 32), r * math.sin(2 * math.pi * k / 32))
              for k in range(33)]
    gap, arm = r * 0.35, r * 1.6
    arms = [[(sx * gap, sy * gap), (sx * arm, sy * arm)]
            for sx, sy in ((1, 0), (-1, 0), (0, 1), (0, -1))]
    return [circle, *arms]
