"""The first-run window: real self-test of the 3 models, C-ECHO test, Finish stores everything."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from orthanc import free_port
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication
from test_app_gui import display, qapp  # noqa: F401  (the X display and Tandem's QApplication)

from app.first_run import FirstRunDialog
from app.settings import Settings
from imaging.db import StudyDatabase
from imaging.paths import data_dir
from pacs.nodes import NodeStore
from pacs.storage_scp import StorageServer

pytestmark = pytest.mark.gui
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


@pytest.fixture
def dialog(qapp: QApplication, qtbot,  # noqa: F811
           settings: Settings) -> Iterator[FirstRunDialog]:
    win = FirstRunDialog(settings)
    qtbot.addWidget(win)
    win.resize(860, 620)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.done(0)


def test_self_test_runs_the_three_models(dialog: FirstRunDialog, qtbot, tmp_path: Path) -> None:
    dialog.self_test_button.click()
    qtbot.waitUntil(lambda: bool(dialog.self_test_results) and not dialog.busy, timeout=30000)
    results = {r.model_id: r for r in dialog.self_test_results}
    assert set(results) == {"cxr_normality", "fracture_boxes", "mammo_lesions"}
    for r in results.values():
        assert r.ok, r.message
        assert isinstance(r.score, float) and 0.0 <= r.score <= 1.0
        assert r.load_ms > 0 and r.run_ms > 0
        assert r.provider == "CPUExecutionProvider" or r.provider.endswith("ExecutionProvider")
    assert dialog.table.rowCount() == 3
    items = [dialog.table.item(0, c) for c in range(3)]
    cells = [item.text() if item is not None else "" for item in items]
    assert cells[1] == "OK"
    assert float(cells[2].split()[-1]) == pytest.approx(results[cells[0]].score, abs=5e-4)
    assert "CPU" in dialog.used_label.text()
    assert dialog.self_test_status.text() == "3 of 3 models passed."
    qtbot.wait(100)
    assert dialog.grab().save(str(tmp_path / "first_run.png"))  # docs/screenshots/ has one


def test_test_connection_against_a_real_storage_scp(dialog: FirstRunDialog, qtbot,
                                                    tmp_path: Path) -> None:
    port = free_port()
    with StudyDatabase(tmp_path / "scp" / "studies.sqlite") as db, \
            StorageServer(db, ae_title="FAKEPACS", port=port, host="127.0.0.1"):
        dialog.node_name_edit.setText("cabinet")
        dialog.node_ae_edit.setText("FAKEPACS")
        dialog.node_host_edit.setText("127.0.0.1")
        dialog.node_port_spin.setValue(port)
        dialog.echo_button.click()
        qtbot.waitUntil(lambda: dialog.echo_message != "" and not dialog.busy, timeout=15000)
        assert dialog.echo_message.startswith("Connection OK"), dialog.echo_message
    dialog.echo_message = ""
    dialog.node_port_spin.setValue(free_port())  # nobody listens there
    dialog.echo_button.click()
    qtbot.waitUntil(lambda: dialog.echo_message != "" and not dialog.busy, timeout=30000)
    assert dialog.echo_message.startswith("Connection failed"), dialog.echo_message


def test_finish_stores_first_run_and_the_node(dialog: FirstRunDialog, settings: Settings) -> None:
    assert settings.first_run_done is False
    assert dialog.data_edit.text() == str(data_dir())
    dialog.local_ae_edit.setText("TANDEM_SALLE2")
    dialog.local_port_spin.setValue(11200)
    dialog.node_name_edit.setText("PACS cabinet")
    dialog.node_ae_edit.setText("ORTHANC")
    dialog.node_host_edit.setText("pacs.cabinet.local")
    dialog.node_port_spin.setValue(4242)
    dialog.finish_button.click()
    assert dialog.result() == FirstRunDialog.DialogCode.Accepted
    assert settings.first_run_done is True
    assert settings.data_folder == ""  # the default folder was kept
    config = NodeStore().load()
    assert (config.local.ae_title, config.local.port) == ("TANDEM_SALLE2", 11200)
    (node,) = config.nodes
    assert (node.name, node.ae_title, node.host, node.port) == (
        "PACS cabinet", "ORTHANC", "pacs.cabinet.local", 4242)


def test_finish_refuses_a_bad_node_and_stays_open(dialog: FirstRunDialog,
                                                  settings: Settings) -> None:
    dialog.node_name_edit.setText("bad")
    dialog.node_ae_edit.setText("A" * 20)  # AE titles have at most 16 characters
    dialog.node_host_edit.setText("pacs")
    dialog.finish_button.click()
    assert "longer than 16" in dialog.error_label.text()
    assert dialog.isVisible() and settings.first_run_done is False
    assert NodeStore().nodes() == ()


def test_finish_with_another_data_folder(dialog: FirstRunDialog, settings: Settings,
                                         tmp_path: Path) -> None:
    other = tmp_path / "elsewhere"
    dialog.data_edit.setText(str(other))
    dialog.finish_button.click()
    assert settings.data_folder == str(other) and settings.first_run_done
    assert NodeStore(other / "pacs_nodes.json").load().local.ae_title == "TANDEM"
