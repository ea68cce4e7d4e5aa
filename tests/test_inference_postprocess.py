"""Decoding hand-made output tensors: calibration, operating points, boxes, heatmaps, masks."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from model_factory import base_manifest, score_output

from inference.manifest import ModelManifest, parse_manifest
from inference.postprocess import decode_outputs, nms
from inference.transform import letterbox_transform

SIZE = 64
# A 128-row x 256-column image in a 64 input: scale 0.25, 32 x 64, 16-px bands top and bottom.
TRANSFORM = letterbox_transform((128, 256), SIZE)


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def manifest(*outputs: dict[str, Any]) -> ModelManifest:
    return parse_manifest(base_manifest("test_post", SIZE, list(outputs)))


def score(labels: list[str], activation: str = "sigmoid", calibration: dict[str, Any] | None
          = None, points: dict[str, Any] | None = None) -> dict[str, Any]:
    out = score_output(labels[0], sens=0.3, spec=0.7, calibration=calibration)
    out.update(labels=labels, activation=activation)
    if points is not None:
        out["operating_points"] = points
    return out


def probabilities(m: ModelManifest, logits: list[float]) -> list[float]:
    decoded = decode_outputs(m, {"logits": np.array([logits], np.float32)}, TRANSFORM,
                             key_prefix="k")
    return [c.probability for c in decoded.case_scores]


@pytest.mark.parametrize(("calibration", "logit", "expected"), [
    ({"method": "none"}, 2.0, sigmoid(2.0)),
    ({"method": "temperature", "temperature": 2.0}, 2.0, sigmoid(1.0)),
    ({"method": "platt", "a": 2.0, "b": -1.0}, 1.0, sigmoid(1.0)),
    ({"method": "isotonic", "x": [0.0, 0.5, 1.0], "y": [0.0, 0.8, 1.0]}, 0.0, 0.8),
    ({"method": "isotonic", "x": [0.0, 0.5, 1.0], "y": [0.0, 0.8, 1.0]}, -math.log(3), 0.4),
])
def test_calibration(calibration: dict[str, Any], logit: float, expected: float) -> None:
    m = manifest(score(["abnormal"], calibration=calibration))
    assert probabilities(m, [logit]) == pytest.approx([expected], abs=1e-6)


def test_softmax_with_temperature_over_labels() -> None:
    m = manifest(score(["a", "b", "c"], "softmax", {"method": "temperature", "temperature": 2.0}))
    logits = np.array([2.0, 0.0, -2.0])
    expected = np.exp(logits / 2) / np.exp(logits / 2).sum()
    assert probabilities(m, list(logits)) == pytest.approx(list(expected), abs=1e-6)


@pytest.mark.parametrize(("p", "badge"), [
    (0.0, None), (0.2999, None), (0.3, "high_sensitivity"), (0.5, "high_sensitivity"),
    (0.6999, "high_sensitivity"), (0.7, "high_specificity"), (1.0, "high_specificity"),
])
def test_operating_point_is_the_strictest_met(p: float, badge: str | None) -> None:
    m = manifest(score(["abnormal"], "none"))
    decoded = decode_outputs(m, {"logits": np.array([[p]], np.float32)}, TRANSFORM,
                             key_prefix="k")
    (case,) = decoded.case_scores
    assert case.probability == pytest.approx(p, abs=1e-6) and case.operating_point == badge


def test_per_label_operating_points() -> None:
    points = {"a": {"high_sensitivity": {"threshold": 0.1}, "high_specificity": {"threshold": 0.2}},
              "b": {"high_sensitivity": {"threshold": 0.995},
                    "high_specificity": {"threshold": 0.999}}}
    m = manifest(score(["a", "b"], "none", points=points))
    decoded = decode_outputs(m, {"logits": np.array([[0.15, 0.99]], np.float32)}, TRANSFORM,
                             key_prefix="k")
    assert [c.operating_point for c in decoded.case_scores] == ["high_sensitivity", None]


def boxes_output(**options: Any) -> dict[str, Any]:
    out = {"name": "boxes", "kind": "boxes", "scores": "box_scores", "labels": ["fracture"],
           "score_threshold": 0.05, "nms_iou": 0.5, "max_boxes": 20,
           "operating_points": {"high_sensitivity": {"threshold": 0.3},
                                "high_specificity": {"threshold": 0.7}}}
    out.update(options)
    return out


def test_nms_drops_the_duplicate_keeps_the_distant_box() -> None:
    boxes = np.array([[10, 20, 30, 40], [11, 21, 31, 41], [40, 30, 50, 44], [0, 0, 4, 4]], float)
    assert list(nms(boxes, np.array([0.9, 0.8, 0.6, 0.95]), 0.5)) == [3, 0, 2]
    assert list(nms(boxes, np.array([0.9, 0.8, 0.6, 0.95]), 0.9)) == [3, 0, 1, 2]  # IoU 0.82

    m = manifest(boxes_output(labels=["fracture", "other"]))
    scores = np.array([[0.9, 0.0], [0.8, 0.0], [0.6, 0.0], [0.04, 0.0], [0.0, 0.5]])
    all_boxes = np.array([[10, 20, 30, 40], [11, 21, 31, 41], [40, 30, 50, 44], [5, 20, 9, 24],
                          [10, 20, 30, 40]], float)  # the last: same place, another label
    decoded = decode_outputs(m, {"boxes": all_boxes[None], "box_scores": scores[None]},
                             TRANSFORM, key_prefix="k")
    found = [(f.label, f.score, f.operating_point, f.box_xyxy_px) for f in decoded.findings]
    assert found == [
        ("fracture", pytest.approx(0.9), "high_specificity", (40.0, 16.0, 120.0, 96.0)),
        ("fracture", pytest.approx(0.6), "high_sensitivity", (160.0, 56.0, 200.0, 112.0)),
        ("other", pytest.approx(0.5), "high_sensitivity", (40.0, 16.0, 120.0, 96.0)),
    ]
    assert decoded.case_scores == ()


def test_cxcywh_normalized_to_pixels_clipped_and_capped() -> None:
    m = manifest(boxes_output(format="cxcywh", normalized=True, max_boxes=3))
    boxes = np.array([[0.5, 0.5, 0.25, 0.25],  # input (24, 24, 40, 40)
                      [0.05, 0.5, 0.2, 0.1],  # input x -3.2..9.6: clipped at x = 0
                      [0.5, 0.1, 0.2, 0.1],  # in the top band: outside the image
                      [0.9, 0.9, 0.1, 0.1]])  # fourth by score: over max_boxes
    scores = np.array([0.9, 0.8, 0.7, 0.6])
    decoded = decode_outputs(m, {"boxes": boxes[None], "box_scores": scores[None]}, TRANSFORM,
                             key_prefix="k")
    assert [f.box_xyxy_px for f in decoded.findings] == [
        pytest.approx((96.0, 32.0, 160.0, 96.0)),
        pytest.approx((0.0, 51.2, 38.4, 76.8))]


def test_degenerate_boxes_are_not_findings() -> None:
    """A flat box, or one whose clipped width is under one image pixel, is dropped."""
    m = manifest(boxes_output())
    boxes = np.array([[10, 20, 30, 20],  # zero height
                      [63.9, 20, 70, 30],  # past the right edge: 0.4 image px once clipped
                      [10, 20, 30, 40]], float)
    scores = np.array([0.9, 0.8, 0.7])
    decoded = decode_outputs(m, {"boxes": boxes[None], "box_scores": scores[None]}, TRANSFORM,
                             key_prefix="k")
    assert [f.box_xyxy_px for f in decoded.findings] == [(40.0, 16.0, 120.0, 96.0)]


def test_heatmap_finding_and_mapping() -> None:
    m = manifest(score(["abnormal"]),
                 {"name": "cam", "kind": "heatmap", "for_label": "abnormal",
                  "activation": "sigmoid"})
    cam = np.full((1, 1, 16, 16), -20.0, np.float32)
    cam[0, 0, 8, 4] = 20.0  # input pixels x 16..20, y 32..36 → image x 64..80, y 64..80
    decoded = decode_outputs(m, {"logits": np.array([[1.0]]), "cam": cam}, TRANSFORM,
                             key_prefix="abc", heatmap_max_side=None)
    (ref,) = decoded.heatmaps
    assert ref.key == "abc-abnormal" and ref.label == "abnormal"
    assert ref.values is not None and ref.values.dtype == np.float32
    assert ref.values.shape == (128, 256)
    ys, xs = np.indices(ref.values.shape)
    w = ref.values
    assert ((xs + 0.5) * w).sum() / w.sum() == pytest.approx(72.0, abs=0.5)
    assert ((ys + 0.5) * w).sum() / w.sum() == pytest.approx(72.0, abs=0.5)
    (finding,) = decoded.findings
    assert finding.heatmap_key == "abc-abnormal"
    assert finding.score == pytest.approx(sigmoid(1.0)) and finding.box_xyxy_px is None
    small = decode_outputs(m, {"logits": np.array([[1.0]]), "cam": cam}, TRANSFORM,
                           key_prefix="abc", heatmap_max_side=64)
    assert small.heatmaps[0].shape == (32, 64)


def test_masks_label_map_and_probabilities() -> None:
    label_map = np.zeros((1, SIZE, SIZE))
    label_map[0, :, 32:] = 1  # "lung" over the right half of the image
    m = manifest(score(["abnormal"]),
                 {"name": "seg", "kind": "mask", "labels": ["background", "lung"],
                  "mode": "label_map"})
    decoded = decode_outputs(m, {"logits": np.array([[0.0]]), "seg": label_map}, TRANSFORM,
                             key_prefix="p", heatmap_max_side=None)
    background, lung = decoded.heatmaps
    assert (background.key, lung.key) == ("p-background", "p-lung")
    assert lung.values is not None and background.values is not None
    assert lung.values[:, 130:].min() == 1.0 and lung.values[:, :126].max() == 0.0
    np.testing.assert_allclose(background.values + lung.values, 1.0, atol=1e-6)

    logits = np.stack([np.zeros((SIZE, SIZE)), np.full((SIZE, SIZE), math.log(3))])[None]
    m2 = manifest(score(["abnormal"]),
                  {"name": "seg", "kind": "mask", "labels": ["a", "b"],
                   "activation": "softmax"})
    a, b = decode_outputs(m2, {"logits": np.array([[0.0]]), "seg": logits}, TRANSFORM,
                          key_prefix="p").heatmaps
    assert a.values is not None and b.values is not None
    np.testing.assert_allclose(b.values, 0.75, atol=1e-6)
    np.testing.assert_allclose(a.values, 0.25, atol=1e-6)


def test_findings_sorted_and_bad_shapes_named() -> None:
    m = manifest(score(["abnormal"]),
                 {"name": "cam", "kind": "heatmap", "for_label": "abnormal"},
                 boxes_output())
    outputs = {"logits": np.array([[0.0]]), "cam": np.zeros((1, 1, 8, 8)),
               "boxes": np.array([[[0, 16, 8, 24], [40, 20, 60, 40]]]),
               "box_scores": np.array([[0.2, 0.95]])}
    decoded = decode_outputs(m, outputs, TRANSFORM, key_prefix="k")
    assert [f.score for f in decoded.findings] == pytest.approx([0.95, 0.5, 0.2])
    with pytest.raises(ValueError, match="'logits'"):
        decode_outputs(m, {**outputs, "logits": np.zeros((1, 2))}, TRANSFORM, key_prefix="k")
    with pytest.raises(ValueError, match="'box_scores'"):
        decode_outputs(m, {**outputs, "box_scores": np.zeros((1, 3))}, TRANSFORM,
                       key_prefix="k")
    with pytest.raises(ValueError, match="'cam'"):
        decode_outputs(m, {k: v for k, v in outputs.items() if k != "cam"}, TRANSFORM,
                       key_prefix="k")
    with pytest.raises(ValueError, match="NaN"):
        decode_outputs(m, {**outputs, "logits": np.array([[np.nan]])}, TRANSFORM,
                       key_prefix="k")
