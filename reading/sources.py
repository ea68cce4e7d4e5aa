"""The DICOM headers of a study's images, as the exports need them (never the pixels).

SR, GSPS and CAD SR documents copy the patient and study modules from the images they
reference and name each image by SOP Class and Instance UID, so every export starts
from these headers. A file that cannot be read any more is left out with a log line:
the export goes on with the images that are still there.
"""

from __future__ import annotations

import logging

import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from imaging.db import StudyDatabase

_log = logging.getLogger(__name__)


def source_datasets(db: StudyDatabase, study_uid: str) -> dict[str, Dataset]:
    """SOP Instance UID -> header (read with ``stop_before_pixels``) of each image of
    the study, in series then instance order. Non-image instances (SR, PR...) are skipped."""
    out: dict[str, Dataset] = {}
    for series in db.series(study_uid):
        for header in db.series_headers(series.series_instance_uid):
            if not header.has_pixel_data:
                continue
            try:
                ds = pydicom.dcmread(header.path, stop_before_pixels=True)
            except (OSError, InvalidDicomError, ValueError) as exc:
                _log.warning("export: cannot read %s (%s); left out", header.path, exc)
                continue
            uid = str(ds.get("SOPInstanceUID", ""))
            if uid:
                out[uid] = ds
    return out
