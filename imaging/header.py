"""Read a DICOM file's header (never its pixels) into a plain :class:`InstanceHeader`.

This is the first look at every file during discovery and import: it must be
fast, must never allocate the pixel data, and must turn every way a file can be
broken into a :class:`~imaging.errors.DicomFileError` naming the file and the
reason, or a warning when the file is usable anyway.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pydicom
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError

from imaging import errors
from imaging.errors import DicomFileError, Warning_

DICOMDIR_SOP_CLASS = "1.2.840.10008.1.3.10"
PREAMBLE_AND_PREFIX = 132

# Header elements larger than this are not loaded during discovery (pixel data,
# big private blobs): pydicom records their offset and skips them.
_DEFER_SIZE = 4096

# SOP classes whose instances carry no image by design (SR, RT plans,
# presentation states, encapsulated documents...). Anything else with Rows
# and Columns but no Pixel Data is a broken image, not a document.
_NON_IMAGE_MODALITIES = {"SR", "RTPLAN", "RTSTRUCT", "PR", "KO", "DOC", "REG", "RTRECORD"}


@dataclass(frozen=True)
class InstanceHeader:
    """What discovery, grouping and the study list need to know about one file."""

    path: Path
    file_size: int
    sop_class_uid: str
    sop_instance_uid: str
    transfer_syntax_uid: str
    patient_id: str = ""
    patient_name: str = ""
    patient_birth_date: str = ""
    patient_sex: str = ""
    study_instance_uid: str = ""
    study_date: str = ""
    study_time: str = ""
    study_description: str = ""
    accession_number: str = ""
    series_instance_uid: str = ""
    series_number: int | None = None
    series_description: str = ""
    modality: str = ""
    body_part: str = ""
    instance_number: int | None = None
    acquisition_number: int | None = None
    temporal_position: int | None = None
    image_type: tuple[str, ...] = ()
    rows: int = 0
    columns: int = 0
    number_of_frames: int = 1
    samples_per_pixel: int = 1
    bits_allocated: int = 0
    bits_stored: int = 0
    pixel_representation: int = 0
    photometric: str = ""
    has_pixel_data: bool = False
    image_position: tuple[float, float, float] | None = None
    image_orientation: tuple[float, float, float, float, float, float] | None = None
    pixel_spacing: tuple[float, float] | None = None
    imager_pixel_spacing: tuple[float, float] | None = None
    slice_thickness: float | None = None
    # Enhanced multi-frame: one position per frame (from the functional groups).
    frame_positions: tuple[tuple[float, float, float], ...] = ()
    laterality: str = ""
    view_position: str = ""
    patient_orientation: tuple[str, ...] = ()
    is_dicomdir: bool = False
    warnings: tuple[Warning_, ...] = field(default=())

    @property
    def is_image(self) -> bool:
        return self.has_pixel_data and self.rows > 0 and self.columns > 0

    @property
    def declared_pixel_bytes(self) -> int:
        """Bytes the decoded pixels would take, from the header alone."""
        bits = max(self.bits_allocated, 8)
        return self.rows * self.columns * self.number_of_frames * self.samples_per_pixel * bits // 8


def read_header(path: Path | str) -> InstanceHeader:
    """Read ``path``'s header; raise :class:`DicomFileError` when it is not usable DICOM."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise DicomFileError(errors.UNREADABLE, f"cannot read file ({exc.strerror})", path) from exc
    if size == 0:
        raise DicomFileError(errors.EMPTY_FILE, "empty file (0 bytes)", path)
    ds, found = _read_dataset(path, size)
    return _header_from_dataset(path, size, ds, found)


