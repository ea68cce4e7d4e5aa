"""Background work for the GUI: QRunnable tasks that report progress and accept cancellation.

The UI thread only draws. Import, decoding and thumbnail rendering run in
:class:`Task` objects on a ``QThreadPool``; they talk back through Qt signals
(delivered queued, on the UI thread) and stop early when their
:class:`CancelToken` is set. The callables they run are plain functions from
``imaging`` with the ``progress=`` / ``cancel=`` keywords of the contracts.
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger(__name__)
_PROGRESS_INTERVAL_S = 0.05


class CancelToken:
    """Thread-safe cancellation flag with the ``is_set()`` the imaging functions poll."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()


class TaskSignals(QObject):
    """Signals of one task. ``progress`` is (done, total, label); ``failed`` carries a message."""

    progress = Signal(int, int, str)
    partial = Signal(object)
    succeeded = Signal(object)
    failed = Signal(str)
    finished = Signal()


class Task(QRunnable):
    """Run ``fn(*args, progress=..., cancel=..., **kwargs)`` on a pool thread.

    ``fn`` receives ``progress(done, total, label)`` and the task's cancel token
    when ``with_progress`` is true; ``partial`` lets it hand over intermediate
    results (e.g. the first image before the whole stack).
    """

    def __init__(
        self,
        fn: Callable[..., Any],
        *args: Any,
        with_progress: bool = True,
        with_partial: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__()
        self.setAutoDelete(False)  # the owner keeps a reference until ``finished``
        self.signals = TaskSignals()
        self.cancel = CancelToken()
        self._fn = fn
        self._args = args
        self._kwargs = kwargs
        self._with_progress = with_progress
        self._with_partial = with_partial
        self._last_progress = 0.0

    def _progress(self, done: int, total: int | None = None, label: object = None) -> None:
        # At most ~20 updates a second reach the UI thread (plus the last one): an import
        # of thousands of small files must not flood the event loop.
        now = time.monotonic()
        if now - self._last_progress < _PROGRESS_INTERVAL_S and done != total:
            return
        self._last_progress = now
        # total None = not known yet (still walking folders): reported as 0
        self.signals.progress.emit(int(done), int(total or 0), str(label or ""))

    def run(self) -> None:
        kwargs = dict(self._kwargs)
        if self._with_progress:
            kwargs["progress"] = self._progress
            kwargs["cancel"] = self.cancel
        if self._with_partial:
            kwargs["partial"] = self.signals.partial.emit
        try:
            result = self._fn(*self._args, **kwargs)
        except Exception as exc:  # a worker must never take the application down
            log.error("background task failed: %s", traceback.format_exc())
            self.signals.failed.emit(str(exc) or type(exc).__name__)
        else:
            self.signals.succeeded.emit(result)
        finally:
            self.signals.finished.emit()


class TaskRunner(QObject):
    """Starts tasks on a pool and keeps them alive until they finish."""

    def __init__(self, pool: QThreadPool | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = pool if pool is not None else QThreadPool.globalInstance()
        self._running: dict[TaskSignals, Task] = {}

    def start(self, task: Task) -> Task:
        """Start ``task``. Connect its signals to bound methods of QObjects (queued delivery)."""
        self._running[task.signals] = task
        task.signals.finished.connect(self._forget)
        self.pool.start(task)
        return task

    def _forget(self) -> None:
        sender = self.sender()
        if isinstance(sender, TaskSignals):
            self._running.pop(sender, None)

    def cancel_all(self) -> None:
        for task in list(self._running.values()):
            task.cancel.set()

    def wait(self, msecs: int = 30000) -> bool:
        """Cancel and wait for every task (used when the window closes)."""
        self.cancel_all()
        return self.pool.waitForDone(msecs)

    @property
    def busy(self) -> bool:
        return bool(self._running)
