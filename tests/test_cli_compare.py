"""``tandem compare``: a study from the database, the models run (and cached), the newest reading.

Real films: a mini-MIAS woman (right film with an asymmetry, left film normal) and a
JSRT nodule case, written as DICOM into one study each and imported.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pydicom
import pytest
from pydicom.uid import generate_uid
from radiographs import dicom_from_picture

from app.cli_compare import run_compare
from app.cli_study import resolve_study
from imaging.db import StudyDatabase
from inference.cache import ResultCache
from inference.engine import AnalysisEngine
from inference.registry import ModelRegistry
from reading.concordance import ai_findings, compare
from reading.model import Reading
from reading.store import ReadingStore
from reading.study_ai import study_images, study_results

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "datasets"
MIAS = SHARED / "mammo" / "mini_mias"


def _one_study(files: list[Path]) -> None:
    """Give the files one Study Instance UID (dicom_from_picture makes one per file)."""
    study = generate_uid()
    for path in files:
        ds = pydicom.dcmread(path)
        ds.StudyInstanceUID, ds.PatientID = study, "MIAS-38"
        ds.save_as(path)


@pytest.fixture()
def mammo_study(tmp_path: Path) -> tuple[StudyDatabase, str, dict[str, str]]:
    """(database, study UID, {"R": SOP UID, "L": SOP UID}) for mdb075 (R) / mdb076 (L)."""
    folder = tmp_path / "mammo"
    folder.mkdir()
    files = [dicom_from_picture(MIAS / "images" / f"{ref}.jpg", folder / f"{ref}.dcm",
                                modality="MG", body_part="BREAST", view="MLO", laterality=side,
                                spacing_mm=0.4) for ref, side in (("mdb075", "R"), ("mdb076", "L"))]
    _one_study(files)
    db = StudyDatabase()
    uid = resolve_study(db, str(folder))
    sops = {pydicom.dcmread(f).ImageLaterality: pydicom.dcmread(f).SOPInstanceUID for f in files}
    return db, uid, sops


def _mias_lesion() -> tuple[float, float, float, float]:
    with (MIAS / "labels.csv").open(newline="", encoding="utf-8") as f:
        row = next(r for r in csv.DictReader(f) if r["ref"] == "mdb075")
    return tuple(float(row[k]) for k in ("x_min", "y_min", "x_max", "y_max"))  # type: ignore


def _reading(uid: str, sops: dict[str, str], state: str = "draft") -> Reading:
    x0, y0, x1, y1 = _mias_lesion()
    return Reading.from_dict({
        "reading_id": "read-1", "study_instance_uid": uid, "reader": "dr.test",
        "kind": "mammo", "state": state,
        "marks": [{"id": "lesion", "sop_instance_uid": sops["R"], "frame": 0,
                   "shape": "ellipse", "points": [[x0, y0], [x1, y1]], "label": "asymmetry"},
                  {"id": "elsewhere", "sop_instance_uid": "1.2.3.4", "frame": 0,
                   "shape": "point", "points": [[10, 10]], "label": "mass"}],
        "assessment": {"breasts": {"R": {"birads": 4, "density": "b"},
                                   "L": {"birads": 1, "density": "b"}}}})


def test_unknown_study_and_missing_reading_exit_2(
        mammo_study: tuple[StudyDatabase, str, dict[str, str]],
        capsys: pytest.CaptureFixture[str]) -> None:
    _, uid, _ = mammo_study
    assert run_compare("9.9.9.9", as_json=True, models_dir=None) == 2
    assert "no study" in capsys.readouterr().err
    assert run_compare(uid, as_json=True, models_dir=None) == 2
    err = capsys.readouterr().err
    assert "has no reading" in err and "tandem reading import" in err


def test_draft_is_compared_not_stored_signed_is_stored(
        mammo_study: tuple[StudyDatabase, str, dict[str, str]],
        capsys: pytest.CaptureFixture[str]) -> None:
    db, uid, sops = mammo_study
    store = ReadingStore(db.path)
    stored = store.import_reading(_reading(uid, sops))
    assert run_compare(uid[:20], as_json=True, models_dir=None) == 0  # a unique UID prefix
    out = json.loads(capsys.readouterr().out)
    assert out["reading_state"] == "draft" and out["stored"] is False
    assert store.concordance(stored.reading_id) is None
    # The same comparison, computed from the library with the engine's own results.
    engine = AnalysisEngine(ModelRegistry([REPO / "onnx_models"]))
    results = study_results(db, uid, engine, None)
    images = study_images(db, uid)
    assert {i.laterality for i in images} == {"R", "L"} and {i.mm_per_px for i in images} == {0.4}
    expected = compare(stored, results, mm_per_px={i.sop_instance_uid: 0.4 for i in images},
                       laterality={i.sop_instance_uid: i.laterality for i in images})
    assert out["counts"] == expected.counts()
    assert out["counts"]["agreed"] + out["counts"]["reader_only"] == 1  # the lesion mark
    assert out["uncompared_marks"] == ["elsewhere"]  # its image is not in the study
    assert sorted((c["scope"], c["reader"]) for c in out["cases"]) == [
        ("L", "BI-RADS 1"), ("R", "BI-RADS 4")]
    assert all(1 <= c["ai_scale"] <= 10 for c in out["cases"])
    # Signed: the concordance is stored with that version and audited.
    store.sign(stored.reading_id)
    assert run_compare(uid, as_json=False, models_dir=None) == 0
    text = capsys.readouterr().out
    assert "agreed" in text and "not compared" in text and "BI-RADS 4" in text
    saved = store.concordance(stored.reading_id)
    assert saved is not None and saved["counts"] == expected.counts()
    assert saved["reading_id"] == stored.reading_id
    assert [e.action for e in store.audit(study_uid=uid)][-1] == "concordance"
    store.close()
    db.close()


def test_cached_heatmap_results_give_the_same_findings(tmp_path: Path) -> None:
    """A chest study: the second run reads the cache (with the heatmap arrays the chest
    finding's region needs) and finds the same AI finding."""
    with (SHARED / "cxr" / "jsrt" / "labels.csv").open(newline="", encoding="utf-8") as f:
        row = next(r for r in csv.DictReader(f) if r["patient_id"] == "JPCLN018")
    dicom = dicom_from_picture(SHARED / "cxr" / "jsrt" / row["file"], tmp_path / "c.dcm",
                               body_part="CHEST", view="PA", spacing_mm=1.6)
    with StudyDatabase() as db:
        uid = resolve_study(db, str(dicom))
        engine = AnalysisEngine(ModelRegistry([REPO / "onnx_models"]))
        cache = ResultCache(tmp_path / "cache")
        first = study_results(db, uid, engine, cache)
        analyzed: list[str] = []
        run = engine.analyze

        def counting(source, model_id, **kwargs):
            analyzed.append(model_id)
            return run(source, model_id, **kwargs)

        engine.analyze = counting  # type: ignore[method-assign]
        second = study_results(db, uid, engine, cache)
    assert [r.model_id for r in first] == [r.model_id for r in second]
    ran = [r for r in first if r.applicable and not r.reason]
    assert [r.model_id for r in ran] == ["cxr_normality"]
    assert "cxr_normality" not in analyzed and analyzed  # read from the cache; others re-checked
    findings = ai_findings(first)
    assert len(findings) == 1 and findings == ai_findings(second)
    assert next(r for r in second if r.model_id == "cxr_normality").case_scores == (
        ran[0].case_scores)
