"""The AI second reader panel and the AI overlays, fed with hand-built results.

Runs under Xvfb (pytest-qt's QApplication). The results are what the engine returns
for a chest radiograph normality model (score + heatmap), a fracture model (boxes at
three operating points), a mammography model that does not apply, and a broken model.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import cast

import numpy as np
import pytest
from model_factory import base_manifest, score_output
from PySide6.QtCore import QLocale, QPoint, Qt
from PySide6.QtWidgets import QLabel

from app.ai_overlays import OverlayStyle, overlays_for
from app.ai_panel import AiPanel, ModelCard
from inference.manifest import ModelManifest, parse_manifest
from inference.reasons import Reason
from inference.results import AnalysisResult, CaseScore, Finding, HeatmapRef, not_applicable

pytestmark = pytest.mark.gui

NBSP = "\u00a0"


@dataclass(frozen=True)
class Entry:
    """Shaped like ``inference.registry.ModelEntry``."""

    id: str
    folder: Path
    manifest: ModelManifest | None
    problems: tuple[str, ...] = ()

    @property
    def valid(self) -> bool:
        return not self.problems

    @property
    def card_path(self) -> Path:
        return self.folder / "MODEL_CARD.md"


def _manifest(model_id: str, name: str, outputs: list[dict]) -> ModelManifest:
    data = base_manifest(model_id, 64, outputs)
    data["name"] = name
    data["version"] = "1.2.0"
    return parse_manifest(data)


def _boxes_output() -> dict:
    return {"name": "boxes", "kind": "boxes", "scores": "box_scores",
            "labels": ["fracture", "dislocation", "joint_effusion"],
            "operating_points": {"high_sensitivity": {"threshold": 0.3},
                                 "high_specificity": {"threshold": 0.7}}}


@pytest.fixture
def entries(tmp_path: Path) -> list[Entry]:
    folders = {name: tmp_path / name for name in ("cxr", "frac", "mammo", "broken")}
    for folder in folders.values():
        folder.mkdir()
        (folder / "MODEL_CARD.md").write_text("# card\n", encoding="utf-8")
    return [
        Entry("cxr", folders["cxr"], _manifest("cxr", "Chest radiograph normality",
                                                [score_output(sens=0.3, spec=0.7)])),
        Entry("frac", folders["frac"], _manifest("frac", "Fracture detection",
                                                  [_boxes_output()])),
        Entry("mammo", folders["mammo"], _manifest("mammo", "Mammography screening",
                                                    [score_output("malignancy")])),
        Entry("broken", folders["broken"], None,
              ("model.onnx is missing", "artifact.sha256: mismatch")),
    ]


def _result(model_id: str, **fields) -> AnalysisResult:
    return AnalysisResult(model_id, "1.2.0", "ab" * 32, "/data/cr.dcm", "1.2.3", 0, (400, 300),
                          applicable=True, provider="CPUExecutionProvider", **fields)


@pytest.fixture
def cxr_result() -> AnalysisResult:
    values = np.linspace(0.0, 1.0, 40 * 30, dtype=np.float32).reshape(40, 30)
    return _result(
        "cxr", timings_ms={"decode": 20.0, "preprocess": 30.4, "infer": 80.2, "postprocess": 11.0},
        case_scores=(CaseScore("abnormal", 0.8234, "high_specificity"),),
        findings=(Finding("abnormal", 0.8234, "high_specificity", heatmap_key="cxr-abnormal"),),
        heatmaps=(HeatmapRef("abnormal", "cxr-abnormal", (0.0, 1.0), values),))


@pytest.fixture
def frac_result() -> AnalysisResult:
    return _result(
        "frac", timings_ms={"total": 1234.4},
        provider_notice="CUDA failed (no device): ran on the CPU",
        findings=(Finding("dislocation", 0.55, "high_sensitivity", (10.0, 20.0, 60.0, 90.0)),
                  Finding("joint_effusion", 0.12, None, (100.0, 100.0, 120.0, 130.0)),
                  Finding("fracture", 0.91, "high_specificity", (150.5, 40.0, 210.0, 95.5))))


@pytest.fixture
def english() -> Iterator[None]:
    QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedStates))
    yield
    QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedStates))


@pytest.fixture
def panel(qtbot, english, entries) -> AiPanel:
    widget = AiPanel()
    qtbot.addWidget(widget)
    widget.set_models(entries)
    widget.resize(320, 760)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def _rows(card: ModelCard) -> list[list[str]]:
    """The visible texts of the card's score/finding grid, row by row (NBSP as space)."""
    grid = card.results_grid
    rows: dict[int, list[tuple[int, str]]] = {}
    for i in range(grid.count()):
        item = grid.itemAt(i)
        widget = item.widget() if item is not None else None
        if isinstance(widget, QLabel) and not widget.isHidden():
            row, column, _, _ = cast(tuple[int, int, int, int], grid.getItemPosition(i))
            rows.setdefault(row, []).append((column, widget.text().replace(NBSP, " ")))
    return [[text for _, text in sorted(rows[r])] for r in sorted(rows)]


