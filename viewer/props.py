"""Small factories for the VTK props a slice view is made of (images, lines, texts)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from vtkmodules.util.numpy_support import numpy_to_vtk
from vtkmodules.vtkCommonCore import vtkPoints
from vtkmodules.vtkCommonDataModel import vtkCellArray, vtkImageData, vtkPolyData
from vtkmodules.vtkRenderingCore import (
    vtkActor,
    vtkImageSlice,
    vtkImageSliceMapper,
    vtkPolyDataMapper,
    vtkTextActor,
)

World = tuple[float, float, float]


def image_data(array: np.ndarray, spacing: tuple[float, float]) -> vtkImageData:
    """A 2-D vtkImageData whose index (i, j) is (column, row) of ``array`` — no flip.

    ``array`` is ``(rows, cols)`` or ``(rows, cols, components)``. Row 0 lands at
    y = 0; the view's camera looks with y pointing down the screen, so row 0 is shown
    at the top as stored.
    """
    rows, cols = array.shape[:2]
    components = 1 if array.ndim == 2 else array.shape[2]
    flat = np.ascontiguousarray(array).reshape(rows * cols, components)
    data = vtkImageData()
    data.SetDimensions(cols, rows, 1)
    data.SetSpacing(spacing[0], spacing[1], 1.0)
    data.SetOrigin(0.0, 0.0, 0.0)
    scalars = numpy_to_vtk(flat if components > 1 else flat[:, 0], deep=True)
    data.GetPointData().SetScalars(scalars)
    return data


def stack_image_data(values: np.ndarray, spacing: tuple[float, float]) -> vtkImageData:
    """A 3-D vtkImageData over a whole ``(n, rows, cols[, components])`` stack, sharing its memory.

    Index (i, j, k) is (column, row, image k), no flip, z spacing 1 (the view moves the
    prop so the shown image lies at z = 0). The scalars borrow ``values``' buffer
    (copied once only when it is not C-contiguous); the VTK array keeps a reference to it.
    """
    n, rows, cols = values.shape[:3]
    components = 1 if values.ndim == 3 else values.shape[3]
    flat = np.ascontiguousarray(values).reshape(n * rows * cols, components)
    data = vtkImageData()
    data.SetDimensions(cols, rows, n)
    data.SetSpacing(spacing[0], spacing[1], 1.0)
    data.SetOrigin(0.0, 0.0, 0.0)
    scalars = numpy_to_vtk(flat if components > 1 else flat[:, 0], deep=False)
    data.GetPointData().SetScalars(scalars)
    return data


def stack_prop(data: vtkImageData) -> vtkImageSlice:
    """An image prop showing one z slice of ``data``, chosen with :func:`show_slice`."""
    prop = image_prop(data)
    mapper = prop.GetMapper()
    assert isinstance(mapper, vtkImageSliceMapper)
    mapper.SliceFacesCameraOff()
    mapper.SliceAtFocalPointOff()
    mapper.SetOrientationToZ()
    return prop


def show_slice(prop: vtkImageSlice, index: int) -> None:
    """Show image ``index`` of a :func:`stack_prop`, moved to z = 0 (no pixel copied)."""
    mapper = prop.GetMapper()
    assert isinstance(mapper, vtkImageSliceMapper)
    mapper.SetSliceNumber(index)
    prop.SetPosition(0.0, 0.0, -float(index))


def image_prop(data: vtkImageData) -> vtkImageSlice:
    mapper = vtkImageSliceMapper()
    mapper.SetInputData(data)
    mapper.BorderOn()  # draw edge pixels whole, not cut at their centres
    prop = vtkImageSlice()
    prop.SetMapper(mapper)
    return prop


def polyline_actor(lines: Sequence[Sequence[World]], color: tuple[float, float, float],
                   width: float = 2.0) -> vtkActor:
    """One actor drawing each point sequence of ``lines`` as an open polyline."""
    points = vtkPoints()
    cells = vtkCellArray()
    for line in lines:
        ids = []
        for p in line:
            ids.append(points.InsertNextPoint(*p))
        cells.InsertNextCell(len(ids), ids)
    poly = vtkPolyData()
    poly.SetPoints(points)
    poly.SetLines(cells)
    mapper = vtkPolyDataMapper()
    mapper.SetInputData(poly)
    actor = vtkActor()
    actor.SetMapper(mapper)
    prop = actor.GetProperty()
    prop.SetColor(*color)
    prop.SetLineWidth(width)
    prop.SetLighting(False)
    return actor


def world_text(text: str, at: World, color: tuple[float, float, float],
               size: int = 14) -> vtkTextActor:
    """A screen-aligned text anchored at a world point (follows pan and zoom)."""
    actor = vtkTextActor()
    actor.SetInput(text)
    coordinate = actor.GetPositionCoordinate()
    coordinate.SetCoordinateSystemToWorld()
    coordinate.SetValue(*at)
    prop = actor.GetTextProperty()
    prop.SetColor(*color)
    prop.SetFontSize(size)
    prop.SetShadow(True)
    prop.SetBold(True)
    return actor
