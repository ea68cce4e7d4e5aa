"""The radiologist's marks in the viewer: drawing, picking, moving, and the pixels drawn."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from radiographs import dicom_from_picture
from test_viewer import make_stack
from vtkmodules.vtkCommonCore import vtkCommand
from vtkmodules.vtkRenderingUI import vtkGenericRenderWindowInteractor

from imaging.header import read_header
from imaging.loader import load_stack
from imaging.stack import ImageStack
from viewer.interaction import InteractionCallbacks, ViewerInteraction
from viewer.layout import ViewportGrid
from viewer.offscreen import capture, offscreen_render_window
from viewer.overlays import Box
from viewer.reader_marks import ROLE_COLOURS, MarkGlyph, distance_to
from viewer.slice_view import SliceView

SIZE = 200
CHEST = Path(__file__).parents[2] / "shared" / "datasets" / "cxr" / "tb_normal" / "images" \
    / "CHNCXR_0004_0.jpg"


class Rig:
    """A 1x1 grid driven by synthetic interactor events; callbacks recorded in ``calls``."""

    def __init__(self, stack: ImageStack) -> None:
        self.window = offscreen_render_window((SIZE, SIZE))
        self.grid = ViewportGrid(self.window, "1x1")
        self.interactor = vtkGenericRenderWindowInteractor()
        self.interactor.SetRenderWindow(self.window)
        self.calls: list[tuple[Any, ...]] = []
        callbacks = InteractionCallbacks(
            maximise=lambda v: self.calls.append(("maximise",)),
            mark_drawn=lambda v, shape, pts: self.calls.append(("drawn", shape, pts)),
            mark_moved=lambda v, mid, dx, dy: self.calls.append(("moved", mid, dx, dy)),
            mark_selected=lambda v, mid: self.calls.append(("selected", mid)),
            delete_selected=lambda v: self.calls.append(("delete",)))
        self.interaction = ViewerInteraction(self.interactor, self.grid, callbacks)
        self.view = self.grid.views[0]
        self.view.show_annotations = False
        self.view.set_stack(stack)
        self.window.Render()

    def event(self, name: int, x: float, y: float, key: str = "", repeat: int = 0) -> None:
        self.interactor.SetEventInformation(round(x), round(y), 0, 0, "\0", repeat, key)
        self.interactor.InvokeEvent(name)

    def click(self, x: float, y: float, repeat: int = 0) -> None:
        self.event(vtkCommand.LeftButtonPressEvent, x, y, repeat=repeat)
        self.event(vtkCommand.LeftButtonReleaseEvent, x, y)

    def drag(self, start: tuple[float, float], end: tuple[float, float]) -> None:
        self.event(vtkCommand.LeftButtonPressEvent, *start)
        self.event(vtkCommand.MouseMoveEvent, *end)
        self.event(vtkCommand.LeftButtonReleaseEvent, *end)

    def key(self, key: str) -> None:
        self.event(vtkCommand.KeyPressEvent, 100, 100, key=key)

    def corner(self, x: float, y: float) -> tuple[float, float]:
        """The expected report for display (x, y): display_to_image + half a pixel."""
        column, row = self.view.display_to_image(round(x), round(y))
        return (column + 0.5, row + 0.5)


@pytest.fixture()
def rig() -> Rig:
    return Rig(make_stack(np.zeros((2, 20, 40), np.float32)))  # 40 columns, 20 rows


def near(a: tuple[float, ...], b: tuple[float, ...], tol: float = 1e-6) -> bool:
    return all(abs(p - q) <= tol for p, q in zip(a, b, strict=True))


def test_corner_convention(rig: Rig) -> None:
    """Marks put (0, 0) on the top-left pixel's corner: pixel (3, 7)'s centre is (3.5, 7.5)."""
    x, y = rig.view.image_to_display(3.0, 7.0)
    assert near(rig.view.display_to_image_corner(x, y), (3.5, 7.5), 1e-3)
    assert near(rig.view.image_corner_to_display(3.5, 7.5), (x, y), 1e-3)


def test_box_and_ellipse_drawn_with_live_preview(rig: Rig) -> None:
    view = rig.view
    rig.interaction.set_left_mode("draw_box")
    rig.event(vtkCommand.LeftButtonPressEvent, 60, 110)
    rig.event(vtkCommand.MouseMoveEvent, 140, 90)
    layer = view._layer_props["reader_marks"]
    assert layer and not view.marks  # the rubber band is drawn, no mark yet
    rig.event(vtkCommand.LeftButtonReleaseEvent, 140, 90)
    assert rig.calls == [("drawn", "box", (rig.corner(60, 110), rig.corner(140, 90)))]
    assert not view._layer_props["reader_marks"]  # preview gone
    start, end = rig.calls[0][2]
    assert end[0] - start[0] == pytest.approx(80 / view.zoom)  # 80 display px wide
    assert end[1] - start[1] == pytest.approx(20 / view.zoom)  # display y up = rows down
    rig.calls.clear()
    rig.interaction.set_left_mode("draw_ellipse")
    rig.drag((50, 100), (90, 80))
    assert rig.calls == [("drawn", "ellipse", (rig.corner(50, 100), rig.corner(90, 80)))]
    rig.calls.clear()
    rig.drag((50, 100), (50 + 1.5 * view.zoom, 80))  # 1.5 image px wide: a slip
    assert rig.calls == []


def test_point_click_inside_the_image_only(rig: Rig) -> None:
    rig.interaction.set_left_mode("draw_point")
    rig.click(120, 95)
    drawn = [("drawn", "point", (rig.corner(120, 95),))]
    assert rig.calls == drawn
    rig.click(100, 20)  # 40x20 image: the band below it is empty viewport
    rig.click(120, 95, repeat=1)  # the double-click's second press: no maximise, no mark
    assert rig.calls == drawn


def test_polygon_enter_double_click_and_escape(rig: Rig) -> None:
    rig.interaction.set_left_mode("draw_polygon")
    clicks = [(60, 110), (140, 110), (140, 90), (60, 90)]
    for x, y in clicks:
        rig.click(x, y)
    rig.event(vtkCommand.MouseMoveEvent, 100, 100)
    assert rig.view._layer_props["reader_marks"]  # preview line up to the mouse
    rig.key("Return")
    assert rig.calls == [("drawn", "polygon", tuple(rig.corner(x, y) for x, y in clicks))]
    assert not rig.view._layer_props["reader_marks"]
    rig.calls.clear()
    for x, y in clicks[:3]:
        rig.click(x, y)
    rig.key("Escape")
    rig.key("Return")
    assert rig.calls == []
    rig.click(60, 110)
    rig.click(60, 110)  # same spot again: no second vertex
    rig.key("Return")
    assert rig.calls == []  # one vertex only: nothing closed
    rig.click(140, 110)
    rig.click(140, 90)
    rig.click(140, 90, repeat=1)  # double-click closes (its first click was the vertex)
    assert rig.calls == [("drawn", "polygon", tuple(rig.corner(x, y) for x, y in clicks[:3]))]


def test_select_drag_moves_and_delete(rig: Rig) -> None:
    view = rig.view
    box = MarkGlyph("m1", view.index, "box", ((10.0, 5.0), (20.0, 12.0)), caption="Nodule")
    view.set_marks([box, MarkGlyph("m2", view.index + 1, "point", ((15.0, 8.0),))])
    rig.interaction.set_left_mode("select")
    x, y = view.image_corner_to_display(15.0, 8.0)
    rig.event(vtkCommand.LeftButtonPressEvent, x, y)
    rig.event(vtkCommand.MouseMoveEvent, x + 20, y - 10)
    assert len(view._layer_props["reader_marks"]) == 3  # the moved preview in place of m1
    rig.event(vtkCommand.LeftButtonReleaseEvent, x + 20, y - 10)
    assert rig.calls[0] == ("selected", "m1") and rig.calls[1][:2] == ("moved", "m1")
    dx, dy = rig.calls[1][2:]
    expected = np.subtract(rig.corner(x + 20, y - 10), rig.corner(x, y))
    assert near((dx, dy), tuple(expected)) and dx == pytest.approx(20 / view.zoom)
    assert dy == pytest.approx(10 / view.zoom) and len(rig.calls) == 2
    rig.calls.clear()
    rig.drag((x, y), (x - 400, y))  # dragged far left: stops at the image's edge
    assert rig.calls[1][2] == pytest.approx(-10.0)
    rig.calls.clear()
    rig.click(*view.image_corner_to_display(35.0, 18.0))  # empty image: selection cleared
    rig.key("Delete")
    rig.key("BackSpace")
    assert rig.calls == [("selected", None), ("delete",), ("delete",)]


def test_mark_at_shapes_edges_and_slices(rig: Rig) -> None:
    view = rig.view
    view.set_index(0)
    i = view.index
    view.set_marks([
        MarkGlyph("pt", i, "point", ((5.0, 5.0),)),
        MarkGlyph("box", i, "box", ((10.0, 2.0), (30.0, 18.0))),
        MarkGlyph("inner", i, "ellipse", ((14.0, 6.0), (22.0, 14.0))),
        MarkGlyph("tri", i, "polygon", ((32.0, 2.0), (39.0, 2.0), (39.0, 9.0))),
        MarkGlyph("other", i + 1, "point", ((35.0, 15.0),)),
    ])
    assert view.mark_at(6.0, 5.0, 1.5) == "pt" and view.mark_at(8.0, 5.0, 1.5) is None
    assert view.mark_at(12.0, 4.0, 0.5) == "box"  # inside the box
    assert view.mark_at(18.0, 10.0, 0.5) == "inner"  # inside both: the smaller one
    assert view.mark_at(14.3, 6.3, 0.1) == "box"  # in the ellipse's box, outside the ellipse
    assert view.mark_at(9.0, 10.0, 1.5) == "box" and view.mark_at(8.0, 10.0, 1.5) is None
    assert view.mark_at(38.0, 4.0, 0.1) == "tri" and view.mark_at(33.0, 8.0, 0.5) is None
    assert view.mark_at(35.0, 15.0, 1.0) is None  # on another image
    view.set_index(i + 1)
    assert view.mark_at(35.0, 15.0, 1.0) == "other"
    assert distance_to(MarkGlyph("e", 0, "ellipse", ((0.0, 0.0), (10.0, 4.0))), (5.0, 7.0)) \
        == pytest.approx(3.0, abs=0.01)


# ------------------------------------------------------------------ pixels on a real radiograph
@pytest.fixture(scope="module")
def chest(tmp_path_factory: pytest.TempPathFactory) -> ImageStack:
    path = dicom_from_picture(CHEST, tmp_path_factory.mktemp("cxr") / "chest.dcm",
                              body_part="CHEST", view="PA", spacing_mm=0.7)
    return load_stack([read_header(path)])


def shown(view: SliceView) -> np.ndarray:
    return capture(view.render_window).astype(int)


def colour_near(img: np.ndarray, xy: tuple[float, float], rgb: tuple[float, float, float],
                radius: int = 2) -> bool:
    """Whether a pixel within ``radius`` of display (x, y) has colour ``rgb`` (±40 levels)."""
    x, y = round(xy[0]), img.shape[0] - 1 - round(xy[1])
    patch = img[y - radius:y + radius + 1, x - radius:x + radius + 1]
    return bool((np.abs(patch - np.multiply(rgb, 255)).max(axis=-1) < 40).any())


def test_box_drawn_on_its_pixels_in_role_colour_and_mirrored(chest: ImageStack) -> None:
    view = SliceView(offscreen_render_window((300, 300)))
    view.show_annotations = False
    view.set_stack(chest)
    box = MarkGlyph("b", 0, "box", ((150.0, 200.0), (260.0, 300.0)))
    top_mid = (205.0, 200.0)
    plain = shown(view)
    view.set_marks([box])
    img = shown(view)
    edge = view.image_corner_to_display(*top_mid)
    assert colour_near(img, edge, ROLE_COLOURS["reader"])
    assert not colour_near(plain, edge, ROLE_COLOURS["reader"])
    x, y = view.image_corner_to_display(205.0, 250.0)
    inside = (img.shape[0] - 1 - round(y), round(x))
    assert (img[inside] == plain[inside]).all()  # an outline: the anatomy inside shows through
    view.set_marks([MarkGlyph("b", 0, "box", box.points, role="agreed")])
    img = shown(view)
    assert colour_near(img, edge, ROLE_COLOURS["agreed"])
    assert not colour_near(img, edge, ROLE_COLOURS["reader"])
    # Mirrored: the mark lands on the same anatomy (same grey under it without the mark).
    grey_at = view.image_corner_to_display(205.0, 180.0)
    grey = plain[plain.shape[0] - 1 - round(grey_at[1]), round(grey_at[0])]
    view.set_flip_horizontal(True)
    flipped_edge = view.image_corner_to_display(*top_mid)
    assert flipped_edge[0] == pytest.approx(300 - edge[0], abs=1.5)  # really mirrored
    assert colour_near(shown(view), flipped_edge, ROLE_COLOURS["agreed"])
    view.set_marks([])
    bare = shown(view)
    flipped_grey_at = view.image_corner_to_display(205.0, 180.0)
    assert np.abs(bare[bare.shape[0] - 1 - round(flipped_grey_at[1]),
                       round(flipped_grey_at[0])] - grey).max() <= 12


def test_point_keeps_its_screen_size_and_badge_is_filled(chest: ImageStack) -> None:
    view = SliceView(offscreen_render_window((300, 300)))
    view.show_annotations = False
    view.set_stack(chest)
    view.set_marks([MarkGlyph("p", 0, "point", ((256.0, 256.0),), role="ai_only")])
    magenta = np.multiply(ROLE_COLOURS["ai_only"], 255)

    def extent() -> int:
        _, xs = np.nonzero(np.abs(shown(view) - magenta).max(axis=-1) < 40)
        return int(xs.max() - xs.min())

    small = extent()
    view.zoom_by(3.0)
    assert 12 <= small <= 30 and abs(extent() - small) <= 2
    view.set_marks([])
    view.fit()
    view.set_boxes([Box((100, 100, 300, 200), color=ROLE_COLOURS["ai_only"], badge="!")])
    img = shown(view)
    corner_x, corner_y = view.image_to_display(300, 100)
    tag = img[img.shape[0] - 1 - round(corner_y) - 16:img.shape[0] - 1 - round(corner_y),
              round(corner_x):round(corner_x) + 16]
    assert (np.abs(tag - magenta).max(axis=-1) < 40).sum() > 60  # a filled tag, not a line


def test_mark_edges_lie_on_pixel_edges_when_zoomed() -> None:
    """A box from corner (10, 10) is drawn on the edge between pixels 9 and 10 (not on the
    centre of pixel 10): the same screen column where the image turns from dark to bright."""
    values = np.zeros((1, 40, 40), np.float32)
    values[0, :, 10:] = 100.0
    view = SliceView(offscreen_render_window((SIZE, SIZE)))
    view.show_annotations = False
    view.set_stack(make_stack(values))
    view.set_zoom(10.0, around=view.image_to_display(9.5, 20.0))
    row = round(view.image_to_display(9.5, 20.0)[1])
    bare = shown(view)[SIZE - 1 - row]
    step = int(np.argmax(bare[:, 0] > 100))  # first bright screen column: pixel 10 starts
    view.set_marks([MarkGlyph("b", 0, "box", ((10.0, 10.0), (30.0, 30.0)))])
    line = shown(view)[SIZE - 1 - row]
    cyan = np.nonzero(np.abs(line - np.multiply(ROLE_COLOURS["reader"], 255)).max(axis=-1)
                      < 40)[0]
    assert cyan.size == 2 and cyan.min() <= step <= cyan.max() + 1  # 2 px wide, on the edge
