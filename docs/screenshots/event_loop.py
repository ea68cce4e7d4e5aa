"""Drive the Qt event loop from the screenshot scripts (they run outside pytest-qt), and save
what a window shows."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _process_events() -> None:
    """What one turn of the application's event loop does, deferred deletes included:
    ``processEvents()`` alone never deletes objects passed to ``deleteLater()``, so a
    screenshot could show widgets the running application has already removed (a stale
    dock tab bar over the study list)."""
    from PySide6.QtCore import QCoreApplication, QEvent

    QCoreApplication.processEvents()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def wait_until(done: Callable[..., object], timeout: float = 60.0) -> None:
    """Process events until ``done()`` is true; exit the script after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise SystemExit("timed out waiting for the window")
        _process_events()
        time.sleep(0.01)


def settle(seconds: float) -> None:
    """Process events for ``seconds`` (renders, layouts, queued signals)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        _process_events()
        time.sleep(0.01)


def save_window(widget: Any, path: Path) -> None:
    """Save what the screen shows of ``widget``'s window (OpenGL views included)."""
    image = widget.screen().grabWindow(widget.winId()).toImage()
    image.save(str(path))
    print(f"wrote {path} ({image.width()}x{image.height()})")
