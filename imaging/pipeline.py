"""The DICOM pixel pipeline as plain values: modality LUT → VOI → presentation (PS3.4 N.2).

Stored values become *modality values* (HU for CT) through the Modality LUT
(PS3.3 C.11.1); a :class:`VoiWindow` maps modality values to display grey
levels in [0, 1] (C.11.2); the presentation step only says whether to invert
(MONOCHROME1, Presentation LUT Shape INVERSE, C.11.6). Colour images bypass all
three: RGB passes through and PALETTE COLOR becomes RGB (C.7.6.3.1.5).

pydicom's ``pydicom.pixels`` functions need the whole Dataset at every call and
return float64 (or uint16 for LUTs); the loader converts a series slice by slice
with parameters parsed once, so the LUT/window maths lives here on plain numbers,
in float32, following the same sections of the standard. pydicom is used where
it fits as is: the palette colour LUTs (including segmented palettes) are
expanded with :func:`pydicom.pixels.apply_color_lut`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from struct import unpack_from
from typing import Any

import numpy as np
from pydicom.dataset import Dataset
from pydicom.pixels import apply_color_lut

from imaging.errors import Warning_

LINEAR = "LINEAR"
LINEAR_EXACT = "LINEAR_EXACT"
SIGMOID = "SIGMOID"
VOI_FUNCTIONS = (LINEAR, LINEAR_EXACT, SIGMOID)

MONOCHROME1 = "MONOCHROME1"
MONOCHROME2 = "MONOCHROME2"
PALETTE_COLOR = "PALETTE COLOR"

# Samples drawn for the automatic window: percentiles of a million values are
# indistinguishable from those of the whole volume and cost a few milliseconds.
_AUTO_WINDOW_SAMPLES = 1_000_000
_AUTO_PERCENTILES = (0.5, 99.5)


def _lookup(values: np.ndarray, table: np.ndarray, first_mapped: int) -> np.ndarray:
    """Index ``table`` with ``values`` per PS3.3 C.11.1.1.1 / C.11.2.1.1.

    Inputs below the first mapped value take the first entry, inputs beyond
    the last entry take the last one. Non-integer inputs (a VOI LUT applied to
    rescaled values) are rounded to the nearest entry.
    """
    index = np.asarray(values, dtype=np.float64) - first_mapped
    np.rint(index, out=index)
    np.clip(index, 0, len(table) - 1, out=index)
    return table[index.astype(np.intp)]


# --------------------------------------------------------------------------- modality LUT


@dataclass(frozen=True)
class ModalityLut:
    """Rescale Slope/Intercept, or a Modality LUT table (which then takes precedence)."""

    slope: float = 1.0
    intercept: float = 0.0
    lut: np.ndarray | None = field(default=None, compare=False, repr=False)  # float32 entries
    lut_first_mapped: int = 0
    lut_bits: int = 16
    units: str = ""  # Rescale Type / Modality LUT Type: "HU", "US", "OD"...

    @property
    def is_identity(self) -> bool:
        return self.lut is None and self.slope == 1.0 and self.intercept == 0.0

    def same_as(self, other: ModalityLut) -> bool:
        """Equal, comparing table contents too (dataclass equality skips the array)."""
        if self != other:
            return False
        if self.lut is None or other.lut is None:
            return self.lut is other.lut
        return bool(np.array_equal(self.lut, other.lut))


def apply_modality_lut(stored: np.ndarray, lut: ModalityLut) -> np.ndarray:
    """Stored values → modality values, float32 (PS3.4 N.2.1.1)."""
    if lut.lut is not None:
        return _lookup(stored, lut.lut, lut.lut_first_mapped)
    out = np.asarray(stored, dtype=np.float32)
    if out is stored or not out.flags.writeable:
        out = out.copy()
    if lut.slope != 1.0:
        out *= np.float32(lut.slope)
    if lut.intercept != 0.0:
        out += np.float32(lut.intercept)
    return out


def modality_lut_from(item: Dataset, *, signed: bool, little_endian: bool = True) -> ModalityLut:
    """The Modality LUT of ``item`` (a dataset, or a Pixel Value Transformation item)."""
    seq = item.get("ModalityLUTSequence")
    if seq:
        table, first, bits = _lut_table(seq[0], signed=signed, little_endian=little_endian)
        return ModalityLut(lut=table, lut_first_mapped=first, lut_bits=bits,
                           units=str(seq[0].get("ModalityLUTType", "") or ""))
    slope = _float(item.get("RescaleSlope"), 1.0)
    intercept = _float(item.get("RescaleIntercept"), 0.0)
    if slope == 0.0:  # a zero slope is an encoding error: it would blank the image
        slope = 1.0
    return ModalityLut(slope=slope, intercept=intercept,
                       units=str(item.get("RescaleType", "") or ""))


def _lut_table(item: Dataset, *, signed: bool, little_endian: bool) -> tuple[np.ndarray, int, int]:
    """(entries as float32, first mapped value, bits per entry) of a LUT item.

    LUT Descriptor: number of entries (0 means 65536), first stored value
    mapped (signed when the input is signed, even if encoded with VR US), bits
    per entry. LUT Data is US or OW; OW is unpacked with the file's byte order.
    """
    descriptor = [int(v) for v in item.LUTDescriptor]
    entries = descriptor[0] or 65536
    first = descriptor[1]
    if signed and first >= 32768:
        first -= 65536
    bits = descriptor[2]
    elem = item["LUTData"]
    if isinstance(elem.value, bytes):
        count = min(entries, len(elem.value) // 2)
        data = np.asarray(unpack_from(f"{'<' if little_endian else '>'}{count}H", elem.value))
    else:
        raw = elem.value
        data = np.asarray(raw if isinstance(raw, Sequence) else [raw], dtype=np.int64)
    if data.size == 0:
        raise ValueError("LUT Data is empty")
    return data[:entries].astype(np.float32), first, bits


# --------------------------------------------------------------------------- VOI


@dataclass(frozen=True)
class VoiWindow:
    """A VOI transformation: a window (centre/width + function) or a VOI LUT table.

    ``apply`` maps modality values to [0, 1]. For a table window (``lut`` set),
    ``center``/``width`` approximate the table's input range (the values where
    the table rises from its minimum to its maximum) so that the user can start
    dragging window/level from it; :meth:`with_center_width` then gives a plain
    LINEAR window and the table is no longer used.
    """

    center: float
    width: float
    function: str = LINEAR
    name: str = ""
    lut: np.ndarray | None = field(default=None, compare=False, repr=False)  # float32 entries
    lut_first_mapped: int = 0
    lut_bits: int = 16

    def __post_init__(self) -> None:
        if not (math.isfinite(self.center) and math.isfinite(self.width)):
            raise ValueError(f"window centre/width must be finite: {self.center}/{self.width}")
        if self.function not in VOI_FUNCTIONS:
            raise ValueError(f"unknown VOI LUT Function {self.function!r}")

    @property
    def is_table(self) -> bool:
        return self.lut is not None

    def apply(self, values: np.ndarray) -> np.ndarray:
        """Modality values → display values in [0, 1], float32 (PS3.3 C.11.2.1.2-3)."""
        if self.lut is not None:
            out = _lookup(values, self.lut, self.lut_first_mapped).astype(np.float32)
            out *= np.float32(1.0 / _table_max(self.lut, self.lut_bits))
            return np.clip(out, 0.0, 1.0, out=out)
        x = np.array(values, dtype=np.float32)  # a copy: computed in place below
        c, w = self.center, self.width
        if self.function == SIGMOID:
            x -= np.float32(c)
            x *= np.float32(-4.0 / max(w, 1e-6))
            np.clip(x, -80.0, 80.0, out=x)  # exp overflow guard; 1/(1+e^80) is 0 in float32
            np.exp(x, out=x)
            x += np.float32(1.0)
            return np.reciprocal(x, out=x)
        if self.function == LINEAR_EXACT:
            x -= np.float32(c)
            x *= np.float32(1.0 / max(w, 1e-6))
        else:
            # C.11.2.1.2.1: y = ((x - (c - 0.5)) / (w - 1) + 0.5), clamped. w = 1 is a step.
            x -= np.float32(c - 0.5)
            x *= np.float32(1.0 / max(w - 1.0, 1e-6))
        x += np.float32(0.5)
        return np.clip(x, 0.0, 1.0, out=x)

    def with_center_width(self, center: float, width: float) -> VoiWindow:
        """The window after the user dragged it: same function, never a table."""
        function = self.function if self.lut is None else LINEAR
        return VoiWindow(center, max(width, 1.0), function, self.name)

    @classmethod
    def from_table(cls, table: np.ndarray, first_mapped: int, bits: int,
                   name: str = "") -> VoiWindow:
        """A VOI LUT window, with a centre/width approximation of the table's ramp."""
        lo, hi = float(table.min()), float(table.max())
        rising = np.nonzero((table > lo) & (table < hi))[0]
        if rising.size:
            start, stop = first_mapped + rising[0] - 1, first_mapped + rising[-1] + 1
        else:
            start, stop = first_mapped, first_mapped + len(table) - 1
        width = max(float(stop - start), 1.0)
        return cls(float(start) + width / 2, width, LINEAR, name, table, first_mapped, bits)


