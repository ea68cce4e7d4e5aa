"""File received DICOM datasets (C-STORE, WADO-RS) into storage and index them like an import.

The C-STORE handler (and :meth:`Receiver.file_bytes`) only writes: the dataset as encoded by the
peer (no re-encoding) goes to a temporary file in ``<storage>/.incoming``, is fsynced, checked by
the same header reader an import uses, then renamed to
``<storage>/<StudyUID>/<SeriesUID>/<SOPUID>.dcm``. Only then is success returned to the peer, so a
dataset the peer believes stored is on disk. A dataset cut short by an aborted association never
reaches the handler; one that fails the check is refused with a failure status and leaves no file.
One writer thread indexes the received files in batches with
:func:`imaging.importer.import_paths`, so the rows are exactly what an import of those files makes
and the handlers (one thread per association) never wait for the database.
"""

from __future__ import annotations

import itertools
import logging
import os
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset

from imaging.db import StudyDatabase
from imaging.errors import DicomFileError
from imaging.header import read_header
from imaging.importer import INCOMING_DIR, ImportIssue, import_paths, safe_file_name, storage_target

log = logging.getLogger(__name__)

# C-STORE statuses (PS3.4 B.2.3).
STATUS_SUCCESS = 0x0000
STATUS_OUT_OF_RESOURCES = 0xA700
STATUS_CANNOT_UNDERSTAND = 0xC000
_STOP = object()


@dataclass
class ReceiveStats:
    """What a receiver did since it started (read with :meth:`Receiver.stats`)."""

    received: int = 0  # datasets written to storage and acknowledged to the peer
    refused: int = 0  # datasets answered with a failure status (nothing kept)
    indexed: int = 0  # files filed in the database by the writer thread
    duplicates: int = 0
    issues: list[ImportIssue] = field(default_factory=list)  # refusals and index errors
    sop_instance_uids: set[str] = field(default_factory=set)
    # datasets acknowledged per Study Instance UID (what a retrieve through a shared server counts)
    received_by_study: dict[str, int] = field(default_factory=dict)


class Receiver:
    """Writes received datasets into ``db``'s storage and indexes them from one thread."""

    def __init__(self, db: StudyDatabase, *, batch_files: int = 200,
                 batch_seconds: float = 0.5) -> None:
        self.db = db
        self._incoming = db.storage_dir / INCOMING_DIR
        self._batch_files = batch_files
        self._batch_seconds = batch_seconds
        self._queue: queue.Queue[object] = queue.Queue()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending = 0  # files renamed into storage and not indexed yet
        self._stats = ReceiveStats()
        self._names = itertools.count()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._incoming.mkdir(parents=True, exist_ok=True)
        self._thread = threading.Thread(target=self._index_loop, name="tandem-scp-index",
                                        daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 60.0) -> None:
        """Index what was received, then end the writer thread."""
        if self._thread is None:
            return
        self._queue.put(_STOP)
        self._thread.join(timeout)
        self._thread = None

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Wait until every acknowledged dataset is indexed; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def stats(self) -> ReceiveStats:
        with self._lock:
            s = self._stats
            return ReceiveStats(s.received, s.refused, s.indexed, s.duplicates, list(s.issues),
                                set(s.sop_instance_uids), dict(s.received_by_study))

    # -- C-STORE handler (runs in the association's thread) ----------------------------------

    def handle_store(self, event: Any) -> int | Dataset:
        """pynetdicom ``EVT_C_STORE`` handler."""
        sop = str(event.request.AffectedSOPInstanceUID or "unknown")
        status, message = self.file_bytes(event.encoded_dataset(include_meta=True), sop)
        if status == STATUS_SUCCESS:
            return status
        response = Dataset()
        response.Status = status
        response.ErrorComment = message[:64]
        return response

    def file_bytes(self, data: bytes, name_hint: str) -> tuple[int, str]:
        """File one encoded DICOM file (File Meta included) as received; thread-safe.

        Returns ``(STATUS_SUCCESS, "")`` once the file is in storage and queued for indexing,
        else a C-STORE failure status and the reason (the dataset is counted as refused).
        ``name_hint`` (the SOP Instance UID announced by the peer) only names the temporary file.
        """
        name = f"{safe_file_name(name_hint)}.{os.getpid()}.{next(self._names)}.part"
        part = self._incoming / name
        try:
            try:
                with part.open("wb") as f:
                    f.write(data)
                    f.flush()
                    os.fsync(f.fileno())
            except OSError as exc:
                return self._refuse(part, STATUS_OUT_OF_RESOURCES,
                                    f"cannot write into Tandem's storage ({exc})")
            try:
                header = read_header(part)
            except DicomFileError as exc:
                return self._refuse(part, STATUS_CANNOT_UNDERSTAND, exc.message)
            uids = (header.study_instance_uid, header.series_instance_uid,
                    header.sop_instance_uid)
            if not all(uids):
                return self._refuse(part, STATUS_CANNOT_UNDERSTAND,
                                    "no Study, Series or SOP Instance UID")
            target = storage_target(self.db.storage_dir, uids[0], uids[1], uids[2])
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(part, target)
            except OSError as exc:
                return self._refuse(part, STATUS_OUT_OF_RESOURCES,
                                    f"cannot write into Tandem's storage ({exc})")
            with self._lock:
                self._stats.received += 1
                self._stats.sop_instance_uids.add(header.sop_instance_uid)
                by_study = self._stats.received_by_study
                by_study[uids[0]] = by_study.get(uids[0], 0) + 1
                self._pending += 1
            self._queue.put(target)
            return STATUS_SUCCESS, ""
        finally:
            part.unlink(missing_ok=True)

    def _refuse(self, part: Path, status: int, message: str) -> tuple[int, str]:
        part.unlink(missing_ok=True)
        log.warning("refused a received dataset: %s", message)
        with self._lock:
            self._stats.refused += 1
            self._stats.issues.append(ImportIssue(part, "refused", message))
        return status, message

    # -- writer thread -----------------------------------------------------------------------

    def _index_loop(self) -> None:
        stopping = False
        while not stopping:
            item = self._queue.get()
            if item is _STOP:
                break
            batch = [item]
            deadline = time.monotonic() + self._batch_seconds
            while len(batch) < self._batch_files:
                try:
                    item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if item is _STOP:
                    stopping = True
                    break
                batch.append(item)
            self._index(batch)

    def _index(self, files: list[object]) -> None:
        try:
            report = import_paths(self.db, [Path(str(f)) for f in files], copy=False)
            issues, indexed, duplicates = report.errors, report.new, report.duplicates
        except Exception as exc:  # the database is unusable: keep the files, say why
            log.exception("indexing received files failed")
            issues = [ImportIssue(Path(str(f)), "index_failed", repr(exc)) for f in files]
            indexed = duplicates = 0
        with self._idle:
            self._stats.indexed += indexed
            self._stats.duplicates += duplicates
            self._stats.issues.extend(issues)
            self._pending -= len(files)
            self._idle.notify_all()
