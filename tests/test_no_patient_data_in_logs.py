"""No patient name, ID or birth date in Tandem's logs or crash reports after a full run at DEBUG.

The run goes through the real CLI entry (``app.cli.main``): import a folder of real DICOM
files (copied under neutral file names: paths are allowed in logs, and the corpus names some
folders after patient IDs), AI analysis of a chest radiograph, a reading stored, shown and
exported, then the PACS side against a real Orthanc: C-STORE, C-FIND (patient and study
level, with a patient-ID query), C-GET and C-MOVE into Tandem's storage SCP.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pydicom
import pytest
from orthanc import free_port, running_orthanc
from radiographs import dicom_from_picture

from app import logs
from app.cli import main
from imaging.paths import data_dir

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"
CORPUS = SHARED / "dicom"
CHEST_PICTURE = SHARED / "cxr" / "tb_normal" / "images" / "MCUCXR_0004_0.jpg"
# Real files whose patient fields look real (names with components, IDs, birth dates).
FILES = [
    "pydicom-data/RG3_J2KI.dcm",  # CR, CompressedSamples^RG3, 11RG3, born 19790408
    "pydicom-data/MR2_J2KI.dcm",  # MR, born 19500112
    "pydicom/examples_overlay.dcm",  # Sssssss^Jsssss, 021234567
    "pydicom/dicomdirtests/77654033/CR1/6154",  # Doe^Archibald, 77654033
    "pydicom/dicomdirtests/77654033/CR2/6247",
    "pydicom/dicomdirtests/98892001/CT5N/2062",  # Doe^Peter, 98890234
    "pydicom-data/bad_sequence.dcm",  # pseudonymised hashes, born 19910101
]
CHEST_PATIENT = ("DUPONT-LEFEVRE^Marie-Claire", "FR0093K4471", "19580214")
TANDEM_AE = "TANDEMLOGS"
MIN_TOKEN = 4  # shorter tokens ("G", "MR2") would match unrelated text


@pytest.fixture
def debug_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv(logs.LOG_LEVEL_ENV, "DEBUG")
    # app.cli sets logging up again at each command; the variable keeps it at DEBUG.
    path = logs.setup_logging(data_dir(), logging.DEBUG)
    assert path is not None
    yield path
    logs.teardown_logging()


def _patient_tokens(paths: list[Path]) -> set[str]:
    tokens: set[str] = set()
    for path in paths:
        ds = pydicom.dcmread(path, stop_before_pixels=True, force=True)
        name = str(ds.get("PatientName", "") or "")
        values = [name, str(ds.get("PatientID", "") or ""),
                  str(ds.get("PatientBirthDate", "") or "")]
        values += re.split(r"[\^=\s]+", name)
        tokens |= {v.strip().lower() for v in values if len(v.strip()) >= MIN_TOKEN}
    return tokens


def _uids(paths: list[Path]) -> set[str]:
    found = set()
    for path in paths:
        ds = pydicom.dcmread(path, stop_before_pixels=True, force=True)
        found |= {str(ds.get(k, "")) for k in ("StudyInstanceUID", "SeriesInstanceUID",
                                               "SOPInstanceUID")}
    return found


def _chest_dicom(folder: Path) -> Path:
    path = dicom_from_picture(CHEST_PICTURE, folder / "in_chest.dcm", body_part="CHEST",
                              view="PA", spacing_mm=0.7)
    ds = pydicom.dcmread(path)
    ds.PatientName, ds.PatientID, ds.PatientBirthDate = CHEST_PATIENT
    ds.PatientAge = "066Y"
    ds.save_as(path, enforce_file_format=True)
    return path


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code = main(list(args))
    out = capsys.readouterr().out
    assert code == 0, f"tandem {' '.join(args)} -> {code}\n{out}"
    return out


def test_full_run_leaves_no_patient_data_in_logs(tmp_path: Path, debug_logging: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    incoming = tmp_path / "in"
    incoming.mkdir()
    files = []
    for n, name in enumerate(FILES):
        files.append(incoming / f"file{n:02d}.dcm")
        shutil.copyfile(CORPUS / name, files[-1])
    chest = _chest_dicom(incoming)
    files.append(chest)
    tokens = _patient_tokens(files)
    assert {"doe^archibald", "77654033", "19790408", "marie-claire", "dupont-lefevre"} <= tokens
    # A token inside a UID would be a false alarm (UIDs are allowed in logs): none is.
    uids = " ".join(_uids(files)).lower()
    assert not [t for t in tokens if t in uids]

    study = str(pydicom.dcmread(chest, stop_before_pixels=True).StudyInstanceUID)
    other = str(pydicom.dcmread(files[0], stop_before_pixels=True).StudyInstanceUID)
    port = free_port()
    with running_orthanc(tmp_path / "orthanc", TANDEM_AE, port) as orthanc:
        node = orthanc.node
        _run(capsys, "pacs", "local", "--aet", TANDEM_AE, "--port", str(port))
        _run(capsys, "pacs", "add", "pacs", "--aet", node.ae_title, "--host", node.host,
             "--port", str(node.port), "--dicomweb", str(node.dicomweb_url))
        _run(capsys, "pacs", "echo", "pacs")
        _run(capsys, "pacs", "send", "pacs", *map(str, files))
        _run(capsys, "pacs", "find", "pacs", "--level", "PATIENT", "--json")
        found = json.loads(_run(capsys, "pacs", "find", "pacs", "--patient-id",
                                CHEST_PATIENT[1], "--json"))
        assert [m["study_instance_uid"] for m in found] == [study]
        by_name = json.loads(_run(capsys, "pacs", "find", "pacs", "--dicomweb", "--patient-name",
                                  CHEST_PATIENT[0].split("^")[0] + "*", "--json"))
        assert [m["study_instance_uid"] for m in by_name] == [study]  # QIDO: name in the URL
        _run(capsys, "pacs", "retrieve", "pacs", study, "--method", "wado")
        _run(capsys, "pacs", "retrieve", "pacs", study, "--method", "get")
        _run(capsys, "pacs", "retrieve", "pacs", other, "--method", "move")

    imported = json.loads(_run(capsys, "import", str(incoming), "--copy", "--json"))
    assert imported["new"] == len(files) - 2, imported  # two came in from the PACS
    analysis = json.loads(_run(capsys, "analyze", str(chest), "--json"))
    assert "cxr_normality" in json.dumps(analysis)
    sop = str(pydicom.dcmread(chest, stop_before_pixels=True).SOPInstanceUID)
    reading = tmp_path / "reading.json"
    reading.write_text(json.dumps({
        "kind": "cxr", "state": "signed", "assessment": {"cxr": "abnormal"},
        "marks": [{"id": "m1", "sop_instance_uid": sop, "frame": 0, "shape": "box",
                   "points": [[100, 100], [160, 160]], "label": "nodule_mass",
                   "confidence": "definite"}],
        "text": "Opacité apicale droite."}), encoding="utf-8")
    _run(capsys, "reading", "import", study, str(reading))
    _run(capsys, "reading", "show", study, "--json")
    _run(capsys, "export", study, "--sr", str(tmp_path / "sr"), "--pdf",
         str(tmp_path / "report.pdf"))

    for handler in logging.getLogger().handlers:
        handler.flush()
    written = [p for folder in ("logs", "crash") for p in (data_dir() / folder).rglob("*")
               if p.is_file()]
    assert debug_logging in written
    text = "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in written)
    assert len(text.splitlines()) >= 2 and "log level DEBUG" in text, text
    leaks = {t: [line for line in text.splitlines() if t in line.lower()][:3]
             for t in sorted(tokens) if t in text.lower()}
    assert not leaks, f"patient data in the logs: {leaks}"
