"""Raw graph outputs → calibrated scores, findings and heatmaps in original image pixels.

Each manifest output is read as its ``kind`` says: scores are activated, calibrated
and badged with the strictest operating point they meet; boxes are decoded,
thresholded, de-duplicated per label and mapped to image pixels; heatmaps and mask
probabilities are mapped back over the whole image through the input transform.
A graph output whose shape does not fit its manifest entry raises ``ValueError``
naming the output (the engine reports it as the model's failure on this image).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from inference.manifest import (
    BoxesOutput,
    Calibration,
    HeatmapOutput,
    MaskOutput,
    ModelManifest,
    OperatingPoints,
    ScoreOutput,
)
from inference.results import CaseScore, Finding, HeatmapRef, OperatingPointName
from inference.transform import InputTransform


@dataclass(frozen=True)
class DecodedOutputs:
    case_scores: tuple[CaseScore, ...]
    findings: tuple[Finding, ...]  # sorted by score, highest first
    heatmaps: tuple[HeatmapRef, ...]  # values set, over the whole original image


def decode_outputs(manifest: ModelManifest, outputs: dict[str, np.ndarray],
                   transform: InputTransform, *, key_prefix: str,
                   heatmap_max_side: int | None = 512) -> DecodedOutputs:
    """Read every output the manifest describes (embeddings are left to the OOD check)."""
    scores: list[CaseScore] = []
    findings: list[Finding] = []
    heatmaps: list[HeatmapRef] = []
    keys: set[str] = set()
    for out in manifest.outputs:
        if isinstance(out, ScoreOutput):
            scores.extend(_case_scores(out, _array(outputs, out.name)))
    by_label = {s.label: s for s in scores}
    for out in manifest.outputs:
        if isinstance(out, BoxesOutput):
            findings.extend(_box_findings(out, _array(outputs, out.name),
                                          _array(outputs, out.scores), transform))
        elif isinstance(out, HeatmapOutput):
            ref = _heatmap(out, _array(outputs, out.name), transform, heatmap_max_side,
                           _key(keys, key_prefix, out.for_label, out.name))
            heatmaps.append(ref)
            case = by_label.get(out.for_label)
            if case is not None:
                findings.append(Finding(out.for_label, case.probability, case.operating_point,
                                        heatmap_key=ref.key))
        elif isinstance(out, MaskOutput):
            for label, plane in zip(out.labels, _mask_planes(out, _array(outputs, out.name)),
                                    strict=True):
                heatmaps.append(HeatmapRef(
                    label, _key(keys, key_prefix, label, out.name), (0.0, 1.0),
                    transform.heatmap_to_original(plane, heatmap_max_side)))
    findings.sort(key=lambda f: f.score, reverse=True)
    return DecodedOutputs(tuple(scores), tuple(findings), tuple(heatmaps))


def _array(outputs: dict[str, np.ndarray], name: str) -> np.ndarray:
    if name not in outputs:
        raise ValueError(f"output {name!r}: missing from the model's results")
    array = np.asarray(outputs[name], dtype=np.float64)
    if not np.all(np.isfinite(array)):
        raise ValueError(f"output {name!r}: holds NaN or infinite values")
    return array


def _key(taken: set[str], prefix: str, label: str, output: str) -> str:
    """``<prefix>-<label>``, or with the output's name when two maps share a label."""
    key = f"{prefix}-{label}"
    if key in taken:
        key = f"{prefix}-{label}-{output}"
    taken.add(key)
    return key


# --------------------------------------------------------------------------- scores


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # no overflow warning for large |x|


def _softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _activate(x: np.ndarray, activation: str, axis: int = -1) -> np.ndarray:
    if activation == "sigmoid":
        return _sigmoid(x)
    if activation == "softmax":
        return _softmax(x, axis)
    return x