def _card(panel: AiPanel, model_id: str) -> ModelCard:
    card = panel.model_card(model_id)
    assert card is not None
    return card


def test_panel_shows_scores_findings_badges_and_reasons(panel, cxr_result, frac_result) -> None:
    assert panel.objectName() == "aiPanel"
    assert panel.windowTitle() == "AI second reader"
    assert panel.research_label.text() == "Research use only — not for clinical use"
    assert "research use only" in panel.notice
    panel.show_result(cxr_result)
    panel.show_result(frac_result)
    panel.show_result(not_applicable("mammo", "1.2.0", "cd" * 32, "/data/cr.dcm", "1.2.3", 0,
                                     (400, 300), Reason("modality", "CR", "MG")))

    cxr = _card(panel, "cxr")
    assert cxr.name_label.text() == "Chest radiograph normality"
    assert cxr.version_label.text() == "v1.2.0"
    assert cxr.status_label.text() == "Done · CPU · 142 ms"  # 20 + 30.4 + 80.2 + 11
    assert "infer: 80.2 ms" in cxr.status_label.toolTip()
    # The heatmap finding of "abnormal" repeats the case score: one row says it.
    assert _rows(cxr) == [["Abnormal 82 %", "High specificity"]]
    assert cxr.notice_label.isHidden()

    frac = _card(panel, "frac")
    assert frac.status_label.text() == "Done · CPU · 1,234 ms"
    assert frac.notice_label.text() == "CUDA failed (no device): ran on the CPU"
    assert _rows(frac) == [["Findings"],
                           ["Fracture", "91 %", "High specificity"],
                           ["Dislocation", "55 %", "High sensitivity"],
                           ["1 more below the operating points"]]
    below = frac.findChild(QLabel, "aiFindingsBelow")
    assert below is not None and below.toolTip().replace(NBSP, " ") == "Joint effusion 12 %"
    assert frac.findChildren(QLabel, "badgeHighSpecificity")[0].styleSheet().count("#ffb000") == 2
    assert "background" not in frac.findChildren(QLabel, "badgeHighSensitivity")[0].styleSheet()

    mammo = _card(panel, "mammo")
    assert mammo.status_label.text() == "Not applicable: modality CR; this model is for MG"
    assert mammo.results.isHidden()

    broken = _card(panel, "broken")
    assert broken.name_label.text() == "broken"
    assert broken.status_label.text() == "Disabled: model.onnx is missing (+1 more)"
    assert "artifact.sha256: mismatch" in broken.status_label.toolTip()
    assert panel.run_button.isEnabled()  # three models still usable


def test_percentages_never_round_to_certainty(panel) -> None:
    panel.show_result(_result("cxr", case_scores=(CaseScore("abnormal", 0.996, "high_specificity"),
                                                  )))
    assert _rows(_card(panel, "cxr"))[0][0] == "Abnormal > 99 %"
    panel.show_result(_result("cxr", case_scores=(CaseScore("abnormal", 0.003, None),)))
    assert _rows(_card(panel, "cxr")) == [["Abnormal < 1 %"]]  # no badge under the point


