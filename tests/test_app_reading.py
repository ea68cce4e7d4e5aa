"""The double read in the main window, on a real X display (Xvfb).

A JSRT chest radiograph with a nodule (real pixels, written as a DX DICOM file) is
imported into the window's database; a tiny ONNX model from ``model_factory`` puts
one box on the nodule and one on healthy lung. The radiologist draws a box on the
nodule with the mouse, signs a blinded first read (the AI was hidden until then), sees
the AI revealed with the concordance (agreed / AI-only), accepts one finding and
dismisses the other, signs the final reading and exports SR + PDF. Undo/redo of mark
edits restores the stored reading, not only the screen.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Iterator
from pathlib import Path

import model_factory
import pytest
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtWidgets import QApplication, QFrame, QLabel, QPushButton
from radiographs import dicom_from_picture
from test_app_gui import display, qapp  # noqa: F401  (the X display and Tandem's QApplication)

pytestmark = pytest.mark.gui

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"
JSRT = SHARED / "cxr" / "jsrt"
CASE = "JPCLN001"  # 15 mm nodule, left upper lobe
SPACING_MM = 1.6  # JSRT 0.175 mm pixels on a 2048 grid, written at 224 px
MODEL_SIZE = 128
FAR_BOX = (40.0, 150.0, 70.0, 180.0)  # right lower zone: no nodule there


def nodule(case: str = CASE) -> tuple[Path, float, float, float]:
    """The JSRT picture and its nodule centre (x, y) and diameter, in its pixels."""
    with (JSRT / "labels.csv").open(newline="", encoding="utf-8") as f:
        row = next(r for r in csv.DictReader(f) if r["patient_id"] == case)
    return (JSRT / row["file"], float(row["nodule_x_px"]), float(row["nodule_y_px"]),
            float(row["nodule_diameter_px"]))


def input_box(image_size: tuple[int, int], box: tuple[float, float, float, float]
              ) -> list[float]:
    """``box`` (original pixels) in the model input of the letterbox recipe."""
    import numpy as np

    from inference.transform import letterbox_transform

    corners = np.array([[box[0], box[1]], [box[2], box[3]]], dtype=np.float64)
    return [float(v) for v in
            letterbox_transform(image_size, MODEL_SIZE).original_to_input(corners).ravel()]


@pytest.fixture
def chest(tmp_path: Path) -> tuple[Path, tuple[float, float, float, float]]:
    picture, x, y, diameter = nodule()
    half = max(diameter, 10.0) / 2
    path = dicom_from_picture(picture, tmp_path / "chest.dcm", body_part="CHEST", view="PA",
                              twelve_bit=True, spacing_mm=SPACING_MM, orientation=("L", "F"),
                              patient="JSRT^NODULE")
    return path, (x - half, y - half, x + half, y + half)


@pytest.fixture
def make_window(qapp: QApplication, qtbot, tmp_path: Path,  # noqa: F811
                monkeypatch: pytest.MonkeyPatch) -> Iterator:
    """Main windows on one database; their AI sees only the test's models folder."""
    from app.ai_runner import AiRunner
    from app.main_window import MainWindow
    from app.settings import Settings
    from imaging.db import StudyDatabase
    from inference.registry import ModelRegistry

    models = tmp_path / "models"
    models.mkdir()
    monkeypatch.setenv("TANDEM_MODELS_DIR", str(models))
    db = StudyDatabase(tmp_path / "studies.sqlite")
    opened = []

    def make(boxes: list[tuple[float, float, float, float]], *, blinded: bool = True):
        model_factory.boxes_model(models / "test_boxes", [input_box((224, 224), b) for b in boxes],
                                  [[0.91]] * len(boxes), size=MODEL_SIZE, labels=("abnormal",))
        settings = Settings(QSettings(str(tmp_path / "settings.ini"),
                                      QSettings.Format.IniFormat))
        settings.blinded_first_read = blinded
        win = MainWindow(db, settings, ai_runner=AiRunner(registry=lambda: ModelRegistry([models]),
                                                          cache_folder=tmp_path / "cache"))
        win.resize(1400, 860)
        win.show()
        qtbot.waitExposed(win)
        qtbot.waitUntil(lambda: win.ai_runner.loaded, timeout=20000)
        opened.append(win)
        return win

    yield make
    for win in opened:
        win.close()
    db.close()


