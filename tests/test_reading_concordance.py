"""Concordance: matching rules at their edges (synthetic results) and on real images.

Real images: JSRT nodules, FracAtlas fractures and mini-MIAS lesions written as DICOM,
run through the bundled models; a reading marks the ground-truth location. The expected
agreed / AI-only / reader-only counts are derived here from the model's actual findings
with this file's own IoU, distance and heatmap-region code (one mark per image, so the
one-to-one matching reduces to "does any AI finding satisfy the rule").
"""

from __future__ import annotations

import csv
import json
import math
from collections import deque
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from radiographs import dicom_from_picture

from imaging.header import read_header
from inference.engine import AnalysisEngine
from inference.results import AnalysisResult, CaseScore, Finding, HeatmapRef
from inference.source import SourceImage, load_sources
from reading.concordance import (
    Concordance,
    MatchRule,
    ai_findings,
    compare,
    finding_key,
)
from reading.model import AiDecision, Assessment, BreastAssessment, Mark, Reading
from reading.study_ai import image_info

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "datasets"
SHA = "ab" * 32
SOP, OTHER = "1.2.3.1", "1.2.3.2"


# --------------------------------------------------------------------------- builders


def _result(model_id: str, sop: str = SOP, *, findings: Sequence[Finding] = (),
            case: CaseScore | None = None, heatmaps: Sequence[HeatmapRef] = (),
            ran: bool = True, frame: int = 0, size: tuple[int, int] = (1000, 1000)
            ) -> AnalysisResult:
    return AnalysisResult(model_id, "1.0.0", SHA, "x.dcm", sop, frame, size, applicable=ran,
                          reason="" if ran else "view LAT is not PA/AP",
                          case_scores=() if case is None else (case,),
                          findings=tuple(findings), heatmaps=tuple(heatmaps))


def _box(x0: float, y0: float, x1: float, y1: float, label: str = "fracture",
         score: float = 0.5) -> Finding:
    return Finding(label, score, "high_sensitivity", box_xyxy_px=(x0, y0, x1, y1))


def _mark(mark_id: str, shape: str, points: Sequence[tuple[float, float]],
          label: str = "fracture", sop: str = SOP, frame: int = 0) -> Mark:
    return Mark(mark_id, sop, frame, shape, tuple(points), label)  # type: ignore[arg-type]


def _reading(kind: str, marks: Sequence[Mark], assessment: Assessment | None = None,
             decisions: Sequence[AiDecision] = ()) -> Reading:
    return Reading("r1", "1.2.3", "dr", kind, state="signed",  # type: ignore[arg-type]
                   marks=tuple(marks), assessment=assessment or Assessment(),
                   ai_decisions=tuple(decisions))


def _statuses(concordance: Concordance) -> list[tuple[str, str | None]]:
    return [(p.status, p.mark_id) for p in concordance.pairs]


# --------------------------------------------------------------------------- rule edges


@pytest.mark.parametrize(("width", "agreed"), [(10.0, True), (9.99, False)])
def test_fracture_iou_edge(width: float, agreed: bool) -> None:
    """A 100×100 AI box and a box mark inside it of area width×100: IoU = width / 100.
    The centres are 45 mm apart (1 mm/px), so only the IoU ≥ 0.1 rule can match."""
    result = _result("fracture_boxes", findings=[_box(100, 100, 200, 200)])
    mark = _mark("m1", "box", [(100, 100), (100 + width, 200)])
    c = compare(_reading("bone", [mark]), [result], mm_per_px={SOP: 1.0})
    if agreed:
        assert _statuses(c) == [("agreed", "m1")]
        assert c.pairs[0].iou == pytest.approx(0.1) and c.pairs[0].distance_mm == 45.0
    else:
        assert _statuses(c) == [("ai_only", None), ("reader_only", "m1")]


@pytest.mark.parametrize(("dx", "agreed"), [(100.0, True), (100.1, False)])
def test_fracture_distance_edge_10_mm(dx: float, agreed: bool) -> None:
    """Point mark dx px from the box centre at 0.1 mm/px: 10.0 mm matches, 10.01 does not."""
    result = _result("fracture_boxes", findings=[_box(0, 0, 20, 20)])
    mark = _mark("m1", "point", [(10 + dx, 10)])
    c = compare(_reading("bone", [mark]), [result], mm_per_px={SOP: 0.1})
    assert c.counts() == ({"agreed": 1, "ai_only": 0, "reader_only": 0} if agreed
                          else {"agreed": 0, "ai_only": 1, "reader_only": 1})
    if agreed:
        assert c.pairs[0].distance_mm == pytest.approx(10.0) and c.pairs[0].iou is None


