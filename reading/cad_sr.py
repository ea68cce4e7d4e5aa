"""The mammography AI results as a Mammography CAD SR (1.2.840.10008.5.1.4.1.1.88.50).

highdicom has no TID 4000 template, so the tree is built from its content items,
following PS3.16 (relationship types as the Mammography CAD SR IOD allows them):

- TID 4000 root CONTAINER (111036 "Mammography CAD Report"), observation context
  (TID 1001: device observer = Tandem), then:
- TID 4001 CODE (111017 "CAD Processing and Findings Summary", CID 6047), INFERRED FROM
  one TID 4003 CONTAINER (111034 "Individual Impression/Recommendation") per finding,
  each with its Rendering Intent (CID 6034: high-specificity point met -> presentation
  required; high-sensitivity only -> optional; below -> not for presentation) and a
  TID 4006 CODE (111059 "Single Image Finding", CID 6014: mass) holding the rendering
  intent, the Certainty of Finding (NUM, %, the model score x 100), TID 4019 algorithm
  identification (name, version, sha256 as parameter), Center (SCOORD POINT) and
  Outline (SCOORD closed POLYLINE), each SELECTED FROM its image;
- Image Library CONTAINER (111028) with one TID 4020 entry per image (IMAGE with
  laterality, view, patient orientation, study date/time and pixel spacing when the
  header has them — Tandem does not invent acquisition context);
- Summary of Detections (111064, CID 6042) INFERRED FROM Successful/Failed Detections
  containers of TID 4015 (111022 "Detection Performed" with its algorithm and images);
- Summary of Analyses (111065): Not Attempted (Tandem performs no TID 4016 analysis).

Coordinates: as in :mod:`reading.sr_export` (identity mapping; TLHC of the image = 0,0).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from highdicom.sr import (
    CodeContentItem,
    CodedConcept,
    ContainerContentItem,
    DateContentItem,
    DeviceObserverIdentifyingAttributes,
    ImageContentItem,
    NumContentItem,
    ObservationContext,
    ObserverContext,
    RelationshipTypeValues,
    ScoordContentItem,
    TextContentItem,
    TimeContentItem,
)
from highdicom.sr.sop import _SR
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes
from pydicom.uid import UID, generate_uid

from inference.results import AnalysisResult, Finding
from reading.sr_export import (
    CHARSET,
    MANUFACTURER,
    SIDES,
    ExportError,
    algorithm,
    evidence,
    frame_numbers,
    heatmap_peak,
    ran,
    scoord,
)

MAMMOGRAPHY_CAD_SR = UID("1.2.840.10008.5.1.4.1.1.88.50")
HAS_PROPERTIES = RelationshipTypeValues.HAS_PROPERTIES
HAS_CONCEPT_MOD = RelationshipTypeValues.HAS_CONCEPT_MOD
HAS_ACQ_CONTEXT = RelationshipTypeValues.HAS_ACQ_CONTEXT
INFERRED_FROM = RelationshipTypeValues.INFERRED_FROM
CONTAINS = RelationshipTypeValues.CONTAINS
SELECTED_FROM = RelationshipTypeValues.SELECTED_FROM


def _dcm(value: str, meaning: str) -> CodedConcept:
    return CodedConcept(value, "DCM", meaning)


RENDERING_INTENT = _dcm("111056", "Rendering Intent")
INTENTS = {
    "high_specificity": _dcm("111150", "Presentation Required: Rendering device is "
                                       "expected to present"),
    "high_sensitivity": _dcm("111151", "Presentation Optional: Rendering device may present"),
    None: _dcm("111152", "Not for Presentation: Rendering device expected not to present"),
}
MASS = CodedConcept("4147007", "SCT", "Mass")
VIEWS = {"MLO": CodedConcept("399368009", "SCT", "medio-lateral oblique"),
         "CC": CodedConcept("399162004", "SCT", "cranio-caudal")}
_NO_PURPOSE = CodedConcept("NO_PURPOSE", "99TANDEM", "No purpose of reference")
PERCENT = CodedConcept("%", "UCUM", "Percent")
MICROMETRE = CodedConcept("um", "UCUM", "micrometer")


def _with(item: Dataset, *children: Dataset) -> Dataset:
    """``item`` as a plain dataset with ``children`` appended to its Content Sequence
    (highdicom's ContentSequence refuses the nameless IMAGE items TID 4000 uses)."""
    out = Dataset()
    out.update(item)
    content = [*out.get("ContentSequence", []), *children]
    if content:
        out.ContentSequence = content
    return out


def _image(ds: Dataset, frame: int, relationship: RelationshipTypeValues) -> Dataset:
    """An IMAGE item with no purpose of reference (no concept name), as TID 4006/4015/4020
    reference their images."""
    return ImageContentItem(name=_NO_PURPOSE,  # highdicom needs a name; dropped at the end
                            referenced_sop_class_uid=ds.SOPClassUID,
                            referenced_sop_instance_uid=ds.SOPInstanceUID,
                            referenced_frame_numbers=frame_numbers(ds, frame),
                            relationship_type=relationship)


def _drop_placeholder_names(items: Sequence[Dataset]) -> None:
    for item in items:
        names = item.get("ConceptNameCodeSequence")
        if names and names[0].CodeValue == _NO_PURPOSE.value and \
                names[0].CodingSchemeDesignator == _NO_PURPOSE.scheme_designator:
            del item.ConceptNameCodeSequence
        _drop_placeholder_names(item.get("ContentSequence", []))


def _library_entry(ds: Dataset, frame: int) -> Dataset:
    """TID 4020 CAD Image Library Entry (the acquisition context the header has)."""
    entry = _image(ds, frame, CONTAINS)
    children: list[Dataset] = []
    side = str(ds.get("ImageLaterality", "") or ds.get("Laterality", ""))
    if side in SIDES:
        children.append(CodeContentItem(codes.DCM.ImageLaterality, SIDES[side],
                                        HAS_ACQ_CONTEXT))
    view = str(ds.get("ViewPosition", "")).upper()
    if view in VIEWS:
        children.append(CodeContentItem(codes.DCM.ImageView, VIEWS[view], HAS_ACQ_CONTEXT))
    orientation = list(ds.get("PatientOrientation", []) or [])
    if len(orientation) == 2:
        children.append(TextContentItem(codes.DCM.PatientOrientationRow, str(orientation[0]),
                                        HAS_ACQ_CONTEXT))
        children.append(TextContentItem(codes.DCM.PatientOrientationColumn,
                                        str(orientation[1]), HAS_ACQ_CONTEXT))
    if ds.get("StudyDate"):
        children.append(DateContentItem(codes.DCM.StudyDate, ds.StudyDate, HAS_ACQ_CONTEXT))
    if ds.get("StudyTime"):
        children.append(TimeContentItem(codes.DCM.StudyTime, ds.StudyTime, HAS_ACQ_CONTEXT))
    if ds.get("ContentDate"):
        children.append(DateContentItem(codes.DCM.ContentDate, ds.ContentDate,
                                        HAS_ACQ_CONTEXT))
    if ds.get("ContentTime"):
        children.append(TimeContentItem(codes.DCM.ContentTime, ds.ContentTime,
                                        HAS_ACQ_CONTEXT))
    spacing = ds.get("ImagerPixelSpacing") or ds.get("PixelSpacing")
    if spacing is not None and len(spacing) == 2:
        children.append(NumContentItem(codes.DCM.HorizontalPixelSpacing,
                                       float(spacing[1]) * 1000.0, MICROMETRE,
                                       relationship_type=HAS_ACQ_CONTEXT))
        children.append(NumContentItem(codes.DCM.VerticalPixelSpacing,
                                       float(spacing[0]) * 1000.0, MICROMETRE,
                                       relationship_type=HAS_ACQ_CONTEXT))
    return _with(entry, *children)


def _algorithm_items(result: AnalysisResult, relationship: RelationshipTypeValues
                     ) -> list[Dataset]:
    items = list(algorithm(result))
    for item in items:
        item.RelationshipType = relationship.value
    return items


def _finding(result: AnalysisResult, finding: Finding, ds: Dataset) -> Dataset | None:
    """TID 4003 + 4006: one individual impression holding one single-image finding."""
    if finding.box_xyxy_px is not None:
        x0, y0, x1, y1 = finding.box_xyxy_px
        centre = ((x0 + x1) / 2, (y0 + y1) / 2)
        outline = scoord("box", [(x0, y0), (x1, y1)])
    else:
        peak = heatmap_peak(result, finding)
        if peak is None:
            return None
        centre, outline = peak, None
    intent = INTENTS[finding.operating_point]
    single: Dataset = CodeContentItem(codes.DCM.SingleImageFinding, MASS, CONTAINS)
    children: list[Dataset] = [
        CodeContentItem(RENDERING_INTENT, intent, HAS_CONCEPT_MOD),
        NumContentItem(codes.DCM.CertaintyOfFinding, round(finding.score * 100.0, 4), PERCENT,
                       relationship_type=HAS_PROPERTIES),
        *_algorithm_items(result, INFERRED_FROM),
    ]
    center_type, center_data = scoord("point", [centre])
    children.append(_with(ScoordContentItem(codes.DCM.Center, center_type, center_data,
                                            relationship_type=HAS_PROPERTIES),
                          _image(ds, result.frame, SELECTED_FROM)))
    if outline is not None:
        children.append(_with(ScoordContentItem(codes.DCM.Outline, outline[0], outline[1],
                                                relationship_type=HAS_PROPERTIES),
                              _image(ds, result.frame, SELECTED_FROM)))
    single = _with(single, *children)
    impression = ContainerContentItem(codes.DCM.IndividualImpressionRecommendation,
                                      relationship_type=INFERRED_FROM)
    return _with(impression, CodeContentItem(RENDERING_INTENT, intent, HAS_CONCEPT_MOD), single)


def _detections(done: Sequence[AnalysisResult], failed: Sequence[AnalysisResult],
                by_uid: Mapping[str, Dataset]) -> Dataset:
    """Summary of Detections with TID 4015 per model version (successful, then failed)."""
    def performed(results: Sequence[AnalysisResult]) -> list[Dataset]:
        items = []
        for key in sorted({(r.model_id, r.sha256) for r in results}):
            mine = [r for r in results if (r.model_id, r.sha256) == key]
            items.append(_with(CodeContentItem(codes.DCM.DetectionPerformed, MASS, CONTAINS),
                               *_algorithm_items(mine[0], HAS_PROPERTIES),
                               *(_image(by_uid[r.sop_instance_uid], r.frame, HAS_PROPERTIES)
                                 for r in mine)))
        return items

    status = (codes.DCM.Succeeded if not failed else
              codes.DCM.PartiallySucceeded if done else codes.DCM.Failed)
    summary: Dataset = CodeContentItem(codes.DCM.SummaryOfDetections, status, CONTAINS)
    if done:
        summary = _with(summary, _with(ContainerContentItem(codes.DCM.SuccessfulDetections,
                                                  relationship_type=INFERRED_FROM),
                             *performed(done)))
    if failed:
        summary = _with(summary, _with(ContainerContentItem(codes.DCM.FailedDetections,
                                                  relationship_type=INFERRED_FROM),
                             *performed(failed)))
    return summary


def mammo_cad_sr(results: Sequence[AnalysisResult], sources: Mapping[str, Dataset], *,
                 series_number: int = 993) -> Dataset:
    """The mammography results (MG images of ``sources``) as a Mammography CAD SR."""
    mg = [r for r in results if r.sop_instance_uid in sources
          and str(sources[r.sop_instance_uid].get("Modality", "")) == "MG"]
    done = ran(mg)
    failed = [r for r in mg if r.applicable and r.reason.startswith("failed")]
    if not done and not failed:
        raise ExportError("no mammography AI result to export")
    images = evidence(sources, [r.sop_instance_uid for r in (*done, *failed)])
    by_uid = {ds.SOPInstanceUID: ds for ds in images}
    impressions = [item for r in done for f in r.findings
                   if (item := _finding(r, f, by_uid[r.sop_instance_uid])) is not None]
    summary = (codes.DCM.AllAlgorithmsSucceededWithFindings if not failed and impressions
               else codes.DCM.AllAlgorithmsSucceededWithoutFindings if not failed
               else codes.DCM.NotAllAlgorithmsSucceededWithFindings if impressions
               else codes.DCM.NotAllAlgorithmsSucceededWithoutFindings)
    overall = _with(CodeContentItem(codes.DCM.CADProcessingAndFindingsSummary, summary,
                                    CONTAINS), *impressions)
    library = _with(ContainerContentItem(codes.DCM.ImageLibrary, relationship_type=CONTAINS),
                    *(_library_entry(by_uid[u], f) for u, f in
                      dict.fromkeys((r.sop_instance_uid, r.frame) for r in (*done, *failed))))
    device = DeviceObserverIdentifyingAttributes(
        uid=generate_uid(entropy_srcs=["Tandem CAD"]), name="Tandem",
        manufacturer_name=MANUFACTURER, model_name="Tandem AI second reader")
    context = ObservationContext(observer_device_context=ObserverContext(
        observer_type=codes.DCM.Device, observer_identifying_attributes=device))
    root: Dataset = ContainerContentItem(codes.DCM.MammographyCADReport, template_id="4000")
    root = _with(root, *context, overall, library, _detections(done, failed, by_uid),
          CodeContentItem(codes.DCM.SummaryOfAnalyses, codes.DCM.NotAttempted, CONTAINS))
    sr = _SR(evidence=images, content=root, series_instance_uid=generate_uid(),
             series_number=series_number, sop_instance_uid=generate_uid(),
             sop_class_uid=MAMMOGRAPHY_CAD_SR, instance_number=1, manufacturer=MANUFACTURER,
             is_complete=True, series_description="Mammography CAD — research use only",
             specific_character_set=CHARSET)
    _drop_placeholder_names(sr.ContentSequence)
    return sr
