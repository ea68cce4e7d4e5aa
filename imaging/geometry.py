"""Where images lie in patient space: slice order, stack geometry and orientation letters.

All vectors are in the DICOM patient coordinate system (LPS: +x towards the
patient's left, +y towards the posterior, +z towards the head). A stack's
``direction`` matrix has the row direction, the column direction and the slice
normal as its *columns*, as in ITK and VTK.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from imaging.errors import Warning_
from imaging.header import InstanceHeader

Vector = tuple[float, float, float]

# Letters for the positive and negative end of each patient axis (x, y, z).
_POSITIVE = ("L", "P", "H")
_NEGATIVE = ("R", "A", "F")


@dataclass(frozen=True)
class StackGeometry:
    """The regular grid a series' slices are placed on.

    ``spacing`` is (x: between columns, y: between rows, z: slice step) in mm.
    ``calibrated`` is False when the in-plane spacing is not a patient-plane
    measurement: ImagerPixelSpacing (at the detector, so magnified on projection
    radiographs) or no spacing at all (then 1.0 and ``spacing_source`` "none").
    ``tilt_degrees`` is the angle between the slice normal and the direction the
    slices actually step along (gantry tilt): 0 for a regular stack.
    """

    origin: Vector
    spacing: Vector
    direction: np.ndarray = field(compare=False)
    calibrated: bool = True
    spacing_source: str = "PixelSpacing"
    tilt_degrees: float = 0.0
    positions: tuple[Vector, ...] = ()  # one per slice, in stack order (empty: unknown)

    @property
    def row_direction(self) -> Vector:
        return _as_vector(self.direction[:, 0])

    @property
    def column_direction(self) -> Vector:
        return _as_vector(self.direction[:, 1])

    @property
    def normal(self) -> Vector:
        return _as_vector(self.direction[:, 2])

    def affine(self) -> np.ndarray:
        """4×4 matrix mapping (column, row, slice, 1) indices to LPS millimetres."""
        matrix = np.eye(4)
        matrix[:3, :3] = self.direction * np.asarray(self.spacing)
        matrix[:3, 3] = self.origin
        return matrix

    def spacing_warning(self) -> Warning_ | None:
        """What the user must know before measuring, if anything."""
        if self.spacing_source == "ImagerPixelSpacing":
            return Warning_("uncalibrated_spacing",
                            "distances use Imager Pixel Spacing, measured at the detector: "
                            "they are magnified compared with the patient")
        if self.spacing_source == "none":
            return Warning_("uncalibrated_spacing",
                            "no pixel spacing in the file: distances are in pixels, not mm")
        return None


def slice_normal(orientation: Sequence[float]) -> np.ndarray:
    """Unit normal (row × column) of an ImageOrientationPatient value."""
    row, col = np.asarray(orientation[:3], float), np.asarray(orientation[3:6], float)
    normal = np.cross(row, col)
    length = np.linalg.norm(normal)
    return normal / length if length > 0 else np.array([0.0, 0.0, 1.0])


def sort_headers(headers: Sequence[InstanceHeader]) -> list[InstanceHeader]:
    """Order images along the slice normal when every one has a position and
    orientation (in the direction the instance numbers run), else by instance
    number (files without one last), then by path.

    Images at the same position keep a stable order: temporal position,
    acquisition number, instance number.
    """

    def number_key(h: InstanceHeader) -> tuple[int, int, int, int, str]:
        return (h.temporal_position if h.temporal_position is not None else 0,
                h.acquisition_number if h.acquisition_number is not None else 0,
                0 if h.instance_number is not None else 1,
                h.instance_number if h.instance_number is not None else 0,
                str(h.path))

    items = list(headers)
    placed = [h for h in items if h.image_position is not None and h.image_orientation]
    if items and len(placed) == len(items):
        normal = slice_normal(items[0].image_orientation or ())
        ordered = sorted(items, key=lambda h: (
            round(float(np.dot(normal, h.image_position or ())), 3), number_key(h)))
        return ordered[::-1] if _numbers_run_backwards(ordered) else ordered
    return sorted(items, key=lambda h: number_key(h)[2:])


def _numbers_run_backwards(ordered: Sequence[InstanceHeader]) -> bool:
    """True when instance numbers mostly decrease along ``ordered``.

    Slices are placed by position, but scrolled in the scanner's order: a CT
    acquired head to feet starts at the head, as on the console and in every
    PACS viewer, whichever way its normal points.
    """
    numbers = [h.instance_number for h in ordered if h.instance_number is not None]
    if len(numbers) < 2 or len(numbers) != len(ordered):
        return False
    steps = np.sign(np.diff(np.asarray(numbers, dtype=float)))
    return float(steps.sum()) < 0


def slice_positions(headers: Sequence[InstanceHeader]) -> list[Vector]:
    """Position of every slice of a stack: per frame for a single multi-frame
    instance with functional groups, else one per instance (empty if any is missing)."""
    if len(headers) == 1 and headers[0].frame_positions:
        return list(headers[0].frame_positions)
    positions = [h.image_position for h in headers]
    if any(p is None for p in positions):
        return []
    return [p for p in positions if p is not None]


def stack_geometry(headers: Sequence[InstanceHeader]) -> StackGeometry:
    """Geometry of ``headers`` taken in the given order (use :func:`sort_headers` first).

    The slice step is the median distance between neighbouring slices measured
    along the normal (never SliceThickness, which overlapping or gapped
    acquisitions make wrong); with fewer than two positions it falls back to
    SliceThickness, then 1 mm. If the slices run against the normal (a
    multi-frame stored head-first), the normal is flipped so that the stack
    order and the direction agree.
    """
    if not headers:
        raise ValueError("stack_geometry needs at least one image")
    first = headers[0]
    spacing_xy, calibrated, source = _in_plane_spacing(first)
    if first.image_orientation is not None:
        row = np.asarray(first.image_orientation[:3], float)
        col = np.asarray(first.image_orientation[3:6], float)
        normal = slice_normal(first.image_orientation)
    else:
        row, col, normal = np.eye(3)
    positions = slice_positions(headers)
    origin = positions[0] if positions else (first.image_position or (0.0, 0.0, 0.0))
    step, tilt = _slice_step(positions, normal)
    if step < 0:
        normal, step = -normal, -step
    if step == 0:
        step = first.slice_thickness if first.slice_thickness else 1.0
    direction = np.column_stack([row, col, normal])
    return StackGeometry(
        origin=_as_vector(origin),
        spacing=(spacing_xy[0], spacing_xy[1], float(step)),
        direction=direction,
        calibrated=calibrated,
        spacing_source=source,
        tilt_degrees=tilt,
        positions=tuple(_as_vector(p) for p in positions),
    )


def steps_along(positions: Sequence[Sequence[float]], normal: np.ndarray) -> np.ndarray:
    """Signed distances between neighbouring positions, measured along ``normal``."""
    if len(positions) < 2:
        return np.zeros(0)
    return np.diff(np.asarray(positions, float) @ normal)


def tilt_angle(positions: Sequence[Sequence[float]], normal: np.ndarray) -> float:
    """Degrees between the slice normal and the line from the first to the last slice."""
    if len(positions) < 2:
        return 0.0
    travel = np.asarray(positions[-1], float) - np.asarray(positions[0], float)
    length = np.linalg.norm(travel)
    if length < 1e-6:
        return 0.0
    cosine = min(1.0, abs(float(np.dot(travel / length, normal))))
    return float(np.degrees(np.arccos(cosine)))


def orientation_letters(vector: Sequence[float] | np.ndarray, threshold: float = 0.2) -> str:
    """Radiology letters for a direction in LPS, major axis first: "L", "RA", "HPL"...

    Components smaller than ``threshold`` (a cosine; 0.2 ≈ 11.5° of obliquity)
    are left out so that a nearly axial image reads "L" rather than "LPH".
    """
    v = np.asarray(vector, float)
    order = np.argsort(-np.abs(v), kind="stable")
    letters: list[str] = []
    for axis in order:
        if abs(v[axis]) >= threshold or not letters:
            letters.append(_POSITIVE[axis] if v[axis] > 0 else _NEGATIVE[axis])
    return "".join(letters)


def edge_letters(orientation: Sequence[float]) -> dict[str, str]:
    """Letters at the four edges of an image with this ImageOrientationPatient."""
    row, col = np.asarray(orientation[:3], float), np.asarray(orientation[3:6], float)
    return {"right": orientation_letters(row), "left": orientation_letters(-row),
            "bottom": orientation_letters(col), "top": orientation_letters(-col)}


def same_orientation(a: Sequence[float], b: Sequence[float], tolerance: float = 0.01) -> bool:
    """True when two ImageOrientationPatient values agree within ``tolerance`` (cosines)."""
    return bool(np.max(np.abs(np.asarray(a, float) - np.asarray(b, float))) <= tolerance)


def _in_plane_spacing(header: InstanceHeader) -> tuple[tuple[float, float], bool, str]:
    """(x, y) spacing; PixelSpacing is (between rows, between columns) = (y, x)."""
    if header.pixel_spacing and all(v > 0 for v in header.pixel_spacing):
        return (header.pixel_spacing[1], header.pixel_spacing[0]), True, "PixelSpacing"
    imager = header.imager_pixel_spacing
    if imager and all(v > 0 for v in imager):
        return (imager[1], imager[0]), False, "ImagerPixelSpacing"
    return (1.0, 1.0), False, "none"


def _slice_step(positions: Sequence[Vector], normal: np.ndarray) -> tuple[float, float]:
    steps = steps_along(positions, normal)
    if steps.size == 0:
        return 0.0, 0.0
    return float(np.median(steps)), tilt_angle(positions, normal)


def _as_vector(values: Sequence[float] | np.ndarray) -> Vector:
    return (float(values[0]), float(values[1]), float(values[2]))