@pytest.mark.parametrize(("dx", "agreed"), [(150.0, True), (150.1, False)])
def test_lesion_distance_edge_15_mm(dx: float, agreed: bool) -> None:
    result = _result("mammo_lesions", findings=[_box(0, 0, 20, 20, "lesion")])
    mark = _mark("m1", "point", [(10, 10 + dx)], label="mass")
    c = compare(_reading("mammo", [mark]), [result], mm_per_px={SOP: 0.1})
    assert (c.counts()["agreed"] == 1) is agreed


@pytest.mark.parametrize(("dx", "spacing", "agreed"), [
    (50.0, None, True),     # no spacing: 10 mm / 0.2 = 50 px
    (50.01, None, False),
    (50.01, 0.1, True),     # 5.001 mm with the image's spacing
    (150.0, 0.05, True),    # 7.5 mm
    (150.0, None, False),
])
def test_missing_spacing_uses_the_px_rule(dx: float, spacing: float | None,
                                          agreed: bool) -> None:
    result = _result("fracture_boxes", findings=[_box(0, 0, 20, 20)])
    mark = _mark("m1", "point", [(10 + dx, 10)])
    c = compare(_reading("bone", [mark]), [result],
                mm_per_px=None if spacing is None else {SOP: spacing})
    assert (c.counts()["agreed"] == 1) is agreed
    if agreed and spacing is None:
        assert c.pairs[0].distance_mm is None  # no spacing: no distance in mm to report


def _heat(peak_at: tuple[int, int], region: tuple[int, int, int, int]) -> np.ndarray:
    """A 100×100 map (over a 1000×1000 image): 0.9 in ``region`` (rows/cols slice bounds),
    1.0 at ``peak_at``, 0.1 elsewhere."""
    values = np.full((100, 100), 0.1, dtype=np.float32)
    r0, r1, c0, c1 = region
    values[r0:r1, c0:c1] = 0.9
    values[peak_at] = 1.0
    return values


def _heatmap_result(values: np.ndarray, probability: float = 0.6) -> AnalysisResult:
    ref = HeatmapRef("abnormal", "k", (0.0, 1.0), values)
    return _result("cxr_normality", case=CaseScore("abnormal", probability, "high_sensitivity",
                                                   (0.25, 0.8)),
                   findings=[Finding("abnormal", probability, "high_sensitivity",
                                     heatmap_key="k")], heatmaps=[ref])


def test_heatmap_region_peak_and_edges() -> None:
    # Region rows 10..29, cols 10..59 → image box (100, 100, 600, 300); peak cell (20, 15).
    values = _heat((20, 15), (10, 30, 10, 60))
    (ref,) = ai_findings([_heatmap_result(values)])
    assert ref.box_xyxy_px == (100.0, 100.0, 600.0, 300.0)
    assert ref.point_px == (155.0, 205.0)
    spacing = {SOP: 0.5}  # 30 mm = 60 px
    marks = [
        _mark("inside", "point", [(590, 290)], "nodule_mass"),     # far from peak, in the box
        _mark("at30mm", "point", [(155, 265)], "effusion"),        # 60 px below the peak
        _mark("beyond", "point", [(155, 400.5)], "consolidation"),  # 97.75 mm, outside the box
    ]
    for mark, agreed in zip(marks, (True, True, False), strict=True):
        c = compare(_reading("cxr", [mark]), [_heatmap_result(values)], mm_per_px=spacing)
        assert (c.counts()["agreed"] == 1) is agreed, mark.id
    just_past = _mark("past", "point", [(155, 300.2)], "nodule_mass")  # 47.6 mm, below the box
    c = compare(_reading("cxr", [just_past]), [_heatmap_result(values)], mm_per_px=spacing)
    assert c.counts() == {"agreed": 0, "ai_only": 1, "reader_only": 1}


