"""The committed ``fracture_boxes`` model on real FracAtlas radiographs (CPU, a few seconds).

Checks: the folder loads through the registry (manifest valid, sha256 matches); on a fixed
sample of *test*-split images (never trained or tuned on; the split is
``training.fracture_data``'s) the image-level score separates fractured from non-fractured
films and boxes at the high-sensitivity point land on labelled fractures; a DICOM wrapped
from a FracAtlas JPEG scores the same through the product path as the JPEG through
training's ``prepared_grey`` path; a chest DICOM is refused by the body-part gate.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian, generate_uid

from inference.engine import AnalysisEngine
from inference.manifest import ModelManifest, ScoreOutput
from inference.postprocess import calibrated_probabilities
from inference.registry import ModelEntry
from inference.results import AnalysisResult
from inference.source import SourceImage, load_sources, source_from_picture

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # training/ is not an installed package (torch-free import)
    sys.path.insert(0, str(REPO))
from training.common import prepared_grey, roc_auc  # noqa: E402
from training.fracture_data import Item, load_items  # noqa: E402
from training.fracture_eval import hit_matrix  # noqa: E402

MODEL_ID = "fracture_boxes"
DX_STORAGE = UID("1.2.840.10008.5.1.4.1.1.1.1")  # Digital X-Ray Image Storage - For Presentation
MIN_SAMPLE_AUC = 0.65  # 0.73 measured on this sample (test AUC 0.79 in the card)
MIN_FRACTURES_FOUND = 8  # of 27 fractured films (11 measured): a box at an operating point hits


@pytest.fixture(scope="module")
def sample() -> tuple[list[Item], list[Item]]:
    """27 fractured and 50 non-fractured test-split films (every 2nd / 3rd by sorted id).

    A 12 + 12 sample was tried first: over random draws its AUC has a 5th percentile of
    0.63 and a median of 0.79 (the fixed one gave 0.55), too noisy for a bound."""
    test = [it for it in load_items() if it.split == "test"]
    fractured = [it for it in test if it.fractured]
    other = [it for it in test if not it.fractured]
    return fractured[::2], other[::3]


def _score(manifest: ModelManifest, session: ort.InferenceSession, grey: np.ndarray) -> float:
    """Training's view: the prepared grey square, normalised, through ONNX Runtime."""
    norm = manifest.input.preprocess.normalize
    tensor = ((grey - np.float32(norm.mean)) / np.float32(norm.std))[None, None]
    logits = session.run(["logits"], {"image": tensor.astype(np.float32)})[0]
    out = next(o for o in manifest.outputs if isinstance(o, ScoreOutput))
    return float(calibrated_probabilities(logits.reshape(-1), out.activation,
                                          out.calibration)[0])


def test_model_folder_is_valid(entry: ModelEntry, manifest: ModelManifest) -> None:
    assert entry.valid, entry.problems  # the registry checked size, sha256, graph and card
    assert manifest.input.preprocess.recipe == "xray_letterbox_v1"
    assert {"CR", "DX"} <= set(manifest.applicability.modalities)
    assert entry.model_path.stat().st_size <= 30 * 1024 * 1024
    assert len(list((entry.folder / "card").glob("*.png"))) >= 2


def test_scores_and_boxes_on_test_sample(engine: AnalysisEngine,
                                         sample: tuple[list[Item], list[Item]]) -> None:
    fractured, other = sample
    scores, found = [], 0
    for item in fractured + other:
        result = engine.analyze(source_from_picture(item.path), MODEL_ID)
        assert result.applicable and not result.reason, result.reason
        scores.append(result.case_scores[0].probability)
        boxes = np.array([f.box_xyxy_px for f in result.findings
                          if f.box_xyxy_px is not None and f.operating_point is not None])
        if item.fractured and len(boxes):
            found += bool(hit_matrix(boxes.reshape(-1, 4), item.boxes).any())
    labels = np.array([1] * len(fractured) + [0] * len(other))
    assert roc_auc(labels, np.array(scores)) > MIN_SAMPLE_AUC
    assert found >= MIN_FRACTURES_FOUND


def _wrap_as_dicom(picture: Path, path: Path, body_part: str) -> Path:
    """An 8-bit DX whose window maps stored values 0–255 exactly onto grey 0–1
    (LINEAR_EXACT, centre 127.5, width 255), like the JPEG's full-range window."""
    grey = np.asarray(Image.open(picture).convert("L"), dtype=np.uint8)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = DX_STORAGE
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = DX_STORAGE, meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.PatientName, ds.PatientID, ds.PatientAge = "TEST^BONE", "FX-1", "040Y"
    ds.StudyDate, ds.SeriesNumber, ds.InstanceNumber = "20250312", 1, 1
    ds.Modality, ds.PresentationIntentType = "DX", "FOR PRESENTATION"
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.BodyPartExamined = body_part
    ds.Rows, ds.Columns = grey.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.WindowCenter, ds.WindowWidth, ds.VOILUTFunction = 127.5, 255, "LINEAR_EXACT"
    ds.PixelData = grey.tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path


def _analyze_dicom(engine: AnalysisEngine, dicom: Path) -> AnalysisResult:
    sources = list(load_sources([dicom]))  # the product path: imaging load, source_from_stack
    assert len(sources) == 1 and isinstance(sources[0], SourceImage), sources
    return engine.analyze(sources[0], MODEL_ID)


def test_dicom_scores_like_the_training_jpeg(
        tmp_path: Path, manifest: ModelManifest, session: ort.InferenceSession,
        engine: AnalysisEngine, sample: tuple[list[Item], list[Item]]) -> None:
    picture = sample[0][0].path
    result = _analyze_dicom(engine, _wrap_as_dicom(picture, tmp_path / "wrist.dcm", "POIGNET"))
    assert result.applicable and not result.reason, result.reason
    jpeg_score = _score(manifest, session, prepared_grey(picture, manifest.input))
    assert abs(result.case_scores[0].probability - jpeg_score) < 1e-3


def test_chest_dicom_is_refused_by_body_part(tmp_path: Path, engine: AnalysisEngine,
                                             sample: tuple[list[Item], list[Item]]) -> None:
    result = _analyze_dicom(engine, _wrap_as_dicom(sample[1][0].path, tmp_path / "c.dcm",
                                                   "CHEST"))
    assert not result.applicable and "body part" in result.reason
