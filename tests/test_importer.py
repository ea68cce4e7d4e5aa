"""Importing the corpus: verdicts, duplicates, incremental re-import, copies, a killed import."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import imaging.importer
from imaging import paths
from imaging.db import StudyDatabase, instance_keys
from imaging.discover import iter_files
from imaging.errors import DicomFileError
from imaging.header import InstanceHeader, read_header
from imaging.importer import INCOMING_DIR, ImportReport, import_paths

DICOM = Path(__file__).parents[2] / "shared" / "datasets" / "dicom"
REPO = Path(__file__).parents[1]


@dataclass
class Reference:
    """What read_header says about every file discovery yields."""

    headers: dict[Path, InstanceHeader]
    errors: dict[Path, str]

    @property
    def instances(self) -> dict[Path, InstanceHeader]:
        return {p: h for p, h in self.headers.items() if not h.is_dicomdir}

    def sop_keys(self) -> set[str]:
        return {instance_keys(h, p).sop for p, h in self.instances.items()}


def _reference(root: Path) -> Reference:
    headers, errors = {}, {}
    for path in iter_files([root]):
        path = Path(os.path.abspath(path))
        try:
            headers[path] = read_header(path)
        except DicomFileError as exc:
            errors[path] = exc.kind
    return Reference(headers, errors)


def _hashes(root: Path) -> dict[Path, str]:
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*") if p.is_file()}


@dataclass
class CleanImport:
    db: StudyDatabase
    report: ImportReport
    reference: Reference


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CleanImport]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(paths.DATA_DIR_ENV, str(tmp_path_factory.mktemp("data")))
        db = StudyDatabase()
        report = import_paths(db, [DICOM])
        yield CleanImport(db, report, _reference(DICOM))
        db.close()


@pytest.fixture()
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(paths.DATA_DIR_ENV, str(tmp_path / "data"))
    return tmp_path / "data"


@pytest.fixture()
def read_calls(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Paths the importer reads a header from."""
    calls: list[Path] = []

    def counting(path: Path) -> InstanceHeader:
        calls.append(Path(path))
        return read_header(path)

    monkeypatch.setattr(imaging.importer, "read_header", counting)
    return calls


def test_clean_import_gives_every_file_the_verdict_of_read_header(clean: CleanImport) -> None:
    report, ref, db = clean.report, clean.reference, clean.db
    assert report.found == len(ref.headers) + len(ref.errors) > 200
    assert {e.path: e.kind for e in report.errors} == ref.errors
    assert {e.path: e.kind for e in db.errors()} == ref.errors
    assert ref.errors[DICOM / "bad" / "zero_bytes.dcm"] == "empty_file"
    assert ref.errors[DICOM / "bad" / "not_dicom_png.dcm"] == "not_dicom"
    assert report.ignored == sum(h.is_dicomdir for h in ref.headers.values()) >= 8
    sops = ref.sop_keys()
    assert report.new == db.counts()["instances"] == len(sops)
    assert report.duplicates == len(ref.instances) - len(sops) > 0
    assert report.new + report.duplicates + report.ignored + len(report.errors) == report.found
    assert db.integrity_check() == "ok"
    assert not report.cancelled


def test_duplicate_sop_keeps_the_best_file_and_warns(clean: CleanImport) -> None:
    ct = clean.reference.headers[DICOM / "pydicom" / "CT_small.dcm"]
    [kept] = [h for h in clean.db.series_headers(ct.series_instance_uid)
              if h.sop_instance_uid == ct.sop_instance_uid]
    assert kept.path == ct.path  # the clean image, not bad/huge_pixeldata_length.dcm
    warned = Counter(w.kind for w in clean.report.warnings)
    assert warned["duplicate_instance"] == clean.report.duplicates
    mr_variants = {w.path.name for w in clean.report.warnings if "MR_small.dcm" in w.message}
    assert {"MR_small_RLE.dcm", "MR_small_implicit.dcm", "MR_truncated.dcm"} <= mr_variants


