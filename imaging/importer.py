"""Import files and folders into the study database, referenced in place or copied into storage.

Import is incremental (a file whose path, size and mtime are already known is
skipped without being read) and crash-safe: the database is written in batches
(``batch_files`` files or ``batch_seconds``, whichever comes first), each one
transaction, so a killed import keeps what it committed and the next import
completes the rest. Copies are written to a temporary name, flushed and
size-checked, then renamed (``os.replace``): a final name never holds half a
file. Source files are only ever read.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from imaging import errors
from imaging.db import FileStamp, InstanceKeys, StudyDatabase, WriteBatch, instance_keys
from imaging.discover import iter_files
from imaging.errors import DicomFileError
from imaging.header import InstanceHeader, read_header

COPY_FAILED = "copy_failed"
DUPLICATE_INSTANCE = "duplicate_instance"
MISSING_UID = "missing_uid"
INCOMING_DIR = ".incoming"  # temporary copies, inside storage (same file system as the targets)
_STALE_PART_SECONDS = 3600
_SAFE_NAME = re.compile(r"[0-9A-Za-z._-]{1,64}")

ProgressCallback = Callable[[int, int | None, Path | None], None]


class CancelFlag(Protocol):
    """Anything with ``is_set()``: ``threading.Event``, a GUI worker's flag..."""

    def is_set(self) -> bool: ...


@dataclass(frozen=True)
class ImportIssue:
    """A file-level problem found by an import: which file, what kind, a readable sentence."""

    path: Path
    kind: str
    message: str


@dataclass
class ImportReport:
    """What one import did. Counts are of files yielded by discovery.

    ``found = new + skipped_unchanged + duplicates + ignored + len(errors)``
    (fewer when cancelled). ``new`` counts files read and filed, including files
    that changed since the last import.
    """

    found: int = 0
    new: int = 0
    skipped_unchanged: int = 0
    duplicates: int = 0
    ignored: int = 0  # readable DICOM that is not an instance to show (DICOMDIR)
    errors: list[ImportIssue] = field(default_factory=list)
    warnings: list[ImportIssue] = field(default_factory=list)
    studies: set[str] = field(default_factory=set)
    series: set[str] = field(default_factory=set)
    elapsed_s: float = 0.0
    cancelled: bool = False

    @property
    def processed(self) -> int:
        return self.new + self.skipped_unchanged + self.duplicates + self.ignored + len(
            self.errors)


def import_paths(
    db: StudyDatabase,
    paths: Iterable[Path | str],
    *,
    copy: bool = False,
    progress: ProgressCallback | None = None,
    cancel: CancelFlag | None = None,
    batch_files: int = 200,
    batch_seconds: float = 1.0,
) -> ImportReport:
    """Import the DICOM files under ``paths`` (files, folders, DICOMDIRs) into ``db``.

    ``copy`` copies each new instance to ``<storage>/<StudyUID>/<SeriesUID>/<SOPUID>.dcm``
    (what a CD import needs); otherwise files are referenced where they are.
    ``progress(done, total, path)`` is called after each file; ``cancel.is_set()``
    is checked before each file, and a cancelled import keeps what it did.
    """
    started = time.monotonic()
    report = ImportReport()
    files: list[Path] = []
    for path in iter_files([Path(p) for p in paths]):
        if cancel is not None and cancel.is_set():
            report.cancelled = True
            break
        files.append(path)
    report.found = len(files)
    if copy:
        _remove_stale_parts(db.storage_dir / INCOMING_DIR)
    done = 0
    filed: set[Path] = set()  # source files filed by this run (for the duplicate counts)
    while done < len(files) and not report.cancelled:
        batch_started = time.monotonic()
        with db.batch() as batch:
            for path in files[done:done + batch_files]:
                if cancel is not None and cancel.is_set():
                    report.cancelled = True
                    break
                _import_file(db, batch, Path(os.path.abspath(path)), copy, report, filed)
                done += 1
                if progress is not None:
                    progress(done, len(files), path)
                if time.monotonic() - batch_started >= batch_seconds:
                    break
    report.elapsed_s = time.monotonic() - started
    return report


