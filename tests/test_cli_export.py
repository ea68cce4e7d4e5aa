"""``tandem export`` and ``tandem audit`` end to end on a real FracAtlas hand radiograph.

The bundled fracture model runs once (then comes from the result cache); the reading is
stored as a draft, exported (warning, "draft" watermark), signed, compared, exported
again (SR + GSPS + PDF, audit "exported" events) and audited.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pydicom
import pytest
from pypdf import PdfReader

from app.cli import main
from imaging.db import StudyDatabase
from reading.model import Assessment, Mark, Reading
from reading.store import ReadingStore

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"
FRACATLAS = SHARED / "fracture" / "fracatlas"


def _truth_box() -> tuple[float, float, float, float]:
    with (FRACATLAS / "labels.csv").open(encoding="utf-8") as handle:
        row = next(r for r in csv.DictReader(handle) if r["image_id"] == "IMG0000019")
    return (float(row["x_min"]), float(row["y_min"]), float(row["x_max"]), float(row["y_max"]))


def _pdf_text(path: Path) -> tuple[int, str]:
    reader = PdfReader(path)
    return len(reader.pages), " ".join(" ".join(p.extract_text() or "" for p in reader.pages)
                                       .split())


@pytest.fixture()
def hand(tmp_path: Path) -> tuple[Path, str, str]:
    from radiographs import dicom_from_picture

    folder = tmp_path / "in"
    folder.mkdir()
    path = dicom_from_picture(FRACATLAS / "images" / "IMG0000019.jpg", folder / "hand.dcm",
                              body_part="HAND", view="PA", spacing_mm=0.1,
                              patient="MARTIN^PAUL")
    ds = pydicom.dcmread(path)
    return path, str(ds.StudyInstanceUID), str(ds.SOPInstanceUID)


def test_export_draft_then_signed_and_audit(hand: tuple[Path, str, str], tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    path, study, sop = hand
    x0, y0, x1, y1 = _truth_box()
    reading = Reading("r-hand-1", study, "dr.martin", "bone", blinded=False,
                      marks=(Mark("m1", sop, 0, "box", ((x0, y0), (x1, y1)), "fracture",
                                  "definite"),),
                      assessment=Assessment(fracture_by_image={sop: True}))
    with StudyDatabase() as db:
        store = ReadingStore(db.path)
        store.import_reading(reading)
        store.close()

    # 1. a draft only: exported with a warning and the watermark
    draft_pdf = tmp_path / "out" / "draft.pdf"
    assert main(["export", str(path), "--pdf", str(draft_pdf)]) == 0
    out = capsys.readouterr()
    assert "not signed" in out.err and f"wrote {draft_pdf}" in out.out
    pages, words = _pdf_text(draft_pdf)
    assert pages == 1 and "BROUILLON — non signé" in words and "Fracture" in words

    # 2. signed and compared: SR, GSPS and PDF, each recorded in the audit trail
    with StudyDatabase() as db:
        store = ReadingStore(db.path)
        store.sign("r-hand-1")
        store.close()
    assert main(["compare", study, "--json"]) == 0
    compared = json.loads(capsys.readouterr().out)
    sr_dir, pdf = tmp_path / "out" / "sr", tmp_path / "out" / "report.pdf"
    assert main(["export", study[:30], "--sr", str(sr_dir), "--pdf", str(pdf),
                 "--lang", "en"]) == 0
    out = capsys.readouterr()
    assert "not signed" not in out.err
    written = sorted(p.name for p in sr_dir.iterdir())
    assert "SR_reader_v1.dcm" in written and "GSPS_reader_v1.dcm" in written
    assert any(name.startswith("SR_ai_fracture_boxes_") for name in written)
    counts = compared["counts"]
    assert (f"agreed {counts['agreed']}, AI-only {counts['ai_only']}, "
            f"reader-only {counts['reader_only']}") in out.out
    pages, words = _pdf_text(pdf)
    assert pages == 1 and "DRAFT" not in words
    for expected in ("Double-reading report", "MARTIN Paul", "Fracture", "definite",
                     "Research use only — not for clinical use", "Key images", "DX HAND PA",
                     f"agreed: {counts['agreed']}", f"AI only (possible miss): "
                     f"{counts['ai_only']}"):
        assert expected in words, expected
    with StudyDatabase() as db:
        store = ReadingStore(db.path)
        exported = [e for e in store.audit(study_uid=study) if e.action == "exported"]
        assert store.verify_audit() == []
        store.close()
    recorded = {(e.detail["what"], Path(e.detail["path"]).name) for e in exported}
    assert ("pdf", "draft.pdf") in recorded and ("pdf", "report.pdf") in recorded
    assert ("gsps", "GSPS_reader_v1.dcm") in recorded and ("sr", "SR_reader_v1.dcm") in recorded

    # 3. the audit: one unblinded double read against the fracture model
    csv_path = tmp_path / "out" / "audit.csv"
    assert main(["audit", "--csv", str(csv_path), "--json"]) == 0
    audit = json.loads(capsys.readouterr().out)
    assert audit["readings"] == 1
    models = {m["model_id"]: m for m in audit["models"]}
    assert models["fracture_boxes"]["cases"] == 1
    assert models["fracture_boxes"]["ai_only"] == counts["ai_only"]
    with csv_path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter=";"))
    assert [(r["study_instance_uid"], r["model_id"], int(r["agreed"])) for r in rows] == [
        (study, "fracture_boxes", counts["agreed"])]
    assert main(["audit"]) == 0
    assert "fracture_boxes" in capsys.readouterr().out


def test_export_usage_errors(hand: tuple[Path, str, str], tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    path, _, _ = hand
    assert main(["export", str(path)]) == 2
    assert "nothing to write" in capsys.readouterr().err
    assert main(["export", "9.9.9.9", "--pdf", str(tmp_path / "x.pdf")]) == 2
    assert "no study" in capsys.readouterr().err
    assert main(["export", str(path), "--pdf", str(tmp_path / "x.pdf")]) == 2
    assert "has no reading yet" in capsys.readouterr().err
    assert not (tmp_path / "x.pdf").exists()
    assert main(["audit", "--since", "12/03/2025"]) == 2
    assert "ISO 8601" in capsys.readouterr().err


def test_blinded_first_read_in_draft_exports_no_ai(hand: tuple[Path, str, str], tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """The reader has not seen the AI yet: neither the PDF nor the SR folder may show it."""
    path, study, sop = hand
    sha = json.loads((Path(__file__).resolve().parents[1] / "onnx_models" / "fracture_boxes"
                      / "manifest.json").read_text(encoding="utf-8"))["artifact"]["sha256"]
    reading = Reading("r-hand-blind", study, "dr.martin", "bone", blinded=True,
                      assessment=Assessment(fracture_by_image={sop: False}))
    with StudyDatabase() as db:
        store = ReadingStore(db.path)
        store.import_reading(reading)
        store.close()
    pdf, sr_dir = tmp_path / "blind.pdf", tmp_path / "sr"
    assert main(["export", str(path), "--pdf", str(pdf), "--sr", str(sr_dir)]) == 0
    assert "without the AI" in capsys.readouterr().err
    _, words = _pdf_text(pdf)
    assert sha[:12] not in words
    assert sorted(p.name for p in sr_dir.iterdir()) == ["PDF_report_v1.dcm", "SR_reader_v1.dcm"]

    with StudyDatabase() as db:  # once signed, the same export carries the AI
        store = ReadingStore(db.path)
        store.sign("r-hand-blind")
        store.close()
    assert main(["export", str(path), "--pdf", str(pdf)]) == 0
    assert sha[:12] in _pdf_text(pdf)[1]
