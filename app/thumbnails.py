"""Series thumbnails: the middle image, windowed and scaled, rendered off the UI thread and cached.

Thumbnails are cached on disk under ``<data dir>/thumbnails/<SeriesUID>.png``
(the study database's folder) and in memory by the browser, so a study that was
seen once shows its series instantly the next time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QImage

from app.workers import CancelToken, Task, TaskRunner
from imaging.header import InstanceHeader
from imaging.stack import ImageStack

THUMB_SIZE = 128


def display_grey(values: np.ndarray, stack: ImageStack) -> np.ndarray:
    """One 2-D image of ``stack`` as uint8 display grey levels (file window, else 1–99 %)."""
    if stack.is_colour:
        return np.asarray(values, dtype=np.uint8)
    window = stack.windows[0] if stack.windows else None
    apply = getattr(window, "apply", None)
    if callable(apply):
        unit = np.asarray(apply(values), dtype=np.float32)
    else:
        finite = values[np.isfinite(values)]
        if finite.size == 0:
            unit = np.zeros(values.shape, np.float32)
        else:
            low, high = np.percentile(finite, (1.0, 99.0))
            span = float(high - low) or 1.0
            unit = np.clip((values - low) / span, 0.0, 1.0)
    if stack.invert:
        unit = 1.0 - unit
    return np.asarray(np.rint(unit * 255.0), dtype=np.uint8)


def to_qimage(pixels: np.ndarray) -> QImage:
    """uint8 (rows, cols) grey or (rows, cols, 3) RGB array → QImage that owns its data."""
    data = np.ascontiguousarray(pixels)
    rows, cols = data.shape[:2]
    if data.ndim == 2:
        image = QImage(data.data, cols, rows, cols, QImage.Format.Format_Grayscale8)
    else:
        image = QImage(data.data, cols, rows, cols * 3, QImage.Format.Format_RGB888)
    return image.copy()  # detach from the numpy buffer


def render_thumbnail(stack: ImageStack, size: int = THUMB_SIZE) -> QImage:
    """The middle image of ``stack`` scaled to fit ``size``×``size`` (aspect kept)."""
    middle = stack.values[stack.count // 2]
    image = to_qimage(display_grey(middle, stack))
    sx, sy = stack.spacing[0], stack.spacing[1]
    if sx > 0 and sy > 0 and abs(sx - sy) > 1e-3:  # non-square pixels: show true proportions
        image = image.scaled(round(image.width() * sx / sy), image.height(),
                             Qt.AspectRatioMode.IgnoreAspectRatio,
                             Qt.TransformationMode.SmoothTransformation)
    return image.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio,
                        Qt.TransformationMode.SmoothTransformation)


def cache_path(cache_dir: Path, series_uid: str) -> Path:
    # UIDs are safe file names, but a hostile file could put anything there.
    digest = hashlib.sha1(series_uid.encode("utf-8", "replace")).hexdigest()
    return cache_dir / f"{digest}.png"


def make_thumbnail(
    series_uid: str,
    header: InstanceHeader,
    cache_dir: Path,
    load_image: Callable[[InstanceHeader], ImageStack],
    *,
    progress: Callable[..., None] | None = None,
    cancel: CancelToken | None = None,
) -> tuple[str, QImage]:
    """Worker body: cached PNG if there is one, else decode ``header``'s image and cache it.

    Returns a null image when the series cannot be decoded (never raises).
    """
    path = cache_path(cache_dir, series_uid)
    cached = QImage(str(path)) if path.exists() else QImage()
    if not cached.isNull():
        return series_uid, cached
    if cancel is not None and cancel.is_set():
        return series_uid, QImage()
    try:
        image = render_thumbnail(load_image(header))
    except Exception:  # an undecodable series keeps its placeholder; the viewer says why
        return series_uid, QImage()
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        image.save(str(path))  # format from the .png suffix
    except OSError:
        pass  # a read-only data folder only costs a re-render next time
    return series_uid, image


class ThumbnailService(QObject):
    """Renders thumbnails one task per series; emits ``ready(series_uid, QImage)``."""

    ready = Signal(str, QImage)

    def __init__(
        self,
        runner: TaskRunner,
        cache_dir: Path,
        middle_header: Callable[[str], InstanceHeader | None],
        load_image: Callable[[InstanceHeader], ImageStack],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._runner = runner
        self._cache_dir = cache_dir
        self._middle_header = middle_header
        self._load_image = load_image
        self._pending: set[str] = set()
        self._failed: set[str] = set()

    def request(self, series_uids: list[str]) -> None:
        for uid in series_uids:
            if uid in self._pending or uid in self._failed:
                continue
            header = self._middle_header(uid)
            if header is None:
                continue
            self._pending.add(uid)
            task = Task(make_thumbnail, uid, header, self._cache_dir, self._load_image)
            task.signals.succeeded.connect(self._on_done)
            self._runner.start(task)

    def _on_done(self, result: object) -> None:
        if not isinstance(result, tuple):
            return
        uid, image = result
        self._pending.discard(uid)
        if image.isNull():
            self._failed.add(uid)
            return
        self.ready.emit(uid, image)
