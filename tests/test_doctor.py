"""``tandem doctor``: healthy on a fresh install; finds a tampered model and a broken database."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import pytest

from app.cli_doctor import add_doctor_parser, run_doctor
from imaging.db import StudyDatabase
from imaging.importer import import_paths
from imaging.paths import database_path

REPO = Path(__file__).resolve().parents[1]
CT3 = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "dicom" / "dcmqi" / "ct-3slice"


def _doctor(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    parser = argparse.ArgumentParser(prog="tandem")
    add_doctor_parser(parser.add_subparsers(dest="command"))
    code = run_doctor(parser.parse_args(["doctor", "--json", *args]))
    return code, json.loads(capsys.readouterr().out)


def _import_ct() -> None:
    with StudyDatabase() as db:
        report = import_paths(db, [CT3], copy=False)
    assert report.new == 3


def test_fresh_install_is_healthy(capsys: pytest.CaptureFixture[str]) -> None:
    code, report = _doctor(capsys)
    assert code == 0, report["problems"]
    assert report["healthy"] and report["problems"] == []
    assert report["database"]["exists"] is False  # the doctor creates nothing
    assert not database_path().exists()
    assert "CPUExecutionProvider" in report["providers"]
    assert report["gpu"]["provider_used"] in report["providers"]
    assert report["libraries"]["pydicom"].startswith("3.")
    ids = {m["id"]: m for m in report["models"]}
    assert set(ids) == {"cxr_normality", "fracture_boxes", "mammo_lesions"}
    for model in ids.values():
        assert model["usable"] and model["sha256_actual"] == model["sha256_expected"]
        assert len(model["sha256_actual"]) == 64
    assert report["pacs"]["local_ae_title"] == "TANDEM" and report["pacs"]["nodes"] == 0
    assert report["data"]["free_bytes"] > 0


def test_database_counts_and_text_output(capsys: pytest.CaptureFixture[str]) -> None:
    _import_ct()
    code, report = _doctor(capsys)
    assert code == 0, report["problems"]
    db = report["database"]
    assert db["quick_check"] == "ok"
    assert db["counts"]["instances"] == 3 and db["counts"]["studies"] == 1
    parser = argparse.ArgumentParser(prog="tandem")
    add_doctor_parser(parser.add_subparsers(dest="command"))
    assert run_doctor(parser.parse_args(["doctor"])) == 0
    text = capsys.readouterr().out
    assert "3 instances" in text and text.rstrip().endswith("healthy")


def test_tampered_model_copy_is_reported(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    models = tmp_path / "models"
    copy = models / "cxr_normality"
    shutil.copytree(REPO / "onnx_models" / "cxr_normality", copy)
    onnx_file = copy / "model.onnx"
    data = bytearray(onnx_file.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, one byte changed: only the sha256 can tell
    onnx_file.write_bytes(bytes(data))
    monkeypatch.setenv("TANDEM_MODELS_DIR", str(models))
    code, report = _doctor(capsys)
    assert code == 1
    (tampered,) = [m for m in report["models"] if m["folder"] == str(copy)]
    assert tampered["usable"] is False
    assert tampered["sha256_actual"] != tampered["sha256_expected"]
    assert any("sha256 mismatch" in p for p in tampered["problems"])
    assert any(str(copy) in p and "sha256 mismatch" in p for p in report["problems"])
    # The bundled model of the same id is still fine and still used.
    bundled = [m for m in report["models"] if m["id"] == "cxr_normality" and m["usable"]]
    assert len(bundled) == 1


def test_corrupt_database_is_reported(capsys: pytest.CaptureFixture[str]) -> None:
    _import_ct()
    path = database_path()
    raw = bytearray(path.read_bytes())
    page = 4096
    assert len(raw) >= 3 * page
    raw[page:len(raw)] = b"\xa5" * (len(raw) - page)  # keep the header page, trash the rest
    path.write_bytes(bytes(raw))
    code, report = _doctor(capsys)
    assert code == 1
    assert report["database"]["quick_check"] != "ok"
    assert any(str(path) in p for p in report["problems"])


def test_file_that_is_not_a_database_is_reported(capsys: pytest.CaptureFixture[str]) -> None:
    path = database_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"this is not SQLite" * 100)
    code, report = _doctor(capsys)
    assert code == 1
    assert any("database" in p and str(path) in p for p in report["problems"])


def test_counts_crash_reports_but_not_its_own_native_crash_file(
        capsys: pytest.CaptureFixture[str]) -> None:
    from app.logs import setup_logging, teardown_logging, write_crash_report
    from imaging.paths import data_dir

    setup_logging(data_dir())  # prepares this process's native-crash file
    try:
        assert _doctor(capsys)[1]["logs"]["crash_reports"] == 0
        try:
            raise RuntimeError("boom")
        except RuntimeError as exc:
            report = write_crash_report(type(exc), exc, exc.__traceback__)
        logs = _doctor(capsys)[1]["logs"]
        assert logs["crash_reports"] == 1 and logs["newest_crash_report"] == str(report)
    finally:
        teardown_logging()
