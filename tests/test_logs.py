"""The log file (rotation, format, level) and crash reports (Python, threads, segfaults)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from app import logs

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _undo_logging() -> Iterator[None]:
    yield
    logs.teardown_logging()


def _flush() -> None:
    for handler in logging.getLogger().handlers:
        handler.flush()


def test_log_file_has_time_thread_and_logger(tmp_path: Path) -> None:
    path = logs.setup_logging(tmp_path, logging.DEBUG)
    assert path == tmp_path / "logs" / "tandem.log"
    worker = threading.Thread(target=lambda: logging.getLogger("imaging.test").debug(
        "indexed %d files", 3), name="import-worker")
    worker.start()
    worker.join()
    _flush()
    lines = path.read_text(encoding="utf-8").splitlines()
    assert any("Tandem" in line and "log level DEBUG" in line for line in lines)
    (line,) = [x for x in lines if "indexed 3 files" in x]
    assert "[import-worker] imaging.test:" in line and "DEBUG" in line
    assert line[:4].isdigit()  # starts with the date


def test_setup_twice_keeps_one_handler_and_level_follows(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    root = logging.getLogger()
    before = len(root.handlers)
    logs.setup_logging(tmp_path, logging.DEBUG)
    monkeypatch.setenv(logs.LOG_LEVEL_ENV, "warning")
    path = logs.setup_logging(tmp_path)  # level from the environment
    assert len(root.handlers) == before + 2  # the file and the console (warnings)
    logging.getLogger("x").info("quiet info line")
    logging.getLogger("x").warning("loud warning line")
    _flush()
    assert path is not None
    text = path.read_text(encoding="utf-8")
    assert "loud warning line" in text and "quiet info line" not in text


def test_log_rotates_and_keeps_a_few_backups(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logs, "MAX_LOG_BYTES", 4000)
    logs.setup_logging(tmp_path, logging.INFO)
    for i in range(2000):
        logging.getLogger("rot").info("line %05d of the rotation test", i)
    _flush()
    files = sorted(p.name for p in (tmp_path / "logs").iterdir())
    assert files == ["tandem.log"] + [f"tandem.log.{n}" for n in range(1, logs.LOG_BACKUPS + 1)]
    assert all((tmp_path / "logs" / f).stat().st_size <= 4200 for f in files)
    assert "line 01999" in (tmp_path / "logs" / "tandem.log").read_text(encoding="utf-8")


def test_unwritable_data_folder_does_not_stop_tandem(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert logs.setup_logging(blocker, logging.INFO) is None
    logging.getLogger("x").info("still fine")


def test_uncaught_exception_writes_a_report_and_notifies(tmp_path: Path) -> None:
    seen: list[Path] = []
    logs.setup_logging(tmp_path, logging.INFO, on_crash=seen.append)
    try:
        raise ValueError("decoder exploded")
    except ValueError:
        sys.excepthook(*sys.exc_info())  # what Python (or PySide6, for a slot) calls
    (report,) = seen
    assert report.parent == tmp_path / "crash" and report.name.startswith("crash-")
    text = report.read_text(encoding="utf-8")
    assert "tandem: " in text and "platform: " in text and "python: " in text
    assert "ValueError: decoder exploded" in text and "test_logs.py" in text
    _flush()
    log_text = (tmp_path / "logs" / "tandem.log").read_text(encoding="utf-8")
    assert "CRITICAL" in log_text and str(report) in log_text


def test_exception_in_a_thread_writes_a_report_naming_it(tmp_path: Path) -> None:
    seen: list[Path] = []
    logs.setup_logging(tmp_path, logging.INFO, on_crash=seen.append)

    def boom() -> None:
        raise RuntimeError("worker failed")

    worker = threading.Thread(target=boom, name="ai-worker")
    worker.start()
    worker.join()
    (report,) = seen
    text = report.read_text(encoding="utf-8")
    assert "thread: ai-worker" in text and "RuntimeError: worker failed" in text


def test_teardown_restores_the_hooks(tmp_path: Path) -> None:
    before = (sys.excepthook, threading.excepthook)
    logs.setup_logging(tmp_path)
    assert sys.excepthook is not before[0]
    logs.teardown_logging()
    assert (sys.excepthook, threading.excepthook) == before
    assert list((tmp_path / "crash").iterdir()) == []  # the unused native file is gone


def _child(tmp_path: Path, code: str) -> subprocess.CompletedProcess[str]:
    script = ("import sys; from pathlib import Path; from app.logs import setup_logging\n"
              f"setup_logging(Path({str(tmp_path)!r}))\n{code}\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-c", script], cwd=REPO, env=env, timeout=60,
                          capture_output=True, text=True, check=False)


def test_segfault_leaves_a_native_crash_report(tmp_path: Path) -> None:
    done = _child(tmp_path, "import ctypes; ctypes.string_at(0)")
    assert done.returncode != 0
    (report,) = (tmp_path / "crash").glob("crash-*-native.txt")
    text = report.read_text(encoding="utf-8")
    assert "native crash" in text and "tandem: " in text
    assert "Fatal Python error: Segmentation fault" in text and "string_at" in text


def test_clean_exit_leaves_no_crash_file(tmp_path: Path) -> None:
    done = _child(tmp_path, "print('ok')")
    assert done.returncode == 0 and done.stdout.strip() == "ok"
    assert list((tmp_path / "crash").iterdir()) == []
    assert (tmp_path / "logs" / "tandem.log").stat().st_size > 0


def test_non_conformant_patient_values_are_not_quoted_in_the_log(tmp_path: Path) -> None:
    """pydicom quotes a bad value ("Invalid value for VR DA: '1958-02-14'") on its logger and
    imaging.header re-logs it at DEBUG: neither reaches the file."""
    from pydicom import Dataset, config
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import UID, ExplicitVRLittleEndian, generate_uid

    from imaging.header import read_header

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    sr = UID("1.2.840.10008.5.1.4.1.1.88.11")  # Basic Text SR: no pixels needed
    ds.file_meta.MediaStorageSOPClassUID = sr
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID = generate_uid()
    ds.SOPClassUID, ds.Modality = sr, "SR"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.PatientName, ds.PatientID = "Dupont^Jean", "FR-771-22"
    mode, config.settings.writing_validation_mode = config.settings.writing_validation_mode, 0
    try:
        ds.PatientBirthDate = "1958-02-14"  # not DA: many old archives hold such values
        ds.save_as(tmp_path / "bad_date.dcm", enforce_file_format=True)
    finally:
        config.settings.writing_validation_mode = mode
    path = logs.setup_logging(tmp_path / "data", logging.DEBUG)
    read_header(tmp_path / "bad_date.dcm")
    from pydicom import dcmread
    assert str(dcmread(tmp_path / "bad_date.dcm").PatientBirthDate) == "1958-02-14"
    logging.getLogger("pydicom").warning("Invalid value for VR DA: '1958-02-14'.")
    _flush()
    assert path is not None
    assert "1958-02-14" not in path.read_text(encoding="utf-8")
