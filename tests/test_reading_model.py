"""Reading.from_dict validation (each rule names its field), JSON round trip, Mark geometry."""

from __future__ import annotations

import copy
import json
import math
from typing import Any

import pytest

from reading.model import SCHEMA, Assessment, BreastAssessment, Mark, Reading, ReadingError
from reading.vocabulary import study_kind


def _valid(kind: str = "cxr") -> dict[str, Any]:
    labels = {"cxr": "nodule_mass", "bone": "fracture", "mammo": "mass"}
    return {
        "schema": SCHEMA, "reading_id": "r1", "study_instance_uid": "1.2.3", "reader": "alice",
        "kind": kind, "version": 2, "purpose": "amendment", "previous_id": "r0",
        "state": "signed", "started_at": "2025-03-12T10:15:00+00:00",
        "signed_at": "2025-03-12T10:17:30+00:00", "blinded": False,
        "marks": [
            {"id": "a", "sop_instance_uid": "1.2.3.1", "frame": 0, "shape": "box",
             "points": [[10, 20], [30.5, 60]], "label": labels[kind], "confidence": "probable"},
            {"id": "b", "sop_instance_uid": "1.2.3.1", "frame": 1, "shape": "polygon",
             "points": [[0, 0], [4, 0], [4, 3]], "label": labels[kind], "confidence": None},
            {"id": "c", "sop_instance_uid": "1.2.3.2", "frame": 0, "shape": "point",
             "points": [[5.25, 6.75]], "label": labels[kind], "confidence": None},
            {"id": "d", "sop_instance_uid": "1.2.3.2", "frame": 0, "shape": "ellipse",
             "points": [[40, 50], [20, 10]], "label": labels[kind], "confidence": "definite"},
        ],
        "assessment": {"cxr": "abnormal", "fracture_by_image": {"1.2.3.1": True},
                       "breasts": {"R": {"birads": 4, "density": "c"},
                                   "L": {"birads": 1, "density": None}}},
        "text": "Nodule lobaire supérieur gauche.",
        "ai_decisions": [{"finding_key": "cxr_normality@abc/1.2.3.1/0/0",
                          "decision": "dismissed", "reason": "mamelon"}],
    }


def _error(data: dict[str, Any]) -> ReadingError:
    with pytest.raises(ReadingError) as info:
        Reading.from_dict(data)
    return info.value


def test_round_trip_through_json_is_exact() -> None:
    for kind in ("cxr", "bone", "mammo"):
        data = _valid(kind)
        reading = Reading.from_dict(json.loads(json.dumps(data)))
        assert reading.kind == kind and len(reading.marks) == 4
        assert reading.assessment.breasts["R"] == BreastAssessment(4, "c")
        assert reading.decision_for("cxr_normality@abc/1.2.3.1/0/0") is not None
        again = Reading.from_dict(json.loads(json.dumps(reading.to_dict())))
        assert again == reading
        out = reading.to_dict()
        assert out["marks"][0]["points"] == [[10.0, 20.0], [30.5, 60.0]]
        assert {k: out[k] for k in data if k not in ("marks",)} == {
            k: data[k] for k in data if k not in ("marks",)}


def test_defaults_for_a_minimal_reading() -> None:
    r = Reading.from_dict({"reading_id": "r", "study_instance_uid": "1.2", "reader": "x",
                           "kind": "bone"})
    assert (r.version, r.purpose, r.state, r.blinded, r.marks) == (1, "first", "draft", True, ())
    assert r.assessment == Assessment() and not r.signed


