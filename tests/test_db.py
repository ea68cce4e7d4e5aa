"""The study database: schema, browser listings, header round-trip, deletion, threads."""

from __future__ import annotations

import dataclasses
import hashlib
import sqlite3
import threading
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import platformdirs
import pytest

from imaging import paths
from imaging.db import SCHEMA_VERSION, FileStamp, StudyDatabase, instance_keys
from imaging.header import InstanceHeader, read_header

DICOM = Path(__file__).parents[2] / "shared" / "datasets" / "dicom"
DICOMDIR_TESTS = DICOM / "pydicom" / "dicomdirtests"

# Files whose headers exercise every kind of stored field: enhanced multi-frame,
# imager spacing + MONOCHROME1, colour multi-frame, header warnings, no File Meta, mammo views.
ROUND_TRIP = [
    "pydicom-data/emri_small.dcm",
    "pydicom-data/RG3_J2KI.dcm",
    "pydicom/examples_ybr_color.dcm",
    "bad/huge_pixeldata_length.dcm",
    "pydicom-data/OT-PAL-8-face.dcm",
    "mammo/MG_Explicit_Little.dcm",
    "dcmqi/ct-3slice/01.dcm",
    "pydicom/test-SR.dcm",
    "pydicom/examples_overlay.dcm",
]


@pytest.fixture()
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[StudyDatabase]:
    monkeypatch.setenv(paths.DATA_DIR_ENV, str(tmp_path / "data"))
    database = StudyDatabase()
    yield database
    database.close()


def _dicomdir_headers() -> list[InstanceHeader]:
    headers = []
    for path in sorted(DICOMDIR_TESTS.rglob("*")):
        if path.is_file() and path.parent.name != "dicomdirtests" and "TINY" not in str(path):
            headers.append(read_header(path))
    return headers


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_data_dir_follows_env_and_defaults_to_platformdirs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(paths.DATA_DIR_ENV, str(tmp_path))
    assert paths.database_path() == tmp_path / "studies.sqlite"
    assert paths.storage_dir() == tmp_path / "storage"
    monkeypatch.delenv(paths.DATA_DIR_ENV)
    assert paths.data_dir() == Path(platformdirs.user_data_dir("Tandem", appauthor=False))


def test_new_database_has_schema_wal_and_foreign_keys(db: StudyDatabase, tmp_path: Path) -> None:
    assert db.path == tmp_path / "data" / "studies.sqlite"
    conn = sqlite3.connect(db.path)
    assert conn.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    assert db._conn().execute("PRAGMA foreign_keys").fetchone()[0] == 1
    db.close()
    assert StudyDatabase(db.path).counts()["instances"] == 0  # reopening migrates nothing


def test_database_from_a_newer_tandem_is_refused(db: StudyDatabase) -> None:
    db._conn().execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION + 1,))
    db.close()
    with pytest.raises(RuntimeError, match="newer"):
        StudyDatabase(db.path)


def test_series_headers_round_trip_equals_read_header(db: StudyDatabase) -> None:
    originals = [read_header(DICOM / name) for name in ROUND_TRIP]
    # Per-frame positions (nested tuples) as an enhanced multi-frame header would carry them.
    rtdose = read_header(DICOM / "pydicom" / "rtdose.dcm")
    originals.append(dataclasses.replace(rtdose, frame_positions=tuple(
        (-1.5, 2.25, 0.1 * i) for i in range(rtdose.number_of_frames))))
    assert any(h.warnings for h in originals)
    assert any(h.overlay_groups == (0x6000,) for h in originals)
    db.upsert_headers(originals)
    db.close()  # a fresh connection: nothing cached in memory
    for original in originals:
        keys = instance_keys(original, original.path)
        stored = [h for h in db.series_headers(keys.series) if h.path == original.path]
        assert stored == [original]