def _open(qtbot, window, path: Path) -> None:
    results: list = []
    window.ai_runner.result.connect(results.append)
    window.open_paths([path])
    view = window.viewports.views[0]
    qtbot.waitUntil(lambda: view.stack is not None and window._current_task(0) is None
                    and bool(results) and not window.ai_runner.busy, timeout=30000)
    assert results[0].applicable and not results[0].reason, results[0].reason


def _widget_pos(window, view, x: float, y: float) -> QPoint:
    """Qt widget position of image point (x, y) (corner origin)."""
    widget = window.viewports.vtk_widget
    dx, dy = view.image_to_display(x - 0.5, y - 0.5)
    ratio = widget.devicePixelRatioF()
    return QPoint(round(dx / ratio), round(widget.height() - dy / ratio))


def _drag(qtbot, window, view, start: tuple[float, float], end: tuple[float, float]) -> None:
    widget = window.viewports.vtk_widget
    a, b = _widget_pos(window, view, *start), _widget_pos(window, view, *end)
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, pos=a)
    for t in (0.3, 0.6, 1.0):
        qtbot.mouseMove(widget, QPoint(round(a.x() + t * (b.x() - a.x())),
                                       round(a.y() + t * (b.y() - a.y()))))
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=b)


def _ai_boxes(view) -> list:
    return [b for b in view.boxes if b.ai]


def test_blinded_double_read_from_open_to_export(make_window, chest, qtbot,
                                                 tmp_path: Path) -> None:
    from reading.vocabulary import MARK_LABELS
    from viewer.reader_marks import ROLE_COLOURS

    path, nodule_box = chest
    window = make_window([nodule_box, FAR_BOX])
    _open(qtbot, window, path)
    view = window.viewports.views[0]
    controller, panel = window.reading, window.reading_panel
    reading = controller.reading
    assert reading is not None and reading.kind == "cxr" and reading.purpose == "first"
    assert controller.ai_withheld and len(controller.results) == 1

    # Blinded: the AI ran, but nothing of it is on screen or in the panel.
    assert _ai_boxes(view) == [] and view.heatmap is None
    ai_panel = window.ai_panel
    assert ai_panel.blinded_label.isVisible()
    assert ai_panel.blinded_label.text() == "AI results ready — sign your reading to see them"
    assert not [w for w in ai_panel.findChildren(QLabel, "aiFinding") if w.isVisible()]
    assert not window.ai_notice_label.isVisible()
    assert window.concordance_panel.empty_label.isVisible()

    # Draw a box on the nodule with the mouse (Tools > Draw a box).
    window.tool_actions["draw_box"].trigger()
    assert window.viewports.interaction.left_mode == "draw_box"
    x0, y0, x1, y1 = nodule_box
    _drag(qtbot, window, view, (x0, y0), (x1, y1))
    reading = controller.reading
    (mark,) = reading.marks
    assert mark.shape == "box" and mark.label == MARK_LABELS["cxr"][0]
    assert mark.sop_instance_uid == view.stack.slices[0].sop_instance_uid
    drawn = mark.bbox()
    assert drawn == pytest.approx(nodule_box, abs=2.5)  # one screen pixel ≈ 0.3 image px
    (glyph,) = view.marks
    assert glyph.mark_id == mark.id and glyph.shape == "box" and glyph.caption == "Nodule/mass"
    assert controller.store.current(reading.study_instance_uid).marks == (mark,)  # autosaved
    assert panel.marks_table.rowCount() == 1
    qtbot.mouseClick(panel.abnormal_button, Qt.MouseButton.LeftButton)
    assert controller.reading.assessment.cxr == "abnormal"

    # Sign the first read: the AI is revealed, the concordance computed and shown.
    qtbot.mouseClick(panel.sign_button, Qt.MouseButton.LeftButton)
    first = controller.store.versions(reading.study_instance_uid)[0]
    assert first.signed and first.purpose == "first" and first.blinded
    final = controller.reading
    assert final.purpose == "final" and final.previous_id == first.reading_id
    assert not final.signed and not controller.ai_withheld
    assert not ai_panel.blinded_label.isVisible()
    assert [w.text() for w in ai_panel.findChildren(QLabel, "aiFinding")] == ["Abnormal"] * 2
    concordance = controller.concordance
    assert concordance is not None
    assert concordance.counts() == {"agreed": 1, "ai_only": 1, "reader_only": 0}
    assert window.concordance_panel.body.isVisible()
    actions = [e.action for e in controller.store.audit(study_uid=reading.study_instance_uid)]
    assert actions.index("signed") < actions.index("ai_revealed") < actions.index("ai_shown")
    # The view: the AI boxes, agreed green and AI-only magenta with its "!", the mark green.
    boxes = {b.xyxy: b for b in _ai_boxes(view)}
    assert len(boxes) == 2
    far = min(boxes.values(), key=lambda b: abs(b.xyxy[0] - FAR_BOX[0]))
    near = next(b for b in boxes.values() if b is not far)
    assert far.color == ROLE_COLOURS["ai_only"] and far.badge == "!"
    assert near.color == ROLE_COLOURS["agreed"] and near.badge == ""
    assert [g.role for g in view.marks] in (["agreed"], ["selected"])

    # Accept the agreed finding, dismiss the AI-only one with a reason.
    rows = {row.key: row for row in window.concordance_panel.findChildren(
        QFrame, "concordanceFinding") if getattr(row, "key", None)}
    by_status = {p.status: p.ai.key for p in concordance.pairs if p.ai is not None}
    assert set(rows) == set(by_status.values())
    qtbot.mouseClick(rows[by_status["agreed"]].accept_button, Qt.MouseButton.LeftButton)
    dismiss = rows[by_status["ai_only"]]
    dismiss.reason_combo.setCurrentText("artefact")
    qtbot.mouseClick(dismiss.findChild(QPushButton, "concordanceDismiss"),
                     Qt.MouseButton.LeftButton)
    decisions = {d.finding_key: (d.decision, d.reason) for d in controller.reading.ai_decisions}
    assert decisions == {by_status["agreed"]: ("accepted", ""),
                         by_status["ai_only"]: ("dismissed", "artefact")}

    # Sign the final reading: its concordance is stored with it; it is read-only now.
    qtbot.mouseClick(panel.sign_button, Qt.MouseButton.LeftButton)
    signed = controller.store.latest_signed(reading.study_instance_uid)
    assert signed.purpose == "final" and signed.version == 2 and len(signed.ai_decisions) == 2
    stored = controller.store.concordance(signed.reading_id)
    assert stored is not None and stored["counts"]["ai_only"] == 1 and stored["discordant"]
    assert controller.store.statuses()[reading.study_instance_uid] == "discordant"
    assert not panel.sign_button.isEnabled() and panel.amend_button.isEnabled()
    assert panel.state_label.text().startswith("Signed ")
    assert "version 2" in panel.state_label.text()
    assert controller.add_mark(mark.sop_instance_uid, 0, "point", [(10, 10)], "other") is None

    # Export: DICOM SR (+ GSPS) and the PDF report, in the background.
    out = tmp_path / "export"
    task = window.export_to(out)
    assert task is not None
    with qtbot.waitSignal(task.signals.finished, timeout=30000):
        pass
    qtbot.waitUntil(lambda: "exported" in [
        e.action for e in controller.store.audit(study_uid=reading.study_instance_uid)])
    assert (out / "report.pdf").is_file() and (out / "report.pdf").read_bytes()[:5] == b"%PDF-"
    assert len(list((out / "SR").glob("*.dcm"))) >= 3
    assert (out / "SR" / "PDF_report_v2.dcm").is_file()  # the report as a PACS files it
    assert controller.store.verify_audit() == []


