"""Mouse and keyboard habits of radiologists, as a VTK interactor style (no Qt).

The Qt app forwards events to the render window's interactor
(QVTKRenderWindowInteractor does); this style finds the view under the mouse and
calls the same SliceView methods a test calls directly:

- wheel: next/previous image; Ctrl+wheel: zoom around the mouse
- left drag: window/level (or the measuring tool), middle drag: pan, right drag: zoom
- crosshair tool, or Shift+left click/drag with any tool: the linked views (MPR) go to
  the patient point under the mouse
- keys: I invert, R reset, F fit, 0 one-to-one, 1..9 presets, A AI overlays on/off,
  arrows previous/next image, PageUp/PageDown previous/next series (callback)
- double-click: maximise the viewport (callback, default: the grid toggles)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from vtkmodules.vtkCommonCore import vtkCommand
from vtkmodules.vtkInteractionStyle import vtkInteractorStyleUser
from vtkmodules.vtkRenderingCore import vtkRenderWindowInteractor

from viewer.layout import ViewportGrid
from viewer.linking import ViewLink
from viewer.measure import Point
from viewer.slice_view import SliceView

LeftMode = Literal["window", "distance", "angle", "pan", "zoom", "crosshair"]
_ZOOM_PER_PIXEL = 1.01
_WHEEL_ZOOM = 1.15


@dataclass
class InteractionCallbacks:
    """Hooks for the app; every one is optional."""

    series_step: Callable[[SliceView, int], None] | None = None  # PageUp/PageDown
    maximise: Callable[[SliceView], None] | None = None  # double-click
    changed: Callable[[SliceView], None] | None = None  # status bar, linked views...
    key: Callable[[SliceView, str], bool] | None = None  # first refusal on any key
    extra: dict[str, Callable[[SliceView], None]] = field(default_factory=dict)


class ViewerInteraction:
    """Installs a vtkInteractorStyleUser on ``interactor`` and routes its events."""

    def __init__(self, interactor: vtkRenderWindowInteractor, grid: ViewportGrid,
                 callbacks: InteractionCallbacks | None = None) -> None:
        self.interactor = interactor
        self.grid = grid
        self.callbacks = callbacks or InteractionCallbacks()
        self.left_mode: LeftMode = "window"
        self.link: ViewLink | None = None  # the MPR's views, navigated by the crosshair
        self.style = vtkInteractorStyleUser()
        interactor.SetInteractorStyle(self.style)
        self._drag: tuple[str, SliceView, tuple[int, int]] | None = None
        self._pending: list[Point] = []  # points of an unfinished measurement
        command = vtkCommand
        for event, handler in (
            (command.LeftButtonPressEvent, self._left_press),
            (command.LeftButtonReleaseEvent, self._release),
            (command.MiddleButtonPressEvent, self._middle_press),
            (command.MiddleButtonReleaseEvent, self._release),
            (command.RightButtonPressEvent, self._right_press),
            (command.RightButtonReleaseEvent, self._release),
            (command.MouseMoveEvent, self._move),
            (command.MouseWheelForwardEvent, self._wheel_forward),
            (command.MouseWheelBackwardEvent, self._wheel_backward),
            (command.KeyPressEvent, self._key),
            (command.CharEvent, self._ignore),  # VTK's defaults (q quits, w wireframe...) off
        ):
            self.style.AddObserver(event, handler)
        # QVTKRenderWindowInteractor sends ConfigureEvent when the widget is resized.
        interactor.AddObserver(vtkCommand.ConfigureEvent, self._resized)

    # ------------------------------------------------------------------ helpers
    def _position(self) -> tuple[int, int]:
        x, y = self.interactor.GetEventPosition()
        return int(x), int(y)

    def _view(self) -> SliceView | None:
        view = self.grid.view_at(*self._position())
        if view is not None and view is not self.grid.active:
            self.grid.set_active(view)
        return view

    def _done(self, view: SliceView | None) -> None:
        if view is not None and self.callbacks.changed is not None:
            self.callbacks.changed(view)
        self.interactor.Render()

    def _ignore(self, *_: object) -> None:
        return

    def _resized(self, *_: object) -> None:
        self.grid.refit()

    # ------------------------------------------------------------------ buttons
    def _left_press(self, *_: object) -> None:
        view = self._view()
        if view is None:
            return
        if self.interactor.GetRepeatCount() > 0:  # double-click
            if self.callbacks.maximise is not None:
                self.callbacks.maximise(view)
            else:
                self.grid.toggle_maximise(view)
            self._done(view)
            return
        mode = "crosshair" if self.interactor.GetShiftKey() else self.left_mode
        if mode == "crosshair":
            self.cross_at(view, *self._position())
        elif mode in ("distance", "angle"):
            self._measure_press(view)
        self._drag = (mode, view, self._position())

    def _middle_press(self, *_: object) -> None:
        view = self._view()
        if view is not None:
            self._drag = ("pan", view, self._position())

    def _right_press(self, *_: object) -> None:
        view = self._view()
        if view is not None:
            self._drag = ("zoom", view, self._position())

    def _release(self, *_: object) -> None:
        if self._drag is not None and self._drag[0] in ("distance", "angle"):
            self._measure_release(self._drag[1])
        self._drag = None

    def _move(self, *_: object) -> None:
        if self._drag is None:
            return
        mode, view, (x0, y0) = self._drag
        x, y = self._position()
        dx, dy = x - x0, y - y0
        if mode in ("distance", "angle"):
            return
        self._drag = (mode, view, (x, y))
        if mode == "crosshair":
            self.cross_at(view, x, y)
            return
        if mode == "window":
            view.window_level_drag(dx, dy)
        elif mode == "pan":
            view.pan(dx, dy)
        elif mode == "zoom":
            view.zoom_by(_ZOOM_PER_PIXEL ** dy)
        self._done(view)

    # ------------------------------------------------------------------ measuring
    def _measure_press(self, view: SliceView) -> None:
        point = view.display_to_image(*self._position())
        if not self._pending:
            self._pending = [point]

    def _measure_release(self, view: SliceView) -> None:
        point = view.display_to_image(*self._position())
        self._pending.append(point)
        if self.left_mode == "distance" and len(self._pending) >= 2:
            if self._pending[0] != self._pending[-1]:
                view.add_distance(self._pending[0], self._pending[-1])
            self._pending = []
        elif self.left_mode == "angle" and len(self._pending) >= 3:
            # Drag the first arm (first point → vertex), then click the second arm's end.
            view.add_angle(self._pending[0], self._pending[1], self._pending[-1])
            self._pending = []
        self._done(view)

    def cross_at(self, view: SliceView, x: float, y: float) -> None:
        """Crosshair at display pixel (x, y) of ``view``; the linked views follow."""
        column, row = view.display_to_image(x, y)
        if self.link is not None and view in self.link.views:
            self.link.cross_at(view, column, row)
        else:
            view.set_crosshair((column, row))
        self._done(view)

    def set_left_mode(self, mode: LeftMode) -> None:
        self.left_mode = mode
        self._pending = []

    # ------------------------------------------------------------------ wheel and keys
    def _wheel(self, step: int) -> None:
        view = self._view()
        if view is None:
            return
        if self.interactor.GetControlKey():
            view.zoom_by(_WHEEL_ZOOM ** -step, around=self._position())
        else:
            view.scroll(step)
        self._done(view)

    def _wheel_forward(self, *_: object) -> None:
        self._wheel(-1)

    def _wheel_backward(self, *_: object) -> None:
        self._wheel(+1)

    def _key(self, *_: object) -> None:
        view = self.grid.active or self._view()
        if view is None:
            return
        key = self.interactor.GetKeySym() or ""
        if self.callbacks.key is not None and self.callbacks.key(view, key):
            self._done(view)
            return
        self.press_key(view, key)
        self._done(view)

    def press_key(self, view: SliceView, key: str) -> None:
        """The keyboard shortcuts, callable without an interactor (tests, menus)."""
        lower = key.lower()
        if lower == "i":
            view.toggle_invert()
        elif lower == "r":
            view.reset()
        elif lower == "f":
            view.fit()
        elif lower == "a":
            self.grid.set_ai_overlays_visible(not view.ai_visible)
        elif key == "0":
            view.one_to_one()
        elif key.isdigit():
            view.apply_preset(int(key))
        elif key in ("Up", "Left"):
            view.scroll(-1)
        elif key in ("Down", "Right"):
            view.scroll(+1)
        elif key in ("Prior", "Next"):
            step = -1 if key == "Prior" else 1
            if self.callbacks.series_step is not None:
                self.callbacks.series_step(view, step)
            else:
                view.scroll(step * max(1, view.count // 10))
        elif key == "Escape":
            self._pending = []
        elif key in self.callbacks.extra:
            self.callbacks.extra[key](view)