def _table_max(table: np.ndarray, bits: int) -> float:
    """The value a table's full-scale output represents (2^bits - 1).

    Some files declare fewer bits than their entries use; then the entries'
    own bit length is used, so the table never saturates early.
    """
    nominal = float(2 ** max(bits, 1) - 1)
    top = float(table.max()) if table.size else 0.0
    if top > nominal:
        return float(2 ** int(top).bit_length() - 1)
    return nominal


def windows_from(item: Dataset, *, signed: bool, little_endian: bool = True,
                 found: list[Warning_] | None = None) -> tuple[VoiWindow, ...]:
    """Every VOI transformation of ``item``: windows first, then VOI LUT tables.

    Window Center/Width are multi-valued (one alternative view per value pair),
    named by Window Center & Width Explanation; VOI LUT Function applies to all.
    """
    found = found if found is not None else []
    windows: list[VoiWindow] = []
    centers, widths = _floats(item.get("WindowCenter")), _floats(item.get("WindowWidth"))
    names = _texts(item.get("WindowCenterWidthExplanation"))
    function = str(item.get("VOILUTFunction", "") or LINEAR).strip().upper()
    if function not in VOI_FUNCTIONS:
        found.append(Warning_("invalid_attribute",
                              f"VOI LUT Function {function!r} unknown; LINEAR used"))
        function = LINEAR
    if len(centers) != len(widths):
        found.append(Warning_("invalid_attribute", f"{len(centers)} Window Center values but "
                              f"{len(widths)} Window Width values; extra values ignored"))
    for i, (c, w) in enumerate(zip(centers, widths, strict=False)):
        if not (math.isfinite(c) and math.isfinite(w)) or w <= 0:
            found.append(Warning_("invalid_attribute", f"window {c}/{w} ignored (width <= 0)"))
            continue
        windows.append(VoiWindow(c, max(w, 1.0) if function == LINEAR else w, function,
                                 names[i] if i < len(names) else ""))
    for item_lut in item.get("VOILUTSequence") or []:
        try:
            table, first, bits = _lut_table(item_lut, signed=signed, little_endian=little_endian)
        except (AttributeError, KeyError, ValueError, TypeError) as exc:
            found.append(Warning_("invalid_attribute", f"VOI LUT Sequence item ignored ({exc})"))
            continue
        windows.append(VoiWindow.from_table(table, first, bits,
                                            str(item_lut.get("LUTExplanation", "") or "")))
    return tuple(windows)


