"""``tandem export STUDY --sr DIR --pdf FILE``: the reading as DICOM SR/GSPS and a one-page PDF.

The reading exported is the newest *signed* version; a study with only a draft exports
that draft, with a warning (and the PDF says "draft — not signed"). The AI results are
those the viewer would show (models run or read from the result cache), compared with
the reading afresh, except for a blinded first read still in draft: its reader has not
seen the AI yet, so nothing of the AI is exported with it. Each written file is recorded
in the audit trail ("exported").
Exit 0 when everything asked for was written; 1 when a write failed; 2 for a usage
error (unknown study, no reading, nothing asked for).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset

from app.cli_models import model_registry
from app.cli_study import StudyNotFound, resolve_study
from imaging.db import StudyDatabase
from imaging.errors import DicomFileError
from inference.cache import ResultCache
from inference.engine import AnalysisEngine
from inference.manifest import RESEARCH_STATUS
from inference.results import AnalysisResult
from reading.concordance import AiFindingRef, Concordance, ai_findings, compare
from reading.key_images import KeyImage, key_image
from reading.model import Reading
from reading.report_pdf import MAX_KEY_IMAGES, write_report
from reading.sources import source_datasets
from reading.sr_export import write_exports
from reading.store import ReadingStore, default_reader
from reading.study_ai import ImageInfo, study_images, study_results

USAGE_ERROR = 2
WRITE_ERROR = 1


def run_export(study: str, *, sr_dir: Path | None, pdf: Path | None, gsps: bool, lang: str,
               models_dir: Path | None) -> int:
    if sr_dir is None and pdf is None:
        print("tandem export: nothing to write; give --sr DIR and/or --pdf FILE",
              file=sys.stderr)
        return USAGE_ERROR
    with StudyDatabase() as db:
        try:
            study_uid = resolve_study(db, study)
        except StudyNotFound as exc:
            print(f"tandem export: {exc}", file=sys.stderr)
            return USAGE_ERROR
        store = ReadingStore(db.path)
        try:
            reading = store.latest_signed(study_uid) or store.current(study_uid)
            if reading is None:
                print(f"tandem export: study {study_uid} has no reading yet; store one with "
                      "`tandem reading import STUDY reading.json` (or read it in the GUI)",
                      file=sys.stderr)
                return USAGE_ERROR
            if not reading.signed:
                print(f"tandem export: warning: the reading of study {study_uid} is not "
                      f"signed (version {reading.version} is a draft); exporting the draft",
                      file=sys.stderr)
            registry = model_registry(models_dir)
            images = study_images(db, study_uid)
            blinded = reading.blinded and reading.purpose == "first" and not reading.signed
            results = [] if blinded else study_results(db, study_uid, AnalysisEngine(registry),
                                                       ResultCache())
            if blinded:
                print("tandem export: the AI stays hidden from a blinded first read until it is "
                      "signed: exporting the reading without the AI", file=sys.stderr)
            concordance = compare(
                reading, results,
                mm_per_px={i.sop_instance_uid: i.mm_per_px for i in images
                           if i.mm_per_px is not None},
                laterality={i.sop_instance_uid: i.laterality for i in images
                            if i.laterality in ("R", "L")})
            sources = source_datasets(db, study_uid)
            names = {e.id: e.manifest.name for e in registry.entries() if e.manifest}
            code = 0
            exporter = default_reader()
            if sr_dir is not None:
                try:
                    written = write_exports(reading, results, sources, sr_dir,
                                            concordance=concordance, gsps=gsps)
                except (ValueError, OSError, TypeError, AttributeError) as exc:
                    print(f"tandem export: the DICOM SR could not be written to {sr_dir}: "
                          f"{exc}", file=sys.stderr)
                    code = WRITE_ERROR
                else:
                    for path in written:
                        store.record(study_uid, exporter, "exported",
                                     {"what": _kind_of(path), "path": str(path.resolve())},
                                     reading.reading_id)
                        print(f"wrote {path}")
            if pdf is not None:
                keys = _key_images(images, reading, results, lang)
                try:
                    write_report(pdf, reading=reading, concordance=concordance,
                                 results=results, key_images=keys,
                                 patient=_patient(sources), lang=lang, model_names=names)
                except OSError as exc:
                    print(f"tandem export: the PDF could not be written to {pdf}: {exc}",
                          file=sys.stderr)
                    code = WRITE_ERROR
                else:
                    store.record(study_uid, exporter, "exported",
                                 {"what": "pdf", "path": str(pdf.resolve())},
                                 reading.reading_id)
                    print(f"wrote {pdf}")
        finally:
            store.close()
    print(f"reading v{reading.version} ({reading.state}); {_summary(concordance)}. "
          f"AI: {RESEARCH_STATUS}.")
    return code


def _kind_of(path: Path) -> str:
    return "gsps" if path.name.startswith("GSPS") else "sr"


def _summary(concordance: Concordance) -> str:
    counts = concordance.counts()
    return (f"agreed {counts['agreed']}, AI-only {counts['ai_only']}, "
            f"reader-only {counts['reader_only']}")


def _patient(sources: Mapping[str, Dataset]) -> dict[str, str]:
    """Patient and study identification from the first image header of the study."""
    ds = next(iter(sources.values()), None)
    if ds is None:
        return {}
    keywords = {"name": "PatientName", "id": "PatientID", "birth_date": "PatientBirthDate",
                "sex": "PatientSex", "study_date": "StudyDate",
                "description": "StudyDescription", "accession": "AccessionNumber"}
    return {key: str(ds.get(word, "") or "") for key, word in keywords.items()}


def _key_images(images: Sequence[ImageInfo], reading: Reading,
                results: Sequence[AnalysisResult], lang: str) -> list[KeyImage]:
    """Key images of the images with marks or AI findings: AI-flagged ones first (at most
    :data:`MAX_KEY_IMAGES`); an image that cannot be decoded any more is left out."""
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
            print(f"tandem export: {info.path}: no key image ({exc})", file=sys.stderr)
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
