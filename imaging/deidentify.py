"""De-identify DICOM instances for export: PS3.15 Annex E Basic Application Level
Confidentiality Profile (Table E.1-1, in :mod:`imaging.deid_table`) with a documented option set.

What is always done (the Basic Profile):

- every attribute of Table E.1-1 gets its action: ``X`` removed, ``Z`` emptied, ``D`` replaced
  with a dummy of its VR, ``U`` UID replaced; combined actions take the form that keeps the
  IOD valid without knowing each IOD's attribute types: ``X/Z`` → Z, ``X/D``, ``Z/D``,
  ``X/Z/D`` → D, ``X/Z/U*`` → the UIDs inside the sequence are replaced;
- Patient's Name and Patient ID become a pseudonym (``ANON-`` + 10 hex digits) from a keyed
  hash of the original Patient ID (or name): the same patient gets the same pseudonym within
  a run, and nobody without the run's secret can link it back (or give ``patient_name`` /
  ``patient_id`` to set them yourself);
- UIDs (Study, Series, SOP Instance, Frame of Reference, Referenced SOP Instance UID in any
  sequence, Media Storage SOP Instance UID in the File Meta, and every other UI value that is
  not a registered DICOM UID or a class/transfer-syntax/coding UID) become ``2.25.<int>``
  from an HMAC of the original with the run's secret: consistent across all files of a run;
- private attributes, curves (50xx) and overlays (60xx; Overlay Data is X and may hold text)
  are removed (the Retain Safe Private option is NOT offered), as are group lengths and the
  128-byte preamble (it can hold another format's header);
- Sequences are walked to any depth; Pixel Data is never touched (its bytes and the transfer
  syntax are unchanged), so text burned into the pixels is NOT removed: a ``burned_in_annotation``
  warning says so for files with Burned In Annotation = YES, or without that attribute for
  the modalities/SOP classes that usually carry it (ultrasound, secondary capture, scans);
- Patient Identity Removed = YES, De-identification Method, and the De-identification Method
  Code Sequence (CID 7050: 113100 + one code per option used) are written.

Options (:class:`DeidOptions`), each the PS3.15 option of the same name:

- ``dates="keep"``: Retain Longitudinal Temporal Information, Full Dates Option (113106);
  ``dates="shift"``: ... Modified Dates Option (113107): dates moved back by a per-patient
  offset of 1 to 10 years from the keyed hash (intervals within a patient are kept, times of
  day too); default ``"remove"``: dates and times take their Basic Profile action.
  Birth date is emptied in every mode.
- ``keep_patient_characteristics``: Retain Patient Characteristics (113108): sex, age, size,
  weight, ethnic group, pregnancy and smoking status (its free-text rows stay removed).
- ``keep_device_identity``: Retain Device Identity (113109): serial numbers, station name...
- ``keep_institution_identity``: Retain Institution Identity (113112).
- ``clean_descriptors``: Clean Descriptors (113105): descriptions, comments and protocol
  names are kept, with every occurrence of the instance's own identifying values (patient
  name parts, IDs, accession number, birth date, physician/operator names, institution)
  replaced by ``*``. Free text naming someone not recorded in the header is NOT found; the
  default (option off) removes these attributes, which is the safe choice.
- ``keep_uids``: Retain UIDs (113110).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import pydicom
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    UID,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

from imaging import errors
from imaging.deid_table import PROFILE, ProfileRule
from imaging.errors import DicomFileError, Warning_
from imaging.header import InstanceHeader, read_header

DateMode = Literal["remove", "keep", "shift"]
BURNED_IN = "burned_in_annotation"
DUPLICATE_INSTANCE = "duplicate_instance"
NOT_EXPORTABLE = "not_exportable"

_PATIENT_NAME = 0x00100010
_PATIENT_ID = 0x00100020
_PIXEL_TAGS = {0x7FE00010, 0x7FE00008, 0x7FE00009}
# UI attributes that name a class, an encoding or a coding resource, never an instance.
_KEEP_UID_KEYWORDS = {"TransferSyntaxUID", "ReferencedTransferSyntaxUIDInFile", "CodingSchemeUID",
                      "ContextUID", "MappingResourceUID", "PrivateInformationCreatorUID"}
# Where text is often burned into the pixels (PS3.15 E.3.1: "Clean Pixel Data" is needed).
_BURNED_IN_MODALITIES = {"US", "IVUS", "XC", "DOC", "ES", "GM", "SM"}
_BURNED_IN_SOP_PREFIXES = (
    "1.2.840.10008.5.1.4.1.1.7",  # secondary capture (incl. multi-frame): screenshots, scans
    "1.2.840.10008.5.1.4.1.1.6.",  # ultrasound
    "1.2.840.10008.5.1.4.1.1.3.1",  # ultrasound multi-frame
    "1.2.840.10008.5.1.4.1.1.77.1",  # visible light (photos, endoscopy, video)
    "1.2.840.10008.5.1.4.1.1.104.",  # encapsulated PDF/CDA documents (scanned requests)
)
_CID_7050 = {
    "basic": ("113100", "Basic Application Confidentiality Profile"),
    "C": ("113105", "Clean Descriptors Option"),
    "keep_dates": ("113106", "Retain Longitudinal Temporal Information Full Dates Option"),
    "shift_dates": ("113107", "Retain Longitudinal Temporal Information Modified Dates Option"),
    "P": ("113108", "Retain Patient Characteristics Option"),
    "V": ("113109", "Retain Device Identity Option"),
    "U": ("113110", "Retain UIDs Option"),
    "I": ("113112", "Retain Institution Identity Option"),
}
_DUMMY_TEXT = "ANONYMIZED"
_DUMMIES: dict[str, Any] = {
    "DA": "19000101", "DT": "19000101000000", "TM": "000000", "AS": "000Y", "DS": "0",
    "IS": "0", "UR": "http://anonymized.invalid", "FL": 0.0, "FD": 0.0, "SS": 0, "US": 0,
    "SL": 0, "UL": 0, "SV": 0, "UV": 0, "OB": b"\0\0", "OW": b"\0\0", "OD": b"\0" * 8,
    "OF": b"\0" * 4, "OL": b"\0" * 4, "OV": b"\0" * 8, "UN": b"\0\0", "AT": 0,
}


@dataclass(frozen=True)
class DeidOptions:
    """The PS3.15 options chosen for an export (see the module docstring)."""

    dates: DateMode = "remove"
    keep_patient_characteristics: bool = False
    keep_device_identity: bool = False
    keep_institution_identity: bool = False
    clean_descriptors: bool = False
    keep_uids: bool = False
    patient_name: str | None = None  # replacement Patient's Name (default: the pseudonym)
    patient_id: str | None = None  # replacement Patient ID (default: the pseudonym)

    @property
    def retained(self) -> frozenset[str]:
        """The option letters of :mod:`imaging.deid_table` that these options switch on."""
        flags = {"T": self.dates != "remove", "P": self.keep_patient_characteristics,
                 "V": self.keep_device_identity, "I": self.keep_institution_identity,
                 "C": self.clean_descriptors, "U": self.keep_uids}
        return frozenset(k for k, on in flags.items() if on)

    def method_codes(self) -> list[tuple[str, str]]:
        """CID 7050 codes (value, meaning) of the profile and of each option used."""
        codes = [_CID_7050["basic"]]
        if self.dates != "remove":
            codes.append(_CID_7050["keep_dates" if self.dates == "keep" else "shift_dates"])
        codes += [_CID_7050[k] for k in "PVIUC" if k in self.retained]
        return codes


class UidMap:
    """The run's secret and what it derives: new UIDs, patient pseudonyms and date shifts.

    Everything is an HMAC-SHA256 of the original with ``secret`` (random per run unless
    given), so one run maps each original consistently and nobody without the secret can
    reverse or recompute it. ``mapping`` records original → new UID for the report.
    """

    def __init__(self, secret: bytes | None = None) -> None:
        self._secret = secret if secret is not None else secrets.token_bytes(32)
        self.mapping: dict[str, str] = {}

    def _digest(self, purpose: str, value: str) -> bytes:
        return hmac.new(self._secret, f"{purpose}\0{value}".encode(), hashlib.sha256).digest()

    def uid(self, original: str) -> str:
        original = original.strip().rstrip("\0")
        new = self.mapping.get(original)
        if new is None:
            new = "2.25." + str(int.from_bytes(self._digest("uid", original)[:16], "big"))
            self.mapping[original] = new
        return new

    def pseudonym(self, patient_key: str) -> str:
        return "ANON-" + self._digest("patient", patient_key).hex()[:10].upper()

    def day_shift(self, patient_key: str) -> int:
        """Days to add to this patient's dates: -365 to -3649 (1 to 10 years back)."""
        return -(365 + int.from_bytes(self._digest("dates", patient_key)[:4], "big") % 3285)


