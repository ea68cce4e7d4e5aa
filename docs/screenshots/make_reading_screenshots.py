"""Make docs/screenshots/concordance_cxr.png and concordance_mammo.png with the real window.

Run on an X display (Qt + VTK need one), from the repository root::

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python \\
        docs/screenshots/make_reading_screenshots.py

A blinded double read, as a radiologist does it, with Tandem's bundled models: a JSRT
chest radiograph with a nodule (JPCLN028, written as DX) and a mini-MIAS mammogram with
a circumscribed mass (mdb069, written as MG MLO). The reader's mark is put on the data
set's ground-truth location, the case assessed and the first read signed; the shot is
the revealed AI with the concordance panel. Data lives in a temporary folder; nothing is
written outside docs/screenshots.
"""

from __future__ import annotations

import csv
import os
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent
SHARED = REPO.parent / "shared" / "datasets"
sys.path[:0] = [str(REPO), str(REPO / "tests"), str(OUT)]

from event_loop import save_window, settle, wait_until  # noqa: E402


def _row(labels: Path, key: str, value: str) -> dict[str, str]:
    with labels.open(newline="", encoding="utf-8") as f:
        return next(r for r in csv.DictReader(f) if r[key] == value)


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="tandem-reading-shots-"))
    os.environ["TANDEM_DATA_DIR"] = str(work / "data")
    os.environ["TANDEM_LANG"] = "en"
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")

    import pydicom
    from PySide6.QtCore import QSettings
    from radiographs import dicom_from_picture

    from app.gui import create_application
    from app.main_window import MainWindow
    from app.settings import Settings
    from imaging.db import StudyDatabase
    from reading.model import BreastAssessment

    jsrt = _row(SHARED / "cxr" / "jsrt" / "labels.csv", "patient_id", "JPCLN028")
    mias = _row(SHARED / "mammo" / "mini_mias" / "labels.csv", "ref", "mdb069")
    x, y = float(jsrt["nodule_x_px"]), float(jsrt["nodule_y_px"])
    half = float(jsrt["nodule_diameter_px"]) / 2
    chest = dicom_from_picture(SHARED / "cxr" / "jsrt" / jsrt["file"], work / "chest.dcm",
                               body_part="CHEST", view="PA", twelve_bit=True, spacing_mm=1.6,
                               orientation=("L", "F"), patient="JSRT^NODULE")
    side = mias["side"]
    mammo = dicom_from_picture(SHARED / "mammo" / "mini_mias" / mias["file"],
                               work / "mammo.dcm", body_part="BREAST", modality="MG",
                               view="MLO", laterality=side, spacing_mm=0.4,
                               orientation=("P", "FR") if side == "R" else ("A", "FL"),
                               patient="MIAS^MASS")
    cases = (
        (chest, "concordance_cxr.png", "box", ((x - half, y - half), (x + half, y + half)),
         "nodule_mass", lambda a: replace(a, cxr="abnormal")),
        (mammo, "concordance_mammo.png", "ellipse",
         ((float(mias["x_min"]), float(mias["y_min"])),
          (float(mias["x_max"]), float(mias["y_max"]))), "mass",
         lambda a: replace(a, breasts={side: BreastAssessment(4, "b")})),
    )

    application = create_application([])
    db = StudyDatabase(work / "studies.sqlite")
    settings = Settings(QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat))
    settings.blinded_first_read = True
    window = MainWindow(db, settings)
    window.resize(1600, 1000)
    window.show()
    wait_until(lambda: window.ai_runner.loaded)
    window.ai_panel.threshold_slider.setValue(40)  # the heatmap's hottest part, not a veil
    for dicom, name, shape, points, label, assess in cases:
        count = len(window._ai_results)
        window.open_paths([dicom], open_first=False)
        wait_until(lambda: not window.import_running)
        series_uid = str(pydicom.dcmread(dicom, stop_before_pixels=True).SeriesInstanceUID)
        window.browser.select_series(series_uid)  # what a double-click in the browser does
        window.open_series(series_uid)
        wait_until(lambda c=count: len(window._ai_results) > c and not window.ai_runner.busy
              and window.reading.reading is not None)
        view = window.viewports.views[0]
        sop = view.stack.slices[0].sop_instance_uid
        controller = window.reading
        controller.add_mark(sop, 0, shape, points, label, "probable")
        controller.set_assessment(assess(controller.reading.assessment))
        controller.sign()
        window.concordance_dock.raise_()
        settle(1.0)
        save_window(window, OUT / name)
        counts = controller.concordance.counts() if controller.concordance else None
        print(f"  concordance {counts}")
    window.close()
    db.close()
    application.processEvents()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
