"""The AI second reader in the main window, on a real X display (Xvfb).

Radiographs are real images from the shared data sets (a chest radiograph, a knee
with a distal femur fracture from FracAtlas) written as small DX DICOM files in
the test; the models are tiny ONNX graphs from ``model_factory`` found through
``TANDEM_MODELS_DIR``. What is checked is what a radiologist relies on: the window
keeps answering while a model runs, Cancel stops it, scores and overlays land on
the right pixels and follow the A key, a reopened image is not analysed again, and
a CT is refused with the reason.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Iterator
from pathlib import Path

import model_factory
import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QLabel
from radiographs import dicom_from_picture
from test_app_gui import display, qapp  # noqa: F401  (the X display and Tandem's QApplication)

pytestmark = pytest.mark.gui

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"
CHEST_JPEG = SHARED / "cxr" / "tb_normal" / "images" / "CHNCXR_0004_0.jpg"
FRACATLAS = SHARED / "fracture" / "fracatlas"
FRACTURE_ID = "IMG0002390"  # AP knee, distal femur fracture, one box
CT3 = SHARED / "dicom" / "dcmqi" / "ct-3slice"


# -- inputs ------------------------------------------------------------------------------------

def write_radiograph(path: Path, picture: Path, *, body_part: str, view: str,
                     laterality: str = "", spacing_mm: float = 0.7,
                     patient: str = "TEST^RADIOGRAPH") -> Path:
    """A 12-bit DX (MONOCHROME2, ImagerPixelSpacing) DICOM file made from an 8-bit picture."""
    return dicom_from_picture(picture, path, body_part=body_part, view=view,
                              laterality=laterality, twelve_bit=True, spacing_mm=spacing_mm,
                              orientation=("L", "F"), patient=patient)


def fracture_label(image_id: str = FRACTURE_ID) -> tuple[Path, tuple[float, float, float, float]]:
    """The FracAtlas picture and its (only) fracture box in its pixels (x0, y0, x1, y1)."""
    with (FRACATLAS / "labels.csv").open(newline="", encoding="utf-8") as f:
        row = next(r for r in csv.DictReader(f) if r["image_id"] == image_id)
    box = (float(row["x_min"]), float(row["y_min"]), float(row["x_max"]), float(row["y_max"]))
    return FRACATLAS / row["file"], box


def input_box(image_size: tuple[int, int], size: int,
              box: tuple[float, float, float, float]) -> list[float]:
    """``box`` (original pixels) in the model input of the letterbox recipe."""
    from inference.transform import letterbox_transform

    corners = np.array([[box[0], box[1]], [box[2], box[3]]], dtype=np.float64)
    mapped = letterbox_transform(image_size, size).original_to_input(corners)
    return [float(v) for v in mapped.ravel()]


# -- fixtures ----------------------------------------------------------------------------------

@pytest.fixture
def models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "models"
    folder.mkdir()
    monkeypatch.setenv("TANDEM_MODELS_DIR", str(folder))
    return folder


@pytest.fixture
def make_window(qapp: QApplication, qtbot, tmp_path: Path,  # noqa: F811
                models: Path) -> Iterator:
    """Opens main windows on one study database and settings file (closed at the end).

    Their AI runner sees only the test's models folder, not the bundled models, so what
    the panel shows depends on the test alone.
    """
    from app.ai_runner import AiRunner
    from app.main_window import MainWindow
    from app.settings import Settings
    from imaging.db import StudyDatabase
    from inference.registry import ModelRegistry

    db = StudyDatabase(tmp_path / "studies.sqlite")
    opened = []

    def make() -> MainWindow:
        settings = Settings(QSettings(str(tmp_path / "settings.ini"),
                                      QSettings.Format.IniFormat))
        settings.blinded_first_read = False  # these tests look at the AI itself, not blinding
        win = MainWindow(db, settings,
                         ai_runner=AiRunner(registry=lambda: ModelRegistry([models])))
        win.resize(1280, 800)
        win.show()
        qtbot.waitExposed(win)
        qtbot.waitUntil(lambda: win.ai_runner.loaded, timeout=20000)
        opened.append(win)
        return win

    yield make
    for win in opened:
        win.close()
    db.close()


class Results:
    """Everything the window's AI runner reports, with the time it arrived."""

    def __init__(self, window) -> None:
        self.results: list = []
        self.running: list[tuple[str, float]] = []
        window.ai_runner.result.connect(lambda r: self.results.append((r, time.monotonic())))
        window.ai_runner.running.connect(lambda m: self.running.append((m, time.monotonic())))

    def of(self, model_id: str) -> list:
        return [r for r, _ in self.results if r.model_id == model_id]