@dataclass
class DeidReport:
    """What :func:`deidentify_dataset` did to one dataset."""

    pseudonym: str
    counts: Counter[str] = field(default_factory=Counter)  # removed, emptied, replaced...
    warnings: list[Warning_] = field(default_factory=list)


@dataclass(frozen=True)
class FileOutcome:
    """One input file: written to ``output``, or refused with ``error``."""

    source: Path
    output: Path | None = None
    error: DicomFileError | None = None
    warnings: tuple[Warning_, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {"source": str(self.source), "output": str(self.output) if self.output else None,
                "error": ({"kind": self.error.kind, "message": self.error.message}
                          if self.error else None),
                "warnings": [{"kind": w.kind, "message": w.message} for w in self.warnings]}


@dataclass(frozen=True)
class DeidSummary:
    """Per-file outcomes of :func:`deidentify_files`."""

    outcomes: tuple[FileOutcome, ...]
    out_dir: Path
    seconds: float

    @property
    def written(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.output is not None]

    @property
    def failed(self) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.error is not None]

    def to_json(self) -> dict[str, object]:
        return {"out_dir": str(self.out_dir), "written": len(self.written),
                "failed": len(self.failed), "seconds": round(self.seconds, 3),
                "files": [o.to_json() for o in self.outcomes]}