def _read_dataset(path: Path, size: int) -> tuple[Dataset, list[Warning_]]:
    found: list[Warning_] = []
    with _collect_pydicom_warnings(found):
        try:
            ds = pydicom.dcmread(path, defer_size=_DEFER_SIZE)
        except InvalidDicomError:
            ds = _read_without_preamble(path, found)
        except (EOFError, OSError, ValueError, KeyError, TypeError, OverflowError) as exc:
            raise _parse_error(path, exc) from exc
        except Exception as exc:
            raise _parse_error(path, exc) from exc
    if len(ds) == 0 and not ds.file_meta:
        raise DicomFileError(errors.EMPTY_DATASET, "DICOM preamble but no data elements", path)
    if len(ds) == 0:
        raise DicomFileError(errors.EMPTY_DATASET, "File Meta header only, no dataset", path)
    meta = ds.file_meta
    if not meta:
        found.append(Warning_("no_file_meta", "no DICOM File Meta header (old ACR-NEMA style file)"))
    elif "TransferSyntaxUID" not in meta:
        found.append(Warning_("missing_transfer_syntax", "File Meta header has no Transfer Syntax UID"))
    if meta and ds.preamble is None:
        found.append(Warning_("no_preamble", "no 128-byte preamble before the File Meta header"))
    return ds, found


def _read_without_preamble(path: Path, found: list[Warning_]) -> Dataset:
    """Files without preamble/File Meta: accept them only if they parse as a real dataset."""
    try:
        ds = pydicom.dcmread(path, defer_size=_DEFER_SIZE, force=True)
        plausible = any(
            kw in ds for kw in ("SOPClassUID", "SOPInstanceUID", "Modality", "StudyInstanceUID")
        )
        # Touch every element: a misaligned parse fails here rather than later.
        for _ in ds.iterall():
            pass
    except Exception as exc:
        raise DicomFileError(errors.NOT_DICOM, "not a DICOM file (no 'DICM' prefix and "
                             "no readable data elements)", path) from exc
    if not plausible:
        raise DicomFileError(errors.NOT_DICOM, "not a DICOM file (no 'DICM' prefix and no "
                             "DICOM identifiers)", path)
    return ds


def _parse_error(path: Path, exc: Exception) -> DicomFileError:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, EOFError) or "end of file" in text.lower() or "truncat" in text.lower():
        return DicomFileError(errors.TRUNCATED, f"file is truncated ({text})", path)
    return DicomFileError(errors.UNREADABLE, f"cannot parse DICOM header ({text})", path)


@contextmanager
def _collect_pydicom_warnings(found: list[Warning_]) -> Iterator[None]:
    """Turn pydicom's warnings and log messages into :class:`Warning_` values."""

    class _Handler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.WARNING:
                found.append(_classify_warning(record.getMessage()))

    handler = _Handler()
    logger = logging.getLogger("pydicom")
    logger.addHandler(handler)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
        for w in caught:
            found.append(_classify_warning(str(w.message)))
    finally:
        logger.removeHandler(handler)


def _classify_warning(message: str) -> Warning_:
    low = message.lower()
    if "exceeds" in low and ("length" in low or "end of" in low) or "bytes remaining" in low:
        kind = "element_length_exceeds_file"
    elif "sequence" in low and ("implicit" in low or "vr" in low):
        kind = "invalid_sequence_encoding"
    elif "preamble" in low:
        kind = "no_preamble"
    else:
        kind = "nonconformant_header"
    return Warning_(kind, message.strip().splitlines()[0][:300])


