"""Offscreen rendering without any X server (EGL, else OSMesa) and PNG capture.

``tandem render`` and the golden-image tests use the same SliceView/ViewportGrid as
the GUI; only the render window differs.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import vtkmodules.vtkRenderingOpenGL2 as _gl
from vtkmodules.util.numpy_support import vtk_to_numpy
from vtkmodules.vtkIOImage import vtkPNGWriter
from vtkmodules.vtkRenderingCore import vtkRenderWindow, vtkWindowToImageFilter


def offscreen_render_window(size: tuple[int, int]) -> vtkRenderWindow:
    """An offscreen render window of ``size`` (width, height).

    The EGL window is created directly, display or not: the generic factory would
    first try X (printing "bad X server connection" without one, and tying the
    window to an X server that a test's Xvfb may close before VTK lets go of it).
    ``TANDEM_VTK_OFFSCREEN=x`` keeps VTK's own choice, for machines without EGL.
    """
    window: vtkRenderWindow
    use_egl = os.environ.get("TANDEM_VTK_OFFSCREEN", "egl") == "egl"
    if use_egl and hasattr(_gl, "vtkEGLRenderWindow"):
        window = _gl.vtkEGLRenderWindow()
    else:
        window = vtkRenderWindow()
    window.SetOffScreenRendering(1)
    window.SetSize(*size)
    window.SetMultiSamples(0)
    return window


def capture(window: vtkRenderWindow) -> np.ndarray:
    """Render and return the window's pixels as ``(height, width, 3)`` uint8, row 0 at the top."""
    window.Render()
    grabber = vtkWindowToImageFilter()
    grabber.SetInput(window)
    grabber.SetInputBufferTypeToRGB()
    grabber.ReadFrontBufferOff()
    grabber.Update()
    image = grabber.GetOutput()
    width, height, _ = image.GetDimensions()
    pixels = vtk_to_numpy(image.GetPointData().GetScalars()).reshape(height, width, -1)
    return np.ascontiguousarray(pixels[::-1, :, :3])  # VTK images start at the bottom row


def write_png(window: vtkRenderWindow, path: Path | str) -> Path:
    """Render ``window`` into the PNG file ``path``."""
    window.Render()
    grabber = vtkWindowToImageFilter()
    grabber.SetInput(window)
    grabber.SetInputBufferTypeToRGB()
    grabber.ReadFrontBufferOff()
    writer = vtkPNGWriter()
    writer.SetFileName(str(path))
    writer.SetInputConnection(grabber.GetOutputPort())
    writer.Write()
    return Path(path)
