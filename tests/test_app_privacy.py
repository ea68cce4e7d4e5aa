"""File > Save a de-identified screenshot… and File > Export the study de-identified… on a real
window (Xvfb) with a real CT of the corpus whose header names the patient."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from conftest import DICOM_CORPUS
from PySide6.QtCore import QSettings
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QMessageBox
from test_app_gui import display, qapp  # noqa: F401  (the X display and Tandem's QApplication)

from imaging.db import StudyDatabase

pytestmark = pytest.mark.gui

CT3 = DICOM_CORPUS / "dcmqi" / "ct-3slice"


@pytest.fixture
def window(qapp: QApplication, qtbot, tmp_path: Path):  # noqa: F811
    from app.main_window import MainWindow
    from app.settings import Settings

    db = StudyDatabase(tmp_path / "studies.sqlite")
    settings = Settings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    win = MainWindow(db, settings)
    win.resize(1200, 800)
    win.show()
    qtbot.waitExposed(win)
    win.open_paths([CT3])
    qtbot.waitUntil(lambda: win.viewports.views[0].stack is not None
                    and win._current_task(0) is None, timeout=30000)
    yield win
    win.close()
    db.close()


def _pixels(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_Grayscale8)
    data = np.frombuffer(image.constBits(), np.uint8, image.sizeInBytes())
    return data.reshape(image.height(), image.bytesPerLine())[:, :image.width()].copy()


def test_screenshot_has_no_identity_in_its_corners(window, tmp_path: Path) -> None:
    view = window.viewports.views[0]
    name = str(pydicom.dcmread(next(p for p in CT3.iterdir() if p.is_file()),
                               stop_before_pixels=True).PatientID)
    assert name in view.corner_texts.upper_left  # the patient is on screen while reading
    with window.privacy.deidentified_views():
        corners = view.corner_texts
        assert name not in corners.upper_left and corners.upper_right  # modality, series stay
    assert name in view.corner_texts.upper_left  # and back after the shot

    normal = _pixels(window.viewports.grab_image())
    path = tmp_path / "shot.png"
    assert window.privacy.save_screenshot(path)
    shot = _pixels(QImage(str(path)))
    assert shot.shape == normal.shape
    corner = (slice(0, 60), slice(0, 200))  # where the identity corner text is drawn
    assert (shot[corner] > 128).sum() < (normal[corner] > 128).sum()
    centre = (slice(200, 400), slice(200, 400))
    assert np.abs(shot[centre].astype(int) - normal[centre]).mean() < 1  # same image


def test_study_copy_is_deidentified_with_a_summary(window, qtbot, tmp_path: Path) -> None:
    study = window._active_study_uid()
    assert study is not None
    out = tmp_path / "deid"
    task = window.privacy.export_study(study, out)
    with qtbot.waitSignal(task.signals.finished, timeout=30000):
        pass
    qtbot.waitUntil(lambda: window.privacy.last_summary is not None)
    summary = window.privacy.last_summary
    written = sorted(out.rglob("*.dcm"))
    assert len(summary.written) == len(written) == 3 and not summary.failed
    originals = [pydicom.dcmread(p) for p in sorted(p for p in CT3.iterdir() if p.is_file())]
    copies = [pydicom.dcmread(p) for p in written]
    assert {c.PatientIdentityRemoved for c in copies} == {"YES"}
    assert {str(c.PatientID) for c in copies}.isdisjoint({str(o.PatientID) for o in originals})
    assert len({c.StudyInstanceUID for c in copies}) == 1
    assert copies[0].StudyInstanceUID != originals[0].StudyInstanceUID
    assert sorted(c.PixelData for c in copies) == sorted(o.PixelData for o in originals)
    box = window.findChild(QMessageBox, "deidSummary")
    assert box is not None and "3 file(s) written" in box.text()