def test_undo_redo_restores_the_stored_reading(make_window, chest, qtbot) -> None:
    path, (x0, y0, x1, y1) = chest
    window = make_window([(x0, y0, x1, y1)])
    _open(qtbot, window, path)
    controller = window.reading
    uid = controller.study_uid
    sop = window.viewports.views[0].stack.slices[0].sop_instance_uid

    def stored():
        return controller.store.current(uid).marks

    mark = controller.add_mark(sop, 0, "box", [(x0, y0), (x1, y1)], "nodule_mass")
    assert stored() == (mark,)
    assert controller.move_mark(mark.id, 5.0, -3.0)
    moved = stored()[0]
    assert moved.points == ((x0 + 5, y0 - 3), (x1 + 5, y1 - 3))
    assert controller.delete_mark(mark.id) and stored() == ()
    assert window.viewports.views[0].marks == ()

    window.undo_action.trigger()  # Reading > Undo: the deleted mark is back, moved
    assert stored() == (moved,)
    assert [g.points for g in window.viewports.views[0].marks] == [moved.points]
    window.undo_action.trigger()
    assert stored() == (mark,)
    window.undo_action.trigger()
    assert stored() == ()
    window.redo_action.trigger()
    window.redo_action.trigger()
    assert stored() == (moved,)
    window.redo_action.trigger()
    assert stored() == ()
    actions = [e.action for e in controller.store.audit(study_uid=uid)]
    assert actions.count("mark_added") == 3 and actions.count("mark_deleted") == 3
    assert actions.count("mark_moved") == 3

    # Text is saved once typing pauses (1 s), then undone in one step.
    controller.set_text("nodule LUL")
    controller.set_text("nodule LUL, 15 mm")
    assert controller.store.current(uid).text == ""
    qtbot.waitUntil(lambda: controller.store.current(uid).text == "nodule LUL, 15 mm",
                    timeout=3000)
    window.undo_action.trigger()
    assert controller.store.current(uid).text == ""


