"""Find the DICOM files under the paths a user gives, read their headers and group them.

Discovery never decodes pixels and never stops on a bad file: every file gets a
:class:`FileVerdict` (ok, or an error with its kind and a sentence), and the
readable ones are grouped into patients → studies → series.
"""

from __future__ import annotations

import os
import stat
import struct
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Literal, Protocol

from imaging import errors
from imaging.dicomdir import looks_like_dicomdir, read_dicomdir
from imaging.errors import DicomFileError, Warning_
from imaging.header import PREAMBLE_AND_PREFIX, InstanceHeader, read_header
from imaging.series import PatientGroup, SeriesCandidate, group_patients, group_series

# Names that always get a verdict when met in a folder, even if they turn out not
# to be DICOM: the user expects them to be images.
_DICOM_SUFFIXES = {".dcm", ".dicom", ".dic", ".ima"}
# Operating-system clutter, never medical data.
_SYSTEM_NAMES = {"thumbs.db", "desktop.ini", "__macosx", "$recycle.bin",
                 "system volume information"}
# First data element groups a file without preamble may start with (File Meta,
# directory, identification), in little or big endian.
_FIRST_GROUPS = {0x0002, 0x0004, 0x0008}


class _Cancel(Protocol):
    def is_set(self) -> bool: ...


Progress = Callable[[int, int, Path], None]
Cancel = Callable[[], bool] | _Cancel


@dataclass(frozen=True)
class FileVerdict:
    """What discovery concluded about one file."""

    path: Path
    status: Literal["ok", "error"]
    kind: str = ""  # error kind (errors.NOT_DICOM...); "" when ok
    message: str = ""
    header: InstanceHeader | None = None
    warnings: tuple[Warning_, ...] = field(default=())


@dataclass(frozen=True)
class DiscoveryReport:
    """Every file's verdict and the series found, in a deterministic order."""

    files: list[FileVerdict]
    series: list[SeriesCandidate]
    cancelled: bool = False
    elapsed_s: float = 0.0

    @property
    def errors(self) -> list[FileVerdict]:
        return [f for f in self.files if f.status == "error"]

    @property
    def headers(self) -> list[InstanceHeader]:
        return [f.header for f in self.files if f.header is not None]

    @cached_property
    def patients(self) -> list[PatientGroup]:
        """Patients → studies → series, for the study browser."""
        return group_patients(self.series)


def iter_files(paths: Iterable[Path | str]) -> Iterator[Path]:
    """Files to read under ``paths``: folders walked in sorted order, DICOMDIRs expanded,
    hidden and system files skipped, each file once (even if reached twice)."""
    return _Walker().walk(paths)