def test_heatmap_below_high_sensitivity_or_without_values_gives_no_finding() -> None:
    low = _heatmap_result(_heat((5, 5), (0, 10, 0, 10)), probability=0.1)
    low = AnalysisResult(**{**low.__dict__, "findings": (
        Finding("abnormal", 0.1, None, heatmap_key="k"),)})
    assert ai_findings([low]) == []
    no_values = _heatmap_result(_heat((5, 5), (0, 10, 0, 10)))
    no_values = no_values.with_heatmap_values({})
    no_values = AnalysisResult(**{**no_values.__dict__, "heatmaps": (
        HeatmapRef("abnormal", "k"),)})
    assert ai_findings([no_values]) == []


def test_label_family_image_and_frame_gate_matching() -> None:
    result = _result("fracture_boxes", findings=[_box(0, 0, 100, 100)])
    marks = [_mark("disloc", "box", [(0, 0), (100, 100)], label="dislocation"),
             _mark("other_sop", "box", [(0, 0), (100, 100)], sop=OTHER),
             _mark("frame1", "box", [(0, 0), (100, 100)], frame=1)]
    c = compare(_reading("bone", marks), [result, _result("fracture_boxes", OTHER)])
    assert _statuses(c) == [("ai_only", None), ("reader_only", "disloc"),
                            ("reader_only", "other_sop")]
    assert c.uncompared_marks == ("frame1",)  # no model ran on frame 1


def test_greedy_one_to_one_by_iou_then_distance() -> None:
    result = _result("fracture_boxes", findings=[_box(0, 0, 100, 100, score=0.9),
                                                 _box(0, 0, 100, 60, score=0.4)])
    marks = [_mark("half", "box", [(0, 0), (100, 50)]),
             _mark("full", "box", [(0, 0), (100, 100)]),
             _mark("pt", "point", [(50, 50)])]
    c = compare(_reading("bone", marks), [result], mm_per_px={SOP: 0.1})
    # full↔box0 IoU 1.0 first; half↔box1 IoU 50/60; the point mark is left over.
    assert _statuses(c) == [("agreed", "full"), ("agreed", "half"), ("reader_only", "pt")]


def test_marks_are_compared_only_where_a_model_ran() -> None:
    refused = _result("fracture_boxes", OTHER, ran=False)
    ran_empty = _result("fracture_boxes", SOP)
    marks = [_mark("here", "point", [(5, 5)]), _mark("there", "point", [(5, 5)], sop=OTHER),
             _mark("nowhere", "point", [(5, 5)], sop="1.2.3.9")]
    c = compare(_reading("bone", marks), [refused, ran_empty])
    assert _statuses(c) == [("reader_only", "here")]
    assert c.uncompared_marks == ("there", "nowhere")


def test_decisions_discordance_and_json_round_trip() -> None:
    result = _result("fracture_boxes", findings=[_box(0, 0, 10, 10), _box(500, 500, 600, 600)],
                     case=CaseScore("fracture", 0.9, "high_specificity", (0.2, 0.7)))
    keys = [finding_key(result, 0), finding_key(result, 1)]
    assert keys[0] == f"fracture_boxes@{SHA[:12]}/{SOP}/0/0"
    reading = _reading("bone", [], Assessment(fracture_by_image={SOP: True}),
                       [AiDecision(keys[0], "accepted"), AiDecision(keys[1], "dismissed", "x")])
    c = compare(reading, [result])
    assert [p.decision for p in c.pairs] == ["accepted", "dismissed"]
    assert c.discordant  # a dismissed AI-only finding is still a discordance
    accepted = _reading("bone", [], reading.assessment,
                        [AiDecision(k, "accepted") for k in keys])
    assert not compare(accepted, [result]).discordant
    data = json.loads(json.dumps(c.to_dict()))
    assert data["counts"] == {"agreed": 0, "ai_only": 2, "reader_only": 0}
    assert Concordance.from_dict(data) == c


# --------------------------------------------------------------------------- case level


