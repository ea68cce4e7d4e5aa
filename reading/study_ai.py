"""The AI's results for every image of a study, as the concordance needs them.

:func:`study_images` lists the study's single-image instances (radiographs and
mammograms: one frame each) from the study database, with the pixel spacing and the
laterality the comparison uses. :func:`study_results` runs every usable model on each
(what the viewer would show), reading a :class:`ResultCache` first: a cached result comes
back with its heatmap arrays (the chest heatmap's region needs them) and with the
thresholds and 1–10 cuts of the current manifest of the same model (same sha256). An
image that cannot be decoded is skipped: it has no result, so marks on it are not
compared (see :mod:`reading.concordance`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from imaging.db import StudyDatabase
from imaging.errors import DicomFileError
from imaging.header import InstanceHeader
from imaging.loader import load_image
from inference.cache import ResultCache
from inference.engine import AnalysisEngine
from inference.postprocess import manifest_scales
from inference.results import AnalysisResult
from inference.source import SourceImage, source_from_stack
from reading.concordance import Concordance, compare
from reading.model import Reading


@dataclass(frozen=True)
class ImageInfo:
    sop_instance_uid: str
    frame: int
    path: Path
    modality: str
    body_part: str
    laterality: str  # "R", "L" or ""
    view: str
    mm_per_px: float | None  # PixelSpacing, else ImagerPixelSpacing (mean of the two axes)


def _headers(db: StudyDatabase, study_uid: str) -> Iterator[InstanceHeader]:
    for series in db.series(study_uid):
        for header in db.series_headers(series.series_instance_uid):
            if header.is_image and header.number_of_frames <= 1 and header.sop_instance_uid:
                yield header


def _spacing(header: InstanceHeader) -> float | None:
    spacing = header.pixel_spacing or header.imager_pixel_spacing
    if not spacing or not all(v > 0 for v in spacing):
        return None
    return float(sum(spacing) / len(spacing))


def image_info(header: InstanceHeader) -> ImageInfo:
    return ImageInfo(header.sop_instance_uid, 0, header.path, header.modality.strip().upper(),
                     header.body_part.strip().upper(), header.laterality.strip().upper(),
                     header.view_position.strip().upper(), _spacing(header))


def study_images(db: StudyDatabase, study_uid: str) -> list[ImageInfo]:
    """One entry per single-image instance of the study (multi-frame objects left out)."""
    return [image_info(h) for h in _headers(db, study_uid)]


def study_results(db: StudyDatabase, study_uid: str, engine: AnalysisEngine,
                  cache: ResultCache | None = None) -> list[AnalysisResult]:
    """Every usable model's result on every image of :func:`study_images`.

    Results that ran are written to ``cache`` (when given), so the next call and the GUI
    find them without running the models again.
    """
    results: list[AnalysisResult] = []
    for header in _headers(db, study_uid):
        source: SourceImage | None = None
        decoded = True
        for entry in engine.registry.usable():
            manifest = entry.manifest
            assert manifest is not None  # usable entries have a valid manifest
            hit = (None if cache is None
                   else cache.get(header.sop_instance_uid, 0, manifest.artifact.sha256))
            if hit is not None:
                results.append(replace(hit, source=str(header.path),
                                       case_scores=manifest_scales(manifest, hit.case_scores)))
                continue
            if source is None and decoded:
                source = _decode(header)
                decoded = source is not None
            if source is None:
                break
            result = engine.analyze(source, entry.id)
            if cache is not None and result.applicable and not result.reason:
                cache.put(result)
            results.append(result)
    return results


def _decode(header: InstanceHeader) -> SourceImage | None:
    try:
        return source_from_stack(load_image(header, 0))
    except (DicomFileError, MemoryError, ValueError, OSError):
        return None


def compare_on_images(reading: Reading, results: Sequence[AnalysisResult],
                      images: Sequence[ImageInfo]) -> Concordance:
    """:func:`reading.concordance.compare` with each image's pixel spacing and breast side."""
    return compare(reading, results,
                   mm_per_px={i.sop_instance_uid: i.mm_per_px for i in images
                              if i.mm_per_px is not None},
                   laterality={i.sop_instance_uid: i.laterality for i in images
                               if i.laterality in ("R", "L")})