def discover(
    paths: Iterable[Path | str],
    *,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> DiscoveryReport:
    """Read the header of every file under ``paths`` and group the results.

    ``progress(done, total, path)`` is called after each file; ``cancel`` (a
    callable returning True, or a ``threading.Event``) stops the reading early:
    the report then covers the files read so far and says ``cancelled``.
    """
    start = time.perf_counter()
    walker = _Walker()
    files = list(walker.walk(paths))
    verdicts = [FileVerdict(p, "error", errors.UNREADABLE, why) for p, why in walker.unreadable]
    cancelled = False
    for done, path in enumerate(files, start=1):
        if cancel is not None and _is_cancelled(cancel):
            cancelled = True
            break
        verdicts.append(_verdict(path, walker.dicomdir_warnings.get(path, ())))
        if progress is not None:
            progress(done, len(files), path)
    series = group_series(v.header for v in verdicts if v.header is not None)
    return DiscoveryReport(verdicts, series, cancelled, time.perf_counter() - start)


def _verdict(path: Path, extra: Iterable[Warning_]) -> FileVerdict:
    try:
        header = read_header(path)
    except DicomFileError as exc:
        return FileVerdict(path, "error", exc.kind, exc.message)
    except Exception as exc:  # a reader bug must cost one file, not the import
        return FileVerdict(path, "error", errors.UNREADABLE,
                           f"unexpected error while reading the header ({exc!r})")
    return FileVerdict(path, "ok", header=header, warnings=(*header.warnings, *extra))


def _is_cancelled(cancel: Cancel) -> bool:
    is_set = getattr(cancel, "is_set", None)
    return bool(is_set()) if callable(is_set) else bool(cancel())  # type: ignore[operator]


class _Walker:
    """One walk over the user's paths; remembers what it could not read and
    what was wrong with the DICOMDIRs it expanded."""

    def __init__(self) -> None:
        self.unreadable: list[tuple[Path, str]] = []
        self.dicomdir_warnings: dict[Path, tuple[Warning_, ...]] = {}
        self._seen: set[tuple[int, int] | str] = set()
        self._walked: set[tuple[int, int] | str] = set()

    def walk(self, paths: Iterable[Path | str]) -> Iterator[Path]:
        for given in paths:
            path = Path(given)
            try:
                info = path.stat()
            except OSError as exc:
                self.unreadable.append((path, _os_reason(exc, "cannot open")))
                continue
            if stat.S_ISDIR(info.st_mode):
                yield from self._folder(path)
            else:
                yield from self._file(path, info, explicit=True)

    def _folder(self, folder: Path) -> Iterator[Path]:
        key = _identity(folder)
        if key in self._walked:
            return
        self._walked.add(key)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            self.unreadable.append((folder, _os_reason(exc, "cannot list folder")))
            return
        for entry in entries:
            if _skipped_name(entry.name):
                continue
            path = Path(entry.path)
            try:
                if entry.is_dir(follow_symlinks=False):
                    yield from self._folder(path)
                elif entry.is_file():
                    yield from self._file(path, entry.stat(), explicit=False)
            except OSError as exc:
                self.unreadable.append((path, _os_reason(exc, "cannot open")))

    def _file(self, path: Path, info: os.stat_result, *, explicit: bool) -> Iterator[Path]:
        key = (info.st_dev, info.st_ino) if info.st_ino else str(path.resolve())
        if key in self._seen:
            return
        if not explicit and not _worth_reading(path, info.st_size):
            return
        self._seen.add(key)
        yield path
        if looks_like_dicomdir(path):
            yield from self._dicomdir(path)

    def _dicomdir(self, path: Path) -> Iterator[Path]:
        contents = read_dicomdir(path)
        if contents is None:
            return
        self.dicomdir_warnings[path] = contents.warnings
        for referenced in contents.files:
            try:
                yield from self._file(referenced, referenced.stat(), explicit=True)
            except OSError as exc:
                self.unreadable.append((referenced, _os_reason(exc, "cannot open")))
        if contents.damaged:
            yield from self._folder(path.parent)


def _identity(path: Path) -> tuple[int, int] | str:
    try:
        info = path.stat()
    except OSError:
        return str(path)
    return (info.st_dev, info.st_ino) if info.st_ino else str(path.resolve())


def _skipped_name(name: str) -> bool:
    return name.startswith(".") or name.lower() in _SYSTEM_NAMES


def _worth_reading(path: Path, size: int) -> bool:
    """In a folder walk: DICOM-named files always; anything else only if its first bytes
    look like DICOM (preamble + 'DICM', or a plausible first data element)."""
    if path.suffix.lower() in _DICOM_SUFFIXES or looks_like_dicomdir(path):
        return True
    if size < 8:
        return False
    try:
        with path.open("rb") as fp:
            head = fp.read(PREAMBLE_AND_PREFIX)
    except OSError:
        return True  # let the header reader report why it cannot be read
    return _looks_like_dicom(head)


def _looks_like_dicom(head: bytes) -> bool:
    if len(head) >= PREAMBLE_AND_PREFIX and head[128:132] == b"DICM":
        return True
    for endian in "<>":
        group, element = struct.unpack(endian + "HH", head[:4])
        if group not in _FIRST_GROUPS or element > 0x0100:
            continue
        vr = head[4:6]
        if vr.isalpha() and vr.isupper():
            return True  # explicit VR
        (length,) = struct.unpack(endian + "L", head[4:8])
        if endian == "<" and length < 0x10000:
            return True  # implicit VR little endian, sensible first length
    return False


def _os_reason(exc: OSError, what: str) -> str:
    return f"{what} ({exc.strerror or exc})"