def _header_from_dataset(
    path: Path, size: int, ds: Dataset, found: list[Warning_]
) -> InstanceHeader:
    get = _Getter(ds, path, found)
    sop_class = get.text("SOPClassUID") or str(ds.file_meta.get("MediaStorageSOPClassUID", ""))
    is_dicomdir = sop_class == DICOMDIR_SOP_CLASS or "DirectoryRecordSequence" in ds
    has_pixels = any(kw in ds for kw in ("PixelData", "FloatPixelData", "DoubleFloatPixelData"))
    rows, cols = get.int("Rows") or 0, get.int("Columns") or 0
    modality = get.text("Modality").upper()
    frames = get.number_of_frames()
    if not has_pixels and not is_dicomdir:
        if rows and cols and modality not in _NON_IMAGE_MODALITIES:
            raise DicomFileError(errors.NO_PIXEL_DATA,
                                 "image object without Pixel Data (7FE0,0010)", path)
        found.append(Warning_("non_image", f"non-image object ({modality or sop_class})"))
    position = get.floats("ImagePositionPatient", 3)
    orientation = get.floats("ImageOrientationPatient", 6)
    pixel_spacing = get.floats("PixelSpacing", 2)
    frame_positions: tuple[tuple[float, float, float], ...] = ()
    if "PerFrameFunctionalGroupsSequence" in ds or "SharedFunctionalGroupsSequence" in ds:
        frame_positions, orientation, pixel_spacing, position = _enhanced_geometry(
            ds, orientation, pixel_spacing, position)
    ts = str(ds.file_meta.get("TransferSyntaxUID", "")) if ds.file_meta else ""
    return InstanceHeader(
        path=path,
        file_size=size,
        sop_class_uid=sop_class,
        sop_instance_uid=get.text("SOPInstanceUID")
        or str(ds.file_meta.get("MediaStorageSOPInstanceUID", "")),
        transfer_syntax_uid=ts,
        patient_id=get.text("PatientID"),
        patient_name=get.text("PatientName"),
        patient_birth_date=get.text("PatientBirthDate"),
        patient_sex=get.text("PatientSex"),
        study_instance_uid=get.text("StudyInstanceUID"),
        study_date=get.text("StudyDate"),
        study_time=get.text("StudyTime"),
        study_description=get.text("StudyDescription"),
        accession_number=get.text("AccessionNumber"),
        series_instance_uid=get.text("SeriesInstanceUID"),
        series_number=get.int("SeriesNumber"),
        series_description=get.text("SeriesDescription"),
        modality=modality,
        body_part=get.text("BodyPartExamined").upper(),
        instance_number=get.int("InstanceNumber"),
        acquisition_number=get.int("AcquisitionNumber"),
        temporal_position=get.int("TemporalPositionIdentifier"),
        image_type=get.texts("ImageType"),
        rows=rows,
        columns=cols,
        number_of_frames=frames,
        samples_per_pixel=get.int("SamplesPerPixel") or 1,
        bits_allocated=get.int("BitsAllocated") or 0,
        bits_stored=get.int("BitsStored") or 0,
        pixel_representation=get.int("PixelRepresentation") or 0,
        photometric=get.text("PhotometricInterpretation").upper(),
        has_pixel_data=has_pixels,
        image_position=position,  # type: ignore[arg-type]
        image_orientation=orientation,  # type: ignore[arg-type]
        pixel_spacing=pixel_spacing,  # type: ignore[arg-type]
        imager_pixel_spacing=get.floats("ImagerPixelSpacing", 2),  # type: ignore[arg-type]
        slice_thickness=get.float("SliceThickness"),
        frame_positions=frame_positions,
        laterality=(get.text("ImageLaterality") or get.text("Laterality")).upper(),
        view_position=(get.text("ViewPosition") or _view_from_code(ds)).upper(),
        patient_orientation=get.texts("PatientOrientation"),
        is_dicomdir=is_dicomdir,
        warnings=tuple(_dedupe(found)),
    )


def _enhanced_geometry(
    ds: Dataset,
    orientation: tuple[float, ...] | None,
    spacing: tuple[float, ...] | None,
    position: tuple[float, ...] | None,
) -> tuple[tuple[tuple[float, float, float], ...], Any, Any, Any]:
    """Per-frame positions and shared orientation/spacing of an enhanced multi-frame object."""

    def first(group: Dataset | None, seq: str, kw: str) -> tuple[float, ...] | None:
        if group is None or seq not in group or not group[seq].value:
            return None
        item = group[seq].value[0]
        if kw not in item:
            return None
        try:
            return tuple(float(v) for v in item[kw].value)
        except (TypeError, ValueError):
            return None

    shared = ds.SharedFunctionalGroupsSequence[0] if ds.get("SharedFunctionalGroupsSequence") \
        else None
    per_frame = list(ds.get("PerFrameFunctionalGroupsSequence", []))
    first_frame = per_frame[0] if per_frame else None
    orientation = (first(shared, "PlaneOrientationSequence", "ImageOrientationPatient")
                   or first(first_frame, "PlaneOrientationSequence", "ImageOrientationPatient")
                   or orientation)
    spacing = (first(shared, "PixelMeasuresSequence", "PixelSpacing")
               or first(first_frame, "PixelMeasuresSequence", "PixelSpacing") or spacing)
    positions = []
    for group in per_frame:
        p = first(group, "PlanePositionSequence", "ImagePositionPatient")
        if p is None or len(p) != 3:
            positions = []
            break
        positions.append((p[0], p[1], p[2]))
    if positions:
        position = positions[0]
    return tuple(positions), orientation, spacing, position