def test_case_level_cxr_and_fracture_bands() -> None:
    thresholds = (0.25, 0.8)
    for reader, p, expected in [("normal", 0.1, "agree"), ("normal", 0.8, "disagree"),
                                ("abnormal", 0.85, "agree"), ("abnormal", 0.2, "disagree"),
                                ("abnormal", 0.5, "undetermined"), (None, 0.9, "undetermined")]:
        result = _result("cxr_normality", case=CaseScore("abnormal", p, None, thresholds))
        (case,) = compare(_reading("cxr", [], Assessment(cxr=reader)), [result]).cases
        assert (case.scope, case.agreement) == ("study", expected), (reader, p)
    results = [_result("fracture_boxes", SOP, case=CaseScore("fracture", 0.1, None, (0.2, 0.7))),
               _result("fracture_boxes", OTHER, case=CaseScore("fracture", 0.1, None, (0.2, 0.7)))]
    cases = compare(_reading("bone", [], Assessment(fracture_by_image={SOP: True, OTHER: False})),
                    results).cases
    assert [(c.scope, c.reader, c.ai_band, c.agreement) for c in cases] == [
        (SOP, "present", "likely_normal", "disagree"), (OTHER, "absent", "likely_normal", "agree")]


@pytest.mark.parametrize(("birads", "agreement"), [
    (1, "agree"), (2, "agree"), (3, "undetermined"), (0, "disagree"), (4, "disagree"),
    (5, "disagree"), (6, "disagree"), (None, "undetermined")])
def test_case_level_mammo_birads_against_breast_band(birads: int | None, agreement: str) -> None:
    cuts = tuple(k / 10 for k in range(1, 10))
    films = [_result("mammo_lesions", s, case=CaseScore("abnormal", p, None, (0.3, 0.5), cuts))
             for s, p in (("1.1", 0.12), ("1.2", 0.28), ("1.3", 0.95))]
    side = {"1.1": "R", "1.2": "R", "1.3": "L"}
    breasts = {} if birads is None else {"R": BreastAssessment(birads, "b")}
    cases = compare(_reading("mammo", [], Assessment(breasts=breasts)), films,
                    laterality=side).cases
    right, left = cases
    assert (right.scope, right.ai_probability, right.ai_band, right.ai_scale) == (
        "R", 0.28, "likely_normal", 3)  # breast = its highest film
    assert right.agreement == agreement
    assert (left.scope, left.ai_band, left.ai_scale, left.agreement) == (
        "L", "positive", 10, "undetermined")


# --------------------------------------------------------------------------- real images


def _iou(a: Sequence[float], b: Sequence[float]) -> float:
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def _centre(box: Sequence[float]) -> tuple[float, float]:
    return ((box[0] + box[2]) / 2, (box[1] + box[3]) / 2)


def _expected(n_ai: int, any_match: bool) -> dict[str, int]:
    """One reader mark per image: it agrees with one finding iff any finding satisfies
    the rule; every other finding is AI-only."""
    return {"agreed": int(any_match), "ai_only": n_ai - int(any_match),
            "reader_only": int(not any_match)}


def _add(total: dict[str, int], counts: dict[str, int]) -> None:
    for key, value in counts.items():
        total[key] = total.get(key, 0) + value


def _analyze(engine: AnalysisEngine, dicom: Path, model_id: str) -> AnalysisResult:
    (source,) = list(load_sources([dicom]))
    assert isinstance(source, SourceImage), source
    result = engine.analyze(source, model_id)
    assert result.applicable and not result.reason, result.reason
    return result


def _region_by_flood(values: np.ndarray, rows: int, cols: int
                     ) -> tuple[tuple[float, float, float, float], tuple[float, float]]:
    """The heatmap region, written independently: BFS over cells ≥ half-height."""
    h, w = values.shape
    peak = np.unravel_index(int(np.argmax(values)), values.shape)
    level = values.min() + 0.5 * (values.max() - values.min())
    seen = {peak}
    todo = deque([peak])
    while todo:
        i, j = todo.popleft()
        for n in ((i + 1, j), (i - 1, j), (i, j + 1), (i, j - 1)):
            if 0 <= n[0] < h and 0 <= n[1] < w and n not in seen and values[n] >= level:
                seen.add(n)
                todo.append(n)
    ii = [p[0] for p in seen]
    jj = [p[1] for p in seen]
    box = (min(jj) * cols / w, min(ii) * rows / h, (max(jj) + 1) * cols / w,
           (max(ii) + 1) * rows / h)
    return box, ((peak[1] + 0.5) * cols / w, (peak[0] + 0.5) * rows / h)


