"""Decode a DICOM file's pixel data into stored values, safely.

Sizes are checked against the header before anything is allocated; pydicom's
pixel backend decodes what it can, GDCM (``gdcm.ImageReader``) and then
SimpleITK take over for what it cannot (12-bit JPEG with a non-conformant scan
header, old ACR-NEMA files). Compressed data is decoded in a worker process
(:mod:`imaging.isolation`) because the C codecs can crash on hostile input.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pydicom
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.encaps import generate_fragments
from pydicom.pixels import get_decoder
from pydicom.pixels.processing import convert_color_space
from pydicom.uid import (
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

from imaging import errors
from imaging.errors import DicomFileError, Warning_

# Largest decoded image Tandem accepts (all frames, all samples). A 4664×3064
# 16-bit mammogram is 28 MiB; a 600-slice 512² CT is 300 MiB.
MAX_DECODED_BYTES = 2 * 1024**3

NATIVE_SYNTAXES = frozenset(
    {ImplicitVRLittleEndian, ExplicitVRLittleEndian, ExplicitVRBigEndian,
     DeflatedExplicitVRLittleEndian}
)
_PIXEL_TAGS = {0x7FE00010: "PixelData", 0x7FE00008: "FloatPixelData",
               0x7FE00009: "DoubleFloatPixelData"}
_UNDEFINED_LENGTH = 0xFFFFFFFF
# Header elements above this size are left on disk until needed (the pixel data).
_DEFER_SIZE = 8192
_JPEG_SEQUENTIAL_SOF = (0xC0, 0xC1)  # baseline and extended sequential DCT
_JP2_SIGNATURE = b"\x00\x00\x00\x0cjP  \r\n\x87\n"
_J2K_SOC_SIZ = b"\xff\x4f\xff\x51"


@dataclass(frozen=True)
class DecodedPixels:
    """Stored pixel values of the requested frames, before the modality LUT.

    ``array`` is ``(frames, rows, cols)`` or ``(frames, rows, cols, samples)``
    in native byte order. YBR colour is converted to RGB (``photometric`` then
    says "RGB"); PALETTE COLOR stays as indices.
    """

    array: np.ndarray
    photometric: str
    decoder: str  # "pydicom" | "gdcm" | "simpleitk"
    warnings: tuple[Warning_, ...] = ()


def decode_frames(
    path: Path | str,
    *,
    frames: Sequence[int] | None = None,
    isolated: bool | None = None,
) -> DecodedPixels:
    """Decode ``frames`` (0-based; all when None) of ``path``; raise :class:`DicomFileError`.

    ``isolated=None`` decodes native (uncompressed) data in this process and
    compressed data in a worker process; True/False force either.
    """
    path = Path(path)
    wanted = None if frames is None else tuple(int(f) for f in frames)
    if isolated is None:
        isolated = not is_native(path)
    if isolated:
        from imaging.isolation import decode_isolated

        return decode_isolated(path, wanted)
    return decode_here(path, wanted)


def is_native(path: Path) -> bool:
    """True when ``path``'s pixel data is uncompressed (safe to decode with numpy alone)."""
    try:
        meta = pydicom.filereader.read_file_meta_info(path)
    except Exception:
        return False  # unreadable meta: let the isolated decoder produce the verdict
    ts = meta.get("TransferSyntaxUID")
    # No File Meta (ACR-NEMA style) means an uncompressed implicit/explicit VR file.
    return ts is None or UID(str(ts)) in NATIVE_SYNTAXES


