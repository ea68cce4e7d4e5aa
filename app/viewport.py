"""The viewport area: one QVTKRenderWindowInteractor holding the viewer's grid of SliceViews.

Mouse input goes through the viewer's :class:`~viewer.interaction.ViewerInteraction`
(wheel = next/previous image, Ctrl+wheel = zoom, left drag = window/level or the
measuring tool, right drag = zoom, middle drag = pan, double-click = maximise).
Keys are QActions of the main window (translated, listed in the menus); keys they
do not claim reach the viewer's interaction. Series are dropped here from the browser.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Sequence

import vtkmodules.vtkRenderingOpenGL2  # noqa: F401  (registers the OpenGL render window)
from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import (
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QImage,
    QMouseEvent,
    QResizeEvent,
    QShowEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QVBoxLayout, QWidget
from vtkmodules.qt.QVTKRenderWindowInteractor import QVTKRenderWindowInteractor

from app.annotations import QtTextFormatter
from app.browser import series_uid_from_mime
from imaging.pipeline import VoiWindow
from imaging.stack import ImageStack
from viewer.hanging import MAMMO4_SLOTS, chest_wall_side, show_mammo4
from viewer.interaction import InteractionCallbacks, ViewerInteraction
from viewer.layout import ViewportGrid
from viewer.linking import ViewLink
from viewer.slice_view import Side, SliceView

LAYOUTS = ("1x1", "1x2", "2x2", "mammo4")


class _VtkWidget(QVTKRenderWindowInteractor):
    """The VTK widget: mouse events go to the viewer's interaction; series can be dropped."""

    def __init__(self, area: ViewportArea) -> None:
        super().__init__(area)
        self._area = area
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def _display(self, pos: QPoint) -> tuple[float, float]:
        """VTK display coordinates (device pixels, origin bottom-left) of a widget point."""
        ratio = self.devicePixelRatioF()
        return pos.x() * ratio, (self.height() - pos.y()) * ratio

    def mousePressEvent(self, ev: QMouseEvent) -> None:
        self.setFocus()
        super().mousePressEvent(ev)
        self._area.sync_active()

    def wheelEvent(self, ev: QWheelEvent) -> None:
        super().wheelEvent(ev)
        self._area.sync_active()

    def resizeEvent(self, ev: QResizeEvent) -> None:
        super().resizeEvent(ev)
        self._area.on_resized()

    def dragEnterEvent(self, ev: QDragEnterEvent) -> None:
        if series_uid_from_mime(ev.mimeData()) is not None:
            ev.acceptProposedAction()

    def dragMoveEvent(self, ev: QDragMoveEvent) -> None:
        if series_uid_from_mime(ev.mimeData()) is not None:
            ev.acceptProposedAction()

    def dropEvent(self, ev: QDropEvent) -> None:
        uid = series_uid_from_mime(ev.mimeData())
        if uid is None:
            return
        index = self._area.index_at(*self._display(ev.position().toPoint()))
        ev.acceptProposedAction()
        self._area.series_dropped.emit(index, uid)


