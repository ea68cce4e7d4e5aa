"""Read a DICOM file's header (never its pixels) into a plain :class:`InstanceHeader`.

This is the first look at every file during discovery and import: it must be
fast, must never allocate the pixel data, and must turn every way a file can be
broken into a :class:`~imaging.errors.DicomFileError` naming the file and the
reason, or a warning when the file is usable anyway.
"""

from __future__ import annotations

import functools
import logging
import re
import struct
import threading
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, cast

import pydicom
import pydicom.datadict
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag

from imaging import errors
from imaging.errors import DicomFileError, Warning_, dedupe_warnings

DICOMDIR_SOP_CLASS = "1.2.840.10008.1.3.10"
PREAMBLE_AND_PREFIX = 132

_log = logging.getLogger(__name__)

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
    echo_number: int | None = None
    trigger_time: float | None = None
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
    # Groups (0x6000-0x601E) holding an Overlay Data element: the loader reads overlays
    # only for these files.
    overlay_groups: tuple[int, ...] = ()
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
    """Read ``path``'s header; raise :class:`DicomFileError` when it is not usable DICOM.

    Everything pydicom would print (warnings about odd values, logged messages) is
    turned into :class:`Warning_` values on the header instead: nothing reaches the
    user's console.
    """
    path = path if isinstance(path, Path) else Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise DicomFileError(errors.UNREADABLE, f"cannot read file ({exc.strerror})", path) from exc
    if size == 0:
        raise DicomFileError(errors.EMPTY_FILE, "empty file (0 bytes)", path)
    found: list[Warning_] = []
    with capture_pydicom_warnings(found):
        try:
            with path.open("rb") as raw:
                ds, pixels = _read_dataset(path, size, _TrackingReader(raw), found)
            return _header_from_dataset(path, size, ds, pixels, found)
        except DicomFileError:
            raise
        except OSError as exc:
            raise DicomFileError(errors.UNREADABLE, f"cannot read file ({exc.strerror or exc})",
                                 path) from exc
        except Exception as exc:  # pydicom on hostile bytes: one file's error, never a crash
            raise DicomFileError(errors.UNREADABLE, f"cannot parse DICOM header ({exc})",
                                 path) from exc


@dataclass(frozen=True)
class _PixelElement:
    """The Pixel Data element found where the header reading stopped (never read)."""

    tag: int
    length: int | None  # None: undefined length (encapsulated)


class _TrackingReader:
    """A binary file that remembers whether a read came back shorter than asked.

    A short read in the middle of the header means the file ends inside a data
    element: pydicom silently keeps the partial value, we call it truncated.
    """

    def __init__(self, fp: BinaryIO) -> None:
        self._fp = fp
        self.name = getattr(fp, "name", "")
        self.short_read = False
        # pydicom calls these once per element: the file's own methods, no extra frame.
        self.seek: Callable[..., int] = fp.seek
        self.tell: Callable[[], int] = fp.tell

    def read(self, size: int = -1) -> bytes:
        data = self._fp.read(size)
        if 0 < len(data) < size:
            self.short_read = True
        return data

    def raw_read(self, size: int) -> bytes:
        return self._fp.read(size)


