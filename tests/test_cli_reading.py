"""``tandem reading show|import`` and study resolution, on real JSRT radiographs as DICOM."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pydicom
import pytest
from radiographs import dicom_from_picture

from app.cli import main
from app.cli_reading import run_reading_import, run_reading_show
from app.cli_study import StudyNotFound, resolve_study
from imaging.db import StudyDatabase
from imaging.paths import database_path
from reading.store import ReadingStore

JSRT = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "cxr" / "jsrt"


def _nodule(name: str) -> tuple[Path, float, float, float]:
    """A JSRT picture with its nodule centre and diameter, in the picture's pixels."""
    with (JSRT / "labels.csv").open(newline="", encoding="utf-8") as f:
        row = next(r for r in csv.DictReader(f) if r["file"] == f"images/{name}.jpg")
    return (JSRT / row["file"], float(row["nodule_x_px"]), float(row["nodule_y_px"]),
            float(row["nodule_diameter_px"]))


@pytest.fixture
def chest(tmp_path: Path) -> tuple[Path, pydicom.Dataset, tuple[float, float, float]]:
    picture, x, y, d = _nodule("JPCLN001")
    (tmp_path / "in").mkdir()
    path = dicom_from_picture(picture, tmp_path / "in" / "chest.dcm", body_part="CHEST",
                              view="PA", spacing_mm=1.6)
    return path, pydicom.dcmread(path, stop_before_pixels=True), (x, y, d)


def _reading_json(tmp_path: Path, ds: pydicom.Dataset, nodule: tuple[float, float, float],
                  **extra: Any) -> Path:
    x, y, d = nodule
    data = {"kind": "cxr", "state": "signed",
            "marks": [{"id": "n1", "sop_instance_uid": ds.SOPInstanceUID, "frame": 0,
                       "shape": "box", "points": [[x - d / 2, y - d / 2], [x + d / 2, y + d / 2]],
                       "label": "nodule_mass", "confidence": "definite"}],
            "assessment": {"cxr": "abnormal"}, "text": "Nodule apical gauche.", **extra}
    path = tmp_path / "reading.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_resolve_study_by_uid_prefix_and_path(tmp_path: Path, chest: Any) -> None:
    path, ds, _ = chest
    db = StudyDatabase(database_path())
    try:
        uid = resolve_study(db, str(path))  # imported first
        assert uid == ds.StudyInstanceUID
        assert resolve_study(db, str(path)) == uid  # already imported: found by its source
        assert resolve_study(db, str(path.parent)) == uid  # a folder
        assert resolve_study(db, uid) == uid
        assert resolve_study(db, uid[:-3]) == uid
        other = dicom_from_picture(_nodule("JPCLN002")[0], path.parent / "other.dcm",
                                   body_part="CHEST")
        with pytest.raises(StudyNotFound, match="holds 2 studies"):
            resolve_study(db, str(path.parent))
        second = resolve_study(db, str(other))
        assert second == pydicom.dcmread(other).StudyInstanceUID != uid
        with pytest.raises(StudyNotFound, match="is the start of 2 Study Instance UIDs"):
            resolve_study(db, "1.2.826.0.1")  # pydicom's UID root, shared by both
        with pytest.raises(StudyNotFound, match=r"no study '9\.9\.9'"):
            resolve_study(db, "9.9.9")
        junk = tmp_path / "junk"
        junk.mkdir()
        (junk / "notes.txt").write_text("not dicom")
        with pytest.raises(StudyNotFound, match="no DICOM image found"):
            resolve_study(db, str(junk))
    finally:
        db.close()


def test_import_then_show_json(tmp_path: Path, chest: Any,
                               capsys: pytest.CaptureFixture[str]) -> None:
    path, ds, nodule = chest
    reading_file = _reading_json(tmp_path, ds, nodule)
    assert run_reading_import(str(path), reading_file, reader="dr.martin") == 0
    out, err = capsys.readouterr()
    reading_id = out.strip()
    assert len(reading_id) == 36 and err == ""  # a fresh uuid4

    assert run_reading_show(ds.StudyInstanceUID[:-2], as_json=True) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["study_instance_uid"] == ds.StudyInstanceUID
    assert shown["status"] == "read" and shown["concordance"] is None
    [version] = shown["versions"]
    assert version["reading_id"] == reading_id and version["reader"] == "dr.martin"
    assert version["state"] == "signed" and version["signed_at"] and version["version"] == 1
    x, y, d = nodule
    assert version["marks"][0]["points"] == [[x - d / 2, y - d / 2], [x + d / 2, y + d / 2]]
    assert version["assessment"]["cxr"] == "abnormal"

    store = ReadingStore(database_path())
    assert [e.action for e in store.audit(study_uid=ds.StudyInstanceUID)] == ["imported"]
    store.save_concordance(reading_id, {"pairs": [{"status": "ai_only"}], "cases": []})
    store.close()
    assert run_reading_show(ds.StudyInstanceUID, as_json=True) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["status"] == "discordant"
    assert shown["concordance"]["pairs"] == [{"status": "ai_only"}]


def test_show_human_form_one_block_per_version(tmp_path: Path, chest: Any,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    path, ds, nodule = chest
    assert run_reading_import(str(path), _reading_json(tmp_path, ds, nodule), reader=None) == 0
    first = capsys.readouterr().out.strip()
    store = ReadingStore(database_path())
    amend = store.follow_up(first, "amendment")
    store.close()
    assert run_reading_show(str(path), as_json=False) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"study {ds.StudyInstanceUID}: read, 2 versions\n")
    assert "version 1 (first) signed" in out
    assert f"version 2 (amendment after {first}) draft" in out
    assert out.count("mark n1: nodule_mass [definite] box") == 2
    assert f"on {ds.SOPInstanceUID} frame 0" in out
    assert "assessment  abnormal" in out and "Nodule apical gauche." in out
    assert amend.reading_id in out