@pytest.mark.parametrize(("edit", "path", "words"), [
    (lambda d: d["marks"][1].update(label="fracture"), "marks[1].label", "not a cxr label"),
    (lambda d: d["marks"][0].update(points=[[10, 20], [10, 60]]), "marks[0].points",
     "width and a height"),
    (lambda d: d["marks"][3].update(points=[[40, 50], [20, 50]]), "marks[3].points",
     "width and a height"),
    (lambda d: d["marks"][0].update(points=[[10, 20]]), "marks[0].points", "needs 2 points"),
    (lambda d: d["marks"][1].update(points=[[0, 0], [4, 0]]), "marks[1].points",
     "needs 3 points or more"),
    (lambda d: d["marks"][2].update(points=[[math.inf, 1]]), "marks[2].points[0]", "finite"),
    (lambda d: d["marks"][2].update(points=[[math.nan, 1]]), "marks[2].points[0]", "finite"),
    (lambda d: d["marks"][1].update(points=[[0, 0], [4, 0], [4, "3"]]), "marks[1].points[2]",
     "finite numbers"),
    (lambda d: d["marks"][0].update(shape="circle"), "marks[0].shape", "must be one of"),
    (lambda d: d["marks"][0].update(confidence="sure"), "marks[0].confidence", "must be one"),
    (lambda d: d["marks"][0].update(frame=-1), "marks[0].frame", ">= 0"),
    (lambda d: d["marks"][0].update(id=""), "marks[0].id", "non-empty"),
    (lambda d: d["marks"][2].update(id="a"), "marks", "unique"),
    (lambda d: d["assessment"]["breasts"]["R"].update(birads=7), "assessment.breasts.R.birads",
     "0 to 6"),
    (lambda d: d["assessment"]["breasts"]["L"].update(density="e"),
     "assessment.breasts.L.density", "a, b, c, d"),
    (lambda d: d["assessment"]["breasts"].update(X={}), "assessment.breasts.X", "'R' or 'L'"),
    (lambda d: d["assessment"].update(cxr="maybe"), "assessment.cxr", "normal"),
    (lambda d: d["assessment"].update(fracture_by_image={"1.2": "yes"}),
     "assessment.fracture_by_image", "true/false"),
    (lambda d: d.update(kind="ct"), "kind", "cxr, bone, mammo"),
    (lambda d: d.update(state="final"), "state", "draft"),
    (lambda d: d.update(version=0), "version", ">= 1"),
    (lambda d: d.update(schema="tandem.reading/9"), "schema", "tandem.reading/1"),
    (lambda d: d.update(reading_id=""), "reading_id", "non-empty"),
    (lambda d: d["ai_decisions"][0].update(decision="ignored"), "ai_decisions[0].decision",
     "accepted"),
])
def test_each_rule_names_its_field(edit: Any, path: str, words: str) -> None:
    data = copy.deepcopy(_valid())
    edit(data)
    err = _error(data)
    assert err.path == path
    assert words in err.message
    assert str(err).startswith(f"{path}: ")


def test_labels_follow_the_study_kind() -> None:
    data = _valid("mammo")
    data["marks"][0]["label"] = "nodule_mass"
    assert _error(data).path == "marks[0].label"
    data["marks"][0]["label"] = "calcifications"
    Reading.from_dict(data)


def test_mark_bbox_and_centre() -> None:
    box = Mark("a", "1.2", 0, "box", ((30.0, 60.0), (10.0, 20.0)), "nodule_mass")
    assert box.bbox() == (10.0, 20.0, 30.0, 60.0)  # corners in any order
    assert box.centre() == (20.0, 40.0)
    point = Mark("p", "1.2", 0, "point", ((5.5, 7.0),), "other")
    assert point.bbox() == (5.5, 7.0, 5.5, 7.0) and point.centre() == (5.5, 7.0)
    # a polygon's centre is its vertex mean, not its bbox centre
    poly = Mark("q", "1.2", 0, "polygon", ((0.0, 0.0), (6.0, 0.0), (0.0, 3.0)), "effusion")
    assert poly.bbox() == (0.0, 0.0, 6.0, 3.0)
    assert poly.centre() == (2.0, 1.0)
    reading = Reading("r", "1.2", "x", "cxr", marks=(box, point, poly))
    assert reading.mark("q") is poly and reading.mark("zz") is None


def test_study_kind_from_modality_and_body_part() -> None:
    assert study_kind("MG", "BREAST") == "mammo"
    assert study_kind("DX", "CHEST") == "cxr"
    assert study_kind("CR", " thorax ") == "cxr"
    assert study_kind("DX", "HAND") == "bone"
    assert study_kind("CT", "CHEST") is None
    # BodyPartExamined left empty: the description decides; a named body part wins.
    assert study_kind("DX", "", "RX THORAX FACE") == "cxr"
    assert study_kind("CR", "", "Chest PA/Lat") == "cxr"
    assert study_kind("DX", "", "POIGNET F+P") == "bone"
    assert study_kind("DX", "HAND", "THORAX") == "bone"
    assert study_kind("DX", "", "THORAXIS") == "bone"  # whole words only
