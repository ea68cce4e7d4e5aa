"""The headless CLI on the real corpus: it runs to the end, gives every file a verdict, exits 0."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def tandem(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        cwd=REPO, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, "PYTHONWARNINGS": "default"},
    )


def expected_verdicts(corpus: Path) -> dict[Path, str]:
    with (corpus / "index.csv").open() as f:
        return {(corpus / row["path"]).resolve(): row["expected"] for row in csv.DictReader(f)}


def test_version_is_fast_and_needs_no_display() -> None:
    result = tandem("--version", timeout=30)
    assert result.returncode == 0
    assert result.stdout.startswith("tandem ")


@pytest.mark.slow
def test_inspect_decode_whole_corpus_gives_every_file_a_verdict(corpus: Path) -> None:
    result = tandem("inspect", str(corpus), "--json", "--decode", "--timeout", "60")
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    verdicts = {Path(f["path"]).resolve(): f for f in report["files"]}
    expected = expected_verdicts(corpus)

    # Every indexed file was found and judged (index.csv and the README are not DICOM).
    assert set(expected) <= set(verdicts)
    for path, want in expected.items():
        got = verdicts[path]
        assert got["status"] in ("ok", "error")
        if got["status"] == "error":
            assert got["error"], f"{path}: an error without a message"
        # File-level errors in the corpus must be refused; series-level ones
        # (dicom2nifti failing/) decode per file and are judged on the series.
        if want.startswith("error:") and "dicom2nifti" not in str(path):
            assert got["status"] == "error", f"{path}: expected {want}, got ok"
        if want in ("ok",) and got.get("has_pixel_data"):
            assert got["status"] == "ok", f"{path}: expected ok, got {got['error']}"
            assert got["pixels"], f"{path}: image not decoded"

    # Nothing printed by decoders or pydicom leaks into stdout (it is JSON).
    assert report["summary"]["files"] == len(report["files"])


def test_inspect_reports_series_warnings_for_failing_dicom2nifti(corpus: Path) -> None:
    result = tandem("inspect", str(corpus / "dicom2nifti" / "failing"), "--json", timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
    kinds = {w["kind"] for s in report["series"] for w in s["warnings"]}
    assert {"gantry_tilt", "not_a_volume", "too_few_slices", "inconsistent_slice_increment",
            "inconsistent_orientation"} <= kinds


def test_inspect_series_fields_on_a_real_ct(corpus: Path) -> None:
    result = tandem("inspect", str(corpus / "dcmqi" / "ct-3slice"), "--json", timeout=120)
    report = json.loads(result.stdout)
    [series] = report["series"]
    assert series["modality"] == "CT"
    assert series["images"] == 3
    assert series["dimensions"] == [512, 512, 3]
    assert series["spacing"][2] == pytest.approx(1.0, abs=0.01)
    assert series["warnings"] == []


def test_inspect_missing_path_is_reported_not_fatal(tmp_path: Path) -> None:
    result = tandem("inspect", str(tmp_path / "nope"), "--json", timeout=60)
    assert result.returncode == 0
    assert "no such file" in result.stderr


def test_inspect_decode_accepts_a_path_relative_to_the_callers_folder(corpus: Path) -> None:
    """The decoder workers run in another folder: a relative path must still be found."""
    compressed = corpus / "pydicom" / "MR_small_jp2klossless.dcm"
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "inspect", compressed.name, "--json", "--decode"],
        cwd=compressed.parent, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO)})
    assert result.returncode == 0, result.stderr
    (entry,) = json.loads(result.stdout)["files"]
    assert entry["status"] == "ok" and entry["pixels"]["shape"] == [1, 64, 64], entry
