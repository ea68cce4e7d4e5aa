"""The concordance view, the AI panel's blinded state and scales, and the browser's reading column.

The comparison is the real one (:func:`reading.concordance.compare`) on a FracAtlas hand
radiograph with three ground-truth fracture boxes: the "AI" finds all three, the reader
marks one of them plus a place the AI did not flag -> 2 AI-only, 1 agreed, 1 reader-only.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import QLocale, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QLabel

from app.ai_panel import AiPanel
from app.browser import COL_READING, StudyBrowser
from app.catalog import PatientRow, SeriesRow, StudyRow
from app.concordance_panel import ConcordancePanel, role_colour
from app.score_display import band_text, case_score_text
from inference.results import AnalysisResult, CaseScore, Finding
from reading.concordance import CaseComparison, Concordance, compare
from reading.model import AiDecision, Assessment, Mark, Reading

pytestmark = pytest.mark.gui

FRACATLAS = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "fracture" / "fracatlas"
SOP = "1.2.826.0.1.3680043.8.498.1"
SHA = "5f" * 32
NBSP = "\u00a0"
SHOTS = Path("/work/brief")


@pytest.fixture
def english() -> Iterator[None]:
    QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedStates))
    yield


def _three_box_image() -> tuple[str, list[tuple[float, float, float, float]]]:
    """The first FracAtlas image (by id) with exactly three fracture boxes."""
    boxes: dict[str, list[tuple[float, float, float, float]]] = {}
    with (FRACATLAS / "labels.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["n_boxes"] == "3":
                boxes.setdefault(row["image_id"], []).append(
                    (float(row["x_min"]), float(row["y_min"]), float(row["x_max"]),
                     float(row["y_max"])))
    image_id = sorted(boxes)[0]
    return image_id, boxes[image_id]


@pytest.fixture(scope="module")
def case() -> tuple[Reading, AnalysisResult, list[tuple[float, float, float, float]]]:
    _, truth = _three_box_image()
    scores = [(0.93, "high_specificity"), (0.78, "high_specificity"), (0.41, "high_sensitivity")]
    result = AnalysisResult(
        "fracture_boxes", "1.0.0", SHA, "/data/hand.dcm", SOP, 0, (454, 373), applicable=True,
        provider="CPUExecutionProvider",
        case_scores=(CaseScore("fracture", 0.93, "high_specificity", (0.3, 0.7)),),
        findings=tuple(Finding("fracture", s, op, box)  # type: ignore[arg-type]
                       for (s, op), box in zip(scores, truth, strict=True)))
    x0, y0, x1, y1 = truth[1]
    reading = Reading(
        "r-1", "1.2.3.4", "dr.martin", "bone", state="signed",
        marks=(Mark("m-agreed", SOP, 0, "box", ((x0 + 1, y0 + 1), (x1 - 1, y1 + 2)),
                    "fracture"),
               Mark("m-own", SOP, 0, "point", ((20.0, 430.0),), "fracture")),
        assessment=Assessment(fracture_by_image={SOP: True}))
    return reading, result, truth


@pytest.fixture
def panel(qtbot, english, case) -> ConcordancePanel:
    reading, result, _ = case
    widget = ConcordancePanel()
    qtbot.addWidget(widget)
    widget.set_concordance(compare(reading, [result], mm_per_px={SOP: 0.2}),
                           {"fracture_boxes": "Fracture detection"}, reading=reading)
    widget.resize(360, 620)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def test_order_counts_and_case_line(panel) -> None:
    rows = panel.finding_rows()
    assert [r.pair.status for r in rows] == ["ai_only", "ai_only", "agreed", "reader_only"]
    # Possible misses by score, highest first: boxes 0 (93 %) then 2 (41 %).
    assert [r.pair.ai.score if r.pair.ai else None for r in rows] == [0.93, 0.41, 0.78, None]
    assert [r.badge.text() for r in rows] == ["Possible miss", "Possible miss", "Agreed",
                                              "Reader only"]
    assert rows[0].title.text().replace(NBSP, " ") == "Fracture 93 %"
    assert rows[2].title.text().replace(NBSP, " ") == "Fracture 78 % · your mark: Fracture"
    assert rows[3].title.text() == "Your mark: Fracture" and rows[3].accept_button is None
    assert "Fracture detection v1.0.0 (sha256 5f5f5f5f5f5f…)" in rows[0].toolTip()
    counts = {k: label.text() for k, label in panel.count_labels.items()}
    assert counts == {"ai_only": "AI only: 2", "agreed": "Agreed: 1", "reader_only":
                      "Reader only: 1"}
    assert panel.verdict_label.text().startswith("Discordant")
    (line,) = panel.cases_box.findChildren(QLabel, "concordanceCase")
    assert line.text().replace(NBSP, " ") == "Reader: present · AI: positive (93 %) — agree"
    magenta = role_colour("ai_only", panel.palette())
    assert magenta in rows[0].badge.styleSheet() and "background" in rows[0].badge.styleSheet()


def test_next_and_previous_navigate_ai_only_first(panel, qtbot, case) -> None:
    _, _, truth = case
    with qtbot.waitSignal(panel.navigate_requested, timeout=1000) as signal:
        qtbot.mouseClick(panel.next_button, Qt.MouseButton.LeftButton)
    assert signal.args == [SOP, 0, truth[0]]
    assert panel.position_label.text() == "1 of 4"
    with qtbot.waitSignal(panel.navigate_requested, timeout=1000) as signal:
        panel.next_finding()
    assert signal.args == [SOP, 0, truth[2]]  # the second possible miss
    with qtbot.waitSignal(panel.navigate_requested, timeout=1000) as signal:
        panel.previous_finding()
    assert signal.args == [SOP, 0, truth[0]]
    with qtbot.waitSignal(panel.navigate_requested, timeout=1000) as signal:
        panel.previous_finding()  # wraps to the reader-only mark: its bounding box
    assert signal.args == [SOP, 0, (20.0, 430.0, 20.0, 430.0)]
    # The N key works window-wide while the panel is shown.
    panel.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is panel, timeout=2000)
    with qtbot.waitSignal(panel.navigate_requested, timeout=1000) as signal:
        qtbot.keyClick(panel, Qt.Key.Key_N)
    assert signal.args == [SOP, 0, truth[0]]
    assert "N" in panel.next_button.toolTip() and "Shift+N" in panel.previous_button.toolTip()


def test_accept_and_dismiss_emit_decisions_with_reason(panel, qtbot, case) -> None:
    reading, result, _ = case
    first, second = panel.finding_rows()[:2]
    assert first.reason_combo is not None and second.reason_combo is not None
    assert [first.reason_combo.itemText(i) for i in range(first.reason_combo.count())] == [
        "", "artefact", "known / old lesion", "outside the field of interest", "not a lesion"]
    first.reason_combo.setCurrentIndex(1)
    with qtbot.waitSignal(panel.decided, timeout=1000) as signal:
        qtbot.mouseClick(first.dismiss_button, Qt.MouseButton.LeftButton)
    assert signal.args == [first.key, "dismissed", "artefact"]
    assert first.key.startswith("fracture_boxes@5f5f5f5f5f5f/")
    assert first.decision_label.text() == "Dismissed — artefact"
    assert first.dismiss_button.isChecked() and not first.accept_button.isChecked()
    second.reason_combo.setEditText("  callus, healing  ")
    with qtbot.waitSignal(panel.decided, timeout=1000) as signal:
        qtbot.mouseClick(second.accept_button, Qt.MouseButton.LeftButton)
    assert signal.args == [second.key, "accepted", "callus, healing"]

    # The controller stores the decisions and recomputes: rows show them, selection stays.
    panel.next_finding()
    panel.next_finding()
    assert panel.current_key() == second.key
    decided = replace(reading, ai_decisions=(
        AiDecision(first.key, "dismissed", "artefact"),
        AiDecision(second.key, "accepted", "callus, healing")))
    panel.set_concordance(compare(decided, [result], mm_per_px={SOP: 0.2}),
                          {"fracture_boxes": "Fracture detection"}, reading=decided)
    rows = panel.finding_rows()
    assert [r.decision for r in rows] == ["dismissed", "accepted", None, None]
    assert rows[1].decision_label.text() == "Accepted — callus, healing"
    assert panel.current_key() == second.key and panel.position_label.text() == "2 of 4"
    assert panel.verdict_label.text().startswith("Discordant")  # one miss dismissed


def test_mammography_breast_lines_and_empty_state(qtbot, english) -> None:
    panel = ConcordancePanel()
    qtbot.addWidget(panel)
    assert panel.empty_label.isVisibleTo(panel) and not panel.body.isVisibleTo(panel)
    assert not panel.next_button.isEnabled()
    concordance = Concordance("1.2.3", "r-2", (), (
        CaseComparison("mammo_lesions", "R", "BI-RADS 2", 0.64, "positive", 8, "disagree"),
        CaseComparison("mammo_lesions", "L", "BI-RADS 1", 0.05, "likely_normal", 2, "agree")))
    panel.set_concordance(concordance, {"mammo_lesions": "Mammography lesions"})
    lines = [label.text().replace(NBSP, " ")
             for label in panel.cases_box.findChildren(QLabel, "concordanceCase")]
    assert lines == ["R: Reader: BI-RADS 2 · AI: 8/10 (64 %) — disagree",
                     "L: Reader: BI-RADS 1 · AI: 2/10 (5 %) — agree"]
    assert panel.position_label.text() == "No AI finding"
    assert panel.verdict_label.text().startswith("Discordant")


def test_concordance_panel_screenshot(panel, qtbot) -> None:
    panel.next_finding()
    first = panel.finding_rows()[0]
    assert first.reason_combo is not None
    first.reason_combo.setCurrentIndex(1)
    qtbot.mouseClick(first.dismiss_button, Qt.MouseButton.LeftButton)
    qtbot.wait(50)
    image = panel.grab().toImage()
    if SHOTS.is_dir():
        image.save(str(SHOTS / "concordance_panel.png"))
    # The possible-miss badge is filled magenta.
    badge = first.badge
    corner = badge.mapTo(panel, badge.rect().topLeft())
    colour = role_colour("ai_only", panel.palette()).lstrip("#")
    wanted = tuple(int(colour[i:i + 2], 16) for i in (0, 2, 4))
    pixels = [image.pixelColor(corner.x() + x, corner.y() + y).getRgb()[:3]
              for x in range(badge.width()) for y in range(badge.height())]
    close = [p for p in pixels if max(abs(a - b) for a, b in zip(p, wanted, strict=True)) <= 8]
    assert len(close) > 0.4 * len(pixels)


# --------------------------------------------------------------------------- AI panel


def test_score_display_uses_the_results_own_thresholds(english) -> None:
    assert band_text("likely_normal") == "likely normal"
    cxr = CaseScore("abnormal", 0.55, "high_sensitivity", (0.3, 0.7))
    assert case_score_text(cxr) == "doubt"
    assert case_score_text(replace(cxr, thresholds=(0.3, 0.5))) == "positive"
    assert case_score_text(replace(cxr, thresholds=None)) == ""  # old cache: % alone
    cuts = (0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)
    assert case_score_text(CaseScore("lesion", 0.64, "high_sensitivity", (0.2, 0.8),
                                     cuts)) == "9/10"


def test_ai_panel_blinded_and_scale(qtbot, english, case) -> None:
    _, result, _ = case
    panel = AiPanel()
    qtbot.addWidget(panel)
    panel.resize(320, 600)
    panel.show()
    qtbot.waitExposed(panel)
    panel.set_blinded(True, ready=False)
    panel.show_result(result)
    card = panel.model_card("fracture_boxes")
    assert card is not None and not card.isVisible()
    assert panel.blinded_label.isVisible()
    assert panel.blinded_label.text() == ("AI is reading in the background — sign your reading "
                                          "to see its results")
    assert not panel.overlays_check.isEnabled() and not panel.opacity_slider.isEnabled()
    panel.set_blinded(True, ready=True)
    assert panel.blinded_label.text() == "AI results ready — sign your reading to see them"
    panel.set_blinded(False, ready=True)
    assert card.isVisible() and not panel.blinded_label.isVisible()
    assert panel.overlays_check.isEnabled() and panel.threshold_slider.isEnabled()
    (scale,) = card.findChildren(QLabel, "aiScoreScale")
    assert scale.text() == "positive" and "0.300" in scale.toolTip()
    assert card.sizeHint().width() <= 320  # the band fits beside the score in the dock


# --------------------------------------------------------------------------- browser


def _catalog() -> list[PatientRow]:
    def study(uid: str, patient: str) -> StudyRow:
        return StudyRow(uid, patient, "20240105", f"Study {uid}", "", (
            SeriesRow(f"{uid}.1", uid, 1, "DX", "", 1),))
    return [PatientRow("P1", "P1", "ALPHA^Ann", "19600101", "F", (study("s1", "P1"),
                                                                  study("s2", "P1"))),
            PatientRow("P2", "P2", "BRAVO^Bob", "19700101", "M", (study("s3", "P2"),)),
            PatientRow("P3", "P3", "CHARLIE^Cy", "19800101", "M", (study("s4", "P3"),
                                                                   study("s5", "P3")))]


def test_browser_reading_column_and_discordant_first(qtbot, english) -> None:
    browser = StudyBrowser()
    qtbot.addWidget(browser)
    browser.set_catalog(_catalog())
    assert browser.tree.headerItem().text(COL_READING) == "Reading"
    assert browser.reading_text("s1") == ""  # nothing known yet
    browser.tree.setCurrentItem(browser._items[("study", "s4")])
    browser._items[("patient", "P2")].setExpanded(False)
    statuses = {"s2": "read", "s3": "amended", "s4": "in_progress", "s5": "discordant"}
    browser.set_reading_statuses(statuses, {"s1": "likely_normal", "s2": "likely_normal"})
    assert [browser.reading_text(u) for u in ("s1", "s2", "s3", "s4", "s5")] == [
        "unread · AI: likely normal", "read · AI: likely normal", "amended", "in progress",
        "discordant"]
    assert browser.study_order() == ["s1", "s2", "s3", "s4", "s5"]
    item = browser._items[("study", "s5")]
    assert item.font(COL_READING).bold() and item.font(COL_READING).weight() >= QFont.Weight.Bold
    assert item.foreground(COL_READING).color().name() == role_colour("ai_only",
                                                                        browser.palette())
    assert browser._items[("study", "s3")].font(COL_READING).italic()

    browser.discordant_first_action.setChecked(True)
    assert browser.study_order() == ["s5", "s4", "s1", "s2", "s3"]  # P3 first, s5 before s4
    assert browser.current_study_uid() == "s4"
    assert browser.tree.currentItem() is browser._items[("study", "s4")]
    assert not browser._items[("patient", "P2")].isExpanded()
    assert browser._items[("patient", "P3")].isExpanded()
    # A status change re-sorts in place; a refreshed catalog keeps the order.
    browser.set_reading_statuses({**statuses, "s5": "read", "s3": "discordant"}, {})
    assert browser.study_order() == ["s3", "s1", "s2", "s4", "s5"]
    browser.set_catalog(_catalog())
    assert browser.study_order() == ["s3", "s1", "s2", "s4", "s5"]
    assert browser.reading_text("s1") == "unread"
    browser.discordant_first_action.setChecked(False)
    assert browser.study_order() == ["s1", "s2", "s3", "s4", "s5"]
    assert browser.discordant_first_action in browser.tree.actions()
