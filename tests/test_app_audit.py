"""The audit window on a real ReadingStore: blinded double reads signed, concordances stored.

Four studies go through the whole chain (first read signed, final read with decisions on
the AI-only findings signed, concordance stored); the window must show what
``reading.audit_report.model_stats`` computes for the period, plot it, and export the CSV.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import QDate, QLocale

from app.audit_window import AuditWindow
from reading.audit_report import audit_rows, model_stats
from reading.concordance import AiFindingRef, CaseComparison, Concordance, Pair
from reading.model import AiDecision, Assessment, Decision
from reading.store import ReadingStore

pytestmark = pytest.mark.gui

NBSP = "\u00a0"
SHOTS = Path("/work/brief")
NAMES = {"fracture_boxes": "Fracture detection", "cxr_normality": "Chest radiograph normality"}


def _finding(model_id: str, sop: str, index: int, score: float) -> AiFindingRef:
    return AiFindingRef(f"{model_id}@{'ab' * 6}/{sop}/0/{index}", model_id, "1.0.0", "ab" * 32,
                        sop, 0, "fracture" if model_id == "fracture_boxes" else "abnormal",
                        score, "high_specificity", (10.0, 10.0, 60.0, 60.0), (35.0, 35.0))


def _double_read(store: ReadingStore, study: str, model_id: str, *, agreed: int,
                 decisions: list[Decision | None], agreement: str) -> None:
    """First read signed, then the final read with ``decisions`` on its AI-only findings."""
    sop = f"{study}.1"
    kind = "bone" if model_id == "fracture_boxes" else "cxr"
    first = store.start(study, "dr.martin", kind, blinded=True)  # type: ignore[arg-type]
    first = store.save(replace(first, assessment=Assessment(cxr="abnormal")
                               if kind == "cxr" else Assessment(fracture_by_image={sop: True})),
                       "assessment_changed")
    store.sign(first.reading_id)
    final = store.follow_up(first.reading_id, "final")
    misses = [_finding(model_id, sop, i, 0.9 - 0.1 * i) for i in range(len(decisions))]
    final = store.save(replace(final, ai_decisions=tuple(
        AiDecision(f.key, d) for f, d in zip(misses, decisions, strict=True) if d is not None)),
        "ai_decision")
    store.sign(final.reading_id)
    pairs = [Pair("ai_only", f, None, None, None, d)
             for f, d in zip(misses, decisions, strict=True)]
    pairs += [Pair("agreed", _finding(model_id, sop, 10 + i, 0.8), f"m{i}", 0.6, 2.0, None)
              for i in range(agreed)]
    case = CaseComparison(model_id, "study" if kind == "cxr" else sop,
                          "abnormal" if kind == "cxr" else "present", 0.85, "positive", None,
                          agreement)  # type: ignore[arg-type]
    store.save_concordance(final.reading_id, Concordance(
        study, final.reading_id, tuple(pairs), (case,)).to_dict())


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ReadingStore]:
    reading_store = ReadingStore(tmp_path / "tandem.sqlite")
    _double_read(reading_store, "1.2.1", "fracture_boxes", agreed=1,
                 decisions=["dismissed", "accepted"], agreement="agree")
    _double_read(reading_store, "1.2.2", "fracture_boxes", agreed=0,
                 decisions=["dismissed"], agreement="disagree")
    _double_read(reading_store, "1.2.3", "fracture_boxes", agreed=2, decisions=[],
                 agreement="agree")
    _double_read(reading_store, "1.2.4", "cxr_normality", agreed=1, decisions=[None],
                 agreement="agree")
    yield reading_store
    reading_store.close()


@pytest.fixture
def window(qtbot, store) -> AuditWindow:
    QLocale.setDefault(QLocale(QLocale.Language.English, QLocale.Country.UnitedStates))
    widget = AuditWindow(store, model_names=NAMES)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def _table(window: AuditWindow) -> list[list[str]]:
    table = window.table
    def text(row: int, column: int) -> str:
        item = table.item(row, column)
        return item.text().replace(NBSP, " ") if item is not None else ""
    return [[text(r, c) for c in range(table.columnCount())] for r in range(table.rowCount())]


def test_window_shows_model_stats_of_the_period(window, store) -> None:
    assert window.from_edit.date() == QDate.currentDate().addDays(-30)
    assert window.to_edit.date() == QDate.currentDate()
    assert not window.isModal()
    since, until = window.period()
    stats = model_stats(audit_rows(store, since=since, until=until))
    assert [(s.model_id, s.cases, s.ai_only, s.accepted, s.dismissed) for s in stats] == [
        ("cxr_normality", 1, 1, 0, 0), ("fracture_boxes", 3, 3, 1, 2)]
    assert stats[1].agreement_rate == pytest.approx(2 / 3)
    assert _table(window) == [
        ["Chest radiograph normality", "1", "100 %", "1", "0", "0", "0 s"],
        ["Fracture detection", "3", "67 %", "3", "1", "2", "0 s"]]
    assert window.summary_label.text() == "Signed cases in the period: 4"
    chart = window.agreement_chart
    assert chart.categories == ("Chest radiograph normality", "Fracture detection")
    assert chart.series[0].values == pytest.approx((100.0, 200 / 3))
    assert [s.values for s in window.decisions_chart.series] == [(0.0, 1.0), (0.0, 2.0)]

    # A period before any reading: nothing, and nothing to export.
    today = QDate.currentDate()
    window.set_period(today.addDays(-90), today.addDays(-60))
    assert window.table.rowCount() == 0 and not window.export_button.isEnabled()
    assert window.summary_label.text() == "No signed reading in this period."


def test_export_csv_writes_the_rows(window, tmp_path) -> None:
    target = tmp_path / "out" / "audit.csv"
    assert window.export_csv(target) == target
    with target.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    assert sorted(r["model_id"] for r in rows) == ["cxr_normality", "fracture_boxes",
                                                    "fracture_boxes", "fracture_boxes"]
    assert sum(int(r["ai_only_dismissed"]) for r in rows) == 2
    assert window.status_label.text() == f"Saved 4 rows to {target}"
    blocked = tmp_path / "file"
    blocked.write_text("x")
    assert window.export_csv(blocked / "audit.csv") is None  # a file where a folder should be
    assert window.status_label.text().startswith(f"Could not write {blocked / 'audit.csv'}")


def test_audit_window_screenshot(window, qtbot) -> None:
    window.resize(760, 600)
    qtbot.wait(50)
    image = window.grab().toImage()
    if SHOTS.is_dir():
        image.save(str(SHOTS / "audit_window.png"))
    # The agreement bars are drawn: green pixels inside the chart.
    chart = window.agreement_chart
    corner = chart.mapTo(window, chart.rect().topLeft())
    green = 0
    for x in range(0, chart.width(), 2):
        for y in range(0, chart.height(), 2):
            c = image.pixelColor(corner.x() + x, corner.y() + y)
            green += c.green() > c.red() + 40 and c.green() > c.blue() + 40
    assert green > 200
