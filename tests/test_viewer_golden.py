"""Rendered pixels of real files, offscreen (EGL, no X): golden images + pixel facts.

Baselines live in tests/golden/ (small PNGs). After a deliberate change of the
rendering, regenerate them with ``TANDEM_UPDATE_GOLDEN=1 pytest tests/test_viewer_golden.py``
and look at every one before committing.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np
from PIL import Image

from imaging.header import read_header
from imaging.loader import load_stack
from imaging.pipeline import VoiWindow
from imaging.stack import ImageStack
from viewer.hanging import show_mammo4
from viewer.layout import ViewportGrid
from viewer.mpr import reslice
from viewer.offscreen import capture, offscreen_render_window
from viewer.render import render_to_png
from viewer.slice_view import SliceView

DATA = Path(__file__).parents[2] / "shared" / "datasets" / "dicom"
GOLDEN = Path(__file__).parent / "golden"
Coordinate = float | int | np.integer



def load(relative: str) -> ImageStack:
    path = DATA / relative
    files = sorted(path.iterdir()) if path.is_dir() else [path]
    return load_stack([read_header(f) for f in files])


def shoot(stack: ImageStack, size: int = 256, annotations: bool = False,
          window: VoiWindow | None = None) -> tuple[SliceView, np.ndarray]:
    grid = ViewportGrid(offscreen_render_window((size, size)))
    view = grid.views[0]
    view.show_annotations = annotations
    view.set_stack(stack, window=window)
    return view, capture(grid.render_window).astype(int)


def at(view: SliceView, img: np.ndarray, col: Coordinate, row: Coordinate) -> np.ndarray:
    x, y = view.image_to_display(float(col), float(row))
    return img[img.shape[0] - 1 - round(y), round(x)]


def check_golden(name: str, img: np.ndarray) -> None:
    """Compare with tests/golden/<name>.png: mean |Δ| < 2 grey levels, < 0.5 % pixels off."""
    path = GOLDEN / f"{name}.png"
    if os.environ.get("TANDEM_UPDATE_GOLDEN"):
        GOLDEN.mkdir(exist_ok=True)
        Image.fromarray(img.astype(np.uint8)).save(path, optimize=True)
    assert path.is_file(), f"missing baseline {path}; run with TANDEM_UPDATE_GOLDEN=1"
    base = np.asarray(Image.open(path).convert("RGB")).astype(int)
    assert base.shape == img.shape
    diff = np.abs(base - img)
    assert diff.mean() < 2.0 and (diff.max(axis=2) > 40).mean() < 0.005, \
        f"{name}: mean Δ {diff.mean():.2f}, {(diff.max(axis=2) > 40).mean():.2%} pixels off"


def uniform(values: np.ndarray, radius: int = 1, span: float = 60.0) -> np.ndarray:
    """Mask of pixels whose (2r+1)² neighbourhood spans < ``span`` (safe to sample)."""
    v = values.astype(np.float64)
    hi, lo = v.copy(), v.copy()
    for dr in range(-radius, radius + 1):
        for dc in range(-radius, radius + 1):
            shifted = np.roll(np.roll(v, dr, 0), dc, 1)
            hi, lo = np.maximum(hi, shifted), np.minimum(lo, shifted)
    mask = (hi - lo) < span
    mask[:radius], mask[-radius:], mask[:, :radius], mask[:, -radius:] = False, False, False, False
    return mask


def eroded(mask: np.ndarray, radius: int = 1) -> np.ndarray:
    """Pixels whose whole (2r+1)² neighbourhood is in ``mask`` (interpolation-safe)."""
    out = mask.copy()
    for dr in range(-radius, radius + 1):
        for dc in range(-radius, radius + 1):
            out &= np.roll(np.roll(mask, dr, 0), dc, 1)
    return out


def test_ct_lung_window_maps_hu_to_grey() -> None:
    stack = load("pydicom/CT_small.dcm")
    view, img = shoot(stack)
    assert view.apply_preset(1) and view.window is not None and view.window.name == "lung"
    img = capture(view.render_window).astype(int)
    hu = stack.values[0]
    flat = uniform(hu)
    checked = 0
    for label, band in (("air/lung", (-1000, -700)), ("fat", (-150, -50)), ("bone", (300, 3000))):
        rows, cols = np.nonzero(flat & (hu >= band[0]) & (hu <= band[1]))
        assert rows.size, label
        for r, c in list(zip(rows, cols, strict=True))[:: max(1, rows.size // 5)]:
            expected = 255 * float(np.clip((hu[r, c] + 600.5) / 1499 + 0.5, 0, 1))
            assert abs(at(view, img, c, r)[0] - expected) <= 4, (label, r, c, hu[r, c])
            checked += 1
    assert checked >= 12
    r, c = np.argwhere(hu > 700)[0]
    assert tuple(at(view, img, c, r)) == (255, 255, 255)  # bone: white in a lung window
    view.show_annotations = True
    view.set_window(view.presets[0])
    check_golden("ct_small_lung", capture(view.render_window))


def test_ct_series_air_black_lung_dark_bone_white() -> None:
    stack = load("dcmqi/ct-3slice")
    view, img = shoot(stack, window=VoiWindow(-600.0, 1500.0, name="lung"))
    hu = stack.values[view.index]
    assert hu[2, 2] < -990 and at(view, img, 2, 2)[0] == 0  # air outside the body: black
    lung = np.argwhere(uniform(hu) & (hu > -900) & (hu < -750))
    grey = [at(view, img, c, r)[0] for r, c in lung[:: max(1, len(lung) // 10)]]
    assert grey and all(20 < g < 110 for g in grey)  # lung parenchyma: dark grey
    bone = np.argwhere(eroded(hu > 200, 2))
    assert all(at(view, img, c, r)[0] == 255 for r, c in bone[:: max(1, len(bone) // 10)])


def test_monochrome1_radiograph_is_shown_inverted() -> None:
    stack = load("pydicom/dicomdirtests/77654033/CR1/6154")
    assert stack.invert and stack.windows
    view, img = shoot(stack, size=160)
    values = stack.values[0]
    window = stack.windows[0]
    assert isinstance(window, VoiWindow)
    high = np.unravel_index(np.argmax(values), values.shape)
    low = np.unravel_index(np.argmin(values), values.shape)
    for r, c in (high, low):  # shown = 1 - VOI(value): high stored values are dark
        expected = 255 * (1 - float(window.apply(np.array([values[r, c]]))[0]))
        assert abs(at(view, img, c + 0, r + 0)[0] - expected) <= 3
    assert at(view, img, high[1], high[0])[0] < at(view, img, low[1], low[0])[0]
    view.toggle_invert()  # the user's invert shows the stored polarity
    img = capture(view.render_window).astype(int)
    assert at(view, img, high[1], high[0])[0] > at(view, img, low[1], low[0])[0]
    assert (view.edge_labels.left, view.edge_labels.right) == ("R", "L")  # from PatientOrientation


def test_colour_ultrasound_keeps_its_colours() -> None:
    stack = load("pydicom/examples_rgb_color.dcm")
    view, img = shoot(stack, size=640)
    rgb = stack.values[0].astype(int)
    red = (rgb[..., 0] > 180) & (rgb[..., 0] > rgb[..., 1] + 80) & (rgb[..., 0] > rgb[..., 2] + 80)
    points = np.argwhere(eroded(red, 1))  # the Doppler's red, away from its edges
    assert len(points) >= 20
    for r, c in points[:: max(1, len(points) // 10)]:
        shown = at(view, img, c, r)
        assert shown[0] > 150 and shown[0] > shown[1] + 50 and shown[0] > shown[2] + 50
    grey = np.argwhere(eroded((np.ptp(rgb, axis=2) == 0) & (rgb[..., 0] > 60), 1))
    assert len(grey) and all(np.ptp(at(view, img, c, r)) <= 2 for r, c in grey[::50])


def test_ybr_colour_bars_and_top_row_stays_on_top(tmp_path: Path) -> None:
    stack = load("pydicom/SC_rgb_dcmtk_+eb+cy+np.dcm")
    out = render_to_png([stack], tmp_path / "bars.png", size=(200, 200))
    png = np.asarray(Image.open(out).convert("RGB")).astype(int)
    grid = ViewportGrid(offscreen_render_window((200, 200)))
    view = grid.views[0]
    view.set_stack(stack)
    stored = stack.values[0].astype(int)
    # Bars run across the image; band centres every 10 rows: red at the top, white at the end.
    for row in range(5, 100, 10):
        shown = at(view, png, 50, row)
        assert np.all(np.abs(shown - stored[row, 50]) <= 12), (row, shown, stored[row, 50])
    assert stored[5, 50, 0] > 245 and stored[5, 50, 1:].max() < 10  # the red bar
    assert at(view, png, 50, 5)[0] > 240
    assert at(view, png, 50, 5)[1] < 15  # PNG row 0 side is the stored top: red, not white
    check_golden("sc_rgb_bars", png)


def _breast(laterality: str, view: str, chest_wall: str, **header: object) -> ImageStack:
    """A 60×40 'mammogram': bright tissue from the chest wall, rounded towards the nipple."""
    rows, cols = np.mgrid[0:60, 0:40]
    depth = cols if chest_wall == "left" else 39 - cols
    tissue = (depth / 30.0) ** 2 + ((rows - 30) / 28.0) ** 2 < 1.0
    values = np.where(tissue, 3000.0, 100.0).astype(np.float32)[None]
    values[0, 2:8, 18:22] += 600.0 if view == "CC" else 0.0  # a small marker, not symmetric
    base = load("mammo/MG_Explicit_Little.dcm")
    h = replace(base.header, laterality=laterality, view_position=view, patient_orientation=(),
                **header)  # type: ignore[arg-type]
    return replace(base, values=values, header=h, spacing=(0.1, 0.1, 1.0),
                   windows=(VoiWindow(1500.0, 3000.0),), invert=False)


def test_mammo4_chest_walls_meet_at_the_centre_line() -> None:
    stacks = [_breast("R", "CC", "left"), _breast("L", "CC", "left"),
              _breast("R", "MLO", "right"), _breast("L", "MLO", "right")]
    grid = ViewportGrid(offscreen_render_window((320, 240)))
    hung = show_mammo4(grid, stacks)
    for view in grid.views:
        view.show_annotations = False
        view._refresh()
    img = capture(grid.render_window)[..., 0].astype(int)
    assert {s: h.flip for s, h in hung.items()} == {"RCC": True, "LCC": False,
                                                    "RMLO": False, "LMLO": True}
    for top in (60, 180):  # CC row, MLO row (screen rows)
        assert img[top, 157] > 200 and img[top, 162] > 200  # tissue on both sides of the line
        assert img[top, 3] < 60 and img[top, 316] < 60  # nipples point outwards, to the dark
    check_golden("mammo4", capture(grid.render_window))
    missing = ViewportGrid(offscreen_render_window((320, 240)))
    show_mammo4(missing, stacks[:3])
    assert missing.views[3].stack is None
    assert missing.views[3]._placeholder.GetInput() == "LMLO"


def _letters(v: np.ndarray) -> str:
    """Independent reference: strongest component first, components ≥ 0.2 (≈ 11.5°)."""
    names = (("R", "L"), ("A", "P"), ("F", "H"))
    order = sorted(range(3), key=lambda i: -abs(v[i]))
    kept = [i for k, i in enumerate(order) if k == 0 or abs(v[i]) >= 0.2]
    return "".join(names[i][int(v[i] > 0)] for i in kept)


def test_oblique_mr_orientation_letters() -> None:
    stack = load("dicom2nifti/valid/hitachi/anatomical/001")
    iop = np.asarray(read_header(sorted((DATA / "dicom2nifti/valid/hitachi/anatomical/001")
                                        .iterdir())[0]).image_orientation)
    row, col = iop[:3], iop[3:]
    view, _ = shoot(stack, annotations=True)
    labels = view.edge_labels
    assert (labels.right, labels.left, labels.bottom, labels.top) == (
        _letters(row), _letters(-row), _letters(col), _letters(-col))
    assert len(labels.right) >= 2  # a double oblique reads e.g. "LA", not just "L"
    check_golden("mr_oblique", capture(view.render_window))


def test_mpr_of_oblique_mr_reads_as_true_planes() -> None:
    stack = load("dicom2nifti/valid/hitachi/anatomical/001")
    for plane, expected in (("axial", ("R", "L", "A", "P")), ("coronal", ("R", "L", "H", "F")),
                            ("sagittal", ("A", "P", "H", "F"))):
        result = reslice(stack, plane)
        view, img = shoot(result.stack)
        labels = view.edge_labels
        assert (labels.left, labels.right, labels.top, labels.bottom) == expected
        assert img.max() > 100  # the reformat is not empty


def _overlay_yellow(p: np.ndarray) -> bool:
    return bool(p[0] > 200 and p[1] > 200 and p[2] < 140)


def test_dicom_overlay_plane_is_drawn_over_the_image() -> None:
    import pydicom

    from imaging.overlays import read_overlays

    path = DATA / "pydicom" / "examples_overlay.dcm"
    stack = load("pydicom/examples_overlay.dcm")
    bits = np.argwhere(read_overlays(pydicom.dcmread(path))[0].bitmap)
    assert len(bits) == 222
    view, _ = shoot(stack, size=512)  # the stack's own overlay plane: drawn without asking
    # 2×2 screen pixels per bit (sampling at a bit's centre hits it), around the marked lesion.
    view.set_zoom(2.0, around=view.image_to_display(float(bits[len(bits) // 2][1]),
                                                    float(bits[len(bits) // 2][0])))
    img = capture(view.render_window).astype(int)
    inside = [(r, c) for r, c in bits
              if all(4 < v < 508 for v in view.image_to_display(float(c), float(r)))]
    assert len(inside) > 20
    assert all(_overlay_yellow(at(view, img, c, r)) for r, c in inside)
    view.set_dicom_overlays_visible(False)
    img = capture(view.render_window).astype(int)
    assert not any(_overlay_yellow(at(view, img, c, r)) for r, c in inside)
    assert all(np.ptp(at(view, img, c, r)) == 0 for r, c in inside)  # the grey image underneath
    view.toggle_dicom_overlays()
    img = capture(view.render_window).astype(int)
    assert all(_overlay_yellow(at(view, img, c, r)) for r, c in inside)


def test_render_cli_shows_the_dicom_overlay(tmp_path: Path) -> None:
    stack = load("pydicom/examples_overlay.dcm")
    for overlays, low, high in ((stack.overlays, 150, 400), ((), -1, 1)):
        out = render_to_png([replace(stack, overlays=overlays)], tmp_path / "overlay.png",
                            size=(484, 300))
        img = np.asarray(Image.open(out).convert("RGB")).astype(int)
        yellow = (img[..., 0] > 200) & (img[..., 1] > 200) & (img[..., 2] < 140)
        # 222 overlay bits at ~0.97 screen pixel each: most of them land on a yellow pixel.
        assert low < int(yellow.sum()) < high
