"""Make docs/screenshots/pacs_query_fr.png and pacs_nodes_fr.png with the real window, in French.

Run on an X display, from the repository root::

    xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python \\
        docs/screenshots/make_pacs_screenshots.py

A real Orthanc (``tests/orthanc.py``) on loopback holds three studies of the test corpus; the
PACS is declared, searched from the PACS dock and one study retrieved by C-GET and opened.
Data lives in a temporary folder; nothing is written outside docs/screenshots.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent
CORPUS = REPO.parent / "shared" / "datasets" / "dicom"
sys.path[:0] = [str(REPO), str(REPO / "tests"), str(OUT)]

from event_loop import save_window, settle, wait_until  # noqa: E402

STUDIES = ("dcmqi/ct-3slice", "pydicom/dicomdirtests/77654033", "pydicom/dicomdirtests/98892001")


def main() -> int:
    work = Path(tempfile.mkdtemp(prefix="tandem-pacs-shots-"))
    os.environ["TANDEM_DATA_DIR"] = str(work / "data")
    os.environ["TANDEM_LANG"] = "fr"
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")

    from orthanc import free_port, running_orthanc
    from PySide6.QtCore import QSettings

    from app.gui import create_application
    from app.main_window import MainWindow
    from app.settings import Settings
    from imaging.db import StudyDatabase
    from pacs.nodes import LocalAE, NodeStore

    application = create_application([])
    port = free_port()
    with running_orthanc(work / "orthanc", "TANDEM", port) as orthanc:
        for folder in STUDIES:
            for path in sorted((CORPUS / folder).rglob("*")):
                if path.is_file():
                    orthanc.upload(path)
        store = NodeStore()
        store.set_local(LocalAE("TANDEM", port))
        store.add(orthanc.node)
        db = StudyDatabase(work / "studies.sqlite")
        settings = Settings(QSettings(str(work / "settings.ini"), QSettings.Format.IniFormat))
        window = MainWindow(db, settings)
        window.resize(1600, 1000)
        window.show()
        window.show_pacs_query()
        panel = window.pacs_panel
        panel.select_node(orthanc.node.name)
        panel.search()
        wait_until(lambda: panel.table.rowCount() > 0 and not panel.searching)
        ct3 = next(r for r in range(panel.table.rowCount())  # dcmqi's 3-slice chest CT
                   if getattr(panel.table.item(r, 6), "text", str)() == "3")
        panel.table.selectRow(ct3)
        retrieved: list[str] = []
        panel.study_retrieved.connect(retrieved.append)
        panel.retrieve_selected()
        wait_until(lambda: bool(retrieved) and not panel.retrieving, timeout=60)
        settle(0.5)
        row = window.browser.study_row(retrieved[0])
        assert row is not None and row.series, "the retrieved study is not in the browser"
        window.open_series(row.series[0].series_uid)
        wait_until(lambda: window.viewports.views[0].stack is not None, timeout=60)
        window.show_pacs_query()  # back to the PACS tab, as after a retrieve
        settle(1.5)
        save_window(window, OUT / "pacs_query_fr.png")
        dialog = window.show_pacs_nodes()
        settle(0.8)
        save_window(dialog, OUT / "pacs_nodes_fr.png")
        dialog.close()
        window.close()
        db.close()
    application.processEvents()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
