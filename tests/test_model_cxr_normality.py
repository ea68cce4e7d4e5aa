"""The committed ``cxr_normality`` model on real chest radiographs (CPU, a few seconds).

Checks: the folder loads through the registry (manifest valid, sha256 matches); on a fixed
sample of tb_normal *validation* images (never trained on; listed in the model card) it
separates TB from normal; a DICOM wrapped from a chest JPEG (MONOCHROME2, and an inverted
MONOCHROME1 copy) scores the same through the product path as the JPEG through training's
``prepared_grey`` path; the heatmap peaks near JSRT nodules more often than chance; bone
radiographs are refused by the out-of-distribution check.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from radiographs import dicom_from_picture, training_score

from inference.engine import AnalysisEngine
from inference.manifest import ModelManifest
from inference.registry import ModelEntry
from inference.source import SourceImage, load_sources, source_from_picture
from training.common import prepared_grey, roc_auc

REPO = Path(__file__).resolve().parents[1]

MODEL_ID = "cxr_normality"
CXR = REPO.parent / "shared" / "datasets" / "cxr"
TB_NORMAL = CXR / "tb_normal" / "images"
FRACATLAS = REPO.parent / "shared" / "datasets" / "fracture" / "fracatlas" / "images"

# tb_normal validation images of the shipped model (4 + 4 per site where the split has them;
# Montgomery's validation part holds only 3 normal and 2 TB films). See MODEL_CARD.md.
NORMAL = ["n14.jpg", "n16.jpg", "n20.jpg", "n21.jpg", "MCUCXR_0023_0.jpg", "MCUCXR_0029_0.jpg",
          "MCUCXR_0043_0.jpg", "CHNCXR_0010_0.jpg", "CHNCXR_0016_0.jpg", "CHNCXR_0018_0.jpg",
          "CHNCXR_0019_0.jpg"]
TB = ["p11.jpg", "p20.jpg", "px11.jpg", "px13.jpg", "MCUCXR_0162_1.jpg", "MCUCXR_0352_1.jpg",
      "CHNCXR_0327_1.jpg", "CHNCXR_0329_1.jpg", "CHNCXR_0333_1.jpg", "CHNCXR_0346_1.jpg"]
MIN_SAMPLE_AUC = 0.75  # measured 0.845 on this sample; tb_normal validation AUC 0.89 (card)
WRAPPED = "CHNCXR_0010_0.jpg"


def test_model_folder_is_valid(entry: ModelEntry, manifest: ModelManifest) -> None:
    assert entry.valid, entry.problems  # the registry checked size, sha256, graph and card
    assert manifest.input.preprocess.recipe == "xray_letterbox_v1"
    assert manifest.applicability.ood is not None
    assert entry.model_path.stat().st_size <= 30 * 1024 * 1024


def test_separates_tb_from_normal_on_validation_sample(
        manifest: ModelManifest, session: ort.InferenceSession) -> None:
    paths = [TB_NORMAL / n for n in NORMAL + TB]
    scores = [training_score(manifest, session, prepared_grey(p, manifest.input)) for p in paths]
    labels = [0] * len(NORMAL) + [1] * len(TB)
    assert roc_auc(np.array(labels), np.array(scores)) > MIN_SAMPLE_AUC


@pytest.mark.parametrize("monochrome1", [False, True])
def test_dicom_scores_like_the_training_jpeg(
        tmp_path: Path, manifest: ModelManifest, session: ort.InferenceSession,
        engine: AnalysisEngine, monochrome1: bool) -> None:
    picture = TB_NORMAL / WRAPPED
    dicom = dicom_from_picture(picture, tmp_path / "chest.dcm", body_part="CHEST", view="PA",
                               monochrome1=monochrome1)
    sources = list(load_sources([dicom]))  # the product path: imaging load, source_from_stack
    assert len(sources) == 1 and isinstance(sources[0], SourceImage), sources
    result = engine.analyze(sources[0], MODEL_ID)
    assert result.applicable and not result.reason, result.reason
    jpeg_score = training_score(manifest, session, prepared_grey(picture, manifest.input))
    assert abs(result.case_scores[0].probability - jpeg_score) < 1e-3


def _nodule_cases() -> list[tuple[Path, float, float, float]]:
    with (CXR / "jsrt" / "labels.csv").open(newline="", encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["label"] == "nodule"]
    return [(CXR / "jsrt" / r["file"], float(r["nodule_x_px"]), float(r["nodule_y_px"]),
             float(r["nodule_diameter_px"])) for r in rows]


def test_heatmap_peaks_near_jsrt_nodules_more_often_than_chance(engine: AnalysisEngine) -> None:
    """Peak within 2 nodule diameters of the centre, vs a uniform point in the image.

    All 154 JSRT nodule films (123 of them in the training split: the heatmap, not the
    score, is under test). The CAM is 8×8 cells and the model saw more TB than nodules:
    measured 9 % hits vs 3.4 % for a uniform guess, and no better than a lung-field prior
    (another case's nodule position, 10 %), see the model card. A refusal counts as a miss.
    """
    cases = _nodule_cases()
    hits, chance = [], []
    for path, x, y, diameter in cases:
        result = engine.analyze(source_from_picture(path), MODEL_ID)
        rows, cols = result.image_size
        yy, xx = np.mgrid[:rows, :cols]
        chance.append(np.mean(np.hypot(xx + 0.5 - x, yy + 0.5 - y) <= 2 * diameter))
        if not result.heatmaps or result.heatmaps[0].values is None:
            hits.append(False)
            continue
        heat = result.heatmaps[0].values
        i, j = np.unravel_index(int(np.argmax(heat)), heat.shape)
        peak = ((j + 0.5) * cols / heat.shape[1], (i + 0.5) * rows / heat.shape[0])
        hits.append(bool(np.hypot(peak[0] - x, peak[1] - y) <= 2 * diameter))
    assert np.mean(hits) > np.mean(chance), (np.mean(hits), np.mean(chance))


def test_bone_radiographs_are_refused_as_out_of_distribution(engine: AnalysisEngine) -> None:
    pictures = sorted(FRACATLAS.glob("*.jpg"))[::160][:10]  # 10 fixed FracAtlas films
    refused = [not r.applicable and "unlike the training data" in r.reason
               for r in (engine.analyze(source_from_picture(p), MODEL_ID) for p in pictures)]
    assert sum(refused) >= 8, refused  # measured: 10 of 10 here, 98 % of 200 in the card
