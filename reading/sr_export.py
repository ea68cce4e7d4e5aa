"""The reading and the AI results as DICOM Structured Reports (TID 1500 Measurement Report).

IOD: **Comprehensive SR** (1.2.840.10008.5.1.4.1.1.88.33). Marks are 2D regions on
images (SCOORD), which Basic and Enhanced SR cannot hold in a TID 1500 report with
by-value image references and qualitative evaluations; Comprehensive 3D SR would only
add SCOORD3D (patient coordinates), which radiographs do not need and which many
PACS viewers do not display. highdicom's ``ComprehensiveSR`` builds it.

Coordinates. DICOM SCOORD Graphic Data (PS3.3 C.18.6.1.2) are (column, row) pairs
"such that the origin at the TLHC of the TLHC pixel is 0.0\\0.0, the BRHC of the TLHC
pixel is 1.0\\1.0, and the BRHC of the BRHC pixel is Columns\\Rows". Tandem's image
pixels (reading.model, inference.results) use the same convention: (0, 0) is the
top-left corner of the top-left pixel, x = column to the right, y = row down, the centre
of pixel (0, 0) is (0.5, 0.5). The mapping is therefore the identity, ``(x, y) ->
(column, row)``; Graphic Data is FL, so values come back rounded to float32. Shapes:

- point -> POINT (1 pair); box -> closed POLYLINE (5 pairs, the first repeated);
- ellipse (axis-aligned, given by its bounding box) -> ELLIPSE (4 pairs: the major axis
  end points, then the minor axis end points); polygon -> closed POLYLINE.

:func:`shape_from_scoord` is the inverse used when reading an SR back.

Codes. Finding types are SNOMED CT where a concept exists; Tandem's other labels use
the private coding scheme ``99TANDEM`` (declared in Coding Scheme Identification
Sequence), as do the concepts DICOM has no code for (reader confidence, decision on an
AI finding, model probability).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from copy import deepcopy
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from highdicom.sr import (
    AlgorithmIdentification,
    CodedConcept,
    ComprehensiveSR,
    DeviceObserverIdentifyingAttributes,
    FindingSite,
    ImageRegion,
    Measurement,
    MeasurementReport,
    MeasurementsAndQualitativeEvaluations,
    ObservationContext,
    ObserverContext,
    PersonObserverIdentifyingAttributes,
    PlanarROIMeasurementsAndQualitativeEvaluations,
    QualitativeEvaluation,
    RelationshipTypeValues,
    SourceImageForMeasurementGroup,
    SourceImageForRegion,
    TextContentItem,
    TrackingIdentifier,
)
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes
from pydicom.uid import generate_uid
from pydicom.valuerep import DT

from inference.results import AnalysisResult, Finding
from reading.model import Mark, Reading

if TYPE_CHECKING:
    from reading.concordance import Concordance

MANUFACTURER = "Tandem (research)"
RESEARCH_USE = "Research use only — not for clinical use"
CHARSET = "ISO_IR 192"  # UTF-8: names with accents, the em dash of RESEARCH_USE
TANDEM_SCHEME = "99TANDEM"


def tandem_code(value: str, meaning: str) -> CodedConcept:
    return CodedConcept(value, TANDEM_SCHEME, meaning)


def _sct(value: str, meaning: str) -> CodedConcept:
    return CodedConcept(value, "SCT", meaning)


# Reader mark labels (reading.vocabulary) -> finding type.
LABEL_CODES: dict[str, CodedConcept] = {
    "nodule_mass": tandem_code("NODULE_MASS", "Nodule or mass"),
    "consolidation": _sct("95436008", "Lung consolidation"),
    "effusion": _sct("60046008", "Pleural effusion"),
    "pneumothorax": _sct("36118008", "Pneumothorax"),
    "cardiomegaly": _sct("8186001", "Cardiomegaly"),
    "other": tandem_code("OTHER", "Other finding"),
    "fracture": _sct("72704001", "Fracture"),
    "dislocation": _sct("87642003", "Dislocation"),
    "mass": _sct("4147007", "Mass"),
    "calcifications": _sct("129769006", "Calcification Cluster"),
    "architectural_distortion": _sct("129792006", "Architectural distortion of breast"),
    "asymmetry": _sct("129790003", "Asymmetric breast tissue"),
}
# AI model labels (inference manifests) -> finding type.
AI_LABEL_CODES: dict[str, CodedConcept] = {
    "abnormal": _sct("263654008", "Abnormal"),
    "fracture": _sct("72704001", "Fracture"),
    "lesion": _sct("52988006", "Lesion"),
}
PROCEDURES: dict[str, CodedConcept] = {
    "cxr": _sct("399208008", "Plain chest X-ray"),
    "bone": _sct("168537006", "Plain radiography"),
    "mammo": _sct("71651007", "Mammography"),
}
CONFIDENCE = tandem_code("CONFIDENCE", "Reader confidence")
CONFIDENCE_CODES = {c: tandem_code(c.upper(), c.capitalize())
                    for c in ("possible", "probable", "definite")}
CONCORDANCE = tandem_code("CONCORDANCE", "Concordance with AI")
CONCORDANCE_CODES = {"agreed": tandem_code("AGREED", "Agreed with AI"),
                     "reader_only": tandem_code("READER_ONLY", "Reader only"),
                     "ai_only": tandem_code("AI_ONLY", "AI only")}
AI_DECISION = tandem_code("AI_DECISION", "Decision on AI finding")
DECISION_CODES = {"accepted": tandem_code("ACCEPTED", "Accepted"),
                  "dismissed": tandem_code("DISMISSED", "Dismissed")}
OPERATING_POINT = tandem_code("OPERATING_POINT", "Operating point met")
OPERATING_POINT_CODES = {
    "high_specificity": tandem_code("HIGH_SPECIFICITY", "High-specificity threshold met"),
    "high_sensitivity": tandem_code("HIGH_SENSITIVITY", "High-sensitivity threshold met"),
    None: tandem_code("BELOW_THRESHOLDS", "Below the high-sensitivity threshold"),
}
MODEL_SHA256 = tandem_code("MODEL_SHA256", "Model file SHA-256")
COMMENT = CodedConcept("121106", "DCM", "Comment")
FINDING = CodedConcept("121071", "DCM", "Finding")
NORMAL = _sct("17621005", "Normal")
ABNORMAL = _sct("263654008", "Abnormal")
PRESENT = _sct("52101004", "Present")
ABSENT = _sct("272519000", "Absent")
BREAST = _sct("76752008", "Breast")
SIDES = {"R": _sct("24028007", "Right"), "L": _sct("7771000", "Left")}
ASSESSMENT_CATEGORY = CodedConcept("111005", "DCM", "Assessment Category")
BREAST_COMPOSITION = CodedConcept("111006", "DCM", "Breast composition")
# CID 6027 "Assessment from BI-RADS" (category 6 is coded by ACR BI-RADS itself).
BIRADS_CODES: dict[int, CodedConcept] = {
    0: _sct("397138000", "0 - Incomplete - Need additional imaging evaluation +/- priors"),
    1: _sct("397140005", "1 - Negative"),
    2: _sct("397141009", "2 - Benign"),
    3: _sct("397143007", "3 - Probably Benign"),
    4: _sct("397144001", "4 - Suspicious"),
    5: _sct("397145000", "5 - Highly suggestive of malignancy"),
    6: CodedConcept("MA.II.A.5.6", "BI", "6 - Known biopsy proven malignancy", "4.0"),
}
# CID 6000 "Overall Breast Composition" (BI-RADS density a-d).
DENSITY_CODES: dict[str, CodedConcept] = {
    "a": _sct("129716005", "Almost entirely fat"),
    "b": _sct("129717001", "Scattered fibroglandular densities"),
    "c": _sct("129718006", "Heterogeneously dense"),
    "d": _sct("129719003", "Extremely dense"),
}
PROBABILITY_UNIT = CodedConcept("1", "UCUM", "no units")
CERTAINTY = CodedConcept("111012", "DCM", "Certainty of Finding")


class ExportError(ValueError):
    """The inputs cannot make this document (e.g. an image missing from ``sources``)."""


# -- coordinates -------------------------------------------------------------------------------

def scoord(mark_shape: str, points: Sequence[tuple[float, float]]) -> tuple[str, np.ndarray]:
    """(Graphic Type, (N, 2) column/row array) of a Tandem shape; see the module doc."""
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if mark_shape == "point":
        return "POINT", pts[:1]
    if mark_shape == "polygon":
        return "POLYLINE", np.vstack([pts, pts[:1]])
    x0, x1 = sorted((pts[0, 0], pts[1, 0]))
    y0, y1 = sorted((pts[0, 1], pts[1, 1]))
    if mark_shape == "box":
        return "POLYLINE", np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]])
    if mark_shape == "ellipse":
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        horizontal = np.array([[x0, cy], [x1, cy]])
        vertical = np.array([[cx, y0], [cx, y1]])
        major, minor = ((horizontal, vertical) if x1 - x0 >= y1 - y0
                        else (vertical, horizontal))
        return "ELLIPSE", np.vstack([major, minor])
    raise ExportError(f"unknown mark shape {mark_shape!r}")


def shape_from_scoord(graphic_type: str, data: Sequence[float]) -> tuple[str, tuple[tuple[float, float], ...]]:  # noqa: E501
    """Inverse of :func:`scoord`: (Tandem shape, points) from SCOORD Graphic Data.

    A closed 5-point axis-aligned POLYLINE reads back as a box, another closed POLYLINE
    as a polygon (the repeated first point dropped)."""
    pts = np.asarray(data, dtype=np.float64).reshape(-1, 2)
    pairs = tuple((float(x), float(y)) for x, y in pts)
    if graphic_type == "POINT":
        return "point", pairs[:1]
    if graphic_type == "ELLIPSE":
        return "ellipse", ((float(pts[:, 0].min()), float(pts[:, 1].min())),
                           (float(pts[:, 0].max()), float(pts[:, 1].max())))
    if graphic_type == "POLYLINE" and len(pairs) > 1 and pairs[0] == pairs[-1]:
        ring = pts[:-1]
        xs, ys = set(ring[:, 0]), set(ring[:, 1])
        if len(ring) == 4 and len(xs) == 2 and len(ys) == 2 and \
                all(ring[i, 0] == ring[i + 1, 0] or ring[i, 1] == ring[i + 1, 1]
                    for i in range(3)):
            return "box", (pairs[0], pairs[2])
        return "polygon", pairs[:-1]
    raise ExportError(f"SCOORD {graphic_type} with {len(pairs)} points is not a Tandem shape")


# -- sources -----------------------------------------------------------------------------------

# Type 2 attributes highdicom copies from the first referenced image: present (maybe
# empty) in any valid image, but a header may still lack them.
_TYPE2_PATIENT_STUDY = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex",
                        "StudyDate", "StudyTime", "AccessionNumber", "StudyID",
                        "ReferringPhysicianName")


def evidence(sources: Mapping[str, Dataset], sop_uids: Sequence[str]) -> list[Dataset]:
    """The referenced images' headers, first-seen order, with missing Type 2 patient and
    study attributes added empty (they are copied into the document, where they are
    required). Raises :class:`ExportError` for an image not in ``sources``."""
    out: list[Dataset] = []
    seen: set[str] = set()
    for uid in sop_uids:
        if uid in seen:
            continue
        seen.add(uid)
        if uid not in sources:
            raise ExportError(f"image {uid} is not in the study's files")
        ds = deepcopy(sources[uid])
        for keyword in _TYPE2_PATIENT_STUDY:
            if keyword not in ds:
                setattr(ds, keyword, "")
        out.append(ds)
    if not out:
        raise ExportError("nothing to export: no image is referenced")
    return out


def is_multiframe(ds: Dataset) -> bool:
    """Multi-frame IODs always carry Number of Frames (Type 1), even for one frame."""
    return "NumberOfFrames" in ds


def frame_numbers(ds: Dataset, frame: int) -> list[int] | None:
    """DICOM Referenced Frame Number (1-based) of a Tandem frame index, multi-frame only."""
    return [frame + 1] if is_multiframe(ds) else None


def image_region(ds: Dataset, frame: int, mark_shape: str,
                 points: Sequence[tuple[float, float]]) -> ImageRegion:
    graphic_type, data = scoord(mark_shape, points)
    source = SourceImageForRegion(ds.SOPClassUID, ds.SOPInstanceUID, frame_numbers(ds, frame))
    return ImageRegion(graphic_type, data, source)


def _coding_schemes(ds: Dataset) -> None:
    item = Dataset()
    item.CodingSchemeDesignator = TANDEM_SCHEME
    item.CodingSchemeName = "Tandem private codes"
    item.CodingSchemeResponsibleOrganization = MANUFACTURER
    ds.CodingSchemeIdentificationSequence = [item]


def _signed_time(reading: Reading) -> DT | None:
    if not reading.signed_at:
        return None
    try:
        return DT(dt.datetime.fromisoformat(reading.signed_at.replace("Z", "+00:00")))
    except ValueError:
        return None


def _comment(text: str) -> TextContentItem:
    return TextContentItem(COMMENT, text, RelationshipTypeValues.CONTAINS)


def _append(group: Sequence[Dataset], *items: Dataset) -> None:
    """Add content items to a template's container (TID 1501/1410 TEXT evaluations)."""
    group[0].ContentSequence.extend(items)


