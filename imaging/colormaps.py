"""Perceptual colormaps for AI heatmaps, from small anchor tables (no matplotlib at run time).

Here in ``imaging`` (plain numpy) so that the viewer's overlays and the report's key images
(``reading``, which may not import ``viewer``) colour a heatmap with the same table.

The anchors are 17 evenly spaced samples of matplotlib's ``inferno`` and ``turbo``
maps; linear interpolation between them stays within a few grey levels of the
full 256-entry tables, which is plenty for a translucent overlay.
"""

from __future__ import annotations

import numpy as np

_ANCHORS: dict[str, tuple[tuple[int, int, int], ...]] = {
    "inferno": (
        (0, 0, 4), (11, 7, 36), (33, 12, 74), (61, 9, 101), (87, 16, 110), (113, 25, 110),
        (138, 34, 106), (163, 44, 97), (188, 55, 84), (210, 70, 68), (228, 90, 49),
        (241, 115, 29), (249, 142, 9), (252, 172, 17), (249, 203, 53), (242, 234, 105),
        (252, 255, 164),
    ),
    "turbo": (
        (48, 18, 59), (64, 64, 162), (70, 107, 227), (66, 148, 255), (40, 188, 235),
        (24, 221, 194), (50, 242, 152), (109, 254, 98), (164, 252, 60), (205, 236, 52),
        (238, 207, 58), (253, 172, 52), (251, 126, 33), (235, 80, 14), (208, 47, 5),
        (169, 22, 1), (122, 4, 3),
    ),
}

COLORMAPS = tuple(_ANCHORS)


def colormap_table(name: str, size: int = 256) -> np.ndarray:
    """``(size, 3)`` uint8 RGB table of colormap ``name`` (``inferno`` or ``turbo``)."""
    try:
        anchors = np.asarray(_ANCHORS[name], dtype=np.float64)
    except KeyError:
        raise ValueError(f"unknown colormap {name!r}; known: {', '.join(COLORMAPS)}") from None
    xs = np.linspace(0.0, 1.0, len(anchors))
    t = np.linspace(0.0, 1.0, size)
    channels = [np.interp(t, xs, anchors[:, c]) for c in range(3)]
    return np.clip(np.rint(np.stack(channels, axis=1)), 0, 255).astype(np.uint8)


def apply_colormap(values: np.ndarray, name: str) -> np.ndarray:
    """Map ``values`` in [0, 1] (clipped; NaN → 0) to uint8 RGB, shape ``values.shape + (3,)``."""
    table = colormap_table(name)
    v = np.nan_to_num(np.asarray(values, dtype=np.float32), nan=0.0)
    index = np.clip(np.rint(v * (len(table) - 1)), 0, len(table) - 1).astype(np.intp)
    return table[index]