def calibrated_probabilities(logits: np.ndarray, activation: str,
                             calibration: Calibration) -> np.ndarray:
    """Activation and calibration of one output's values (the last axis holds the labels).

    Temperature divides the logits before the activation; Platt replaces it with
    ``sigmoid(a·logit + b)``; isotonic maps the activated probability through the
    ``(x, y)`` curve, linearly between its points. The result is clipped to [0, 1].
    """
    method = calibration.method
    if method == "temperature" and calibration.temperature is not None:
        p = _activate(logits / calibration.temperature, activation)
    elif method == "platt" and calibration.a is not None and calibration.b is not None:
        p = _sigmoid(calibration.a * logits + calibration.b)
    else:
        p = _activate(logits, activation)
        if method == "isotonic" and calibration.x and calibration.y:
            p = np.interp(p, calibration.x, calibration.y)
    return np.clip(p, 0.0, 1.0)


def operating_point(probability: float, points: OperatingPoints | None
                    ) -> OperatingPointName | None:
    """The strictest operating point whose threshold the probability reaches (≥).

    Compared in float32, the precision models compute in: an output of exactly the
    threshold (0.7 in float32 is 0.69999999) meets it.
    """
    if points is None:
        return None
    p = np.float32(probability)
    if p >= np.float32(points.high_specificity.threshold):
        return "high_specificity"
    if p >= np.float32(points.high_sensitivity.threshold):
        return "high_sensitivity"
    return None


def _case_scores(out: ScoreOutput, raw: np.ndarray) -> list[CaseScore]:
    logits = raw.reshape(-1)
    if logits.size != len(out.labels):
        raise ValueError(f"output {out.name!r}: {logits.size} values for "
                         f"{len(out.labels)} labels (shape {raw.shape})")
    probs = calibrated_probabilities(logits, out.activation, out.calibration)
    return [with_scales(CaseScore(label, float(p), operating_point(float(p),
                                                                   out.points_for(label))), out)
            for label, p in zip(out.labels, probs, strict=True)]


def with_scales(score: CaseScore, out: ScoreOutput) -> CaseScore:
    """``score`` carrying its output's thresholds and 1–10 cuts (what bands are read against)."""
    points = out.points_for(score.label)
    thresholds = None if points is None else (points.high_sensitivity.threshold,
                                              points.high_specificity.threshold)
    return replace(score, thresholds=thresholds, scale_cuts=tuple(out.scale_1_10 or ()))


def manifest_scales(manifest: ModelManifest, scores: tuple[CaseScore, ...]
                    ) -> tuple[CaseScore, ...]:
    """Case scores (e.g. from the cache) given the thresholds and cuts of ``manifest``."""
    outputs = {label: out for out in manifest.outputs if isinstance(out, ScoreOutput)
               for label in out.labels}
    return tuple(with_scales(s, outputs[s.label]) if s.label in outputs else s for s in scores)


# --------------------------------------------------------------------------- boxes


_MIN_BOX_PX = 1.0  # a box narrower than one image pixel (after clipping) is not a finding