# -- reader SR ---------------------------------------------------------------------------------


def reader_person_name(reader: str) -> str:
    """The local user name as a DICOM Person Name: one component is the family name.

    A login such as ``dr.martin`` has no ``^``; highdicom warns about such names, so the whole
    login becomes the family name component (``dr.martin^``), and any ``^`` or ``=`` already in
    it (a name typed the DICOM way) is kept as given.
    """
    name = reader.strip()
    return name if ("^" in name or "=" in name) else f"{name}^"

def _mark_group(reading: Reading, mark: Mark, ds: Dataset,
                concordance_status: str | None) -> PlanarROIMeasurementsAndQualitativeEvaluations:
    evaluations = []
    if mark.confidence in CONFIDENCE_CODES:
        evaluations.append(QualitativeEvaluation(CONFIDENCE, CONFIDENCE_CODES[mark.confidence]))
    if concordance_status in CONCORDANCE_CODES:
        evaluations.append(QualitativeEvaluation(CONCORDANCE,
                                                 CONCORDANCE_CODES[concordance_status]))
    return PlanarROIMeasurementsAndQualitativeEvaluations(
        tracking_identifier=TrackingIdentifier(
            uid=generate_uid(entropy_srcs=[reading.study_instance_uid, "mark", mark.id]),
            identifier=f"mark {mark.id}"),
        referenced_region=image_region(ds, mark.frame, mark.shape, mark.points),
        finding_type=LABEL_CODES[mark.label],
        qualitative_evaluations=evaluations or None)


