"""C-ECHO, C-FIND, C-MOVE, C-GET and C-STORE against a real Orthanc started on loopback."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pydicom
import pytest
from conftest import DICOM_CORPUS
from orthanc import Orthanc, dicom_files, free_port, module_orthanc, study_uid

from imaging.db import StudyDatabase
from pacs import dimse
from pacs.dimse import FindQuery
from pacs.errors import PacsError
from pacs.nodes import LocalAE, PacsNode
from pacs.retrieve import retrieve_study

TANDEM_AE = "TANDEMTEST"
CT_STUDY = DICOM_CORPUS / "dcmqi" / "ct-3slice"  # patient 99000, 3 CT slices 512x512
PATIENT_2 = DICOM_CORPUS / "pydicom" / "dicomdirtests" / "77654033"  # CR study + CT study


orthanc = module_orthanc(TANDEM_AE, dicom_files(CT_STUDY) + dicom_files(PATIENT_2))


@pytest.fixture
def db(tmp_path: Path) -> Iterator[StudyDatabase]:
    with StudyDatabase(tmp_path / "data" / "studies.sqlite") as database:
        yield database


def test_echo_ok(orthanc: Orthanc) -> None:
    result = dimse.echo(orthanc.node, calling_ae=TANDEM_AE)
    assert result.ok, result.message
    assert 0 < result.ms < 2000


def test_echo_on_a_closed_port_fails_fast_naming_the_node() -> None:
    node = PacsNode("nowhere", "NOBODY", "127.0.0.1", free_port())
    started = time.monotonic()
    result = dimse.echo(node, calling_ae=TANDEM_AE)
    assert time.monotonic() - started < 5
    assert not result.ok
    assert "'nowhere'" in result.message and "connection refused" in result.message
    with pytest.raises(PacsError, match=r"nowhere.*connection refused"):
        dimse.find(node, "STUDY", calling_ae=TANDEM_AE)


def test_find_patient_level(orthanc: Orthanc) -> None:
    matches = dimse.find(orthanc.node, "PATIENT", FindQuery(patient_name="Doe*"),
                         calling_ae=TANDEM_AE)
    assert [(m.patient_id, m.patient_name, m.studies) for m in matches] == [
        ("77654033", "Doe^Archibald", 2)]
    with pytest.raises(ValueError, match="STUDY or SERIES"):
        dimse.find(orthanc.node, "PATIENT", FindQuery(modality="CT"), calling_ae=TANDEM_AE)


def test_find_study_level_with_filters(orthanc: Orthanc) -> None:
    node = orthanc.node
    both = dimse.find(node, "STUDY", FindQuery(patient_id="77654033"), calling_ae=TANDEM_AE)
    assert sorted(m.study_date for m in both) == ["19950903", "20010101"]
    cr = dimse.find(node, "STUDY", FindQuery(patient_id="77654033", date_from="20000101",
                                             date_to="20021231"), calling_ae=TANDEM_AE)
    assert len(cr) == 1
    assert (cr[0].modalities, cr[0].series, cr[0].instances) == (("CR",), 3, 3)
    assert cr[0].study_instance_uid == study_uid(dicom_files(PATIENT_2 / "CR1")[0])
    ct = dimse.find(node, "STUDY", FindQuery(modality="CT"), calling_ae=TANDEM_AE)
    assert sorted((m.patient_id, m.instances) for m in ct) == [("77654033", 4), ("99000", 3)]
    by_accession = dimse.find(node, "STUDY", FindQuery(accession_number="03086212"),
                              calling_ae=TANDEM_AE)
    assert [m.patient_name for m in by_accession] == ["JANCT000"]


def test_find_series_level(orthanc: Orthanc) -> None:
    study = study_uid(dicom_files(PATIENT_2 / "CR1")[0])
    series = dimse.find(orthanc.node, "SERIES", FindQuery(study_instance_uid=study),
                        calling_ae=TANDEM_AE)
    assert len(series) == 3
    assert {(s.modalities, s.instances) for s in series} == {(("CR",), 1)}
    assert len({s.series_instance_uid for s in series}) == 3


def _assert_study_filed(db: StudyDatabase, originals: list[Path]) -> None:
    """The study is in ``db`` with the originals' SOP UIDs and pixel bytes."""
    by_sop = {str(pydicom.dcmread(p).SOPInstanceUID): pydicom.dcmread(p) for p in originals}
    [study] = db.studies()
    assert study.instance_count == len(originals)
    headers = [h for s in db.series(study.study_instance_uid)
               for h in db.series_headers(s.series_instance_uid)]
    assert {h.sop_instance_uid for h in headers} == set(by_sop)
    for h in headers:
        assert h.path.is_relative_to(db.storage_dir)
        stored = pydicom.dcmread(h.path)
        original = by_sop[h.sop_instance_uid]
        assert stored.PixelData == original.PixelData
        assert (h.rows, h.columns) == (original.Rows, original.Columns)
    assert db.integrity_check() == "ok"
    assert not list((db.storage_dir / ".incoming").glob("*.part"))


