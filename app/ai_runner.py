"""Runs the local AI models on opened images, one job at a time, off the UI thread.

The runner owns one :class:`inference.engine.AnalysisEngine`. Everything that
touches ONNX Runtime (importing it, reading and hashing the models, creating
sessions, inference) happens on the runner's own single-thread pool:

- one thread, so jobs queue in order and the engine's sessions and cache are only
  ever used from that thread (no locking in the engine);
- its own pool rather than ``QThreadPool.globalInstance()``, so a slow model never
  holds a slot that series decoding and thumbnails need (CI has two cores, the
  global pool two threads).

A request for an image cancels every older request (the radiologist moved on);
:meth:`AiRunner.cancel` stops the current model (``AnalysisCancelled`` is expected,
not an error) and drops the queued ones. Results come back as signals on the UI
thread; the engine's :class:`~inference.cache.ResultCache` (``data_dir()/ai_results``)
makes an image analysed before come back at once.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from app.workers import CancelToken
from imaging import paths
from imaging.stack import ImageStack

if TYPE_CHECKING:
    from inference.engine import AnalysisEngine
    from inference.registry import ModelEntry, ModelRegistry

log = logging.getLogger(__name__)

CACHE_FOLDER = "ai_results"


def default_registry() -> ModelRegistry:
    """Bundled models, then ``$TANDEM_MODELS_DIR``, then the user's models folder."""
    from inference.registry import ModelRegistry

    return ModelRegistry.default()


@dataclass(frozen=True)
class ImageRef:
    """One image of a stack to analyse: (SOP instance UID, frame) identifies it."""

    stack: ImageStack
    index: int

    @property
    def key(self) -> tuple[str, int]:
        info = self.stack.slices[self.index]
        return info.sop_instance_uid, info.frame


class _JobSignals(QObject):
    running = Signal(str)  # model id
    result = Signal(object)  # AnalysisResult
    models = Signal(list)  # list[ModelEntry]
    failed = Signal(str)
    finished = Signal()


class _Job(QRunnable):
    """One unit of work on the AI thread: ``body(signals, cancel)``."""

    def __init__(self, body: Callable[[_JobSignals, CancelToken], None],
                 key: tuple[tuple[str, int], ...] = ()) -> None:
        super().__init__()
        self.setAutoDelete(False)  # the runner keeps it until ``finished``
        self.signals = _JobSignals()
        self.cancel = CancelToken()
        self.key = key
        self._body = body

    def run(self) -> None:
        try:
            if not self.cancel.is_set():
                self._body(self.signals, self.cancel)
        except Exception as exc:  # the AI must never take the workstation down
            log.error("AI job failed: %s", traceback.format_exc())
            self.signals.failed.emit(str(exc) or type(exc).__name__)
        finally:
            self.signals.finished.emit()


