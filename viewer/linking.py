"""Views linked as one MPR: a shared window/level and a crosshair that navigates all of them.

The acquisition and its reformats are different stacks of the same volume, so the
link works in patient coordinates (each stack's slice positions and direction):
a point clicked in one view moves every other view to the slice containing it,
whatever the acquisition's obliquity.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from viewer.mpr import locate, patient_point
from viewer.slice_view import SliceView


class ViewLink:
    """Keeps ``views`` on one window/level and one crosshair point."""

    def __init__(self, views: Sequence[SliceView]) -> None:
        self.views = list(views)
        self.point: np.ndarray | None = None  # crosshair, patient LPS mm
        self._syncing = False
        for view in self.views:
            view.listeners.append(self._on_refresh)

    def detach(self) -> None:
        """Stop linking (the views show other series); their crosshairs go."""
        for view in self.views:
            if self._on_refresh in view.listeners:
                view.listeners.remove(self._on_refresh)
            view.set_crosshair(None)
        self.views = []
        self.point = None

    def _on_refresh(self, source: SliceView) -> None:
        """A view redrew: if its window changed (drag, preset, reset), the others follow."""
        window = source.window
        if self._syncing or window is None:
            return
        self._syncing = True
        try:
            for view in self.views:
                if view is not source and view.stack is not None and view.window is not window:
                    view.set_window(window, name=source.window_name)
        finally:
            self._syncing = False

    def cross_at(self, source: SliceView, column: float, row: float) -> np.ndarray | None:
        """Crosshair at image point (``column``, ``row``) of ``source``'s current slice: every
        other view goes to the slice containing it. Returns the patient point (mm)."""
        if source.stack is None:
            return None
        try:
            point = patient_point(source.stack, source.index, column, row)
        except ValueError:
            return None
        self.cross_at_point(point, keep=source)
        return point

    def cross_at_point(self, point: np.ndarray, *, keep: SliceView | None = None) -> None:
        """Put the crosshair at patient ``point`` in every view; views other than ``keep``
        move to the slice nearest to it."""
        self.point = np.asarray(point, dtype=float)
        for view in self.views:
            located = locate(view.stack, self.point) if view.stack is not None else None
            if located is None:
                view.set_crosshair(None)
                continue
            if view is not keep:
                view.set_index(located.index)
            view.set_crosshair((located.column, located.row))
