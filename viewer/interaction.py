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
- the radiologist's marks (coordinates: :mod:`viewer.reader_marks`, top-left pixel corner
  at (0, 0)): draw_point = click; draw_box / draw_ellipse = press, drag (live preview),
  release (ignored when narrower or lower than 2 image pixels); draw_polygon = a click per
  vertex (preview up to the mouse), double-click or Enter closes it (3 vertices or more),
  Esc cancels; select = a click picks the mark under the mouse, a drag moves it (preview,
  one ``mark_moved`` on release, kept inside the image); Delete/BackSpace deletes the
  selection (callback). Drawing modes do not maximise on double-click.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal

from vtkmodules.vtkCommonCore import vtkCommand
from vtkmodules.vtkInteractionStyle import vtkInteractorStyleUser
from vtkmodules.vtkRenderingCore import vtkRenderWindowInteractor

from imaging.stack import ImageStack
from viewer.layout import ViewportGrid
from viewer.linking import ViewLink
from viewer.measure import Point
from viewer.reader_marks import MarkGlyph
from viewer.slice_view import SliceView

LeftMode = Literal["window", "distance", "angle", "pan", "zoom", "crosshair",
                   "draw_point", "draw_box", "draw_ellipse", "draw_polygon", "select"]
_DRAW_SHAPES = {"draw_point": "point", "draw_box": "box", "draw_ellipse": "ellipse",
                "draw_polygon": "polygon"}
_ZOOM_PER_PIXEL = 1.01
_WHEEL_ZOOM = 1.15
_MIN_MARK_PX = 2.0  # image pixels: a smaller box or ellipse is a slip of the mouse
_PICK_PX = 6.0  # display pixels around a mark that still pick it
_SAME_VERTEX_PX = 2.0  # display pixels: a click this close to the last vertex adds none
_PREVIEW = "\0preview"  # the id of a glyph being drawn (never a mark's id)


