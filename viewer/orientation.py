"""Orientation letters at the four edges of a 2-D view, from the direction cosines.

Patient LPS: +x = L, +y = P, +z = H; the negative directions are R, A, F. The letters
of one direction come from :func:`imaging.geometry.orientation_letters`; this module
decides which direction each screen edge shows (flips included).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from imaging.geometry import orientation_letters


@dataclass(frozen=True)
class EdgeLabels:
    """The letters shown at the middle of each edge of a view."""

    left: str
    right: str
    top: str
    bottom: str


def edge_labels(direction: np.ndarray, *, flip_horizontal: bool = False,
                flip_vertical: bool = False) -> EdgeLabels:
    """Edge letters for an image shown as stored (column 0 left, row 0 top).

    ``direction``'s first column is the row direction (towards the screen's right),
    the second the column direction (towards the screen's bottom).
    """
    d = np.asarray(direction, dtype=float)
    right = d[:, 0] * (-1.0 if flip_horizontal else 1.0)
    down = d[:, 1] * (-1.0 if flip_vertical else 1.0)
    return EdgeLabels(left=orientation_letters(-right), right=orientation_letters(right),
                      top=orientation_letters(-down), bottom=orientation_letters(down))


_OPPOSITE = str.maketrans("RLAPHF", "LRPAFH")


def stack_edge_labels(header_orientation: tuple[float, ...] | None,
                      patient_orientation: tuple[str, ...], direction: np.ndarray, *,
                      flip_horizontal: bool = False, flip_vertical: bool = False) -> EdgeLabels:
    """Edge letters from ImageOrientationPatient, else from PatientOrientation (radiographs).

    A projection radiograph has no IOP; its direction matrix is then a placeholder and
    must not produce letters. PatientOrientation (0020,0020) gives the row and column
    directions as letters ("A", "FR"...); with neither, the edges stay blank.
    """
    if header_orientation is not None:
        return edge_labels(direction, flip_horizontal=flip_horizontal,
                           flip_vertical=flip_vertical)
    if len(patient_orientation) != 2 or not all(patient_orientation):
        return EdgeLabels("", "", "", "")
    right, down = (p.upper().replace("HEAD", "H").replace("FOOT", "F") for p in patient_orientation)
    if flip_horizontal:
        right = right.translate(_OPPOSITE)
    if flip_vertical:
        down = down.translate(_OPPOSITE)
    return EdgeLabels(left=right.translate(_OPPOSITE), right=right,
                      top=down.translate(_OPPOSITE), bottom=down)