def decode_here(
    path: Path, frames: tuple[int, ...] | None = None, backend: str | None = None
) -> DecodedPixels:
    """Decode in the calling process (what the isolated worker runs).

    ``backend`` ("pydicom", "gdcm" or "simpleitk") forces one decoder, without
    fallback: for comparing decoders; None tries them in that order.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = _read_dataset(path)
        image = _ImageInfo.from_dataset(ds, path, [str(w.message) for w in caught])
    selected = image.select(frames)
    found = tuple(image.warnings)
    error: Exception | None = None
    if backend in (None, "pydicom"):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                array, photometric = _decode_pydicom(ds, image, selected)
            return DecodedPixels(_native_order(array), photometric, "pydicom", found)
        except DicomFileError:
            raise
        except Exception as exc:
            error = exc
    for name, fallback in (("gdcm", _decode_gdcm), ("simpleitk", _decode_simpleitk)):
        if backend not in (None, name):
            continue
        try:
            array, photometric = fallback(path, image)
        except Exception as exc:
            error = error or exc
            continue
        return DecodedPixels(_native_order(array[list(selected)]), photometric, name, found)
    if isinstance(error, NotImplementedError):
        raise DicomFileError(
            errors.UNSUPPORTED_TRANSFER_SYNTAX,
            f"no decoder for transfer syntax {image.ts} ({image.ts.name})", path,
        ) from error
    raise DicomFileError(
        errors.CORRUPT_PIXEL_DATA,
        f"pixel data cannot be decoded ({image.ts.name}): {_first_line(error or 'unknown')}",
        path,
    ) from error


def _read_dataset(path: Path) -> Dataset:
    try:
        ds = pydicom.dcmread(path, defer_size=_DEFER_SIZE, force=True)
        if ds.file_meta.get("TransferSyntaxUID") == DeflatedExplicitVRLittleEndian:
            # Offsets of a deflated dataset point into the inflated stream, not the
            # file: read it whole (it is bounded by the inflated header + pixels).
            ds = pydicom.dcmread(path, force=True)
        return ds
    except FileNotFoundError as exc:
        raise DicomFileError(errors.UNREADABLE, "file not found", path) from exc
    except OSError as exc:
        raise DicomFileError(errors.UNREADABLE, f"cannot read file ({exc.strerror})",
                             path) from exc
    except EOFError as exc:
        raise DicomFileError(errors.TRUNCATED, "file is truncated", path) from exc
    except Exception as exc:
        raise DicomFileError(errors.NOT_DICOM, f"not a readable DICOM file "
                             f"({_first_line(exc)})", path) from exc


@dataclass(frozen=True)
class _ImageInfo:
    """The Image Pixel module of a file, validated, plus where its pixel data lies."""

    path: Path
    ts: UID
    keyword: str
    rows: int
    cols: int
    frames: int
    samples: int
    bits_allocated: int
    bits_stored: int
    pixel_representation: int
    photometric: str
    warnings: tuple[Warning_, ...]

    @classmethod
    def from_dataset(cls, ds: Dataset, path: Path, read_warnings: list[str]) -> _ImageInfo:
        keyword = next((kw for tag, kw in _PIXEL_TAGS.items() if tag in ds), "")
        if not keyword:
            if any("delimiter" in w and "end of file" in w.lower() for w in read_warnings):
                raise DicomFileError(errors.PIXEL_DATA_TRUNCATED, "encapsulated pixel data ends "
                                     "before its sequence delimiter (file cut short)", path)
            raise DicomFileError(errors.NO_PIXEL_DATA, "no Pixel Data (7FE0,0010) to decode", path)
        ts = _transfer_syntax(ds)
        try:
            frames = int(str(ds.get("NumberOfFrames", 1) or 1).strip())
        except ValueError as exc:
            raise DicomFileError("invalid_number_of_frames", f"Number of Frames (0028,0008) is "
                                 f"not a number: {ds.get('NumberOfFrames')!r}", path) from exc
        try:
            rows, cols = int(ds.Rows), int(ds.Columns)
            samples = int(ds.get("SamplesPerPixel", 1) or 1)
            bits = int(ds.BitsAllocated)
            bits_stored = int(ds.get("BitsStored", bits) or bits)
            representation = int(ds.get("PixelRepresentation", 0) or 0)
        except (AttributeError, TypeError, ValueError) as exc:
            raise DicomFileError(errors.INVALID_ATTRIBUTE, f"Image Pixel module is missing or "
                                 f"invalid ({_first_line(exc)})", path) from exc
        if min(rows, cols, frames, samples) < 1 or bits not in (1, 8, 16, 32, 64):
            raise DicomFileError(errors.INVALID_ATTRIBUTE, f"invalid image description: {rows} "
                                 f"rows, {cols} columns, {frames} frames, {samples} samples, "
                                 f"{bits} bits allocated", path)
        info = cls(path, ts, keyword, rows, cols, frames, samples, bits, bits_stored,
                   representation,
                   str(ds.get("PhotometricInterpretation", "")).strip().upper(), ())
        info.check_decoded_size()
        found = info.check_native_length(ds) if ts in NATIVE_SYNTAXES else []
        if ts not in NATIVE_SYNTAXES:
            found += _codestream_warnings(ds, info)
        return _replace_warnings(info, tuple(found))

    def check_decoded_size(self) -> None:
        per_sample = 1 if self.bits_allocated == 1 else self.bits_allocated // 8
        size = self.rows * self.cols * self.frames * self.samples * per_sample
        if size > MAX_DECODED_BYTES:
            raise DicomFileError(
                errors.IMAGE_TOO_LARGE,
                f"the header declares {self.frames} frame(s) of {self.rows} × {self.cols} "
                f"pixels × {self.samples} sample(s) × {per_sample} byte(s) = {size / 2**30:,.1f} "
                f"GiB, more than the {MAX_DECODED_BYTES / 2**30:.0f} GiB Tandem decodes",
                self.path,
            )

    def stored_bytes(self) -> int:
        """Bytes native pixel data must hold, as the header describes it."""
        pixels = self.rows * self.cols * self.frames
        if self.bits_allocated == 1:
            return (pixels * self.samples + 7) // 8
        samples = 2 if self.photometric == "YBR_FULL_422" else self.samples
        return pixels * samples * self.bits_allocated // 8

    def check_native_length(self, ds: Dataset) -> list[Warning_]:
        """Compare the declared image with what the file holds, before reading the pixels."""
        elem = ds.get_item(self.keyword, keep_deferred=True)
        needed = self.stored_bytes()
        if isinstance(elem, RawDataElement) and elem.value is None and elem.value_tell:
            # Deferred: the value is still on disk, measure the file instead of reading it.
            available = max(self.path.stat().st_size - elem.value_tell, 0)
            length = elem.length
        else:
            value = ds[self.keyword].value
            available = length = len(value) if value is not None else 0
        found: list[Warning_] = []
        if available < needed:
            raise DicomFileError(
                errors.PIXEL_DATA_TRUNCATED,
                f"pixel data holds {available:,} bytes but {self.frames} frame(s) of "
                f"{self.rows} × {self.cols} need {needed:,}", self.path,
            )
        if length != _UNDEFINED_LENGTH and length > available:
            found.append(Warning_("element_length_exceeds_file",
                                  f"Pixel Data length {length:,} exceeds the {available:,} bytes "
                                  f"left in the file; decoded the {needed:,} bytes the image "
                                  f"needs"))
        elif length > needed + needed % 2:
            found.append(Warning_("excess_pixel_padding",
                                  f"Pixel Data is {length - needed:,} bytes longer than the "
                                  f"image needs (ignored)"))
        return found

    def select(self, frames: tuple[int, ...] | None) -> tuple[int, ...]:
        if frames is None:
            return tuple(range(self.frames))
        bad = [f for f in frames if not 0 <= f < self.frames]
        if bad:
            raise IndexError(f"{self.path}: frame(s) {bad} out of range (0..{self.frames - 1})")
        return frames


def _replace_warnings(info: _ImageInfo, found: tuple[Warning_, ...]) -> _ImageInfo:
    from dataclasses import replace

    return replace(info, warnings=found)


def _transfer_syntax(ds: Dataset) -> UID:
    ts = ds.file_meta.get("TransferSyntaxUID") if ds.file_meta else None
    if ts:
        return UID(str(ts))
    # No File Meta: the encoding pydicom found while parsing tells the syntax.
    implicit, little = ds.original_encoding
    if implicit:
        return ImplicitVRLittleEndian
    return ExplicitVRLittleEndian if little else ExplicitVRBigEndian


def _decode_pydicom(
    ds: Dataset, image: _ImageInfo, selected: tuple[int, ...]
) -> tuple[np.ndarray, str]:
    if not ds.file_meta or "TransferSyntaxUID" not in ds.file_meta:
        ds.file_meta = ds.file_meta or pydicom.dataset.FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = image.ts
    if image.ts in NATIVE_SYNTAXES:
        _load_native_bytes(ds, image)
    decoder = get_decoder(image.ts)  # NotImplementedError: no decoder for this syntax
    arrays = []
    photometric = image.photometric
    for array, meta in decoder.iter_array(ds, indices=selected, as_rgb=True):
        arrays.append(array)
        photometric = str(meta.get("photometric_interpretation", photometric))
    return np.stack(arrays), photometric


def _load_native_bytes(ds: Dataset, image: _ImageInfo) -> None:
    """Read exactly the bytes the image needs (never a bogus declared length)."""
    elem = ds.get_item(image.keyword, keep_deferred=True)
    if not (isinstance(elem, RawDataElement) and elem.value is None and elem.value_tell):
        return
    with open(image.path, "rb") as f:
        f.seek(elem.value_tell)
        data = f.read(image.stored_bytes())
    vr = "OB" if image.bits_allocated <= 8 and image.keyword == "PixelData" else \
        {"PixelData": "OW", "FloatPixelData": "OF", "DoubleFloatPixelData": "OD"}[image.keyword]
    ds.add_new(image.keyword, vr, data)


def _native_order(array: np.ndarray) -> np.ndarray:
    if array.dtype.byteorder not in ("=", "|"):
        array = array.astype(array.dtype.newbyteorder("="))
    return np.ascontiguousarray(array)


def _codestream_warnings(ds: Dataset, image: _ImageInfo) -> list[Warning_]:
    """Non-conformances visible in the first codestream that decoders tolerate."""
    try:
        fragments = generate_fragments(ds[image.keyword].value)
        next(fragments)  # Basic Offset Table
        head = next(fragments)[:4096]
    except Exception:
        return []  # the decoders will name the problem
    found: list[Warning_] = []
    if head.startswith(_JP2_SIGNATURE):
        found.append(Warning_("nonconformant_j2k_codestream", "JPEG 2000 pixel data wrapped "
                              "in a JP2 file header (DICOM requires a bare codestream)"))
    siz = head.find(_J2K_SOC_SIZ)
    if siz >= 0 and len(head) > siz + 42:
        signed = bool(head[siz + 42] & 0x80)
        if signed != bool(image.pixel_representation):
            found.append(Warning_(
                "pixel_representation_mismatch",
                f"JPEG 2000 codestream is {'signed' if signed else 'unsigned'} but Pixel "
                f"Representation is {image.pixel_representation}; values follow the header",
            ))
    sos = _jpeg_scan_header(head)
    if sos is not None:
        sof, ss, se, ah_al = sos
        if sof in _JPEG_SEQUENTIAL_SOF and (ss, se, ah_al) != (0, 63, 0):
            found.append(Warning_(
                "nonconformant_jpeg",
                f"sequential JPEG with invalid scan parameters (Ss={ss}, Se={se}, "
                f"Ah/Al={ah_al:#x}; expected 0, 63, 0): decoded with a tolerant decoder",
            ))
    return found


def _jpeg_scan_header(data: bytes) -> tuple[int, int, int, int] | None:
    """(SOF marker, Ss, Se, AhAl) of the first scan of a JPEG stream, or None."""
    if not data.startswith(b"\xff\xd8"):
        return None
    pos, sof = 2, -1
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        length = int.from_bytes(data[pos + 2:pos + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            sof = marker
        if marker == 0xDA:
            ns = data[pos + 4] if pos + 4 < len(data) else 0
            tail = pos + 5 + 2 * ns
            if tail + 3 > len(data):
                return None
            return sof & 0xFF, data[tail], data[tail + 1], data[tail + 2]
        pos += 2 + length
    return None


def _decode_gdcm(path: Path, image: _ImageInfo) -> tuple[np.ndarray, str]:
    import gdcm

    gdcm.Trace.WarningOff()
    gdcm.Trace.ErrorOff()
    reader = gdcm.ImageReader()
    reader.SetFileName(str(path))
    if not reader.Read():
        raise RuntimeError("GDCM cannot read the file")
    img = reader.GetImage()
    fmt = img.GetPixelFormat()
    bits = int(fmt.GetBitsAllocated())
    signed = bool(fmt.GetPixelRepresentation())
    scalar = fmt.GetScalarType()
    if scalar == gdcm.PixelFormat.FLOAT32:
        dtype: Any = np.float32
    elif scalar == gdcm.PixelFormat.FLOAT64:
        dtype = np.float64
    else:
        dtype = np.dtype(f"{'i' if signed else 'u'}{max(bits, 8) // 8}")
    samples = int(fmt.GetSamplesPerPixel())
    buffer = img.GetBuffer().encode("utf-8", "surrogateescape")
    shape = (image.frames, image.rows, image.cols) + ((samples,) if samples > 1 else ())
    array = np.frombuffer(buffer, dtype=dtype)
    array = array[: int(np.prod(shape))].reshape(shape)
    photometric = gdcm.PhotometricInterpretation.GetPIString(
        img.GetPhotometricInterpretation().GetType()).strip().upper()
    if samples == 3 and img.GetPlanarConfiguration() == 1:
        array = array.reshape(image.frames, 3, image.rows, image.cols).transpose(0, 2, 3, 1)
    return _to_rgb(_sign_extend(array, image), photometric)


def _sign_extend(array: np.ndarray, image: _ImageInfo) -> np.ndarray:
    """Signed values stored in fewer bits than allocated, as pydicom returns them."""
    shift = image.bits_allocated - image.bits_stored
    if not image.pixel_representation or shift <= 0 or array.dtype.kind not in "iu":
        return array
    signed = array.astype(np.dtype(f"i{array.dtype.itemsize}"), copy=False)
    return (signed << shift) >> shift


def _decode_simpleitk(path: Path, image: _ImageInfo) -> tuple[np.ndarray, str]:
    import SimpleITK as sitk

    reader = sitk.ImageFileReader()
    reader.SetFileName(str(path))
    reader.SetImageIO("GDCMImageIO")
    sitk_image = reader.Execute()
    array = sitk.GetArrayFromImage(sitk_image)
    array = array.reshape((image.frames, image.rows, image.cols)
                          + ((image.samples,) if image.samples > 1 else ()))
    # GDCMImageIO applies Rescale Slope/Intercept: undo it to return stored values.
    slope = float(_tag_or(reader, "0028|1053", 1.0))
    intercept = float(_tag_or(reader, "0028|1052", 0.0))
    if (slope, intercept) != (1.0, 0.0) and slope != 0:
        stored = np.rint((array.astype(np.float64) - intercept) / slope)
        dtype = np.dtype(f"{'i' if image.pixel_representation else 'u'}"
                         f"{max(image.bits_allocated, 8) // 8}")
        array = stored.astype(dtype)
    if image.photometric == "MONOCHROME1" and array.dtype.kind == "u":
        array = (2**image.bits_stored - 1) - array  # ITK shows MONOCHROME1 inverted
    if image.bits_allocated == 1:
        array = (array > 0).astype(np.uint8)  # ITK scales 1-bit data to 0/255
    # GDCMImageIO converts YBR colour to RGB itself.
    return _sign_extend(array, image), "RGB" if image.samples == 3 else image.photometric


def _tag_or(reader: Any, key: str, default: float) -> Any:
    try:
        return reader.GetMetaData(key).strip() if reader.HasMetaDataKey(key) else default
    except Exception:
        return default


def _to_rgb(array: np.ndarray, photometric: str) -> tuple[np.ndarray, str]:
    """Give fallback decoders' YBR output the RGB pydicom would return."""
    if array.ndim == 4 and photometric in ("YBR_FULL", "YBR_FULL_422"):
        return convert_color_space(array, "YBR_FULL", "RGB"), "RGB"
    if photometric in ("YBR_ICT", "YBR_RCT"):
        return array, "RGB"  # JPEG 2000 decoders undo the component transform
    return array, photometric


def _first_line(exc: BaseException | str) -> str:
    text = str(exc).strip() or type(exc).__name__
    return " ".join(text.split())[:300]


__all__ = ["MAX_DECODED_BYTES", "DecodedPixels", "decode_frames", "decode_here", "is_native"]
