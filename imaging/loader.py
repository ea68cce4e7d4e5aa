"""Turn a series' headers into an :class:`~imaging.stack.ImageStack` of modality values.

Decoding is :func:`imaging.decode.decode_frames`'s job and geometry is
:mod:`imaging.geometry`'s; this module orders the images, applies the Modality
LUT slice by slice (it may differ per slice, or per frame in enhanced
multi-frame objects) and fills one preallocated array, so that loading never
holds more than the stack plus one decoded chunk (one file's frames, at most
``_CHUNK_BYTES`` unless a single frame is larger).

A file that fails to decode is left out with a warning naming it; the stack
is built from the others.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import numpy as np
import pydicom
from pydicom.dataset import Dataset

from imaging import errors
from imaging.decode import NATIVE_SYNTAXES, DecodedPixels, decode_frames
from imaging.errors import DicomFileError, Warning_, dedupe_warnings
from imaging.geometry import sort_headers, stack_geometry
from imaging.header import InstanceHeader
from imaging.isolation import decode_many
from imaging.overlays import OverlayPlane, read_overlays
from imaging.pipeline import (
    PALETTE_COLOR,
    DisplayParameters,
    apply_modality_lut,
    display_parameters,
    palette_to_rgb,
    rgb_to_uint8,
)
from imaging.stack import ImageStack, SliceInfo

# Frames of one multi-frame file decoded per call: bounds the temporaries
# while keeping one call (one parse of the file) for ordinary cine loops.
_CHUNK_BYTES = 32 * 1024 * 1024

# What can change from one slice of a series to the next (read for every file;
# everything else comes from the first file).
_PER_SLICE_TAGS = ["RescaleSlope", "RescaleIntercept", "RescaleType", "ModalityLUTSequence",
                   "PixelRepresentation", "PhotometricInterpretation", "BitsStored"]

ProgressCallback = Callable[[int, int], None]


class CancelToken(Protocol):
    """Anything with ``is_set()``: a :class:`threading.Event`, a Qt-side flag..."""

    def is_set(self) -> bool: ...


class LoadCancelled(Exception):
    """The caller cancelled the load; nothing is returned."""


@dataclass(frozen=True)
class _Plan:
    header: InstanceHeader
    frames: tuple[int, ...]  # 0-based frame indices of this instance, in stack order
    offset: int  # index of the plan's first slice in the stack


def load_stack(
    headers: Sequence[InstanceHeader],
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> ImageStack:
    """Decode a series into one stack, ordered along the slice normal when geometry allows.

    Compressed single-frame files are decoded in parallel worker processes
    (:func:`imaging.isolation.decode_many`); uncompressed files and multi-frame
    files in chunks, in order. Raises :class:`DicomFileError` when no image of
    the series can be decoded, :class:`LoadCancelled` when ``cancel`` is set.
    """
    found: list[Warning_] = []
    images = [h for h in headers if h.is_image]
    for h in headers:
        if not h.is_image:
            found.append(Warning_(errors.NO_PIXEL_DATA, f"{h.path.name}: no image, skipped"))
    if not images:
        raise DicomFileError(errors.NO_PIXEL_DATA, "the series has no image to display",
                             headers[0].path if headers else None)
    ordered = sort_headers(images)
    first = ordered[0]
    plans: list[_Plan] = []
    offset = 0
    for h in ordered:
        if _shape_key(h) != _shape_key(first):
            found.append(Warning_("mixed_dimensions", f"{h.path.name}: {h.rows}x{h.columns} "
                                  f"{h.photometric} differs from the series' first image, "
                                  "left out"))
            continue
        frames = _frame_order(h)
        plans.append(_Plan(h, frames, offset))
        offset += len(frames)
    first_ds = _read_dataset(first.path)
    base = display_parameters(first_ds)
    loading = _Loading(plans, _allocate(offset, first, base.is_colour), base, found, progress)
    loading.overlay_planes[id(plans[0])] = _overlay_planes(first, found, first_ds)

    pooled = [p for p in plans if len(p.frames) == 1 and not _is_native(p.header)]
    if len(pooled) < 2:
        pooled = []
    by_path = {p.header.path: p for p in pooled}
    for plan in plans:
        if plan.header.path in by_path:
            continue
        if cancel is not None and cancel.is_set():
            raise LoadCancelled()
        try:
            for chunk in _chunks(plan):
                loading.place(plan, chunk, decode_frames(
                    plan.header.path, frames=_frames_arg(plan.header, chunk)))
        except DicomFileError as exc:
            loading.fail(plan, exc)
    if pooled:
        for path, result in decode_many(list(by_path), cancel=cancel.is_set if cancel else None):
            plan = by_path[path]
            if isinstance(result, DicomFileError):
                loading.fail(plan, result)
                continue
            try:
                loading.place(plan, plan.frames, result)
            except DicomFileError as exc:
                loading.fail(plan, exc)
    if cancel is not None and cancel.is_set():
        raise LoadCancelled()
    return loading.finish()


class _Loading:
    """The stack being filled: slots in final order, some of which may fail."""

    def __init__(self, plans: list[_Plan], values: np.ndarray, base: DisplayParameters,
                 found: list[Warning_], progress: ProgressCallback | None) -> None:
        self.plans, self.values, self.base, self.found = plans, values, base, found
        self.progress = progress
        self.slices: list[SliceInfo | None] = [None] * len(values)
        self.overlays: list[tuple[OverlayPlane, ...]] = [()] * len(values)
        # Overlay planes of each plan's file (all its frames), by plan id, read once.
        self.overlay_planes: dict[int, tuple[OverlayPlane, ...]] = {}
        self.loaded: set[int] = set()  # ids of plans fully placed
        self.failure: DicomFileError | None = None
        self.done = 0
        self._params: dict[int, DisplayParameters] = {}

    def params(self, plan: _Plan) -> DisplayParameters:
        if plan.offset == 0:
            return self.base
        if id(plan) not in self._params:
            self._params[id(plan)] = _slice_parameters(plan.header, self.base)
        return self._params[id(plan)]

    def planes(self, plan: _Plan) -> tuple[OverlayPlane, ...]:
        if id(plan) not in self.overlay_planes:
            self.overlay_planes[id(plan)] = _overlay_planes(plan.header, self.found)
        return self.overlay_planes[id(plan)]

    def place(self, plan: _Plan, chunk: Sequence[int], decoded: DecodedPixels) -> None:
        """Convert ``decoded`` (frames ``chunk`` of ``plan``) into the plan's slots."""
        self.found.extend(decoded.warnings)
        params = self.params(plan)
        if decoded.array.shape[0] != len(chunk):
            raise DicomFileError(errors.CORRUPT_PIXEL_DATA, f"{decoded.array.shape[0]} frame(s) "
                                 f"decoded, {len(chunk)} expected", plan.header.path)
        for k, frame in enumerate(chunk):
            slot = plan.offset + plan.frames.index(frame)
            self.values[slot] = _to_values(decoded.array[k], decoded.photometric, params, frame,
                                           plan.header.path)
            self.slices[slot] = _slice_info(plan.header, frame)
            self.overlays[slot] = _frame_planes(self.planes(plan), frame)
            self.done += 1
            if self.progress is not None:
                self.progress(self.done, len(self.values))

    def fail(self, plan: _Plan, exc: DicomFileError) -> None:
        error = exc if exc.path is not None else exc.with_path(plan.header.path)
        self.failure = self.failure or error
        self.found.append(Warning_(error.kind, str(error)))
        for slot in range(plan.offset, plan.offset + len(plan.frames)):
            self.slices[slot] = None
            self.overlays[slot] = ()

    def finish(self) -> ImageStack:
        """Close the gaps left by failed files (in place) and build the stack."""
        keep = [i for i, s in enumerate(self.slices) if s is not None]
        if not keep:
            raise self.failure or DicomFileError(
                errors.CORRUPT_PIXEL_DATA, "no image of the series could be decoded",
                self.plans[0].header.path if self.plans else None)
        for target, source in enumerate(keep):
            if target != source:
                self.values[target] = self.values[source]
        slices = tuple(s for s in self.slices if s is not None)
        overlays = tuple(self.overlays[i] for i in keep)
        used = [p.header for p in self.plans
                if self.slices[p.offset] is not None]
        return _stack(self.values[: len(keep)], slices, used, self.base, self.found,
                      overlays if any(overlays) else ())


