"""``tandem models`` and ``tandem analyze`` on generated models and real images."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from model_factory import boxes_model, heatmap_model
from PIL import Image

from app.cli import main

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"
CHEST_JPEG = SHARED / "cxr" / "tb_normal" / "images" / "CHNCXR_0004_0.jpg"  # 512x512 grey
HAND_JPEG = SHARED / "fracture" / "fracatlas" / "images" / "IMG0000019.jpg"  # 512 wide, 640 high
CR_DICOM = SHARED / "dicom" / "pydicom-data" / "RG3_J2KI.dcm"  # CR EXTREMITY AP, 1760x1760
CT_DICOM = SHARED / "dicom" / "pydicom" / "CT_small.dcm"
EMPTY_DICOM = SHARED / "dicom" / "bad" / "zero_bytes.dcm"
SIZE = 64
BOXES = [[10.0, 20.0, 30.0, 40.0], [5.0, 5.0, 60.0, 60.0]]


@pytest.fixture()
def models(tmp_path: Path) -> Path:
    root = tmp_path / "models"
    heatmap_model(root / "test_heatmap", size=SIZE, body_parts=["CHEST"])
    boxes_model(root / "test_boxes", BOXES, [[0.9], [0.4]], size=SIZE,
                body_parts=["HAND", "WRIST", "EXTREMITY"])
    return root


def _json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict[str, Any]:
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def _letterbox_box(box: list[float], rows: int, cols: int) -> list[float]:
    """Model-input box → image pixels for a centred letterbox into SIZE x SIZE."""
    fit = SIZE / max(rows, cols)
    new_w, new_h = round(cols * fit), round(rows * fit)
    off_x, off_y = (SIZE - new_w) // 2, (SIZE - new_h) // 2
    x0, y0, x1, y1 = box
    return [(x0 - off_x) * cols / new_w, (y0 - off_y) * rows / new_h,
            (x1 - off_x) * cols / new_w, (y1 - off_y) * rows / new_h]


def test_models_lists_valid_and_broken_models(models: Path, capsys: pytest.CaptureFixture[str],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    model = models / "test_boxes" / "model.onnx"
    data = bytearray(model.read_bytes())
    data[-1] ^= 0xFF
    model.write_bytes(bytes(data))
    monkeypatch.setenv("TANDEM_MODELS_DIR", str(models))
    out = _json(capsys, ["models", "--json"])
    assert out["status"] == "research use only — not for clinical use"
    assert "CPUExecutionProvider" in out["providers_available"]
    by_id = {m["id"]: m for m in out["models"]}
    good, bad = by_id["test_heatmap"], by_id["test_boxes"]
    assert good["valid"] and good["sha256_ok"] and good["problems"] == []
    assert good["version"] == "0.0.1" and good["providers"] == ["CPUExecutionProvider"]
    assert "research use only" in good["status"]
    assert not bad["valid"] and bad["sha256_ok"] is False
    assert any("sha256 mismatch" in p for p in bad["problems"])

    assert main(["models"]) == 0
    text = capsys.readouterr().out
    assert "OK     test_heatmap 0.0.1" in text and "ERROR  test_boxes 0.0.1: disabled" in text


def test_analyze_real_images(models: Path, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    heatmaps = tmp_path / "heatmaps"
    out = _json(capsys, [
        "analyze", str(CHEST_JPEG), str(HAND_JPEG), str(CR_DICOM), str(CT_DICOM),
        str(EMPTY_DICOM), "--models-dir", str(models), "--model", "test_heatmap",
        "--model", "test_boxes", "--json", "--heatmap-out", str(heatmaps)])
    assert out["status"] == "research use only — not for clinical use"
    chest, hand, cr, ct, empty = out["images"]

    assert chest["file"] == str(CHEST_JPEG) and chest["sop_instance_uid"] == ""
    assert chest["image_size"] == [512, 512]
    heat = {r["model_id"]: r for r in chest["results"]}["test_heatmap"]
    assert heat["applicable"] and heat["reason"] == ""
    assert heat["provider"] == "CPUExecutionProvider"
    assert set(heat["timings_ms"]) == {"decode", "preprocess", "infer", "postprocess"}
    [score] = heat["case_scores"]
    assert score["label"] == "abnormal" and 0.0 < score["probability"] < 1.0
    [ref] = heat["heatmaps"]
    assert ref["shape"] == [512, 512]
    # The identity heatmap, mapped back, is the radiograph itself (blurred by 512 → 64 → 512).
    values = np.load(heatmaps / f"{ref['key']}.npy")
    pixels = np.asarray(Image.open(CHEST_JPEG).convert("L"), dtype=np.float32) / 255.0
    assert values.shape == pixels.shape
    assert np.corrcoef(values.ravel(), pixels.ravel())[0, 1] > 0.95
    assert np.abs(values - pixels).mean() < 0.05
    with Image.open(heatmaps / f"{ref['key']}.png") as png:
        assert png.mode == "RGB" and png.size == (512, 512)

    boxes = {r["model_id"]: r for r in hand["results"]}["test_boxes"]
    assert hand["image_size"] == [640, 512] and boxes["applicable"]
    found = [(f["score"], f["operating_point"], f["box_xyxy_px"]) for f in boxes["findings"]]
    assert [(s, p) for s, p, _ in found] == [(pytest.approx(0.9), "high_specificity"),
                                            (pytest.approx(0.4), "high_sensitivity")]
    assert found[0][2] == pytest.approx(_letterbox_box(BOXES[0], 640, 512), abs=1e-3)
    assert found[0][2] == pytest.approx([40.157, 200.0, 240.941, 400.0], abs=1e-3)

    assert cr["sop_instance_uid"] == "1.3.6.1.4.1.5962.1.1.11.1.3.20040826185059.5457"
    assert cr["image_size"] == [1760, 1760] and cr["frame"] == 0
    cr_results = {r["model_id"]: r for r in cr["results"]}
    assert not cr_results["test_heatmap"]["applicable"]
    assert cr_results["test_heatmap"]["reason"] == "body part EXTREMITY; this model is for CHEST"
    cr_boxes = cr_results["test_boxes"]["findings"]
    assert cr_boxes[0]["box_xyxy_px"] == pytest.approx([275.0, 550.0, 825.0, 1100.0], abs=1e-3)

    for result in ct["results"]:
        assert not result["applicable"] and result["case_scores"] == []
        assert result["reason"] == "modality CT; this model is for CR, DX"

    assert empty["file"] == str(EMPTY_DICOM) and empty["error"] and "results" not in empty
    written = sorted(p.suffix for p in heatmaps.iterdir())
    assert written == [".npy", ".npy", ".png", ".png"]  # chest and hand; the CR was refused


def test_analyze_text_output_and_usage_errors(models: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(CT_DICOM), str(EMPTY_DICOM), str(CHEST_JPEG),
                 "--models-dir", str(models), "--model", "test_heatmap"]) == 0
    text = capsys.readouterr().out
    assert "test_heatmap 0.0.1: NOT APPLICABLE: modality CT; this model is for CR, DX" in text
    assert f"ERROR  {EMPTY_DICOM}:" in text
    assert "abnormal: 0." in text and "on CPUExecutionProvider" in text
    assert "research use only — not for clinical use" in text

    assert main(["analyze", str(CHEST_JPEG), "--models-dir", str(models),
                 "--model", "nodule_finder"]) == 2
    err = capsys.readouterr().err
    assert "unknown model nodule_finder" in err and "test_heatmap" in err


def test_bundled_models_refuse_pictures_unlike_their_training_data(
        capsys: pytest.CaptureFixture[str]) -> None:
    """A chest picture has no DICOM tags for the gate: only the chest model may score it."""
    out = _json(capsys, ["analyze", str(CHEST_JPEG), str(HAND_JPEG), "--json"])
    chest, hand = ({r["model_id"]: r for r in image["results"]} for image in out["images"])
    assert chest["cxr_normality"]["applicable"] and hand["fracture_boxes"]["applicable"]
    for refused in (chest["fracture_boxes"], chest["mammo_lesions"], hand["cxr_normality"],
                    hand["mammo_lesions"]):
        assert not refused["applicable"] and refused["case_scores"] == []
        assert refused["reason"].startswith("image unlike the training data (distance ")