def _assessment_groups(reading: Reading, sources: Mapping[str, Dataset]
                       ) -> list[MeasurementsAndQualitativeEvaluations]:
    a = reading.assessment
    groups: list[MeasurementsAndQualitativeEvaluations] = []

    def tracking(what: str) -> TrackingIdentifier:
        return TrackingIdentifier(
            uid=generate_uid(entropy_srcs=[reading.study_instance_uid, "assessment", what]),
            identifier=f"assessment {what}")

    if reading.kind == "cxr":
        evaluations = ([] if a.cxr is None else
                       [QualitativeEvaluation(FINDING, NORMAL if a.cxr == "normal" else ABNORMAL)])
        groups.append(MeasurementsAndQualitativeEvaluations(
            tracking("study"), qualitative_evaluations=evaluations or None))
    elif reading.kind == "bone":
        for uid, present in a.fracture_by_image.items():
            ds = sources.get(uid)
            images = None if ds is None else [SourceImageForMeasurementGroup(
                ds.SOPClassUID, ds.SOPInstanceUID)]
            groups.append(MeasurementsAndQualitativeEvaluations(
                tracking(uid), finding_type=LABEL_CODES["fracture"], source_images=images,
                qualitative_evaluations=[QualitativeEvaluation(
                    LABEL_CODES["fracture"], PRESENT if present else ABSENT)]))
    else:
        for side, breast in sorted(a.breasts.items()):
            evaluations = []
            if breast.birads is not None:
                evaluations.append(QualitativeEvaluation(ASSESSMENT_CATEGORY,
                                                         BIRADS_CODES[breast.birads]))
            if breast.density is not None:
                evaluations.append(QualitativeEvaluation(BREAST_COMPOSITION,
                                                         DENSITY_CODES[breast.density]))
            groups.append(MeasurementsAndQualitativeEvaluations(
                tracking(f"breast {side}"),
                finding_sites=[FindingSite(BREAST, laterality=SIDES[side])],
                qualitative_evaluations=evaluations or None))
    if not groups:  # TID 1500 needs one group: the (empty) study-level assessment
        groups.append(MeasurementsAndQualitativeEvaluations(tracking("study")))
    if reading.text.strip():
        _append(groups[0], _comment(reading.text.strip()))
    return groups


