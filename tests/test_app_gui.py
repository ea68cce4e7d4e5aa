"""The main window on a real X display (Xvfb): import, browse, open, read, translate.

VTK's Qt widget renders nothing under ``QT_QPA_PLATFORM=offscreen``, so these tests
need an X server: pytest-xvfb provides one; without it an Xvfb is started here.
Screen pixels are grabbed with ``QScreen.grabWindow`` (``QWidget.grab()`` is black
for OpenGL).
"""

from __future__ import annotations

import atexit
import gc
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QLocale, QPointF, QSettings, Qt, QTimer
from PySide6.QtGui import QDropEvent, QImage
from PySide6.QtWidgets import QApplication

pytestmark = pytest.mark.gui

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "dicom"
CT3 = CORPUS / "dcmqi" / "ct-3slice"


@pytest.fixture(scope="module")
def display() -> Iterator[None]:
    """An X display for the module: the existing one, else a private Xvfb."""
    if os.environ.get("DISPLAY"):
        yield
        return
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        pytest.fail("no X display and no Xvfb: the VTK view needs an X server (install xvfb)")
    number = next(n for n in range(90, 200) if not Path(f"/tmp/.X{n}-lock").exists())
    proc = subprocess.Popen([xvfb, f":{number}", "-screen", "0", "1600x1000x24",
                             "-nolisten", "tcp"], stderr=subprocess.DEVNULL)
    socket = Path(f"/tmp/.X11-unix/X{number}")
    deadline = time.monotonic() + 10
    while not socket.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    if not socket.exists():
        proc.kill()
        pytest.fail(f"Xvfb :{number} did not start")
    os.environ["DISPLAY"] = f":{number}"
    yield
    # Stopped when the interpreter exits: Qt's X connection outlives the QApplication
    # object, and Xlib ends the process with status 1 if its server dies first.
    atexit.register(_stop, proc)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    proc.wait(10)


@pytest.fixture(scope="module")
def qapp(display: None) -> Iterator[QApplication]:
    """Overrides pytest-qt's: Tandem's application set-up, in English.

    The application is shut down after the module, before the X server goes away:
    Qt aborts the process (exit status 1) when its X connection breaks.
    """
    from app.gui import create_application

    if QApplication.instance() is None:
        os.environ["QT_QPA_PLATFORM"] = "xcb"
    previous = os.environ.get("TANDEM_LANG")
    os.environ["TANDEM_LANG"] = "en"
    try:
        app = create_application([])
    finally:
        if previous is None:
            os.environ.pop("TANDEM_LANG", None)
        else:
            os.environ["TANDEM_LANG"] = previous
    if app.platformName() != "xcb":
        pytest.fail(f"Qt platform {app.platformName()!r}: the VTK view needs xcb")
    yield app
    app.closeAllWindows()
    app.processEvents()
    app.shutdown()
    gc.collect()  # VTK render windows hold their own X connection until collected


@pytest.fixture
def window(qapp: QApplication, qtbot, tmp_path: Path):
    from app.main_window import MainWindow
    from app.settings import Settings
    from imaging.db import StudyDatabase

    db = StudyDatabase(tmp_path / "studies.sqlite")
    win = MainWindow(db, Settings(QSettings(str(tmp_path / "settings.ini"),
                                            QSettings.Format.IniFormat)))
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()
    db.close()


def _bright_fraction(image: QImage) -> float:
    """Share of pixels brighter than dark grey (ignores the thin text annotations)."""
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    data = np.frombuffer(image.constBits(), np.uint8)
    rows = data.reshape(image.height(), image.bytesPerLine())[:, : image.width() * 3]
    grey = rows.reshape(image.height(), image.width(), 3).mean(axis=2)
    return float((grey > 40).mean())


def _wait_import(qtbot, win) -> None:
    qtbot.waitUntil(lambda: not win.import_running, timeout=60000)


def _wait_loaded(qtbot, win, index: int, count: int) -> None:
    def loaded() -> bool:
        view = win.viewports.views[index]
        return view.stack is not None and view.stack.count == count \
            and win._current_task(index) is None
    qtbot.waitUntil(loaded, timeout=30000)


