"""The PACS screens against a real Orthanc on loopback, on a real X display (Xvfb).

Nodes dialog: a node typed in the form is saved by NodeStore, invalid fields are named, and
"Test connection" answers OK from Orthanc and "connection refused" from a closed port. Query
panel: the study uploaded to Orthanc is found with the filters a radiologist types, retrieved by
C-GET and by C-MOVE (own listener, and the window's running listener) into the database, and the
main window's study browser shows it and opens it; Cancel stops a retrieve with the database
consistent. Send: exported files go to the node with per-file failures listed.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pydicom
import pytest
from conftest import DICOM_CORPUS
from orthanc import Orthanc, dicom_files, free_port, module_orthanc, study_uid
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QTableWidgetItem
from test_app_gui import display, qapp  # noqa: F401  (the X display and Tandem's QApplication)

from app.browser import format_dicom_date
from app.pacs_nodes_dialog import NodesDialog, send_files_to_node
from app.pacs_query_panel import PacsQueryPanel
from imaging.db import StudyDatabase
from pacs.nodes import LocalAE, NodeStore, PacsNode

pytestmark = pytest.mark.gui

TANDEM_AE = "TANDEMGUI"
CT_STUDY = DICOM_CORPUS / "dcmqi" / "ct-3slice"  # patient 99000, 3 CT slices
PATIENT_2 = DICOM_CORPUS / "pydicom" / "dicomdirtests" / "77654033"  # CR study + CT study
WAIT_MS = 30000


orthanc = module_orthanc(TANDEM_AE, dicom_files(CT_STUDY) + dicom_files(PATIENT_2))


@pytest.fixture
def store(tmp_path: Path, orthanc: Orthanc, tandem_port: int) -> NodeStore:
    nodes = NodeStore(tmp_path / "pacs_nodes.json")
    nodes.set_local(LocalAE(TANDEM_AE, tandem_port))
    nodes.add(orthanc.node)
    return nodes


@pytest.fixture
def db(tmp_path: Path) -> Iterator[StudyDatabase]:
    with StudyDatabase(tmp_path / "data" / "studies.sqlite") as database:
        yield database


@pytest.fixture
def panel(qapp: QApplication, qtbot, db: StudyDatabase,  # noqa: F811
          store: NodeStore) -> Iterator[PacsQueryPanel]:
    widget = PacsQueryPanel(db, store, listen_host="127.0.0.1")
    qtbot.addWidget(widget)
    widget.show()
    yield widget
    widget.shutdown()
    widget.runner.wait(WAIT_MS)


def _search(qtbot, panel: PacsQueryPanel) -> None:
    with qtbot.waitSignal(panel.search_done, timeout=WAIT_MS):
        qtbot.mouseClick(panel.search_button, Qt.MouseButton.LeftButton)


def _cell(panel: PacsQueryPanel, row: int, column: int) -> QTableWidgetItem:
    item = panel.table.item(row, column)
    assert item is not None
    return item


def _table(panel: PacsQueryPanel) -> list[list[str]]:
    return [[_cell(panel, r, c).text() for c in range(panel.table.columnCount())]
            for r in range(panel.table.rowCount())]


def _select(panel: PacsQueryPanel, study_uid: str) -> None:
    [row] = [r for r in range(panel.table.rowCount())
             if _cell(panel, r, 0).data(Qt.ItemDataRole.UserRole) == study_uid]
    panel.table.selectRow(row)


def _retrieve(qtbot, panel: PacsQueryPanel, method: str):
    panel.method_combo.setCurrentIndex(panel.method_combo.findData(method))
    with qtbot.waitSignal(panel.retrieve_done, timeout=WAIT_MS) as blocker:
        qtbot.mouseClick(panel.retrieve_button, Qt.MouseButton.LeftButton)
    return blocker.args[0]


# -- nodes dialog ------------------------------------------------------------------------------

def test_nodes_dialog_adds_a_node_and_tests_the_connection(qapp: QApplication,  # noqa: F811
                                                           qtbot, tmp_path: Path,
                                                           orthanc: Orthanc) -> None:
    nodes = NodeStore(tmp_path / "nodes.json")
    dialog = NodesDialog(nodes)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.node_list.count() == 0 and dialog.name_edit.text() == ""
    # Invalid fields: nothing saved, each problem named.
    qtbot.keyClicks(dialog.name_edit, "Orthanc")
    qtbot.keyClicks(dialog.host_edit, "bad host")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert "AE title must be 1 to 16" in dialog.message.text()
    assert "host must be" in dialog.message.text()
    assert nodes.nodes() == ()

    dialog.host_edit.setText("127.0.0.1")
    qtbot.keyClicks(dialog.ae_edit, "ORTHANC")
    dialog.port_spin.setValue(orthanc.dicom_port)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert nodes.nodes() == (PacsNode("Orthanc", "ORTHANC", "127.0.0.1", orthanc.dicom_port),)
    assert dialog.node_list.count() == 1 and "saved" in dialog.message.text()

    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    assert not dialog.test_button.isEnabled()  # the C-ECHO runs in the background
    qtbot.waitUntil(lambda: not dialog.testing, timeout=WAIT_MS)
    assert dialog.echo_label.text().startswith("Connection OK (C-ECHO in ")
    # A second node of the same name is refused; a closed port fails fast with the reason.
    dialog.new_node()
    qtbot.keyClicks(dialog.name_edit, "Orthanc")
    qtbot.keyClicks(dialog.ae_edit, "NOBODY")
    qtbot.keyClicks(dialog.host_edit, "127.0.0.1")
    dialog.port_spin.setValue(free_port())
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert "already exists" in dialog.message.text() and len(nodes.nodes()) == 1
    qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.testing, timeout=WAIT_MS)
    text = dialog.echo_label.text()
    assert text.startswith("Connection failed after ") and "connection refused" in text

    # Tandem's own AE title and port.
    dialog.local_ae_edit.setText("MY AE \\ BAD")
    assert not dialog.save_local()
    dialog.local_ae_edit.setText("TANDEM2")
    dialog.local_port_spin.setValue(11113)
    with qtbot.waitSignal(dialog.local_changed):
        assert dialog.save_local()
    assert nodes.local() == LocalAE("TANDEM2", 11113)
    dialog.node_list.setCurrentRow(0)
    dialog.remove_node()
    assert nodes.nodes() == ()


# -- query panel -------------------------------------------------------------------------------

def test_search_with_filters_lists_the_studies(qtbot, panel: PacsQueryPanel) -> None:
    qtbot.keyClicks(panel.patient_name, "doe")  # no wildcard: a prefix, any case
    _search(qtbot, panel)
    rows = _table(panel)
    assert [r[0] for r in rows] == [format_dicom_date("20010101"),
                                    format_dicom_date("19950903")]  # newest first
    assert {(r[1], r[2]) for r in rows} == {("DOE Archibald", "77654033")}
    assert [(r[3], r[5], r[6]) for r in rows] == [("CR", "3", "3"), ("CT", "1", "4")]
    assert panel.status.text() == "2 study(ies) found."

    panel.patient_name.clear()
    panel.modality.setCurrentIndex(panel.modality.findData("CT"))
    panel.set_days(6)  # "7 days": nothing that recent on this PACS
    _search(qtbot, panel)
    assert panel.table.rowCount() == 0
    panel.date_box.setChecked(False)
    _search(qtbot, panel)
    assert sorted(r[2] for r in _table(panel)) == ["77654033", "99000"]


def test_retrieve_by_c_get_and_c_move(qtbot, panel: PacsQueryPanel, db: StudyDatabase) -> None:
    qtbot.keyClicks(panel.patient_id, "99000")
    _search(qtbot, panel)
    ct_uid = study_uid(dicom_files(CT_STUDY)[0])
    _select(panel, ct_uid)
    result = _retrieve(qtbot, panel, "get")
    assert (result.method, result.completed, result.received, result.failed) == ("get", 3, 3, 0)
    assert panel.status.text().startswith("Retrieved 3 image(s) in ")
    assert [s.study_instance_uid for s in db.studies()] == [ct_uid]

    panel.patient_id.setText("77654033")
    panel.modality.setCurrentIndex(panel.modality.findData("CT"))  # Doe's CT, not his CR
    _search(qtbot, panel)
    assert panel.table.rowCount() == 1
    doe_ct = study_uid(dicom_files(PATIENT_2 / "CT2")[0])
    _select(panel, doe_ct)
    with qtbot.waitSignal(panel.study_retrieved) as retrieved:
        result = _retrieve(qtbot, panel, "move")
    assert retrieved.args == [doe_ct]
    assert (result.method, result.completed, result.received, result.failed) == ("move", 4, 4, 0)
    assert {s.study_instance_uid: s.instance_count for s in db.studies()} == {ct_uid: 3,
                                                                             doe_ct: 4}
    assert db.integrity_check() == "ok"

    # DICOMweb (WADO-RS) on the same node; refused with the reason on a node without the URL.
    panel.modality.setCurrentIndex(0)
    _search(qtbot, panel)
    cr_uid = study_uid(dicom_files(PATIENT_2 / "CR1")[0])
    _select(panel, cr_uid)
    result = _retrieve(qtbot, panel, "wado")
    assert (result.method, result.received, result.failed) == ("wado", 3, 0)
    assert db.counts()["instances"] == 10
    node = panel.current_node()
    assert node is not None
    panel.store.add(PacsNode(node.name, node.ae_title, node.host, node.port), replace=True)
    assert panel.retrieve_selected() is None
    assert "has no DICOMweb URL" in panel.status.text()


def test_cancel_stops_a_retrieve_and_keeps_the_database_consistent(
        qtbot, panel: PacsQueryPanel, db: StudyDatabase) -> None:
    qtbot.keyClicks(panel.patient_id, "77654033")
    panel.modality.setCurrentIndex(panel.modality.findData("CT"))  # 4 images
    _search(qtbot, panel)
    panel.method_combo.setCurrentIndex(panel.method_combo.findData("get"))
    with qtbot.waitSignal(panel.retrieve_done, timeout=WAIT_MS) as blocker:
        panel.retrieve_selected()
        assert panel.retrieving and panel.cancel_button.isEnabled()
        qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    result = blocker.args[0]
    assert result.cancelled and result.received < 4
    assert panel.status.text().startswith("Retrieve cancelled:")
    assert db.counts()["instances"] == result.received
    assert db.integrity_check() == "ok"
    assert panel.retrieve_button.isEnabled() and not panel.cancel_button.isEnabled()


def test_listener_on_a_busy_port_says_so(qapp: QApplication, qtbot,  # noqa: F811
                                         db: StudyDatabase) -> None:
    from app.listener_service import ListenerService

    first, second = ListenerService(db, host="127.0.0.1"), ListenerService(db, host="127.0.0.1")
    local = LocalAE(TANDEM_AE, free_port())
    try:
        assert first.start(local) and first.running
        with qtbot.waitSignal(second.failed) as failed:
            assert not second.start(local)
        assert not second.running
        assert failed.args[0] == (f"Cannot receive studies: cannot listen on port {local.port} "
                                  f"as {TANDEM_AE}: the port is already in use")
    finally:
        first.stop()
        second.stop()
    assert not first.running


# -- in the main window ------------------------------------------------------------------------

@pytest.fixture
def window(qapp: QApplication, qtbot, tmp_path: Path, db: StudyDatabase,  # noqa: F811
           store: NodeStore, monkeypatch: pytest.MonkeyPatch):
    from app.main_window import MainWindow
    from app.settings import Settings

    # The window's NodeStore is the data folder's: write the test's configuration there.
    monkeypatch.setenv("TANDEM_DATA_DIR", str(store.path.parent))
    settings = Settings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    win = MainWindow(db, settings)
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()


def test_main_window_retrieves_into_the_browser_through_its_listener(
        qtbot, window, orthanc: Orthanc, tandem_port: int, db: StudyDatabase) -> None:
    menus = {a.text(): a.menu() for a in window.menuBar().actions()}
    pacs_texts = [a.text() for a in menus["&PACS"].actions()]
    assert pacs_texts == ["&Query / retrieve…",
                          f"&Receive studies (listen on port {tandem_port})",
                          "&Send exported files…", "&Nodes…"]
    assert window.pacs_query_action.shortcut().toString() == "Ctrl+Shift+Q"

    window.pacs_listen_action.trigger()  # PACS > Receive studies
    assert window.listener.running and window.settings.listener_enabled
    assert window.listener_label.text() == f"Listening on port {tandem_port} as {TANDEM_AE}"

    window.pacs_query_action.trigger()
    panel = window.pacs_panel
    assert window.pacs_dock.isVisible()
    qtbot.keyClicks(panel.patient_id, "99000")
    _search(qtbot, panel)
    ct_uid = study_uid(dicom_files(CT_STUDY)[0])
    _select(panel, ct_uid)
    result = _retrieve(qtbot, panel, "move")  # received by the running listener
    assert (result.completed, result.failed) == (3, 0)
    assert window.browser.study_uids() == [ct_uid]
    row = window.browser.study_row(ct_uid)
    assert row is not None and row.image_count == 3
    qtbot.waitUntil(lambda: window.listener_label.text() == "Receiving: 3 image(s)",
                    timeout=5000)
    window.open_series(row.series[0].series_uid)  # what a double-click does
    view = window.viewports.views[0]
    qtbot.waitUntil(lambda: view.stack is not None and view.stack.count == 3,
                    timeout=WAIT_MS)

    # A modality pushes a study while Tandem listens: the browser shows it within a period.
    cr_files = dicom_files(PATIENT_2 / "CR1")
    from pacs import dimse

    outcomes = dimse.store(PacsNode("me", TANDEM_AE, "127.0.0.1", tandem_port), cr_files,
                           calling_ae="MODALITY")
    assert all(o.ok for o in outcomes)
    cr_uid = study_uid(cr_files[0])
    qtbot.waitUntil(lambda: cr_uid in window.browser.study_uids(), timeout=5000)

    window.pacs_listen_action.trigger()
    assert not window.listener.running and not window.settings.listener_enabled
    assert not window.listener_label.isVisible()


def test_send_exported_files_lists_per_file_failures(qapp: QApplication,  # noqa: F811
                                                     qtbot, store: NodeStore,
                                                     orthanc: Orthanc) -> None:
    sr = DICOM_CORPUS / "pydicom" / "test-SR.dcm"
    junk = DICOM_CORPUS / "bad" / "not_dicom_text.dcm"
    dialog = send_files_to_node(None, [sr, junk], store=store)
    qtbot.addWidget(dialog)
    assert dialog.files_label.text() == "2 file(s) to send."
    with qtbot.waitSignal(dialog.finished_sending, timeout=WAIT_MS) as sent:
        qtbot.mouseClick(dialog.send_button, Qt.MouseButton.LeftButton)
    assert [o.ok for o in sent.args[0]] == [True, False]
    assert dialog.summary.text() == "1 of 2 file(s) sent."
    assert dialog.failures.count() == 1 and dialog.failures.item(0).text().startswith(
        "not_dicom_text.dcm: ")
    sop = str(pydicom.dcmread(sr).SOPInstanceUID)
    assert orthanc.instance_id(sop)  # Orthanc has it