def _read_dataset(
    path: Path, size: int, reader: _TrackingReader, found: list[Warning_]
) -> tuple[Dataset, _PixelElement | None]:
    head = reader.raw_read(PREAMBLE_AND_PREFIX)
    reader.seek(0)
    has_prefix = len(head) == PREAMBLE_AND_PREFIX and head[128:] == b"DICM"
    if has_prefix and size == PREAMBLE_AND_PREFIX:
        raise DicomFileError(errors.EMPTY_DATASET, "DICOM preamble but no data elements", path)
    try:
        ds = pydicom.dcmread(cast(BinaryIO, reader), stop_before_pixels=True, force=True)
    except Exception as exc:
        if not has_prefix and not head.startswith(_META_GROUP_PREFIXES):
            raise _not_dicom(path) from exc
        raise _parse_error(path, exc, reader.short_read) from exc
    stop = reader.tell()
    if not has_prefix and not ds.file_meta:
        _check_plausible(path, ds)
    if reader.short_read:
        raise DicomFileError(errors.TRUNCATED, "file is truncated: it ends inside a data "
                             "element of the header", path)
    _check_last_element(path, size, ds)
    if len(ds) == 0:
        raise DicomFileError(errors.EMPTY_DATASET, "File Meta header only, no dataset", path)
    _convert_all(path, ds, found, strict=not has_prefix and not ds.file_meta)
    _meta_warnings(ds, has_prefix, found)
    if str(ds.file_meta.get("TransferSyntaxUID", "")) == pydicom.uid.DeflatedExplicitVRLittleEndian:
        pixels = _deflated_pixel_element(path)
    else:
        pixels = _pixel_element_at(reader, stop, size, ds, found)
    return ds, pixels


# How a file without preamble may start: File Meta group (0002,xxxx), little endian
# explicit or implicit.
_META_GROUP_PREFIXES = (b"\x02\x00",)
_PIXEL_TAGS = {0x7FE00010: "Pixel Data", 0x7FE00008: "Float Pixel Data",
               0x7FE00009: "Double Float Pixel Data"}
_LONG_LENGTH_VRS = {b"OB", b"OW", b"OF", b"OD", b"OL", b"OV", b"SQ", b"UN", b"UC", b"UR", b"UT",
                    b"SV", b"UV"}


def _not_dicom(path: Path, why: str = "no 'DICM' prefix and no readable data elements"
               ) -> DicomFileError:
    return DicomFileError(errors.NOT_DICOM, f"not a DICOM file ({why})", path)


def _check_plausible(path: Path, ds: Dataset) -> None:
    """Files without preamble nor File Meta: accept them only if they look like real DICOM."""
    identifiers = ("SOPClassUID", "SOPInstanceUID", "Modality", "StudyInstanceUID")
    if not any(kw in ds for kw in identifiers):
        raise _not_dicom(path, "no 'DICM' prefix and no DICOM identifiers")


def _check_last_element(path: Path, size: int, ds: Dataset) -> None:
    """A value declared longer than what is left of the file: the header is cut short."""
    for group in (ds.file_meta, ds):
        tags = list(group.keys()) if group is not None else []
        if not tags:
            continue
        last = group.get_item(tags[-1])
        length = getattr(last, "length", None)
        if length is None or length == _UNDEFINED_LENGTH:
            continue
        end = int(getattr(last, "value_tell", 0)) + length
        if end > size:
            raise DicomFileError(
                errors.TRUNCATED,
                f"file is truncated: {_tag_name(last.tag)} declares {length} bytes but the "
                f"file ends {end - size} bytes earlier", path)


def _convert_all(path: Path, ds: Dataset, found: list[Warning_], *, strict: bool) -> None:
    """Parse the sequences now, so pydicom's complaints about them are caught here.

    Plain values are parsed when the header is built (inside the same warning
    capture); parsing the ones nobody reads would double the cost of discovery.
    ``strict`` (files without any DICOM marker): every value is parsed, and one
    unreadable value means the bytes were never DICOM. Otherwise an unreadable
    value is a warning naming the attribute. Sequences whose items switch to
    implicit VR inside an explicit-VR file are reported: readers disagree on them.
    """
    explicit = ds.original_encoding[0] is False
    implicit_sequences: list[str] = []

    def walk(dataset: Dataset) -> None:
        # values(): the elements as read, in file order; iterating would convert them all.
        for raw in list(dataset.values()):
            if not strict and raw.VR not in _MAYBE_SEQUENCE:
                continue  # cheap test first: most elements are plain values
            tag = raw.tag
            try:
                if not strict and not _is_sequence(raw):
                    continue
                elem = dataset[tag]
            except Exception as exc:
                if strict:
                    raise _not_dicom(path) from exc
                found.append(Warning_(errors.INVALID_ATTRIBUTE,
                                      f"{_tag_name(tag)}: unreadable value ({exc})"))
                del dataset[tag]
                continue
            if elem.VR != "SQ" or not elem.value:
                continue
            if explicit and any(item.original_encoding[0] for item in elem.value):
                implicit_sequences.append(_tag_name(tag))
            for item in elem.value:
                walk(item)

    walk(ds)
    if implicit_sequences:
        found.append(Warning_(
            "invalid_sequence_encoding",
            f"{', '.join(implicit_sequences[:3])} encoded in implicit VR inside an explicit-VR "
            "file (non-conformant; read anyway)"))


