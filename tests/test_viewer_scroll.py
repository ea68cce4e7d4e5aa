"""Scrolling a SliceView: one shared vtkImageData, the right pixels, layers bound to slices."""

from __future__ import annotations

import numpy as np
import pytest
from test_viewer import grey_at, make_stack
from vtkmodules.util.numpy_support import vtk_to_numpy

from imaging.pipeline import VoiWindow
from viewer.offscreen import capture, offscreen_render_window
from viewer.overlays import Box, Heatmap, OverlayBitmap
from viewer.slice_view import SliceView

WINDOW = VoiWindow(50.0, 100.0, "LINEAR_EXACT", "test")


@pytest.fixture()
def view() -> SliceView:
    v = SliceView(offscreen_render_window((200, 200)))
    v.show_annotations = False
    return v


def shown_image(view: SliceView) -> object:
    assert view._image_prop is not None
    return view._image_prop.GetMapper().GetInput()


def pixel_centres(view: SliceView, rows: int, cols: int) -> np.ndarray:
    """The rendered colour at the centre of every image pixel, ``(rows, cols, 3)``.

    Nearest-neighbour sampling: with the view's linear interpolation a display pixel
    centre a fraction off the image pixel centre already mixes in the neighbours."""
    assert view._image_prop is not None
    view._image_prop.GetProperty().SetInterpolationTypeToNearest()
    img = capture(view.render_window).astype(int)
    return np.array([[grey_at(view, img, c, r) for c in range(cols)] for r in range(rows)])


def test_scrolling_keeps_one_shared_image_and_shows_each_slice(view: SliceView) -> None:
    rng = np.random.default_rng(7)
    values = rng.uniform(-20.0, 120.0, (4, 6, 5)).astype(np.float32)  # clipped at both ends
    stack = make_stack(values, spacing=(1.5, 1.0, 2.0), window=WINDOW)
    view.set_stack(stack, index=0, window=WINDOW)
    data = shown_image(view)
    scalars = vtk_to_numpy(data.GetPointData().GetScalars())  # type: ignore[attr-defined]
    assert np.shares_memory(scalars, stack.values)  # no copy of the stack
    for k in (3, 1, 2, 0):
        view.set_index(k)
        assert shown_image(view) is data  # no new vtkImageData per slice
        expected = np.rint(255.0 * WINDOW.apply(values[k]))
        got = pixel_centres(view, 6, 5)
        np.testing.assert_allclose(got[..., 0], expected, atol=2)


def test_colour_stack_scrolls_as_stored(view: SliceView) -> None:
    rng = np.random.default_rng(3)
    values = rng.integers(0, 256, (3, 5, 4, 3), dtype=np.uint8)
    view.set_stack(make_stack(values), index=0)
    data = shown_image(view)
    for k in (2, 1):
        view.set_index(k)
        assert shown_image(view) is data
        np.testing.assert_allclose(pixel_centres(view, 5, 4), values[k].astype(int), atol=2)


def test_slice_bound_layers_follow_scrolling(view: SliceView) -> None:
    view.set_stack(make_stack(np.zeros((4, 40, 40), np.float32)), index=0)
    heat = np.zeros((40, 40), np.float32)
    heat[5:15, 5:15] = 1.0
    view.set_heatmap(Heatmap(heat, "turbo", opacity=1.0, threshold=0.5, slice_index=1))
    view.set_boxes([Box((25, 25, 35, 35), "nodule", slice_index=2)])
    view.set_overlay_bitmaps([OverlayBitmap(np.ones((4, 4), bool), origin=(30, 2))])  # all
    view.set_crosshair((20.0, 20.0))
    layers = {1: (1, 0), 2: (0, 2)}  # (heatmap, box outline + caption) props per slice
    for k in (1, 2, 3, 1, 0):
        view.set_index(k)
        counts = {name: len(p) for name, p in view._layer_props.items()}
        heatmaps, boxes = layers.get(k, (0, 0))
        assert (counts["heatmap"], counts["boxes"]) == (heatmaps, boxes), k
        assert counts["bitmap"] == 1 and counts["crosshair"] == 1, k
        img = capture(view.render_window).astype(int)
        assert (grey_at(view, img, 10, 10).sum() > 0) == (k == 1), k  # heatmap only on 1
        assert (grey_at(view, img, 30, 24.5)[0] > 200) == (k == 2), k  # box edge only on 2
        assert grey_at(view, img, 3, 31)[0] > 200, k  # an unbound bitmap stays


def test_image_number_follows_scrolling(view: SliceView) -> None:
    view.show_annotations = True
    view.set_stack(make_stack(np.zeros((5, 8, 8), np.float32), spacing=(1.0, 1.0, 2.5)))
    view.scroll(+1)
    text = view._lower_left_text.GetInput()
    assert "Im 4/5" in text and "Pos 7.5 mm" in text
    img = capture(view.render_window)
    assert img[-25:, :60].max() > 200  # drawn in the lower-left corner
