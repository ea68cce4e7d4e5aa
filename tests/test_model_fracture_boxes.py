"""The committed ``fracture_boxes`` model on real FracAtlas radiographs (CPU, a few seconds).

Checks: the folder loads through the registry (manifest valid, sha256 matches); on a fixed
sample of *test*-split images (never trained or tuned on; the split is
``training.fracture_data``'s) the image-level score separates fractured from non-fractured
films and boxes at the high-sensitivity point land on labelled fractures; a DICOM wrapped
from a FracAtlas JPEG scores the same through the product path as the JPEG through
training's ``prepared_grey`` path; a chest DICOM is refused by the body-part gate, and chest
pictures (no tags to gate on) by the out-of-distribution check.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from radiographs import dicom_from_picture, training_score

from inference.engine import AnalysisEngine
from inference.manifest import ModelManifest
from inference.registry import ModelEntry
from inference.results import AnalysisResult
from inference.source import SourceImage, load_sources, source_from_picture
from training.common import prepared_grey, roc_auc
from training.fracture_data import Item, load_items
from training.fracture_eval import hit_matrix

REPO = Path(__file__).resolve().parents[1]

MODEL_ID = "fracture_boxes"
TB_NORMAL = REPO.parent / "shared" / "datasets" / "cxr" / "tb_normal" / "images"
MIN_SAMPLE_AUC = 0.65  # 0.76 measured on this sample (test AUC 0.80 in the card)
MIN_FRACTURES_FOUND = 12  # of 27 fractured films (16 measured): a box at an operating point hits


@pytest.fixture(scope="module")
def sample() -> tuple[list[Item], list[Item]]:
    """27 fractured and 50 non-fractured test-split films (every 2nd / 3rd by sorted id).

    A 12 + 12 sample was tried first: over random draws its AUC has a 5th percentile of
    0.63 and a median of 0.79 (the fixed one gave 0.55), too noisy for a bound."""
    test = [it for it in load_items() if it.split == "test"]
    fractured = [it for it in test if it.fractured]
    other = [it for it in test if not it.fractured]
    return fractured[::2], other[::3]


def test_model_folder_is_valid(entry: ModelEntry, manifest: ModelManifest) -> None:
    assert entry.valid, entry.problems  # the registry checked size, sha256, graph and card
    assert manifest.input.preprocess.recipe == "xray_letterbox_v1"
    assert {"CR", "DX"} <= set(manifest.applicability.modalities)
    assert manifest.applicability.ood is not None
    assert entry.model_path.stat().st_size <= 30 * 1024 * 1024
    assert len(list((entry.folder / "card").glob("*.png"))) >= 2


def test_scores_and_boxes_on_test_sample(engine: AnalysisEngine,
                                         sample: tuple[list[Item], list[Item]]) -> None:
    fractured, other = sample
    scores, labels, found, refused = [], [], 0, []
    for item in fractured + other:
        result = engine.analyze(source_from_picture(item.path), MODEL_ID)
        if not result.applicable:
            assert "unlike the training data" in result.reason, result.reason
            refused.append(item.path.name)
            continue
        scores.append(result.case_scores[0].probability)
        labels.append(item.fractured)
        boxes = np.array([f.box_xyxy_px for f in result.findings
                          if f.box_xyxy_px is not None and f.operating_point is not None])
        if item.fractured and len(boxes):
            found += bool(hit_matrix(boxes.reshape(-1, 4), item.boxes).any())
    assert len(refused) <= 2, refused  # 0 of 201 test films in the card, none here
    assert roc_auc(np.array(labels), np.array(scores)) > MIN_SAMPLE_AUC
    assert found >= MIN_FRACTURES_FOUND


def _analyze_dicom(engine: AnalysisEngine, dicom: Path) -> AnalysisResult:
    sources = list(load_sources([dicom]))  # the product path: imaging load, source_from_stack
    assert len(sources) == 1 and isinstance(sources[0], SourceImage), sources
    return engine.analyze(sources[0], MODEL_ID)


def test_dicom_scores_like_the_training_jpeg(
        tmp_path: Path, manifest: ModelManifest, session: ort.InferenceSession,
        engine: AnalysisEngine, sample: tuple[list[Item], list[Item]]) -> None:
    picture = sample[0][0].path
    result = _analyze_dicom(engine, dicom_from_picture(picture, tmp_path / "wrist.dcm",
                                                        body_part="POIGNET"))
    assert result.applicable and not result.reason, result.reason
    jpeg_score = training_score(manifest, session, prepared_grey(picture, manifest.input))
    assert abs(result.case_scores[0].probability - jpeg_score) < 1e-3


def test_chest_dicom_is_refused_by_body_part(tmp_path: Path, engine: AnalysisEngine,
                                             sample: tuple[list[Item], list[Item]]) -> None:
    chest = dicom_from_picture(sample[1][0].path, tmp_path / "c.dcm", body_part="CHEST")
    result = _analyze_dicom(engine, chest)
    assert not result.applicable and "body part" in result.reason


def test_chest_pictures_are_refused_as_out_of_distribution(engine: AnalysisEngine) -> None:
    pictures = sorted(TB_NORMAL.glob("*.jpg"))[::44][:10]  # 10 fixed chest films, 3 sites
    refused = [not r.applicable and "unlike the training data" in r.reason
               for r in (engine.analyze(source_from_picture(p), MODEL_ID) for p in pictures)]
    assert sum(refused) >= 9, refused  # 100 % of 200 in the card
