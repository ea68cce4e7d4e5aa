"""What a model said about one image, as plain JSON-serialisable data.

The same :class:`AnalysisResult` feeds the AI panel, the image overlays, the CLI's
JSON, the result cache and (later) DICOM exports. Coordinates are original image
pixels: origin at the top-left corner of the top-left pixel, x right, y down.
Heatmap arrays travel beside the JSON (``HeatmapRef.values``), never inside it.

What ``applicable`` and ``reason`` mean together:

- ``applicable=False``: the model did not run because it should not (wrong modality, body
  part or view; image unlike the training data; the model itself unusable, reason
  ``"model unavailable: …"``);
- ``applicable=True`` and ``reason`` starting ``"failed: "``: it should have run and broke
  (no scores; never cached, so a later run retries);
- ``applicable=True`` and ``reason == ""``: it ran; scores, findings and heatmaps are set.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np

from inference.reasons import Reason

OperatingPointName = Literal["high_specificity", "high_sensitivity"]


@dataclass(frozen=True)
class CaseScore:
    """A calibrated case-level probability and the strictest operating point it meets.

    ``thresholds`` and ``scale_cuts`` come from the manifest of the model version (sha256)
    that produced the score, so a band or a 1–10 score is always read on that model's own
    scale: ``thresholds`` = (high_sensitivity, high_specificity) calibrated thresholds;
    ``scale_cuts`` = 9 increasing probabilities cutting [0, 1] into a 1–10 score (empty when
    the model has none). Results cached before these fields existed load with the defaults.
    """

    label: str
    probability: float
    operating_point: OperatingPointName | None  # None: under the high-sensitivity threshold
    thresholds: tuple[float, float] | None = None
    scale_cuts: tuple[float, ...] = ()


@dataclass(frozen=True)
class HeatmapRef:
    """A heatmap over the whole original image.

    ``values`` is ``(h, w)`` float32 covering the image exactly: cell (i, j) spans
    image rows ``[i * rows / h, (i + 1) * rows / h)`` (same for columns), so it may
    be coarser than the image but is never offset. ``key`` names its file in the
    cache or in ``--heatmap-out`` (``<key>.npy`` / ``<key>.png``).
    """

    label: str
    key: str
    value_range: tuple[float, float] = (0.0, 1.0)
    values: np.ndarray | None = field(default=None, compare=False, repr=False)

    @property
    def shape(self) -> tuple[int, int] | None:
        return None if self.values is None else (int(self.values.shape[0]),
                                                 int(self.values.shape[1]))


@dataclass(frozen=True)
class Finding:
    """One thing the model points at: a box, or a heatmap region, with its score."""

    label: str
    score: float
    operating_point: OperatingPointName | None
    box_xyxy_px: tuple[float, float, float, float] | None = None
    heatmap_key: str | None = None


@dataclass(frozen=True)
class AnalysisResult:
    model_id: str
    model_version: str
    sha256: str
    source: str  # file path (DICOM, PNG or JPEG)
    sop_instance_uid: str  # "" for PNG/JPEG
    frame: int
    image_size: tuple[int, int]  # (rows, columns) of the original image
    applicable: bool
    reason: str = ""  # why it did not apply (or did not run), in English; "" when it ran
    reason_detail: Reason | None = None  # the same as a code + values, for translation
    provider: str = ""  # the execution provider that actually ran, e.g. "CPUExecutionProvider"
    provider_notice: str = ""  # e.g. "CUDA failed (...): ran on the CPU"
    timings_ms: dict[str, float] = field(default_factory=dict)  # decode, preprocess, infer...
    case_scores: tuple[CaseScore, ...] = ()
    findings: tuple[Finding, ...] = ()  # sorted by score, highest first
    heatmaps: tuple[HeatmapRef, ...] = ()
    status: str = "research use only — not for clinical use"
    # Ran because the practice's site calibration let the image through, although it is
    # unlike the training data (inference.ood): the model card's figures may not hold.
    site_calibrated: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (heatmap arrays left out; their keys and shapes kept)."""
        return {
            "model_id": self.model_id, "model_version": self.model_version,
            "sha256": self.sha256, "status": self.status, "source": self.source,
            "sop_instance_uid": self.sop_instance_uid, "frame": self.frame,
            "image_size": list(self.image_size), "applicable": self.applicable,
            "reason": self.reason,
            "reason_code": None if self.reason_detail is None else self.reason_detail.code,
            "reason_value": None if self.reason_detail is None else self.reason_detail.value,
            "reason_expected": (None if self.reason_detail is None
                                else self.reason_detail.expected),
            "provider": self.provider,
            "provider_notice": self.provider_notice,
            "site_calibrated": self.site_calibrated,
            "timings_ms": {k: round(v, 3) for k, v in self.timings_ms.items()},
            "case_scores": [
                {"label": c.label, "probability": c.probability,
                 "operating_point": c.operating_point,
                 "thresholds": None if c.thresholds is None else list(c.thresholds),
                 "scale_cuts": list(c.scale_cuts)} for c in self.case_scores],
            "findings": [
                {"label": f.label, "score": f.score, "operating_point": f.operating_point,
                 "box_xyxy_px": None if f.box_xyxy_px is None else list(f.box_xyxy_px),
                 "heatmap_key": f.heatmap_key} for f in self.findings],
            "heatmaps": [
                {"label": h.label, "key": h.key, "value_range": list(h.value_range),
                 "shape": None if h.shape is None else list(h.shape)} for h in self.heatmaps],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AnalysisResult:
        """Inverse of :meth:`to_dict` (heatmaps come back without ``values``)."""
        return cls(
            model_id=data["model_id"], model_version=data["model_version"],
            sha256=data["sha256"], status=data["status"], source=data["source"],
            sop_instance_uid=data["sop_instance_uid"], frame=int(data["frame"]),
            image_size=(int(data["image_size"][0]), int(data["image_size"][1])),
            applicable=bool(data["applicable"]), reason=data["reason"],
            reason_detail=(None if not data.get("reason_code") else Reason(
                data["reason_code"], data.get("reason_value") or "",
                data.get("reason_expected") or "")),
            provider=data["provider"], provider_notice=data["provider_notice"],
            site_calibrated=bool(data.get("site_calibrated", False)),
            timings_ms={k: float(v) for k, v in data["timings_ms"].items()},
            case_scores=tuple(_case_score(c) for c in data["case_scores"]),
            findings=tuple(
                Finding(f["label"], float(f["score"]), f["operating_point"],
                        None if f["box_xyxy_px"] is None
                        else (f["box_xyxy_px"][0], f["box_xyxy_px"][1],
                              f["box_xyxy_px"][2], f["box_xyxy_px"][3]),
                        f["heatmap_key"]) for f in data["findings"]),
            heatmaps=tuple(
                HeatmapRef(h["label"], h["key"], (h["value_range"][0], h["value_range"][1]))
                for h in data["heatmaps"]),
        )

    def with_heatmap_values(self, arrays: dict[str, np.ndarray]) -> AnalysisResult:
        """The same result with heatmap arrays attached by key (e.g. read from the cache)."""
        return replace(self, heatmaps=tuple(
            replace(h, values=arrays.get(h.key, h.values)) for h in self.heatmaps))


def _case_score(data: dict[str, Any]) -> CaseScore:
    thresholds = data.get("thresholds")
    return CaseScore(
        data["label"], float(data["probability"]), data["operating_point"],
        None if thresholds is None else (float(thresholds[0]), float(thresholds[1])),
        tuple(float(v) for v in data.get("scale_cuts") or ()))


def not_applicable(model_id: str, model_version: str, sha256: str, source: str,
                   sop_instance_uid: str, frame: int, image_size: tuple[int, int],
                   reason: Reason) -> AnalysisResult:
    """A result that records why the model did not run on this image."""
    return AnalysisResult(model_id, model_version, sha256, source, sop_instance_uid, frame,
                          image_size, applicable=False, reason=str(reason),
                          reason_detail=reason)
