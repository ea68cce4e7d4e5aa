"""Storage-SCP soak: 2,000 instances pushed by two DCMTK ``storescu`` at once to the GUI's listener.

The listener service runs inside Tandem's QApplication with a study browser refreshed as studies
arrive (its own throttle), while a 10 ms QTimer measures how long the UI thread is ever kept from
its event loop. None may be lost: every SOP Instance UID acknowledged, filed and indexed once.
The instances are one small real CT (pydicom's CT_small, 128x128) with new UIDs, spread over
2 studies x 5 series x 200 images, each storescu sending every other file of all of them.
"""

from __future__ import annotations

import gc
import io
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pydicom
import pytest
from conftest import DICOM_CORPUS
from orthanc import free_port
from pydicom.uid import UID
from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication
from test_app_gui import display, qapp  # noqa: F401  (the X display and Tandem's QApplication)

from app.browser import StudyBrowser
from app.catalog import read_catalog
from app.listener_service import ListenerService
from imaging.db import StudyDatabase
from pacs.nodes import LocalAE

pytestmark = pytest.mark.gui

SOURCE = DICOM_CORPUS / "pydicom" / "CT_small.dcm"
SCP_AE = "TANDEMSOAK"
STUDIES, SERIES, IMAGES = 2, 5, 200
TOTAL = STUDIES * SERIES * IMAGES
MAX_GAP_MS = 250.0  # the UI thread never stalls longer than this
PUSH_TIMEOUT_S = 90


def _uid() -> str:
    """A fresh UID of fixed length (44): 2.25. and 39 digits without a leading zero."""
    return f"2.25.{10**38 + uuid.uuid4().int % 10**38}"


def _make_instances(folder: Path) -> dict[str, Path]:
    """TOTAL valid CT files with new Study/Series/SOP UIDs; returns {SOP UID: path}.

    pydicom writes one template with fixed-width placeholders (UIDs, instance number, slice
    position); each file is that template with the placeholders replaced in its header bytes,
    so 2,000 files take a second or two instead of ~20 s of ``save_as``.
    """
    ds = pydicom.dcmread(SOURCE)
    study_ph, series_ph, sop_ph = _uid(), _uid(), _uid()
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study_ph, series_ph
    ds.SOPInstanceUID = sop_ph
    ds.file_meta.MediaStorageSOPInstanceUID = UID(sop_ph)
    ds.InstanceNumber = "9999"
    ds.ImagePositionPatient = ["-158.1", "-179.0", "-0000.0"]
    ds.SliceLocation = "-0000.0"
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    template = buffer.getvalue()
    split = template.index(b"\xe0\x7f\x10\x00")  # Pixel Data: placeholders only before it
    header, pixels = template[:split], template[split:]
    number_ph = b"\x20\x00\x13\x00IS\x04\x009999"  # Instance Number, explicit VR LE
    assert header.count(number_ph) == 1
    made: dict[str, Path] = {}
    for study in range(STUDIES):
        study_uid = _uid()
        for series in range(SERIES):
            series_uid = _uid()
            for image in range(IMAGES):
                sop = _uid()
                data = (header.replace(study_ph.encode(), study_uid.encode())
                        .replace(series_ph.encode(), series_uid.encode())
                        .replace(sop_ph.encode(), sop.encode())
                        .replace(number_ph, number_ph[:-4] + f"{image + 1:04d}".encode())
                        .replace(b"-0000.0", f"{-5.0 * image:07.1f}".encode()))
                path = folder / f"{study}_{series}_{image:03d}.dcm"
                path.write_bytes(data + pixels)
                made[sop] = path
    return made


@pytest.fixture
def db(tmp_path: Path) -> Iterator[StudyDatabase]:
    with StudyDatabase(tmp_path / "data" / "studies.sqlite") as database:
        yield database


class TickMonitor:
    """Measures the UI thread's responsiveness: the gaps between a 10 ms timer's ticks."""

    def __init__(self, parent: QObject) -> None:
        self.timer = QTimer(parent)
        self.timer.setInterval(10)
        self.timer.timeout.connect(self._tick)
        self.ticks: list[float] = []

    def _tick(self) -> None:
        self.ticks.append(time.perf_counter())

    def start(self) -> None:
        self.ticks = [time.perf_counter()]
        self.timer.start()

    def stop(self) -> np.ndarray:
        self.timer.stop()
        return np.diff(np.asarray(self.ticks)) * 1000.0