@dataclass
class _Context:
    options: DeidOptions
    uid_map: UidMap
    pseudonym: str
    day_shift: int
    scrub: re.Pattern[str] | None
    counts: Counter[str]


def deidentify_dataset(ds: Dataset, options: DeidOptions, uid_map: UidMap) -> DeidReport:
    """De-identify ``ds`` in place (the dataset body; File Meta is :func:`deidentify_files`'s)."""
    patient_key = str(ds.get("PatientID", "") or "") or str(ds.get("PatientName", "") or "")
    pseudonym = uid_map.pseudonym(patient_key)
    report = DeidReport(pseudonym=pseudonym)
    burned_in = _burned_in_warning(ds)
    if burned_in is not None:
        report.warnings.append(burned_in)
    ctx = _Context(options, uid_map, pseudonym, uid_map.day_shift(patient_key),
                   _scrub_pattern(ds) if options.clean_descriptors else None, report.counts)
    _clean(ds, ctx)
    _mark(ds, options)
    return report


def deidentify_files(paths: Iterable[Path], out_dir: Path, options: DeidOptions,
                     uid_map: UidMap | None = None,
                     progress: Callable[[int, int], None] | None = None) -> DeidSummary:
    """De-identify every DICOM file in ``paths`` (files or folders, walked) into ``out_dir``.

    Output: ``out_dir/<new study uid>/<new series uid>/<new sop uid>.dcm``. A file Tandem
    refuses to read (same verdict as import), whose Pixel Data is cut short, that is a
    DICOMDIR, or that repeats an instance already written in this run gets an error naming
    it and the reason; the rest goes on. ``uid_map`` shares one secret between calls.
    """
    start = time.perf_counter()
    uid_map = uid_map if uid_map is not None else UidMap()
    files = _expand(paths)
    written: dict[Path, Path] = {}
    outcomes = []
    for done, path in enumerate(files):
        outcomes.append(_deidentify_file(path, out_dir, options, uid_map, written))
        if progress is not None:
            progress(done + 1, len(files))
    return DeidSummary(tuple(outcomes), out_dir, time.perf_counter() - start)


def deidentified_header(header: InstanceHeader) -> InstanceHeader:
    """``header`` without what a shared screenshot must not show: the patient's name, ID,
    birth date and sex, the accession number, the study's date, time and description.
    Modality, series number/description and geometry stay (PS3.15 option-free defaults for
    a view; institution names are not in the header)."""
    return replace(header, patient_name="", patient_id="", patient_birth_date="",
                   patient_sex="", study_date="", study_time="", study_description="",
                   accession_number="")


