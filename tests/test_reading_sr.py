"""DICOM exports of a reading and of AI results, on real radiographs written as DICOM.

Every file is checked by dicom3tools' ``dciodvfy`` (no "Error" line; warnings printed),
dumped by DCMTK's ``dsrdump`` (the finding labels are there) and read back with pydicom /
highdicom, whose coordinates must equal what was written (float32 Graphic Data).
"""

from __future__ import annotations

import csv
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset
from radiographs import dicom_from_picture

from imaging.db import StudyDatabase
from imaging.importer import import_paths
from inference.results import AnalysisResult, CaseScore, Finding
from reading.cad_sr import MAMMOGRAPHY_CAD_SR, mammo_cad_sr
from reading.concordance import AiFindingRef, Concordance, Pair
from reading.gsps_export import marks_gsps
from reading.model import AiDecision, Assessment, BreastAssessment, Mark, Reading
from reading.sources import source_datasets
from reading.sr_export import ai_sr, reader_sr, scoord, shape_from_scoord, write_exports

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"
JSRT = SHARED / "cxr" / "jsrt"
MIAS = SHARED / "mammo" / "mini_mias"
SHA = "3f" * 32


def _row(folder: Path, column: str, value: str) -> dict[str, str]:
    with (folder / "labels.csv").open(newline="") as f:
        return next(r for r in csv.DictReader(f) if r[column] == value)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is missing: apt-get install dicom3tools dcmtk")
    return path


def dciodvfy(path: Path) -> list[str]:
    """dciodvfy's messages about ``path``; fails the test on any "Error" line."""
    run = subprocess.run([_tool("dciodvfy"), str(path)], capture_output=True, text=True,
                         timeout=60)
    lines = [ln for ln in (run.stdout + run.stderr).splitlines()
             if ln.startswith(("Error", "Warning"))
             and "needed to build DICOMDIR" not in ln]  # dciodvfy's DICOMDIR hints
    for line in lines:
        print(f"dciodvfy {path.name}: {line}")
    errors = [ln for ln in lines if "Error" in ln]
    assert not errors, f"{path.name}: {errors}"
    return lines