_MAYBE_SEQUENCE = {"SQ", "UN", None}


def _is_sequence(elem: Any) -> bool:
    vr = getattr(elem, "VR", None)
    if vr == "SQ":
        return True
    if vr not in (None, "UN"):
        return False
    try:
        return bool(pydicom.datadict.dictionary_VR(elem.tag) == "SQ")
    except KeyError:
        return False


def _meta_warnings(ds: Dataset, has_prefix: bool, found: list[Warning_]) -> None:
    meta = ds.file_meta
    if not meta:
        found.append(Warning_("no_file_meta",
                              "no DICOM File Meta header (old ACR-NEMA style file)"))
        return
    if "TransferSyntaxUID" not in meta:
        found.append(Warning_("missing_transfer_syntax",
                              "File Meta header has no Transfer Syntax UID"))
    if not has_prefix:
        found.append(Warning_("no_preamble", "no 128-byte preamble before the File Meta header"))


def _pixel_element_at(
    reader: _TrackingReader, offset: int, size: int, ds: Dataset, found: list[Warning_]
) -> _PixelElement | None:
    """Read the tag and length of the element where pydicom stopped, if it is pixel data."""
    if offset >= size:
        return None
    implicit, little = ds.original_encoding
    endian = "<" if little is not False else ">"
    reader.seek(offset)
    raw = reader.raw_read(12)
    if len(raw) < 8:
        return None
    group, element = struct.unpack(endian + "HH", raw[:4])
    tag = group << 16 | element
    if tag not in _PIXEL_TAGS:
        return None
    if implicit or raw[4:6] not in _LONG_LENGTH_VRS:
        header, length = 8, struct.unpack(endian + "L" if implicit else endian + "H",
                                           raw[4:8] if implicit else raw[6:8])[0]
    elif len(raw) == 12:
        header, length = 12, struct.unpack(endian + "L", raw[8:12])[0]
    else:
        return _PixelElement(tag, 0)
    if length == _UNDEFINED_LENGTH:
        return _PixelElement(tag, None)
    remaining = size - offset - header
    if length > remaining:
        found.append(Warning_(
            "element_length_exceeds_file",
            f"{_PIXEL_TAGS[tag]} declares {length} bytes but only {remaining} remain in the file"))
    return _PixelElement(tag, length)


def _deflated_pixel_element(path: Path) -> _PixelElement | None:
    """Deflated files are inflated in memory by pydicom: look for pixel data there."""
    ds = pydicom.dcmread(path, defer_size=1024)
    for tag in _PIXEL_TAGS:
        if tag in ds:
            elem = ds.get_item(tag)
            length = getattr(elem, "length", None)
            return _PixelElement(tag, None if length == _UNDEFINED_LENGTH else length)
    return None


_UNDEFINED_LENGTH = 0xFFFFFFFF


def _tag_name(tag: int) -> str:
    keyword = pydicom.datadict.keyword_for_tag(tag) if pydicom.datadict.dictionary_has_tag(tag) \
        else ""
    label = f"({tag >> 16:04X},{tag & 0xFFFF:04X})"
    return f"{keyword} {label}" if keyword else label


