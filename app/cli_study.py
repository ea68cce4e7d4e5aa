"""Which study a command means: a Study Instance UID, a unique UID prefix, or a path.

A path (file or folder) is imported first (referenced in place, as ``tandem import``),
then it must hold exactly one study. Errors are :class:`StudyNotFound` with a sentence
the CLI prints as is.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from imaging.db import StudyDatabase
from imaging.importer import import_paths


class StudyNotFound(ValueError):
    """``text`` names no study, or several."""


def resolve_study(db: StudyDatabase, text: str) -> str:
    """The Study Instance UID ``text`` stands for (UID, unique UID prefix, or path)."""
    text = text.strip()
    if not text:
        raise StudyNotFound("no study given")
    uids = [s.study_instance_uid for s in db.studies()]
    if text in uids:
        return text
    path = Path(text).expanduser()
    if path.exists():
        return _study_of_path(db, path)
    matches = [uid for uid in uids if uid.startswith(text)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        shown = ", ".join(sorted(matches)[:5]) + (", ..." if len(matches) > 5 else "")
        raise StudyNotFound(f"{text!r} is the start of {len(matches)} Study Instance UIDs "
                            f"({shown}); give more of it")
    raise StudyNotFound(f"no study {text!r} in the database {db.path} (not a Study Instance UID, "
                        "a UID prefix or an existing file or folder)")


def _study_of_path(db: StudyDatabase, path: Path) -> str:
    report = import_paths(db, [path])
    studies = sorted(_studies_from_source(db.path, Path(os.path.abspath(path))))
    if len(studies) == 1:
        return studies[0]
    if not studies:
        reasons = "; ".join(f"{e.path.name}: {e.message}" for e in report.errors[:3])
        raise StudyNotFound(f"{path}: no DICOM image found"
                            + (f" ({reasons})" if reasons else ""))
    raise StudyNotFound(f"{path} holds {len(studies)} studies; give one Study Instance UID: "
                        + ", ".join(studies))


def _studies_from_source(db_path: Path, path: Path) -> set[str]:
    """Studies of the instances imported from ``path`` (a file, or anything under a folder).

    An import's report lists only the studies it filed anew, so files imported before
    (unchanged, skipped) are found by their recorded source path instead.
    """
    with sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True) as conn:
        prefix = str(path).rstrip(os.sep) + os.sep
        rows = conn.execute(
            """SELECT DISTINCT se.study_instance_uid FROM source_files sf
               JOIN instances i ON i.sop_instance_uid = sf.sop_instance_uid
               JOIN series se ON se.series_instance_uid = i.series_instance_uid
               WHERE sf.path = ?1 OR substr(sf.path, 1, length(?2)) = ?2""",
            (str(path), prefix)).fetchall()
    conn.close()
    return {r[0] for r in rows}


def no_reading_yet(study_uid: str) -> str:
    """What a command that needs a reading says when the study has none."""
    return (f"study {study_uid} has no reading yet; store one with "
            "`tandem reading import STUDY reading.json` (or read it in the GUI)")
