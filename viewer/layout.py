"""Viewports over one vtkRenderWindow: 1×1, 1×2, 2×2 grids, maximise/restore.

One render window (one OpenGL context) holds every viewport as its own vtkRenderer:
the Qt app embeds that single window with one QVTKRenderWindowInteractor, the
interactor style finds the view under the mouse with :meth:`ViewportGrid.view_at`,
and ``tandem render`` uses the same grid on an offscreen window.
"""

from __future__ import annotations

from vtkmodules.vtkRenderingCore import vtkRenderWindow

from viewer.annotations import TextFormatter
from viewer.slice_view import SliceView

LAYOUTS: dict[str, tuple[int, int]] = {"1x1": (1, 1), "1x2": (1, 2), "2x1": (2, 1),
                                       "2x2": (2, 2)}


class ViewportGrid:
    """A rows × columns grid of :class:`SliceView` in one render window."""

    def __init__(self, render_window: vtkRenderWindow, layout: str = "1x1",
                 formatter: TextFormatter | None = None) -> None:
        self.render_window = render_window
        self.formatter = formatter
        self.views: list[SliceView] = []
        self.rows, self.columns = 1, 1
        self.maximised: SliceView | None = None
        self.active: SliceView | None = None
        self.set_layout(layout)

    def set_layout(self, layout: str) -> None:
        """Switch to ``layout`` ("1x1", "1x2", "2x1", "2x2"); views keep their images in order."""
        try:
            self.rows, self.columns = LAYOUTS[layout]
        except KeyError:
            raise ValueError(f"unknown layout {layout!r}; known: {', '.join(LAYOUTS)}") from None
        needed = self.rows * self.columns
        while len(self.views) < needed:
            self.views.append(SliceView(self.render_window, formatter=self.formatter))
        for view in self.views[needed:]:
            self.render_window.RemoveRenderer(view.renderer)
        del self.views[needed:]
        self.maximised = None
        self._place()
        self.set_active(self.views[0] if self.active not in self.views else self.active)

    def cell_viewport(self, index: int) -> tuple[float, float, float, float]:
        """Normalised (xmin, ymin, xmax, ymax) of cell ``index``, row by row from the top."""
        r, c = divmod(index, self.columns)
        return (c / self.columns, 1.0 - (r + 1) / self.rows,
                (c + 1) / self.columns, 1.0 - r / self.rows)

    def _place(self) -> None:
        for i, view in enumerate(self.views):
            shown = self.maximised is None or view is self.maximised
            if shown and not self.render_window.HasRenderer(view.renderer):
                self.render_window.AddRenderer(view.renderer)
            elif not shown:
                self.render_window.RemoveRenderer(view.renderer)
            if shown:
                full = (0.0, 0.0, 1.0, 1.0)
                view.set_viewport(full if self.maximised is not None else self.cell_viewport(i))

    def toggle_maximise(self, view: SliceView) -> None:
        """Double-click: the view fills the window; again: back to the grid."""
        self.maximised = None if self.maximised is view else view
        self._place()

    def view_at(self, x: int, y: int) -> SliceView | None:
        """The view under display pixel (x, y) (VTK display coordinates, y up)."""
        width, height = self.render_window.GetSize()
        if width <= 0 or height <= 0:
            return None
        u, v = x / width, y / height
        for view in self.views:
            if not self.render_window.HasRenderer(view.renderer):
                continue
            x0, y0, x1, y1 = view.renderer.GetViewport()
            if x0 <= u < x1 and y0 <= v < y1:
                return view
        return None

    def set_active(self, view: SliceView) -> None:
        self.active = view
        for v in self.views:
            v.set_active(v is view and len(self.views) > 1)

    def refit(self) -> None:
        """Fit every view again (after the window was resized)."""
        for view in self.views:
            view.fit()

    def set_ai_overlays_visible(self, visible: bool) -> None:
        for view in self.views:
            view.set_ai_overlays_visible(visible)

    def render(self) -> None:
        self.render_window.Render()
