"""Corner and measurement texts: what is written on a view, replaceable by the app.

The app passes its own :class:`TextFormatter` (translated with Qt's ``tr`` and
locale-aware dates/decimals); :class:`EnglishFormatter` is the default and the
one ``tandem render`` uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from imaging.header import InstanceHeader


@dataclass(frozen=True)
class AnnotationContext:
    """Everything a corner annotation may show for the current image of a view."""

    header: InstanceHeader
    index: int  # 0-based image index in the stack
    count: int
    position_mm: float | None  # slice position along the normal, None for radiographs
    window_center: float | None  # None for colour images
    window_width: float | None
    window_name: str
    zoom: float  # screen pixels per image pixel
    inverted: bool
    spacing_calibrated: bool


@dataclass(frozen=True)
class CornerTexts:
    upper_left: str = ""
    upper_right: str = ""
    lower_left: str = ""
    lower_right: str = ""


class TextFormatter(Protocol):
    """What a view asks its formatter to write."""

    def corners(self, ctx: AnnotationContext) -> CornerTexts: ...

    def distance(self, mm: float, calibrated: bool) -> str: ...

    def angle(self, degrees: float) -> str: ...


def _date(dicom_date: str) -> str:
    d = dicom_date.strip()
    return f"{d[0:4]}-{d[4:6]}-{d[6:8]}" if len(d) == 8 and d.isdigit() else d


class EnglishFormatter:
    """Default English texts (ISO dates, decimal point)."""

    def corners(self, ctx: AnnotationContext) -> CornerTexts:
        h = ctx.header
        name = h.patient_name.replace("^", " ").strip()
        upper_left = "\n".join(t for t in (name, f"ID: {h.patient_id}" if h.patient_id else "",
                                            _date(h.study_date)) if t)
        series = " ".join(t for t in (f"Se {h.series_number}" if h.series_number is not None
                                      else "", h.series_description) if t)
        upper_right = "\n".join(t for t in (h.modality, series) if t)
        lines = [f"Im {ctx.index + 1}/{ctx.count}"]
        if ctx.position_mm is not None:
            lines.append(f"Pos {ctx.position_mm:.1f} mm")
        lower_left = "\n".join(lines)
        right = []
        if ctx.window_center is not None and ctx.window_width is not None:
            wl = f"W {ctx.window_width:.0f} L {ctx.window_center:.0f}"
            right.append(f"{wl} ({ctx.window_name})" if ctx.window_name else wl)
        if ctx.inverted:
            right.append("Inverted")
        right.append(f"Zoom {ctx.zoom * 100:.0f}%")
        return CornerTexts(upper_left, upper_right, lower_left, "\n".join(right))

    def distance(self, mm: float, calibrated: bool) -> str:
        return f"{mm:.1f} mm" if calibrated else f"{mm:.1f} mm (detector)"

    def angle(self, degrees: float) -> str:
        return f"{degrees:.1f}°"
