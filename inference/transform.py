"""The exact geometry between an original image and a square model input.

Coordinates are continuous with the origin at the top-left corner of the top-left
pixel (pixel ``i`` covers ``[i, i + 1)``), x right, y down, in both spaces. The
model input is the crop ``[x0, x1) × [y0, y1)`` of the original, optionally flipped
left-right, resized to ``round(size × scale)`` pixels per axis (so each axis' scale
is *new size / old size*, which is exactly what a centre-aligned resampler such as
Pillow's ``resize`` does) and pasted at ``offset`` in a ``size × size`` square.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class InputTransform:
    """Original image pixels ↔ model-input pixels: crop, flip, per-axis scale, padding."""

    image_size: tuple[int, int]  # (rows, cols) of the original image
    input_size: int  # S: the model input is S × S
    crop: tuple[int, int, int, int]  # (x0, y0, x1, y1) in original pixels, x1/y1 exclusive
    scale: tuple[float, float]  # (sx, sy): resized width / crop width, resized height / crop height
    offset: tuple[float, float]  # (x, y) of the resized crop's top-left corner in the model input
    flip: bool = False  # the crop is mirrored left-right before resizing

    @property
    def resized_size(self) -> tuple[int, int]:
        """(rows, cols) of the crop once resized (before padding)."""
        x0, y0, x1, y1 = self.crop
        return round((y1 - y0) * self.scale[1]), round((x1 - x0) * self.scale[0])

    def original_to_input(self, xy: np.ndarray) -> np.ndarray:
        """Original-image points ``(..., 2)`` (x, y) → model-input points."""
        pts = np.asarray(xy, dtype=np.float64)
        x0, y0, x1, _ = self.crop
        x = pts[..., 0] - x0
        if self.flip:
            x = (x1 - x0) - x
        out = np.empty(pts.shape, dtype=np.float64)
        out[..., 0] = x * self.scale[0] + self.offset[0]
        out[..., 1] = (pts[..., 1] - y0) * self.scale[1] + self.offset[1]
        return out

    def input_to_original(self, xy: np.ndarray) -> np.ndarray:
        """Model-input points ``(..., 2)`` (x, y) → original-image points."""
        pts = np.asarray(xy, dtype=np.float64)
        x0, y0, x1, _ = self.crop
        x = (pts[..., 0] - self.offset[0]) / self.scale[0]
        if self.flip:
            x = (x1 - x0) - x
        out = np.empty(pts.shape, dtype=np.float64)
        out[..., 0] = x + x0
        out[..., 1] = (pts[..., 1] - self.offset[1]) / self.scale[1] + y0
        return out

    def box_to_original(self, xyxy: np.ndarray | tuple[float, float, float, float]
                        ) -> tuple[float, float, float, float]:
        """A model-input box ``(x0, y0, x1, y1)`` → the original-image box, corners ordered
        (a flip swaps left and right). Not clipped to the image."""
        corners = self.input_to_original(np.asarray(xyxy, dtype=np.float64).reshape(2, 2))
        xs, ys = np.sort(corners[:, 0]), np.sort(corners[:, 1])
        return float(xs[0]), float(ys[0]), float(xs[1]), float(ys[1])

    def heatmap_to_original(self, heatmap: np.ndarray, max_side: int | None = None
                            ) -> np.ndarray:
        """A map over the whole model input ``(h, w)`` (any resolution) → a float32 map over
        the whole original image, 0 outside the crop.

        The result is ``(rows, cols)``, or scaled so that its longer side is ``max_side``;
        cell ``(i, j)`` spans image rows ``[i·rows/H', (i+1)·rows/H')`` (columns alike)
        and takes the bilinear value of the heatmap at its centre. The mapping is
        separable (x only depends on the column, y on the row), hence two 1-D
        interpolations instead of a general warp.
        """
        hm = np.asarray(heatmap, dtype=np.float32)
        if hm.ndim != 2 or hm.shape[0] < 1 or hm.shape[1] < 1:
            raise ValueError(f"heatmap must be 2-D, got shape {hm.shape}")
        rows, cols = self.image_size
        out_rows, out_cols = rows, cols
        if max_side is not None and max(rows, cols) > max_side:
            factor = max_side / max(rows, cols)
            out_rows, out_cols = max(1, round(rows * factor)), max(1, round(cols * factor))
        # Cell centres in original pixels, then in model-input pixels.
        cx = (np.arange(out_cols) + 0.5) * (cols / out_cols)
        cy = (np.arange(out_rows) + 0.5) * (rows / out_rows)
        x0, y0, x1, y1 = self.crop
        inside_x = (cx >= x0) & (cx < x1)
        inside_y = (cy >= y0) & (cy < y1)
        ix = self.original_to_input(np.stack([cx, np.full_like(cx, y0)], axis=-1))[:, 0]
        iy = self.original_to_input(np.stack([np.full_like(cy, x0), cy], axis=-1))[:, 1]
        # Model-input pixels → heatmap pixel-centre indices (the heatmap spans the input).
        h, w = hm.shape
        col_index, col_weight = _linear_taps(ix * (w / self.input_size) - 0.5, w)
        row_index, row_weight = _linear_taps(iy * (h / self.input_size) - 0.5, h)
        along_x = (hm[:, col_index[0]] * (1 - col_weight) + hm[:, col_index[1]] * col_weight)
        out = (along_x[row_index[0]] * (1 - row_weight)[:, None]
               + along_x[row_index[1]] * row_weight[:, None]).astype(np.float32)
        out[~inside_y, :] = 0.0
        out[:, ~inside_x] = 0.0
        return out


def _linear_taps(pos: np.ndarray, n: int) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
    """Left/right sample indices and the right sample's weight for linear interpolation at
    continuous indices ``pos`` over ``n`` samples, clamped at the edges."""
    pos = np.clip(pos, 0.0, n - 1.0)
    left = np.floor(pos).astype(np.intp)
    right = np.minimum(left + 1, n - 1)
    return (left, right), (pos - left).astype(np.float32)


def letterbox_transform(image_size: tuple[int, int], size: int,
                        crop: tuple[int, int, int, int] | None = None,
                        flip: bool = False) -> InputTransform:
    """The transform that fits ``crop`` (default: the whole image) into ``size × size``,
    keeping its aspect ratio and centring it on the padding."""
    rows, cols = image_size
    x0, y0, x1, y1 = crop if crop is not None else (0, 0, cols, rows)
    if not (0 <= x0 < x1 <= cols and 0 <= y0 < y1 <= rows):
        raise ValueError(f"crop {(x0, y0, x1, y1)} is not inside a {rows}x{cols} image")
    width, height = x1 - x0, y1 - y0
    fit = size / max(width, height)
    new_w = min(size, max(1, round(width * fit)))
    new_h = min(size, max(1, round(height * fit)))
    return InputTransform(
        image_size=(rows, cols), input_size=size, crop=(x0, y0, x1, y1),
        scale=(new_w / width, new_h / height),
        offset=(float((size - new_w) // 2), float((size - new_h) // 2)), flip=flip)
