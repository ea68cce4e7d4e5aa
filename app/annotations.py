"""Corner texts of the viewports, translated and in the locale's date and number format.

Implements the viewer's ``TextFormatter`` protocol (``viewer.annotations``) with Qt's
translation, so "Im", "Zoom", window preset names etc. follow the user's language.
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QCoreApplication, QLocale, QObject

from app.browser import format_dicom_date
from app.catalog import display_name
from imaging.deidentify import deidentified_header
from viewer.annotations import AnnotationContext, CornerTexts, TextFormatter


def preset_label(name: str) -> str:
    """The translated label of a window preset key from ``imaging.pipeline``."""
    labels = {
        "lung": QCoreApplication.translate("Presets", "Lung"),
        "mediastinum": QCoreApplication.translate("Presets", "Mediastinum"),
        "bone": QCoreApplication.translate("Presets", "Bone"),
        "brain": QCoreApplication.translate("Presets", "Brain"),
        "default": QCoreApplication.translate("Presets", "Default"),
        "auto": QCoreApplication.translate("Presets", "Auto"),
    }
    return labels.get(name, name)


class QtTextFormatter(QObject):
    """Viewport texts through Qt's ``tr`` and ``QLocale()`` (decimal comma in French)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.locale = QLocale()

    def _number(self, value: float, decimals: int) -> str:
        return self.locale.toString(float(value), "f", decimals)

    def corners(self, ctx: AnnotationContext) -> CornerTexts:
        h = ctx.header
        patient_id = self.tr("ID: %1").replace("%1", h.patient_id) if h.patient_id else ""
        upper_left = "\n".join(t for t in (
            display_name(h.patient_name), patient_id, format_dicom_date(h.study_date)) if t)
        number = (self.tr("Se %1").replace("%1", str(h.series_number))
                  if h.series_number is not None else "")
        series = " ".join(t for t in (number, h.series_description) if t)
        laterality = " ".join(t for t in (h.laterality, h.view_position) if t)
        upper_right = "\n".join(t for t in (h.modality, series, laterality) if t)
        lines = [self.tr("Im %1/%2").replace("%1", str(ctx.index + 1))
                 .replace("%2", str(ctx.count))]
        if ctx.position_mm is not None:
            lines.append(self.tr("Pos %1 mm").replace("%1", self._number(ctx.position_mm, 1)))
        right = []
        if ctx.window_center is not None and ctx.window_width is not None:
            wl = (self.tr("W %1 L %2").replace("%1", self._number(ctx.window_width, 0))
                  .replace("%2", self._number(ctx.window_center, 0)))
            right.append(f"{wl} ({preset_label(ctx.window_name)})" if ctx.window_name else wl)
        if ctx.inverted:
            right.append(self.tr("Inverted"))
        right.append(self.tr("Zoom %1 %").replace("%1", self._number(ctx.zoom * 100, 0)))
        return CornerTexts(upper_left, upper_right, "\n".join(lines), "\n".join(right))

    def distance(self, mm: float, calibrated: bool) -> str:
        text = self.tr("%1 mm").replace("%1", self._number(mm, 1))
        return text if calibrated else text + " " + self.tr("(detector)")

    def angle(self, degrees: float) -> str:
        return f"{self._number(degrees, 1)}°"


class DeidentifiedFormatter:
    """Any formatter's texts without the patient's identity: for screenshots to share.

    Corners keep modality, series, image number, position, window and zoom; the patient's
    name, ID, birth date, accession number and study date are never written.
    """

    def __init__(self, inner: TextFormatter) -> None:
        self.inner = inner

    def corners(self, ctx: AnnotationContext) -> CornerTexts:
        return self.inner.corners(replace(ctx, header=deidentified_header(ctx.header)))

    def distance(self, mm: float, calibrated: bool) -> str:
        return self.inner.distance(mm, calibrated)

    def angle(self, degrees: float) -> str:
        return self.inner.angle(degrees)
