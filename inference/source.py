"""The image a model looks at: grey modality values, the file's windows and what it shows.

DICOM goes through ``imaging`` (discovery, decoding, Modality LUT) exactly as the
viewer gets it, so the AI sees the pixels the radiologist sees; PNG and JPEG are
read with Pillow. Colour becomes luminance (ITU-R BT.601, as Pillow's "L" mode and
JPEG's Y). :func:`load_sources` never raises for one bad file: it yields a
:class:`SourceError` naming the file and the reason, and goes on.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import numpy as np
import pydicom
from PIL import Image

from imaging.discover import discover
from imaging.errors import DicomFileError
from imaging.header import InstanceHeader
from imaging.loader import load_image
from imaging.pipeline import LINEAR_EXACT, MONOCHROME2, VoiWindow
from imaging.stack import ImageStack

PICTURE_SUFFIXES = {".png", ".jpg", ".jpeg"}
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)  # BT.601, as Pillow's "L"


class SourceError(Exception):
    """One input that cannot be analysed, and why."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


@dataclass(frozen=True)
class ImageMeta:
    """What the applicability checks need to know about the image (from its header)."""

    source: str
    sop_instance_uid: str = ""
    frame: int = 0
    series_instance_uid: str = ""
    study_instance_uid: str = ""
    modality: str = ""
    body_part: str = ""
    view_position: str = ""
    laterality: str = ""
    photometric: str = ""
    image_type: tuple[str, ...] = ()
    age_years: float | None = None
    is_dicom: bool = True


@dataclass(frozen=True)
class SourceImage:
    """One 2-D grey image of modality values, ready for a preprocessing recipe."""

    values: np.ndarray  # (rows, cols) float32 modality values (colour → luminance)
    windows: tuple[VoiWindow, ...]  # the file's windows (pictures: identity over the bit range)
    monochrome1: bool  # display inverts: MONOCHROME1 or an INVERSE presentation LUT
    meta: ImageMeta
    decode_ms: float = 0.0

    @property
    def size(self) -> tuple[int, int]:
        return int(self.values.shape[0]), int(self.values.shape[1])


def _full_range_window(bits: int) -> VoiWindow:
    """A LINEAR_EXACT window mapping ``[0, 2^bits - 1]`` onto ``[0, 1]``: the identity."""
    top = float(2**bits - 1)
    return VoiWindow(top / 2, top, LINEAR_EXACT, "full range")


def _luminance(rgb: np.ndarray) -> np.ndarray:
    return np.asarray(rgb[..., :3], dtype=np.float32) @ _LUMA


# --------------------------------------------------------------------------- DICOM


def source_from_stack(stack: ImageStack, index: int = 0) -> SourceImage:
    """Image ``index`` of a decoded stack (what the viewer shows) as a model source.

    ``meta.source`` is the path of the stack's representative file; for another
    instance of a multi-file series it is that series' folder (the stack keeps no
    per-slice path).
    """
    if not 0 <= index < stack.count:
        raise IndexError(f"image {index} requested, the stack has {stack.count}")
    header = stack.header
    info = stack.slices[index]
    if stack.is_colour:
        values = _luminance(stack.values[index])
        windows: tuple[VoiWindow, ...] = (_full_range_window(8),)
    else:
        values = np.asarray(stack.values[index], dtype=np.float32)
        windows = stack.windows
    same_file = info.sop_instance_uid == header.sop_instance_uid
    meta = ImageMeta(
        source=str(header.path if same_file else header.path.parent),
        sop_instance_uid=info.sop_instance_uid, frame=info.frame,
        series_instance_uid=header.series_instance_uid,
        study_instance_uid=header.study_instance_uid,
        modality=header.modality.strip().upper(), body_part=header.body_part.strip().upper(),
        view_position=header.view_position.strip().upper(),
        laterality=header.laterality.strip().upper(),
        photometric=header.photometric.strip().upper(),
        image_type=tuple(v.strip().upper() for v in header.image_type),
        age_years=age_years(header))
    return SourceImage(values, windows, stack.invert and not stack.is_colour, meta)


def age_years(header: InstanceHeader) -> float | None:
    """The patient's age at the study: study date − birth date, else Patient's Age (AS)."""
    birth, study = _dicom_date(header.patient_birth_date), _dicom_date(header.study_date)
    if birth is not None and study is not None and study >= birth:
        return (study - birth).days / 365.25
    try:  # Patient's Age is not in InstanceHeader: one small header read, stopped early
        ds = pydicom.dcmread(header.path, stop_before_pixels=True, force=True,
                             specific_tags=["PatientAge"])
        return _age_string(str(ds.get("PatientAge", "") or ""))
    except Exception:  # an unreadable age is an unknown age, never an error
        return None