def _decision_groups(reading: Reading, sources: Mapping[str, Dataset],
                     concordance: Concordance | None
                     ) -> list[MeasurementsAndQualitativeEvaluations
                               | PlanarROIMeasurementsAndQualitativeEvaluations]:
    refs = {} if concordance is None else {p.ai.key: p.ai for p in concordance.pairs
                                          if p.ai is not None}
    groups: list[MeasurementsAndQualitativeEvaluations
                 | PlanarROIMeasurementsAndQualitativeEvaluations] = []
    for decision in reading.ai_decisions:
        tracking = TrackingIdentifier(
            uid=generate_uid(entropy_srcs=[reading.study_instance_uid, decision.finding_key]),
            identifier=f"AI finding {decision.finding_key}")
        evaluations = [QualitativeEvaluation(AI_DECISION, DECISION_CODES[decision.decision])]
        ref = refs.get(decision.finding_key)
        group: (MeasurementsAndQualitativeEvaluations
                | PlanarROIMeasurementsAndQualitativeEvaluations)
        if ref is not None and ref.sop_instance_uid in sources:
            ds = sources[ref.sop_instance_uid]
            region = (image_region(ds, ref.frame, "box", [ref.box_xyxy_px[:2],
                                                          ref.box_xyxy_px[2:]])
                      if ref.box_xyxy_px is not None
                      else image_region(ds, ref.frame, "point", [ref.point_px]))
            group = PlanarROIMeasurementsAndQualitativeEvaluations(
                tracking, referenced_region=region,
                finding_type=AI_LABEL_CODES.get(ref.label, tandem_code(ref.label.upper(),
                                                                       ref.label)),
                qualitative_evaluations=evaluations)
        else:
            group = MeasurementsAndQualitativeEvaluations(
                tracking, qualitative_evaluations=evaluations)
        if decision.reason.strip():
            _append(group, _comment(decision.reason.strip()))
        groups.append(group)
    return groups