def test_files_without_uids_are_filed_under_derived_ones(clean: CleanImport) -> None:
    path = DICOM / "pydicom-data" / "JLSN_RGB_ILV0.dcm"  # no SOP, series or study UID
    header = clean.reference.headers[path]
    keys = instance_keys(header, path)
    assert [h.path for h in clean.db.series_headers(keys.series)] == [path]
    assert any(w.path == path and w.kind == "missing_uid" for w in clean.report.warnings)


def test_series_headers_round_trip_after_import(clean: CleanImport) -> None:
    for name in ("dcmqi/ct-3slice", "dicom2nifti/valid/hitachi/anatomical/001"):
        files = sorted(p for p in (DICOM / name).iterdir() if p.is_file())
        first = clean.reference.headers[files[0]]
        stored = clean.db.series_headers(first.series_instance_uid)
        assert {h.path: h for h in stored} == {p: read_header(p) for p in files}


def test_reimport_reads_nothing_and_is_much_faster(clean: CleanImport,
                                                   read_calls: list[Path]) -> None:
    again = import_paths(clean.db, [DICOM])
    assert read_calls == []
    assert (again.new, again.duplicates, len(again.errors)) == (0, 0, 0)
    assert again.skipped_unchanged == again.found == clean.report.found
    # Discovery (walking, expanding DICOMDIRs) is most of what remains.
    assert again.elapsed_s < clean.report.elapsed_s / 2
    assert clean.db.counts()["instances"] == clean.report.new


def test_touched_file_is_the_only_one_read_again(data_dir: Path, tmp_path: Path,
                                                 read_calls: list[Path]) -> None:
    source = tmp_path / "ct"
    shutil.copytree(DICOM / "dcmqi" / "ct-3slice", source)
    shutil.copy(DICOM / "bad" / "not_dicom_text.dcm", source)
    db = StudyDatabase()
    first = import_paths(db, [source])
    assert (first.new, len(first.errors)) == (3, 1)
    touched = sorted(source.glob("*.dcm"))[0]
    stamp = touched.stat()
    os.utime(touched, ns=(stamp.st_atime_ns, stamp.st_mtime_ns + 1_000_000_000))
    read_calls.clear()
    second = import_paths(db, [source])
    assert read_calls == [touched]
    assert (second.new, second.skipped_unchanged, len(second.errors)) == (1, 3, 0)
    assert db.counts()["instances"] == 3 and len(db.errors()) == 1
    db.close()