def test_main_window_has_reading_screen(window) -> None:
    titles = [a.text() for a in window.menuBar().actions()]
    assert titles == ["&File", "&View", "&Tools", "&Reading", "&AI", "&PACS", "&Help"]
    assert window.browser_dock.isVisible()
    assert window.reading_panel.windowTitle() == "My reading"
    assert "research use only" in window.ai_panel.notice
    assert set(window.layout_actions) == {"1x1", "1x2", "2x2", "mammo4"}


def test_path_import_fills_browser_and_shows_first_series(window, qtbot) -> None:
    window.open_paths([CT3])  # what `tandem PATH` does
    _wait_import(qtbot, window)
    (study_uid,) = window.browser.study_uids()
    assert window.browser.study_row(study_uid).image_count == 3
    tree = window.browser.tree
    assert tree.topLevelItemCount() == 1
    _wait_loaded(qtbot, window, 0, 3)
    qtbot.wait(200)
    assert _bright_fraction(window.viewports.grab_image()) > 0.15
    corners = window.viewports.views[0].corner_texts
    assert "Im 1/3" in corners.lower_left and "W 400 L 40" in corners.lower_right


def test_double_click_opens_series_and_keys_act(window, qtbot) -> None:
    window.open_paths([CT3], open_first=False)
    _wait_import(qtbot, window)
    qtbot.wait(100)
    assert window.viewports.views[0].stack is None
    assert _bright_fraction(window.viewports.grab_image()) < 0.02  # black before opening
    tree = window.browser.tree
    series_item = tree.topLevelItem(0).child(0).child(0)
    tree.scrollToItem(series_item)
    rect = tree.visualItemRect(series_item)
    # A real double-click starts with a press: item views ignore a lone double-click event.
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    _wait_loaded(qtbot, window, 0, 3)
    qtbot.wait(200)
    assert _bright_fraction(window.viewports.grab_image()) > 0.15

    view = window.viewports.views[0]
    window.activateWindow()  # Xvfb has no window manager to do it
    qtbot.waitUntil(window.isActiveWindow)
    window.viewports.vtk_widget.setFocus()
    qtbot.waitUntil(window.viewports.vtk_widget.hasFocus)
    qtbot.keyClick(window.viewports.vtk_widget, Qt.Key.Key_Down)
    assert view.index == 1
    qtbot.keyClick(window.viewports.vtk_widget, Qt.Key.Key_End)
    assert view.index == 2
    qtbot.keyClick(window.viewports.vtk_widget, Qt.Key.Key_1)  # CT preset 1: lung
    assert (view.window.center, view.window.width) == (-600.0, 1500.0)
    qtbot.keyClick(window.viewports.vtk_widget, Qt.Key.Key_I)
    assert view.inverted
    qtbot.keyClick(window.viewports.vtk_widget, Qt.Key.Key_R)
    assert not view.inverted and view.window.center == 40.0


