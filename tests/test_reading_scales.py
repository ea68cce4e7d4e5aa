"""Bands and 1–10 scores, and where their thresholds come from (manifest → engine → cache)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from inference.cache import ResultCache
from inference.engine import AnalysisEngine
from inference.manifest import ManifestError, ScoreOutput, parse_manifest
from inference.registry import ModelRegistry
from inference.results import AnalysisResult, CaseScore
from inference.source import source_from_picture
from reading.scales import band, scale_1_10

REPO = Path(__file__).resolve().parents[1]

MIAS = REPO.parent / "shared" / "datasets" / "mammo" / "mini_mias"
MAMMO_MANIFEST = REPO / "onnx_models" / "mammo_lesions" / "manifest.json"
CUTS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def test_band_edges_are_inclusive_in_float32() -> None:
    thresholds = (0.25, 0.7)
    assert band(0.2499999, thresholds) == "likely_normal"
    assert band(0.25, thresholds) == "doubt"
    assert band(0.6999, thresholds) == "doubt"
    assert band(float(np.float32(0.7)), thresholds) == "positive"  # 0.69999999 in float32
    assert band(1.0, thresholds) == "positive"


def test_scale_1_10_edges() -> None:
    assert scale_1_10(0.0, CUTS) == 1
    assert scale_1_10(0.0999, CUTS) == 1
    assert scale_1_10(0.1, CUTS) == 2  # a cut belongs to the score above it
    assert scale_1_10(0.55, CUTS) == 6
    assert scale_1_10(0.9, CUTS) == 10
    assert scale_1_10(1.0, CUTS) == 10
    for bad in [(), CUTS[:8], (*CUTS[:4], CUTS[3], *CUTS[5:])]:
        with pytest.raises(ValueError):
            scale_1_10(0.5, bad)


def _mammo_manifest() -> dict:
    return json.loads(MAMMO_MANIFEST.read_text(encoding="utf-8"))


def test_manifest_scale_is_validated() -> None:
    data = _mammo_manifest()
    score = data["outputs"][0]
    assert len(score["scale_1_10"]) == 9
    for bad, where in [([*CUTS[:3], 0.3, *CUTS[4:]], "outputs[0].scale_1_10[3]"),
                       (list(CUTS[:8]), "outputs[0].scale_1_10"),
                       ([0.0, *CUTS[1:]], "outputs[0].scale_1_10[0]")]:
        score["scale_1_10"] = bad
        with pytest.raises(ManifestError) as caught:
            parse_manifest(data)
        assert any(p.startswith(where) for p in caught.value.problems), caught.value.problems
    del score["scale_1_10"]
    manifest = parse_manifest(data)  # optional
    assert isinstance(manifest.outputs[0], ScoreOutput) and manifest.outputs[0].scale_1_10 is None


def test_mammo_cuts_are_deciles_of_the_film_score() -> None:
    """Every third mini-MIAS film through the engine: each of the 10 scores holds a tenth
    of them, give or take (the cuts are the deciles of the 301 films the model scores; the
    out-of-distribution check refuses mdb151, which is among these)."""
    cuts = _mammo_manifest()["outputs"][0]["scale_1_10"]
    engine = AnalysisEngine(ModelRegistry([REPO / "onnx_models"]))
    pictures = sorted((MIAS / "images").glob("*.jpg"))[::3]
    results = [engine.analyze(source_from_picture(p), "mammo_lesions") for p in pictures]
    scores = [scale_1_10(r.case_scores[0].probability, cuts) for r in results if r.applicable]
    share = np.bincount(scores, minlength=11)[1:] / len(scores)
    assert len(pictures) == 101 and len(scores) >= 99
    assert share.min() >= 0.03 and share.max() <= 0.2, share


def test_engine_fills_thresholds_and_cuts_and_restores_them_for_old_cache(
        tmp_path: Path) -> None:
    from radiographs import dicom_from_picture

    from inference.source import load_sources

    manifest = _mammo_manifest()
    points = manifest["outputs"][0]["operating_points"]
    dicom = dicom_from_picture(MIAS / "images" / "mdb075.jpg", tmp_path / "f.dcm",
                               modality="MG", body_part="BREAST", view="MLO", laterality="R")
    (source,) = list(load_sources([dicom]))
    cache = ResultCache(tmp_path / "cache")
    engine = AnalysisEngine(ModelRegistry([REPO / "onnx_models"]), cache=cache)
    result = engine.analyze(source, "mammo_lesions")  # type: ignore[arg-type]
    score = result.case_scores[0]
    assert score.thresholds == (points["high_sensitivity"]["threshold"],
                                points["high_specificity"]["threshold"])
    assert score.scale_cuts == tuple(manifest["outputs"][0]["scale_1_10"])
    assert AnalysisResult.from_dict(json.loads(json.dumps(result.to_dict()))).case_scores == (
        score,)
    # A cache entry written before these fields existed still loads, and the engine gives
    # it the thresholds and cuts of the manifest of the same model (same sha256).
    entry = next((tmp_path / "cache").rglob("*.json"))
    old = json.loads(entry.read_text(encoding="utf-8"))
    for case in old["case_scores"]:
        del case["thresholds"], case["scale_cuts"]
    entry.write_text(json.dumps(old), encoding="utf-8")
    bare = cache.get(result.sop_instance_uid, 0, result.sha256)
    assert bare is not None and bare.case_scores == (
        CaseScore("abnormal", score.probability, score.operating_point),)
    again = engine.analyze(source, "mammo_lesions")  # type: ignore[arg-type]
    assert "cache_read" in again.timings_ms and again.case_scores == (score,)


def test_models_without_cuts_have_thresholds_only(engine: AnalysisEngine) -> None:
    picture = REPO.parent / "shared" / "datasets" / "fracture" / "fracatlas" / "images"
    result = engine.analyze(source_from_picture(picture / "IMG0000019.jpg"), "fracture_boxes")
    (score,) = result.case_scores
    assert score.thresholds is not None and score.scale_cuts == ()
    assert band(score.probability, score.thresholds) in ("likely_normal", "doubt", "positive")