def _wait_view(qtbot, window) -> None:
    view = window.viewports.views[0]
    qtbot.waitUntil(lambda: view.stack is not None and window._current_task(0) is None,
                    timeout=30000)


def _focus_viewports(qtbot, window) -> None:
    window.activateWindow()  # Xvfb has no window manager to do it
    qtbot.waitUntil(window.isActiveWindow)
    window.viewports.vtk_widget.setFocus()
    qtbot.waitUntil(window.viewports.vtk_widget.hasFocus)


def _amber_on_segment(image: QImage, view, start: tuple[float, float],
                      end: tuple[float, float]) -> float:
    """Share of the screen pixels along an image-space segment that are AI amber."""
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    data = np.frombuffer(image.constBits(), np.uint8)
    rgb = data.reshape(image.height(), image.bytesPerLine())[:, : image.width() * 3]
    rgb = rgb.reshape(image.height(), image.width(), 3).astype(int)
    hits = 0
    samples = np.linspace(0.2, 0.8, 25)
    for t in samples:
        col = start[0] + t * (end[0] - start[0])
        row = start[1] + t * (end[1] - start[1])
        x, y = view.image_to_display(col, row)
        px, py = round(x), round(image.height() - y)  # VTK: device pixels, origin bottom-left
        patch = rgb[max(py - 2, 0):py + 3, max(px - 2, 0):px + 3].reshape(-1, 3)
        r, g, b = patch[:, 0], patch[:, 1], patch[:, 2]
        hits += bool(np.any((r > 200) & (g > 120) & (g < 210) & (b < 80)))
    return hits / len(samples)


# -- tests -------------------------------------------------------------------------------------

def test_ui_stays_responsive_while_a_slow_model_runs(models, make_window, qtbot,
                                                     tmp_path: Path) -> None:
    model_factory.slow_model(models / "test_slow")
    window = make_window()
    assert window.ai_runner.usable_ids == ["test_slow"]
    chest = write_radiograph(tmp_path / "chest.dcm", CHEST_JPEG, body_part="CHEST", view="PA")
    seen = Results(window)
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start()
    window.open_paths([chest])  # as `tandem chest.dcm` or File > Open does
    qtbot.waitUntil(lambda: bool(seen.of("test_slow")), timeout=30000)
    qtbot.wait(20)
    timer.stop()
    (started,) = [t for m, t in seen.running if m == "test_slow"]
    ((result, ended),) = [(r, t) for r, t in seen.results if r.model_id == "test_slow"]
    during = np.array([t for t in ticks if started - 0.01 <= t <= ended + 0.01])
    stall_ms = float(np.diff(during).max()) * 1000
    print(f"slow model ran {1000 * (ended - started):.0f} ms; {len(during)} ticks of 5 ms, "
          f"longest event-loop stall {stall_ms:.1f} ms")
    assert ended - started > 0.3, "the slow model did not run long enough to measure"
    assert stall_ms < 50, f"event loop blocked for {stall_ms:.0f} ms while the model ran"
    assert result.applicable and not result.reason and result.case_scores
    card = window.ai_panel.model_card("test_slow")
    qtbot.waitUntil(lambda: card.state == "done" and not window.ai_runner.busy)
    assert window.ai_notice_label.isVisible()
    assert "Research use only" in window.ai_notice_label.text()
    assert "CPU" in window.ai_notice_label.text()
    assert not window.ai_progress.isVisible()


