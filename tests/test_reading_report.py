"""Key images and the one-page PDF report, on real radiographs (JSRT nodule, FracAtlas hand)."""

from __future__ import annotations

import csv
from dataclasses import replace
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image
from pypdf import PdfReader
from radiographs import dicom_from_picture

from inference.results import AnalysisResult, CaseScore, Finding
from reading.concordance import AiFindingRef, compare
from reading.key_images import AMBER, CYAN, KeyImage, display_rgb, key_image
from reading.model import AiDecision, Assessment, Mark, Reading
from reading.report_pdf import write_report
from reading.report_text import date, percent

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"
JSRT = SHARED / "cxr" / "jsrt"
FRACATLAS = SHARED / "fracture" / "fracatlas"


def _row(labels: Path, column: str, value: str) -> dict[str, str]:
    with labels.open(encoding="utf-8") as handle:
        return next(r for r in csv.DictReader(handle) if r[column] == value)


@pytest.fixture(scope="module")
def chest(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, dict[str, str]]:
    """JPCLN001 (nodule at 178.7, 75.7 px) as 12-bit MONOCHROME1 DICOM: the display must
    still be the picture (window + inversion applied as the viewer does)."""
    row = _row(JSRT / "labels.csv", "patient_id", "JPCLN001")
    path = dicom_from_picture(JSRT / row["file"], tmp_path_factory.mktemp("cxr") / "c.dcm",
                              body_part="CHEST", view="PA", twelve_bit=True, monochrome1=True,
                              patient="DUPONT^MARIE")
    return path, str(pydicom.dcmread(path).SOPInstanceUID), row


@pytest.fixture(scope="module")
def hand(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, dict[str, str]]:
    """IMG0000019: a 512 x 640 hand radiograph with one FracAtlas fracture box."""
    row = _row(FRACATLAS / "labels.csv", "image_id", "IMG0000019")
    path = dicom_from_picture(FRACATLAS / row["file"], tmp_path_factory.mktemp("bone") / "h.dcm",
                              body_part="HAND", view="PA", spacing_mm=0.1,
                              patient="MARTIN^PAUL")
    return path, str(pydicom.dcmread(path).SOPInstanceUID), row


def _box(row: dict[str, str]) -> tuple[float, float, float, float]:
    return (float(row["x_min"]), float(row["y_min"]), float(row["x_max"]), float(row["y_max"]))


def _is(pixel: np.ndarray, colour: tuple[int, int, int], tolerance: int = 40) -> bool:
    return bool(np.abs(pixel.astype(int) - np.asarray(colour)).max() <= tolerance)


def _ai(uid: str, box: tuple[float, float, float, float], op: str, score: float = 0.8,
        index: int = 0) -> AiFindingRef:
    x0, y0, x1, y1 = box
    return AiFindingRef(f"fracture_boxes@abc/{uid}/0/{index}", "fracture_boxes", "1.0.0",
                        "ab" * 32, uid, 0, "fracture", score, op, box,
                        ((x0 + x1) / 2, (y0 + y1) / 2))


def _edge_fraction(key: KeyImage, box: tuple[float, float, float, float],
                   colour: tuple[int, int, int]) -> float:
    """Share of the pixels along the box's bottom edge (corners left out) of ``colour``."""
    x0, _, x1, y1 = (v * key.scale for v in box)
    row = round(y1)
    xs = range(round(x0) + 8, round(x1) - 8)
    return sum(_is(key.rgb[row, x], colour) for x in xs) / len(xs)


# --------------------------------------------------------------------------- key images


def test_display_is_the_file_window_with_monochrome1_inverted(chest: tuple) -> None:
    path, _, row = chest
    picture = np.asarray(Image.open(JSRT / row["file"]).convert("L"), dtype=int)
    shown = display_rgb(path)
    assert shown.shape == (*picture.shape, 3)
    assert np.abs(shown[..., 0].astype(int) - picture).max() <= 1