def _expand(paths: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted(p for p in path.rglob("*") if p.is_file()
                            and not any(part.startswith(".") for part in p.relative_to(path).parts))
        else:
            files.append(path)
    return files


def _deidentify_file(path: Path, out_dir: Path, options: DeidOptions, uid_map: UidMap,
                     written: dict[Path, Path]) -> FileOutcome:
    try:
        header = read_header(path)
        if header.is_dicomdir:
            raise DicomFileError(NOT_EXPORTABLE, "DICOMDIR (an index of a CD, it holds patient "
                                 "names): not exported; its referenced files are", path)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(path, force=True)
            transfer_syntax = _transfer_syntax(ds)
            if not transfer_syntax.is_transfer_syntax:
                raise DicomFileError(errors.UNSUPPORTED_TRANSFER_SYNTAX, f"transfer syntax "
                                     f"{transfer_syntax} cannot be written by pydicom: not "
                                     "exported", path)
            _check_pixel_data(ds, header.has_pixel_data, transfer_syntax, path)
            sop_class = str(ds.get("SOPClassUID", "") or "")
            if not sop_class:
                raise DicomFileError(NOT_EXPORTABLE, "no SOP Class UID: not a DICOM "
                                     "instance that can be exported", path)
            if not ds.get("SOPInstanceUID"):  # it gets a new one anyway: mint it from the path
                ds.SOPInstanceUID = uid_map.uid(f"file:{path.resolve()}")
            report = deidentify_dataset(ds, options, uid_map)
            target = _target(out_dir, ds)
            if target in written:
                raise DicomFileError(DUPLICATE_INSTANCE, "same SOP Instance UID as "
                                     f"{written[target]}, already written in this run; "
                                     "not written again", path)
            ds.file_meta = _file_meta(ds, sop_class, transfer_syntax)
            ds.preamble = b"\0" * 128
            target.parent.mkdir(parents=True, exist_ok=True)
            part = target.with_name(target.name + ".part")
            ds.save_as(part, enforce_file_format=True)
            os.replace(part, target)
    except DicomFileError as exc:
        return FileOutcome(path, error=exc if exc.path else exc.with_path(path))
    except Exception as exc:  # one bad file must not stop the export
        return FileOutcome(path, error=DicomFileError(
            errors.UNREADABLE, f"cannot de-identify ({type(exc).__name__}: {exc})", path))
    written[target] = path
    warns = tuple(w for w in header.warnings) + tuple(report.warnings)
    return FileOutcome(path, output=target, warnings=tuple(
        Warning_(w.kind, f"{path}: {w.message}") for w in warns))


def _check_pixel_data(ds: Dataset, declared: bool, transfer_syntax: UID, path: Path) -> None:
    """Refuse pixel data that is missing or shorter than the header declares (cut files)."""
    if declared and not any(tag in ds for tag in _PIXEL_TAGS):
        raise DicomFileError(errors.PIXEL_DATA_TRUNCATED, "Pixel Data could not be read "
                             "(file cut short): not exported", path)
    if "PixelData" not in ds or ds["PixelData"].is_undefined_length:
        return  # encapsulated: the fragments are copied as they are
    try:
        bits = int(ds.BitsAllocated)
        values = (int(ds.Rows) * int(ds.Columns) * int(ds.get("NumberOfFrames", 1) or 1)
                  * int(ds.get("SamplesPerPixel", 1) or 1))
    except (AttributeError, TypeError, ValueError):
        return
    if str(ds.get("PhotometricInterpretation", "")) == "YBR_FULL_422":
        values = values * 2 // 3  # two chroma samples shared by each pair of pixels
    needed = (values * bits + 7) // 8
    if len(ds.PixelData) < needed:
        raise DicomFileError(errors.PIXEL_DATA_TRUNCATED, f"Pixel Data holds "
                             f"{len(ds.PixelData)} bytes, the header declares {needed}: "
                             "file cut short, not exported", path)


def _transfer_syntax(ds: Dataset) -> UID:
    meta = getattr(ds, "file_meta", None)
    declared = meta.get("TransferSyntaxUID") if meta is not None else None
    if declared:
        return UID(str(declared))
    implicit, little = getattr(ds, "original_encoding", (True, True))
    if implicit:
        return ImplicitVRLittleEndian
    return ExplicitVRLittleEndian if little else ExplicitVRBigEndian


def _file_meta(ds: Dataset, sop_class: str, transfer_syntax: UID) -> FileMetaDataset:
    """A fresh File Meta: nothing of the original's (AE titles, private info) is carried."""
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID(sop_class)
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = transfer_syntax
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    meta.ImplementationVersionName = "TANDEM_DEID"
    return meta


def _target(out_dir: Path, ds: Dataset) -> Path:
    study = str(ds.get("StudyInstanceUID", "") or "") or "no-study-uid"
    series = str(ds.get("SeriesInstanceUID", "") or "") or "no-series-uid"
    return out_dir / _safe(study) / _safe(series) / f"{_safe(str(ds.SOPInstanceUID))}.dcm"


def _safe(name: str) -> str:
    return re.sub(r"[^0-9A-Za-z.\-]", "_", name)[:64] or "_"


def _burned_in_warning(ds: Dataset) -> Warning_ | None:
    if "PixelData" not in ds:
        return None
    burned = str(ds.get("BurnedInAnnotation", "") or "").strip().upper()
    modality = str(ds.get("Modality", "") or "").upper()
    sop_class = str(ds.get("SOPClassUID", "") or "")
    if burned == "YES":
        why = "Burned In Annotation is YES"
    elif not burned and (modality in _BURNED_IN_MODALITIES
                         or sop_class.startswith(_BURNED_IN_SOP_PREFIXES)):
        kind = f"modality {modality}" if modality in _BURNED_IN_MODALITIES else "this SOP class"
        why = f"Burned In Annotation is absent and {kind} often has text in the image"
    else:
        return None
    return Warning_(BURNED_IN, f"{why}: the pixel data was NOT cleaned and may show the "
                    "patient's name or other identifying text; check the images before sharing")


def _scrub_pattern(ds: Dataset) -> re.Pattern[str] | None:
    """The instance's own identifying words, for the Clean Descriptors option."""
    keywords = ("PatientName", "PatientID", "OtherPatientIDs", "OtherPatientNames",
                "AccessionNumber", "PatientBirthDate", "ReferringPhysicianName",
                "PerformingPhysicianName", "OperatorsName", "NameOfPhysiciansReadingStudy",
                "InstitutionName", "InstitutionAddress", "PatientAddress", "StudyID")
    words: set[str] = set()
    for keyword in keywords:
        value = ds.get(keyword)
        for item in (value if isinstance(value, MultiValue | list) else [value]):
            text = str(item or "")
            words.add(text.strip())
            words.update(re.split(r"[\^=\s,]+", text))
    words = {w for w in words if len(w) >= 2}
    if not words:
        return None
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![0-9A-Za-z])(?:{alternatives})(?![0-9A-Za-z])", re.IGNORECASE)


