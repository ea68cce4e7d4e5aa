"""Multiplanar reformats (axial, coronal, sagittal) of a CT/MR volume, in patient space.

The reslice works in patient LPS coordinates, so an oblique or tilted acquisition
comes out as a true axial/coronal/sagittal; the result is an ordinary
:class:`ImageStack` (with its own direction), shown by a :class:`SliceView` with
correct orientation letters. Irregular volumes are resliced anyway (with the mean
step) and say so in :attr:`MprResult.warnings`.

Memory: a plane the acquisition is already in (the axial of an axial CT) is the
source stack itself, not a copy; other planes keep the source's own sampling along
each axis (a 5 mm CT gives a coronal with 5 mm rows, interpolated on screen) instead
of being resampled to the finest spacing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from vtkmodules.util.numpy_support import numpy_to_vtk, vtk_to_numpy
from vtkmodules.vtkCommonDataModel import vtkImageData
from vtkmodules.vtkCommonMath import vtkMatrix4x4
from vtkmodules.vtkImagingCore import vtkImageReslice

from imaging.errors import Warning_
from imaging.stack import ImageStack, SliceInfo

# Screen right (row direction) and screen down (column direction) of each plane, LPS.
PLANES: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    "axial": ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0)),  # R on the left, A at the top
    "coronal": ((1.0, 0.0, 0.0), (0.0, 0.0, -1.0)),  # H at the top
    "sagittal": ((0.0, 1.0, 0.0), (0.0, 0.0, -1.0)),  # A on the left, H at the top
}
_STEP_TOLERANCE = 0.05  # relative deviation of a slice step before "irregular"
_TILT_TOLERANCE_DEG = 0.5
_SAME_DIRECTION = 1e-4  # max component difference of unit vectors taken as equal


@dataclass(frozen=True)
class MprResult:
    stack: ImageStack
    warnings: tuple[Warning_, ...]


def slice_axis(stack: ImageStack) -> tuple[np.ndarray, float, tuple[Warning_, ...]]:
    """Unit vector from slice to slice, mean step (mm) and what is irregular about them."""
    positions = np.array([s.position for s in stack.slices], dtype=float)
    span = positions[-1] - positions[0]
    length = float(np.linalg.norm(span))
    if length == 0.0:
        raise ValueError("all slices share one position: not a volume")
    axis = span / length
    step = length / (len(positions) - 1)
    found = []
    increments = np.diff(positions @ axis)
    if np.any(np.abs(increments - step) > _STEP_TOLERANCE * step):
        found.append(Warning_("inconsistent_slice_increment",
                              f"slice steps from {increments.min():.2f} to {increments.max():.2f}"
                              f" mm; the reformat uses the mean step {step:.2f} mm"))
    normal = np.asarray(stack.direction, dtype=float)[:, 2]
    tilt = float(np.degrees(np.arccos(min(1.0, abs(float(axis @ normal))))))
    if tilt > _TILT_TOLERANCE_DEG:
        found.append(Warning_("gantry_tilt", f"slices are sheared by {tilt:.1f}°; "
                              "the reformat follows the true slice positions"))
    return axis, step, tuple(found)


def reslice(stack: ImageStack, plane: str) -> MprResult:
    """Reformat ``stack`` (a grey volume) into ``plane``: "axial", "coronal" or "sagittal"."""
    if plane not in PLANES:
        raise ValueError(f"unknown plane {plane!r}; known: {', '.join(PLANES)}")
    if not stack.is_volume or stack.is_colour:
        raise ValueError("multiplanar reformats need a grey volume of 3 or more positioned slices")
    axis, step, found = slice_axis(stack)
    d = np.asarray(stack.direction, dtype=float)
    right, down = (np.asarray(v) for v in PLANES[plane])
    target = np.column_stack([right, down, np.cross(right, down)])
    # Already in this plane (whichever way it scrolls): the acquisition itself, shared.
    along = axis if float(axis @ target[:, 2]) >= 0 else -axis
    if not found and np.abs(np.column_stack([d[:, :2], along]) - target).max() < _SAME_DIRECTION:
        return MprResult(stack, found)
    sx, sy = stack.spacing[0], stack.spacing[1]
    source = np.column_stack([d[:, 0], d[:, 1], axis])  # index mm → patient, sheared if tilted
    p0 = np.asarray(stack.slices[0].position, dtype=float)

    extent_mm = np.array([(stack.columns - 1) * sx, (stack.rows - 1) * sy,
                          (stack.count - 1) * step])
    corners = np.array([[i, j, k] for i in (0, 1) for j in (0, 1) for k in (0, 1)]) * extent_mm
    q = (source @ corners.T).T @ target  # corners in the target frame, relative to p0
    q_min, q_max = q.min(axis=0), q.max(axis=0)
    # Each output axis keeps the spacing of the source axis it runs along most.
    to_source = np.linalg.solve(source, target)  # output mm → input mm
    source_spacing = np.array([sx, sy, step])
    aligned = np.argmax(np.abs(to_source) / source_spacing[:, None], axis=0)
    out_spacing = source_spacing[aligned]
    dims = np.floor((q_max - q_min) / out_spacing + 1e-6).astype(int) + 1

    matrix = vtkMatrix4x4()
    offset = to_source @ q_min
    for r in range(3):
        for c in range(3):
            matrix.SetElement(r, c, float(to_source[r, c]))
        matrix.SetElement(r, 3, float(offset[r]))

    values = np.ascontiguousarray(stack.values, dtype=np.float32)
    image = vtkImageData()
    image.SetDimensions(stack.columns, stack.rows, stack.count)
    image.SetSpacing(sx, sy, step)
    image.GetPointData().SetScalars(numpy_to_vtk(values.reshape(-1), deep=False))
    filt = vtkImageReslice()
    filt.SetInputData(image)
    filt.SetResliceAxes(matrix)
    filt.SetOutputOrigin(0.0, 0.0, 0.0)
    filt.SetOutputSpacing(*(float(s) for s in out_spacing))
    filt.SetOutputExtent(0, int(dims[0]) - 1, 0, int(dims[1]) - 1, 0, int(dims[2]) - 1)
    filt.SetInterpolationModeToLinear()
    filt.SetBackgroundLevel(float(np.nanmin(values)))
    filt.Update()
    # No copy: the array keeps VTK's output buffer alive (numpy.frombuffer).
    out = vtk_to_numpy(filt.GetOutput().GetPointData().GetScalars())
    resliced = out.reshape(int(dims[2]), int(dims[1]), int(dims[0]))

    origin = p0 + target @ q_min
    slices = tuple(SliceInfo(sop_instance_uid="", frame=k,
                             position=_point(origin + k * out_spacing[2] * target[:, 2]))
                   for k in range(int(dims[2])))
    rv, cv = right.astype(float), down.astype(float)
    orientation = (float(rv[0]), float(rv[1]), float(rv[2]),
                   float(cv[0]), float(cv[1]), float(cv[2]))
    header = replace(stack.header, image_orientation=orientation)
    reformatted = replace(
        stack, values=resliced, slices=slices,
        spacing=(float(out_spacing[0]), float(out_spacing[1]), float(out_spacing[2])),
        origin=_point(origin), direction=target,
        header=header, warnings=stack.warnings + found,
        overlays=())  # overlay planes lie on the source slices, not on the reformat
    return MprResult(reformatted, found)


def _point(v: np.ndarray) -> tuple[float, float, float]:
    return (float(v[0]), float(v[1]), float(v[2]))


def patient_point(stack: ImageStack, index: int, column: float, row: float) -> np.ndarray:
    """Patient LPS position (mm) of image point (``column``, ``row``) on slice ``index``."""
    position = stack.slices[index].position
    if position is None:
        raise ValueError("this slice has no position in patient space")
    d = np.asarray(stack.direction, dtype=float)
    return (np.asarray(position, dtype=float) + column * stack.spacing[0] * d[:, 0]
            + row * stack.spacing[1] * d[:, 1])


@dataclass(frozen=True)
class Location:
    """Where a patient point falls in a stack: nearest slice, image point on it, distance."""

    index: int
    column: float
    row: float
    distance_mm: float  # from the point to the plane of that slice


def locate(stack: ImageStack, point: np.ndarray) -> Location | None:
    """The slice of ``stack`` nearest to patient ``point`` and the point's image coordinates
    on it (None when the stack has no slice positions). Works for irregular slice steps."""
    if not stack.slices or any(s.position is None for s in stack.slices):
        return None
    d = np.asarray(stack.direction, dtype=float)
    offsets = np.asarray(point, dtype=float) - np.array([s.position for s in stack.slices])
    along = offsets @ d[:, 2]
    k = int(np.argmin(np.abs(along)))
    rel = offsets[k]
    return Location(k, float(rel @ d[:, 0]) / stack.spacing[0],
                    float(rel @ d[:, 1]) / stack.spacing[1], float(abs(along[k])))