def test_cancel_stops_the_running_model(models, make_window, qtbot, tmp_path: Path) -> None:
    model_factory.slow_model(models / "test_slow", matmuls=900)  # ~3 s: time to cancel
    window = make_window()
    chest = write_radiograph(tmp_path / "chest.dcm", CHEST_JPEG, body_part="CHEST", view="PA")
    seen = Results(window)
    window.open_paths([chest])
    qtbot.waitUntil(lambda: bool(seen.running), timeout=30000)
    card = window.ai_panel.model_card("test_slow")
    qtbot.waitUntil(lambda: card.state == "running", timeout=5000)
    assert window.ai_progress.isVisible() and window.ai_runner.busy
    qtbot.wait(200)  # well inside the model's run
    pressed = time.monotonic()
    qtbot.mouseClick(window.ai_panel.run_button, Qt.MouseButton.LeftButton)  # now "Cancel"
    qtbot.waitUntil(lambda: not window.ai_runner.busy, timeout=1000)
    idle_after = time.monotonic() - pressed
    print(f"runner idle {1000 * idle_after:.0f} ms after Cancel")
    qtbot.wait(300)
    assert seen.of("test_slow") == []
    assert card.state == "idle" and card.status_label.text() == "Not run"
    assert window.ai_panel.run_button.text() == "Run AI"
    assert not window.ai_progress.isVisible()
    assert not window.ai_notice_label.isVisible()  # no AI output on screen


def test_scores_overlays_toggle_and_cache(models, make_window, qtbot, tmp_path: Path) -> None:
    from inference.results import AnalysisResult
    from viewer.overlays import Box, Heatmap

    picture, label_box = fracture_label()
    size = 128
    with Image.open(picture) as im:
        image_size = (im.height, im.width)  # (rows, cols): 454 x 373, a portrait knee
    model_factory.heatmap_model(models / "test_heatmap", size=64)
    model_factory.boxes_model(models / "test_boxes", [input_box(image_size, size, label_box)],
                              [[0.91]], size=size)
    knee = write_radiograph(tmp_path / "knee.dcm", picture, body_part="KNEE", view="AP",
                            laterality="L", spacing_mm=0.5)
    window = make_window()
    seen = Results(window)
    window.open_paths([knee])
    qtbot.waitUntil(lambda: len(seen.results) == 2 and not window.ai_runner.busy,
                    timeout=30000)
    _wait_view(qtbot, window)
    heat: AnalysisResult = seen.of("test_heatmap")[0]
    boxes: AnalysisResult = seen.of("test_boxes")[0]
    assert heat.applicable and boxes.applicable and not heat.reason and not boxes.reason

    # The panel: a card per model with its score and the operating-point badge.
    panel = window.ai_panel
    heat_card, box_card = panel.model_card("test_heatmap"), panel.model_card("test_boxes")
    assert heat_card.state == "done" and box_card.state == "done"
    score_text = heat_card.findChild(QLabel, "aiCaseScore").text()
    assert f"{round(100 * heat.case_scores[0].probability)}" in score_text
    assert [w.text() for w in box_card.findChildren(QLabel, "aiFinding")] == ["Fracture"]
    assert box_card.findChild(QLabel, "badgeHighSpecificity") is not None  # 0.91 >= 0.7

    # The view: the heatmap over the whole image and the box on the fracture.
    view = window.viewports.views[0]
    assert view.stack.slices[0].sop_instance_uid == heat.sop_instance_uid
    assert isinstance(view.heatmap, Heatmap) and view.heatmap.ai
    assert view.heatmap.values is heat.heatmaps[0].values
    assert heat.heatmaps[0].values.shape[0] / heat.heatmaps[0].values.shape[1] == \
        pytest.approx(454 / 373, rel=0.01)
    (box,) = view.boxes
    assert isinstance(box, Box) and box.ai and not box.dashed and box.label == "Fracture"
    assert box.xyxy == boxes.findings[0].box_xyxy_px
    # Back in image pixels, the box is the radiologists' fracture label (exact transform)...
    assert box.xyxy == pytest.approx(label_box, abs=0.05)
    # ...and, by plain letterbox arithmetic (the recipe rounds its scaled size), within 3 px.
    fit = size / max(image_size)
    pad_x = (size - image_size[1] * fit) / 2
    model_box = input_box(image_size, size, label_box)
    plain = ((model_box[0] - pad_x) / fit, model_box[1] / fit,
             (model_box[2] - pad_x) / fit, model_box[3] / fit)
    assert box.xyxy == pytest.approx(plain, abs=3)

    # On screen: the box's top edge is drawn in amber, and the A key hides it.
    qtbot.wait(200)
    x0, y0, x1, _ = box.xyxy
    assert _amber_on_segment(window.viewports.grab_image(), view, (x0, y0), (x1, y0)) > 0.8
    assert window.ai_notice_label.isVisible()
    _focus_viewports(qtbot, window)
    qtbot.keyClick(window.viewports.vtk_widget, Qt.Key.Key_A)
    assert not view.ai_visible and not window.ai_overlays_action.isChecked()
    assert not panel.overlays_check.isChecked()
    qtbot.wait(200)
    assert _amber_on_segment(window.viewports.grab_image(), view, (x0, y0), (x1, y0)) < 0.2
    panel.overlays_check.click()  # the panel's box shows them again, and the menu follows
    assert view.ai_visible and window.ai_overlays_action.isChecked()
    window.ai_overlays_action.trigger()  # AI > Show AI overlays
    assert not view.ai_visible and not panel.overlays_check.isChecked()
    qtbot.keyClick(window.viewports.vtk_widget, Qt.Key.Key_A)
    assert view.ai_visible and panel.overlays_check.isChecked()
    panel.opacity_slider.setValue(70)  # the style follows the panel
    assert view.heatmap.opacity == pytest.approx(0.7)

    # Reopening the image after a restart: the results come from the cache, no session.
    window.close()
    again = make_window()
    seen = Results(again)
    started = time.monotonic()
    again.open_paths([knee])
    qtbot.waitUntil(lambda: len(seen.results) == 2 and not again.ai_runner.busy,
                    timeout=30000)
    elapsed = time.monotonic() - started
    cached = {r.model_id: r for r, _ in seen.results}
    engine = again.ai_runner.engine
    assert engine is not None
    assert engine.session_provider("test_heatmap") is None
    assert engine.session_provider("test_boxes") is None
    assert all("cache_read" in r.timings_ms and "infer" not in r.timings_ms
               for r in cached.values())
    assert cached["test_boxes"].findings == boxes.findings
    np.testing.assert_array_equal(cached["test_heatmap"].heatmaps[0].values,
                                  heat.heatmaps[0].values)
    _wait_view(qtbot, again)
    assert again.viewports.views[0].boxes[0].xyxy == box.xyxy
    cache_ms = max(sum(r.timings_ms.values()) for r in cached.values())
    print(f"reopened: results {1000 * elapsed:.0f} ms after opening (import included); "
          f"cache read + decode {cache_ms:.1f} ms")
    assert elapsed < 5


