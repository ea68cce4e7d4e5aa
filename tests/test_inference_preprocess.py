"""Preprocessing recipes and the exact input ↔ image geometry, on real and drawn images."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from imaging.pipeline import LINEAR_EXACT, VoiWindow
from inference.manifest import InputSpec
from inference.preprocess import grey_for_model, prepare
from inference.source import ImageMeta, SourceImage, load_sources
from inference.transform import InputTransform, letterbox_transform

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"
MIAS = SHARED / "mammo" / "mini_mias"
MONOCHROME1_CR = SHARED / "dicom" / "pydicom-data" / "RG3_J2KI.dcm"  # leg radiograph, J2K


def spec(recipe: str, size: int, **pre: object) -> InputSpec:
    return InputSpec.model_validate({
        "name": "image", "shape": [1, 1, size, size],
        "preprocess": {"recipe": recipe, "size": size, **pre}})


def grey_source(values: np.ndarray) -> SourceImage:
    """A picture-like source: 8-bit values with the identity window."""
    return SourceImage(np.asarray(values, dtype=np.float32),
                       (VoiWindow(127.5, 255.0, LINEAR_EXACT),), False,
                       ImageMeta(source="drawn", is_dicom=False))


def mias(name: str) -> np.ndarray:
    return np.asarray(Image.open(MIAS / "images" / f"{name}.jpg"), dtype=np.float32)


def centroid(weights: np.ndarray, cell: tuple[float, float] = (1.0, 1.0)) -> np.ndarray:
    """(x, y) of the weighted centre, in units where cell (i, j) spans [j·cx, (j+1)·cx)."""
    ys, xs = np.indices(weights.shape)
    total = weights.sum()
    return np.array([((xs + 0.5) * weights).sum() / total * cell[0],
                     ((ys + 0.5) * weights).sum() / total * cell[1]])


# --------------------------------------------------------------------------- geometry


def test_letterbox_maps_corners_exactly() -> None:
    t = letterbox_transform((300, 500), 100)  # rows, cols → 60 x 100, 20 px bands
    assert t.scale == (0.2, 0.2) and t.offset == (0.0, 20.0)
    corners = np.array([[0.0, 0.0], [500.0, 300.0], [250.0, 150.0]])
    np.testing.assert_allclose(t.original_to_input(corners),
                               [[0, 20], [100, 80], [50, 50]], atol=1e-9)
    np.testing.assert_allclose(t.input_to_original(t.original_to_input(corners)), corners,
                               atol=1e-9)
    flipped = InputTransform((300, 500), 100, (100, 50, 300, 250), (0.5, 0.5), (0.0, 0.0), True)
    # Flipped crop: its left edge (x = 100) lands on the input's right edge (x = 100).
    np.testing.assert_allclose(flipped.original_to_input(np.array([100.0, 50.0])), [100, 0])
    assert flipped.box_to_original((0, 0, 10, 20)) == (280.0, 50.0, 300.0, 90.0)


@pytest.mark.parametrize("shape", [(300, 500), (500, 300)])
def test_identity_heatmap_comes_back_on_the_original(shape: tuple[int, int]) -> None:
    rows, cols = shape
    original = mias("mdb001")[6:6 + rows, 6:6 + cols]
    prepared = prepare(grey_source(original), spec("xray_letterbox_v1", 256))
    back = prepared.transform.heatmap_to_original(prepared.grey)
    assert back.shape == shape and back.dtype == np.float32
    r = np.corrcoef(back.ravel(), original.ravel() / 255.0)[0, 1]
    assert r > 0.98, r
    coarse = prepared.transform.heatmap_to_original(prepared.grey, max_side=100)
    assert max(coarse.shape) == 100
    assert coarse.shape == (round(rows * 100 / 500), round(cols * 100 / 500))


@pytest.mark.parametrize("shape", [(300, 500), (500, 300)])
@pytest.mark.parametrize("size", [64, 512])
def test_bright_square_comes_back_where_it_was(shape: tuple[int, int], size: int) -> None:
    rows, cols = shape
    image = np.zeros(shape, dtype=np.float32)
    x0, y0 = 173, 211  # centre (178, 216)
    image[y0:y0 + 10, x0:x0 + 10] = 255.0
    prepared = prepare(grey_source(image), spec("xray_letterbox_v1", size))
    t = prepared.transform
    expected = np.array([x0 + 5.0, y0 + 5.0])
    # Where the model sees it...
    np.testing.assert_allclose(centroid(prepared.grey), t.original_to_input(expected),
                               atol=1.0 * size / max(shape))
    # ... and where its heatmap lands, full size and coarse.
    back = t.heatmap_to_original(prepared.grey)
    assert np.abs(centroid(back) - expected).max() < 1.0
    coarse = t.heatmap_to_original(prepared.grey, max_side=200)
    cell = (cols / coarse.shape[1], rows / coarse.shape[0])
    assert np.abs(centroid(coarse, cell) - expected).max() < 1.0
    if size == 512:  # a box read off the model input lands on the square
        ys, xs = np.nonzero(prepared.grey > 0.5)
        box = t.box_to_original((xs.min(), ys.min(), xs.max() + 1, ys.max() + 1))
        np.testing.assert_allclose(box, (x0, y0, x0 + 10, y0 + 10), atol=1.0)


def drawn_breast(shape: tuple[int, int], chest_wall_right: bool,
                 square: tuple[int, int]) -> np.ndarray:
    """A half-disc 'breast' (grey 80) against the chest-wall edge, a bright 10-px square."""
    rows, cols = shape
    ys, xs = np.indices(shape)
    wall = cols - 1 if chest_wall_right else 0
    radius = 0.8 * min(rows / 2, cols)
    image = np.where((xs - wall) ** 2 + (ys - rows / 2) ** 2 < radius**2, 80.0, 0.0)
    image[square[1]:square[1] + 10, square[0]:square[0] + 10] = 255.0
    return image.astype(np.float32)


@pytest.mark.parametrize("shape", [(300, 500), (500, 300)])
@pytest.mark.parametrize("right", [True, False])
def test_mammo_crop_and_flip_keep_the_geometry(shape: tuple[int, int], right: bool) -> None:
    rows, cols = shape
    sq = (cols - 60, rows // 2 - 5) if right else (50, rows // 2 - 5)
    prepared = prepare(grey_source(drawn_breast(shape, right, sq)),
                       spec("mammo_breast_crop_v1", 512))
    t = prepared.transform
    assert t.flip is right
    x0, y0, x1, y1 = t.crop
    assert (x1 - x0) < 0.9 * cols or (y1 - y0) < 0.9 * rows  # cropped to the half-disc
    grey = prepared.grey
    # Chest wall on the left of the model input: the left column holds breast, the right
    # edge of the breast's box only its rounded tip.
    ys, xs = np.nonzero(grey > 0.1)
    assert (grey[:, xs.min()] > 0.1).sum() > 3 * (grey[:, xs.max()] > 0.1).sum()
    expected = np.array([sq[0] + 5.0, sq[1] + 5.0])
    bright = np.where(grey > 0.65, grey, 0.0)
    np.testing.assert_allclose(centroid(bright), t.original_to_input(expected), atol=1.0)
    back = t.heatmap_to_original(bright)
    assert np.abs(centroid(back) - expected).max() < 1.0
    assert float(back[:, :x0].max(initial=0.0)) == 0.0  # nothing outside the crop
    assert float(back[:, x1:].max(initial=0.0)) == 0.0
    ys, xs = np.nonzero(grey > 0.65)
    box = t.box_to_original((xs.min(), ys.min(), xs.max() + 1, ys.max() + 1))
    np.testing.assert_allclose(box, (sq[0], sq[1], sq[0] + 10, sq[1] + 10), atol=1.0)


# --------------------------------------------------------------------------- recipes


def test_tensor_normalised_in_the_spec_dtype_and_channels() -> None:
    values = mias("mdb002")
    s = InputSpec.model_validate({
        "name": "image", "shape": [1, 3, 64, 64], "dtype": "float16",
        "preprocess": {"recipe": "xray_letterbox_v1", "size": 64,
                       "normalize": {"mean": 0.5, "std": 0.25}}})
    prepared = prepare(grey_source(values), s)
    assert prepared.tensor.shape == (1, 3, 64, 64) and prepared.tensor.dtype == np.float16
    np.testing.assert_allclose(prepared.tensor[0, 2].astype(np.float32),
                               (prepared.grey - 0.5) / 0.25, atol=2e-3)
    assert prepared.grey.min() >= 0.0 and prepared.grey.max() <= 1.0


def test_minmax_and_file_window() -> None:
    values = np.array([[100.0, 200.0], [300.0, 500.0]], dtype=np.float32)
    source = SourceImage(values, (VoiWindow(300.0, 200.0, LINEAR_EXACT),), False,
                         ImageMeta(source="drawn"))
    pre_voi = spec("xray_letterbox_v1", 8).preprocess
    np.testing.assert_allclose(grey_for_model(source, pre_voi), [[0.0, 0.0], [0.5, 1.0]])
    pre_minmax = spec("xray_letterbox_v1", 8, window="minmax").preprocess
    np.testing.assert_allclose(grey_for_model(source, pre_minmax), [[0.0, 0.25], [0.5, 1.0]])
    no_window = SourceImage(values, (), False, ImageMeta(source="drawn"))
    np.testing.assert_allclose(grey_for_model(no_window, pre_voi), [[0.0, 0.25], [0.5, 1.0]])
    flat = SourceImage(np.full((4, 4), 7.0, np.float32), (), False, ImageMeta(source="x"))
    assert grey_for_model(flat, pre_voi).max() == 0.0


@pytest.fixture(scope="module")
def monochrome1_leg() -> SourceImage:
    found = next(iter(load_sources([MONOCHROME1_CR])))
    assert isinstance(found, SourceImage), found
    return found


def test_monochrome1_is_inverted_so_bone_is_white(monochrome1_leg: SourceImage) -> None:
    assert monochrome1_leg.monochrome1 and monochrome1_leg.meta.photometric == "MONOCHROME1"
    grey = prepare(monochrome1_leg, spec("xray_letterbox_v1", 64)).grey
    tibia, air = grey[6:32, 29:32].mean(), grey[6:32, 18:20].mean()  # shaft / beside the leg
    assert tibia > 0.6 and air < 0.1, (tibia, air)
    raw = prepare(monochrome1_leg, spec("xray_letterbox_v1", 64, invert_monochrome1=False)).grey
    np.testing.assert_allclose(raw, 1.0 - grey, atol=1e-5)


def mias_sides(count: int) -> list[tuple[str, str]]:
    with (MIAS / "labels.csv").open(newline="") as fp:
        sides = {row["ref"]: row["side"] for row in csv.DictReader(fp)}
    return sorted(sides.items())[:count]


def mias_boxes(ref: str) -> list[tuple[float, float, float, float]]:
    with (MIAS / "labels.csv").open(newline="") as fp:
        return [(float(r["x_min"]), float(r["y_min"]), float(r["x_max"]), float(r["y_max"]))
                for r in csv.DictReader(fp) if r["ref"] == ref and r["has_location"] == "1"]


def test_mini_mias_left_and_right_end_up_chest_wall_left() -> None:
    s = spec("mammo_breast_crop_v1", 128)
    pairs = mias_sides(40)
    assert {side for _, side in pairs} == {"L", "R"}
    for ref, side in pairs:
        prepared = prepare(grey_source(mias(ref)), s)
        t = prepared.transform
        # mini-MIAS keeps the film's orientation: right breasts have the chest wall on
        # the right (README), so exactly those must be flipped.
        assert t.flip is (side == "R"), ref
        x0, y0, x1, y1 = t.crop
        for bx0, by0, bx1, by1 in mias_boxes(ref):  # every lesion stays in the crop
            cx, cy = (bx0 + bx1) / 2, (by0 + by1) / 2
            assert x0 <= cx <= x1 and y0 <= cy <= y1, (ref, t.crop)