def test_show_a_study_without_reading(chest: Any, capsys: pytest.CaptureFixture[str]) -> None:
    path, ds, _ = chest
    assert run_reading_show(str(path), as_json=True) == 0
    assert json.loads(capsys.readouterr().out) == {
        "study_instance_uid": ds.StudyInstanceUID, "versions": [], "status": "unread",
        "concordance": None}


@pytest.mark.parametrize("body_part", ["CHEST", ""])
def test_import_fills_in_what_the_json_leaves_out(tmp_path: Path, chest: Any, body_part: str,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    path, ds, nodule = chest
    if not body_part:  # BodyPartExamined left empty: the study description says chest
        full = pydicom.dcmread(path)
        full.BodyPartExamined, full.StudyDescription = "", "RX THORAX FACE"
        full.save_as(path)
    reading_file = _reading_json(tmp_path, ds, nodule, state="draft",
                                 study_instance_uid=ds.StudyInstanceUID,
                                 reading_id="research-0001", reader="json-reader")
    data = json.loads(reading_file.read_text())
    del data["kind"]  # DX + CHEST (or + "THORAX" in the description) says cxr
    reading_file.write_text(json.dumps(data))
    assert run_reading_import(str(path), reading_file, reader=None) == 0
    assert capsys.readouterr().out.strip() == "research-0001"
    store = ReadingStore(database_path())
    stored = store.get("research-0001")
    store.close()
    assert stored is not None
    assert (stored.kind, stored.reader, stored.state) == ("cxr", "json-reader", "draft")


@pytest.mark.parametrize(("change", "words"), [
    ({"marks": [{"id": "n1", "sop_instance_uid": "SOP", "frame": 0, "shape": "box",
                 "points": [[1, 2], [3, 4]], "label": "fracture"}]},
     "marks[0].label: 'fracture' is not a cxr label"),
    ({"marks": [{"id": "n1", "sop_instance_uid": "1.2.3.4.5", "frame": 0, "shape": "point",
                 "points": [[1, 2]], "label": "effusion"}]},
     "marks[0].sop_instance_uid: 1.2.3.4.5 is not an image of study"),
    ({"study_instance_uid": "1.2.3.999"}, "the reading is for study 1.2.3.999"),
    ({"assessment": {"breasts": {"R": {"birads": 7}}}}, "assessment.breasts.R.birads"),
])
def test_import_refuses_bad_readings(tmp_path: Path, chest: Any, change: dict[str, Any],
                                     words: str, capsys: pytest.CaptureFixture[str]) -> None:
    path, ds, nodule = chest
    reading_file = _reading_json(tmp_path, ds, nodule, **change)
    if "marks" in change and change["marks"][0]["sop_instance_uid"] == "SOP":
        change["marks"][0]["sop_instance_uid"] = ds.SOPInstanceUID
        reading_file = _reading_json(tmp_path, ds, nodule, **change)
    assert run_reading_import(str(path), reading_file, reader=None) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"tandem reading import: {reading_file}: ")
    assert words in err and "Traceback" not in err
    store = ReadingStore(database_path())
    assert store.versions(ds.StudyInstanceUID) == [] and store.audit() == []
    store.close()


def test_import_file_and_study_errors(tmp_path: Path, chest: Any,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    path, ds, nodule = chest
    missing = tmp_path / "nope.json"
    assert run_reading_import(str(path), missing, reader=None) == 2
    assert capsys.readouterr().err == f"tandem reading import: {missing}: no such file\n"
    broken = tmp_path / "broken.json"
    broken.write_text('{"kind": "cxr",\n  "marks": [}')
    assert run_reading_import(str(path), broken, reader=None) == 2
    assert "not valid JSON (line 2, column" in capsys.readouterr().err
    listed = tmp_path / "list.json"
    listed.write_text("[]")
    assert run_reading_import(str(path), listed, reader=None) == 2
    assert "must be a JSON object" in capsys.readouterr().err
    assert run_reading_import("7.7.7", _reading_json(tmp_path, ds, nodule), reader=None) == 2
    assert "no study '7.7.7'" in capsys.readouterr().err
    assert run_reading_show("7.7.7", as_json=True) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("tandem reading show: no study '7.7.7'")
    # the same id twice: the store refuses, nothing changes
    twice = _reading_json(tmp_path, ds, nodule, reading_id="fixed-id")
    assert run_reading_import(str(path), twice, reader=None) == 0
    capsys.readouterr()
    assert run_reading_import(str(path), twice, reader=None) == 2
    assert "reading id fixed-id is already stored" in capsys.readouterr().err


def test_through_the_tandem_command(tmp_path: Path, chest: Any,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    path, ds, nodule = chest
    reading_file = _reading_json(tmp_path, ds, nodule)
    assert main(["reading", "import", str(path), str(reading_file), "--reader", "cli"]) == 0
    reading_id = capsys.readouterr().out.strip()
    assert main(["reading", "show", ds.StudyInstanceUID, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [v["reading_id"] for v in shown["versions"]] == [reading_id]
    assert shown["versions"][0]["reader"] == "cli"
