"""Window/level for display: VOI windows sampled into VTK lookup tables, presets, dragging.

Windows are ``imaging.pipeline.VoiWindow`` values. Linear windows become a ramp
over the window bounds (VTK clamps outside them, so the result is exact); SIGMOID
and VOI LUT windows are sampled over the whole value range, so what the radiologist
sees follows the standard's function, not VTK's linear W/L.
"""

from __future__ import annotations

import numpy as np
from vtkmodules.util.numpy_support import numpy_to_vtk
from vtkmodules.vtkCommonCore import vtkLookupTable

from imaging.pipeline import DisplayParameters, VoiWindow, default_window
from imaging.stack import ImageStack

# Entries of a sampled (non-linear) table: 4096 gives < 1 HU steps over a CT range.
_SAMPLED_ENTRIES = 4096
_LINEAR_ENTRIES = 1024


def is_linear(window: VoiWindow) -> bool:
    """True for windows that are a plain ramp between two bounds (no VOI LUT, no sigmoid)."""
    return window.function in ("LINEAR", "LINEAR_EXACT") and not window.is_table


def window_bounds(window: VoiWindow) -> tuple[float, float]:
    """Values mapped to black and to white by a linear window."""
    if window.function == "LINEAR_EXACT":
        half = window.width / 2.0
        return window.center - half, window.center + half
    half = (max(window.width, 1.0) - 1.0) / 2.0
    return window.center - 0.5 - half, window.center - 0.5 + half


def lookup_table(
    window: VoiWindow, value_range: tuple[float, float], *, invert: bool = False
) -> vtkLookupTable:
    """A grey vtkLookupTable reproducing ``window.apply`` (inverted when ``invert``)."""
    if is_linear(window):
        lo, hi = window_bounds(window)
        if hi <= lo:
            hi = lo + 1e-3
        entries = _LINEAR_ENTRIES
    else:
        lo, hi = float(value_range[0]), float(value_range[1])
        if hi <= lo:
            hi = lo + 1.0
        entries = _SAMPLED_ENTRIES
    # Sample each entry at its bin centre: VTK maps v to bin floor((v - lo) / (hi - lo) * n).
    fraction = (np.arange(entries) + 0.5) / entries
    if is_linear(window):
        grey = fraction
    else:
        grey = np.asarray(window.apply(lo + fraction * (hi - lo)), dtype=np.float64)
    if invert:
        grey = 1.0 - grey
    g = np.clip(np.rint(grey * 255.0), 0, 255).astype(np.uint8)
    rgba = np.stack([g, g, g, np.full_like(g, 255)], axis=1)
    table = vtkLookupTable()
    table.SetNumberOfTableValues(entries)
    table.SetRange(lo, hi)
    table.SetTable(numpy_to_vtk(rgba, deep=True))
    return table


def dragged(window: VoiWindow, dx: float, dy: float, *, value_span: float) -> VoiWindow:
    """The window after a W/L drag of (dx, dy) display pixels (VTK display: y up).

    Horizontal = width (right widens), vertical = level (up lowers the level, the image
    gets brighter), at a speed proportional to the current width so a brain window (80)
    and a mammogram (4000) feel the same; a floor keeps a tiny window adjustable.
    """
    speed = max(window.width, value_span / 1000.0, 1.0) / 200.0
    return window.with_center_width(window.center - dy * speed, window.width + dx * speed)


def stack_window(stack: ImageStack, index: int) -> VoiWindow:
    """The window a grey stack opens with (:func:`imaging.pipeline.default_window` on
    image ``index``). Reformats share it with their acquisition (one window for the MPR)."""
    params = DisplayParameters(modality=stack.header.modality, windows=tuple(stack.windows))
    return default_window(stack.values[index], params)
