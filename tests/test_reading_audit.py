"""The practice audit: rows from a real ReadingStore, per-model statistics, the CSV."""

from __future__ import annotations

import csv
import statistics
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reading.audit_report import CaseRow, audit_rows, model_stats, write_audit_csv
from reading.concordance import AiFindingRef, CaseComparison, Concordance, Pair
from reading.model import AiDecision, Assessment, Mark, Reading
from reading.store import ReadingStore

UID = "1.2.826.0.1.3680043.8.498.{}"


def _finding(model: str, study: int, index: int, label: str) -> AiFindingRef:
    sop = UID.format(100 + study)
    return AiFindingRef(f"{model}@abcdefabcdef/{sop}/0/{index}", model, "1.0.0", "cd" * 32,
                        sop, 0, label, 0.7, "high_specificity", (10.0, 10.0, 40.0, 40.0),
                        (25.0, 25.0))


def _concordance(reading: Reading, pairs: list[Pair], cases: list[CaseComparison]
                 ) -> dict[str, object]:
    return Concordance(reading.study_instance_uid, reading.reading_id, tuple(pairs),
                       tuple(cases)).to_dict()


def _agreed(f: AiFindingRef) -> Pair:
    return Pair("agreed", f, "m1", 0.5, 2.0, None)


def _ai_only(f: AiFindingRef, decision: str | None) -> Pair:
    return Pair("ai_only", f, None, None, None, decision)  # type: ignore[arg-type]


def _case(model: str, agreement: str, scope: str = "study") -> CaseComparison:
    return CaseComparison(model, scope, "abnormal", 0.7, "positive", None,
                          agreement)  # type: ignore[arg-type]


def _mark(study: int, label: str) -> Mark:
    return Mark("m1", UID.format(100 + study), 0, "box", ((10.0, 10.0), (40.0, 40.0)), label)


def _double_read(store: ReadingStore, study: int, kind: str, label: str, *,
                 final: bool = True) -> Reading:
    """Blinded first read with one mark, signed; then (``final``) the final read, signed."""
    uid = UID.format(study)
    first = store.start(uid, "dr.martin", kind, blinded=True)  # type: ignore[arg-type]
    store.save(replace(first, marks=(_mark(study, label),)), "mark_added")
    store.sign(first.reading_id)
    if not final:
        return store.get(first.reading_id)  # type: ignore[return-value]
    draft = store.follow_up(first.reading_id, "final")
    store.save(replace(draft, ai_decisions=(AiDecision("k", "accepted"),)), "ai_decision")
    return store.sign(draft.reading_id)


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[ReadingStore]:
    """Five studies, hand-counted:

    1 bone, fracture_boxes: agreed 1, AI-only 2 (1 accepted, 1 dismissed), case agree
    2 bone, fracture_boxes: AI-only 1 (no decision), reader-only 1, cases agree + disagree
    3 cxr, unblinded first read, cxr_normality: agreed 1; case undetermined (doubt)
      + mammo_lesions on the same reading: AI-only 1 dismissed; cases agree (R), agree (L)
    4 cxr, blinded first read signed, no final yet: not a finished double read
    5 bone, final signed without a stored concordance: one row, no model
    """
    s = ReadingStore(tmp_path / "tandem.db")
    r1 = _double_read(s, 1, "bone", "fracture")
    fb = [_finding("fracture_boxes", 1, i, "fracture") for i in range(3)]
    s.save_concordance(r1.reading_id, _concordance(
        r1, [_agreed(fb[0]), _ai_only(fb[1], "accepted"), _ai_only(fb[2], "dismissed")],
        [_case("fracture_boxes", "agree", UID.format(101))]))
    r2 = _double_read(s, 2, "bone", "fracture")
    s.save_concordance(r2.reading_id, _concordance(
        r2, [_ai_only(_finding("fracture_boxes", 2, 0, "fracture"), None),
             Pair("reader_only", None, "m1", None, None, None)],
        [_case("fracture_boxes", "agree", "a"), _case("fracture_boxes", "disagree", "b")]))
    uid3 = UID.format(3)
    r3 = s.start(uid3, "dr.durand", "cxr", blinded=False)
    s.save(replace(r3, marks=(_mark(3, "nodule_mass"),),
                   assessment=Assessment(cxr="abnormal")), "mark_added")
    r3 = s.sign(r3.reading_id)
    s.save_concordance(r3.reading_id, _concordance(
        r3, [_agreed(_finding("cxr_normality", 3, 0, "abnormal")),
             _ai_only(_finding("mammo_lesions", 3, 0, "lesion"), "dismissed")],
        [_case("cxr_normality", "undetermined"), _case("mammo_lesions", "agree", "R"),
         _case("mammo_lesions", "agree", "L")]))
    _double_read(s, 4, "cxr", "nodule_mass", final=False)
    _double_read(s, 5, "bone", "fracture")
    s.record(UID.format(1), "dr.martin", "exported", {"what": "pdf", "path": "/tmp/x.pdf"})
    yield s
    s.close()


