"""The radiologist's reading of one study, as plain JSON-serialisable data.

Coordinates are original image pixels, as for AI results: origin at the top-left
corner of the top-left pixel, x right, y down, on a given SOP Instance UID and frame.

Lifecycle (the store enforces it; these classes only hold values):

- a ``draft`` is edited and autosaved;
- signing freezes it (``state="signed"``); it is never changed again;
- ``purpose`` says what a version is for: ``"first"`` is the blinded first read,
  ``"final"`` the reading after the AI was revealed (it points to the first read and
  records the decisions on AI findings), ``"amendment"`` a correction of a signed
  reading (it points to the version it corrects).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from reading.vocabulary import (
    BIRADS_CATEGORIES,
    BREASTS,
    CONFIDENCES,
    DENSITIES,
    MARK_LABELS,
    STUDY_KINDS,
    StudyKind,
)

SCHEMA = "tandem.reading/1"
MarkShape = Literal["point", "box", "ellipse", "polygon"]
MARK_SHAPES: tuple[MarkShape, ...] = ("point", "box", "ellipse", "polygon")
ReadingState = Literal["draft", "signed"]
Purpose = Literal["first", "final", "amendment"]
Decision = Literal["accepted", "dismissed"]
Point = tuple[float, float]


class ReadingError(ValueError):
    """A reading that breaks a rule; ``path`` names the field (``marks[2].label``)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