def test_series_dropped_on_a_viewport_opens_there(window, qtbot) -> None:
    from app.browser import series_mime

    window.open_paths([CT3], open_first=False)
    _wait_import(qtbot, window)
    window.set_layout("1x2")
    uid = window.browser.first_series_uid()
    widget = window.viewports.vtk_widget
    mime = series_mime(uid)  # the event does not own it: keep it alive
    drop = QDropEvent(QPointF(widget.width() * 0.75, widget.height() / 2),
                      Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    # Qt only routes a Drop event during a real drag session: call the handler directly.
    widget.dropEvent(drop)
    assert drop.isAccepted()
    _wait_loaded(qtbot, window, 1, 3)
    assert window.viewports.views[0].stack is None


def test_mpr_shows_three_reformats(window, qtbot) -> None:
    window.open_paths([CT3])
    _wait_import(qtbot, window)
    _wait_loaded(qtbot, window, 0, 3)
    assert window.viewports.views[0].apply_preset(1)  # read at lung window before the MPR
    window.show_mpr()
    qtbot.waitUntil(lambda: window.viewports.views[-1].stack is not None
                    if len(window.viewports.views) == 4 else False, timeout=20000)
    coronal, sagittal = window.viewports.views[1], window.viewports.views[2]
    assert coronal.stack is not None and sagittal.stack is not None
    assert (coronal.edge_labels.top, coronal.edge_labels.left) == ("H", "R")
    assert (sagittal.edge_labels.top, sagittal.edge_labels.left) == ("H", "A")
    assert window.viewports.views[0].stack.count == 3  # the acquisition stays in view 0
    # The reformats open in the window the acquisition was read with, and stay with it.
    views = window.viewports.views
    assert [(v.window.center, v.window.width) for v in views] == [(-600.0, 1500.0)] * 4
    window.viewports.set_active(2)
    window.viewports.apply_preset(1)  # mediastinum (key 2), from the sagittal
    assert [(v.window.center, v.window.width) for v in views] == [(40.0, 400.0)] * 4
    link = window.viewports.link
    assert link is not None and link.views == views
    window.set_layout("1x1")
    assert window.viewports.link is None


def test_dicom_overlays_shown_and_toggled_with_o(window, qtbot) -> None:
    window.open_paths([CORPUS / "pydicom" / "examples_overlay.dcm"])
    _wait_import(qtbot, window)
    _wait_loaded(qtbot, window, 0, 1)
    view, action = window.viewports.views[0], window.viewer_actions["dicom_overlays"]
    assert view.has_dicom_overlays and view.dicom_overlays_visible and action.isChecked()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    window.viewports.vtk_widget.setFocus()
    qtbot.waitUntil(window.viewports.vtk_widget.hasFocus)
    qtbot.keyClick(window.viewports.vtk_widget, Qt.Key.Key_O)
    assert not view.dicom_overlays_visible and not action.isChecked()
    action.trigger()  # the View menu entry
    assert view.dicom_overlays_visible and action.isChecked()


def test_corpus_import_keeps_ui_responsive_and_lists_bad_files(window, qtbot) -> None:
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start()
    window.open_paths([CORPUS])
    _wait_import(qtbot, window)
    _wait_loaded(qtbot, window, 0, window.viewports.views[0].count or -1) \
        if window.viewports.views[0].stack is not None else None
    qtbot.wait(300)
    timer.stop()
    gaps = np.diff(ticks)
    print(f"event loop: {len(ticks)} ticks, max gap {gaps.max() * 1000:.0f} ms")
    assert len(ticks) > 50
    assert gaps.max() < 0.25, f"event loop blocked for {gaps.max() * 1000:.0f} ms"
    assert window.errors_panel.isVisible()
    problems = {Path(p.path).name: p.kind for p in window.errors_panel.problems}
    assert problems.get("zero_bytes.dcm") == "empty_file"
    assert problems.get("not_dicom_text.dcm") == "not_dicom"
    assert window.errors_panel.table.rowCount() == len(window.errors_panel.problems)
    assert len(window.browser.study_uids()) > 5
    # Series-level problems are flagged in the browser once grouping has run.
    browser = window.browser
    series = [s.series_uid for u in browser.study_uids() for s in browser.study_row(u).series]
    qtbot.waitUntil(lambda: any(browser.series_warnings(uid) for uid in series), timeout=20000)
    flagged = [kind for uid in series for kind in browser.series_warnings(uid)]
    assert any("tilt" in message.lower() for message in flagged), flagged


def test_french_translation_and_dates(window, qapp: QApplication, qtbot) -> None:
    from app.ai_reasons import reason_text
    from app.browser import format_dicom_date
    from app.i18n import install_translators
    from app.main_window import MainWindow
    from inference.reasons import Reason

    translators = install_translators(qapp, "fr")
    try:
        assert translators, "tandem_fr.qm did not load"
        french = MainWindow(window.db, window.settings)
        titles = [a.text() for a in french.menuBar().actions()]
        assert titles == ["&Fichier", "&Affichage", "&Outils", "&Lecture", "&IA", "&PACS", "Ai&de"]
        assert french.viewer_actions["dicom_overlays"].text() == "Incrustations DICOM"
        assert "usage recherche" in french.ai_panel.notice
        assert format_dicom_date("20030417") == "17/04/2003"
        assert reason_text(Reason("modality", "CT", "CR, DX")) == (
            "modalité CT ; ce modèle est prévu pour CR, DX")
        assert reason_text(Reason("age_below", "8", "15")) == (
            "patient de 8 ans ; ce modèle est prévu à partir de 15 ans")
        french.close()
    finally:
        for translator in translators:
            qapp.removeTranslator(translator)
        QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedStates))