def test_reader_marks_are_cyan_at_their_edges_and_labelled(chest: tuple) -> None:
    path, uid, row = chest
    x, y = float(row["nodule_x_px"]), float(row["nodule_y_px"])
    r = float(row["nodule_diameter_px"])
    box = (x - r, y - r, x + r, y + r)
    marks = [Mark("m1", uid, 0, "box", ((box[0], box[1]), (box[2], box[3])), "nodule_mass"),
             Mark("m2", uid, 0, "point", ((60.0, 150.0),), "effusion"),
             Mark("other", "1.2.3", 0, "box", ((0, 0), (50, 50)), "other")]  # another image
    key = key_image(path, 0, marks=marks, ai=[], heatmap=None)
    plain = key_image(path, 0, marks=[], ai=[], heatmap=None)
    assert key.scale == pytest.approx(512 / 224)  # small images are enlarged for legibility
    assert key.rgb.shape == (512, 512, 3)  # marks only: no research band
    s = key.scale
    for px, py in [((box[0] + box[2]) / 2, box[1]), (box[2], (box[1] + box[3]) / 2),
                   ((box[0] + box[2]) / 2, box[3]), (box[0], (box[1] + box[3]) / 2)]:
        assert _is(key.rgb[round(py * s), round(px * s)], CYAN, 10), (px, py)
    centre = key.rgb[round(y * s), round(x * s)]
    assert not _is(centre, CYAN, 60)
    assert np.array_equal(centre, plain.rgb[round(y * s), round(x * s)])  # inside untouched
    cx, cy = round(60 * s), round(150 * s)  # point: circle + cross arms around the centre
    arm = key.rgb[cy, cx - 14 : cx - 5]  # line 2 px: ring radius 8, arm to 16
    assert sum(_is(p, CYAN, 10) for p in arm) >= 6
    assert not _is(key.rgb[cy, cx], CYAN, 60)  # the centre itself is left visible
    # the label above the box adds cyan pixels outside the box outline
    above = key.rgb[: round(box[1] * s) - 4, round(box[0] * s) - 10 : round(box[2] * s) + 120]
    assert sum(_is(p, CYAN, 30) for p in above.reshape(-1, 3)) > 20
    # a mark on another image is not drawn: top-left corner identical to the plain render
    assert np.array_equal(key.rgb[:100, :100], plain.rgb[:100, :100])


def test_ai_boxes_solid_at_high_specificity_dashed_otherwise(hand: tuple) -> None:
    path, uid, row = hand
    truth = _box(row)
    elsewhere = (100.0, 400.0, 220.0, 500.0)
    key = key_image(path, 0, marks=[], heatmap=None,
                    ai=[_ai(uid, truth, "high_specificity"),
                        _ai(uid, elsewhere, "high_sensitivity", 0.4, 1)])
    assert key.scale == 1.0 and key.rgb.shape[1] == 512  # 512 x 640 kept as is
    assert _edge_fraction(key, truth, AMBER) > 0.95
    dashed = _edge_fraction(key, elsewhere, AMBER)
    assert 0.3 < dashed < 0.7


def test_research_band_only_when_ai_is_drawn(hand: tuple) -> None:
    path, uid, row = hand
    mark = Mark("m", uid, 0, "box", ((276.0, 206.0), (337.0, 239.0)), "fracture")
    without = key_image(path, 0, marks=[mark], ai=[], heatmap=None)
    assert without.rgb.shape == (640, 512, 3)
    with_ai = key_image(path, 0, marks=[mark], ai=[_ai(uid, _box(row), "high_specificity")],
                        heatmap=None)
    band = with_ai.rgb[640:]
    assert band.shape[0] >= 16 and band.shape[1] == 512
    white = (band.min(axis=2) > 200).sum()
    assert white > 200  # the burned-in "research use" text
    assert (band.max(axis=2) < 30).mean() > 0.6  # on a black band
    # a heatmap alone also counts as AI content
    hot = np.zeros((8, 8), np.float32)
    hot[2, 3] = 1.0
    heat = key_image(path, 0, marks=[], ai=[], heatmap=hot)
    assert heat.rgb.shape[0] > 640


def test_heatmap_is_blended_where_it_is_hot_only(hand: tuple) -> None:
    path, _, _ = hand
    values = np.zeros((10, 8), np.float32)
    values[5, 4] = 0.7  # image rows 320..384, columns 256..320 (inferno: orange)
    plain = key_image(path, 0, marks=[], ai=[], heatmap=None)
    heat = key_image(path, 0, marks=[], ai=[], heatmap=values)
    inside, outside = heat.rgb[350, 290].astype(int), heat.rgb[100, 100].astype(int)
    assert inside[0] > inside[2] + 60  # warm, where the plain image is grey
    assert not np.array_equal(inside, plain.rgb[350, 290])
    assert np.array_equal(outside, plain.rgb[100, 100])


# --------------------------------------------------------------------------- PDF report


def _result(uid: str, path: Path, row: dict[str, str]) -> AnalysisResult:
    x0, y0, x1, y1 = _box(row)
    return AnalysisResult(
        "fracture_boxes", "1.0.0", "ab" * 32, str(path), uid, 0, (640, 512), True,
        case_scores=(CaseScore("fracture", 0.873, "high_specificity", (0.3, 0.6)),),
        findings=(Finding("fracture", 0.873, "high_specificity", (x0, y0, x1, y1)),
                  Finding("fracture", 0.41, "high_sensitivity", (100.0, 400.0, 220.0, 500.0))))