def test_duplicate_takes_over_when_the_kept_file_goes_bad(data_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "mr"
    source.mkdir()
    for name in ("MR_small.dcm", "MR_small_RLE.dcm"):  # one SOP Instance UID
        shutil.copy(DICOM / "pydicom" / name, source)
    db = StudyDatabase()
    first = import_paths(db, [source])
    assert (first.new, first.duplicates) == (1, 1)
    (source / "MR_small.dcm").write_text("overwritten by something else")
    second = import_paths(db, [source])
    assert (second.new, second.skipped_unchanged, len(second.errors)) == (1, 0, 1)
    [series] = db.series(db.studies()[0].study_instance_uid)
    assert [h.path.name for h in db.series_headers(series.series_instance_uid)] == [
        "MR_small_RLE.dcm"]
    db.close()


def test_copy_mode_copies_into_storage_and_leaves_sources_untouched(data_dir: Path) -> None:
    source = DICOM / "pydicom" / "dicomdirtests"
    before = _hashes(source)
    db = StudyDatabase()
    progress: list[tuple[int, int | None]] = []
    report = import_paths(db, [source], copy=True, progress=lambda d, t, p: progress.append((d, t)))
    assert _hashes(source) == before
    assert progress[-1] == (report.found, report.found) and len(progress) == report.found
    storage = data_dir / "storage"
    copies = sorted(p for p in storage.rglob("*.dcm"))
    assert len(copies) == report.new == db.counts()["instances"] > 0
    assert not list((storage / INCOMING_DIR).iterdir())
    originals = {h.sop_instance_uid: p for p, h in _reference(source).instances.items()}
    for study in db.studies():
        for series in db.series(study.study_instance_uid):
            for h in db.series_headers(series.series_instance_uid):
                assert h.path == (storage / study.study_instance_uid
                                  / series.series_instance_uid / f"{h.sop_instance_uid}.dcm")
                assert h.path.read_bytes() == originals[h.sop_instance_uid].read_bytes()
    victim = db.studies()[0]
    victim_dir = storage / victim.study_instance_uid
    assert db.delete_study(victim.study_instance_uid) == victim.instance_count
    assert not victim_dir.exists()
    assert len(list(storage.rglob("*.dcm"))) == len(copies) - victim.instance_count
    assert _hashes(source) == before
    db.close()


def test_cancel_keeps_what_was_done(data_dir: Path) -> None:
    db = StudyDatabase()
    stop = threading.Event()

    def progress(done: int, total: int | None, path: Path | None) -> None:
        if done == 30:
            stop.set()

    report = import_paths(db, [DICOM / "pydicom"], progress=progress, cancel=stop)
    assert report.cancelled and report.processed == 30 < report.found
    assert db.counts()["source_files"] == 30
    db.close()


_KILLED_IMPORT = """
import sys, time
from imaging.db import StudyDatabase
from imaging.importer import import_paths
def progress(done, total, path):
    print(done, flush=True)
    time.sleep(0.01)
import_paths(StudyDatabase(sys.argv[1]), [sys.argv[2]], copy=True, progress=progress,
             batch_files=20)
print("finished", flush=True)
"""


def test_killed_import_leaves_a_consistent_database_that_the_next_import_completes(
        clean: CleanImport, data_dir: Path, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(DICOM, corpus)
    before = _hashes(corpus)
    db_path = data_dir / "studies.sqlite"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])])}
    stderr = tmp_path / "stderr.txt"
    with stderr.open("w") as err:
        proc = subprocess.Popen(
            [sys.executable, "-c", _KILLED_IMPORT, str(db_path), str(corpus)],
            stdout=subprocess.PIPE, stderr=err, text=True, env=env, cwd=REPO)
        assert proc.stdout is not None
        lines = 0
        for line in proc.stdout:
            lines += 1
            if line.strip() == "finished" or lines == 70:
                break
        proc.kill()  # SIGKILL on POSIX: no clean-up code runs
        proc.wait(timeout=30)
        proc.stdout.close()
    assert lines == 70, f"not killed after 70 files: {stderr.read_text()[-2000:]}"

    db = StudyDatabase(db_path)
    assert db.integrity_check() == "ok"
    committed = db.counts()["source_files"]
    assert 40 <= committed < clean.report.found  # batches of 20: at least two committed
    storage = data_dir / "storage"
    source_hashes: dict[str, set[str]] = {}
    for path, header in _reference(corpus).instances.items():
        source_hashes.setdefault(header.sop_instance_uid, set()).add(before[path])
    for copy in storage.rglob("*.dcm"):  # a final name never holds a partial copy
        assert hashlib.sha256(copy.read_bytes()).hexdigest() in source_hashes[copy.stem]

    resumed = import_paths(db, [corpus], copy=True)
    assert resumed.skipped_unchanged == committed
    final = db.counts()
    assert {k: final[k] for k in ("patients", "studies", "series", "instances", "errors")} == {
        k: clean.db.counts()[k] for k in ("patients", "studies", "series", "instances", "errors")}
    assert len(list(storage.rglob("*.dcm"))) == final["instances"]
    assert db.integrity_check() == "ok"
    assert _hashes(corpus) == before
    db.close()
