"""List the files a DICOMDIR (the index of a CD/DVD or USB export) refers to.

The records are read flat: every record with a Referenced File ID counts,
whatever the state of the offsets that chain them into patient → study →
series → image. Damage (missing or dangling offsets, unknown record types,
listed files that are not there) becomes a warning, and ``damaged`` tells the
caller to walk the folder as well rather than trust the index.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pydicom
import pydicom.fileset
from pydicom.dataset import Dataset

from imaging.errors import Warning_
from imaging.header import DICOMDIR_SOP_CLASS, capture_pydicom_warnings

MISSING_DIRECTORY_OFFSETS = "missing_directory_offsets"
INVALID_DIRECTORY_RECORD = "invalid_directory_record"
MISSING_REFERENCED_FILE = "missing_referenced_file"
UNREADABLE_DICOMDIR = "unreadable_dicomdir"

# Record types of the current standard plus retired and private ones still found on media.
_RECORD_TYPES = set(pydicom.fileset.DIRECTORY_RECORDERS) | {
    "PRIVATE", "TOPIC", "VISIT", "RESULTS", "INTERPRETATION", "STUDY COMPONENT",
    "STORED PRINT", "OVERLAY", "MODALITY LUT", "VOI LUT", "CURVE", "HL7 STRUC DOC", "MRDR",
}
_RECORD_OFFSETS = ("OffsetOfTheNextDirectoryRecord",
                   "OffsetOfReferencedLowerLevelDirectoryEntity")
_ROOT_OFFSETS = ("OffsetOfTheFirstDirectoryRecordOfTheRootDirectoryEntity",
                 "OffsetOfTheLastDirectoryRecordOfTheRootDirectoryEntity")


@dataclass(frozen=True)
class DicomdirContents:
    """Files listed by one DICOMDIR (those that exist), and what is wrong with it."""

    path: Path
    files: tuple[Path, ...]
    warnings: tuple[Warning_, ...] = field(default=())

    @property
    def damaged(self) -> bool:
        return bool(self.warnings)


def looks_like_dicomdir(path: Path) -> bool:
    """Cheap name test used while walking folders (the content is checked on reading)."""
    return path.name.upper().startswith("DICOMDIR")


def read_dicomdir(path: Path) -> DicomdirContents | None:
    """The referenced files of ``path``; None when it is not a DICOMDIR at all."""
    found: list[Warning_] = []
    with capture_pydicom_warnings(found):
        try:
            ds = pydicom.dcmread(path, force=True)
            if not _is_dicomdir(ds):
                return None
            records = list(ds.DirectoryRecordSequence)
        except Exception as exc:
            return DicomdirContents(path, (), (Warning_(
                UNREADABLE_DICOMDIR, f"DICOMDIR cannot be read ({exc}); the folder is searched "
                                     "instead"),))
        problems = _offset_problems(ds, records) + _record_type_problems(records)
        files, missing = _referenced_files(path.parent, records)
    if missing:
        problems.append(Warning_(
            MISSING_REFERENCED_FILE,
            f"{len(missing)} file(s) listed in the DICOMDIR are missing (e.g. {missing[0]})"))
    return DicomdirContents(path, tuple(files), tuple(problems))


def _is_dicomdir(ds: Dataset) -> bool:
    sop = str(ds.file_meta.get("MediaStorageSOPClassUID", "")) if ds.file_meta else ""
    return sop == DICOMDIR_SOP_CLASS or "DirectoryRecordSequence" in ds


def _offset_problems(ds: Dataset, records: list[Dataset]) -> list[Warning_]:
    """Absent offsets, or offsets that point at no record."""
    absent = sum(1 for r in records for kw in _RECORD_OFFSETS if kw not in r)
    absent += sum(1 for kw in _ROOT_OFFSETS if kw not in ds) if records else 0
    problems = []
    if absent:
        problems.append(Warning_(
            MISSING_DIRECTORY_OFFSETS,
            f"DICOMDIR has {absent} missing record offset(s): its patient/study/series tree "
            "cannot be trusted; the listed files and the folder are read instead"))
    starts = {getattr(r, "seq_item_tell", None) for r in records}
    dangling = 0
    for holder in [ds, *records]:
        for kw in (*_RECORD_OFFSETS, *_ROOT_OFFSETS):
            offset = holder.get(kw)
            if isinstance(offset, int) and offset and offset not in starts:
                dangling += 1
    if dangling:
        problems.append(Warning_(
            INVALID_DIRECTORY_RECORD,
            f"DICOMDIR has {dangling} offset(s) pointing at no record; the folder is read "
            "instead"))
    return problems


def _record_type_problems(records: list[Dataset]) -> list[Warning_]:
    unknown = sorted({str(r.get("DirectoryRecordType", "")) for r in records}
                     - _RECORD_TYPES)
    if not unknown:
        return []
    count = sum(1 for r in records if str(r.get("DirectoryRecordType", "")) in unknown)
    return [Warning_(
        INVALID_DIRECTORY_RECORD,
        f"DICOMDIR has {count} record(s) of unknown type ({', '.join(repr(u) for u in unknown)}); "
        "the folder is read instead")]


def _referenced_files(root: Path, records: list[Dataset]) -> tuple[list[Path], list[str]]:
    files: list[Path] = []
    missing: list[str] = []
    for record in records:
        file_id = record.get("ReferencedFileID")
        if not file_id:
            continue
        parts = [file_id] if isinstance(file_id, str) else [str(p) for p in file_id]
        if any(not p or p in (".", "..") or "/" in p or "\\" in p for p in parts):
            missing.append("\\".join(parts))  # never follow a path out of the medium
            continue
        resolved = _resolve(root, parts)
        if resolved is None:
            missing.append("/".join(parts))
        else:
            files.append(resolved)
    return files, missing


def _resolve(root: Path, parts: list[str]) -> Path | None:
    """``root/parts`` as written, else matched case-insensitively (CDs are upper-case,
    some systems mount them lower-case)."""
    direct = root.joinpath(*parts)
    if direct.is_file():
        return direct
    current = root
    for part in parts:
        try:
            names = {name.upper(): name for name in os.listdir(current)}
        except OSError:
            return None
        name = names.get(part.upper())
        if name is None:
            return None
        current = current / name
    return current if current.is_file() else None