def load_image(header: InstanceHeader, frame: int = 0) -> ImageStack:
    """One image (one frame) as a one-slice stack: the fast path to a first image."""
    if not 0 <= frame < header.number_of_frames:
        raise DicomFileError(errors.INVALID_ATTRIBUTE, f"frame {frame + 1} requested, the file "
                             f"has {header.number_of_frames}", header.path)
    ds = _read_dataset(header.path)
    params = display_parameters(ds)
    decoded = decode_frames(header.path, frames=_frames_arg(header, (frame,)))
    values = _allocate(1, header, params.is_colour)
    values[0] = _to_values(decoded.array[0], decoded.photometric, params, frame, header.path)
    found = list(decoded.warnings)
    planes = _frame_planes(_overlay_planes(header, found, ds), frame)
    return _stack(values, (_slice_info(header, frame),), [header], params, found,
                  (planes,) if planes else ())


# --------------------------------------------------------------------------- helpers


def _shape_key(h: InstanceHeader) -> tuple[int, int, bool]:
    return h.rows, h.columns, _is_colour_header(h)


def _is_colour_header(h: InstanceHeader) -> bool:
    return h.samples_per_pixel > 1 or h.photometric == PALETTE_COLOR


def _is_native(h: InstanceHeader) -> bool:
    return not h.transfer_syntax_uid or h.transfer_syntax_uid in NATIVE_SYNTAXES