def _parse_error(path: Path, exc: Exception, short_read: bool) -> DicomFileError:
    text = str(exc) or type(exc).__name__
    if short_read or isinstance(exc, EOFError) or "end of file" in text.lower() \
            or "truncat" in text.lower():
        return DicomFileError(errors.TRUNCATED, f"file is truncated ({text})", path)
    return DicomFileError(errors.UNREADABLE, f"cannot parse DICOM header ({text})", path)


# warnings.catch_warnings changes process-wide state: serialise the captures so that
# two threads reading headers never swap each other's filters.
_WARNINGS_LOCK = threading.RLock()


@contextmanager
def capture_pydicom_warnings(found: list[Warning_]) -> Iterator[None]:
    """Turn pydicom's warnings and log messages into :class:`Warning_` values, as they happen.

    Nothing reaches the console meanwhile. Use it around any pydicom call whose
    complaints the user should see as warnings (or not at all).
    """

    def show(message: Warning | str, *_args: Any, **_kwargs: Any) -> None:
        warning = _classify_warning(str(message))
        if warning is not None:
            found.append(warning)

    handler = _CollectingHandler(found)
    logger = logging.getLogger("pydicom")
    with _WARNINGS_LOCK:
        logger.addHandler(handler)
        propagate, logger.propagate = logger.propagate, False
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("always")
                warnings.showwarning = show
                yield
        finally:
            logger.propagate = propagate
            logger.removeHandler(handler)


class _CollectingHandler(logging.Handler):
    """Collects pydicom's log messages (WARNING and above) as :class:`Warning_` values."""

    def __init__(self, found: list[Warning_]) -> None:
        super().__init__()
        self.found = found

    def emit(self, record: logging.LogRecord) -> None:
        warning = _classify_warning(record.getMessage())
        if record.levelno >= logging.WARNING and warning is not None:
            self.found.append(warning)


def _classify_warning(message: str) -> Warning_ | None:
    """A :class:`Warning_` for what matters to the user; None for pedantry.

    Values that break their VR's formal rules (a UID with a leading zero, an SH
    longer than 16 characters) are everywhere in real archives and change
    nothing for reading: they are logged at debug level, not shown.
    """
    low = message.lower()
    if "for vr" in low or "value length" in low:
        # pydicom's message quotes the value (a birth date, a name): log only that it happened.
        _log.debug("a value breaks its VR's rules (value not logged)")
        return None
    if "end of file" in low or "bytes remaining" in low:
        kind = "element_length_exceeds_file"
    elif "sequence" in low and ("implicit" in low or "vr" in low):
        kind = "invalid_sequence_encoding"
    elif "preamble" in low:
        kind = "no_preamble"
    else:
        kind = "nonconformant_header"
    return Warning_(kind, message.strip().splitlines()[0][:300])


