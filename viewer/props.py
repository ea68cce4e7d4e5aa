"""Small factories for the VTK props a slice view is made of (images, lines, texts)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from vtkmodules.util.numpy_support import numpy_to_vtk
from vtkmodules.vtkCommonCore import vtkPoints
from vtkmodules.vtkCommonDataModel import vtkCellArray, vtkImageData, vtkPolyData
from vtkmodules.vtkRenderingCore import (
    vtkActor,
    vtkActor2D,
    vtkCoordinate,
    vtkImageSlice,
    vtkImageSliceMapper,
    vtkPolyDataMapper,
    vtkPolyDataMapper2D,
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


def _polylines(lines: Sequence[Sequence[Sequence[float]]]) -> vtkPolyData:
    points = vtkPoints()
    cells = vtkCellArray()
    for line in lines:
        ids = []
        for p in line:
            ids.append(points.InsertNextPoint(p[0], p[1], p[2] if len(p) > 2 else 0.0))
        cells.InsertNextCell(len(ids), ids)
    poly = vtkPolyData()
    poly.SetPoints(points)
    poly.SetLines(cells)
    return poly


def polyline_actor(lines: Sequence[Sequence[World]], color: tuple[float, float, float],
                   width: float = 2.0) -> vtkActor:
    """One actor drawing each point sequence of ``lines`` as an open polyline."""
    mapper = vtkPolyDataMapper()
    mapper.SetInputData(_polylines(lines))
    actor = vtkActor()
    actor.SetMapper(mapper)
    prop = actor.GetProperty()
    prop.SetColor(*color)
    prop.SetLineWidth(width)
    prop.SetLighting(False)
    return actor


def screen_glyph(lines: Sequence[Sequence[tuple[float, float]]], at: World,
                 color: tuple[float, float, float], width: float = 2.0,
                 layer: int = 0) -> vtkActor2D:
    """Polylines given in display pixels around a world point: a symbol that follows pan and
    zoom but keeps its size on screen. Higher ``layer`` numbers are drawn on top."""
    mapper = vtkPolyDataMapper2D()
    mapper.SetInputData(_polylines(lines))
    actor = vtkActor2D()
    actor.SetMapper(mapper)
    coordinate = actor.GetPositionCoordinate()
    coordinate.SetCoordinateSystemToWorld()
    coordinate.SetValue(*at)
    actor.SetLayerNumber(layer)
    prop = actor.GetProperty()
    prop.SetColor(*color)
    prop.SetLineWidth(width)
    return actor


def world_text(text: str, at: World, color: tuple[float, float, float],
               size: int = 14, offset_px: tuple[float, float] = (0.0, 0.0)) -> vtkTextActor:
    """A screen-aligned text anchored at a world point (follows pan and zoom), its lower-left
    corner ``offset_px`` display pixels away from it (x right, y up)."""
    actor = vtkTextActor()
    actor.SetInput(text)
    coordinate = actor.GetPositionCoordinate()
    coordinate.SetCoordinateSystemToWorld()
    coordinate.SetValue(*at)
    if offset_px != (0.0, 0.0):
        anchor = vtkCoordinate()
        anchor.SetCoordinateSystemToWorld()
        anchor.SetValue(*at)
        coordinate.SetCoordinateSystemToDisplay()
        coordinate.SetReferenceCoordinate(anchor)
        coordinate.SetValue(*offset_px)
    prop = actor.GetTextProperty()
    prop.SetColor(*color)
    prop.SetFontSize(size)
    prop.SetShadow(True)
    prop.SetBold(True)
    return actor


def tag_text(text: str, at: World, background: tuple[float, float, float],
             size: int = 13) -> vtkTextActor:
    """A small filled tag (dark bold text on ``background``) just above and right of a
    world point."""
    actor = world_text(f" {text} ", at, (0.0, 0.0, 0.0), size, offset_px=(2.0, 2.0))
    prop = actor.GetTextProperty()
    prop.SetShadow(False)
    prop.SetBackgroundColor(*background)
    prop.SetBackgroundOpacity(1.0)
    return actor
