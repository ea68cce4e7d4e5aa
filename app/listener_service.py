"""The GUI's storage SCP: studies pushed by a modality or a PACS, received while Tandem runs.

:class:`ListenerService` owns a :class:`pacs.storage_scp.StorageServer`. Receiving and indexing
happen on pynetdicom's association threads and the receiver's writer thread; the UI thread only
polls the counters on a timer (once a second by default), so however fast the images come the
study browser is refreshed at most once per period and the event loop is never flooded.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QTimer, Signal

from imaging.db import StudyDatabase
from pacs.errors import PacsError
from pacs.nodes import LocalAE
from pacs.receiver import ReceiveStats
from pacs.storage_scp import StorageServer

log = logging.getLogger(__name__)
POLL_MS = 1000


class ListenerService(QObject):
    """Start/stop the storage SCP and report what it received, throttled for the UI."""

    running_changed = Signal(bool)
    status_changed = Signal(str)  # the status bar text ("" when not listening)
    studies_arrived = Signal()  # new instances were indexed since the last period
    failed = Signal(str)  # could not listen (port in use...): a translated sentence

    def __init__(self, db: StudyDatabase, *, host: str = "", poll_ms: int = POLL_MS,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.host = host
        self._server: StorageServer | None = None
        self._local: LocalAE | None = None
        self._indexed = 0
        self._timer = QTimer(self)
        self._timer.setInterval(poll_ms)
        self._timer.timeout.connect(self.poll)

    @property
    def server(self) -> StorageServer | None:
        """The running server (a C-MOVE retrieve hands it to :func:`retrieve_study`)."""
        return self._server

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def local(self) -> LocalAE | None:
        """The AE title and port listened on, while running."""
        return self._local if self._server is not None else None

    def start(self, local: LocalAE) -> bool:
        """Listen as ``local``; False (and ``failed`` emitted) when the port cannot be opened."""
        if self._server is not None:
            if self._local == local:
                return True
            self.stop()
        server = StorageServer(self.db, ae_title=local.ae_title, port=local.port,
                               host=self.host)
        try:
            server.start()
        except PacsError as exc:
            log.warning("storage SCP not started: %s", exc.message)
            self.failed.emit(self.tr("Cannot receive studies: %1").replace("%1", exc.message))
            return False
        log.info("storage SCP listening as %s on port %d", local.ae_title, local.port)
        self._server, self._local, self._indexed = server, local, 0
        self._timer.start()
        self.running_changed.emit(True)
        self.status_changed.emit(self.status_text(server.stats()))
        return True

    def stop(self) -> None:
        """Stop listening; what was already acknowledged is indexed before this returns."""
        server, self._server = self._server, None
        if server is None:
            return
        self._timer.stop()
        server.stop()
        log.info("storage SCP stopped (%d received)", server.stats().received)
        if server.stats().indexed != self._indexed:
            self.studies_arrived.emit()
        self.running_changed.emit(False)
        self.status_changed.emit("")

    def stats(self) -> ReceiveStats | None:
        return self._server.stats() if self._server is not None else None

    def poll(self) -> None:
        """Once a period: status text, and ``studies_arrived`` if rows were added."""
        if self._server is None:
            return
        stats = self._server.stats()
        if stats.indexed != self._indexed:
            self._indexed = stats.indexed
            self.studies_arrived.emit()
        self.status_changed.emit(self.status_text(stats))

    def status_text(self, stats: ReceiveStats) -> str:
        local = self._local
        if stats.received == 0 and stats.refused == 0 and local is not None:
            return (self.tr("Listening on port %1 as %2").replace("%1", str(local.port))
                    .replace("%2", local.ae_title))
        text = self.tr("Receiving: %n image(s)", "", stats.received)
        if stats.refused:
            text += " — " + self.tr("%n refused", "", stats.refused)
        return text