def default_window(values: np.ndarray, params: DisplayParameters) -> VoiWindow:
    """The file's first window, else the soft-tissue window for CT, else an automatic one.

    A CT without a window opens in the mediastinum/soft-tissue window (40/400 HU)
    as on every CT console: a percentile window of HU values spans air to bone
    and shows nothing a radiologist can read. Other modalities get the
    0.5–99.5 percentiles of the modality values.

    Pixel Padding Value (and Pixel Padding Range Limit) are left out of the
    automatic window: padding is the black frame around a CT or a mammogram,
    not anatomy, and would otherwise widen the window.
    """
    if params.windows:
        return params.windows[0]
    if params.modality.upper() == "CT":
        return next(w for w in presets_for_modality("CT") if w.name == "mediastinum")
    flat = np.asarray(values).reshape(-1)
    step = max(1, flat.size // _AUTO_WINDOW_SAMPLES)
    sample = flat[::step].astype(np.float32)
    if params.pixel_padding is not None:
        lo, hi = (float(v) for v in apply_modality_lut(
            np.asarray(params.pixel_padding), params.modality_lut))
        lo, hi = min(lo, hi), max(lo, hi)
        kept = sample[(sample < lo) | (sample > hi)]
        sample = kept if kept.size else sample
    sample = sample[np.isfinite(sample)]
    if sample.size == 0:
        return VoiWindow(0.5, 1.0, LINEAR_EXACT, "auto")
    low, high = (float(v) for v in np.percentile(sample, _AUTO_PERCENTILES))
    if high <= low:
        low, high = float(sample.min()), float(sample.max())
    width = max(high - low, 1e-3)
    return VoiWindow(low + width / 2, width, LINEAR_EXACT, "auto")


# CT presets (centre, width) in HU: the values radiologists expect behind the number keys.
_CT_PRESETS = (("lung", -600.0, 1500.0), ("mediastinum", 40.0, 400.0),
               ("bone", 400.0, 1800.0), ("brain", 40.0, 80.0))


def presets_for_modality(modality: str, default: VoiWindow | None = None) -> list[VoiWindow]:
    """Window presets, as short keys the app translates ("lung", ..., "default").

    CT gets lung, mediastinum, bone, brain. Radiographs and mammograms (CR, DX,
    MG...) have no meaningful fixed preset: their only preset is ``default``
    (the file's window, else the automatic one: pass :func:`default_window`),
    which is also appended to the CT list when given.
    """
    presets = [VoiWindow(c, w, LINEAR, name) for name, c, w in _CT_PRESETS] \
        if modality.upper() == "CT" else []
    if default is not None:
        presets.append(replace(default, name="default"))
    return presets


# --------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class DisplayParameters:
    """Everything between stored values and the screen, read once from a header."""

    photometric: str = MONOCHROME2
    modality: str = ""
    bits_stored: int = 16
    pixel_representation: int = 0
    modality_lut: ModalityLut = field(default_factory=ModalityLut)
    # Enhanced multi-frame: one Modality LUT per frame (empty: modality_lut for all).
    frame_modality_luts: tuple[ModalityLut, ...] = ()
    windows: tuple[VoiWindow, ...] = ()
    presentation_shape: str = ""  # IDENTITY | INVERSE | "" (absent)
    pixel_padding: tuple[float, float] | None = None  # stored padding value, range limit
    palette: np.ndarray | None = field(default=None, compare=False, repr=False)  # (n, 3) uint8
    palette_first_mapped: int = 0
    warnings: tuple[Warning_, ...] = ()

    @property
    def is_colour(self) -> bool:
        return not self.photometric.startswith("MONOCHROME")

    @property
    def invert(self) -> bool:
        """Display black-on-white: MONOCHROME1, or Presentation LUT Shape INVERSE.

        For MONOCHROME1, INVERSE is how enhanced/DX objects *state* that
        inversion (C.8.11.6.1.2), not a second inversion, hence ``or``.
        """
        return self.photometric == MONOCHROME1 or self.presentation_shape == "INVERSE"

    def modality_lut_for(self, frame: int) -> ModalityLut:
        if 0 <= frame < len(self.frame_modality_luts):
            return self.frame_modality_luts[frame]
        return self.modality_lut


def display_parameters(ds: Dataset) -> DisplayParameters:
    """Parse the Modality LUT, VOI, presentation and palette modules of ``ds``.

    Enhanced multi-frame objects keep these in the functional groups (Pixel
    Value Transformation, Frame VOI LUT): per-frame values win over shared
    ones, which win over top-level attributes.
    """
    found: list[Warning_] = []
    photometric = str(ds.get("PhotometricInterpretation", "") or MONOCHROME2).strip().upper()
    pixel_rep = _int(ds.get("PixelRepresentation"), 0)
    little = _little_endian(ds)
    signed = pixel_rep == 1
    shared, per_frame = _functional_groups(ds)

    modality = _safe(found, "Modality LUT", lambda: modality_lut_from(
        _first_with(shared, "PixelValueTransformationSequence") or ds,
        signed=signed, little_endian=little), ModalityLut())
    frame_luts: tuple[ModalityLut, ...] = ()
    if any(g.get("PixelValueTransformationSequence") for g in per_frame):
        frame_luts = tuple(
            _safe(found, "Modality LUT", lambda g=g: modality_lut_from(
                _first_with([g], "PixelValueTransformationSequence") or ds,
                signed=signed, little_endian=little), modality)
            for g in per_frame)
        modality = frame_luts[0]

    voi_source = (_first_with(per_frame[:1], "FrameVOILUTSequence")
                  or _first_with(shared, "FrameVOILUTSequence") or ds)
    # VOI LUT inputs are modality values: negative whenever the rescale can make them so.
    voi_signed = signed or modality.intercept < 0
    windows: tuple[VoiWindow, ...] = ()
    if not photometric.startswith(("RGB", "YBR", PALETTE_COLOR)):
        windows = _safe(found, "VOI LUT", lambda: windows_from(
            voi_source, signed=voi_signed, little_endian=little, found=found), ())

    palette, palette_first = None, 0
    if photometric == PALETTE_COLOR:
        palette, palette_first = _safe(found, "Palette Color LUT",
                                       lambda: _palette_table(ds, signed), (None, 0))

    padding = None
    if "PixelPaddingValue" in ds:
        value = _float(ds.get("PixelPaddingValue"), math.nan)
        limit = _float(ds.get("PixelPaddingRangeLimit"), value)
        if math.isfinite(value):
            padding = (value, limit if math.isfinite(limit) else value)

    return DisplayParameters(
        photometric=photometric,
        modality=str(ds.get("Modality", "") or "").upper(),
        bits_stored=_int(ds.get("BitsStored"), 16),
        pixel_representation=pixel_rep,
        modality_lut=modality,
        frame_modality_luts=frame_luts,
        windows=windows,
        presentation_shape=str(ds.get("PresentationLUTShape", "") or "").strip().upper(),
        pixel_padding=padding,
        palette=palette,
        palette_first_mapped=palette_first,
        warnings=tuple(found),
    )


# --------------------------------------------------------------------------- colour


def _palette_table(ds: Dataset, signed: bool) -> tuple[np.ndarray, int]:
    """The palette as an (entries, 3) uint8 table plus its first mapped index.

    pydicom expands the LUTs (plain or segmented, 8- or 16-bit) when given
    every index once; 16-bit entries keep their high byte (0xFF00 is full red,
    as 8-bit palettes written as 16-bit usually are) unless they only use 0..255
    (8-bit entries stored in 16-bit words, as some files do).
    """
    descriptor = [int(v) for v in ds.RedPaletteColorLookupTableDescriptor]
    entries = descriptor[0] or 65536
    first = descriptor[1] - 65536 if signed and descriptor[1] >= 32768 else descriptor[1]
    table = apply_color_lut(np.arange(first, first + entries), ds)[:, :3]
    if table.dtype != np.uint8:
        top = int(table.max()) if table.size else 0
        if top > 255:
            table = table >> 8
        table = table.astype(np.uint8)
    return np.ascontiguousarray(table), first


def palette_to_rgb(indices: np.ndarray, params: DisplayParameters) -> np.ndarray:
    """PALETTE COLOR indices → uint8 RGB (..., 3); out-of-range indices clamp (C.7.6.3.1.5)."""
    if params.palette is None:
        raise ValueError("PALETTE COLOR image without a usable Palette Color Lookup Table")
    index = np.asarray(indices, dtype=np.int64) - params.palette_first_mapped
    np.clip(index, 0, len(params.palette) - 1, out=index)
    return params.palette[index]


def rgb_to_uint8(rgb: np.ndarray, bits_stored: int) -> np.ndarray:
    """Decoded RGB (uint8, or uint16 with ``bits_stored`` bits) → uint8 RGB."""
    if rgb.dtype == np.uint8:
        return rgb
    top = float(2 ** min(max(bits_stored, 8), 16) - 1)
    out = np.asarray(rgb, dtype=np.float32) * np.float32(255.0 / top)
    np.clip(out, 0, 255, out=out)
    return np.rint(out, out=out).astype(np.uint8)


# --------------------------------------------------------------------------- helpers


def _functional_groups(ds: Dataset) -> tuple[list[Dataset], list[Dataset]]:
    shared = list(ds.get("SharedFunctionalGroupsSequence") or [])[:1]
    per_frame = list(ds.get("PerFrameFunctionalGroupsSequence") or [])
    return shared, per_frame


def _first_with(groups: Sequence[Dataset], keyword: str) -> Dataset | None:
    """The first item of ``keyword`` in the first group that has it."""
    for group in groups:
        seq = group.get(keyword)
        if seq:
            return seq[0]
    return None


def _safe(found: list[Warning_], what: str, compute: Any, fallback: Any) -> Any:
    """Run ``compute``; a malformed module becomes a warning and ``fallback``."""
    try:
        return compute()
    except (AttributeError, KeyError, ValueError, TypeError, IndexError) as exc:
        found.append(Warning_("invalid_attribute", f"{what} ignored ({exc})"))
        return fallback


def _little_endian(ds: Dataset) -> bool:
    meta = getattr(ds, "file_meta", None)
    ts = meta.get("TransferSyntaxUID") if meta is not None else None
    if ts is not None and str(ts) == "1.2.840.10008.1.2.2":
        return False
    encoding = getattr(ds, "original_encoding", (None, None))
    return encoding[1] is not False


def _floats(value: Any) -> list[float]:
    if value is None or value == "":
        return []
    items = value if isinstance(value, Sequence) and not isinstance(value, str | bytes) \
        else [value]
    out = []
    for v in items:
        try:
            out.append(float(v))
        except (TypeError, ValueError):
            out.append(math.nan)
    return out


def _texts(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str | bytes):
        return [str(value).strip()]
    return [str(v).strip() for v in value]


def _float(value: Any, default: float) -> float:
    try:
        return default if value is None or value == "" else float(value)
    except (TypeError, ValueError):
        return default


def _int(value: Any, default: int) -> int:
    try:
        return default if value is None or value == "" else int(value)
    except (TypeError, ValueError):
        return default
