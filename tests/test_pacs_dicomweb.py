"""QIDO-RS, WADO-RS and STOW-RS against a real Orthanc (DICOMweb plugin), and C-MOVE through an
already running storage SCP."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pydicom
import pytest
from conftest import DICOM_CORPUS
from orthanc import Orthanc, free_port, module_orthanc, study_uid
from pydicom.uid import generate_uid

from imaging.db import StudyDatabase
from imaging.header import InstanceHeader
from imaging.importer import import_paths
from pacs import dicomweb, dimse
from pacs.dimse import FindMatch, FindQuery
from pacs.errors import PacsError
from pacs.nodes import LocalAE, PacsNode
from pacs.retrieve import retrieve_study
from pacs.storage_scp import StorageServer

TANDEM_AE = "TANDEMWEB"
CT_STUDY = sorted((DICOM_CORPUS / "dcmqi" / "ct-3slice").glob("*.dcm"))  # 3 x 512x512, implicit
PETER = sorted(p for p in (DICOM_CORPUS / "pydicom" / "dicomdirtests" / "98892001").rglob("*")
               if p.is_file())  # 1 CT study, 2 series (2 + 5 instances)
ARCHIBALD = sorted(p for p in (DICOM_CORPUS / "pydicom" / "dicomdirtests" / "77654033").rglob("*")
                   if p.is_file())  # CR study (3 series) + CT study (4 instances)
JPEG_LS = DICOM_CORPUS / "wg04" / "CT2_JLSN"  # stored JPEG-LS near-lossless: must stay so
UPLOADED = CT_STUDY + PETER + ARCHIBALD + [JPEG_LS]


orthanc = module_orthanc(TANDEM_AE, UPLOADED)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[StudyDatabase]:
    with StudyDatabase(tmp_path / "data" / "studies.sqlite") as database:
        yield database


def _key(m: FindMatch) -> tuple[object, ...]:
    """What a caller reads from a match (C-FIND leaves study time/sex empty at SERIES level)."""
    return (m.level, m.patient_id, m.patient_name, m.study_instance_uid, m.study_date,
            m.accession_number, m.modalities, m.series_instance_uid, m.series_number,
            m.series_description, m.studies, m.series, m.instances)


def _both(orthanc: Orthanc, level: dimse.Level, query: FindQuery) -> list[FindMatch]:
    """QIDO-RS matches, checked equal to what C-FIND answers for the same query."""
    web = dicomweb.qido_find(orthanc.node, level, query)
    dicom = dimse.find(orthanc.node, level, query, calling_ae=TANDEM_AE)
    assert sorted(map(_key, web)) == sorted(map(_key, dicom))
    return web


def test_qido_study_level_filters_match_c_find(orthanc: Orthanc) -> None:
    every = _both(orthanc, "STUDY", FindQuery())
    assert sorted(m.instances or 0 for m in every) == [1, 3, 3, 4, 7]
    assert sum(m.instances or 0 for m in every) == len(UPLOADED)
    [peter] = _both(orthanc, "STUDY", FindQuery(patient_id="98890234"))
    assert (peter.patient_name, peter.modalities, peter.series, peter.instances) == (
        "Doe^Peter", ("CT",), 2, 7)
    assert peter.study_instance_uid == study_uid(PETER[0])
    assert [m.patient_id for m in _both(orthanc, "STUDY", FindQuery(
        patient_name="Doe^Peter"))] == ["98890234"]
    does = _both(orthanc, "STUDY", FindQuery(patient_name="Doe*"))
    assert sorted((m.patient_id, m.instances) for m in does) == [
        ("77654033", 3), ("77654033", 4), ("98890234", 7)]
    in_2001 = _both(orthanc, "STUDY", FindQuery(date_from="20000101", date_to="20021231"))
    assert sorted(m.instances or 0 for m in in_2001) == [3, 7]
    assert len(_both(orthanc, "STUDY", FindQuery(date_from="20030101"))) == 2  # open range
    [cr] = _both(orthanc, "STUDY", FindQuery(modality="CR"))
    assert (cr.patient_id, cr.series, cr.instances) == ("77654033", 3, 3)
    [jan] = _both(orthanc, "STUDY", FindQuery(accession_number="03086212"))
    assert (jan.patient_name, jan.instances) == ("JANCT000", len(CT_STUDY))
    assert _both(orthanc, "STUDY", FindQuery(patient_id="nobody")) == []
    assert _both(orthanc, "STUDY", FindQuery(patient_name="Doe*", modality="MR")) == []


def test_qido_series_and_patient_levels(orthanc: Orthanc) -> None:
    series = _both(orthanc, "SERIES", FindQuery(study_instance_uid=study_uid(PETER[0])))
    assert sorted(s.instances or 0 for s in series) == [2, 5]
    assert {s.series_instance_uid for s in series} == {
        str(pydicom.dcmread(p, stop_before_pixels=True).SeriesInstanceUID) for p in PETER}
    ct_2001 = _both(orthanc, "SERIES", FindQuery(modality="CT", date_from="20010101",
                                                 date_to="20010101"))
    assert sorted(s.instances or 0 for s in ct_2001) == [2, 5]
    assert _both(orthanc, "SERIES", FindQuery(modality="MR")) == []
    patients = _both(orthanc, "PATIENT", FindQuery(patient_name="Doe*"))
    assert sorted((p.patient_id, p.studies) for p in patients) == [
        ("77654033", 2), ("98890234", 1)]
    with pytest.raises(ValueError, match="STUDY or SERIES"):
        dicomweb.qido_find(orthanc.node, "PATIENT", FindQuery(modality="CT"))


def _rows(db: StudyDatabase, study_uid: str) -> dict[str, InstanceHeader]:
    return {h.sop_instance_uid: dataclasses.replace(h, path=Path()) for s in db.series(study_uid)
            for h in db.series_headers(s.series_instance_uid)}


def test_wado_retrieve_files_the_study_like_an_import(orthanc: Orthanc, db: StudyDatabase,
                                                      tmp_path: Path) -> None:
    study = study_uid(CT_STUDY[0])
    seen: list[tuple[int, int | None]] = []
    result = dicomweb.wado_retrieve_study(orthanc.node, study, db,
                                          progress=lambda d, t: seen.append((d, t)))
    assert (result.method, result.completed, result.failed, result.received, result.refused,
            result.cancelled, result.status) == ("wado", 3, 0, 3, 0, False, 200)
    assert seen == [(1, 3), (2, 3), (3, 3)]
    originals = {str(pydicom.dcmread(p).SOPInstanceUID): p for p in CT_STUDY}
    [row] = db.studies()
    assert (row.study_instance_uid, row.instance_count) == (study, 3)
    filed = [h for s in db.series(study) for h in db.series_headers(s.series_instance_uid)]
    assert {h.sop_instance_uid for h in filed} == set(originals)
    for h in filed:
        assert h.path.is_relative_to(db.storage_dir)
        assert h.transfer_syntax_uid == "1.2.840.10008.1.2"  # as stored, not transcoded
        assert pydicom.dcmread(h.path).PixelData == pydicom.dcmread(
            originals[h.sop_instance_uid]).PixelData
        assert h.path.read_bytes() == originals[h.sop_instance_uid].read_bytes()
    with StudyDatabase(tmp_path / "imported" / "studies.sqlite") as imported:
        import_paths(imported, CT_STUDY)
        assert _rows(db, study) == _rows(imported, study)
    assert db.integrity_check() == "ok"
    assert not list((db.storage_dir / ".incoming").glob("*.part"))


def test_wado_keeps_a_compressed_transfer_syntax(orthanc: Orthanc, db: StudyDatabase) -> None:
    result = retrieve_study(orthanc.node, study_uid(JPEG_LS), db, method="wado")
    assert (result.completed, result.received) == (1, 1)
    [series] = db.series(study_uid(JPEG_LS))
    [header] = db.series_headers(series.series_instance_uid)
    assert header.transfer_syntax_uid == "1.2.840.10008.1.2.4.81"
    assert header.path.read_bytes() == JPEG_LS.read_bytes()


def test_wado_cancel_stops_between_instances(orthanc: Orthanc, db: StudyDatabase) -> None:
    cancel = threading.Event()
    result = dicomweb.wado_retrieve_study(orthanc.node, study_uid(PETER[0]), db,
                                          progress=lambda d, t: cancel.set(), cancel=cancel)
    assert result.cancelled and (result.completed, result.received, result.failed) == (1, 1, 0)
    assert db.counts()["instances"] == 1
    assert db.integrity_check() == "ok"


def test_wado_of_an_unknown_study_names_it(orthanc: Orthanc, db: StudyDatabase) -> None:
    with pytest.raises(PacsError, match=r"orthanc-test.*no study 1\.2\.3\.4"):
        dicomweb.wado_retrieve_study(orthanc.node, "1.2.3.4", db)


def test_stow_stores_bytes_as_they_are_and_reports_each_file(orthanc: Orthanc,
                                                             tmp_path: Path) -> None:
    ct = DICOM_CORPUS / "pydicom" / "CT_small.dcm"
    sr = DICOM_CORPUS / "pydicom" / "test-SR.dcm"
    junk = DICOM_CORPUS / "bad" / "not_dicom_text.dcm"
    truncated = tmp_path / "truncated.dcm"  # readable header, cut in the pixel data
    ds = pydicom.dcmread(ct)
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.save_as(truncated)
    truncated.write_bytes(truncated.read_bytes()[:-5000])
    no_study = tmp_path / "no_study.dcm"  # Orthanc answers with a Failed SOP Sequence
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    del ds.StudyInstanceUID
    ds.save_as(no_study)
    outcomes = dicomweb.stow_store(orthanc.node, [ct, junk, truncated, no_study, sr])
    assert [(o.path, o.ok) for o in outcomes] == [
        (ct, True), (junk, False), (truncated, False), (no_study, False), (sr, True)]
    assert str(junk) in outcomes[1].message
    assert "HTTP 400" in outcomes[2].message and str(truncated) in outcomes[2].message
    assert outcomes[3].status == 0xC000 and "failure reason 0xC000" in outcomes[3].message
    for path in (ct, sr):
        sop = str(pydicom.dcmread(path, stop_before_pixels=True).SOPInstanceUID)
        assert orthanc.get(f"/instances/{orthanc.instance_id(sop)}/file") == path.read_bytes()


def test_an_unreachable_dicomweb_url_fails_fast_naming_the_node(db: StudyDatabase) -> None:
    node = PacsNode("web-down", "NOBODY", "127.0.0.1", 104,
                    dicomweb_url=f"http://127.0.0.1:{free_port()}/dicom-web")
    started = time.monotonic()
    for call in (lambda: dicomweb.qido_find(node, "STUDY"),
                 lambda: dicomweb.wado_retrieve_study(node, "1.2.3", db),
                 lambda: dicomweb.stow_store(node, CT_STUDY[:1])):
        with pytest.raises(PacsError, match=r"'web-down'.*connection refused"):
            call()
    assert time.monotonic() - started < 3


def test_a_node_without_dicomweb_url_is_a_clear_error(orthanc: Orthanc,
                                                      db: StudyDatabase) -> None:
    node = dataclasses.replace(orthanc.node, dicomweb_url=None)
    for call in (lambda: dicomweb.qido_find(node, "STUDY"),
                 lambda: dicomweb.wado_retrieve_study(node, "1.2.3", db),
                 lambda: dicomweb.stow_store(node, CT_STUDY[:1]),
                 lambda: retrieve_study(node, "1.2.3", db, method="wado")):
        with pytest.raises(PacsError, match=r"'orthanc-test'.*no DICOMweb URL configured"):
            call()
    wrong_path = dataclasses.replace(orthanc.node, dicomweb_url=f"{orthanc.url}/nothing-here")
    with pytest.raises(PacsError, match=r"'orthanc-test'.*HTTP 404"):
        dicomweb.qido_find(wrong_path, "STUDY")


def test_c_move_reuses_a_running_storage_server(orthanc: Orthanc, db: StudyDatabase,
                                                tandem_port: int) -> None:
    ct_study, cr_study = study_uid(ARCHIBALD[-1]), study_uid(ARCHIBALD[0])
    local = LocalAE(TANDEM_AE, tandem_port)
    with StorageServer(db, ae_title=TANDEM_AE, port=tandem_port, host="127.0.0.1") as server:
        first = retrieve_study(orthanc.node, ct_study, db, local=local, server=server)
        second = retrieve_study(orthanc.node, cr_study, db, local=local, server=server)
        again = retrieve_study(orthanc.node, ct_study, db, local=local, server=server)
        assert server.active_associations() == 0
        stats = server.stats()
    assert (first.completed, first.failed, first.received, first.status) == (4, 0, 4, 0)
    assert (second.completed, second.failed, second.received, second.status) == (3, 0, 3, 0)
    assert (again.completed, again.received) == (4, 4)  # counted per study, not per new SOP
    assert (stats.received, stats.refused) == (11, 0)
    assert sorted((s.study_instance_uid, s.instance_count) for s in db.studies()) == sorted(
        [(ct_study, 4), (cr_study, 3)])
    assert db.integrity_check() == "ok"