def _reading(uid: str, row: dict[str, str], study: str, **changes: object) -> Reading:
    x0, y0, x1, y1 = _box(row)
    base = Reading("r-hand", study, "dr.martin", "bone", version=2, purpose="final",
                   previous_id="r-first", state="signed",
                   started_at="2025-03-12T09:00:00+00:00",
                   signed_at="2025-03-12T09:02:31+00:00",
                   marks=(Mark("m1", uid, 0, "box", ((x0 + 2, y0 + 1), (x1 - 2, y1)),
                               "fracture", "definite"),
                          Mark("m2", uid, 0, "point", ((400.0, 120.0),), "dislocation")),
                   assessment=Assessment(fracture_by_image={uid: True}),
                   text="Fracture de la base du 5e métacarpien.",
                   ai_decisions=(AiDecision(f"fracture_boxes@{'ab' * 6}/{uid}/0/1",
                                            "dismissed", "sésamoïde"),))
    return replace(base, **changes)  # type: ignore[arg-type]


def _pdf_text(path: Path) -> tuple[int, str]:
    reader = PdfReader(path)
    return len(reader.pages), "\n".join(page.extract_text() or "" for page in reader.pages)


PATIENT = {"name": "MARTIN^PAUL", "id": "AI-IMG0000019", "birth_date": "19700101",
           "sex": "M", "study_date": "20250312", "description": "MAIN F"}
NAMES = {"fracture_boxes": "Fractures (boîtes)"}


def test_report_french_one_page_with_reading_ai_and_concordance(hand: tuple,
                                                                tmp_path: Path) -> None:
    path, uid, row = hand
    study = str(pydicom.dcmread(path).StudyInstanceUID)
    reading = _reading(uid, row, study)
    results = [_result(uid, path, row)]
    concordance = compare(reading, results, mm_per_px={uid: 0.1})
    assert concordance.counts() == {"agreed": 1, "ai_only": 1, "reader_only": 1}
    from reading.concordance import ai_findings

    key = key_image(path, 0, marks=reading.marks, ai=ai_findings(results), heatmap=None)
    out = write_report(tmp_path / "r.pdf", reading=reading, concordance=concordance,
                       results=results, key_images=[key], patient=PATIENT,
                       model_names=NAMES)
    pages, words = _pdf_text(out)
    flat = " ".join(words.split())
    assert pages == 1
    for expected in ("Compte rendu de double lecture", "MARTIN Paul", "AI-IMG0000019",
                     "01/01/1970", "12/03/2025", "dr.martin", "lecture finale",
                     "Fracture", "Luxation", "certain", "Fractures (boîtes) 1.0.0",
                     "abababababab", "87,3 %", "positif", "Usage de recherche uniquement",
                     "concordants : 1", "IA seule (omission possible) : 1",
                     "radiologue seul : 1", "rejetée — sésamoïde", "5e métacarpien",
                     "Images clés", "DX HAND PA"):
        assert expected in flat, expected
    assert "BROUILLON" not in flat


def test_report_english_draft_and_many_marks_still_one_page(hand: tuple,
                                                           tmp_path: Path) -> None:
    path, uid, row = hand
    many = tuple(Mark(f"m{i}", uid, 0, "point", ((10.0 + 7 * i, 300.0),), "other")
                 for i in range(70))
    reading = _reading(uid, row, "1.2.3", state="draft", signed_at=None, marks=many)
    results = [_result(uid, path, row)]
    keys = [key_image(path, 0, marks=many[:3], ai=[], heatmap=None, lang="en")] * 4
    out = write_report(tmp_path / "en.pdf", reading=reading, concordance=None,
                       results=results, key_images=keys, patient=PATIENT, lang="en")
    pages, words = _pdf_text(out)
    flat = " ".join(words.split())
    assert pages == 1
    for expected in ("Double-reading report", "DRAFT — not signed", "not signed",
                     "2025-03-12", "87.3%", "Research use only — not for clinical use",
                     "Concordance not computed.", "… +"):
        assert expected in flat, expected


def test_number_and_date_formats() -> None:
    assert percent(0.8734, "fr") == "87,3\u00a0%" and percent(0.8734, "en") == "87.3%"
    assert date("20250312", "fr") == "12/03/2025" and date("2025-03-12T10:00", "en") == \
        "2025-03-12"
    assert date("unknown", "fr") == "unknown"