def _header_from_dataset(
    path: Path, size: int, ds: Dataset, pixels: _PixelElement | None, found: list[Warning_]
) -> InstanceHeader:
    get = _Getter(ds, path, found)
    sop_class = get.text("SOPClassUID") or str(ds.file_meta.get("MediaStorageSOPClassUID", ""))
    is_dicomdir = sop_class == DICOMDIR_SOP_CLASS or get.has("DirectoryRecordSequence")
    has_pixels = pixels is not None
    rows, cols = get.integer("Rows") or 0, get.integer("Columns") or 0
    modality = get.text("Modality").upper()
    frames = get.number_of_frames()
    if not has_pixels and not is_dicomdir:
        if modality not in _NON_IMAGE_MODALITIES and ((rows and cols) or _is_image_sop(sop_class)):
            raise DicomFileError(errors.NO_PIXEL_DATA,
                                 "image object without Pixel Data (7FE0,0010)", path)
        found.append(Warning_("non_image", f"non-image object ({modality or sop_class})"))
    position = get.floats("ImagePositionPatient", 3)
    orientation = get.floats("ImageOrientationPatient", 6)
    pixel_spacing = get.floats("PixelSpacing", 2)
    frame_positions: tuple[tuple[float, float, float], ...] = ()
    if get.has("PerFrameFunctionalGroupsSequence") or get.has("SharedFunctionalGroupsSequence"):
        frame_positions, orientation, pixel_spacing, position = _enhanced_geometry(
            ds, orientation, pixel_spacing, position)
        if len(frame_positions) != frames:
            # Functional groups that do not match Number of Frames cannot place the frames.
            _log.debug("%s: %d frame positions for %d frames", path, len(frame_positions), frames)
            frame_positions = ()
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
        series_number=get.integer("SeriesNumber"),
        series_description=get.text("SeriesDescription"),
        modality=modality,
        body_part=get.text("BodyPartExamined").upper(),
        instance_number=get.integer("InstanceNumber"),
        acquisition_number=get.integer("AcquisitionNumber"),
        temporal_position=get.integer("TemporalPositionIdentifier"),
        echo_number=get.integer("EchoNumbers"),
        trigger_time=get.decimal("TriggerTime"),
        image_type=get.texts("ImageType"),
        rows=rows,
        columns=cols,
        number_of_frames=frames,
        samples_per_pixel=get.integer("SamplesPerPixel") or 1,
        bits_allocated=get.integer("BitsAllocated") or 0,
        bits_stored=get.integer("BitsStored") or 0,
        pixel_representation=get.integer("PixelRepresentation") or 0,
        photometric=get.text("PhotometricInterpretation").upper(),
        has_pixel_data=has_pixels,
        image_position=position,  # type: ignore[arg-type]
        image_orientation=orientation,  # type: ignore[arg-type]
        pixel_spacing=pixel_spacing,  # type: ignore[arg-type]
        imager_pixel_spacing=get.floats("ImagerPixelSpacing", 2),  # type: ignore[arg-type]
        slice_thickness=get.decimal("SliceThickness"),
        frame_positions=frame_positions,
        laterality=(get.text("ImageLaterality") or get.text("Laterality")).upper(),
        view_position=(get.text("ViewPosition")
                       or (_view_from_code(ds) if get.has("ViewCodeSequence") else "")).upper(),
        patient_orientation=get.texts("PatientOrientation"),
        overlay_groups=overlay_groups(ds),
        is_dicomdir=is_dicomdir,
        warnings=tuple(dedupe_warnings(found)),
    )


def overlay_groups(ds: Dataset) -> tuple[int, ...]:
    """Overlay groups of ``ds`` with Overlay Data (60xx,3000), from the tags alone (no parsing)."""
    # ds.keys(), not ds: iterating a Dataset converts every raw element.
    return tuple(sorted({tag >> 16 for tag in ds.keys()  # noqa: SIM118
                         if 0x6000 <= tag >> 16 <= 0x601E and not (tag >> 16) % 2
                         and tag & 0xFFFF == 0x3000}))


def _is_image_sop(sop_class: str) -> bool:
    """SOP classes named '... Image Storage' always carry pixels."""
    try:
        return "Image Storage" in pydicom.uid.UID(sop_class).name
    except Exception:
        return False


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
    positions: list[tuple[float, float, float]] = []
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