class ViewportArea(QWidget):
    """Central widget: the viewer's grid of slice views and what the keyboard does to them."""

    series_dropped = Signal(int, str)  # viewport index, series UID
    series_step = Signal(int)  # PageUp/PageDown from the viewer: -1 / +1
    active_changed = Signal(int)
    status_message = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("viewportArea")
        self.vtk_widget = _VtkWidget(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.vtk_widget)
        self.render_window = self.vtk_widget.GetRenderWindow()
        self.render_window.SetMultiSamples(0)
        self.formatter = QtTextFormatter(self)
        self.grid = ViewportGrid(self.render_window, "1x1", self.formatter)
        self.interaction = ViewerInteraction(
            self.render_window.GetInteractor(), self.grid,
            InteractionCallbacks(series_step=self._on_series_step))
        self.layout_name = LAYOUTS[0]
        self._initialised = False
        self.set_layout(LAYOUTS[0])

    def showEvent(self, ev: QShowEvent) -> None:
        super().showEvent(ev)
        if not self._initialised:
            self._initialised = True
            self.vtk_widget.Initialize()
            self.vtk_widget.Start()

    # -- layout ------------------------------------------------------------------------------

    @property
    def views(self) -> list[SliceView]:
        return self.grid.views

    @property
    def mammography(self) -> bool:
        return self.layout_name == "mammo4"

    def set_layout(self, name: str) -> None:
        """Switch to layout ``name``; views keep their content where the grid has room."""
        if name not in LAYOUTS:
            raise ValueError(f"unknown layout {name!r}")
        self.unlink()
        self.grid.set_layout("2x2" if name == "mammo4" else name)
        self.layout_name = name
        for index, view in enumerate(self.views):
            if view.stack is None:
                placeholder = MAMMO4_SLOTS[index] if self.mammography else self.tr(
                    "Drop a series here")
                view.set_stack(None, placeholder=placeholder)
        self.redraw()

    def show_mammo4(self, stacks: Sequence[ImageStack]) -> int:
        """Hang RCC | LCC over RMLO | LMLO from ``stacks``; returns how many were hung."""
        if not self.mammography:
            self.set_layout("mammo4")
        self.unlink()
        hung = show_mammo4(self.grid, stacks)
        self.redraw()
        return len(hung)

    def toggle_maximise(self) -> None:
        """Double-click: the active view fills the area; again: back to the grid."""
        if len(self.views) > 1 and self.grid.active is not None:
            self.grid.toggle_maximise(self.grid.active)
            self.redraw()

    @property
    def maximised(self) -> bool:
        return self.grid.maximised is not None

    def on_resized(self) -> None:
        self.grid.refit()
        self.redraw()

    def _on_series_step(self, view: SliceView, step: int) -> None:
        self.series_step.emit(step)

    # -- active view -------------------------------------------------------------------------

    @property
    def active_view(self) -> SliceView | None:
        return self.grid.active

    @property
    def active_index(self) -> int:
        active = self.grid.active
        return self.views.index(active) if active in self.views else 0

    def index_at(self, x: float, y: float) -> int:
        """The view under display pixel (x, y) (VTK coordinates)."""
        view = self.grid.view_at(int(x), int(y))
        return self.views.index(view) if view is not None else self.active_index

    def sync_active(self) -> None:
        """The viewer's interaction activates the view under the mouse: tell the window."""
        index = self.active_index
        if index != getattr(self, "_last_active", 0):
            self._last_active = index
            self.active_changed.emit(index)

    def set_active(self, index: int) -> None:
        if 0 <= index < len(self.views) and self.views[index] is not self.grid.active:
            self.grid.set_active(self.views[index])
            self.redraw()
            self.sync_active()

    # -- content -----------------------------------------------------------------------------

    def show_stack(self, index: int, stack: ImageStack, *, middle: bool = False) -> None:
        """Show ``stack`` in view ``index`` from its first image (the first-image preview is
        that same image, so the complete stack replaces it without a jump); reformats
        open on their ``middle`` image."""
        view = self.views[index]
        self.unlink(view)
        if self.mammography:
            wanted: Side = "right" if index % 2 == 0 else "left"  # where the chest wall goes
            view.flip_horizontal = chest_wall_side(stack) != wanted
            view.alignment = wanted
        else:
            view.flip_horizontal, view.alignment = False, None
        view.set_stack(stack, index=stack.count // 2 if middle else 0)
        self.redraw()

    def link_views(self, indexes: Sequence[int], window: VoiWindow | None = None,
                   window_name: str = "") -> ViewLink:
        """Link views ``indexes`` as one MPR: one window/level (``window``, else the first
        view's) and a crosshair that moves them all to the point clicked."""
        self.unlink()
        views = [self.views[i] for i in indexes]
        if window is None and views and views[0].window is not None:
            window, window_name = views[0].window, views[0].window_name
        if window is not None:
            for view in views:
                view.set_window(window, name=window_name)
        link = ViewLink(views)
        self.interaction.link = link
        self.redraw()
        return link

    @property
    def link(self) -> ViewLink | None:
        return self.interaction.link

    def unlink(self, view: SliceView | None = None) -> None:
        """End the MPR link (only if it holds ``view``, when given)."""
        link = self.interaction.link
        if link is not None and (view is None or view in link.views):
            link.detach()
            self.interaction.link = None

    def set_loading(self, index: int) -> None:
        view = self.views[index]
        if view.stack is None:
            view.set_stack(None, placeholder=self.tr("Loading…"))
            self.redraw()

    def set_progress(self, done: int, total: int) -> None:
        if total > 1:
            self.status_message.emit(self.tr("Loading images: %1 / %2")
                                     .replace("%1", str(done)).replace("%2", str(total)))

    def show_error(self, index: int, message: str) -> None:
        self.views[index].set_stack(None, placeholder="\n".join(textwrap.wrap(message, 48)))
        self.redraw()

    # -- commands ----------------------------------------------------------------------------

    def presets(self) -> list[object]:
        view = self.active_view
        return list(view.presets) if view is not None else []

    def apply_preset(self, zero_based: int) -> None:
        view = self.active_view
        if view is not None and view.apply_preset(zero_based + 1):
            self.redraw()

    def command(self, name: str) -> None:
        """A viewer command from :mod:`app.shortcuts` on the active view."""
        view = self.active_view
        if view is None:
            return
        if name == "maximise":
            self.toggle_maximise()
            return
        if name == "dicom_overlays":  # a per-viewport setting, kept when its series changes
            view.toggle_dicom_overlays()
            self.redraw()
            return
        if view.stack is None:
            return
        actions: dict[str, Callable[[], None]] = {
            "next_image": lambda: view.scroll(1),
            "previous_image": lambda: view.scroll(-1),
            "first_image": lambda: view.set_index(0),
            "last_image": lambda: view.set_index(view.count - 1),
            "invert": view.toggle_invert,
            "reset": view.reset,
            "fit": view.fit,
            "one_to_one": view.one_to_one,
        }
        actions[name]()
        self.redraw()

    def redraw(self) -> None:
        if self._initialised:
            self.render_window.Render()

    def grab_image(self) -> QImage:
        """What the screen shows of the viewports (QWidget.grab() is black for OpenGL)."""
        window = self.window()
        top_left = self.vtk_widget.mapTo(window, QPoint(0, 0))
        return window.screen().grabWindow(window.winId(), top_left.x(), top_left.y(),
                                          self.vtk_widget.width(),
                                          self.vtk_widget.height()).toImage()

    def close_views(self) -> None:
        self.render_window.Finalize()
