"""Tandem's results go back to the PACS: ``tandem export --sr --pdf --send NODE`` against a real
Orthanc. Every file sent (reader SR, AI SR, GSPS, the report as Encapsulated PDF) is read out of
Orthanc again and compared byte for byte; the PDF inside the DICOM is the PDF written.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pydicom
import pytest
from orthanc import Orthanc, free_port, running_orthanc
from test_reading_sr import dciodvfy

from app.cli import main
from imaging.db import StudyDatabase
from reading.model import Assessment, Mark, Reading
from reading.pdf_dicom import ENCAPSULATED_PDF_STORAGE
from reading.store import ReadingStore

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"
FRACATLAS = SHARED / "fracture" / "fracatlas"


@pytest.fixture()
def orthanc(tmp_path: Path) -> Iterator[Orthanc]:
    with running_orthanc(tmp_path / "orthanc", "TANDEMTEST", free_port()) as o:
        yield o


@pytest.fixture()
def signed_hand(tmp_path: Path) -> tuple[Path, str]:
    """A FracAtlas hand radiograph as DICOM with a signed reading (one fracture box)."""
    from radiographs import dicom_from_picture

    path = dicom_from_picture(FRACATLAS / "images" / "IMG0000019.jpg", tmp_path / "hand.dcm",
                              body_part="HAND", view="PA", spacing_mm=0.1,
                              patient="MARTIN^PAUL")
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    study, sop = str(ds.StudyInstanceUID), str(ds.SOPInstanceUID)
    assert main(["import", str(path)]) == 0
    reading = Reading("r-send", study, "dr.martin", "bone", blinded=False,
                      marks=(Mark("m1", sop, 0, "box", ((300.0, 200.0), (360.0, 260.0)),
                                  "fracture", "definite"),),
                      assessment=Assessment(fracture_by_image={sop: True}))
    with StudyDatabase() as db:
        store = ReadingStore(db.path)
        store.import_reading(reading)
        store.sign("r-send")
        store.close()
    return path, study


def test_export_sends_sr_gsps_and_pdf_back_to_orthanc(
        orthanc: Orthanc, signed_hand: tuple[Path, str], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    _image, study = signed_hand
    node = orthanc.node
    assert main(["pacs", "add", "orthanc", "--aet", node.ae_title, "--host", node.host,
                 "--port", str(node.port)]) == 0
    out_dir, pdf = tmp_path / "export", tmp_path / "report.pdf"
    assert main(["export", study, "--sr", str(out_dir), "--pdf", str(pdf), "--lang", "fr",
                 "--send", "orthanc"]) == 0
    printed = capsys.readouterr().out
    files = sorted(out_dir.iterdir())
    names = [p.name for p in files]
    assert "PDF_report_v1.dcm" in names and "SR_reader_v1.dcm" in names
    assert "GSPS_reader_v1.dcm" in names and any(n.startswith("SR_ai_") for n in names)

    # the encapsulated report: a valid IOD in the images' study, holding the very PDF
    report = pydicom.dcmread(out_dir / "PDF_report_v1.dcm")
    assert report.SOPClassUID == ENCAPSULATED_PDF_STORAGE
    assert report.StudyInstanceUID == study and report.PatientName == "MARTIN^PAUL"
    assert report.MIMETypeOfEncapsulatedDocument == "application/pdf"
    length = int(report.EncapsulatedDocumentLength)
    assert bytes(report.EncapsulatedDocument)[:length] == pdf.read_bytes()
    assert report.VerificationFlag == "VERIFIED"
    dciodvfy(out_dir / "PDF_report_v1.dcm")

    # each file is in Orthanc, byte for byte, filed in the same study as the image
    for path in files:
        assert f"sent {path} to orthanc" in printed
        sop = str(pydicom.dcmread(path, stop_before_pixels=True).SOPInstanceUID)
        stored = orthanc.get(f"/instances/{orthanc.instance_id(sop)}/file")
        assert pydicom.dcmread(_bytes_file(tmp_path, stored)).SOPInstanceUID == sop
        assert _dataset_bytes(stored) == _dataset_bytes(path.read_bytes()), path.name
    studies = orthanc.get_json("/studies?expand")
    assert [s["MainDicomTags"]["StudyInstanceUID"] for s in studies] == [study]
    assert len(orthanc.get_json(f"/studies/{studies[0]['ID']}/instances")) == len(files)

    # each accepted file is in the audit trail
    with StudyDatabase() as db:
        store = ReadingStore(db.path)
        sent = [e for e in store.audit(study_uid=study) if e.action == "sent"]
        assert store.verify_audit() == []
        store.close()
    assert sorted(Path(e.detail["path"]).name for e in sent) == names
    assert {e.detail["node"] for e in sent} == {"orthanc"}


def test_send_to_an_unknown_node_is_a_clear_error(
        signed_hand: tuple[Path, str], tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    _, study = signed_hand
    assert main(["export", study, "--sr", str(tmp_path / "x"), "--send", "nowhere"]) == 1
    err = capsys.readouterr().err
    assert "not sent" in err and "nowhere" in err
    assert main(["export", study, "--pdf", str(tmp_path / "r.pdf"), "--send", "nowhere"]) == 2
    assert "--send needs --sr" in capsys.readouterr().err
    listed = json.loads(_run_json(["pacs", "list", "--json"], capsys))
    assert listed["nodes"] == []


def _run_json(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    assert main(args) == 0
    return capsys.readouterr().out


def _bytes_file(folder: Path, data: bytes) -> Path:
    path = folder / "from_orthanc.dcm"
    path.write_bytes(data)
    return path


def _dataset_bytes(data: bytes) -> bytes:
    """The data set after the File Meta Information: Orthanc rewrites the meta header (its own
    implementation UID and source AE) but must keep the data set itself as sent."""
    meta_length = int.from_bytes(data[140:144], "little")  # (0002,0000) UL value
    return data[144 + meta_length:]