def dsrdump(path: Path) -> str:
    run = subprocess.run([_tool("dsrdump"), str(path)], capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stderr
    assert "E:" not in run.stderr, run.stderr
    return run.stdout


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("images")
    jsrt = _row(JSRT, "patient_id", "JPCLN001")
    mias = _row(MIAS, "ref", "mdb001")
    return {
        "cxr": dicom_from_picture(JSRT / jsrt["file"], folder / "cxr.dcm", body_part="CHEST",
                                  view="PA", spacing_mm=float(jsrt["pixel_spacing_mm"])),
        "mg": dicom_from_picture(MIAS / mias["file"], folder / "mg.dcm", body_part="BREAST",
                                 modality="MG", view="MLO", laterality=mias["side"],
                                 orientation=("A", "FR"), spacing_mm=0.4),
    }


def _header(path: Path) -> Dataset:
    return pydicom.dcmread(path, stop_before_pixels=True)


def _nodule_box() -> tuple[tuple[float, float], tuple[float, float]]:
    row = _row(JSRT, "patient_id", "JPCLN001")
    x, y, r = float(row["nodule_x_px"]), float(row["nodule_y_px"]), \
        float(row["nodule_diameter_px"]) / 2
    return ((x - r, y - r), (x + r, y + r))


def _mass_box() -> tuple[float, float, float, float]:
    row = _row(MIAS, "ref", "mdb001")
    return (float(row["x_min"]), float(row["y_min"]), float(row["x_max"]), float(row["y_max"]))


def cxr_reading(ds: Dataset, *, signed: bool) -> Reading:
    sop = ds.SOPInstanceUID
    return Reading(
        "read-cxr", ds.StudyInstanceUID, "Dupont^Marie", "cxr", version=2, purpose="final",
        state="signed" if signed else "draft",
        signed_at="2025-03-12T10:20:00+00:00" if signed else None,
        marks=(Mark("m1", sop, 0, "box", _nodule_box(), "nodule_mass", "probable"),
               Mark("m2", sop, 0, "ellipse", ((20.0, 130.0), (60.5, 145.25)), "effusion"),
               Mark("m3", sop, 0, "point", ((100.5, 100.5),), "other", "possible"),
               Mark("m4", sop, 0, "polygon", ((10.0, 10.0), (30.0, 12.5), (20.0, 40.0)),
                    "consolidation")),
        assessment=Assessment(cxr="abnormal"), text="Nodule apical gauche, 9 mm.",
        ai_decisions=(AiDecision("cxr_normality@abc/1.2/0/0", "dismissed", "cicatrice"),))


def mammo_reading(ds: Dataset) -> Reading:
    x0, y0, x1, y1 = _mass_box()
    return Reading("read-mg", ds.StudyInstanceUID, "Durand^Luc", "mammo",
                   marks=(Mark("a", ds.SOPInstanceUID, 0, "ellipse", ((x0, y0), (x1, y1)),
                               "mass", "definite"),),
                   assessment=Assessment(breasts={"R": BreastAssessment(4, "b")}))


def mammo_result(path: Path, ds: Dataset) -> AnalysisResult:
    x0, y0, x1, y1 = _mass_box()
    return AnalysisResult(
        "mammo_lesions", "1.0.0", SHA, str(path), ds.SOPInstanceUID, 0,
        (int(ds.Rows), int(ds.Columns)), True,
        case_scores=(CaseScore("lesion", 0.83, "high_specificity"),),
        findings=(Finding("lesion", 0.8, "high_specificity", (x0 + 3, y0 - 2, x1 + 1, y1 + 4)),
                  Finding("lesion", 0.31, "high_sensitivity", (20.0, 30.0, 60.0, 80.0))))


def _items(items: Iterator[Dataset] | list[Dataset]) -> Iterator[Dataset]:
    for item in items:
        yield item
        yield from _items(item.get("ContentSequence", []))


def _scoords(sr: Dataset, concept: str) -> list[tuple[str, tuple[tuple[float, float], ...]]]:
    return [shape_from_scoord(i.GraphicType, i.GraphicData) for i in _items(sr.ContentSequence)
            if i.ValueType == "SCOORD" and i.ConceptNameCodeSequence[0].CodeMeaning == concept]


def _f32(points: tuple[tuple[float, float], ...]) -> list[tuple[float, float]]:
    return [(float(np.float32(x)), float(np.float32(y))) for x, y in points]


def test_scoord_mapping_is_the_identity_and_inverts() -> None:
    assert scoord("point", [(0.5, 0.5)])[1].tolist() == [[0.5, 0.5]]  # centre of pixel (0, 0)
    kind, data = scoord("box", [(30.0, 40.0), (10.0, 20.0)])
    assert kind == "POLYLINE" and data.tolist() == [[10, 20], [30, 20], [30, 40], [10, 40],
                                                    [10, 20]]
    kind, data = scoord("ellipse", [(10.0, 20.0), (30.0, 60.0)])  # taller than wide
    assert kind == "ELLIPSE" and data.tolist() == [[20, 20], [20, 60], [10, 40], [30, 40]]
    assert shape_from_scoord(kind, data.ravel().tolist()) == ("ellipse", ((10, 20), (30, 60)))
    poly = ((1.0, 2.0), (5.0, 2.0), (3.0, 9.0))
    kind, data = scoord("polygon", poly)
    assert shape_from_scoord(kind, data.ravel().tolist()) == ("polygon", poly)


def test_reader_sr_signed(study: dict[str, Path], tmp_path: Path) -> None:
    ds = _header(study["cxr"])
    reading = cxr_reading(ds, signed=True)
    (x0, y0), (x1, y1) = _nodule_box()
    agreed = AiFindingRef("cxr_normality@abc/1.2/0/1", "cxr_normality", "1", "ab" * 32,
                          ds.SOPInstanceUID, 0, "abnormal", 0.9, "high_specificity",
                          (x0 - 1, y0, x1, y1 + 2), ((x0 + x1) / 2, (y0 + y1) / 2))
    dismissed = AiFindingRef(reading.ai_decisions[0].finding_key, "cxr_normality", "1",
                             "ab" * 32, ds.SOPInstanceUID, 0, "abnormal", 0.5,
                             "high_sensitivity", None, (150.25, 180.5))
    concordance = Concordance(ds.StudyInstanceUID, reading.reading_id, (
        Pair("agreed", agreed, "m1", 0.7, 1.2, None),
        Pair("reader_only", None, "m2", None, None, None),
        Pair("ai_only", dismissed, None, None, None, "dismissed")), ())
    path = tmp_path / "sr.dcm"
    reader_sr(reading, {ds.SOPInstanceUID: ds}, concordance=concordance).save_as(
        path, enforce_file_format=True)
    dciodvfy(path)
    dump = dsrdump(path)
    for text in ("Nodule or mass", "Pleural effusion", "Lung consolidation", "Other finding",
                 "Plain chest X-ray", "Abnormal", "Dismissed", "cicatrice",
                 "Verification Flag   : VERIFIED", "Dupont^Marie", "Agreed with AI",
                 "Reader only", "(263654008,SCT,\"Abnormal\")"):
        assert text in dump, text
    sr = hd.sr.srread(path)
    assert sr.SOPClassUID == "1.2.840.10008.5.1.4.1.1.88.33"
    assert sr.VerifyingObserverSequence[0].VerifyingObserverName == "Dupont^Marie"
    assert sr.VerifyingObserverSequence[0].VerificationDateTime.startswith("20250312102000")
    assert isinstance(sr.content, hd.sr.MeasurementReport)
    groups = sr.content.get_planar_roi_measurement_groups()
    assert [g.finding_type.meaning if g.finding_type else "" for g in groups] == [
        "Nodule or mass", "Pleural effusion", "Other finding", "Lung consolidation",
        "Abnormal"]  # the last one: the dismissed AI finding, at its heatmap peak
    back = _scoords(sr, "Image Region")
    assert [(shape, _f32(pts)) for shape, pts in back] == [
        (m.shape, _f32(m.points)) for m in reading.marks] + [("point", [(150.25, 180.5)])]
    region = groups[0].roi
    assert region is not None
    assert region.ContentSequence[0].ReferencedSOPSequence[0].ReferencedSOPInstanceUID == \
        ds.SOPInstanceUID


def test_reader_sr_draft_is_unverified(study: dict[str, Path], tmp_path: Path) -> None:
    ds = _header(study["cxr"])
    path = tmp_path / "draft.dcm"
    reader_sr(cxr_reading(ds, signed=False), {ds.SOPInstanceUID: ds}).save_as(path)
    dciodvfy(path)
    sr = pydicom.dcmread(path)
    assert (sr.VerificationFlag, sr.CompletionFlag, sr.PreliminaryFlag) == (
        "UNVERIFIED", "PARTIAL", "PRELIMINARY")
    assert "VerifyingObserverSequence" not in sr


def test_mammo_reading_ai_gsps_and_cad(study: dict[str, Path], tmp_path: Path) -> None:
    ds = _header(study["mg"])
    sources = {ds.SOPInstanceUID: ds}
    reading, result = mammo_reading(ds), mammo_result(study["mg"], ds)

    ai = tmp_path / "ai.dcm"
    ai_sr([result], sources).save_as(ai, enforce_file_format=True)
    dciodvfy(ai)
    dump = dsrdump(ai)
    assert "Lesion" in dump and "Research use only" in dump and "Probability of lesion" in dump
    sr = pydicom.dcmread(ai)
    assert sr.DeviceSerialNumber == SHA and sr.ManufacturerModelName == "mammo_lesions"
    boxes = [(x0, y0, x1, y1) for _s, ((x0, y0), (x1, y1)) in _scoords(sr, "Image Region")]
    assert boxes == [tuple(float(np.float32(v)) for v in f.box_xyxy_px or ())
                     for f in result.findings]

    reader = tmp_path / "reader.dcm"
    reader_sr(reading, sources).save_as(reader, enforce_file_format=True)
    dciodvfy(reader)
    dump = dsrdump(reader)
    assert "4 - Suspicious" in dump and "Scattered fibroglandular densities" in dump
    assert '(4147007,SCT,"Mass")' in dump and "Right" in dump

    gsps_path = tmp_path / "gsps.dcm"
    marks_gsps(reading, sources).save_as(gsps_path, enforce_file_format=True)
    dciodvfy(gsps_path)
    gsps = pydicom.dcmread(gsps_path)
    annotation = gsps.GraphicAnnotationSequence[0]
    obj = annotation.GraphicObjectSequence[0]
    assert (gsps.Laterality, obj.GraphicType, obj.GraphicAnnotationUnits) == (
        "R", "ELLIPSE", "PIXEL")
    assert shape_from_scoord(obj.GraphicType, obj.GraphicData) == (
        "ellipse", tuple(_f32(reading.marks[0].points)))
    assert annotation.TextObjectSequence[0].UnformattedTextValue == "mass (definite)"
    assert hd.color.CIELabColor.from_dicom_value(
        gsps.GraphicLayerSequence[0].GraphicLayerRecommendedDisplayCIELabValue).to_rgb() == \
        (0, 255, 255)

    cad_path = tmp_path / "cad.dcm"
    mammo_cad_sr([result], sources).save_as(cad_path, enforce_file_format=True)
    dciodvfy(cad_path)
    dump = dsrdump(cad_path)
    assert "Mammography CAD SR Document" in dump
    assert '"Single Image Finding")=(4147007,SCT,"Mass")' in dump
    assert '"Certainty of Finding")="80.0"' in dump and "Presentation Optional" in dump
    cad = pydicom.dcmread(cad_path)
    assert cad.SOPClassUID == MAMMOGRAPHY_CAD_SR
    x0, y0, x1, y1 = result.findings[0].box_xyxy_px or (0, 0, 0, 0)
    assert _scoords(cad, "Center")[0] == ("point", (((x0 + x1) / 2, (y0 + y1) / 2),))
    assert _scoords(cad, "Outline")[0] == ("box", tuple(_f32(((x0, y0), (x1, y1)))))


def test_sources_and_write_exports(study: dict[str, Path], tmp_path: Path) -> None:
    with StudyDatabase(tmp_path / "db.sqlite") as db:
        import_paths(db, [study["mg"]])
        ds = _header(study["mg"])
        sources = source_datasets(db, ds.StudyInstanceUID)
    assert list(sources) == [ds.SOPInstanceUID]
    assert "PixelData" not in sources[ds.SOPInstanceUID]
    written = write_exports(mammo_reading(ds), [mammo_result(study["mg"], ds)], sources,
                            tmp_path / "out")
    assert [p.name for p in written] == [
        "SR_reader_v1.dcm", f"SR_ai_mammo_lesions_{SHA[:12]}.dcm", "GSPS_reader_v1.dcm",
        "SR_mammo_cad.dcm"]
    for path in written:
        dciodvfy(path)
        assert pydicom.dcmread(path).StudyInstanceUID == ds.StudyInstanceUID