def _elapsed(store: ReadingStore, study: int) -> float:
    versions = store.versions(UID.format(study))
    end = datetime.fromisoformat(versions[-1].signed_at or "")
    return (end - datetime.fromisoformat(versions[0].started_at)).total_seconds()


def test_rows_one_per_finished_double_read_and_model(store: ReadingStore) -> None:
    rows = audit_rows(store, since=None, until=None)
    got = sorted((r.study_instance_uid[-1], r.model_id, r.agreed, r.ai_only, r.ai_only_accepted,
                  r.ai_only_dismissed, r.reader_only, r.case_agreement) for r in rows)
    assert got == [
        ("1", "fracture_boxes", 1, 2, 1, 1, 0, "agree"),
        ("2", "fracture_boxes", 0, 1, 0, 0, 1, "disagree"),
        ("3", "cxr_normality", 1, 0, 0, 0, 0, "undetermined"),
        ("3", "mammo_lesions", 0, 1, 0, 1, 0, "agree"),
        ("5", "", 0, 0, 0, 0, 0, ""),
    ]
    by_study = {r.study_instance_uid[-1]: r for r in rows}
    first_1 = store.versions(UID.format(1))[0]
    assert by_study["1"].started_at == first_1.started_at  # the first read's start
    assert by_study["1"].reader == "dr.martin" and by_study["3"].reader == "dr.durand"
    assert by_study["1"].kind == "bone" and by_study["3"].kind == "cxr"
    for study in ("1", "2", "3", "5"):
        assert by_study[study].seconds == pytest.approx(_elapsed(store, int(study)))
        assert (by_study[study].seconds or 0.0) > 0


def test_model_stats_match_the_hand_count(store: ReadingStore) -> None:
    stats = {s.model_id: s for s in model_stats(audit_rows(store, since=None, until=None))}
    assert sorted(stats) == ["cxr_normality", "fracture_boxes", "mammo_lesions"]
    fb = stats["fracture_boxes"]
    assert (fb.cases, fb.ai_only, fb.accepted, fb.dismissed) == (2, 3, 1, 1)
    assert fb.agreement_rate == pytest.approx(0.5)  # study 1 agrees, study 2 disagrees
    assert fb.median_seconds == pytest.approx(
        statistics.median([_elapsed(store, 1), _elapsed(store, 2)]))
    cxr = stats["cxr_normality"]
    assert (cxr.cases, cxr.ai_only, cxr.agreement_rate) == (1, 0, None)  # undetermined only
    mammo = stats["mammo_lesions"]
    assert (mammo.cases, mammo.ai_only, mammo.dismissed, mammo.agreement_rate) == (1, 1, 1, 1.0)


def test_period_bounds_are_inclusive_and_validated(store: ReadingStore) -> None:
    today = datetime.now(UTC).date()
    assert len(audit_rows(store, since=today.isoformat(), until=today.isoformat())) == 5
    tomorrow = (today + timedelta(days=1)).isoformat()
    yesterday = (today - timedelta(days=1)).isoformat()
    assert audit_rows(store, since=tomorrow, until=None) == []
    assert audit_rows(store, since=None, until=yesterday) == []
    with pytest.raises(ValueError, match="ISO 8601"):
        audit_rows(store, since="12/03/2025", until=None)


def test_csv_parses_back(store: ReadingStore, tmp_path: Path) -> None:
    rows = audit_rows(store, since=None, until=None)
    path = write_audit_csv(tmp_path / "audit" / "audit.csv", rows)
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    with path.open(encoding="utf-8-sig", newline="") as handle:
        back = list(csv.DictReader(handle, delimiter=";"))
    assert len(back) == len(rows) == 5
    assert list(back[0]) == ["study_instance_uid", "reading_id", "reader", "kind",
                             "started_at", "signed_at", "seconds", "model_id", "agreed",
                             "ai_only", "ai_only_accepted", "ai_only_dismissed",
                             "reader_only", "case_agreement"]
    for row, parsed in zip(rows, back, strict=True):
        assert parsed["study_instance_uid"] == row.study_instance_uid
        assert parsed["model_id"] == row.model_id
        assert int(parsed["ai_only"]) == row.ai_only
        assert int(parsed["seconds"]) == round(row.seconds or 0)
        assert datetime.fromisoformat(parsed["signed_at"]) == \
            datetime.fromisoformat(row.signed_at)


def test_csv_cells_whole_seconds_empty_none_and_no_formulas(tmp_path: Path) -> None:
    row = CaseRow("1.2.3", "r", "=HYPERLINK(\"x\")", "cxr", "2025-03-12T09:00:00+00:00",
                  "2025-03-12T09:02:31.600000+00:00", 151.6, "cxr_normality", 1, 0, 0, 0, 0,
                  "agree")
    blank = replace(row, seconds=None, reader="dr.martin")
    path = write_audit_csv(tmp_path / "a.csv", [row, blank])
    with path.open(encoding="utf-8-sig", newline="") as handle:
        back = list(csv.DictReader(handle, delimiter=";"))
    assert back[0]["seconds"] == "152" and back[1]["seconds"] == ""
    assert back[0]["reader"] == "'=HYPERLINK(\"x\")" and back[1]["reader"] == "dr.martin"