class AiRunner(QObject):
    """Queues analyses of opened images on a single background thread.

    Signals (UI thread): ``models_ready(list[ModelEntry])`` once the registry is
    read; ``running(model_id)`` when a model starts on an image; ``result(AnalysisResult)``
    per model and image (cancelled models send nothing); ``failed(message)`` when
    the engine itself cannot work; ``finished()`` when the queue is empty.
    """

    models_ready = Signal(list)
    running = Signal(str)
    result = Signal(object)
    failed = Signal(str)
    finished = Signal()

    def __init__(self, registry: Callable[[], ModelRegistry] = default_registry,
                 cache_folder: Path | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._make_registry = registry
        self._cache_folder = cache_folder
        self._engine: AnalysisEngine | None = None
        self._registry: ModelRegistry | None = None
        self._entries: list[ModelEntry] = []
        self._loaded = False
        self._jobs: list[_Job] = []
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self.pool.setObjectName("aiPool")

    # -- state -------------------------------------------------------------------------------

    @property
    def engine(self) -> AnalysisEngine | None:
        """The engine, once the first job has created it (None before)."""
        return self._engine

    @property
    def entries(self) -> list[ModelEntry]:
        """Every model found (valid or not), as of the last ``models_ready``."""
        return list(self._entries)

    @property
    def loaded(self) -> bool:
        """True once the model list has been read (it may be empty)."""
        return self._loaded

    @property
    def usable_ids(self) -> list[str]:
        return [e.id for e in self._entries if e.valid]

    @property
    def busy(self) -> bool:
        """True while an analysis is queued or running (loading the models does not count)."""
        return any(job.key for job in self._jobs)

    # -- requests ----------------------------------------------------------------------------

    def load_models(self) -> None:
        """Read the registry and start the engine in the background; ``models_ready`` follows."""
        def body(signals: _JobSignals, _cancel: CancelToken) -> None:
            self._ensure_engine(refresh=True)
            assert self._registry is not None
            signals.models.emit(list(self._registry.entries()))

        self._start(_Job(body))

    def analyze(self, images: Sequence[ImageRef], model_ids: Sequence[str]) -> bool:
        """Run ``model_ids`` on ``images`` (in order), after cancelling older requests.

        Returns False when nothing was queued: no model, no image, or the very same
        request is already queued or running (reopening a series twice in a row).
        """
        ids = list(model_ids)
        key = tuple(image.key for image in images)
        if not ids or not key:
            return False
        if any(job.key == key and not job.cancel.is_set() for job in self._jobs):
            return False
        self.cancel()

        def body(signals: _JobSignals, cancel: CancelToken) -> None:
            from inference.engine import AnalysisCancelled
            from inference.source import source_from_stack

            engine = self._ensure_engine()
            for image in images:
                source = source_from_stack(image.stack, image.index)
                for model_id in ids:
                    if cancel.is_set():
                        return
                    signals.running.emit(model_id)
                    try:
                        outcome = engine.analyze(source, model_id, cancel=cancel)
                    except AnalysisCancelled:
                        return
                    signals.result.emit(outcome)

        self._start(_Job(body, key))
        return True

    def cancel(self) -> None:
        """Stop the running analysis and drop the queued ones (their results never come)."""
        for job in list(self._jobs):
            if job.key:
                job.cancel.set()
                if self.pool.tryTake(job):  # not started: it will never run
                    self._forget(job)

    def shutdown(self, msecs: int = 10000) -> bool:
        """Cancel everything and wait for the AI thread (the window is closing)."""
        self.cancel()
        return self.pool.waitForDone(msecs)

    # -- plumbing ----------------------------------------------------------------------------

    def _ensure_engine(self, refresh: bool = False) -> AnalysisEngine:
        """The engine (AI thread only: importing onnxruntime takes a while)."""
        if self._engine is None:
            from inference.cache import ResultCache
            from inference.engine import AnalysisEngine
            from inference.ood import site_calibration_dir

            folder = self._cache_folder or paths.data_dir() / CACHE_FOLDER
            self._registry = self._make_registry()
            self._engine = AnalysisEngine(self._registry, cache=ResultCache(folder),
                                          site_calibrations=site_calibration_dir())
        elif refresh and self._registry is not None:
            self._registry.refresh()
        return self._engine

    def _start(self, job: _Job) -> None:
        self._jobs.append(job)
        job.signals.running.connect(self.running)
        job.signals.result.connect(self.result)
        job.signals.models.connect(self._on_models)
        job.signals.failed.connect(self.failed)
        job.signals.finished.connect(self._on_finished)
        self.pool.start(job)

    def _on_models(self, entries: list[ModelEntry]) -> None:
        self._entries = list(entries)
        self._loaded = True
        self.models_ready.emit(self.entries)

    def _on_finished(self) -> None:
        sender = self.sender()
        job = next((j for j in self._jobs if j.signals is sender), None)
        if job is not None:
            self._forget(job)

    def _forget(self, job: _Job) -> None:
        if job in self._jobs:
            self._jobs.remove(job)
            if job.key and not self.busy:
                self.finished.emit()
