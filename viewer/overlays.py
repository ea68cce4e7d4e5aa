"""Overlay layers drawn over a slice: AI heatmaps and boxes, DICOM overlay planes.

Layers are plain values (image-pixel coordinates, origin top-left, x right, y
down); :class:`~viewer.scene.SceneMapper` turns them into VTK props.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from imaging.colormaps import apply_colormap
from imaging.overlays import OverlayPlane

AMBER = (1.0, 0.69, 0.0)
CYAN = (0.0, 0.9, 1.0)
OVERLAY_YELLOW = (1.0, 1.0, 0.3)


@dataclass(frozen=True)
class Heatmap:
    """A score map over the image; values under ``threshold`` are transparent.

    ``values`` is ``(h, w)`` float and covers the whole image (it may be coarser
    than the image: it is stretched over it).
    """

    values: np.ndarray
    colormap: str = "inferno"
    opacity: float = 0.45
    threshold: float = 0.2
    value_range: tuple[float, float] = (0.0, 1.0)
    slice_index: int | None = None  # None: every image of the stack
    ai: bool = True

    def rgba(self) -> np.ndarray:
        """``(h, w, 4)`` uint8: colormap over the normalised values, alpha 0 under threshold."""
        lo, hi = self.value_range
        v = np.nan_to_num(np.asarray(self.values, dtype=np.float32), nan=lo)
        norm = (v - lo) / (hi - lo if hi > lo else 1.0)
        rgb = apply_colormap(norm, self.colormap)
        visible = v >= self.threshold
        alpha = np.where(visible, round(255 * min(max(self.opacity, 0.0), 1.0)), 0)
        return np.concatenate([rgb, alpha[..., None].astype(np.uint8)], axis=-1)


@dataclass(frozen=True)
class Box:
    """A rectangle ``(x0, y0, x1, y1)`` in image pixels with an optional label and score.

    Corner convention, as AI results and the reader's marks: ``(0, 0)`` is the top-left
    corner of the top-left pixel, so a box ``(10, 10, 20, 20)`` encloses pixels 10..19.
    """

    xyxy: tuple[float, float, float, float]
    label: str = ""
    score: float | None = None
    dashed: bool = False  # AI: dashed = only the high-sensitivity operating point met
    color: tuple[float, float, float] = AMBER
    slice_index: int | None = None
    ai: bool = True
    text: str | None = None  # the caller's own caption (e.g. "Fracture 91 %"), else label + score
    badge: str = ""  # a short tag on the box's corner (e.g. "!" for an AI-only possible miss)

    @property
    def caption(self) -> str:
        if self.text is not None:
            return self.text
        if self.score is None:
            return self.label
        return f"{self.label} {self.score:.2f}".strip()


@dataclass(frozen=True)
class OverlayBitmap:
    """A DICOM overlay plane (60xx): a boolean bitmap placed at ``origin`` (row, column)."""

    mask: np.ndarray
    origin: tuple[int, int] = (0, 0)  # 0-based (row, column) of the bitmap's top-left pixel
    color: tuple[float, float, float] = OVERLAY_YELLOW
    slice_index: int | None = None

    def rgba(self, rows: int, cols: int) -> np.ndarray:
        """The bitmap pasted into a transparent ``(rows, cols, 4)`` image (clipped to it)."""
        out = np.zeros((rows, cols, 4), dtype=np.uint8)
        mask = np.asarray(self.mask, dtype=bool)
        r0, c0 = self.origin
        rs, cs = max(r0, 0), max(c0, 0)
        re, ce = min(r0 + mask.shape[0], rows), min(c0 + mask.shape[1], cols)
        if re <= rs or ce <= cs:
            return out
        part = mask[rs - r0:re - r0, cs - c0:ce - c0]
        color = np.array([*(round(255 * c) for c in self.color), 255], dtype=np.uint8)
        out[rs:re, cs:ce][part] = color
        return out


def dashed_segments(points: list[tuple[float, float]], dash: float
                    ) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """Split a closed polyline into dash segments of length ``dash`` (gaps equal)."""
    segments = []
    closed = [*points, points[0]]
    for (x0, y0), (x1, y1) in itertools.pairwise(closed):
        length = float(np.hypot(x1 - x0, y1 - y0))
        steps = max(int(length // dash), 1)
        for k in range(0, steps, 2):
            t0, t1 = k / steps, min((k + 1) / steps, 1.0)
            segments.append(((x0 + (x1 - x0) * t0, y0 + (y1 - y0) * t0),
                             (x0 + (x1 - x0) * t1, y0 + (y1 - y0) * t1)))
    return segments


def plane_bitmaps(planes: Sequence[OverlayPlane], frame: int = 0) -> list[OverlayBitmap]:
    """The DICOM overlay planes (``imaging.overlays``) that cover image ``frame``."""
    found = []
    for plane in planes:
        bitmap = plane.bitmap_for_frame(frame)
        if bitmap is not None:
            found.append(OverlayBitmap(np.asarray(bitmap, dtype=bool)))
    return found