def _box_findings(out: BoxesOutput, raw_boxes: np.ndarray, raw_scores: np.ndarray,
                  transform: InputTransform) -> list[Finding]:
    if raw_boxes.size % 4:
        raise ValueError(f"output {out.name!r}: shape {raw_boxes.shape} is not (1, N, 4)")
    boxes = raw_boxes.reshape(-1, 4)
    n, n_labels = len(boxes), len(out.labels)
    if raw_scores.size != n * n_labels:
        raise ValueError(f"output {out.scores!r}: shape {raw_scores.shape} does not give "
                         f"{n_labels} score(s) for each of {n} boxes")
    scores = np.clip(_activate(raw_scores.reshape(n, n_labels), out.activation), 0.0, 1.0)
    if out.format == "cxcywh":
        centre, half = boxes[:, :2], boxes[:, 2:] / 2
        boxes = np.concatenate([centre - half, centre + half], axis=1)
    if out.normalized:
        boxes = boxes * transform.input_size
    boxes = np.concatenate([np.minimum(boxes[:, :2], boxes[:, 2:]),
                            np.maximum(boxes[:, :2], boxes[:, 2:])], axis=1)
    kept: list[tuple[float, int, np.ndarray]] = []  # (score, label index, box)
    for k in range(n_labels):
        candidates = np.nonzero(scores[:, k] >= out.score_threshold)[0]
        for i in candidates[nms(boxes[candidates], scores[candidates, k], out.nms_iou)]:
            kept.append((float(scores[i, k]), k, boxes[i]))
    kept.sort(key=lambda item: item[0], reverse=True)
    rows, cols = transform.image_size
    findings = []
    for score, k, box in kept[:out.max_boxes]:
        x0, y0, x1, y1 = transform.box_to_original(box)
        x0, x1 = min(max(x0, 0.0), cols), min(max(x1, 0.0), cols)
        y0, y1 = min(max(y0, 0.0), rows), min(max(y1, 0.0), rows)
        if x1 - x0 < _MIN_BOX_PX or y1 - y0 < _MIN_BOX_PX:
            continue  # in the padding, outside the image, or degenerate: nothing to show
        findings.append(Finding(out.labels[k], score,
                                operating_point(score, out.operating_points),
                                box_xyxy_px=(x0, y0, x1, y1)))
    return findings


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Greedy non-maximum suppression: indices of the kept boxes, by descending score.

    A box is dropped when its IoU with an already kept box exceeds ``iou_threshold``.
    A detector gives tens to a few hundred boxes, so this O(n²) numpy loop costs
    microseconds; a library for it (torchvision, OpenCV) would be a large dependency.
    """
    order = np.argsort(-scores, kind="stable")
    areas = np.maximum(boxes[:, 2] - boxes[:, 0], 0) * np.maximum(boxes[:, 3] - boxes[:, 1], 0)
    keep: list[int] = []
    while order.size:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        w = np.clip(np.minimum(boxes[i, 2], boxes[rest, 2])
                    - np.maximum(boxes[i, 0], boxes[rest, 0]), 0, None)
        h = np.clip(np.minimum(boxes[i, 3], boxes[rest, 3])
                    - np.maximum(boxes[i, 1], boxes[rest, 1]), 0, None)
        inter = w * h
        union = areas[i] + areas[rest] - inter
        iou = np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)
        order = rest[iou <= iou_threshold]
    return np.asarray(keep, dtype=np.intp)


# --------------------------------------------------------------------------- maps


def _plane(raw: np.ndarray, name: str) -> np.ndarray:
    """A (1, 1, h, w), (1, h, w) or (h, w) output as (h, w)."""
    if raw.ndim < 2 or raw.size != raw.shape[-1] * raw.shape[-2]:
        raise ValueError(f"output {name!r}: shape {raw.shape} is not one 2-D map")
    return raw.reshape(raw.shape[-2:])


def _heatmap(out: HeatmapOutput, raw: np.ndarray, transform: InputTransform,
             max_side: int | None, key: str) -> HeatmapRef:
    plane = _plane(raw, out.name)
    if out.activation == "sigmoid":
        plane = _sigmoid(plane)
    elif out.activation == "minmax":
        lo, hi = float(plane.min()), float(plane.max())
        plane = (plane - lo) / (hi - lo) if hi > lo else np.zeros_like(plane)
    return HeatmapRef(out.for_label, key, out.value_range,
                      transform.heatmap_to_original(plane, max_side))


def _mask_planes(out: MaskOutput, raw: np.ndarray) -> list[np.ndarray]:
    """One (h, w) probability map per label.

    ``label_map``: a (1, h, w) or (1, 1, h, w) map of label indices (value ``k`` is
    ``labels[k]``), turned into one 0/1 map per label. ``probabilities``: (1, C, h, w)
    or (C, h, w) with C = number of labels; softmax runs across the labels.
    """
    n = len(out.labels)
    if out.mode == "label_map":
        index = np.rint(_plane(raw, out.name)).astype(np.int64)
        return [(index == k).astype(np.float32) for k in range(n)]
    if raw.ndim < 3 or raw.size != n * raw.shape[-1] * raw.shape[-2]:
        raise ValueError(f"output {out.name!r}: shape {raw.shape} is not (1, {n}, h, w)")
    planes = _activate(raw.reshape(n, raw.shape[-2], raw.shape[-1]), out.activation, axis=0)
    return [np.clip(p, 0.0, 1.0) for p in planes]