JSRT_CASES = ["JPCLN001", "JPCLN002", "JPCLN004", "JPCLN018", "JPCLN022", "JPCLN037"]


def test_jsrt_nodule_marks_against_the_chest_heatmap(engine: AnalysisEngine,
                                                     tmp_path: Path) -> None:
    with (SHARED / "cxr" / "jsrt" / "labels.csv").open(newline="", encoding="utf-8") as f:
        rows = {r["patient_id"]: r for r in csv.DictReader(f)}
    total: dict[str, int] = {}
    expected: dict[str, int] = {}
    for case in JSRT_CASES:
        row = rows[case]
        dicom = dicom_from_picture(SHARED / "cxr" / "jsrt" / row["file"], tmp_path / f"{case}.dcm",
                                   body_part="CHEST", view="PA",
                                   spacing_mm=float(row["pixel_spacing_mm"]))
        info = image_info(read_header(dicom))
        result = _analyze(engine, dicom, "cxr_normality")
        x, y = float(row["nodule_x_px"]), float(row["nodule_y_px"])
        mark = _mark("n", "point", [(x, y)], "nodule_mass", sop=info.sop_instance_uid)
        reading = _reading("cxr", [mark], Assessment(cxr="abnormal"))
        c = compare(reading, [result], mm_per_px={info.sop_instance_uid: info.mm_per_px or 0})
        _add(total, c.counts())
        score = result.case_scores[0]
        values = result.heatmaps[0].values
        assert values is not None and info.mm_per_px == 1.6
        n_ai, match = 0, False
        if score.operating_point is not None:
            n_ai = 1
            (x0, y0, x1, y1), peak = _region_by_flood(values, *result.image_size)
            match = (math.hypot(x - peak[0], y - peak[1]) * 1.6 <= 30
                     or (x0 <= x <= x1 and y0 <= y <= y1))
        _add(expected, _expected(n_ai, match))
        assert score.thresholds is not None
        positive = score.probability >= score.thresholds[1]
        normal = score.probability < score.thresholds[0]
        assert c.cases[0].agreement == ("agree" if positive else
                                        "disagree" if normal else "undetermined")
    assert total == expected
    assert min(total.values()) >= 1, total  # the sample exercises every status


FRACATLAS_CASES = ["IMG0000019", "IMG0000776", "IMG0001363", "IMG0001981", "IMG0002617",
                   "IMG0002834", "IMG0003094"]


def test_fracatlas_box_marks_against_fracture_boxes(engine: AnalysisEngine,
                                                   tmp_path: Path) -> None:
    """FracAtlas has no pixel spacing: the px rule (50 px) applies."""
    folder = SHARED / "fracture" / "fracatlas"
    with (folder / "labels.csv").open(newline="", encoding="utf-8") as f:
        rows = {r["image_id"]: r for r in csv.DictReader(f) if r["image_id"] in FRACATLAS_CASES}
    total: dict[str, int] = {}
    expected: dict[str, int] = {}
    for image_id in FRACATLAS_CASES:
        row = rows[image_id]
        assert row["n_boxes"] == "1"
        dicom = dicom_from_picture(folder / row["file"], tmp_path / f"{image_id}.dcm",
                                   body_part=row["body_part"].upper())
        info = image_info(read_header(dicom))
        assert info.mm_per_px is None
        result = _analyze(engine, dicom, "fracture_boxes")
        truth = [float(row[k]) for k in ("x_min", "y_min", "x_max", "y_max")]
        mark = _mark("f", "box", [(truth[0], truth[1]), (truth[2], truth[3])],
                     sop=info.sop_instance_uid)
        reading = _reading("bone", [mark],
                           Assessment(fracture_by_image={info.sop_instance_uid: True}))
        c = compare(reading, [result])
        _add(total, c.counts())
        shown = [f.box_xyxy_px for f in result.findings
                 if f.operating_point is not None and f.box_xyxy_px is not None]
        tx, ty = _centre(truth)
        match = any(_iou(truth, b) >= 0.1
                    or math.hypot(tx - _centre(b)[0], ty - _centre(b)[1]) <= 50 for b in shown)
        _add(expected, _expected(len(shown), match))
    assert total == expected
    assert min(total.values()) >= 1, total