def _clean(ds: Dataset, ctx: _Context) -> None:
    for tag in list(ds.keys()):
        if tag.is_private or (tag.group & 0xFF00) in (0x5000, 0x6000) or tag.element == 0:
            del ds[tag]
            ctx.counts["removed"] += 1
            continue
        if tag in _PIXEL_TAGS or tag.group == 0x0002:
            continue
        elem = ds[tag]
        rule = PROFILE.get(int(tag))
        if rule is None:
            _unlisted(elem, ctx)
        elif rule.retained_by & ctx.options.retained:
            _retain(elem, rule, ctx)
        else:
            _basic(ds, elem, rule, ctx)


def _unlisted(elem: DataElement, ctx: _Context) -> None:
    """Attributes the table does not name are kept; their instance UIDs are replaced."""
    if elem.VR == "SQ":
        _recurse(elem, ctx)
    elif elem.VR == "UI" and not ctx.options.keep_uids and _is_instance_uid(elem):
        _replace_uids(elem, ctx)


def _is_instance_uid(elem: DataElement) -> bool:
    if elem.keyword in _KEEP_UID_KEYWORDS or elem.keyword.endswith("ClassUID"):
        return False
    values = elem.value if isinstance(elem.value, MultiValue) else [elem.value]
    return any(v and str(v) not in pydicom.uid.UID_dictionary for v in values)


