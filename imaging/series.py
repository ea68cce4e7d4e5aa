"""Group instance headers into series a radiologist can open, and say what is odd about each.

A DICOM series (one SeriesInstanceUID) is not always one stack of images: it may
mix localizers with the acquisition, two orientations, several time points at
the same positions or images of different sizes. :func:`group_series` splits
such series into :class:`SeriesCandidate` parts and attaches readable warnings
(missing slices, gantry tilt, duplicate positions...) before anyone builds a
volume from them. :func:`group_patients` arranges the result for the study browser.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import pairwise

import numpy as np

from imaging.errors import Warning_
from imaging.geometry import (
    StackGeometry,
    same_orientation,
    slice_normal,
    slice_positions,
    sort_headers,
    stack_geometry,
    steps_along,
    tilt_angle,
)
from imaging.header import InstanceHeader

# Warning kinds (shared vocabulary with the CLI, the GUI and the tests).
GANTRY_TILT = "gantry_tilt"
NOT_A_VOLUME = "not_a_volume"
TOO_FEW_SLICES = "too_few_slices"
INCONSISTENT_SLICE_INCREMENT = "inconsistent_slice_increment"
INCONSISTENT_ORIENTATION = "inconsistent_orientation"
LOCALIZER = "localizer"
MULTIPLE_ACQUISITIONS_4D = "multiple_acquisitions_4d"
NO_PIXEL_DATA = "no_pixel_data"
MIXED_DIMENSIONS = "mixed_dimensions"
DUPLICATE_INSTANCES = "duplicate_instances"

# Modalities whose series are meant to be stacks of parallel slices. Projection
# images (CR, DX, MG, XA...), ultrasound and photographs are never volumes.
_CROSS_SECTIONAL = {"CT", "MR", "PT", "NM"}
_LOCALIZER_WORDS = re.compile(r"LOCALI[ZS]ER|SCOUT|TOPOGRAM|SURVIEW|SCANOGRAM|PILOT|SURVEY")

MIN_VOLUME_SLICES = 3
_POSITION_TOLERANCE_MM = 0.05  # two slices closer than this along the normal are at one position
_MAX_TILT_DEGREES = 0.5  # more than this between normal and slice travel is a gantry tilt
_SPACING_TOLERANCE = 0.1  # relative deviation from the median step


@dataclass(frozen=True)
class SeriesCandidate:
    """One openable stack: a whole series, or one part of a series that had to be split.

    ``instances`` are sorted with :func:`imaging.geometry.sort_headers`.
    ``part``/``parts`` number the pieces of a split series (1-based; 0 and 1
    when it was not split) and ``part_label`` says what the piece is.
    ``is_volume``: at least three slices at distinct positions in one
    orientation (a volume can be built; ``warnings`` say how regular it is).
    """

    series_instance_uid: str
    study_instance_uid: str
    patient_id: str
    modality: str
    description: str
    number: int | None
    instances: tuple[InstanceHeader, ...]
    warnings: tuple[Warning_, ...] = field(default=())
    part: int = 0
    parts: int = 1
    part_label: str = ""
    is_volume: bool = False

    @property
    def key(self) -> str:
        """Unique among the candidates of one discovery (the UID alone is not, once split,
        nor for files without a Series Instance UID)."""
        base = self.series_instance_uid or f"file:{self.first.path}"
        return base if self.part == 0 else f"{base}#{self.part}"

    @property
    def first(self) -> InstanceHeader:
        return self.instances[0]

    @property
    def rows(self) -> int:
        return self.first.rows

    @property
    def columns(self) -> int:
        return self.first.columns

    @property
    def image_count(self) -> int:
        """Number of 2-D images (frames of multi-frame instances count one by one)."""
        return sum(h.number_of_frames for h in self.instances if h.is_image)

    @property
    def has_images(self) -> bool:
        return any(h.is_image for h in self.instances)

    @cached_property
    def geometry(self) -> StackGeometry | None:
        """Grid of the images in stack order; None for a series without images."""
        return stack_geometry(self.instances) if self.has_images else None

    @property
    def spacing(self) -> tuple[float, float, float] | None:
        """(x, y, z) spacing in mm (see :class:`StackGeometry` for when it is uncalibrated)."""
        return self.geometry.spacing if self.geometry is not None else None


@dataclass(frozen=True)
class StudyGroup:
    """One study of the browser: its identification and its series, by series number."""

    study_instance_uid: str
    study_date: str
    study_time: str
    description: str
    accession_number: str
    series: tuple[SeriesCandidate, ...]

    @property
    def modalities(self) -> tuple[str, ...]:
        return tuple(sorted({s.modality for s in self.series if s.modality}))

    @property
    def image_count(self) -> int:
        return sum(s.image_count for s in self.series)


@dataclass(frozen=True)
class PatientGroup:
    """One patient of the browser with their studies, newest first."""

    patient_id: str
    patient_name: str
    birth_date: str
    sex: str
    studies: tuple[StudyGroup, ...]


def group_series(headers: Iterable[InstanceHeader]) -> list[SeriesCandidate]:
    """Series candidates of ``headers`` (DICOMDIR files are ignored), in a stable order:
    patient, study date, study, series number, series UID, part."""
    buckets: dict[str, list[InstanceHeader]] = defaultdict(list)
    for header in headers:
        if not header.is_dicomdir:
            buckets[_series_key(header)].append(header)
    candidates: list[SeriesCandidate] = []
    for members in buckets.values():
        candidates.extend(_candidates_for_series(members))
    candidates.sort(key=lambda c: (c.patient_id, c.first.study_date, c.study_instance_uid,
                                   c.number if c.number is not None else 1 << 30,
                                   c.series_instance_uid, c.part))
    return candidates


def group_patients(series: Iterable[SeriesCandidate]) -> list[PatientGroup]:
    """Patients → studies → series for the study browser."""
    by_patient: dict[tuple[str, str], dict[str, list[SeriesCandidate]]] = defaultdict(
        lambda: defaultdict(list))
    for s in series:
        by_patient[(s.patient_id, s.first.patient_name)][s.study_instance_uid].append(s)
    patients = []
    for (patient_id, name), studies in sorted(by_patient.items()):
        groups = []
        for study_uid, members in studies.items():
            members.sort(key=lambda c: (c.number if c.number is not None else 1 << 30,
                                        c.series_instance_uid, c.part))
            h = members[0].first
            groups.append(StudyGroup(study_uid, h.study_date, h.study_time, h.study_description,
                                     h.accession_number, tuple(members)))
        groups.sort(key=lambda g: (g.study_date, g.study_time, g.study_instance_uid),
                    reverse=True)
        h = groups[0].series[0].first
        patients.append(PatientGroup(patient_id, name, h.patient_birth_date, h.patient_sex,
                                     tuple(groups)))
    return patients


# --- splitting one series ---------------------------------------------------------------

@dataclass
class _Part:
    instances: list[InstanceHeader]
    warnings: list[Warning_] = field(default_factory=list)
    label: str = ""
    is_volume: bool = False


def _series_key(h: InstanceHeader) -> str:
    if h.series_instance_uid:
        return h.series_instance_uid
    # No UID: nothing says which images belong together, so each file stands alone.
    return f"?{h.path}"


def _candidates_for_series(members: list[InstanceHeader]) -> list[SeriesCandidate]:
    unique, duplicate_warning = _drop_duplicate_instances(members)
    images = [h for h in unique if h.is_image]
    documents = [h for h in unique if not h.is_image]
    parts: list[_Part] = []
    if documents:
        what = documents[0].modality or "non-image object"
        parts.append(_Part(documents, [Warning_(
            NO_PIXEL_DATA, f"{len(documents)} object(s) without images ({what}): nothing to "
                           "display")], label="" if not images else "objects without images"))
    if images:
        parts.extend(_split_by_dimensions(images))
    if duplicate_warning is not None:
        for part in parts:
            part.warnings.insert(0, duplicate_warning)
    first = members[0]
    split = len(parts) > 1
    return [
        SeriesCandidate(
            series_instance_uid=first.series_instance_uid,
            study_instance_uid=first.study_instance_uid,
            patient_id=first.patient_id,
            modality=first.modality,
            description=first.series_description,
            number=first.series_number,
            instances=tuple(part.instances),
            warnings=tuple(part.warnings),
            part=index if split else 0,
            parts=len(parts),
            part_label=part.label,
            is_volume=part.is_volume,
        )
        for index, part in enumerate(parts, start=1)
    ]


def _drop_duplicate_instances(
    members: list[InstanceHeader],
) -> tuple[list[InstanceHeader], Warning_ | None]:
    """Files with the same SOP Instance UID are copies of one image: keep the cleanest."""
    by_uid: dict[str, list[InstanceHeader]] = defaultdict(list)
    unique: list[InstanceHeader] = []
    for h in members:
        if h.sop_instance_uid:
            by_uid[h.sop_instance_uid].append(h)
        else:
            unique.append(h)
    dropped = 0
    for copies in by_uid.values():
        copies.sort(key=lambda h: (len(h.warnings), str(h.path)))
        unique.append(copies[0])
        dropped += len(copies) - 1
    if not dropped:
        return unique, None
    return unique, Warning_(DUPLICATE_INSTANCES,
                            f"{dropped} file(s) are copies of images already in this series "
                            "(same SOP Instance UID): each image is shown once")


def _split_by_dimensions(images: list[InstanceHeader]) -> list[_Part]:
    by_size: dict[tuple[int, int], list[InstanceHeader]] = defaultdict(list)
    for h in images:
        by_size[(h.rows, h.columns)].append(h)
    if len(by_size) == 1:
        return _split_stack(images)
    sizes = ", ".join(f"{c}×{r}" for r, c in by_size)
    parts = []
    for (rows, cols), group in by_size.items():
        for part in _split_stack(group):
            part.warnings.insert(0, Warning_(
                MIXED_DIMENSIONS, f"this series holds images of {len(by_size)} sizes ({sizes}); "
                                  f"the {cols}×{rows} images are shown as a separate stack"))
            part.label = " — ".join(x for x in (f"{cols}×{rows}", part.label) if x)
            parts.append(part)
    return parts


def _split_stack(images: list[InstanceHeader]) -> list[_Part]:
    """Localizers out, multi-frame objects apart, then geometry checks."""
    parts: list[_Part] = []
    localizers = [h for h in images if _is_localizer(h)]
    if localizers:
        parts.append(_Part(sort_headers(localizers), [Warning_(
            LOCALIZER, "localizer (scout) images: they plan the acquisition and are not "
                       "part of a volume")], label="localizer" if len(localizers) < len(images)
            else ""))
    rest = [h for h in images if not _is_localizer(h)]
    multi_frame = [h for h in rest if h.number_of_frames > 1]
    if len(rest) > 1 and multi_frame:
        # Each multi-frame object is a stack of its own (cine loop, enhanced volume).
        parts.extend(_check_geometry([h]) for h in multi_frame)
        rest = [h for h in rest if h.number_of_frames == 1]
    if rest:
        parts.extend(_split_orientations(rest))
    return parts


def _is_localizer(h: InstanceHeader) -> bool:
    if any(t.upper() == "LOCALIZER" for t in h.image_type):
        return True
    return bool(_LOCALIZER_WORDS.search(h.series_description.upper()))


def _is_cross_sectional(images: Sequence[InstanceHeader]) -> bool:
    """Slices meant to be stacked: CT/MR/PET/NM with a position and an orientation."""
    return all(
        h.modality in _CROSS_SECTIONAL
        and h.image_orientation is not None
        and (h.image_position is not None or h.frame_positions)
        and not any(t.upper() == "PROJECTION IMAGE" for t in h.image_type)
        for h in images)


def _split_orientations(images: list[InstanceHeader]) -> list[_Part]:
    if not _is_cross_sectional(images):
        return [_Part(sort_headers(images))]
    clusters: list[list[InstanceHeader]] = []
    for h in images:
        for cluster in clusters:
            if same_orientation(cluster[0].image_orientation or (), h.image_orientation or ()):
                cluster.append(h)
                break
        else:
            clusters.append([h])
    if len(clusters) == 1:
        return _split_time_points(images)
    names = [_plane_name(c[0].image_orientation or ()) for c in clusters]
    parts = []
    for cluster, name in zip(clusters, names, strict=True):
        for part in _split_time_points(cluster):
            part.warnings.insert(0, Warning_(
                INCONSISTENT_ORIENTATION,
                f"this series mixes {len(clusters)} slice orientations ({', '.join(names)}): "
                f"each orientation is shown as its own stack; this one is {name} "
                f"({len(cluster)} image(s))"))
            part.label = " — ".join(x for x in (name, part.label) if x)
            parts.append(part)
    return parts


def _plane_name(orientation: Sequence[float]) -> str:
    normal = np.abs(slice_normal(orientation))
    axis = int(np.argmax(normal))
    name = ("sagittal", "coronal", "axial")[axis]
    return name if normal[axis] > 0.9 else f"oblique {name}"


# Attributes that tell apart several images at one position, most specific first.
_TIME_KEYS: tuple[tuple[str, str, Callable[[InstanceHeader], float | None]], ...] = (
    ("temporal position", "Temporal Position Identifier", lambda h: h.temporal_position),
    ("trigger time", "Trigger Time", lambda h: h.trigger_time),
    ("echo", "Echo Numbers", lambda h: h.echo_number),
    ("acquisition", "Acquisition Number", lambda h: h.acquisition_number),
)


def _split_time_points(images: list[InstanceHeader]) -> list[_Part]:
    """Several images per position: a 4-D series split by time point, or not a volume."""
    ordered = sort_headers(images)
    normal = slice_normal(ordered[0].image_orientation or ())
    if len(ordered) == 1 and ordered[0].frame_positions:
        return [_check_geometry(ordered)]
    distinct = _distinct_positions(ordered, normal)
    if distinct == len(ordered):
        return [_check_geometry(ordered)]
    if distinct > 1:
        for label, attribute, value in _TIME_KEYS:
            groups: dict[float | None, list[InstanceHeader]] = defaultdict(list)
            for h in ordered:
                groups[value(h)].append(h)
            if len(groups) < 2 or None in groups:
                continue
            if all(_distinct_positions(g, normal) == len(g) == distinct
                   for g in groups.values()):
                return _time_parts(groups, label, attribute, distinct)
    depth = slice_positions(ordered)[0] @ normal
    if distinct == 1:
        message = (f"all {len(ordered)} images lie at the same position ({depth:.1f} mm along "
                   "the slice normal): repeated images of one slice, not a volume")
    else:
        message = (f"{len(ordered)} images at only {distinct} distinct positions, and nothing "
                   "(time point, echo, acquisition) tells the repeats apart: not one volume")
    return [_Part(ordered, [Warning_(NOT_A_VOLUME, message)])]


def _time_parts(groups: dict[float | None, list[InstanceHeader]], label: str, attribute: str,
                distinct: int) -> list[_Part]:
    keys = sorted(groups, key=lambda k: k or 0.0)
    parts = []
    for key in keys:
        part = _check_geometry(sort_headers(groups[key]))
        part.warnings.insert(0, Warning_(
            MULTIPLE_ACQUISITIONS_4D,
            f"this series repeats the same {distinct} positions {len(keys)} times ({attribute} "
            f"differs): each {label} is shown as its own stack; this one is {label} {key}"))
        part.label = f"{label} {key}"
        parts.append(part)
    return parts


def _distinct_positions(images: Sequence[InstanceHeader], normal: np.ndarray) -> int:
    depths = sorted(float(np.dot(p, normal)) for p in slice_positions(images))
    if not depths:
        return 0
    return 1 + sum(b - a > _POSITION_TOLERANCE_MM for a, b in pairwise(depths))


def _check_geometry(ordered: list[InstanceHeader]) -> _Part:
    """Volume checks on one orientation, one image per position, already sorted."""
    part = _Part(ordered)
    if not _is_cross_sectional(ordered):
        return part
    positions = slice_positions(ordered)
    if len(positions) < 2:
        return part
    normal = slice_normal(ordered[0].image_orientation or ())
    if len(ordered) == 1:  # enhanced multi-frame: frames in stored order
        depths = np.sort(np.asarray(positions, float) @ normal)
        steps = np.diff(depths)
        if np.any(steps <= _POSITION_TOLERANCE_MM):
            part.warnings.append(Warning_(
                NOT_A_VOLUME, "several frames of this object lie at the same position: "
                              "not one volume"))
            return part
    else:
        steps = np.abs(steps_along(positions, normal))
    count = len(positions)
    if count < MIN_VOLUME_SLICES:
        part.warnings.append(Warning_(
            TOO_FEW_SLICES, f"only {count} slices: shown as separate images; a volume "
                            f"(MPR, 3-D) needs at least {MIN_VOLUME_SLICES}"))
    else:
        part.is_volume = True
        uneven = _uneven_spacing(steps, _depths(positions, normal))
        if uneven:
            part.warnings.append(Warning_(INCONSISTENT_SLICE_INCREMENT, uneven))
    tilt = tilt_angle(sorted(positions, key=lambda p: float(np.dot(p, normal))), normal)
    if tilt > _MAX_TILT_DEGREES:
        part.warnings.append(Warning_(
            GANTRY_TILT, f"slices are stacked at {tilt:.1f}° from their perpendicular "
                         "(gantry tilt): a volume built as is would be sheared"))
    return part


def _depths(positions: Sequence[Sequence[float]], normal: np.ndarray) -> np.ndarray:
    """Sorted distances of the slices along the normal (mm)."""
    return np.sort(np.asarray(positions, float) @ normal)


def _uneven_spacing(steps: np.ndarray, depths: np.ndarray) -> str:
    """A sentence describing irregular slice steps, or "" when they are regular."""
    median = float(np.median(steps))
    tolerance = max(_SPACING_TOLERANCE * median, _POSITION_TOLERANCE_MM)
    odd = np.flatnonzero(np.abs(steps - median) > tolerance)
    if odd.size == 0:
        return ""
    big = [i for i in odd if steps[i] > 1.5 * median]
    if big and len(big) == odd.size:
        gaps = "; ".join(
            f"about {round(steps[i] / median) - 1} missing between "
            f"{depths[i]:.1f} and {depths[i + 1]:.1f} mm" for i in big[:3])
        return (f"slices are {median:.2f} mm apart except where slices are missing ({gaps}): "
                "distances across the gap are wrong in a volume")
    return (f"uneven slice spacing ({float(steps.min()):.2f} to {float(steps.max()):.2f} mm, "
            f"usually {median:.2f} mm): a volume built from it is distorted")
