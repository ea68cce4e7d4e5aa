"""Detector evaluation in the product's terms: boxes after Tandem's postprocess, hits, FROC.

Boxes are filtered as ``inference.postprocess`` does (score threshold, greedy NMS from
that module, ``max_boxes``). A predicted box *hits* a label box when their IoU is at
least 0.3 or the predicted box's centre lies inside the label box (fracture boxes are
small and loosely drawn, so centre-inside counts as finding the fracture).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from inference.postprocess import nms

HIT_IOU = 0.3


@dataclass(frozen=True)
class ImageBoxes:
    boxes: np.ndarray  # (n, 4) xyxy, model-input pixels, by descending score
    scores: np.ndarray  # (n,)


def product_boxes(boxes: np.ndarray, scores: np.ndarray, score_threshold: float,
                  nms_iou: float, max_boxes: int) -> ImageBoxes:
    """One image's raw top-K boxes as Tandem's postprocess keeps them."""
    keep = np.flatnonzero(scores >= score_threshold)
    boxes, scores = boxes[keep], scores[keep]
    order = nms(boxes, scores, nms_iou)[:max_boxes]
    return ImageBoxes(boxes[order], scores[order])


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU matrix (len(a), len(b)) of xyxy boxes."""
    x0 = np.maximum(a[:, None, 0], b[None, :, 0])
    y0 = np.maximum(a[:, None, 1], b[None, :, 1])
    x1 = np.minimum(a[:, None, 2], b[None, :, 2])
    y1 = np.minimum(a[:, None, 3], b[None, :, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    union = area_a[:, None] + area_b[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def hit_matrix(pred: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """(n_pred, n_truth) bool: IoU ≥ 0.3 or the predicted centre inside the label box."""
    if len(pred) == 0 or len(truth) == 0:
        return np.zeros((len(pred), len(truth)), dtype=bool)
    cx = (pred[:, 0] + pred[:, 2]) / 2
    cy = (pred[:, 1] + pred[:, 3]) / 2
    inside = ((cx[:, None] >= truth[None, :, 0]) & (cx[:, None] <= truth[None, :, 2])
              & (cy[:, None] >= truth[None, :, 1]) & (cy[:, None] <= truth[None, :, 3]))
    return inside | (iou(pred, truth) >= HIT_IOU)


def froc_curve(preds: list[ImageBoxes], truths: list[np.ndarray]
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(thresholds descending, false boxes per image, fraction of label boxes hit)."""
    entries = []  # (score, image, index)
    for i, p in enumerate(preds):
        entries += [(float(s), i, j) for j, s in enumerate(p.scores)]
    thresholds = np.array(sorted({e[0] for e in entries}, reverse=True) or [1.0])
    n_truth = sum(len(t) for t in truths)
    fp = np.zeros(len(thresholds))
    hit = np.zeros(len(thresholds))
    hits = [hit_matrix(p.boxes, t) for p, t in zip(preds, truths, strict=True)]
    for k, t in enumerate(thresholds):
        for p, h in zip(preds, hits, strict=True):
            above = p.scores >= t
            fp[k] += int((above & ~h.any(axis=1)).sum()) if h.size else int(above.sum())
            if h.size:
                hit[k] += int(h[above].any(axis=0).sum())
    return thresholds, fp / max(len(preds), 1), hit / max(n_truth, 1)


def sensitivity_at(fp_rate: np.ndarray, sens: np.ndarray, target: float) -> float:
    """Lesion sensitivity at the lowest threshold whose false boxes per image ≤ target."""
    ok = np.flatnonzero(fp_rate <= target)
    return float(sens[ok].max()) if ok.size else 0.0


def threshold_for(thresholds: np.ndarray, fp_rate: np.ndarray, target: float) -> float:
    """The lowest score threshold keeping false boxes per image ≤ target."""
    ok = np.flatnonzero(fp_rate <= target)
    return float(thresholds[ok.max()]) if ok.size else float(thresholds[0])


def box_point(preds: list[ImageBoxes], truths: list[np.ndarray], threshold: float
              ) -> dict[str, float]:
    """At one box threshold: lesion sensitivity, fractured images with a hit, negative images
    without any box (the box output's "specificity"), false boxes per image."""
    n_truth = hit_truth = fx_images = fx_hit = neg = neg_clean = false = 0
    for p, t in zip(preds, truths, strict=True):
        above = p.scores >= threshold
        h = hit_matrix(p.boxes[above], t)
        false += int((~h.any(axis=1)).sum()) if len(t) else int(above.sum())
        if len(t):
            n_truth += len(t)
            hit_truth += int(h.any(axis=0).sum())
            fx_images += 1
            fx_hit += int(h.any())
        else:
            neg += 1
            neg_clean += int(not above.any())
    return {"lesion_sensitivity": hit_truth / max(n_truth, 1),
            "image_hit_rate": fx_hit / max(fx_images, 1),
            "negative_images_without_box": neg_clean / max(neg, 1),
            "false_boxes_per_image": false / max(len(preds), 1)}
