"""Make docs/screenshots/ai_heatmap.png and ai_boxes.png with the real window.

Run on an X display (Qt + VTK need one), from the repository root::

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/screenshots/make_ai_screenshots.py

Inputs are real radiographs from ../shared/datasets written as DX DICOM files, analysed
by Tandem's bundled models (onnx_models/): a Shenzhen chest radiograph with tuberculosis
from cxr_normality's validation split (CHNCXR_0327_1), and a FracAtlas hand radiograph
from fracture_boxes' test split (IMG0003374) — both chosen among cases the models get
right; the model cards show their failures. Data lives in a temporary folder; nothing is
written outside docs/screenshots.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent
sys.path[:0] = [str(REPO), str(REPO / "tests"), str(OUT)]

from event_loop import save_window, settle, wait_until  # noqa: E402


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="tandem-ai-shots-"))
    os.environ["TANDEM_DATA_DIR"] = str(work / "data")
    os.environ["TANDEM_LANG"] = "en"
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")

    import pydicom
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication
    from test_app_ai import SHARED, fracture_label, write_radiograph

    from app.gui import create_application
    from app.main_window import MainWindow
    from app.settings import Settings
    from imaging.db import StudyDatabase

    chest_jpeg = SHARED / "cxr" / "tb_normal" / "images" / "CHNCXR_0327_1.jpg"
    hand_jpeg, _ = fracture_label("IMG0003374")
    chest = write_radiograph(work / "chest.dcm", chest_jpeg, body_part="CHEST", view="PA",
                             patient="CHEST^PA")
    hand = write_radiograph(work / "hand.dcm", hand_jpeg, body_part="HAND", view="PA",
                            spacing_mm=0.2, patient="HAND^PA")

    _application = create_application([])  # kept alive for the whole run
    db = StudyDatabase(work / "studies.sqlite")
    settings = Settings(QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat))
    settings.blinded_first_read = False  # these pictures show the AI, not the blinded read
    window = MainWindow(db, settings)
    window.resize(1600, 1000)
    window.show()
    wait_until(lambda: window.ai_runner.loaded)
    for dicom, name, threshold in ((chest, "ai_heatmap.png", 40), (hand, "ai_boxes.png", 20)):
        window.ai_panel.threshold_slider.setValue(threshold)
        count = len(window._ai_results)
        window.open_paths([dicom], open_first=False)
        wait_until(lambda: not window.import_running)
        series_uid = str(pydicom.dcmread(dicom, stop_before_pixels=True).SeriesInstanceUID)
        window.browser.select_series(series_uid)  # what a double-click in the browser does
        window.open_series(series_uid)
        wait_until(lambda c=count: len(window._ai_results) > c and not window.ai_runner.busy)
        settle(0.8)
        save_window(window, OUT / name)
    window.close()
    db.close()
    QApplication.processEvents()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