class _Getter:
    """Typed, forgiving access to header values: a bad value becomes a warning, not a crash.

    Values are decoded straight from the raw bytes pydicom read when that is
    certain to give pydicom's own result and warnings (plain ASCII, the
    dictionary VR, numbers that pydicom accepts without complaint): converting
    through :class:`Dataset` costs several times the read itself. Anything
    else goes through pydicom, so odd values keep pydicom's exact handling.
    """

    def __init__(self, ds: Dataset, path: Path, found: list[Warning_]) -> None:
        self.ds, self.path, self.found = ds, path, found
        self._elements = ds._dict  # get_item() would pay for a Tag() per lookup

    def has(self, keyword: str) -> bool:
        return _spec(keyword)[0] in self._elements

    def _raw(self, keyword: str) -> Any:
        try:
            elem = self.ds.get(keyword)
            return None if elem is None or elem == "" else elem
        except Exception as exc:
            self.found.append(Warning_("invalid_attribute", f"{keyword}: unreadable value ({exc})"))
            return None

    def _fast(self, keyword: str) -> Any:
        """The value's items as pydicom would split them (None: absent or empty), or
        :data:`_SLOW` when only pydicom's conversion gives the right answer."""
        tag, vr, split, pattern = _spec(keyword)
        raw = self._elements.get(tag)
        if raw is None:
            return None
        if type(raw) is not RawDataElement or raw.VR not in (vr, None):
            return _SLOW  # converted already, or a VR other than the dictionary's
        if raw.length == 0:
            return None
        data = raw.value
        if data is None or not data.isascii() or b"\x1b" in data:
            return _SLOW  # deferred, or text whose decoding depends on the character set
        if split is None:
            return _SLOW
        if isinstance(split, struct.Struct):
            if len(data) != split.size:
                return _SLOW  # several values: pydicom gives a plain list (not an integer)
            return list(split.unpack(data) if raw.is_little_endian
                        else struct.unpack(">" + split.format[1:], data))
        items = split(data.decode("ascii"))
        if items is _SLOW:
            return _SLOW
        if items == [""]:
            return None  # pydicom's empty value
        if pattern is not None:
            if pattern.fullmatch("\\".join(items)) is None:
                return _SLOW  # pydicom would warn (or fail): let it
            items = [item.strip() for item in items]  # as str() of pydicom's IS and DS
            if max(map(len, items)) > _NUMBER_LENGTH[vr]:
                return _SLOW
        return items

    def text(self, keyword: str) -> str:
        items = self._fast(keyword)
        if items is not _SLOW:
            return "" if items is None else "\\".join(map(str, items)).strip()
        value = self._raw(keyword)
        if value is None:
            return ""
        if isinstance(value, pydicom.multival.MultiValue):
            return "\\".join(str(v) for v in value).strip()
        return str(value).strip()

    def texts(self, keyword: str) -> tuple[str, ...]:
        items = self._fast(keyword)
        if items is not _SLOW:
            return () if items is None else tuple(str(item).strip() for item in items)
        value = self._raw(keyword)
        if value is None:
            return ()
        if isinstance(value, str | bytes):
            return (str(value).strip(),)
        return tuple(str(v).strip() for v in value)

    def integer(self, keyword: str) -> int | None:
        items = self._fast(keyword)
        if items is not _SLOW and (items is None or _spec(keyword)[1] in _INTEGER_VRS):
            return None if items is None else int(items[0])
        value = self._raw(keyword)
        if isinstance(value, pydicom.multival.MultiValue):
            value = value[0] if len(value) else None  # e.g. Echo Numbers (VM 1-n)
        if value is None:
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            self.found.append(Warning_(errors.INVALID_ATTRIBUTE,
                                       f"{keyword}: not an integer ({value!r})"))
            return None

    def decimal(self, keyword: str) -> float | None:
        items = self._fast(keyword)
        if items is not _SLOW and (items is None or _spec(keyword)[1] == "DS"):
            # Several values: pydicom's float() of a list fails, hence None too.
            return None if items is None or len(items) != 1 else float(items[0])
        value = self._raw(keyword)
        try:
            return None if value is None else float(value)
        except (TypeError, ValueError):
            return None

    def floats(self, keyword: str, count: int) -> tuple[float, ...] | None:
        items = self._fast(keyword)
        if items is not _SLOW and (items is None or (_spec(keyword)[1] == "DS"
                                                     and len(items) > 1)):
            # One value goes the slow way: pydicom gives a number, not a list (a warning).
            numbers = None if items is None else tuple(float(item) for item in items)
        else:
            value = self._raw(keyword)
            if value is None:
                return None
            try:
                numbers = tuple(float(v) for v in value)
            except (TypeError, ValueError):
                self.found.append(Warning_("invalid_attribute",
                                           f"{keyword}: not numbers ({value!r})"))
                return None
        if numbers is None:
            return None
        if len(numbers) != count:
            self.found.append(Warning_("invalid_attribute",
                                       f"{keyword}: {len(numbers)} values, expected {count}"))
            return None
        return numbers

    def number_of_frames(self) -> int:
        items = self._fast("NumberOfFrames")
        if items is None:
            return 1
        if items is not _SLOW and len(items) == 1:
            value: Any = items[0]
        else:
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