def reader_sr(reading: Reading, sources: Mapping[str, Dataset], *,
              concordance: Concordance | None = None, series_number: int = 990) -> Dataset:
    """The radiologist's reading as a Comprehensive SR (TID 1500), person observer =
    ``reading.reader``; signed -> VERIFIED by the reader, draft -> UNVERIFIED."""
    status = {} if concordance is None else {p.mark_id: p.status for p in concordance.pairs
                                             if p.mark_id is not None}
    uids = [m.sop_instance_uid for m in reading.marks]
    uids += [u for u in reading.assessment.fracture_by_image if u in sources]
    if not uids:
        uids = list(sources)
    images = evidence(sources, uids)
    by_uid = {ds.SOPInstanceUID: ds for ds in images}
    groups: list[MeasurementsAndQualitativeEvaluations
                 | PlanarROIMeasurementsAndQualitativeEvaluations] = []
    groups.extend(_assessment_groups(reading, by_uid))
    groups.extend(_mark_group(reading, m, by_uid[m.sop_instance_uid], status.get(m.id))
                  for m in reading.marks)
    groups.extend(_decision_groups(reading, sources, concordance))
    observer = ObservationContext(observer_person_context=ObserverContext(
        observer_type=codes.DCM.Person,
        observer_identifying_attributes=PersonObserverIdentifyingAttributes(
            name=reader_person_name(reading.reader))))
    report = MeasurementReport(observation_context=observer,
                               procedure_reported=PROCEDURES[reading.kind],
                               imaging_measurements=groups)
    organization = str(images[0].get("InstitutionName", "") or "") or "Unspecified"
    sr = ComprehensiveSR(
        evidence=images, content=report[0], series_instance_uid=generate_uid(),
        series_number=series_number, sop_instance_uid=generate_uid(), instance_number=1,
        manufacturer=MANUFACTURER, is_complete=reading.signed, is_final=reading.signed,
        is_verified=reading.signed,
        verifying_observer_name=reader_person_name(reading.reader) if reading.signed else None,
        verifying_organization=organization if reading.signed else None,
        series_description=f"Reading v{reading.version} ({reading.purpose})",
        specific_character_set=CHARSET)
    when = _signed_time(reading)
    if reading.signed and when is not None:
        sr.VerifyingObserverSequence[0].VerificationDateTime = when
    _coding_schemes(sr)
    return sr


