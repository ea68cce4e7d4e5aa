"""The reader's marks as a Grayscale Softcopy Presentation State: any PACS viewer shows them.

One graphic annotation per image (and frame) with the marks drawn in cyan on the layer
``READER_MARKS`` and their labels as text beside them. Coordinates are PIXEL units in
the same convention as SR SCOORD (see :mod:`reading.sr_export`): identity mapping from
Tandem image pixels. Window/level and the modality LUT are copied from each image
(highdicom); a MONOCHROME1 image gets an INVERSE presentation LUT so the state shows
it as its own header says.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from importlib import metadata

import highdicom as hd
from highdicom.pr import (
    AnnotationUnitsValues,
    GraphicAnnotation,
    GraphicLayer,
    GraphicObject,
    GrayscaleSoftcopyPresentationState,
    TextObject,
)
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from reading.model import Mark, Reading
from reading.sr_export import (
    CHARSET,
    MANUFACTURER,
    ExportError,
    evidence,
    frame_numbers,
    reader_person_name,
    scoord,
)

LAYER = "READER_MARKS"
CYAN = hd.color.CIELabColor.from_string("cyan")


def _graphic(mark: Mark) -> GraphicObject:
    graphic_type, data = scoord(mark.shape, mark.points)
    return GraphicObject(graphic_type, data, AnnotationUnitsValues.PIXEL,
                         tracking_id=mark.id, tracking_uid=generate_uid(
                             entropy_srcs=["gsps", mark.sop_instance_uid, mark.id]))


def _label(mark: Mark, ds: Dataset) -> TextObject:
    """The label just above the mark's box, kept inside the image."""
    x0, y0, _x1, _y1 = mark.bbox()
    rows, cols = int(ds.Rows), int(ds.Columns)
    x = min(max(x0, 0.0), cols - 1.0)
    y = min(max(y0 - 2.0, 0.0), rows - 1.0)
    text = mark.label.replace("_", " ") + (f" ({mark.confidence})" if mark.confidence else "")
    return TextObject(text, AnnotationUnitsValues.PIXEL, anchor_point=(x, y),
                      anchor_point_visible=False, tracking_id=f"{mark.id}-label",
                      tracking_uid=generate_uid(entropy_srcs=["gsps-label",
                                                              mark.sop_instance_uid, mark.id]))


def _tandem_version() -> str:
    try:
        return metadata.version("tandem")
    except metadata.PackageNotFoundError:
        return "unknown"


def marks_gsps(reading: Reading, sources: Mapping[str, Dataset], *,
               series_number: int = 992) -> Dataset:
    if not reading.marks:
        raise ExportError("no mark to show: a presentation state needs at least one")
    images = evidence(sources, [m.sop_instance_uid for m in reading.marks])
    by_uid = {ds.SOPInstanceUID: ds for ds in images}
    layer = GraphicLayer(LAYER, order=1, description="Reader marks", display_color=CYAN)
    per_frame: dict[tuple[str, int], list[Mark]] = {}
    for mark in reading.marks:
        per_frame.setdefault((mark.sop_instance_uid, mark.frame), []).append(mark)
    annotations = []
    for (uid, frame), marks in per_frame.items():
        ds = by_uid[uid]
        frames = frame_numbers(ds, frame)
        annotations.append(GraphicAnnotation(
            referenced_images=[ds], graphic_layer=layer,
            referenced_frame_number=frames[0] if frames else None,
            graphic_objects=[_graphic(m) for m in marks],
            text_objects=[_label(m, ds) for m in marks]))
    inverse = any(str(ds.get("PhotometricInterpretation", "")) == "MONOCHROME1"
                  for ds in images)
    gsps = GrayscaleSoftcopyPresentationState(
        referenced_images=images, series_instance_uid=generate_uid(),
        series_number=series_number, sop_instance_uid=generate_uid(), instance_number=1,
        manufacturer=MANUFACTURER, manufacturer_model_name="Tandem",
        software_versions=_tandem_version(), device_serial_number="",
        content_label="READER_MARKS",
        content_description=f"Reader marks, reading v{reading.version}",
        graphic_annotations=annotations, graphic_layers=[layer],
        content_creator_name=reader_person_name(reading.reader),
        presentation_lut_transformation=hd.PresentationLUTTransformation(
            presentation_lut_shape="INVERSE" if inverse else "IDENTITY"),
        series_description="Reader marks", specific_character_set=CHARSET)
    _body_part_and_laterality(gsps, images)
    return gsps


def _body_part_and_laterality(gsps: Dataset, images: Sequence[Dataset]) -> None:
    """General Series Body Part Examined and Laterality (Type 2C: required for a paired
    body part) from the images when they all agree; empty Laterality = not known."""
    parts = {str(ds.get("BodyPartExamined", "") or "").upper() for ds in images}
    if len(parts) == 1 and "" not in parts:
        gsps.BodyPartExamined = parts.pop()
    sides = {str(ds.get("ImageLaterality", "") or ds.get("Laterality", "") or "")
             for ds in images}
    if len(sides) == 1 and sides <= {"R", "L"}:
        gsps.Laterality = sides.pop()
    elif any(sides):
        gsps.Laterality = ""