def test_retrieve_by_c_get(orthanc: Orthanc, db: StudyDatabase) -> None:
    seen: list[tuple[int, int | None]] = []
    result = dimse.retrieve_get(orthanc.node, study_uid(dicom_files(CT_STUDY)[0]), db,
                                calling_ae=TANDEM_AE, progress=lambda d, t: seen.append((d, t)))
    assert (result.completed, result.failed, result.received, result.status) == (3, 0, 3, 0)
    assert seen and seen[-1][1] == 3
    _assert_study_filed(db, dicom_files(CT_STUDY))


def test_retrieve_by_c_move(orthanc: Orthanc, db: StudyDatabase, tandem_port: int) -> None:
    local = LocalAE(TANDEM_AE, tandem_port)
    result = retrieve_study(orthanc.node, study_uid(dicom_files(PATIENT_2 / "CT2")[0]), db,
                            method="move", local=local, listen_host="127.0.0.1")
    assert (result.completed, result.failed, result.received, result.status) == (4, 0, 4, 0)
    _assert_study_filed(db, dicom_files(PATIENT_2 / "CT2"))


def test_move_to_an_unknown_destination_is_a_clear_error(orthanc: Orthanc) -> None:
    with pytest.raises(PacsError, match="STRANGER"):
        dimse.retrieve_move(orthanc.node, study_uid(dicom_files(CT_STUDY)[0]), "STRANGER",
                            calling_ae=TANDEM_AE)


def test_cancelled_get_stops_early_and_keeps_the_db_consistent(orthanc: Orthanc,
                                                                db: StudyDatabase) -> None:
    cancel = threading.Event()
    cancel.set()
    result = dimse.retrieve_get(orthanc.node, study_uid(dicom_files(PATIENT_2 / "CT2")[0]), db,
                                calling_ae=TANDEM_AE, cancel=cancel)
    assert result.cancelled
    assert result.received < 4
    assert db.counts()["instances"] == result.received
    assert db.integrity_check() == "ok"


def test_store_sends_files_and_orthanc_keeps_the_same_bytes(orthanc: Orthanc,
                                                            tmp_path: Path) -> None:
    sr = DICOM_CORPUS / "pydicom" / "test-SR.dcm"
    ct = DICOM_CORPUS / "pydicom" / "CT_small.dcm"
    junk = DICOM_CORPUS / "bad" / "not_dicom_text.dcm"
    outcomes = dimse.store(orthanc.node, [sr, junk, ct], calling_ae=TANDEM_AE)
    assert [(o.path, o.ok) for o in outcomes] == [(sr, True), (junk, False), (ct, True)]
    assert str(junk) in outcomes[1].message
    for path in (sr, ct):
        original = pydicom.dcmread(path)
        copy_path = tmp_path / path.name
        copy_path.write_bytes(orthanc.get(
            f"/instances/{orthanc.instance_id(str(original.SOPInstanceUID))}/file"))
        copy = pydicom.dcmread(copy_path)
        assert copy == original  # every data element, value for value
        if "PixelData" in original:
            assert copy.PixelData == original.PixelData