def _view_from_code(ds: Dataset) -> str:
    """Mammography view (CC, MLO...) from ViewCodeSequence when ViewPosition is empty."""
    codes = {"R-10242": "CC", "R-10226": "MLO", "R-10224": "ML", "R-10230": "LM",
             "399162004": "CC", "399368009": "MLO", "399260004": "ML", "399352003": "LM"}
    seq = ds.get("ViewCodeSequence")
    if not seq:
        return ""
    code = str(seq[0].get("CodeValue", ""))
    return codes.get(code, str(seq[0].get("CodeMeaning", "")).upper())


def _dedupe(items: Sequence[Warning_]) -> list[Warning_]:
    seen: set[tuple[str, str]] = set()
    out = []
    for w in items:
        if (w.kind, w.message) not in seen:
            seen.add((w.kind, w.message))
            out.append(w)
    return out


class _Getter:
    """Typed, forgiving access to header values: a bad value becomes a warning, not a crash."""

    def __init__(self, ds: Dataset, path: Path, found: list[Warning_]) -> None:
        self.ds, self.path, self.found = ds, path, found

    def _raw(self, keyword: str) -> Any:
        try:
            elem = self.ds.get(keyword)
            return None if elem is None or elem == "" else elem
        except Exception as exc:
            self.found.append(Warning_("invalid_attribute", f"{keyword}: unreadable value ({exc})"))
            return None

    def text(self, keyword: str) -> str:
        value = self._raw(keyword)
        if value is None:
            return ""
        if isinstance(value, pydicom.multival.MultiValue):
            return "\\".join(str(v) for v in value).strip()
        return str(value).strip()

    def texts(self, keyword: str) -> tuple[str, ...]:
        value = self._raw(keyword)
        if value is None:
            return ()
        if isinstance(value, str | bytes):
            return (str(value).strip(),)
        return tuple(str(v).strip() for v in value)

    def int(self, keyword: str) -> int | None:
        value = self._raw(keyword)
        if value is None:
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            self.found.append(Warning_("invalid_attribute", f"{keyword}: not an integer ({value!r})"))
            return None

    def float(self, keyword: str) -> float | None:
        value = self._raw(keyword)
        try:
            return None if value is None else float(value)
        except (TypeError, ValueError):
            return None

    def floats(self, keyword: str, count: int) -> tuple[float, ...] | None:
        value = self._raw(keyword)
        if value is None:
            return None
        try:
            numbers = tuple(float(v) for v in value)
        except (TypeError, ValueError):
            self.found.append(Warning_("invalid_attribute", f"{keyword}: not numbers ({value!r})"))
            return None
        if len(numbers) != count:
            self.found.append(Warning_("invalid_attribute",
                                       f"{keyword}: {len(numbers)} values, expected {count}"))
            return None
        return numbers

    def number_of_frames(self) -> int:
        value = self._raw("NumberOfFrames")
        if value is None:
            return 1
        try:
            frames = int(str(value).strip())
        except (TypeError, ValueError):
            raise DicomFileError("invalid_number_of_frames",
                                 f"Number of Frames (0028,0008) is not a number: {value!r}",
                                 self.path) from None
        if frames < 1:
            raise DicomFileError("invalid_number_of_frames",
                                 f"Number of Frames (0028,0008) is {frames}", self.path)
        return frames
