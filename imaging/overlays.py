"""Overlay planes (groups 6000-601E, PS3.3 C.9.2) as boolean bitmaps aligned to the image.

pydicom unpacks Overlay Data (``Dataset.overlay_array``); this module places
each plane on the image grid: Overlay Origin is 1-based (1\\1 is the image's
top-left pixel) and may put part of the plane outside the image, which is
cropped. Overlays embedded in the high bits of Pixel Data (retired) are not
read; they are reported as a warning.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from pydicom.dataset import Dataset

from imaging.errors import Warning_

_GROUPS = range(0x6000, 0x6020, 2)


@dataclass(frozen=True)
class OverlayPlane:
    """One overlay plane; ``bitmaps`` is (frames in overlay, image rows, image columns) bool."""

    group: int
    type: str  # "G" graphics, "R" region of interest
    description: str
    label: str
    origin: tuple[int, int]  # (row, column), 1-based, as in the file
    first_frame: int  # 0-based image frame of bitmaps[0] (Image Frame Origin - 1)
    bitmaps: np.ndarray = field(compare=False, repr=False)

    @property
    def bitmap(self) -> np.ndarray:
        """The (first) frame's bitmap, shaped like the image."""
        return self.bitmaps[0]

    def bitmap_for_frame(self, frame: int) -> np.ndarray | None:
        """Bitmap over image frame ``frame`` (0-based), or None when the overlay skips it."""
        index = frame - self.first_frame
        if 0 <= index < self.bitmaps.shape[0]:
            return self.bitmaps[index]
        return None


def read_overlays(ds: Dataset, found: list[Warning_] | None = None) -> list[OverlayPlane]:
    """Every readable overlay plane of ``ds``; unreadable planes become warnings in ``found``."""
    found = found if found is not None else []
    rows, cols = int(ds.get("Rows", 0) or 0), int(ds.get("Columns", 0) or 0)
    planes = []
    for group in _GROUPS:
        if (group, 0x0010) not in ds:
            continue
        try:
            plane = _read_plane(ds, group, rows, cols)
        except (AttributeError, KeyError, ValueError, TypeError, IndexError) as exc:
            found.append(Warning_("invalid_overlay", f"overlay {group:04X} ignored ({exc})"))
            continue
        if plane is None:
            found.append(Warning_("unsupported_overlay", f"overlay {group:04X} is embedded in "
                                  "Pixel Data (retired encoding), not shown"))
            continue
        planes.append(plane)
    return planes


def _read_plane(ds: Dataset, group: int, rows: int, cols: int) -> OverlayPlane | None:
    if (group, 0x3000) not in ds or int(ds[group, 0x0100].value) != 1:
        return None
    raw = np.asarray(ds.overlay_array(group)).astype(bool)
    if raw.ndim == 2:
        raw = raw[np.newaxis]
    origin_value = ds[group, 0x0050].value if (group, 0x0050) in ds else (1, 1)
    origin = (int(origin_value[0]), int(origin_value[1]))
    frame_origin = int(ds[group, 0x0051].value) if (group, 0x0051) in ds else 1
    bitmaps = np.zeros((raw.shape[0], rows, cols), dtype=bool)
    top, left = origin[0] - 1, origin[1] - 1
    # The part of the overlay that falls on the image, in both coordinate systems.
    r0, c0 = max(top, 0), max(left, 0)
    r1, c1 = min(top + raw.shape[1], rows), min(left + raw.shape[2], cols)
    if r1 > r0 and c1 > c0:
        bitmaps[:, r0:r1, c0:c1] = raw[:, r0 - top:r1 - top, c0 - left:c1 - left]
    return OverlayPlane(
        group=group,
        type=str(ds[group, 0x0040].value).strip().upper() if (group, 0x0040) in ds else "G",
        description=str(ds[group, 0x0022].value).strip() if (group, 0x0022) in ds else "",
        label=str(ds[group, 0x1500].value).strip() if (group, 0x1500) in ds else "",
        origin=origin,
        first_frame=max(frame_origin - 1, 0),
        bitmaps=bitmaps,
    )