@dataclass
class InteractionCallbacks:
    """Hooks for the app; every one is optional."""

    series_step: Callable[[SliceView, int], None] | None = None  # PageUp/PageDown
    maximise: Callable[[SliceView], None] | None = None  # double-click
    changed: Callable[[SliceView], None] | None = None  # status bar, linked views...
    key: Callable[[SliceView, str], bool] | None = None  # first refusal on any key
    extra: dict[str, Callable[[SliceView], None]] = field(default_factory=dict)
    # The radiologist's marks; points in image pixels, top-left pixel corner at (0, 0).
    mark_drawn: Callable[[SliceView, str, tuple[Point, ...]], None] | None = None
    mark_moved: Callable[[SliceView, str, float, float], None] | None = None  # id, dx, dy
    mark_selected: Callable[[SliceView, str | None], None] | None = None  # None: nothing
    delete_selected: Callable[[SliceView], None] | None = None  # Delete / BackSpace


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
        self._draw_start: Point | None = None  # first corner of a box or ellipse being drawn
        self._polygon: list[Point] = []  # vertices of the polygon being drawn
        self._polygon_on: tuple[SliceView, ImageStack | None, int] | None = None  # its image
        self._moving: tuple[MarkGlyph, Point] | None = None  # mark being dragged, grab point
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
            if self.left_mode == "draw_polygon":
                self._close_polygon()
                self._done(view)
                return
            if self.left_mode in _DRAW_SHAPES or (
                    self.left_mode == "select" and self._mark_under_mouse(view) is not None):
                return
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
        elif mode in _DRAW_SHAPES or mode == "select":
            self._mark_press(view, mode)
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
        elif self._drag is not None and self._drag[0] in ("draw_box", "draw_ellipse", "select"):
            self._mark_release(self._drag[1], self._drag[0])
        self._drag = None

    def _move(self, *_: object) -> None:
        if self._drag is None:
            if self._polygon_on is not None:
                self._polygon_preview(*self._position())
            return
        mode, view, (x0, y0) = self._drag
        x, y = self._position()
        dx, dy = x - x0, y - y0
        if mode in ("distance", "angle", "draw_point", "draw_polygon"):
            return
        if mode in ("draw_box", "draw_ellipse", "select"):
            self._mark_drag(view, mode, x, y)
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

    # ------------------------------------------------------------------ reader marks
    def _image_point(self, view: SliceView, x: float, y: float) -> Point:
        """The corner-origin image point under display (x, y), kept inside the image."""
        px, py = view.display_to_image_corner(x, y)
        if view.stack is None:
            return (px, py)
        return (min(max(px, 0.0), float(view.stack.columns)),
                min(max(py, 0.0), float(view.stack.rows)))

    def _inside_image(self, view: SliceView, p: Point) -> bool:
        stack = view.stack
        return stack is not None and 0.0 <= p[0] <= stack.columns and 0.0 <= p[1] <= stack.rows

    def _mark_under_mouse(self, view: SliceView) -> str | None:
        x, y = view.display_to_image_corner(*self._position())
        return view.mark_at(x, y, _PICK_PX / max(view.zoom, 1e-6))

    def _mark_press(self, view: SliceView, mode: str) -> None:
        if view.stack is None:
            return
        raw = view.display_to_image_corner(*self._position())
        point = self._image_point(view, *self._position())
        if mode == "draw_point":
            if self._inside_image(view, raw) and self.callbacks.mark_drawn is not None:
                self.callbacks.mark_drawn(view, "point", (point,))
            self._done(view)
        elif mode in ("draw_box", "draw_ellipse"):
            self._draw_start = point if self._inside_image(view, raw) else None
        elif mode == "draw_polygon":
            self._add_vertex(view, point)
        elif mode == "select":
            mark_id = self._mark_under_mouse(view)
            glyph = next((g for g in view.marks if g.mark_id == mark_id), None)
            self._moving = None if glyph is None else (glyph, raw)
            if self.callbacks.mark_selected is not None:
                self.callbacks.mark_selected(view, mark_id)
            self._done(view)

    def _mark_drag(self, view: SliceView, mode: str, x: float, y: float) -> None:
        if mode == "select":
            if self._moving is None:
                return
            glyph, _ = self._moving
            dx, dy = self._move_delta(view, x, y)
            view.set_mark_preview(replace(glyph.moved(dx, dy), role="selected"))
        else:
            if self._draw_start is None:
                return
            shape = _DRAW_SHAPES[mode]
            end = self._image_point(view, x, y)
            view.set_mark_preview(MarkGlyph(_PREVIEW, view.index, shape,
                                            (self._draw_start, end), role="selected"))
        self.interactor.Render()

    def _move_delta(self, view: SliceView, x: float, y: float) -> tuple[float, float]:
        """Image-pixel move of the dragged mark, limited so it stays inside the image."""
        assert self._moving is not None and view.stack is not None
        glyph, (gx, gy) = self._moving
        px, py = view.display_to_image_corner(x, y)
        x0, y0, x1, y1 = glyph.bbox()
        dx = min(max(px - gx, -x0), view.stack.columns - x1)
        dy = min(max(py - gy, -y0), view.stack.rows - y1)
        return (dx, dy)

    def _mark_release(self, view: SliceView, mode: str) -> None:
        x, y = self._position()
        if mode == "select":
            if self._moving is None:
                return
            glyph = self._moving[0]
            dx, dy = self._move_delta(view, x, y)
            self._moving = None
            view.set_mark_preview(None)
            if (dx, dy) != (0.0, 0.0) and self.callbacks.mark_moved is not None:
                self.callbacks.mark_moved(view, glyph.mark_id, dx, dy)
        else:
            start, self._draw_start = self._draw_start, None
            view.set_mark_preview(None)
            if start is None:
                return
            end = self._image_point(view, x, y)
            small = min(abs(end[0] - start[0]), abs(end[1] - start[1])) < _MIN_MARK_PX
            if not small and self.callbacks.mark_drawn is not None:
                self.callbacks.mark_drawn(view, _DRAW_SHAPES[mode], (start, end))
        self._done(view)

    def _add_vertex(self, view: SliceView, point: Point) -> None:
        if not self._polygon_shown_on(view):
            self.cancel_drawing()
            self._polygon_on = (view, view.stack, view.index)
        if self._polygon:
            lx, ly = self._polygon[-1]
            if abs(point[0] - lx) * view.zoom < _SAME_VERTEX_PX and \
                    abs(point[1] - ly) * view.zoom < _SAME_VERTEX_PX:
                return
        self._polygon.append(point)
        self._polygon_preview(*self._position())

    def _polygon_shown_on(self, view: SliceView) -> bool:
        """Whether the polygon being drawn belongs to the image ``view`` shows now."""
        on = self._polygon_on
        return on is not None and on[0] is view and on[1] is view.stack and on[2] == view.index

    def _polygon_preview(self, x: float, y: float) -> None:
        if self._polygon_on is None:
            return
        view = self._polygon_on[0]
        line = (*self._polygon, self._image_point(view, x, y))
        view.set_mark_preview(MarkGlyph(_PREVIEW, view.index, "polyline", line, role="selected"))
        self.interactor.Render()

    def _close_polygon(self) -> None:
        """Report the polygon being drawn (3 vertices or more; fewer: keep drawing)."""
        if self._polygon_on is None or len(self._polygon) < 3:
            return
        view = self._polygon_on[0]
        still_there = self._polygon_shown_on(view)
        vertices = tuple(self._polygon)
        self.cancel_drawing()
        if still_there and self.callbacks.mark_drawn is not None:
            self.callbacks.mark_drawn(view, "polygon", vertices)

    def cancel_drawing(self) -> None:
        """Forget any mark being drawn or dragged (Esc, a new tool)."""
        views = {self._polygon_on[0]} if self._polygon_on is not None else set()
        if self._drag is not None:
            views.add(self._drag[1])
        for view in views:
            view.set_mark_preview(None)
        self._polygon, self._polygon_on = [], None
        self._draw_start, self._moving = None, None

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
        self.cancel_drawing()

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
            self.cancel_drawing()
        elif key in ("Return", "KP_Enter"):
            self._close_polygon()
        elif key in ("Delete", "BackSpace"):
            if self.callbacks.delete_selected is not None:
                self.callbacks.delete_selected(view)
        elif key in self.callbacks.extra:
            self.callbacks.extra[key](view)
