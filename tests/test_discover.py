"""Discovery over the real corpus: folders, DICOMDIRs (intact and damaged), verdicts, speed."""

from __future__ import annotations

import csv
import shutil
import threading
import time
from pathlib import Path

import pytest

from imaging.discover import discover, iter_files

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "dicom"
DICOMDIRS = CORPUS / "pydicom" / "dicomdirtests"
NOT_DICOM = {"README.md", "index.csv", "bad/make_bad.py", "pydicom/dicomdirtests/README.txt",
             "pydicom/dicomdirtests/TINY_ALPHA/README"}


def expected() -> dict[str, str]:
    with (CORPUS / "index.csv").open(newline="") as fp:
        return {row["path"]: row["expected"] for row in csv.DictReader(fp)}


def relative(paths: list[Path]) -> list[str]:
    return [p.relative_to(CORPUS).as_posix() for p in paths]


def test_walk_finds_every_dicom_file_once_in_a_stable_order() -> None:
    first = relative(list(iter_files([CORPUS])))
    assert first == relative(list(iter_files([CORPUS])))
    assert len(first) == len(set(first))
    everything = {p.relative_to(CORPUS).as_posix() for p in CORPUS.rglob("*") if p.is_file()}
    assert set(first) == everything - NOT_DICOM == set(expected())
    assert "wg04/MG1_JPLY" in first  # no extension: recognised by content


def test_duplicates_are_removed_across_inputs() -> None:
    folder = CORPUS / "dcmqi" / "ct-3slice"
    files = list(iter_files([folder, folder / "02.dcm", CORPUS / "dcmqi", folder]))
    assert [p.name for p in files] == ["01.dcm", "02.dcm", "03.dcm"]


def test_hidden_and_non_dicom_files_are_skipped_by_content(tmp_path: Path) -> None:
    ct = CORPUS / "pydicom" / "CT_small.dcm"
    shutil.copy(ct, tmp_path / ".hidden.dcm")
    shutil.copy(ct, tmp_path / "exported.txt")  # DICOM with a misleading name: kept
    shutil.copy(CORPUS / "pydicom-data" / "OT-PAL-8-face.dcm", tmp_path / "OLDACRNEMA")
    (tmp_path / "notes.txt").write_text("patient called back")
    (tmp_path / "report.bin").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    (tmp_path / "broken.dcm").write_text("not an image")  # DICOM name: gets a verdict
    assert sorted(p.name for p in iter_files([tmp_path])) == [
        "OLDACRNEMA", "broken.dcm", "exported.txt"]


@pytest.mark.parametrize("name", ["DICOMDIR", "DICOMDIR-bigEnd", "DICOMDIR-implicit",
                                  "DICOMDIR-reordered"])
def test_dicomdir_is_expanded_to_its_31_files(name: str) -> None:
    files = list(iter_files([DICOMDIRS / name]))
    assert files[0].name == name and len(files) == 32
    assert all(p.is_file() and p.is_relative_to(DICOMDIRS) for p in files)
    report = discover([DICOMDIRS / name])
    assert report.files[0].status == "ok" and report.files[0].warnings == ()
    assert sum(c.image_count for c in report.series) == 31


@pytest.mark.parametrize(("name", "kind"), [("DICOMDIR-nooffset", "missing_directory_offsets"),
                                            ("DICOMDIR-nopatient", "invalid_directory_record")])
def test_damaged_dicomdir_warns_and_walks_the_folder(name: str, kind: str) -> None:
    report = discover([DICOMDIRS / name])
    verdict = report.files[0]
    assert verdict.path.name == name and verdict.status == "ok"
    assert [w.kind for w in verdict.warnings] == [kind]
    names = {v.path.name for v in report.files}
    assert "DICOMDIR-reordered" in names and "IM00001D" in names  # the folder was walked too


def test_empty_dicomdir_lists_nothing() -> None:
    report = discover([DICOMDIRS / "DICOMDIR-empty.dcm"])
    assert [v.status for v in report.files] == ["ok"] and report.series == []


def test_whole_corpus_verdicts_fast_and_silent(capfd: pytest.CaptureFixture[str]) -> None:
    start = time.perf_counter()
    report = discover([CORPUS])
    elapsed = time.perf_counter() - start
    assert capfd.readouterr() == ("", "")
    assert elapsed < 2.0, f"discovery took {elapsed:.2f} s"
    assert len(report.files) == len(expected())
    header_errors = {"not_dicom", "empty_file", "empty_dataset", "truncated", "no_pixel_data",
                     "invalid_number_of_frames"}
    for verdict in report.files:
        want = expected()[verdict.path.relative_to(CORPUS).as_posix()]
        status, _, kind = want.partition(":")
        if status == "error" and kind in header_errors:
            assert (verdict.status, verdict.kind) == ("error", kind), verdict
            assert verdict.message and verdict.header is None
        else:
            assert verdict.status == "ok" and verdict.header is not None, verdict
    assert report.patients and report.series
    assert len({c.key for c in report.series}) == len(report.series)


def test_missing_path_is_an_error_verdict_not_a_crash(tmp_path: Path) -> None:
    report = discover([tmp_path / "nowhere", CORPUS / "dcmqi"])
    assert report.files[0].status == "error" and report.files[0].kind == "unreadable"
    assert len(report.series) == 1 and report.series[0].image_count == 3


def test_progress_and_cancel() -> None:
    seen: list[tuple[int, int]] = []
    stop = threading.Event()

    def progress(done: int, total: int, path: Path) -> None:
        seen.append((done, total))
        if done == 5:
            stop.set()

    report = discover([CORPUS / "pydicom" / "dicomdirtests"], progress=progress, cancel=stop)
    assert report.cancelled and len(report.files) == 5
    assert [d for d, _ in seen] == [1, 2, 3, 4, 5] and len({t for _, t in seen}) == 1
    full = discover([CORPUS / "dcmqi"], cancel=lambda: False)
    assert not full.cancelled and len(full.files) == 3
