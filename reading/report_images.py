"""What the one-page report shows besides text: the patient block and the key images.

Shared by ``tandem export`` and the GUI's File > Export reading…, so both make the same PDF.
Key images are the images with an AI finding first (where the second reader wants the
radiologist to look), then those with only the reader's marks, at most
:data:`reading.report_pdf.MAX_KEY_IMAGES`; each carries the marks, the AI findings and, where a
model's case score met an operating point, its heatmap.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
from pydicom.dataset import Dataset

from imaging.errors import DicomFileError
from inference.results import AnalysisResult
from reading.concordance import AiFindingRef, ai_findings
from reading.key_images import KeyImage, key_image
from reading.model import Reading
from reading.report_pdf import MAX_KEY_IMAGES
from reading.study_ai import ImageInfo

_PATIENT_FIELDS = {"name": "PatientName", "id": "PatientID", "birth_date": "PatientBirthDate",
                   "sex": "PatientSex", "study_date": "StudyDate",
                   "description": "StudyDescription", "accession": "AccessionNumber"}


def patient_block(sources: Mapping[str, Dataset]) -> dict[str, str]:
    """Patient and study identification from the first image header of the study."""
    ds = next(iter(sources.values()), None)
    if ds is None:
        return {}
    return {key: str(ds.get(word, "") or "") for key, word in _PATIENT_FIELDS.items()}


def report_key_images(images: Sequence[ImageInfo], reading: Reading,
                      results: Sequence[AnalysisResult], lang: str, *,
                      on_error: Callable[[str], None] | None = None) -> list[KeyImage]:
    """The report's key images (see the module docstring). An image that cannot be decoded
    any more is left out, and ``on_error`` told why."""
    findings = ai_findings(results)
    marked = {m.sop_instance_uid for m in reading.marks}
    flagged = {f.sop_instance_uid for f in findings}
    chosen = [i for i in images if i.sop_instance_uid in flagged]
    chosen += [i for i in images if i.sop_instance_uid in marked - flagged]
    keys: list[KeyImage] = []
    for info in chosen[:MAX_KEY_IMAGES]:
        mine: list[AiFindingRef] = [f for f in findings
                                    if f.sop_instance_uid == info.sop_instance_uid]
        heatmap, value_range = _heatmap(results, info.sop_instance_uid)
        caption = " ".join(p for p in (info.modality, info.body_part, info.view,
                                       info.laterality) if p)
        try:
            keys.append(key_image(info.path, info.frame, marks=reading.marks, ai=mine,
                                  heatmap=heatmap, heatmap_range=value_range,
                                  caption=caption, lang=lang))
        except (DicomFileError, OSError, MemoryError) as exc:
            if on_error is not None:
                on_error(f"{info.path}: no key image ({exc})")
    return keys


def _heatmap(results: Sequence[AnalysisResult], sop_uid: str
             ) -> tuple[np.ndarray | None, tuple[float, float]]:
    """The heatmap of the most probable positive case score on that image, if any.

    A heatmap is drawn only where the model's case score met an operating point: on an
    image the model calls likely normal, its map shows noise a reader should not chase.
    """
    best: tuple[float, np.ndarray, tuple[float, float]] | None = None
    for result in results:
        if result.sop_instance_uid != sop_uid or not result.applicable or result.reason:
            continue
        scores = {s.label: s for s in result.case_scores if s.operating_point is not None}
        for ref in result.heatmaps:
            score = scores.get(ref.label)
            if ref.values is None or score is None:
                continue
            if best is None or score.probability > best[0]:
                best = (score.probability, ref.values, ref.value_range)
    return (None, (0.0, 1.0)) if best is None else (best[1], best[2])