# -- AI SR -------------------------------------------------------------------------------------

def heatmap_peak(result: AnalysisResult, finding: Finding) -> tuple[float, float] | None:
    """Image position (x, y) of the centre of the heatmap's highest cell, if it was loaded."""
    heatmap = next((h for h in result.heatmaps if h.key == finding.heatmap_key), None)
    if heatmap is None or heatmap.values is None or heatmap.values.size == 0:
        return None
    h, w = heatmap.values.shape
    i, j = np.unravel_index(int(np.argmax(heatmap.values)), heatmap.values.shape)
    rows, cols = result.image_size
    return ((float(j) + 0.5) * cols / w, (float(i) + 0.5) * rows / h)


def algorithm(result: AnalysisResult) -> AlgorithmIdentification:
    return AlgorithmIdentification(name=result.model_id, version=result.model_version,
                                   parameters=[f"sha256={result.sha256}"],
                                   manufacturer=MANUFACTURER)


def _ai_groups(result: AnalysisResult, ds: Dataset
               ) -> list[MeasurementsAndQualitativeEvaluations
                         | PlanarROIMeasurementsAndQualitativeEvaluations]:
    groups: list[MeasurementsAndQualitativeEvaluations
                 | PlanarROIMeasurementsAndQualitativeEvaluations] = []
    key = f"{result.model_id}@{result.sha256[:12]}/{result.sop_instance_uid}/{result.frame}"
    measurements = [Measurement(tandem_code(f"P_{c.label.upper()}", f"Probability of {c.label}"),
                                c.probability, PROBABILITY_UNIT) for c in result.case_scores]
    case = MeasurementsAndQualitativeEvaluations(
        TrackingIdentifier(uid=generate_uid(entropy_srcs=[key, "case"]),
                           identifier=f"case {key}"),
        algorithm_id=algorithm(result),
        source_images=[SourceImageForMeasurementGroup(ds.SOPClassUID, ds.SOPInstanceUID,
                                                      frame_numbers(ds, result.frame))],
        measurements=measurements or None,
        qualitative_evaluations=[QualitativeEvaluation(OPERATING_POINT,
                                                       OPERATING_POINT_CODES[c.operating_point])
                                 for c in result.case_scores[:1]] or None)
    _append(case, TextContentItem(MODEL_SHA256, result.sha256, RelationshipTypeValues.CONTAINS),
            _comment(RESEARCH_USE))
    groups.append(case)
    for index, finding in enumerate(result.findings):
        if finding.box_xyxy_px is not None:
            x0, y0, x1, y1 = finding.box_xyxy_px
            region = image_region(ds, result.frame, "box", [(x0, y0), (x1, y1)])
        else:
            peak = heatmap_peak(result, finding)
            if peak is None:
                continue  # a heatmap region without its array: the case score says it
            region = image_region(ds, result.frame, "point", [peak])
        groups.append(PlanarROIMeasurementsAndQualitativeEvaluations(
            TrackingIdentifier(uid=generate_uid(entropy_srcs=[key, str(index)]),
                               identifier=f"{key}/{index}"),
            referenced_region=region,
            finding_type=AI_LABEL_CODES.get(finding.label,
                                            tandem_code(finding.label.upper(), finding.label)),
            algorithm_id=algorithm(result),
            measurements=[Measurement(CERTAINTY, finding.score, PROBABILITY_UNIT)],
            qualitative_evaluations=[QualitativeEvaluation(
                OPERATING_POINT, OPERATING_POINT_CODES[finding.operating_point])]))
    return groups