def _import_file(db: StudyDatabase, batch: WriteBatch, source: Path, copy: bool,
                 report: ImportReport, filed: set[Path]) -> None:
    try:
        stamp = FileStamp.of(source)
    except OSError as exc:
        _refuse(batch, report, source, None, errors.UNREADABLE,
                f"cannot read file ({exc.strerror})")
        return
    if db.known_file(source) == stamp:
        report.skipped_unchanged += 1
        return
    try:
        header = read_header(source)
    except DicomFileError as exc:
        _refuse(batch, report, source, stamp, exc.kind, exc.message)
        return
    except Exception as exc:  # a reader bug must not stop the import; retried next time
        _refuse(batch, report, source, None, errors.UNREADABLE,
                f"unexpected error while reading the header ({exc!r})")
        return
    if header.is_dicomdir:
        batch.record_ignored(source, stamp)
        report.ignored += 1
        return
    keys = instance_keys(header, source)
    existing = batch.stored_instance(keys.sop)
    if existing is not None and existing.source_path != source and existing.path.is_file():
        if _rank(header) <= _rank(existing.header):
            batch.record_duplicate(source, stamp, keys.sop)
            report.duplicates += 1
            report.warnings.append(ImportIssue(
                source, DUPLICATE_INSTANCE,
                f"same SOP Instance UID as {existing.source_path}; that file is kept"))
            return
        if existing.source_path in filed:  # filed earlier in this run: now a duplicate
            filed.discard(existing.source_path)
            report.new -= 1
            report.duplicates += 1
        report.warnings.append(ImportIssue(
            existing.source_path, DUPLICATE_INSTANCE,
            f"same SOP Instance UID as {source}, which has fewer problems and replaces it"))
    stored = header
    if copy and not source.resolve().is_relative_to(db.storage_dir.resolve()):
        try:
            stored = _copy_into_storage(header, keys, db.storage_dir, stamp)
        except OSError as exc:
            _refuse(batch, report, source, None, COPY_FAILED,
                    f"could not copy into Tandem's storage ({exc})")
            return
    batch.store_instance(stored, source_path=source, stamp=stamp, keys=keys)
    filed.add(source)
    report.new += 1
    report.studies.add(keys.study)
    report.series.add(keys.series)
    if keys.derived:
        report.warnings.append(ImportIssue(
            source, MISSING_UID,
            f"no {', '.join(keys.derived)}: filed under a UID derived by Tandem"))


def _refuse(batch: WriteBatch, report: ImportReport, source: Path, stamp: FileStamp | None,
            kind: str, message: str) -> None:
    batch.record_error(source, stamp, kind, message)
    report.errors.append(ImportIssue(source, kind, message))


def _rank(header: InstanceHeader) -> tuple[bool, int]:
    """Which of two files with one SOP Instance UID to keep: an image, then fewer warnings."""
    return header.is_image, -len(header.warnings)


def _copy_into_storage(header: InstanceHeader, keys: InstanceKeys, storage: Path,
                       stamp: FileStamp) -> InstanceHeader:
    """Copy the file to its place in storage, atomically; return the header of the copy."""
    target = storage_target(storage, keys.study, keys.series, keys.sop)
    incoming = storage / INCOMING_DIR
    incoming.mkdir(parents=True, exist_ok=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    part = incoming / f"{safe_file_name(keys.sop)}.{os.getpid()}.part"
    try:
        with header.path.open("rb") as src, part.open("wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
            dst.flush()
            os.fsync(dst.fileno())
        copied = part.stat().st_size
        if copied != stamp.size:
            raise OSError(f"copied {copied} bytes, the file has {stamp.size}")
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)
    return dataclasses.replace(header, path=target)


def storage_target(storage: Path, study_uid: str, series_uid: str, sop_uid: str) -> Path:
    """Where an instance lives in Tandem's storage (imports and network receipts alike)."""
    return (storage / safe_file_name(study_uid) / safe_file_name(series_uid)
            / f"{safe_file_name(sop_uid)}.dcm")


def safe_file_name(uid: str) -> str:
    """A UID as a file name; anything unusual is replaced by a stable hex digest."""
    if _SAFE_NAME.fullmatch(uid) and uid not in (".", ".."):
        return uid
    return hashlib.sha256(uid.encode("utf-8", "surrogateescape")).hexdigest()[:40]


def _remove_stale_parts(incoming: Path) -> None:
    """Temporary copies left by an import killed over an hour ago."""
    if not incoming.is_dir():
        return
    limit = time.time() - _STALE_PART_SECONDS
    for part in incoming.glob("*.part"):
        try:
            if part.stat().st_mtime < limit:
                part.unlink()
        except OSError:
            pass