def test_unblinded_normal_chest_in_three_actions(make_window, chest, qtbot) -> None:
    """Unblinded practice: the AI is on screen at once; a normal chest is open, U, sign."""
    path, _box = chest
    window = make_window([FAR_BOX], blinded=False)
    started = time.perf_counter()
    _open(qtbot, window, path)  # action 1: open (here File > Open; a double-click in the list)
    view = window.viewports.views[0]
    assert not window.reading.ai_withheld and len(_ai_boxes(view)) == 1
    assert not window.ai_panel.blinded_label.isVisible()
    window.normal_action.trigger()  # action 2: U
    window.sign_action.trigger()  # action 3: Ctrl+Return
    ui_seconds = time.perf_counter() - started
    signed = window.reading.store.latest_signed(window.reading.study_uid)
    assert signed is not None and signed.purpose == "first" and not signed.blinded
    assert signed.assessment.cxr == "normal"
    stored = window.reading.store.concordance(signed.reading_id)
    assert stored is not None and stored["counts"] == {"agreed": 0, "ai_only": 1,
                                                        "reader_only": 0}

    # The controller's own cost of the same three steps on a fresh study.
    controller = window.reading
    other = dicom_from_picture(nodule("JPCLN002")[0], path.parent / "other.dcm",
                               body_part="CHEST", view="PA", spacing_mm=SPACING_MM)
    from imaging.importer import import_paths

    import_paths(window.db, [other])
    uid = window.db.studies()[-1].study_instance_uid
    if uid == signed.study_instance_uid:
        uid = window.db.studies()[0].study_instance_uid
    from dataclasses import replace

    begin = time.perf_counter()
    reading = controller.open_study(uid)
    controller.set_assessment(replace(reading.assessment, cxr="normal"))
    controller.sign()
    controller_ms = 1000 * (time.perf_counter() - begin)
    print(f"normal CXR: 3 UI actions (open, U, Ctrl+Return); {ui_seconds:.2f} s with import "
          f"and AI in the test; controller open+normal+sign {controller_ms:.1f} ms")
    assert controller.store.latest_signed(uid).assessment.cxr == "normal"
    assert controller_ms < 1000


def test_export_offers_to_send_to_the_pacs_and_audits_what_was_sent(
        make_window, chest, qtbot, tmp_path: Path) -> None:
    """With a PACS node configured, File > Export reading… opens "Send to PACS" with the
    exported DICOM files; what the PACS (a real Orthanc) accepted is audited as "sent"."""
    from dataclasses import replace

    from orthanc import free_port, running_orthanc

    from app.pacs_nodes_dialog import SendDialog

    path, nodule_box = chest
    window = make_window([nodule_box], blinded=False)
    _open(qtbot, window, path)
    controller = window.reading
    controller.set_assessment(replace(controller.reading.assessment, cxr="abnormal"))
    controller.sign()
    with running_orthanc(tmp_path / "orthanc", "TANDEMGUI", free_port()) as orthanc:
        window.pacs_store.add(orthanc.node)
        task = window.export_to(tmp_path / "export")
        assert task is not None
        qtbot.waitUntil(lambda: bool(window.findChildren(SendDialog)), timeout=30000)
        (dialog,) = window.findChildren(SendDialog)
        sent = sorted((tmp_path / "export" / "SR").glob("*.dcm"))
        assert sorted(dialog.paths) == sent and len(sent) >= 3
        with qtbot.waitSignal(dialog.finished_sending, timeout=30000):
            dialog.send_button.click()
        assert all(o.ok for o in dialog.outcomes)
        assert len(orthanc.get_json("/instances")) == len(sent)  # the image was never sent
    events = [e for e in controller.store.audit(study_uid=controller.study_uid)
              if e.action == "sent"]
    assert sorted(Path(e.detail["path"]) for e in events) == sent
    assert {e.detail["node"] for e in events} == {orthanc.node.name}
    assert controller.store.verify_audit() == []