def _frame_order(h: InstanceHeader) -> tuple[int, ...]:
    """Frames in stack order: along the slice normal when every frame has a position."""
    count = max(h.number_of_frames, 1)
    if len(h.frame_positions) != count or count < 2 or h.image_orientation is None:
        return tuple(range(count))
    row, col = np.asarray(h.image_orientation[:3]), np.asarray(h.image_orientation[3:])
    normal = np.cross(row, col)
    distance = np.asarray(h.frame_positions) @ normal
    return tuple(int(i) for i in np.argsort(distance, kind="stable"))


def _frames_arg(h: InstanceHeader, frames: Sequence[int]) -> list[int] | None:
    """None (all frames, the decoder's fastest path) when ``frames`` is the whole file in order."""
    return None if list(frames) == list(range(h.number_of_frames)) else list(frames)


def _chunks(plan: _Plan) -> list[tuple[int, ...]]:
    """``plan.frames`` cut into runs of at most ``_CHUNK_BYTES`` decoded bytes."""
    h = plan.header
    frame_bytes = max(h.rows * h.columns * max(h.samples_per_pixel, 1)
                      * max(h.bits_allocated, 8) // 8, 1)
    per_chunk = max(1, _CHUNK_BYTES // frame_bytes)
    return [plan.frames[i:i + per_chunk] for i in range(0, len(plan.frames), per_chunk)]


def _allocate(count: int, h: InstanceHeader, colour: bool) -> np.ndarray:
    shape = (count, h.rows, h.columns, 3) if colour else (count, h.rows, h.columns)
    try:
        return np.empty(shape, dtype=np.uint8 if colour else np.float32)
    except MemoryError:
        size = int(np.prod(shape)) * (1 if colour else 4)
        raise DicomFileError(errors.IMAGE_TOO_LARGE, f"the series needs {size / 2**30:.1f} GiB "
                             "of memory, more than is available", h.path) from None


def _to_values(stored: np.ndarray, photometric: str, params: DisplayParameters, frame: int,
               path: Path) -> np.ndarray:
    """One decoded frame → modality values (grey) or uint8 RGB (colour)."""
    if photometric.upper() == PALETTE_COLOR:
        try:
            return palette_to_rgb(stored, params)
        except ValueError as exc:
            raise DicomFileError(errors.INVALID_ATTRIBUTE, str(exc), path) from None
    if stored.ndim == 3:
        return rgb_to_uint8(stored, params.bits_stored)
    if params.is_colour:
        raise DicomFileError(errors.INVALID_ATTRIBUTE, f"{params.photometric} declared but "
                             "the pixels have one sample", path)
    return apply_modality_lut(stored, params.modality_lut_for(frame))


def _read_dataset(path: Path, tags: list[str] | list[int] | None = None) -> Dataset:
    try:
        return pydicom.dcmread(path, stop_before_pixels=True, force=True, specific_tags=tags)
    except Exception as exc:  # every parse failure is a file verdict, not a crash
        raise DicomFileError(errors.UNREADABLE, f"cannot read the header ({exc})", path) from exc


def _read_parameters(path: Path, *, full: bool) -> DisplayParameters:
    return display_parameters(_read_dataset(path, None if full else _PER_SLICE_TAGS))


def _slice_parameters(h: InstanceHeader, base: DisplayParameters) -> DisplayParameters:
    """The series' parameters, with this file's Modality LUT when it differs."""
    if h.number_of_frames > 1 or h.photometric == PALETTE_COLOR:
        return _read_parameters(h.path, full=True)  # per-frame groups / palettes: read it all
    own = _read_parameters(h.path, full=False)
    if own.modality_lut.same_as(base.modality_lut):
        return base
    return replace(base, modality_lut=own.modality_lut, frame_modality_luts=())


# Overlay attributes read from each overlay group (PS3.3 C.9.2).
_OVERLAY_ELEMENTS = (0x0010, 0x0011, 0x0015, 0x0022, 0x0040, 0x0050, 0x0051, 0x0100, 0x0102,
                     0x1500, 0x3000)


def _overlay_planes(h: InstanceHeader, found: list[Warning_], ds: Dataset | None = None
                    ) -> tuple[OverlayPlane, ...]:
    """The overlay planes of ``h``'s file; the file is read only when its header lists some.

    ``ds``: the file's dataset when the caller has already read it.
    """
    if not h.overlay_groups:
        return ()
    own: list[Warning_] = []
    try:
        if ds is None:
            tags = [0x00280010, 0x00280011, *(group << 16 | element for group in h.overlay_groups
                                              for element in _OVERLAY_ELEMENTS)]
            ds = _read_dataset(h.path, tags)
        planes = tuple(read_overlays(ds, own))
    except DicomFileError as exc:
        own.append(Warning_("invalid_overlay", f"overlays not read ({exc.message})"))
        planes = ()
    found.extend(Warning_(w.kind, f"{h.path.name}: {w.message}") for w in own)
    return planes


def _frame_planes(planes: Sequence[OverlayPlane], frame: int) -> tuple[OverlayPlane, ...]:
    """The planes over image ``frame``, each cut down to that frame's bitmap (a view, no copy)."""
    cut = []
    for plane in planes:
        index = frame - plane.first_frame
        if 0 <= index < plane.bitmaps.shape[0]:
            cut.append(replace(plane, bitmaps=plane.bitmaps[index:index + 1], first_frame=frame))
    return tuple(cut)


def _slice_info(h: InstanceHeader, frame: int) -> SliceInfo:
    if h.frame_positions and frame < len(h.frame_positions):
        position: tuple[float, float, float] | None = h.frame_positions[frame]
    else:
        position = h.image_position
    return SliceInfo(h.sop_instance_uid, frame, position, h.instance_number)


def _stack(values: np.ndarray, slices: tuple[SliceInfo, ...], used: list[InstanceHeader],
           params: DisplayParameters, found: list[Warning_],
           overlays: tuple[tuple[OverlayPlane, ...], ...] = ()) -> ImageStack:
    geometry = stack_geometry(used)
    origin = slices[0].position if slices[0].position is not None else geometry.origin
    return ImageStack(
        values=values,
        slices=slices,
        spacing=tuple(float(v) for v in geometry.spacing),  # type: ignore[arg-type]
        origin=tuple(float(v) for v in origin),  # type: ignore[arg-type]
        direction=np.asarray(geometry.direction, dtype=np.float64),
        header=used[0],
        is_colour=params.is_colour,
        spacing_calibrated=geometry.calibrated,
        spacing_source=geometry.spacing_source,
        windows=params.windows,
        invert=params.invert,
        warnings=tuple(dedupe_warnings([*params.warnings, *found])),
        overlays=overlays,
    )