MIAS_PAIRS = [("mdb001", "mdb002"), ("mdb075", "mdb076"), ("mdb125", "mdb126"),
              ("mdb141", "mdb142"), ("mdb201", "mdb202")]


def test_mias_lesion_marks_and_birads_against_mammo_model(engine: AnalysisEngine,
                                                          tmp_path: Path) -> None:
    """One woman per study, both films; a breast with a MIAS lesion is read BI-RADS 4 and
    marked on the lesion, a normal one BI-RADS 1. 0.4 mm pixels: 15 mm = 37.5 px."""
    folder = SHARED / "mammo" / "mini_mias"
    with (folder / "labels.csv").open(newline="", encoding="utf-8") as f:
        rows: dict[str, list[dict[str, str]]] = {}
        for r in csv.DictReader(f):
            rows.setdefault(r["ref"], []).append(r)
    total: dict[str, int] = {}
    expected: dict[str, int] = {}
    for pair in MIAS_PAIRS:
        results, marks, sides, spacing, breasts = [], [], {}, {}, {}
        for ref in pair:
            (row,) = rows[ref]
            dicom = dicom_from_picture(folder / row["file"], tmp_path / f"{ref}.dcm",
                                       modality="MG", body_part="BREAST", view="MLO",
                                       laterality=row["side"], spacing_mm=0.4)
            info = image_info(read_header(dicom))
            sides[info.sop_instance_uid], spacing[info.sop_instance_uid] = info.laterality, 0.4
            result = _analyze(engine, dicom, "mammo_lesions")
            results.append(result)
            shown = [f.box_xyxy_px for f in result.findings
                     if f.operating_point is not None and f.box_xyxy_px is not None]
            if row["abnormality_class"] == "NORM":
                breasts[row["side"]] = BreastAssessment(1, "b")
                _add(expected, {"ai_only": len(shown)})
                continue
            assert row["abnormality_class"] != "CALC" and row["has_location"] == "1"
            breasts[row["side"]] = BreastAssessment(4, "b")
            truth = [float(row[k]) for k in ("x_min", "y_min", "x_max", "y_max")]
            marks.append(_mark(ref, "ellipse", [(truth[0], truth[1]), (truth[2], truth[3])],
                               "mass", sop=info.sop_instance_uid))
            tx, ty = _centre(truth)
            match = any(_iou(truth, b) >= 0.1 or
                        math.hypot(tx - _centre(b)[0], ty - _centre(b)[1]) * 0.4 <= 15
                        for b in shown)
            _add(expected, _expected(len(shown), match))
        reading = _reading("mammo", marks, Assessment(breasts=breasts))
        c = compare(reading, results, mm_per_px=spacing, laterality=sides)
        _add(total, c.counts())
        assert sorted(case.scope for case in c.cases) == ["L", "R"]
        for case in c.cases:
            film = next(r.case_scores[0] for r in results
                        if sides[r.sop_instance_uid] == case.scope)
            assert film.thresholds is not None and len(film.scale_cuts) == 9
            assert case.ai_probability == film.probability
            assert case.ai_scale == 1 + sum(film.probability >= cut for cut in film.scale_cuts)
            reader_positive = breasts[case.scope].birads == 4
            band_positive = film.probability >= film.thresholds[1]
            band_normal = film.probability < film.thresholds[0]
            assert case.agreement == (
                "undetermined" if not (band_positive or band_normal)
                else "agree" if reader_positive == band_positive else "disagree")
    assert total == expected
    assert min(total.values()) >= 1, total


def test_custom_rules_apply() -> None:
    result = _result("fracture_boxes", findings=[_box(0, 0, 20, 20)])
    mark = _mark("m1", "point", [(40, 10)])  # 30 px = 3 mm at 0.1 mm/px
    strict = {"fracture": MatchRule(distance_mm=2.0, iou=0.1)}
    assert compare(_reading("bone", [mark]), [result], mm_per_px={SOP: 0.1},
                   rules=strict).counts()["agreed"] == 0
    assert compare(_reading("bone", [mark]), [result],
                   mm_per_px={SOP: 0.1}).counts()["agreed"] == 1
