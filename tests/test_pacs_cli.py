"""``tandem pacs ...`` end to end against a real Orthanc (parsers from app.cli_pacs)."""

from __future__ import annotations

import argparse
import json

import pydicom
import pytest
from conftest import DICOM_CORPUS
from orthanc import Orthanc, free_port, module_orthanc

from app.cli_pacs import add_pacs_parsers, run_pacs
from imaging.db import StudyDatabase

TANDEM_AE = "TANDEMCLI"
CT_STUDY = sorted((DICOM_CORPUS / "dcmqi" / "ct-3slice").glob("*.dcm"))


orthanc = module_orthanc(TANDEM_AE, CT_STUDY)


def tandem_pacs(*args: str) -> int:
    parser = argparse.ArgumentParser(prog="tandem")
    add_pacs_parsers(parser.add_subparsers(dest="command", required=True))
    return run_pacs(parser.parse_args(["pacs", *args]))


@pytest.fixture
def configured(orthanc: Orthanc, tandem_port: int) -> None:
    assert tandem_pacs("add", "main", "--aet", "ORTHANC", "--host", "127.0.0.1",
                       "--port", str(orthanc.dicom_port)) == 0
    assert tandem_pacs("local", "--aet", TANDEM_AE, "--port", str(tandem_port)) == 0


def test_add_list_echo_find(configured: None, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert tandem_pacs("list", "--json") == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["local"] == {"ae_title": TANDEM_AE, "port": listed["local"]["port"]}
    assert [n["name"] for n in listed["nodes"]] == ["main"]
    assert tandem_pacs("echo", "main") == 0
    assert "C-ECHO ok" in capsys.readouterr().out
    assert tandem_pacs("find", "main", "--patient-id", "99000", "--modality", "ct",
                       "--date", "20030101-20031231", "--json") == 0
    [study] = json.loads(capsys.readouterr().out)
    assert (study["patient_name"], study["instances"]) == ("JANCT000", 3)


@pytest.mark.parametrize("method", ["move", "get"])
def test_retrieve_files_the_study(configured: None, method: str,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    study_uid = str(pydicom.dcmread(CT_STUDY[0], stop_before_pixels=True).StudyInstanceUID)
    assert tandem_pacs("retrieve", "main", study_uid, "--method", method, "--json") == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["completed"], result["received"]) == (3, 3)
    with StudyDatabase() as db:
        assert [s.instance_count for s in db.studies()] == [3]


def test_send_reports_each_file(configured: None, capsys: pytest.CaptureFixture[str]) -> None:
    sr = DICOM_CORPUS / "pydicom" / "test-SR.dcm"
    junk = DICOM_CORPUS / "bad" / "zero_bytes.dcm"
    assert tandem_pacs("send", "main", str(sr), str(junk), "--json") == 2
    outcomes = json.loads(capsys.readouterr().out)
    assert [o["ok"] for o in outcomes] == [True, False]


def test_errors_are_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert tandem_pacs("echo", "nowhere") == 2
    assert "no PACS node named 'nowhere'" in capsys.readouterr().err
    assert tandem_pacs("add", "bad", "--aet", "X" * 17, "--host", "h", "--port", "1") == 2
    assert "longer than 16" in capsys.readouterr().err
    assert tandem_pacs("add", "closed", "--aet", "X", "--host", "127.0.0.1",
                       "--port", str(free_port())) == 0
    assert tandem_pacs("echo", "closed") == 2
    assert tandem_pacs("find", "closed") == 2
    err = capsys.readouterr().err
    assert "connection refused" in err and "Traceback" not in err


def test_dicomweb_find_retrieve_and_send(orthanc: Orthanc, configured: None,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert tandem_pacs("add", "web", "--aet", "ORTHANC", "--host", "127.0.0.1", "--port",
                       str(orthanc.dicom_port), "--dicomweb", str(orthanc.node.dicomweb_url)) == 0
    capsys.readouterr()
    assert tandem_pacs("find", "web", "--patient-id", "99000", "--modality", "ct",
                       "--date", "20030101-20031231", "--json", "--dicomweb") == 0
    [study] = json.loads(capsys.readouterr().out)
    assert (study["patient_name"], study["instances"]) == ("JANCT000", 3)
    assert tandem_pacs("find", "web", "--patient-id", "nobody", "--json", "--dicomweb") == 0
    assert json.loads(capsys.readouterr().out) == []
    assert tandem_pacs("find", "web", "--level", "series", "--study",
                       study["study_instance_uid"], "--dicomweb") == 0
    out = capsys.readouterr()
    assert "(3 images)" in out.out and "1 match(es)" in out.err
    assert tandem_pacs("retrieve", "web", study["study_instance_uid"], "--method", "wado",
                       "--json") == 0
    result = json.loads(capsys.readouterr().out)
    assert (result["method"], result["completed"], result["received"]) == ("wado", 3, 3)
    with StudyDatabase() as db:
        assert [s.instance_count for s in db.studies()] == [3]
    sr = DICOM_CORPUS / "pydicom" / "test-SR.dcm"
    junk = DICOM_CORPUS / "bad" / "zero_bytes.dcm"
    assert tandem_pacs("send", "web", str(sr), str(junk), "--dicomweb") == 2
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["OK", "ERROR"]
    assert tandem_pacs("find", "main", "--dicomweb") == 2
    err = capsys.readouterr().err
    assert "no DICOMweb URL configured" in err and "Traceback" not in err