def ran(results: Sequence[AnalysisResult]) -> list[AnalysisResult]:
    """The results where the model actually ran on a DICOM image."""
    return [r for r in results if r.applicable and not r.reason and r.sop_instance_uid]


def ai_sr(results: Sequence[AnalysisResult], sources: Mapping[str, Dataset], *,
          series_number: int = 991) -> Dataset:
    """One model version's results as a Comprehensive SR (TID 1500), device observer =
    the model (name, version, manufacturer, sha256 as serial number)."""
    done = ran(results)
    if not done:
        raise ExportError("no AI result to export (the models did not run on these images)")
    versions = {(r.model_id, r.model_version, r.sha256) for r in done}
    if len(versions) != 1:
        raise ExportError("one AI SR holds one model version; export each model apart")
    first = done[0]
    images = evidence(sources, [r.sop_instance_uid for r in done])
    by_uid = {ds.SOPInstanceUID: ds for ds in images}
    groups = [g for r in done for g in _ai_groups(r, by_uid[r.sop_instance_uid])]
    device = DeviceObserverIdentifyingAttributes(
        uid=generate_uid(entropy_srcs=[first.sha256]), name=first.model_id,
        manufacturer_name=MANUFACTURER, model_name=f"{first.model_id} {first.model_version}",
        serial_number=first.sha256)
    context = ObservationContext(observer_device_context=ObserverContext(
        observer_type=codes.DCM.Device, observer_identifying_attributes=device))
    kind = {"MG": "mammo"}.get(str(images[0].get("Modality", "")), "bone")
    if kind == "bone" and "CHEST" in str(images[0].get("BodyPartExamined", "")).upper():
        kind = "cxr"
    report = MeasurementReport(observation_context=context, procedure_reported=PROCEDURES[kind],
                               imaging_measurements=groups)
    sr = ComprehensiveSR(
        evidence=images, content=report[0], series_instance_uid=generate_uid(),
        series_number=series_number, sop_instance_uid=generate_uid(), instance_number=1,
        manufacturer=MANUFACTURER, is_complete=True,
        series_description=f"AI {first.model_id} — research use only",
        manufacturer_model_name=first.model_id, software_versions=first.model_version,
        device_serial_number=first.sha256, specific_character_set=CHARSET)
    _coding_schemes(sr)
    return sr


# -- files -------------------------------------------------------------------------------------

def write_exports(reading: Reading, results: Sequence[AnalysisResult],
                  sources: Mapping[str, Dataset], out_dir: Path, *,
                  concordance: Concordance | None = None, gsps: bool = True) -> list[Path]:
    """Write the reader SR, one AI SR per model version that ran, the marks' GSPS (when
    there are marks and ``gsps``) and, for mammography, the Mammography CAD SR."""
    from reading.cad_sr import mammo_cad_sr
    from reading.gsps_export import marks_gsps

    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def save(ds: Dataset, name: str) -> None:
        path = out_dir / name
        ds.save_as(path, enforce_file_format=True)
        written.append(path)

    save(reader_sr(reading, sources, concordance=concordance),
         f"SR_reader_v{reading.version}.dcm")
    done = [r for r in ran(results) if r.sop_instance_uid in sources]
    by_model: dict[tuple[str, str], list[AnalysisResult]] = {}
    for r in done:
        by_model.setdefault((r.model_id, r.sha256), []).append(r)
    for number, ((model_id, sha), model_results) in enumerate(sorted(by_model.items())):
        save(ai_sr(model_results, sources, series_number=991 + 10 * number),
             f"SR_ai_{_safe(model_id)}_{sha[:12]}.dcm")
    if gsps and reading.marks:
        save(marks_gsps(reading, sources), f"GSPS_reader_v{reading.version}.dcm")
    mammo = [r for r in done if str(sources[r.sop_instance_uid].get("Modality", "")) == "MG"]
    if mammo:
        save(mammo_cad_sr(mammo, sources), "SR_mammo_cad.dcm")
    return written


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)