def test_run_cancel_and_model_states(panel, qtbot, cxr_result) -> None:
    assert panel.run_button.text() == "Run AI"
    with qtbot.waitSignal(panel.run_requested, timeout=1000):
        qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    panel.set_busy(True)
    assert panel.run_button.text() == "Cancel"
    assert _card(panel, "frac").status_label.text() == "Waiting"
    assert _card(panel, "broken").state == "disabled"
    panel.show_running("cxr")
    cxr = _card(panel, "cxr")
    assert cxr.status_label.text() == "Running…"
    assert cxr.progress.isVisible() and cxr.progress.maximum() == 0  # indeterminate
    with qtbot.waitSignal(panel.cancel_requested, timeout=1000), \
            qtbot.assertNotEmitted(panel.run_requested):
        qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    panel.show_result(cxr_result)
    assert not cxr.progress.isVisible()
    panel.show_failed("frac", "CUDA out of memory")
    assert _card(panel, "frac").status_label.text() == "Failed: CUDA out of memory"
    panel.set_busy(False)
    assert panel.run_button.text() == "Run AI"
    assert cxr.state == "done" and _card(panel, "mammo").status_label.text() == "Not run"
    panel.clear("No image to analyse.")
    assert panel.message_label.text() == "No image to analyse." and cxr.state == "idle"
    assert cxr.results.isHidden() and _card(panel, "broken").state == "disabled"


def test_no_usable_model_disables_run(qtbot, english, entries) -> None:
    panel = AiPanel()
    qtbot.addWidget(panel)
    assert panel.message_label.text() == "No AI model is installed."
    assert not panel.run_button.isEnabled()
    panel.set_models([entries[3]])
    assert not panel.run_button.isEnabled() and panel.message_label.isHidden()
    panel.set_busy(True)
    assert panel.run_button.isEnabled()  # a running job can always be cancelled


def test_model_card_link_emits_the_model_id(panel, qtbot) -> None:
    with qtbot.waitSignal(panel.card_requested, timeout=1000) as signal:
        qtbot.mouseClick(_card(panel, "frac").card_button, Qt.MouseButton.LeftButton)
    assert signal.args == ["frac"]


def test_overlay_controls_emit_the_style(panel, qtbot) -> None:
    assert panel.overlay_style() == OverlayStyle()
    assert panel.threshold_value.text() == "0.20"
    with qtbot.waitSignal(panel.overlay_style_changed, timeout=1000) as signal:
        panel.colormap_combo.setCurrentIndex(panel.colormap_combo.findData("turbo"))
    assert signal.args == [OverlayStyle(colormap="turbo")]
    with qtbot.waitSignal(panel.overlay_style_changed, timeout=1000) as signal:
        panel.threshold_slider.setValue(35)
    assert signal.args[0].threshold == pytest.approx(0.35)
    assert panel.threshold_value.text() == "0.35"
    with qtbot.waitSignal(panel.overlay_style_changed, timeout=1000) as signal:
        panel.opacity_slider.setValue(100)  # capped: the image always shows through
    assert signal.args[0].opacity == pytest.approx(0.8)
    with qtbot.waitSignal(panel.overlay_style_changed, timeout=1000) as signal:
        qtbot.mouseClick(panel.overlays_check, Qt.MouseButton.LeftButton,
                         pos=QPoint(8, panel.overlays_check.height() // 2))
    assert signal.args[0].visible is False
    with qtbot.assertNotEmitted(panel.overlay_style_changed):
        panel.set_overlays_visible(True)  # the viewer's A key
        panel.set_overlay_style(OverlayStyle(colormap="inferno", opacity=0.3))
    assert panel.overlays_check.isChecked()
    assert panel.overlay_style() == OverlayStyle(colormap="inferno", opacity=0.3)


def test_french_numbers(qtbot, entries, cxr_result, frac_result) -> None:
    QLocale.setDefault(QLocale(QLocale.Language.French, QLocale.Country.France))
    try:
        panel = AiPanel()
        qtbot.addWidget(panel)
        panel.set_models(entries)
        panel.show_result(cxr_result)
        panel.show_result(frac_result)
        assert panel.threshold_value.text() == "0,20"
        assert _rows(_card(panel, "cxr"))[0][0] == "Abnormal 82 %"
        assert _card(panel, "frac").status_label.text().replace("\u202f", " ") \
            .replace(NBSP, " ") == "Done · CPU · 1 234 ms"
    finally:
        QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedStates))