def test_header_json_from_before_a_new_field_still_loads(db: StudyDatabase) -> None:
    header = read_header(DICOM / "pydicom" / "examples_overlay.dcm")
    db.upsert_headers([header])
    db.close()
    with sqlite3.connect(db.path) as conn:  # as written before overlay_groups existed
        conn.execute("UPDATE instances SET header = json_remove(header, '$.overlay_groups')")
        assert "overlay_groups" not in conn.execute("SELECT header FROM instances").fetchone()[0]
    conn.close()
    (stored,) = db.series_headers(header.series_instance_uid)
    assert stored == dataclasses.replace(header, overlay_groups=())


def test_browser_lists_patients_studies_series_with_counts(db: StudyDatabase) -> None:
    headers = _dicomdir_headers()
    db.upsert_headers(headers)
    by_study: dict[str, set[str]] = defaultdict(set)
    per_series: dict[str, int] = defaultdict(int)
    for h in headers:
        by_study[h.study_instance_uid].add(h.series_instance_uid)
        per_series[h.series_instance_uid] += 1
    patients = db.patients()
    assert {p.patient_id for p in patients} == {h.patient_id for h in headers}
    assert sum(p.study_count for p in patients) == len(by_study)
    studies = db.studies()
    assert {s.study_instance_uid for s in studies} == set(by_study)
    dates = [s.date for s in studies]
    assert dates == sorted(dates, reverse=True)
    for study in studies:
        assert study.series_count == len(by_study[study.study_instance_uid])
        series = db.series(study.study_instance_uid)
        assert {s.series_instance_uid: s.instance_count for s in series} == {
            uid: per_series[uid] for uid in by_study[study.study_instance_uid]}
        assert study.instance_count == sum(s.instance_count for s in series)
        assert set(study.modalities) == {s.modality for s in series}
    one = db.studies(patients[0].key)
    assert one and all(s.patient_key == patients[0].key for s in one)
    mr700 = [h for h in headers if h.path.parent.name == "MR700"]
    headers_back = db.series_headers(mr700[0].series_instance_uid)
    numbers = [h.instance_number or 0 for h in headers_back]
    assert numbers == sorted(numbers) and len(headers_back) == len(mr700)


def test_known_file_and_errors(db: StudyDatabase) -> None:
    ct = DICOM / "pydicom" / "CT_small.dcm"
    bad = DICOM / "bad" / "zero_bytes.dcm"
    assert db.known_file(ct) is None
    db.upsert_headers([read_header(ct)])
    assert db.known_file(ct) == FileStamp.of(ct)
    with db.batch() as batch:
        batch.record_error(bad, FileStamp.of(bad), "empty_file", "empty file (0 bytes)")
    [error] = db.errors()
    assert (error.path, error.kind) == (bad, "empty_file")
    assert db.known_file(bad) == FileStamp.of(bad)


def test_delete_study_in_place_leaves_source_files_untouched(db: StudyDatabase) -> None:
    headers = _dicomdir_headers()
    before = {h.path: _sha(h.path) for h in headers}
    db.upsert_headers(headers)
    victim = db.studies()[0]
    removed = db.delete_study(victim.study_instance_uid)
    assert removed == victim.instance_count > 0
    assert victim.study_instance_uid not in {s.study_instance_uid for s in db.studies()}
    assert db.counts()["instances"] == len(headers) - removed
    assert {p: _sha(p) for p in before} == before
    gone = [h.path for h in headers if h.study_instance_uid == victim.study_instance_uid]
    assert all(db.known_file(p) is None for p in gone)  # a later import brings them back
    assert db.integrity_check() == "ok"


def test_reader_thread_and_writer_thread_use_their_own_connections(db: StudyDatabase) -> None:
    headers = _dicomdir_headers()
    failures: list[BaseException] = []
    seen: list[int] = []
    done = threading.Event()

    def write() -> None:
        try:
            for i in range(0, len(headers), 5):
                db.upsert_headers(headers[i:i + 5])
        except BaseException as exc:  # reported below
            failures.append(exc)
        finally:
            done.set()

    writer = threading.Thread(target=write)
    writer.start()
    while not done.is_set():
        seen.append(sum(s.instance_count for s in db.studies()))
    writer.join()
    assert not failures
    assert seen == sorted(seen)  # readers see whole committed batches, never a regression
    assert db.counts()["instances"] == len(headers)
    assert db._connections.open_count == 2