# Marks a value that only pydicom's own conversion may turn into Python values.
_SLOW: Any = object()
_INTEGER_VRS = {"IS", "US", "SS", "UL", "SL"}


def _strip_whole(text: str) -> list[str]:
    """pydicom's multi_string: trailing padding of the whole value removed, then split."""
    return text.rstrip(" \x00").split("\\")


def _strip_uids(text: str) -> list[str]:
    """As :func:`_strip_whole`, and each value stripped as pydicom's UID does."""
    return [item.strip() for item in text.rstrip(" \x00").split("\\")]


def _strip_each(text: str) -> list[str]:
    """pydicom's convert_text (SH, LO, UC): each value's trailing padding removed."""
    return [item.rstrip("\x00 ") for item in text.split("\\")]


def _split_names(text: str) -> list[str]:
    """pydicom's convert_PN, for names it accepts without a warning (else: :data:`_SLOW`)."""
    items = text.rstrip("\x00 ").split("\\")
    for item in items:
        components = item.split("=")
        if len(components) > 3 or any(len(c) > _PN_COMPONENT_LENGTH for c in components):
            return _SLOW
    return [item.rstrip("=") for item in items]  # PersonName drops empty trailing groups


_PN_COMPONENT_LENGTH = 64

# How each VR is decoded here (ASCII only): split into values like pydicom, or unpacked.
# The long texts and anything else go through pydicom.
_DECODERS: dict[str, Callable[[str], list[str]] | struct.Struct] = {
    "CS": _strip_whole, "DA": _strip_whole, "TM": _strip_whole, "DT": _strip_whole,
    "AS": _strip_whole, "UI": _strip_uids, "IS": _strip_whole, "DS": _strip_whole,
    "SH": _strip_each, "LO": _strip_each, "UC": _strip_each, "PN": _split_names,
    "US": struct.Struct("<H"), "SS": struct.Struct("<h"), "UL": struct.Struct("<L"),
    "SL": struct.Struct("<l"),
}

# Numbers pydicom reads without a warning: every value of the form its own DS/IS
# regular expression accepts (spaces around allowed), and no longer than the VR allows.
_DS_VALUE = r" *[+\-]?(?:\d+|\d+\.\d*|\.\d+)(?:[eE][+\-]?\d+)? *"
_IS_VALUE = r" *[+\-]?[0-9]+ *"
_NUMBER_PATTERNS = {vr: re.compile(rf"{value}(?:\\{value})*", re.ASCII)
                    for vr, value in (("DS", _DS_VALUE), ("IS", _IS_VALUE))}
_NUMBER_LENGTH = {vr: pydicom.valuerep.MAX_VALUE_LEN[vr] for vr in _NUMBER_PATTERNS}


@functools.cache
def _spec(keyword: str) -> tuple[BaseTag, str, Any, re.Pattern[str] | None]:
    """Tag, dictionary VR, decoder and number pattern of a keyword, looked up once."""
    tag = pydicom.datadict.tag_for_keyword(keyword)
    assert tag is not None, keyword
    vr = pydicom.datadict.dictionary_VR(tag)
    return BaseTag(tag), vr, _DECODERS.get(vr), _NUMBER_PATTERNS.get(vr)