def _dicom_date(text: str) -> date | None:
    text = text.strip()
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


_AGE_UNITS = {"D": 1 / 365.25, "W": 7 / 365.25, "M": 1 / 12, "Y": 1.0}


def _age_string(text: str) -> float | None:
    """DICOM AS ("045Y", "006M", "003W", "010D") → years."""
    text = text.strip().upper()
    if len(text) < 2 or not text[:-1].isdigit() or text[-1] not in _AGE_UNITS:
        return None
    return int(text[:-1]) * _AGE_UNITS[text[-1]]


# --------------------------------------------------------------------------- pictures


def source_from_picture(path: Path) -> SourceImage:
    """A PNG or JPEG (8 or 16 bit, grey or colour) read with Pillow; raises SourceError."""
    path = Path(path)
    start = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                image.load()
                values, bits, colour = _picture_values(image)
    except FileNotFoundError:
        raise SourceError(path, "file not found") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise SourceError(path, f"image too large ({exc})") from None
    except MemoryError:
        raise SourceError(path, "image too large for the available memory") from None
    except Exception as exc:  # Pillow on a broken file: OSError, SyntaxError, ValueError...
        raise SourceError(path, f"cannot read the picture ({exc})") from None
    meta = ImageMeta(source=str(path), photometric="RGB" if colour else MONOCHROME2,
                     is_dicom=False)
    return SourceImage(values, (_full_range_window(bits),), False, meta,
                       (time.perf_counter() - start) * 1000)


def _picture_values(image: Image.Image) -> tuple[np.ndarray, int, bool]:
    """(grey values float32, bits per sample, really colour) of a loaded picture."""
    mode = image.mode
    if mode in {"I;16", "I;16L", "I;16B", "I;16N", "I"}:
        values = np.asarray(image, dtype=np.float32)
        if values.size and (values.min() < 0 or values.max() > 65535):
            raise ValueError(f"32-bit integer pixels ({mode}) are not a radiograph format")
        return values, 16, False
    if mode in {"1", "L", "LA"}:
        return np.asarray(image.convert("L"), dtype=np.float32), 8, False
    rgb = np.asarray(image.convert("RGB"))  # P, RGB(A), CMYK, YCbCr...
    colour = bool(np.any(rgb[..., 0] != rgb[..., 1]) or np.any(rgb[..., 1] != rgb[..., 2]))
    return _luminance(rgb), 8, colour


# --------------------------------------------------------------------------- many paths


def load_sources(paths: Sequence[Path]) -> Iterator[SourceImage | SourceError]:
    """Every image under ``paths``: DICOM files and folders (one source per image instance,
    its first frame) and PNG/JPEG pictures (by suffix). Lazy: each image is decoded when
    the iteration reaches it. Never raises for a bad file; yields a SourceError instead."""
    for given in paths:
        path = Path(given)
        if path.suffix.lower() in PICTURE_SUFFIXES and not path.is_dir():
            yield _picture_or_error(path)
            continue
        report = discover([path])
        for verdict in report.files:
            if verdict.status == "error":
                yield SourceError(verdict.path, verdict.message or verdict.kind)
                continue
            header = verdict.header
            if header is None:
                continue
            if not header.is_image:
                if verdict.path == path:  # named explicitly: say why nothing comes of it
                    yield SourceError(path, f"no image in this file ({header.modality or 'DICOM'}"
                                            " object without pixel data)")
                continue
            yield _dicom_or_error(header)
        if path.is_dir():
            for picture in _pictures_under(path):
                yield _picture_or_error(picture)


def _picture_or_error(path: Path) -> SourceImage | SourceError:
    try:
        return source_from_picture(path)
    except SourceError as exc:
        return exc


def _dicom_or_error(header: InstanceHeader) -> SourceImage | SourceError:
    start = time.perf_counter()
    try:
        stack = load_image(header, 0)
        source = source_from_stack(stack, 0)
    except DicomFileError as exc:
        return SourceError(header.path, exc.message)
    except MemoryError:
        return SourceError(header.path, "image too large for the available memory")
    except Exception as exc:  # a decoder bug must cost one file, not the batch
        return SourceError(header.path, f"unexpected error while decoding ({exc!r})")
    elapsed = (time.perf_counter() - start) * 1000
    return replace(source, meta=replace(source.meta, source=str(header.path)),
                   decode_ms=elapsed)


def _pictures_under(folder: Path) -> Iterator[Path]:
    """PNG/JPEG files under ``folder`` in sorted order, hidden files and folders skipped."""
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if not name.startswith(".") and Path(name).suffix.lower() in PICTURE_SUFFIXES:
                yield Path(root) / name
