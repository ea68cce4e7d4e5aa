"""The one-page PDF report as a DICOM Encapsulated PDF, so a PACS files it with the study.

IOD: **Encapsulated PDF** (PS3.3 A.45.1, SOP class 1.2.840.10008.5.1.4.1.1.104.1): the
Patient, General Study, Encapsulated Document Series, General Equipment, SC Equipment,
Encapsulated Document and SOP Common modules. Patient and study attributes are copied
from the study's first image header, so the PACS files the report in the same study as
the images. Neither highdicom nor pydicom builds this IOD; it is a handful of attributes.

The PDF itself carries burned-in patient identification (its header block), hence
``BurnedInAnnotation = YES``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, ExplicitVRLittleEndian, generate_uid

from reading.model import Reading
from reading.sr_export import CHARSET, MANUFACTURER, ExportError

ENCAPSULATED_PDF_STORAGE = "1.2.840.10008.5.1.4.1.1.104.1"
PDF_SERIES_NUMBER = 999
# LOINC 18748-4 "Diagnostic imaging study" (CID 7020 document title for imaging reports).
_TITLE_CODE = ("18748-4", "LN", "Diagnostic imaging study")
_PATIENT_STUDY = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex",
                  "StudyInstanceUID", "StudyDate", "StudyTime", "AccessionNumber", "StudyID",
                  "ReferringPhysicianName", "StudyDescription")


def encapsulated_pdf(pdf: Path, reading: Reading, sources: Mapping[str, Dataset], *,
                     title: str) -> Dataset:
    """An Encapsulated PDF dataset holding ``pdf``'s bytes, in the study of ``sources``.

    Raises :class:`ExportError` when there is no image header to take the study from or
    the file is not a PDF.
    """
    data = pdf.read_bytes()
    if not data.startswith(b"%PDF-"):
        raise ExportError(f"{pdf} is not a PDF file")
    study = next((ds for ds in sources.values()
                  if str(ds.get("StudyInstanceUID", "")) == reading.study_instance_uid), None)
    if study is None:
        raise ExportError(f"no image of study {reading.study_instance_uid} to file the "
                          "report with")
    now = dt.datetime.now()
    ds = Dataset()
    ds.SpecificCharacterSet = CHARSET
    for keyword in _PATIENT_STUDY:
        setattr(ds, keyword, study.get(keyword, "") or "")
    ds.Modality = "DOC"
    ds.SeriesInstanceUID = generate_uid()
    ds.SeriesNumber = PDF_SERIES_NUMBER
    ds.SeriesDescription = title
    ds.Manufacturer = MANUFACTURER
    ds.SoftwareVersions = _version()
    ds.ConversionType = "WSD"  # workstation
    ds.InstanceNumber = 1
    ds.ContentDate = now.strftime("%Y%m%d")
    ds.ContentTime = now.strftime("%H%M%S")
    ds.AcquisitionDateTime = now.strftime("%Y%m%d%H%M%S")
    ds.BurnedInAnnotation = "YES"
    ds.DocumentTitle = title
    concept = Dataset()
    concept.CodeValue, concept.CodingSchemeDesignator, concept.CodeMeaning = _TITLE_CODE
    ds.ConceptNameCodeSequence = [concept]
    ds.VerificationFlag = "VERIFIED" if reading.signed else "UNVERIFIED"
    ds.MIMETypeOfEncapsulatedDocument = "application/pdf"
    # OB values must have an even length; PS3.3 C.24.2.1 lets a PDF carry one padding byte.
    ds.EncapsulatedDocument = data + (b"\0" if len(data) % 2 else b"")
    ds.EncapsulatedDocumentLength = len(data)
    ds.SOPClassUID = ENCAPSULATED_PDF_STORAGE
    ds.SOPInstanceUID = generate_uid()
    ds.InstanceCreationDate, ds.InstanceCreationTime = ds.ContentDate, ds.ContentTime
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds.file_meta = meta
    return ds


def write_encapsulated_pdf(pdf: Path, reading: Reading, sources: Mapping[str, Dataset],
                           out: Path, *, title: str) -> Path:
    """Write :func:`encapsulated_pdf` to ``out`` (a DICOM file) and return ``out``."""
    ds = encapsulated_pdf(pdf, reading, sources, title=title)
    out.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(out, enforce_file_format=True)
    return out


def _version() -> str:
    try:
        return metadata.version("tandem")
    except metadata.PackageNotFoundError:
        return "unknown"
