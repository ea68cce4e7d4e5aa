"""Preprocessing recipes: a source image → the model's input tensor and its exact transform.

A recipe is named and versioned in the manifest (``preprocess.recipe``); training
imports these same functions, so a model never sees an image prepared differently
from the images it was trained on. Steps: grey levels in [0, 1] with 1 = white
(:func:`grey_for_model`), the recipe's geometry (crop, flip, letterbox, resampled
with Pillow), then ``(grey - mean) / std`` in the input's dtype.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image

from inference.manifest import InputSpec, Preprocess
from inference.source import SourceImage
from inference.transform import InputTransform, letterbox_transform

# Breast segmentation runs on a copy at most this large: the bounding box of a breast
# needs no finer detail, and it keeps the work to a few milliseconds on a 4k mammogram.
_MASK_MAX_SIDE = 512
# Background threshold on the [0, 1] grey image. Mammogram backgrounds are near black
# (mini-MIAS: 95th percentile 0.016 outside the breast box) while the fatty breast
# periphery is not. Otsu's threshold was rejected: on the same films it falls at
# 0.26-0.40, inside the fatty tissue near the skin line, and would crop it away.
_BREAST_THRESHOLD = 0.08
# Opening radius (mask pixels) that detaches film labels and edge bands from the breast.
_OPENING_RADIUS = 2


@dataclass(frozen=True)
class PreparedInput:
    """What goes into the model, and how to map its outputs back to the image."""

    tensor: np.ndarray  # (1, C, S, S) in the input spec's dtype
    transform: InputTransform
    grey: np.ndarray  # (S, S) float32 in [0, 1], before normalisation


def grey_for_model(source: SourceImage, pre: Preprocess) -> np.ndarray:
    """Grey levels in [0, 1], 1 = white as the radiologist sees it, (rows, cols) float32.

    ``dicom_voi_or_minmax``: the file's first window (VOI), else min–max; ``minmax``:
    min–max of the values. MONOCHROME1 is inverted (bone white) when the recipe says so.
    """
    values = np.asarray(source.values, dtype=np.float32)
    if pre.window == "dicom_voi_or_minmax" and source.windows:
        grey = source.windows[0].apply(values)
    else:
        grey = _minmax(values)
    grey = np.nan_to_num(grey, nan=0.0, posinf=1.0, neginf=0.0)
    if source.monochrome1 and pre.invert_monochrome1:
        grey = 1.0 - grey
    return np.clip(grey, 0.0, 1.0).astype(np.float32, copy=False)


def _minmax(values: np.ndarray) -> np.ndarray:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return np.zeros(values.shape, dtype=np.float32)
    lo, hi = float(finite.min()), float(finite.max())
    if hi <= lo:
        return np.zeros(values.shape, dtype=np.float32)
    return ((values - np.float32(lo)) * np.float32(1.0 / (hi - lo))).astype(np.float32)


def prepare(source: SourceImage, spec: InputSpec) -> PreparedInput:
    """Run the recipe named by ``spec.preprocess.recipe`` on ``source``."""
    pre = spec.preprocess
    try:
        recipe = RECIPES[pre.recipe]
    except KeyError:
        raise ValueError(f"unknown preprocessing recipe {pre.recipe!r}") from None
    grey = grey_for_model(source, pre)
    transform = recipe(grey, pre.size)
    square = render(grey, transform)
    normalized = (square - np.float32(pre.normalize.mean)) / np.float32(pre.normalize.std)
    channels = spec.shape[1]
    tensor = np.broadcast_to(normalized, (1, channels, pre.size, pre.size))
    return PreparedInput(np.ascontiguousarray(tensor, dtype=np.dtype(spec.dtype)),
                         transform, square)


def render(grey: np.ndarray, transform: InputTransform) -> np.ndarray:
    """The model-input square of ``grey`` under ``transform`` (padding 0 = black)."""
    x0, y0, x1, y1 = transform.crop
    part = grey[y0:y1, x0:x1]
    if transform.flip:
        part = part[:, ::-1]
    rows, cols = transform.resized_size
    resized = Image.fromarray(np.ascontiguousarray(part, dtype=np.float32)).resize(
        (cols, rows), Image.Resampling.BILINEAR)
    size = transform.input_size
    square = np.zeros((size, size), dtype=np.float32)
    ox, oy = int(transform.offset[0]), int(transform.offset[1])
    square[oy:oy + rows, ox:ox + cols] = np.asarray(resized, dtype=np.float32)
    return np.clip(square, 0.0, 1.0, out=square)


# --------------------------------------------------------------------------- recipes


def xray_letterbox_v1(grey: np.ndarray, size: int) -> InputTransform:
    """The whole image, aspect ratio kept, centred on black padding."""
    return letterbox_transform((int(grey.shape[0]), int(grey.shape[1])), size)


def mammo_breast_crop_v1(grey: np.ndarray, size: int) -> InputTransform:
    """The breast's bounding box, flipped so that the chest wall is on the left, letterboxed.

    Without any breast found, the whole image is used as is (no flip).
    """
    rows, cols = int(grey.shape[0]), int(grey.shape[1])
    found = find_breast(grey)
    if found is None:
        return letterbox_transform((rows, cols), size)
    box, chest_wall_right = found
    return letterbox_transform((rows, cols), size, crop=box, flip=chest_wall_right)


def find_breast(grey: np.ndarray) -> tuple[tuple[int, int, int, int], bool] | None:
    """((x0, y0, x1, y1), chest wall on the right?) of a mammogram, or None without a breast.

    The breast is the largest connected region above the background threshold, after
    an opening that detaches film labels and edge bands (components: SimpleITK, already
    a Tandem dependency; scipy is not). The chest wall is the side of its bounding box
    where the region covers more rows in the outermost 5 % of columns: there the
    detector edge cuts the breast straight, while the nipple side is a rounded skin
    line. On the 302 mini-MIAS films this is right 301 times (the miss is a breast that
    fills the whole film); comparing the signal of the left and right halves is right
    299 times (dense tissue far from the chest wall misleads it).
    """
    import SimpleITK as sitk  # imported here: only the mammography recipe needs it

    rows, cols = int(grey.shape[0]), int(grey.shape[1])
    factor = min(1.0, _MASK_MAX_SIDE / max(rows, cols))
    small_w, small_h = max(1, round(cols * factor)), max(1, round(rows * factor))
    small = np.asarray(Image.fromarray(np.ascontiguousarray(grey, dtype=np.float32))
                       .resize((small_w, small_h), Image.Resampling.BILINEAR))
    mask = sitk.GetImageFromArray((small > _BREAST_THRESHOLD).astype(np.uint8))
    mask = sitk.BinaryMorphologicalOpening(mask, [_OPENING_RADIUS] * 2)
    breast = sitk.GetArrayFromImage(sitk.RelabelComponent(sitk.ConnectedComponent(mask))) == 1
    ys, xs = np.nonzero(breast)  # RelabelComponent numbers by size: 1 is the largest
    if ys.size == 0:
        return None
    left, right = int(xs.min()), int(xs.max()) + 1
    top, bottom = int(ys.min()), int(ys.max()) + 1
    region = breast[top:bottom, left:right]
    strip = max(1, (right - left) // 20)
    chest_wall_right = bool(region[:, -strip:].mean() > region[:, :strip].mean())
    # Mask cells back to image pixels (cell k spans [k / s, (k + 1) / s)), rounded outwards.
    sx, sy = small_w / cols, small_h / rows
    box = (max(0, int(np.floor(left / sx))), max(0, int(np.floor(top / sy))),
           min(cols, int(np.ceil(right / sx))), min(rows, int(np.ceil(bottom / sy))))
    return box, chest_wall_right


Recipe = Callable[[np.ndarray, int], InputTransform]
RECIPES: dict[str, Recipe] = {
    "xray_letterbox_v1": xray_letterbox_v1,
    "mammo_breast_crop_v1": mammo_breast_crop_v1,
}