def test_two_storescu_push_2000_instances_none_lost_ui_responsive(
        qapp: QApplication, qtbot, tmp_path: Path, db: StudyDatabase) -> None:  # noqa: F811
    storescu = shutil.which("storescu")
    if storescu is None:
        pytest.fail("DCMTK's storescu is missing: apt-get install dcmtk")
    source = tmp_path / "push"
    source.mkdir()
    made = _make_instances(source)
    files = sorted(made.values())
    assert len(files) == TOTAL

    port = free_port()
    browser = StudyBrowser()
    qtbot.addWidget(browser)
    service = ListenerService(db, host="127.0.0.1", parent=browser)
    browser.show()
    refreshes: list[float] = []

    def refresh() -> None:  # what the main window does on each studies_arrived
        started = time.perf_counter()
        browser.set_catalog(read_catalog(db))
        refreshes.append((time.perf_counter() - started) * 1000)

    service.studies_arrived.connect(refresh)
    statuses: list[str] = []
    service.status_changed.connect(statuses.append)
    assert service.start(LocalAE(SCP_AE, port))
    monitor = TickMonitor(browser)
    # The test process holds every object of the suite run before it; a full cyclic-GC pass
    # over that heap pauses the UI thread for 100+ ms, which a workstation's smaller heap does
    # not do. Freeze what exists before the soak so that only the soak's own garbage counts.
    gc.collect()
    gc.freeze()
    try:
        monitor.start()
        started = time.monotonic()
        # Modalities disable Nagle's algorithm; DCMTK only when asked. With it, each C-STORE
        # waits out the receiver's 40 ms delayed ACK (the soak would measure TCP, not Tandem).
        env = dict(os.environ, TCP_NODELAY="1")
        pushers = [subprocess.Popen(
            [storescu, "-aet", f"PUSHER{n}", "-aec", SCP_AE, "127.0.0.1", str(port),
             *map(str, files[n::2])], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, env=env) for n in (0, 1)]
        try:
            qtbot.waitUntil(lambda: all(p.poll() is not None for p in pushers),
                            timeout=PUSH_TIMEOUT_S * 1000)
        finally:
            for p in pushers:
                if p.poll() is None:
                    p.kill()
        pushed_s = time.monotonic() - started
        outputs = [p.communicate(timeout=10)[0] for p in pushers]
        qtbot.waitUntil(lambda: (s := service.stats()) is not None and s.indexed >= TOTAL,
                        timeout=30000)
        indexed_s = time.monotonic() - started
        stats = service.stats()
        assert stats is not None
        qtbot.wait(1100)  # one more listener period: the browser catches up
        gaps = monitor.stop()
    finally:
        monitor.timer.stop()
        service.stop()
        gc.unfreeze()

    max_gap, p99 = float(gaps.max()), float(np.percentile(gaps, 99))
    print(f"\nsoak: {TOTAL} instances, 2 associations: acknowledged in {pushed_s:.1f} s "
          f"({TOTAL / pushed_s:.0f}/s), indexed in {indexed_s:.1f} s "
          f"({TOTAL / indexed_s:.0f}/s); UI tick gaps: max {max_gap:.1f} ms, "
          f"p99 {p99:.1f} ms, median {float(np.median(gaps)):.1f} ms over {gaps.size} ticks; "
          f"{len(refreshes)} browser refreshes, slowest {max(refreshes):.1f} ms")
    for p, output in zip(pushers, outputs, strict=True):
        assert p.returncode == 0, output[-2000:]
    assert not service.running
    assert not list((db.storage_dir / ".incoming").glob("*.part"))
    # Nothing lost, nothing refused, nothing twice.
    assert (stats.refused, stats.issues) == (0, [])
    assert stats.received == TOTAL and stats.sop_instance_uids == set(made)
    stored = [p for p in db.storage_dir.rglob("*") if p.is_file()
              and ".incoming" not in p.parts]
    assert len(stored) == TOTAL
    assert db.counts()["instances"] == TOTAL
    in_db = {h.sop_instance_uid for st in db.studies()
             for se in db.series(st.study_instance_uid)
             for h in db.series_headers(se.series_instance_uid)}
    assert in_db == set(made)
    assert db.integrity_check() == "ok"
    rows = [browser.study_row(uid) for uid in browser.study_uids()]
    assert sorted(r.image_count for r in rows if r is not None) == [TOTAL // 2, TOTAL // 2]
    assert any(s.startswith("Receiving: ") for s in statuses)
    # The UI thread stayed responsive throughout.
    assert max_gap < MAX_GAP_MS, f"UI thread stalled {max_gap:.0f} ms (p99 {p99:.0f} ms)"