def test_ct_is_not_applicable_with_the_reason(models, make_window, qtbot) -> None:
    model_factory.heatmap_model(models / "test_heatmap")
    window = make_window()
    seen = Results(window)
    window.open_paths([CT3])
    qtbot.waitUntil(lambda: bool(seen.results) and not window.ai_runner.busy, timeout=30000)
    (result,) = seen.results
    result = result[0]
    assert not result.applicable and "modality" in result.reason and "CT" in result.reason
    _wait_view(qtbot, window)
    view = window.viewports.views[0]
    assert result.sop_instance_uid == view.stack.slices[view.index].sop_instance_uid
    card = window.ai_panel.model_card("test_heatmap")
    assert card.state == "not_applicable"
    assert card.status_label.text().startswith("Not applicable:")
    assert "CT" in card.status_label.text()
    assert view.heatmap is None and view.boxes == []
    assert not window.ai_notice_label.isVisible()


def test_auto_run_setting_manual_run_and_model_card(models, make_window, qtbot,
                                                    tmp_path: Path) -> None:
    model_factory.heatmap_model(models / "test_heatmap")
    window = make_window()
    (auto,) = window.ai_auto_menu.actions()
    assert auto.isCheckable() and auto.isChecked()  # models run by themselves by default
    auto.trigger()  # AI > Run automatically > Test model test_heatmap: off
    assert not window.settings.ai_auto_run("test_heatmap")
    seen = Results(window)
    chest = write_radiograph(tmp_path / "chest.dcm", CHEST_JPEG, body_part="CHEST", view="PA")
    window.open_paths([chest])
    _wait_view(qtbot, window)
    qtbot.wait(300)
    card = window.ai_panel.model_card("test_heatmap")
    assert seen.results == [] and card.state == "idle"
    window.run_ai_action.trigger()  # AI > Run AI on this image
    qtbot.waitUntil(lambda: card.state == "done", timeout=10000)
    assert [r.model_id for r, _ in seen.results] == ["test_heatmap"]
    assert window.viewports.views[0].heatmap is not None

    (card_action,) = window.ai_cards_menu.actions()
    card_action.trigger()  # AI > Model cards > …: a side window, not a dialog
    viewer = window._card_viewers["test_heatmap"]
    assert viewer.isVisible() and not viewer.isModal() and viewer.isReadOnly()
    assert "research use only" in viewer.toPlainText()
