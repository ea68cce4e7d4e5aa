"""SliceView, interaction, layouts, hanging and MPR on synthetic stacks (offscreen, no X)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from vtkmodules.vtkCommonCore import vtkCommand
from vtkmodules.vtkRenderingUI import vtkGenericRenderWindowInteractor

from imaging.header import InstanceHeader
from imaging.pipeline import VoiWindow
from imaging.stack import ImageStack, SliceInfo
from viewer.hanging import chest_wall_side, hang_mammo4
from viewer.interaction import ViewerInteraction
from viewer.layout import ViewportGrid
from viewer.mpr import reslice
from viewer.offscreen import capture, offscreen_render_window
from viewer.orientation import edge_labels, orientation_letters
from viewer.overlays import Box, Heatmap, OverlayBitmap
from viewer.slice_view import SliceView
from viewer.windowing import lookup_table

SIZE = 200


def make_header(**kw: object) -> InstanceHeader:
    base: dict[str, object] = dict(path=Path("synthetic.dcm"), file_size=0, sop_class_uid="",
                                   sop_instance_uid="1.2.3", transfer_syntax_uid="",
                                   patient_name="DOE^JANE", patient_id="P1", study_date="20240102",
                                   modality="CT", series_number=3, series_description="AX")
    base.update(kw)
    return InstanceHeader(**base)  # type: ignore[arg-type]


def make_stack(values: np.ndarray, *, spacing: tuple[float, float, float] = (1.0, 1.0, 1.0),
               direction: np.ndarray | None = None, window: VoiWindow | None = None,
               positions: list[tuple[float, float, float]] | None = None,
               iop: bool = True, **header: object) -> ImageStack:
    d = np.eye(3) if direction is None else direction
    if positions is None:
        positions = [tuple(float(v) for v in d[:, 2] * k * spacing[2])  # type: ignore[misc]
                     for k in range(values.shape[0])]
    orientation = tuple(float(v) for v in (*d[:, 0], *d[:, 1])) if iop else None
    h = make_header(image_orientation=orientation, **header)
    return ImageStack(values=values.astype(values.dtype), spacing=spacing,
                      slices=tuple(SliceInfo("1.2.3", k, p) for k, p in enumerate(positions)),
                      origin=positions[0], direction=d, header=h,
                      windows=(window or VoiWindow(50.0, 100.0, "LINEAR_EXACT", "file"),),
                      is_colour=values.ndim == 4)


@pytest.fixture()
def view() -> SliceView:
    window = offscreen_render_window((SIZE, SIZE))
    v = SliceView(window)
    v.show_annotations = False
    return v


def grey_at(view: SliceView, img: np.ndarray, col: float, row: float) -> np.ndarray:
    x, y = view.image_to_display(col, row)
    return img[img.shape[0] - 1 - round(y), round(x)].astype(int)


def test_row0_top_column0_left_and_pixel_aspect(view: SliceView) -> None:
    v = np.full((1, 40, 20), 20.0, np.float32)  # dark grey background: the image's extent
    v[0, :5, 3:] = 100.0  # top rows white
    v[0, :, :3] = 50.0  # left columns mid-grey
    view.set_stack(make_stack(v, spacing=(2.0, 1.0, 1.0)))  # pixels twice as wide as tall
    img = capture(view.render_window)[..., 0].astype(int)
    assert img[20, 120] == 255 and img[170, 120] == 51  # top of the screen = row 0
    assert img[100, 20] == 128 and img[100, 180] == 51  # left of the screen = column 0
    # 40 rows × 1 mm and 20 columns × 2 mm: a square on screen, filling the fit.
    width = np.count_nonzero(img[100, 1:-1] > 40)
    height = np.count_nonzero(img[1:-1, 150] > 40)
    assert width == pytest.approx(SIZE / 1.02, abs=2) and height == pytest.approx(width, abs=1)


def test_window_level_drag_direction_and_speed(view: SliceView) -> None:
    view.set_stack(make_stack(np.linspace(0, 4000, 400, dtype=np.float32).reshape(1, 20, 20),
                              window=VoiWindow(2000.0, 4000.0)))
    view.window_level_drag(100, 0)
    assert view.window is not None and view.window.width == pytest.approx(6000.0)
    view.set_window(VoiWindow(40.0, 80.0))
    view.window_level_drag(0, 100)  # drag up: level down (brighter)
    assert view.window.center < 40.0 and view.window.center > -20.0  # speed ∝ width (80)
    assert view.window.width == pytest.approx(80.0)


def test_sigmoid_window_lut_follows_standard(view: SliceView) -> None:
    w = VoiWindow(0.0, 200.0, "SIGMOID")
    table = lookup_table(w, (-1000.0, 1000.0))
    rgba = np.array([table.GetTableValue(table.GetIndex(x)) for x in (-100.0, 0.0, 60.0)])
    np.testing.assert_allclose(rgba[:, 0], w.apply(np.array([-100.0, 0.0, 60.0])), atol=0.01)


def test_invert_toggle_and_monochrome1(view: SliceView) -> None:
    v = np.zeros((1, 20, 20), np.float32)
    v[0, :, 10:] = 100.0
    stack = make_stack(v)
    view.set_stack(stack)
    img = capture(view.render_window)[..., 0]
    assert grey_at(view, img, 15, 10) > 200 and grey_at(view, img, 5, 10) < 50
    view.toggle_invert()
    img = capture(view.render_window)[..., 0]
    assert grey_at(view, img, 15, 10) < 50 and view.inverted
    from dataclasses import replace
    view.set_stack(replace(stack, invert=True))  # MONOCHROME1
    img = capture(view.render_window)[..., 0]
    assert grey_at(view, img, 15, 10) < 50 and view.inverted and not view.user_inverted


def test_zoom_fit_one_to_one_pan_and_reset(view: SliceView) -> None:
    v = np.zeros((1, 50, 50), np.float32)
    v[0, ::2, :] = 100.0  # stripes one pixel high
    view.set_stack(make_stack(v))
    assert view.zoom == pytest.approx(SIZE / 51.0, rel=0.02)  # fit (2 % margin)
    view.one_to_one()
    img = capture(view.render_window)[..., 0].astype(int)
    column = img[75:125, 100]
    assert view.zoom == pytest.approx(1.0)
    assert np.all(np.abs(np.diff(column)) > 150)  # alternate every screen pixel
    before = view.image_to_display(10, 10)
    view.pan(7, -3)
    after = view.image_to_display(10, 10)
    assert after[0] - before[0] == pytest.approx(7, abs=0.01)
    assert after[1] - before[1] == pytest.approx(-3, abs=0.01)
    view.zoom_by(2.0, around=(60, 60))
    p = view.display_to_image(60, 60)
    view.zoom_by(1.5, around=(60, 60))
    assert view.display_to_image(60, 60) == pytest.approx(p)
    view.toggle_invert()
    view.reset()
    assert not view.user_inverted and view.zoom == pytest.approx(SIZE / 51.0, rel=0.02)


def test_scroll_clamps_and_measurements_belong_to_a_slice(view: SliceView) -> None:
    view.set_stack(make_stack(np.zeros((5, 10, 10), np.float32), spacing=(0.5, 2.0, 3.0)))
    assert view.index == 2
    view.scroll(+10)
    assert view.index == 4
    d = view.add_distance((0.0, 0.0), (4.0, 3.0))
    assert d.length_mm(view.spacing) == pytest.approx(np.hypot(2.0, 6.0))
    assert view.measurement_text(d) == f"{np.hypot(2.0, 6.0):.1f} mm"
    a = view.add_angle((4.0, 0.0), (0.0, 0.0), (0.0, 1.0))
    assert a.degrees(view.spacing) == pytest.approx(90.0)
    shown = len(view._layer_props["marks"])
    view.scroll(-1)
    assert shown == 4 and len(view._layer_props["marks"]) == 0
    from dataclasses import replace
    assert view.stack is not None
    view.set_stack(replace(view.stack, spacing_calibrated=False))
    assert "(detector)" in view.measurement_text(view.add_distance((0, 0), (1, 0)))


def test_corner_texts_and_position(view: SliceView) -> None:
    view.set_stack(make_stack(np.zeros((3, 8, 8), np.float32), spacing=(1.0, 1.0, 2.5)))
    texts = view.corner_texts
    assert "DOE JANE" in texts.upper_left and "2024-01-02" in texts.upper_left
    assert "Im 2/3" in texts.lower_left and "Pos 2.5 mm" in texts.lower_left
    assert "W 100 L 50" in texts.lower_right and "Se 3 AX" in texts.upper_right


def test_heatmap_boxes_bitmaps_and_ai_toggle(view: SliceView) -> None:
    view.set_stack(make_stack(np.zeros((1, 40, 40), np.float32)))
    heat = np.zeros((40, 40), np.float32)
    heat[5:15, 5:15] = 1.0
    view.set_heatmap(Heatmap(heat, "turbo", opacity=1.0, threshold=0.5))
    view.set_boxes([Box((25, 25, 35, 35), "fracture", 0.91)])
    view.set_overlay_bitmaps([OverlayBitmap(np.ones((4, 4), bool), origin=(30, 2))])
    img = capture(view.render_window).astype(int)
    hot = grey_at(view, img, 10, 10)
    assert hot[0] > 100 and hot[2] < 60  # turbo's top end: dark red
    assert grey_at(view, img, 20, 10).sum() == 0  # under threshold: transparent
    edge = grey_at(view, img, 30, 24.5)  # the box (25, 25, ...) starts at the corner of pixel 25
    assert edge[0] > 200 and 120 < edge[1] < 210 and edge[2] < 60  # amber
    assert grey_at(view, img, 3, 31)[2] < 150 < grey_at(view, img, 3, 31)[0]  # yellow bitmap
    view.set_ai_overlays_visible(False)
    img = capture(view.render_window).astype(int)
    assert grey_at(view, img, 10, 10).sum() == 0 and grey_at(view, img, 30, 24.5).sum() == 0
    assert grey_at(view, img, 3, 31)[0] > 200  # DICOM overlay planes are not AI


def test_interactor_events_drive_the_view() -> None:
    window = offscreen_render_window((SIZE, SIZE))
    grid = ViewportGrid(window, "1x2")
    interactor = vtkGenericRenderWindowInteractor()
    interactor.SetRenderWindow(window)
    maximised: list[SliceView] = []
    interaction = ViewerInteraction(interactor, grid)
    interaction.callbacks.maximise = maximised.append
    for v in grid.views:
        v.set_stack(make_stack(np.zeros((6, 10, 10), np.float32)))
    left, right = grid.views
    window.Render()

    def event(name: int, x: int, y: int, key: str = "", ctrl: int = 0, repeat: int = 0) -> None:
        interactor.SetEventInformation(x, y, ctrl, 0, "\0", repeat, key)
        interactor.InvokeEvent(name)

    event(vtkCommand.MouseWheelBackwardEvent, 150, 100)
    assert right.index == 4 and left.index == 3 and grid.active is right
    zoom = right.zoom
    event(vtkCommand.MouseWheelForwardEvent, 150, 100, ctrl=1)
    assert right.zoom > zoom and right.index == 4
    assert right.window is not None
    width = right.window.width
    event(vtkCommand.LeftButtonPressEvent, 150, 100)
    event(vtkCommand.MouseMoveEvent, 170, 100)
    event(vtkCommand.LeftButtonReleaseEvent, 170, 100)
    assert right.window.width > width
    event(vtkCommand.KeyPressEvent, 150, 100, key="i")
    assert right.inverted
    event(vtkCommand.KeyPressEvent, 150, 100, key="Down")
    assert right.index == 5
    event(vtkCommand.KeyPressEvent, 150, 100, key="1")  # CT preset 1 = lung
    assert right.window.name == "lung"
    event(vtkCommand.LeftButtonPressEvent, 50, 100, repeat=1)
    assert maximised == [left]
    interaction.callbacks.maximise = None
    event(vtkCommand.LeftButtonPressEvent, 50, 100, repeat=1)
    assert grid.maximised is left and grid.view_at(150, 100) is left
    interaction.set_left_mode("distance")
    event(vtkCommand.LeftButtonPressEvent, 60, 60)
    event(vtkCommand.LeftButtonReleaseEvent, 140, 60)
    assert len(left.measurements) == 1


def test_layouts_and_view_at() -> None:
    window = offscreen_render_window((300, 200))
    grid = ViewportGrid(window, "2x2")
    assert len(grid.views) == 4 and grid.view_at(10, 190) is grid.views[0]
    assert grid.view_at(290, 10) is grid.views[3]
    grid.set_layout("1x2")
    assert len(grid.views) == 2 and window.GetRenderers().GetNumberOfItems() == 2
    with pytest.raises(ValueError, match="unknown layout"):
        grid.set_layout("3x7")


def test_orientation_letters_rule() -> None:
    assert orientation_letters((1, 0, 0)) == "L" and orientation_letters((0, -1, 0)) == "A"
    assert orientation_letters((0, 0, 1)) == "H"
    assert orientation_letters((0.8, -0.6, 0.0)) == "LA"
    labels = edge_labels(np.eye(3))
    assert (labels.left, labels.right, labels.top, labels.bottom) == ("R", "L", "A", "P")
    flipped = edge_labels(np.eye(3), flip_horizontal=True)
    assert (flipped.left, flipped.right) == ("L", "R")


def _breast(side: str, laterality: str, view: str,
            patient_orientation: tuple[str, ...] = ()) -> ImageStack:
    v = np.zeros((1, 60, 40), np.float32)
    if side == "left":
        v[0, 5:55, :25] = 1000.0
    else:
        v[0, 5:55, 15:] = 1000.0
    return make_stack(v, iop=False, modality="MG", laterality=laterality, view_position=view,
                      window=VoiWindow(500.0, 1000.0), patient_orientation=patient_orientation)


def test_mammo_hanging_flips_to_face_chest_walls() -> None:
    stacks = [_breast("left", "R", "CC"), _breast("left", "L", "CC"),
              _breast("right", "R", "MLO", patient_orientation=("A", "FR")),
              _breast("right", "L", "MLO")]
    assert chest_wall_side(stacks[0]) == "left" and chest_wall_side(stacks[3]) == "right"
    assert chest_wall_side(stacks[2]) == "left"  # PatientOrientation wins over the pixels
    hung = hang_mammo4(stacks)
    assert hung["RCC"].flip and not hung["LCC"].flip
    assert hung["RMLO"].flip and hung["LMLO"].flip


def test_mpr_oblique_volume_labels_and_irregular_warning() -> None:
    angle = np.radians(20)
    rot = np.array([[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0],
                    [0, 0, 1.0]])
    v = np.zeros((10, 30, 30), np.float32)
    v[:, 10:20, 10:20] = 100.0
    stack = make_stack(v, spacing=(1.0, 1.0, 2.0), direction=rot)
    coronal = reslice(stack, "coronal")
    assert coronal.warnings == ()
    labels = edge_labels(coronal.stack.direction)
    assert (labels.left, labels.right, labels.top, labels.bottom) == ("R", "L", "H", "F")
    axial = reslice(stack, "axial").stack
    # The cube's centre (patient) survives the reformat: same value at the same place.
    centre = np.asarray(stack.slices[5].position) + rot @ np.array([15.0, 15.0, 0.0])
    k = round((centre - np.asarray(axial.origin)) @ axial.direction[:, 2] / axial.spacing[2])
    rel = (centre - np.asarray(axial.slices[k].position)) @ axial.direction[:, :2]
    col, row = round(rel[0] / axial.spacing[0]), round(rel[1] / axial.spacing[1])
    assert axial.values[k, row, col] == pytest.approx(100.0)
    positions = [(0.0, 0.0, float(z)) for z in (0, 2, 4, 7, 9, 11, 13, 15, 17, 19)]
    irregular = reslice(make_stack(v, spacing=(1.0, 1.0, 2.0), positions=positions), "sagittal")
    assert [w.kind for w in irregular.warnings] == ["inconsistent_slice_increment"]
