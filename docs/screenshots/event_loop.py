"""Drive the Qt event loop from the screenshot scripts (they run outside pytest-qt), and save
what a window shows."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def wait_until(done: Callable[..., object], timeout: float = 60.0) -> None:
    """Process events until ``done()`` is true; exit the script after ``timeout`` seconds."""
    from PySide6.QtWidgets import QApplication

    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise SystemExit("timed out waiting for the window")
        QApplication.processEvents()
        time.sleep(0.01)


def settle(seconds: float) -> None:
    """Process events for ``seconds`` (renders, layouts, queued signals)."""
    from PySide6.QtWidgets import QApplication

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        QApplication.processEvents()
        time.sleep(0.01)


def save_window(widget: Any, path: Path) -> None:
    """Save what the screen shows of ``widget``'s window (OpenGL views included)."""
    image = widget.screen().grabWindow(widget.winId()).toImage()
    image.save(str(path))
    print(f"wrote {path} ({image.width()}x{image.height()})")
