"""An ordered stack of decoded images in patient space: what the viewer and the AI are given.

An :class:`ImageStack` is the hand-off value between ``imaging`` and everything
that displays or analyses pixels. It carries *modality values* (after the
modality LUT: HU for CT), never display values, so that window/level can change
without decoding again; the VOI functions that map them to display grey levels
come with it (:class:`imaging.pipeline.VoiWindow`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from imaging.errors import Warning_
from imaging.header import InstanceHeader
from imaging.overlays import OverlayPlane

if TYPE_CHECKING:
    from imaging.pipeline import VoiWindow


@dataclass(frozen=True)
class SliceInfo:
    """Where one 2-D image of the stack comes from and where it lies in patient space."""

    sop_instance_uid: str
    frame: int  # 0-based frame index inside the instance
    position: tuple[float, float, float] | None  # ImagePositionPatient of the first pixel (mm)
    instance_number: int | None = None


@dataclass(frozen=True)
class ImageStack:
    """Decoded images of one series, sorted along the slice normal when geometry allows.

    ``values`` is ``(n, rows, cols)`` float32 modality values for grey images, or
    ``(n, rows, cols, 3)`` uint8 RGB for colour images (palette and YBR already
    converted). ``direction`` is a 3×3 matrix whose *columns* are the row direction
    (x, along a row), the column direction (y, down the columns) and the slice
    normal, in patient LPS coordinates, as in ITK and VTK. ``overlays`` holds each
    slice's DICOM overlay planes (60xx), aligned with ``slices``, each reduced to that
    slice's frame (``plane.bitmap`` is the slice's bitmap); ``()`` when the stack has none.
    """

    values: np.ndarray
    slices: tuple[SliceInfo, ...]
    spacing: tuple[float, float, float]  # (x = column spacing, y = row spacing, z = slice step) mm
    origin: tuple[float, float, float]
    direction: np.ndarray
    header: InstanceHeader  # representative header (first image) for annotations
    is_colour: bool = False
    # True when spacing is ImagerPixelSpacing or missing: measurements are at the detector.
    spacing_calibrated: bool = True
    spacing_source: str = "PixelSpacing"
    windows: tuple[VoiWindow, ...] = ()  # the file's own windows, in file order
    invert: bool = False  # MONOCHROME1 or an inverse presentation LUT
    warnings: tuple[Warning_, ...] = field(default=())
    overlays: tuple[tuple[OverlayPlane, ...], ...] = ()

    def __post_init__(self) -> None:
        if self.overlays and len(self.overlays) != len(self.slices):
            raise ValueError(f"{len(self.overlays)} overlay entries for {len(self.slices)} slices")

    def overlays_at(self, index: int) -> tuple[OverlayPlane, ...]:
        """The DICOM overlay planes over image ``index`` (empty when it has none)."""
        return self.overlays[index] if self.overlays else ()

    @property
    def count(self) -> int:
        return int(self.values.shape[0])

    @property
    def rows(self) -> int:
        return int(self.values.shape[1])

    @property
    def columns(self) -> int:
        return int(self.values.shape[2])

    @property
    def is_volume(self) -> bool:
        """True when the slices form a regular 3-D grid suitable for MPR."""
        return self.count >= 3 and all(s.position is not None for s in self.slices)