@dataclass(frozen=True)
class Mark:
    """One thing the radiologist points at on one image.

    ``points``: point = 1 point; box and ellipse = 2 opposite corners of the bounding
    box; polygon = 3 or more vertices (closed implicitly).
    """

    id: str
    sop_instance_uid: str
    frame: int
    shape: MarkShape
    points: tuple[Point, ...]
    label: str
    confidence: str | None = None  # one of vocabulary.CONFIDENCES

    def bbox(self) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1) with x0 <= x1 and y0 <= y1 (a point gives a zero-size box)."""
        xs = [p[0] for p in self.points]
        ys = [p[1] for p in self.points]
        return (min(xs), min(ys), max(xs), max(ys))

    def centre(self) -> Point:
        if self.shape == "polygon":
            xs = [p[0] for p in self.points]
            ys = [p[1] for p in self.points]
            return (sum(xs) / len(xs), sum(ys) / len(ys))
        x0, y0, x1, y1 = self.bbox()
        return ((x0 + x1) / 2, (y0 + y1) / 2)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "sop_instance_uid": self.sop_instance_uid, "frame": self.frame,
                "shape": self.shape, "points": [list(p) for p in self.points],
                "label": self.label, "confidence": self.confidence}


@dataclass(frozen=True)
class BreastAssessment:
    birads: int | None = None  # 0..6
    density: str | None = None  # "a".."d"


@dataclass(frozen=True)
class Assessment:
    """The case-level conclusion; only the part for the study kind is used."""

    cxr: str | None = None  # "normal" | "abnormal"
    fracture_by_image: Mapping[str, bool] = field(default_factory=dict)  # SOP UID -> present
    breasts: Mapping[str, BreastAssessment] = field(default_factory=dict)  # "R"/"L"

    def to_dict(self) -> dict[str, Any]:
        return {"cxr": self.cxr, "fracture_by_image": dict(self.fracture_by_image),
                "breasts": {side: {"birads": b.birads, "density": b.density}
                            for side, b in self.breasts.items()}}


@dataclass(frozen=True)
class AiDecision:
    """What the radiologist decided about one AI finding after the reveal.

    ``finding_key`` is :func:`reading.concordance.finding_key` of the AI finding, which
    names the model version (sha256), image, frame and finding index.
    """

    finding_key: str
    decision: Decision
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"finding_key": self.finding_key, "decision": self.decision,
                "reason": self.reason}


@dataclass(frozen=True)
class Reading:
    reading_id: str
    study_instance_uid: str
    reader: str
    kind: StudyKind
    version: int = 1
    purpose: Purpose = "first"
    previous_id: str | None = None  # the version this one follows (final/amendment)
    state: ReadingState = "draft"
    started_at: str = ""  # ISO 8601 UTC
    signed_at: str | None = None
    blinded: bool = True  # AI hidden until the first read was signed
    marks: tuple[Mark, ...] = ()
    assessment: Assessment = Assessment()
    text: str = ""
    ai_decisions: tuple[AiDecision, ...] = ()

    @property
    def signed(self) -> bool:
        return self.state == "signed"

    def mark(self, mark_id: str) -> Mark | None:
        return next((m for m in self.marks if m.id == mark_id), None)

    def decision_for(self, finding_key: str) -> AiDecision | None:
        return next((d for d in self.ai_decisions if d.finding_key == finding_key), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA, "reading_id": self.reading_id,
            "study_instance_uid": self.study_instance_uid, "reader": self.reader,
            "kind": self.kind, "version": self.version, "purpose": self.purpose,
            "previous_id": self.previous_id, "state": self.state,
            "started_at": self.started_at, "signed_at": self.signed_at,
            "blinded": self.blinded, "marks": [m.to_dict() for m in self.marks],
            "assessment": self.assessment.to_dict(), "text": self.text,
            "ai_decisions": [d.to_dict() for d in self.ai_decisions],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Reading:
        """Parse and validate; raises :class:`ReadingError` naming the first bad field."""
        return _parse_reading(data)


def _require(ok: bool, path: str, message: str) -> None:
    if not ok:
        raise ReadingError(path, message)


def _text(data: Mapping[str, Any], key: str, path: str, *, empty: bool = False) -> str:
    value = data.get(key)
    _require(isinstance(value, str) and (empty or bool(value)), f"{path}{key}",
             "must be a non-empty string" if not empty else "must be a string")
    return cast(str, value)


def _parse_point(value: Any, path: str) -> Point:
    _require(isinstance(value, list | tuple) and len(value) == 2, path, "must be [x, y]")
    x, y = value
    _require(all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                 for v in (x, y)), path, "coordinates must be finite numbers")
    return (float(x), float(y))


_POINT_COUNTS = {"point": (1, 1), "box": (2, 2), "ellipse": (2, 2), "polygon": (3, 10_000)}


def _parse_mark(data: Any, kind: StudyKind, path: str) -> Mark:
    _require(isinstance(data, Mapping), path, "must be an object")
    shape = data.get("shape")
    _require(shape in MARK_SHAPES, f"{path}.shape", f"must be one of {', '.join(MARK_SHAPES)}")
    raw_points = data.get("points")
    _require(isinstance(raw_points, list), f"{path}.points", "must be a list of [x, y]")
    points = tuple(_parse_point(p, f"{path}.points[{i}]") for i, p in enumerate(raw_points))
    low, high = _POINT_COUNTS[shape]
    _require(low <= len(points) <= high, f"{path}.points",
             f"a {shape} needs {low} point{'s' if low > 1 else ''}"
             + ("" if low == high else " or more"))
    if shape in ("box", "ellipse"):
        _require(points[0][0] != points[1][0] and points[0][1] != points[1][1],
                 f"{path}.points", f"a {shape} needs a width and a height")
    label = data.get("label")
    _require(label in MARK_LABELS[kind], f"{path}.label",
             f"{label!r} is not a {kind} label ({', '.join(MARK_LABELS[kind])})")
    confidence = data.get("confidence")
    _require(confidence is None or confidence in CONFIDENCES, f"{path}.confidence",
             f"must be one of {', '.join(CONFIDENCES)} or null")
    frame = data.get("frame", 0)
    _require(isinstance(frame, int) and not isinstance(frame, bool) and frame >= 0,
             f"{path}.frame", "must be an integer >= 0")
    return Mark(id=_text(data, "id", f"{path}."),
                sop_instance_uid=_text(data, "sop_instance_uid", f"{path}."), frame=frame,
                shape=shape, points=points, label=label, confidence=confidence)


def _parse_assessment(data: Any, path: str) -> Assessment:
    if data is None:
        return Assessment()
    _require(isinstance(data, Mapping), path, "must be an object")
    cxr = data.get("cxr")
    _require(cxr in (None, "normal", "abnormal"), f"{path}.cxr",
             "must be 'normal', 'abnormal' or null")
    fractures = data.get("fracture_by_image") or {}
    _require(isinstance(fractures, Mapping) and all(
        isinstance(k, str) and isinstance(v, bool) for k, v in fractures.items()),
        f"{path}.fracture_by_image", "must map SOP Instance UIDs to true/false")
    breasts: dict[str, BreastAssessment] = {}
    raw_breasts = data.get("breasts") or {}
    _require(isinstance(raw_breasts, Mapping), f"{path}.breasts", "must be an object")
    for side, item in raw_breasts.items():
        where = f"{path}.breasts.{side}"
        _require(side in BREASTS, where, "breast must be 'R' or 'L'")
        _require(isinstance(item, Mapping), where, "must be an object")
        birads, density = item.get("birads"), item.get("density")
        _require(birads is None or (isinstance(birads, int) and birads in BIRADS_CATEGORIES),
                 f"{where}.birads", "must be 0 to 6 or null")
        _require(density is None or density in DENSITIES, f"{where}.density",
                 "must be a, b, c, d or null")
        breasts[side] = BreastAssessment(birads, density)
    return Assessment(cxr=cxr, fracture_by_image=dict(fractures), breasts=breasts)


def _parse_decision(data: Any, path: str) -> AiDecision:
    _require(isinstance(data, Mapping), path, "must be an object")
    decision = data.get("decision")
    _require(decision in ("accepted", "dismissed"), f"{path}.decision",
             "must be 'accepted' or 'dismissed'")
    return AiDecision(_text(data, "finding_key", f"{path}."), decision,
                      str(data.get("reason") or ""))


def _parse_reading(data: Mapping[str, Any]) -> Reading:
    _require(isinstance(data, Mapping), "reading", "must be a JSON object")
    _require(data.get("schema", SCHEMA) == SCHEMA, "schema", f"must be {SCHEMA!r}")
    _require(data.get("kind") in STUDY_KINDS, "kind", f"must be one of {', '.join(STUDY_KINDS)}")
    kind = cast(StudyKind, data["kind"])
    state = data.get("state", "draft")
    _require(state in ("draft", "signed"), "state", "must be 'draft' or 'signed'")
    purpose = data.get("purpose", "first")
    _require(purpose in ("first", "final", "amendment"), "purpose",
             "must be 'first', 'final' or 'amendment'")
    version = data.get("version", 1)
    _require(isinstance(version, int) and not isinstance(version, bool) and version >= 1,
             "version", "must be an integer >= 1")
    marks_raw = data.get("marks") or []
    _require(isinstance(marks_raw, list), "marks", "must be a list")
    marks = tuple(_parse_mark(m, kind, f"marks[{i}]") for i, m in enumerate(marks_raw))
    ids = [m.id for m in marks]
    _require(len(ids) == len(set(ids)), "marks", "mark ids must be unique")
    decisions_raw = data.get("ai_decisions") or []
    _require(isinstance(decisions_raw, list), "ai_decisions", "must be a list")
    decisions = tuple(_parse_decision(d, f"ai_decisions[{i}]")
                      for i, d in enumerate(decisions_raw))
    text = data.get("text", "")
    _require(isinstance(text, str), "text", "must be a string")
    previous = data.get("previous_id")
    _require(previous is None or isinstance(previous, str), "previous_id",
             "must be a string or null")
    signed_at = data.get("signed_at")
    _require(signed_at is None or isinstance(signed_at, str), "signed_at",
             "must be a string or null")
    return Reading(
        reading_id=_text(data, "reading_id", ""),
        study_instance_uid=_text(data, "study_instance_uid", ""),
        reader=_text(data, "reader", ""), kind=kind, version=version, purpose=purpose,
        previous_id=previous, state=state, started_at=str(data.get("started_at") or ""),
        signed_at=signed_at, blinded=bool(data.get("blinded", True)), marks=marks,
        assessment=_parse_assessment(data.get("assessment"), "assessment"), text=text,
        ai_decisions=decisions)
