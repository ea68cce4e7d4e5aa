"""``tandem render``: series to a PNG, offscreen, with the GUI's own views and layouts."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from imaging.pipeline import VoiWindow
from imaging.stack import ImageStack
from viewer.annotations import TextFormatter
from viewer.hanging import show_mammo4
from viewer.layout import LAYOUTS, ViewportGrid
from viewer.offscreen import offscreen_render_window, write_png


def render_to_png(stacks: Sequence[ImageStack], out_path: Path | str, *,
                  size: tuple[int, int] = (1024, 1024), slice: int | None = None,
                  window: VoiWindow | str | None = None, layout: str = "1x1",
                  formatter: TextFormatter | None = None) -> Path:
    """Render ``stacks`` into ``out_path``.

    ``layout`` is a grid ("1x1", "1x2", "2x2"; stacks fill the cells in order) or
    "mammo4" (the four-view hanging). ``slice`` is the 0-based image index (default:
    the middle); ``window`` a VoiWindow or a preset name ("lung", "bone"...).
    """
    render_window = offscreen_render_window(size)
    grid = ViewportGrid(render_window, "1x1", formatter)
    if layout == "mammo4":
        show_mammo4(grid, stacks)
    elif layout in LAYOUTS:
        grid.set_layout(layout)
        for view, stack in zip(grid.views, stacks, strict=False):
            view.set_stack(stack, index=slice)
    else:
        raise ValueError(f"unknown layout {layout!r}; known: {', '.join(LAYOUTS)}, mammo4")
    for view in grid.views:
        if view.stack is None or window is None:
            continue
        if isinstance(window, str):
            named = [w for w in view.presets if w.name == window]
            if not named:
                raise ValueError(f"no window preset {window!r} for {view.stack.header.modality}")
            view.set_window(named[0])
        else:
            view.set_window(window)
    return write_png(render_window, out_path)
