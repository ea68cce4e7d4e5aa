"""The double read compared: AI findings matched to the radiologist's marks, and case verdicts.

**Which AI findings count** (:func:`ai_findings`): only results where the model ran
(``applicable`` and no ``reason``); a box finding at or above its high-sensitivity
point; for a heatmap model whose case score reaches high-sensitivity, one finding at the
heatmap's peak: ``point_px`` is the peak cell's centre and ``box_xyxy_px`` the *region
box*, the bounding box of the cells 4-connected to the peak whose value is at least
half-way from the map's minimum to its peak. A heatmap without values (a result read back
from JSON alone) gives no finding; its case score is still compared.

**Matching rules** (:data:`DEFAULT_RULES`, per AI label family; a mark can only match a
finding of the same SOP Instance UID and frame whose label family,
:data:`reading.vocabulary.AI_LABEL_FAMILIES`, holds the mark's label):

| AI label | reader labels | mark matches when (either) | no spacing |
|---|---|---|---|
| ``abnormal`` (chest heatmap) | any chest label | centre ≤ 30 mm from the peak; | ≤ 150 px |
|                              |                 | centre inside the region box  |          |
| ``fracture`` (fracture boxes) | fracture | IoU ≥ 0.1; centre distance ≤ 10 mm | ≤ 50 px |
| ``lesion`` (mammo boxes) | mass, distortion, | IoU ≥ 0.1; centre distance ≤ 15 mm | ≤ 75 px |
|                          | asymmetry, calcifications |                     |          |

- Box, ellipse and polygon marks use their bounding box for IoU and their centre for the
  distance; **point marks match by distance only** (and by "inside the region box").
- Distances are between the mark's centre and the finding's ``point_px`` (box centre or
  heatmap peak), in mm through the image's pixel spacing (``mm_per_px``: PixelSpacing,
  else ImagerPixelSpacing). **Without a spacing** the threshold is applied in pixels as
  ``mm / 0.2`` (0.2 mm per pixel, a typical radiograph detector) and ``Pair.distance_mm``
  is None. Both thresholds are inclusive (with a 1e-9 allowance for floating-point rounding).
- One-to-one, greedy: every admissible (finding, mark) pair is ranked by IoU (highest
  first; point marks and heatmaps count 0) then by distance (shortest first); a pair is
  kept when neither side is taken yet.

**Pairs**: a matched finding is ``agreed``; an unmatched finding ``ai_only`` (possible
miss); an unmatched mark ``reader_only`` — but only when some model ran on the mark's
image. A mark on an image no model ran on (not applicable, failed, or not analysed) is
**not compared**: it is listed in :attr:`Concordance.uncompared_marks`, never counted.
The reader's decision on each AI finding (``Reading.ai_decisions``) is carried on its pair.

**Case level** (:class:`CaseComparison`, one per model and scope; the model's first case
score with thresholds): the AI band is read on that model version's own thresholds
(:func:`reading.scales.band`). CXR: the reader's normal/abnormal against the highest score
of the study's images (scope ``"study"``). Fracture: present/absent per image (scope: its
SOP Instance UID). Mammography: per breast (scope ``"R"``/``"L"``; films without a known
laterality are left out), breast probability = the highest film score of that breast;
BI-RADS 1–2 is negative, 0, 4, 5 and 6 positive, 3 undetermined. A negative reading and
``likely_normal``, or a positive reading and ``positive``, **agree**; a negative reading
and ``positive``, or a positive one and ``likely_normal``, **disagree**; the ``doubt``
band, BI-RADS 3 and a missing assessment are **undetermined**.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

import numpy as np

from inference.results import AnalysisResult, CaseScore, HeatmapRef
from reading.model import Mark, Reading
from reading.scales import Band, band, scale_1_10
from reading.vocabulary import AI_LABEL_FAMILIES

SCHEMA = "tandem.concordance/1"
FALLBACK_MM_PER_PX = 0.2  # the px rule when an image has no pixel spacing: px = mm / 0.2
_EPS = 1e-9
PairStatus = Literal["agreed", "ai_only", "reader_only"]
Agreement = Literal["agree", "disagree", "undetermined"]
Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class MatchRule:
    """When a mark matches an AI finding of one label family (see the module docstring)."""

    distance_mm: float  # centre distance, inclusive
    iou: float | None = None  # IoU threshold (inclusive) for box-like marks; None: not used
    inside_region: bool = False  # a mark centre inside the finding's box matches (heatmaps)


DEFAULT_RULES: Mapping[str, MatchRule] = {
    "abnormal": MatchRule(distance_mm=30.0, inside_region=True),
    "fracture": MatchRule(distance_mm=10.0, iou=0.1),
    "lesion": MatchRule(distance_mm=15.0, iou=0.1),
}


@dataclass(frozen=True)
class AiFindingRef:
    key: str
    model_id: str
    model_version: str
    sha256: str
    sop_instance_uid: str
    frame: int
    label: str
    score: float
    operating_point: str | None
    box_xyxy_px: Box | None  # boxes; for a heatmap: the region box
    point_px: tuple[float, float]  # box centre or heatmap peak

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "model_id": self.model_id, "model_version": self.model_version,
                "sha256": self.sha256, "sop_instance_uid": self.sop_instance_uid,
                "frame": self.frame, "label": self.label, "score": self.score,
                "operating_point": self.operating_point,
                "box_xyxy_px": None if self.box_xyxy_px is None else list(self.box_xyxy_px),
                "point_px": list(self.point_px)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AiFindingRef:
        box = data.get("box_xyxy_px")
        return cls(data["key"], data["model_id"], data["model_version"], data["sha256"],
                   data["sop_instance_uid"], int(data["frame"]), data["label"],
                   float(data["score"]), data.get("operating_point"),
                   None if box is None else cast(Box, tuple(float(v) for v in box)),
                   (float(data["point_px"][0]), float(data["point_px"][1])))


@dataclass(frozen=True)
class Pair:
    status: PairStatus
    ai: AiFindingRef | None
    mark_id: str | None
    iou: float | None
    distance_mm: float | None
    decision: Literal["accepted", "dismissed"] | None  # the reader's decision on the AI finding

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "ai": None if self.ai is None else self.ai.to_dict(),
                "mark_id": self.mark_id, "iou": self.iou, "distance_mm": self.distance_mm,
                "decision": self.decision}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Pair:
        ai = data.get("ai")
        return cls(data["status"], None if ai is None else AiFindingRef.from_dict(ai),
                   data.get("mark_id"), _float_or_none(data.get("iou")),
                   _float_or_none(data.get("distance_mm")), data.get("decision"))


@dataclass(frozen=True)
class CaseComparison:
    model_id: str
    scope: str  # "study", "R"/"L" (breast) or a SOP Instance UID (fracture per image)
    reader: str  # "normal"/"abnormal", "present"/"absent", "BI-RADS 4", "not assessed"
    ai_probability: float
    ai_band: Band
    ai_scale: int | None  # 1–10 where the model has cuts
    agreement: Agreement

    def to_dict(self) -> dict[str, Any]:
        return {"model_id": self.model_id, "scope": self.scope, "reader": self.reader,
                "ai_probability": self.ai_probability, "ai_band": self.ai_band,
                "ai_scale": self.ai_scale, "agreement": self.agreement}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CaseComparison:
        scale = data.get("ai_scale")
        return cls(data["model_id"], data["scope"], data["reader"],
                   float(data["ai_probability"]), data["ai_band"],
                   None if scale is None else int(scale), data["agreement"])


@dataclass(frozen=True)
class Concordance:
    study_instance_uid: str
    reading_id: str
    pairs: tuple[Pair, ...]
    cases: tuple[CaseComparison, ...]
    uncompared_marks: tuple[str, ...] = ()  # marks on images no model ran on

    def counts(self) -> dict[str, int]:
        counts = {"agreed": 0, "ai_only": 0, "reader_only": 0}
        for pair in self.pairs:
            counts[pair.status] += 1
        return counts

    @property
    def discordant(self) -> bool:
        """Any AI-only finding the reader did not accept, or any case-level disagreement."""
        return (any(p.status == "ai_only" and p.decision != "accepted" for p in self.pairs)
                or any(c.agreement == "disagree" for c in self.cases))

    def to_dict(self) -> dict[str, Any]:
        return {"schema": SCHEMA, "study_instance_uid": self.study_instance_uid,
                "reading_id": self.reading_id, "counts": self.counts(),
                "discordant": self.discordant, "pairs": [p.to_dict() for p in self.pairs],
                "cases": [c.to_dict() for c in self.cases],
                "uncompared_marks": list(self.uncompared_marks)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Concordance:
        if data.get("schema", SCHEMA) != SCHEMA:
            raise ValueError(f"not a concordance ({SCHEMA!r}): {data.get('schema')!r}")
        return cls(data["study_instance_uid"], data["reading_id"],
                   tuple(Pair.from_dict(p) for p in data.get("pairs") or ()),
                   tuple(CaseComparison.from_dict(c) for c in data.get("cases") or ()),
                   tuple(str(m) for m in data.get("uncompared_marks") or ()))


# --------------------------------------------------------------------------- AI findings


def finding_key(result: AnalysisResult, index: int) -> str:
    """A stable name for ``result.findings[index]``: model version, image, frame, index."""
    return (f"{result.model_id}@{result.sha256[:12]}/{result.sop_instance_uid}/"
            f"{result.frame}/{index}")


def ran(result: AnalysisResult) -> bool:
    """The model ran on the image (scores and findings are set)."""
    return result.applicable and not result.reason


def ai_findings(results: Sequence[AnalysisResult]) -> list[AiFindingRef]:
    """The AI findings the reader is compared with (see the module docstring)."""
    refs: list[AiFindingRef] = []
    for result in results:
        if not ran(result):
            continue
        heatmaps = {h.key: h for h in result.heatmaps}
        for index, finding in enumerate(result.findings):
            if finding.operating_point is None:
                continue
            if finding.box_xyxy_px is not None:
                x0, y0, x1, y1 = finding.box_xyxy_px
                box, point = finding.box_xyxy_px, ((x0 + x1) / 2, (y0 + y1) / 2)
            else:
                heatmap = heatmaps.get(finding.heatmap_key or "")
                located = None if heatmap is None else _peak_region(heatmap, result.image_size)
                if located is None:
                    continue
                box, point = located
            refs.append(AiFindingRef(
                finding_key(result, index), result.model_id, result.model_version,
                result.sha256, result.sop_instance_uid, result.frame, finding.label,
                finding.score, finding.operating_point, box, point))
    return refs


def _peak_region(heatmap: HeatmapRef, image_size: tuple[int, int]
                 ) -> tuple[Box, tuple[float, float]] | None:
    """(region box, peak point) in image pixels, or None without values."""
    values = heatmap.values
    if values is None or values.ndim != 2 or values.size == 0:
        return None
    rows, cols = image_size
    h, w = values.shape
    i, j = np.unravel_index(int(np.argmax(values)), values.shape)
    peak, low = float(values[i, j]), float(values.min())
    mask = values >= low + 0.5 * (peak - low)
    region = np.zeros_like(mask)
    region[i, j] = True
    while True:  # 4-connected growth from the peak inside the half-height mask
        grown = region.copy()
        grown[1:] |= region[:-1]
        grown[:-1] |= region[1:]
        grown[:, 1:] |= region[:, :-1]
        grown[:, :-1] |= region[:, 1:]
        grown &= mask
        if np.array_equal(grown, region):
            break
        region = grown
    r_idx = np.nonzero(region.any(axis=1))[0]
    c_idx = np.nonzero(region.any(axis=0))[0]
    sy, sx = rows / h, cols / w
    box = (float(c_idx[0] * sx), float(r_idx[0] * sy),
           float((c_idx[-1] + 1) * sx), float((r_idx[-1] + 1) * sy))
    return box, (float((j + 0.5) * sx), float((i + 0.5) * sy))


# --------------------------------------------------------------------------- matching


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two (x0, y0, x1, y1) boxes (0 when either is empty)."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(0.0, w) * max(0.0, h)
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


@dataclass(frozen=True)
class _Candidate:
    finding: int
    mark: int
    iou: float | None
    distance_px: float
    distance_mm: float | None


def _candidate(fi: int, ai: AiFindingRef, mi: int, mark: Mark, rule: MatchRule,
               spacing: float | None) -> _Candidate | None:
    cx, cy = mark.centre()
    distance_px = math.hypot(cx - ai.point_px[0], cy - ai.point_px[1])
    distance_mm = None if spacing is None else distance_px * spacing
    limit_px = rule.distance_mm / (spacing if spacing is not None else FALLBACK_MM_PER_PX)
    overlap = None
    if rule.iou is not None and mark.shape != "point" and ai.box_xyxy_px is not None:
        overlap = iou(mark.bbox(), ai.box_xyxy_px)
    inside = False
    if rule.inside_region and ai.box_xyxy_px is not None:
        x0, y0, x1, y1 = ai.box_xyxy_px
        inside = x0 <= cx <= x1 and y0 <= cy <= y1
    near = (distance_mm <= rule.distance_mm + _EPS if distance_mm is not None
            else distance_px <= limit_px + _EPS)
    overlaps = overlap is not None and rule.iou is not None and overlap >= rule.iou - _EPS
    if not (near or overlaps or inside):
        return None
    return _Candidate(fi, mi, overlap, distance_px, distance_mm)


def compare(reading: Reading, results: Sequence[AnalysisResult], *,
            mm_per_px: Mapping[str, float] | None = None,
            laterality: Mapping[str, str] | None = None,
            rules: Mapping[str, MatchRule] = DEFAULT_RULES) -> Concordance:
    """Match ``results``' findings to ``reading``'s marks and compare the case verdicts."""
    spacing = dict(mm_per_px or {})
    findings = ai_findings(results)
    marks = list(reading.marks)
    candidates = []
    for fi, ai in enumerate(findings):
        rule = rules.get(ai.label)
        family = AI_LABEL_FAMILIES.get(ai.label, frozenset())
        if rule is None:
            continue
        for mi, mark in enumerate(marks):
            if ((mark.sop_instance_uid, mark.frame) != (ai.sop_instance_uid, ai.frame)
                    or mark.label not in family):
                continue
            found = _candidate(fi, ai, mi, mark, rule, spacing.get(mark.sop_instance_uid))
            if found is not None:
                candidates.append(found)
    candidates.sort(key=lambda c: (-(c.iou or 0.0), c.distance_px, c.finding, c.mark))
    by_finding: dict[int, _Candidate] = {}
    taken_marks: set[int] = set()
    for cand in candidates:
        if cand.finding not in by_finding and cand.mark not in taken_marks:
            by_finding[cand.finding] = cand
            taken_marks.add(cand.mark)
    pairs = []
    for fi, ai in enumerate(findings):
        decision = reading.decision_for(ai.key)
        chosen = by_finding.get(fi)
        pairs.append(Pair(
            "agreed" if chosen else "ai_only", ai,
            None if chosen is None else marks[chosen.mark].id,
            None if chosen is None else chosen.iou,
            None if chosen is None else chosen.distance_mm,
            None if decision is None else decision.decision))
    analysed = {(r.sop_instance_uid, r.frame) for r in results if ran(r)}
    uncompared = []
    for mi, mark in enumerate(marks):
        if mi in taken_marks:
            continue
        if (mark.sop_instance_uid, mark.frame) in analysed:
            pairs.append(Pair("reader_only", None, mark.id, None, None, None))
        else:
            uncompared.append(mark.id)
    return Concordance(reading.study_instance_uid, reading.reading_id, tuple(pairs),
                       tuple(_cases(reading, results, laterality or {})), tuple(uncompared))


# --------------------------------------------------------------------------- case level


def _case_score(result: AnalysisResult) -> CaseScore | None:
    return next((s for s in result.case_scores if s.thresholds is not None), None)


def _agreement(reader_positive: bool | None, ai_band: Band) -> Agreement:
    if reader_positive is None or ai_band == "doubt":
        return "undetermined"
    return "agree" if reader_positive == (ai_band == "positive") else "disagree"


def _comparison(model_id: str, scope: str, reader: str, reader_positive: bool | None,
                score: CaseScore, probability: float) -> CaseComparison:
    assert score.thresholds is not None
    ai_band = band(probability, score.thresholds)
    scale = scale_1_10(probability, score.scale_cuts) if score.scale_cuts else None
    return CaseComparison(model_id, scope, reader, probability, ai_band, scale,
                          _agreement(reader_positive, ai_band))


def _cases(reading: Reading, results: Sequence[AnalysisResult],
           laterality: Mapping[str, str]) -> list[CaseComparison]:
    scored: dict[str, list[tuple[AnalysisResult, CaseScore]]] = {}
    for result in results:
        score = _case_score(result) if ran(result) else None
        if score is not None:
            scored.setdefault(result.model_id, []).append((result, score))
    cases: list[CaseComparison] = []
    assessment = reading.assessment
    for model_id, items in scored.items():
        if reading.kind == "cxr":
            result, score = max(items, key=lambda item: item[1].probability)
            reader = assessment.cxr
            cases.append(_comparison(model_id, "study", reader or "not assessed",
                                     None if reader is None else reader == "abnormal",
                                     score, score.probability))
        elif reading.kind == "bone":
            for result, score in items:
                present = assessment.fracture_by_image.get(result.sop_instance_uid)
                text = "not assessed" if present is None else ("present" if present else "absent")
                cases.append(_comparison(model_id, result.sop_instance_uid, text, present,
                                         score, score.probability))
        else:
            for side in ("R", "L"):
                films = [s for r, s in items if laterality.get(r.sop_instance_uid) == side]
                if not films:
                    continue
                score = max(films, key=lambda s: s.probability)
                breast = assessment.breasts.get(side)
                birads = None if breast is None else breast.birads
                cases.append(_comparison(
                    model_id, side, "not assessed" if birads is None else f"BI-RADS {birads}",
                    _birads_positive(birads), score, score.probability))
    return cases


def _birads_positive(birads: int | None) -> bool | None:
    """BI-RADS 1–2 negative; 0, 4, 5, 6 positive (recall or suspicion); 3 undetermined."""
    if birads is None or birads == 3:
        return None
    return birads not in (1, 2)


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)
