"""MPR as read: one window for the acquisition and its reformats, crosshair navigation in
patient space, reformats that share or keep the source's sampling (offscreen, no X)."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest
from vtkmodules.vtkCommonCore import vtkCommand
from vtkmodules.vtkRenderingUI import vtkGenericRenderWindowInteractor

from imaging.header import InstanceHeader, read_header
from imaging.loader import load_stack
from imaging.pipeline import VoiWindow
from imaging.stack import ImageStack, SliceInfo
from viewer.interaction import ViewerInteraction
from viewer.layout import ViewportGrid
from viewer.linking import ViewLink
from viewer.mpr import locate, patient_point, reslice
from viewer.offscreen import offscreen_render_window
from viewer.windowing import stack_window

DATA = Path(__file__).parents[2] / "shared" / "datasets" / "dicom"
CT3 = DATA / "dcmqi" / "ct-3slice"
OBLIQUE_MR = DATA / "dicom2nifti" / "valid" / "hitachi" / "anatomical" / "001"
PLANES = ("coronal", "sagittal", "axial")
# The bright blob of the synthetic volume: slice, row, column.
BLOB = (12, 20, 25)


def load(path: Path) -> ImageStack:
    return load_stack([read_header(f) for f in sorted(path.iterdir())])


def xyz(v: np.ndarray) -> tuple[float, float, float]:
    return (float(v[0]), float(v[1]), float(v[2]))


def oblique_phantom() -> ImageStack:
    """A double-oblique volume (20° about z, then 15° about x), anisotropic voxels, with a
    bright 3×3×3 blob centred on BLOB and file window 40/400."""
    a, b = np.radians(20), np.radians(15)
    rz = np.array([[np.cos(a), -np.sin(a), 0], [np.sin(a), np.cos(a), 0], [0, 0, 1.0]])
    rx = np.array([[1.0, 0, 0], [0, np.cos(b), -np.sin(b)], [0, np.sin(b), np.cos(b)]])
    d = rx @ rz
    spacing = (0.9, 1.1, 2.5)
    values = np.full((24, 40, 48), -1000.0, np.float32)
    k, r, c = BLOB
    values[k - 1:k + 2, r - 1:r + 2, c - 1:c + 2] = 1000.0
    origin = np.array([-20.0, 15.0, 40.0])
    positions = [xyz(origin + d[:, 2] * n * spacing[2]) for n in range(values.shape[0])]
    row, col = xyz(d[:, 0]), xyz(d[:, 1])
    header = InstanceHeader(path=Path("phantom.dcm"), file_size=0, sop_class_uid="",
                            sop_instance_uid="1.2.3", transfer_syntax_uid="", modality="CT",
                            image_orientation=(*row, *col))
    return ImageStack(values=values, spacing=spacing, direction=d, header=header,
                      slices=tuple(SliceInfo("1.2.3", n, p) for n, p in enumerate(positions)),
                      origin=positions[0], windows=(VoiWindow(40.0, 400.0, name="file"),))


def mpr_grid(stack: ImageStack, size: int = 400) -> tuple[ViewportGrid, ViewLink]:
    """Acquisition + coronal + sagittal + axial in a 2×2 grid, linked as the app links them."""
    grid = ViewportGrid(offscreen_render_window((size, size)), "2x2")
    source = grid.views[0]
    source.set_stack(stack)
    for view, plane in zip(grid.views[1:], PLANES, strict=True):
        view.set_stack(reslice(stack, plane).stack)
    for view in grid.views:
        view.set_window(source.window, name=source.window_name)  # type: ignore[arg-type]
    return grid, ViewLink(grid.views)


def windows(grid: ViewportGrid) -> list[tuple[float, float]]:
    return [(v.window.center, v.window.width) for v in grid.views if v.window is not None]


def test_window_change_in_any_plane_reaches_the_other_three() -> None:
    grid, _ = mpr_grid(oblique_phantom())
    _, coronal, sagittal, axial = grid.views
    assert windows(grid) == [(40.0, 400.0)] * 4
    assert coronal.apply_preset(1)  # lung, from the coronal
    assert windows(grid) == [(-600.0, 1500.0)] * 4
    assert {v.window_name for v in grid.views} == {"lung"}
    sagittal.window_level_drag(40, -20)  # a drag in the sagittal: a window of the user's own
    dragged = sagittal.window
    assert dragged is not None and (dragged.center, dragged.width) != (-600.0, 1500.0)
    assert windows(grid) == [(dragged.center, dragged.width)] * 4
    axial.reset()  # R: back to the file window everywhere
    assert windows(grid) == [(40.0, 400.0)] * 4


def test_crosshair_click_moves_the_other_planes_to_the_point() -> None:
    stack = oblique_phantom()
    k, r, c = BLOB
    target = patient_point(stack, k, c, r)  # the blob's centre, patient mm
    grid, link = mpr_grid(stack)
    interactor = vtkGenericRenderWindowInteractor()
    interactor.SetRenderWindow(grid.render_window)
    interaction = ViewerInteraction(interactor, grid)
    interaction.link = link
    grid.render_window.Render()
    source, coronal, sagittal, axial = grid.views
    where = locate(coronal.stack, target)  # type: ignore[arg-type]
    assert where is not None
    coronal.set_index(where.index)
    x, y = coronal.image_to_display(where.column, where.row)
    interactor.SetEventInformation(round(x), round(y), 0, 1, "\0", 0, "")  # Shift+left click
    interactor.InvokeEvent(vtkCommand.LeftButtonPressEvent)
    interactor.InvokeEvent(vtkCommand.LeftButtonReleaseEvent)
    assert link.point is not None
    assert np.linalg.norm(link.point - target) < 1.0  # within a screen pixel or so
    assert source.index == k  # the acquired slice that holds the blob
    col, row = source.crosshair  # type: ignore[misc]
    assert abs(col - c) < 1.0 and abs(row - r) < 1.0
    for view in (sagittal, axial, coronal):
        assert view.stack is not None and view.crosshair is not None
        shown = locate(view.stack, target)
        assert shown is not None and view.index == shown.index
        assert shown.distance_mm <= view.stack.spacing[2] / 2 + 1.0
        # The reformat shows the blob under its crosshair.
        cc, cr = (round(v) for v in view.crosshair)
        assert view.stack.values[view.index, cr, cc] > 0.0


def test_oblique_mr_crosshair_and_orientation_letters() -> None:
    stack = load(OBLIQUE_MR)
    grid, link = mpr_grid(stack, size=300)
    source, coronal, sagittal, axial = grid.views
    for view, expected in ((coronal, ("R", "L", "H", "F")), (sagittal, ("A", "P", "H", "F")),
                           (axial, ("R", "L", "A", "P"))):
        labels = view.edge_labels
        assert (labels.left, labels.right, labels.top, labels.bottom) == expected
    middle = stack.count // 2
    point = link.cross_at(source, stack.columns / 2, stack.rows / 2)
    assert point is not None and source.index == middle
    for view in (coronal, sagittal, axial):
        assert view.stack is not None
        slice_position = np.asarray(view.stack.slices[view.index].position, dtype=float)
        off_plane = abs(float((point - slice_position) @ view.stack.direction[:, 2]))
        assert off_plane <= view.stack.spacing[2] / 2 + 1e-6
    # Back from the axial: the acquisition goes to the same slice.
    source.set_index(0)
    assert axial.crosshair is not None
    link.cross_at(axial, *axial.crosshair)
    assert source.index == middle


def test_axial_of_an_axial_acquisition_is_the_acquisition_itself() -> None:
    ct = load(CT3)
    axial = reslice(ct, "axial")
    assert axial.stack is ct and axial.warnings == ()
    coronal = reslice(ct, "coronal").stack
    # The coronal keeps the acquisition's sampling: column spacing across, slice step down.
    z = [s.position[2] for s in ct.slices if s.position is not None]
    assert coronal.spacing[:2] == pytest.approx((ct.spacing[0], abs(z[1] - z[0])))
    assert coronal.values.nbytes <= ct.values.nbytes * 1.01


def test_linked_views_stop_following_after_detach() -> None:
    grid, link = mpr_grid(oblique_phantom())
    link.cross_at(grid.views[0], 10, 10)
    link.detach()
    assert all(v.crosshair is None for v in grid.views)
    grid.views[1].apply_preset(1)
    assert windows(grid)[0] == (40.0, 400.0)


def test_cli_mpr_renders_the_three_planes_in_the_source_window(monkeypatch, tmp_path) -> None:
    from app import cli_render
    from viewer import render

    seen: dict[str, object] = {}

    def fake_render(stacks: list[ImageStack], out: Path, **kw: object) -> Path:
        seen.update(kw, stacks=stacks)
        return out

    monkeypatch.setattr(render, "render_to_png", fake_render)
    opts = argparse.Namespace(path=OBLIQUE_MR, out=tmp_path / "mpr.png", size="300x300",
                              slice=None, window=None, preset=None, layout="mpr", series=None)
    assert cli_render.run_render(opts) == 0
    source = load(OBLIQUE_MR)
    expected = stack_window(source, source.count // 2)
    assert seen["layout"] == "2x2" and len(seen["stacks"]) == 3  # type: ignore[arg-type]
    window = seen["window"]
    assert isinstance(window, VoiWindow)
    assert (window.center, window.width) == pytest.approx((expected.center, expected.width))