def test_panel_screenshot_is_compact_and_amber(panel, qtbot, cxr_result, frac_result) -> None:
    panel.show_result(cxr_result)
    panel.show_result(frac_result)
    panel.show_result(not_applicable("mammo", "1.2.0", "cd" * 32, "/data/cr.dcm", "1.2.3", 0,
                                     (400, 300), Reason("modality", "CR", "MG")))
    qtbot.wait(50)  # let the layouts settle
    image = panel.grab().toImage()
    image.save("/tmp/tandem_ai_panel.png")
    badge = _card(panel, "frac").findChildren(QLabel, "badgeHighSpecificity")[0]
    corner = badge.mapTo(panel, QPoint(0, 0))
    pixels = [image.pixelColor(corner.x() + x, corner.y() + y)
              for x in range(badge.width()) for y in range(badge.height())]
    amber = [c for c in pixels if c.red() > 245 and 168 < c.green() < 186 and c.blue() < 10]
    assert len(amber) > 0.6 * len(pixels)  # solid amber behind dark text
    # Everything fits in the 320 px dock without a horizontal scroll bar.
    for card_id in ("cxr", "frac", "mammo", "broken"):
        assert _card(panel, card_id).sizeHint().width() <= 320


# --------------------------------------------------------------------------- overlays


def test_overlays_boxes_follow_operating_points(frac_result) -> None:
    heatmap, boxes = overlays_for(frac_result, OverlayStyle(), slice_index=3)
    assert heatmap is None
    assert [(b.label, b.dashed, b.xyxy) for b in boxes] == [
        ("Dislocation", True, (10.0, 20.0, 60.0, 90.0)),
        ("Fracture", False, (150.5, 40.0, 210.0, 95.5))]  # effusion: under both points
    assert all(b.slice_index == 3 and b.ai for b in boxes)
    assert boxes[1].caption == "Fracture 91\u00a0%"  # as in the panel, not "0.91"


def test_overlays_heatmap_takes_the_style(cxr_result) -> None:
    style = OverlayStyle(colormap="turbo", opacity=0.3, threshold=0.5)
    heatmap, boxes = overlays_for(cxr_result, style)
    assert boxes == [] and heatmap is not None
    assert (heatmap.colormap, heatmap.opacity, heatmap.threshold) == ("turbo", 0.3, 0.5)
    assert heatmap.values is cxr_result.heatmaps[0].values
    alpha = heatmap.rgba()[..., 3]
    assert alpha[0, 0] == 0 and alpha[-1, -1] == round(255 * 0.3)  # under / over threshold
    assert overlays_for(cxr_result, OverlayStyle(visible=False)) == (None, [])


def test_overlays_threshold_spans_the_value_range_and_needs_values(cxr_result) -> None:
    ref = cxr_result.heatmaps[0]
    wide = replace(cxr_result, heatmaps=(HeatmapRef(ref.label, ref.key, (-2.0, 2.0), ref.values),))
    heatmap, _ = overlays_for(wide, OverlayStyle(threshold=0.25))
    assert heatmap is not None and heatmap.threshold == pytest.approx(-1.0)
    unloaded = replace(cxr_result, heatmaps=(HeatmapRef(ref.label, ref.key),))
    assert overlays_for(unloaded, OverlayStyle()) == (None, [])


def test_overlays_pick_the_highest_scored_label_and_skip_not_applicable() -> None:
    low, high = np.zeros((4, 4), np.float32), np.ones((4, 4), np.float32)
    result = _result("multi", case_scores=(CaseScore("nodule", 0.2, None),
                                           CaseScore("effusion", 0.9, "high_specificity")),
                     heatmaps=(HeatmapRef("nodule", "n", values=low),
                               HeatmapRef("effusion", "e", values=high)))
    heatmap, _ = overlays_for(result, OverlayStyle())
    assert heatmap is not None and heatmap.values is high
    refused = not_applicable("multi", "1.0.0", "00" * 32, "x.png", "", 0, (4, 4),
                             Reason("view", "LL", "PA"))
    assert overlays_for(refused, OverlayStyle()) == (None, [])