def _retain(elem: DataElement, rule: ProfileRule, ctx: _Context) -> None:
    letters = rule.retained_by & ctx.options.retained
    ctx.counts["kept_by_option"] += 1
    if elem.VR == "SQ":
        _recurse(elem, ctx)
    elif letters == {"T"} and ctx.options.dates == "shift":
        _shift_dates(elem, ctx)
    elif letters == {"C"} and ctx.scrub is not None and isinstance(elem.value, str | MultiValue):
        _scrub(elem, ctx.scrub)


def _basic(ds: Dataset, elem: DataElement, rule: ProfileRule, ctx: _Context) -> None:
    action = rule.action
    if elem.tag in (_PATIENT_NAME, _PATIENT_ID):
        replacement = ctx.options.patient_name if elem.tag == _PATIENT_NAME \
            else ctx.options.patient_id
        elem.value = replacement if replacement is not None else ctx.pseudonym
        ctx.counts["replaced"] += 1
    elif action == "X":
        del ds[elem.tag]
        ctx.counts["removed"] += 1
    elif action in ("Z", "X/Z"):
        elem.value = DicomSequence() if elem.VR == "SQ" else None
        ctx.counts["emptied"] += 1
    elif action == "U" or action == "X/Z/U*" or elem.VR == "UI":
        if elem.VR == "SQ":
            _recurse(elem, ctx)
        else:
            _replace_uids(elem, ctx)
    elif elem.VR == "SQ":  # D on a sequence: keep the items, each one de-identified
        _recurse(elem, ctx)
    else:
        elem.value = _DUMMIES.get(elem.VR, _DUMMY_TEXT)
        ctx.counts["replaced"] += 1


def _recurse(elem: DataElement, ctx: _Context) -> None:
    for item in elem.value or []:
        _clean(item, ctx)


def _replace_uids(elem: DataElement, ctx: _Context) -> None:
    if ctx.options.keep_uids or not elem.value:
        return
    if isinstance(elem.value, MultiValue):
        elem.value = [ctx.uid_map.uid(str(v)) for v in elem.value]
    else:
        elem.value = ctx.uid_map.uid(str(elem.value))
    ctx.counts["uids_replaced"] += 1


def _shift_dates(elem: DataElement, ctx: _Context) -> None:
    if elem.VR not in ("DA", "DT") or not elem.value:
        return
    values = list(elem.value) if isinstance(elem.value, MultiValue) else [elem.value]
    shifted = [_shift(str(v), ctx.day_shift) for v in values]
    elem.value = shifted if len(shifted) > 1 else shifted[0]
    ctx.counts["dates_shifted"] += 1


def _shift(value: str, days: int) -> str:
    """``value`` (DA, or a DT starting with YYYYMMDD) moved by ``days``; "" if not a date."""
    try:
        day = datetime.strptime(value[:8], "%Y%m%d") + timedelta(days=days)
    except ValueError:
        return ""
    return day.strftime("%Y%m%d") + value[8:]


def _scrub(elem: DataElement, pattern: re.Pattern[str]) -> None:
    if isinstance(elem.value, MultiValue):
        elem.value = [pattern.sub("*", str(v)) for v in elem.value]
    else:
        elem.value = pattern.sub("*", str(elem.value))


def _mark(ds: Dataset, options: DeidOptions) -> None:
    """The attributes that say this instance was de-identified, and how."""
    ds.PatientIdentityRemoved = "YES"
    ds.DeidentificationMethod = ["Tandem: DICOM PS3.15 E.1-1 Basic Profile"] + [
        meaning[:64] for _, meaning in options.method_codes()[1:]]
    items = []
    for value, meaning in options.method_codes():
        item = Dataset()
        item.CodeValue = value
        item.CodingSchemeDesignator = "DCM"
        item.CodeMeaning = meaning
        items.append(item)
    ds.DeidentificationMethodCodeSequence = DicomSequence(items)
    ds.LongitudinalTemporalInformationModified = {
        "remove": "REMOVED", "keep": "UNMODIFIED", "shift": "MODIFIED"}[options.dates]
