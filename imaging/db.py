"""The local study database: patients, studies, series and instances indexed from DICOM headers.

One SQLite file (stdlib ``sqlite3``) in WAL mode with foreign keys on. Each
instance row keeps every :class:`~imaging.header.InstanceHeader` field, so the
viewer opens a series from the database without reading a header again.

Thread-safety: a :class:`StudyDatabase` may be shared between threads; each
thread gets its own ``sqlite3`` connection (``threading.local``), never one
shared connection. WAL lets the GUI thread read while an import worker writes;
writers take the write lock up front (``BEGIN IMMEDIATE``) and wait up to
``busy_timeout`` for each other instead of failing.

Consistency: all writes go through :meth:`StudyDatabase.batch`, one transaction
per batch; a killed process loses at most the batch in flight. Files are only
ever removed from Tandem's own storage folder, after the transaction that
forgot them has committed (a crash leaves an orphan copy, never a row without
its file). Files in the user's folders are never deleted or modified.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from imaging import paths
from imaging.errors import Warning_
from imaging.header import InstanceHeader
from imaging.sqlite_connections import ThreadConnections

SCHEMA_VERSION = 1

# Each entry upgrades the schema from version i to i + 1 (index 0: empty -> 1). Statements are
# split on ';', so comments inside must not contain one.
_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE patients (
        id INTEGER PRIMARY KEY,
        patient_id TEXT NOT NULL,
        patient_name TEXT NOT NULL,
        birth_date TEXT NOT NULL DEFAULT '',
        sex TEXT NOT NULL DEFAULT '',
        UNIQUE (patient_id, patient_name)
    );
    CREATE TABLE studies (
        study_instance_uid TEXT PRIMARY KEY,
        patient INTEGER NOT NULL REFERENCES patients(id),
        study_date TEXT NOT NULL DEFAULT '',
        study_time TEXT NOT NULL DEFAULT '',
        description TEXT NOT NULL DEFAULT '',
        accession_number TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX studies_patient ON studies(patient);
    CREATE TABLE series (
        series_instance_uid TEXT PRIMARY KEY,
        study_instance_uid TEXT NOT NULL
            REFERENCES studies(study_instance_uid) ON DELETE CASCADE,
        modality TEXT NOT NULL DEFAULT '',
        series_number INTEGER,
        description TEXT NOT NULL DEFAULT '',
        body_part TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX series_study ON series(study_instance_uid);
    -- sop_instance_uid is the file's SOP Instance UID, or a derived 2.25 UID when it has
    -- none. The file's own UIDs are kept verbatim in `header` (JSON of the other fields).
    CREATE TABLE instances (
        sop_instance_uid TEXT PRIMARY KEY,
        series_instance_uid TEXT NOT NULL
            REFERENCES series(series_instance_uid) ON DELETE CASCADE,
        path TEXT NOT NULL UNIQUE,
        source_path TEXT NOT NULL,
        file_size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        sop_class_uid TEXT NOT NULL,
        transfer_syntax_uid TEXT NOT NULL,
        instance_number INTEGER,
        number_of_frames INTEGER NOT NULL,
        rows INTEGER NOT NULL,
        columns INTEGER NOT NULL,
        image_position TEXT,
        image_orientation TEXT,
        header TEXT NOT NULL,
        imported_at TEXT NOT NULL
    );
    CREATE INDEX instances_series ON instances(series_instance_uid);
    CREATE INDEX instances_source ON instances(source_path);
    -- Every file an import looked at, keyed by the path the user imported from.
    CREATE TABLE source_files (
        path TEXT PRIMARY KEY,
        file_size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL,
        outcome TEXT NOT NULL CHECK (outcome IN ('instance', 'duplicate', 'error', 'ignored')),
        sop_instance_uid TEXT,
        seen_at TEXT NOT NULL
    );
    CREATE INDEX source_files_sop ON source_files(sop_instance_uid);
    CREATE TABLE files_with_errors (
        path TEXT PRIMARY KEY REFERENCES source_files(path) ON DELETE CASCADE,
        kind TEXT NOT NULL,
        message TEXT NOT NULL,
        seen_at TEXT NOT NULL
    );
    """,
)

# InstanceHeader fields stored as their own columns; all others go to the JSON `header`.
_COLUMN_FIELDS = ("file_size", "sop_class_uid", "transfer_syntax_uid", "instance_number",
                  "number_of_frames", "rows", "columns", "image_position", "image_orientation")
_HEADER_FIELDS = tuple(f.name for f in dataclasses.fields(InstanceHeader))
_JSON_FIELDS = tuple(n for n in _HEADER_FIELDS if n not in (*_COLUMN_FIELDS, "path"))
_UID_NAMESPACE = uuid.UUID("5b0f7c8e-3f5d-4c59-9a52-2f0d8f6f1a10")


class FileStamp(NamedTuple):
    """Size and modification time (ns) of a file when it was last imported."""

    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: Path) -> FileStamp:
        st = path.stat()
        return cls(st.st_size, st.st_mtime_ns)


@dataclass(frozen=True)
class PatientRow:
    key: int
    patient_id: str
    name: str
    birth_date: str
    sex: str
    study_count: int


@dataclass(frozen=True)
class StudyRow:
    study_instance_uid: str
    patient_key: int
    patient_id: str
    patient_name: str
    date: str
    time: str
    description: str
    accession_number: str
    modalities: tuple[str, ...]
    series_count: int
    instance_count: int


@dataclass(frozen=True)
class SeriesRow:
    series_instance_uid: str
    study_instance_uid: str
    number: int | None
    modality: str
    description: str
    body_part: str
    instance_count: int
    frame_count: int


@dataclass(frozen=True)
class FileErrorRow:
    path: Path
    kind: str
    message: str
    seen_at: str


@dataclass(frozen=True)
class InstanceKeys:
    """The UIDs an instance is filed under (derived where the file has none)."""

    study: str
    series: str
    sop: str
    derived: tuple[str, ...]  # names of the UIDs that had to be derived


def instance_keys(header: InstanceHeader, source_path: Path) -> InstanceKeys:
    """Study/series/SOP keys for ``header``; missing UIDs get deterministic 2.25 UIDs.

    A file without a SOP Instance UID is keyed by its source path; without a
    Series Instance UID it forms its own series; without a Study Instance UID it
    joins the other study-less files of the same folder and patient.
    """
    derived = []
    sop = header.sop_instance_uid
    if not sop:
        sop, derived = _derived_uid("sop", str(source_path)), ["SOPInstanceUID"]
    series = header.series_instance_uid
    if not series:
        series = _derived_uid("series", sop)
        derived.append("SeriesInstanceUID")
    study = header.study_instance_uid
    if not study:
        study = _derived_uid("study", str(source_path.parent), header.patient_id,
                             header.patient_name)
        derived.append("StudyInstanceUID")
    return InstanceKeys(study, series, sop, tuple(derived))


def _derived_uid(*parts: str) -> str:
    return f"2.25.{uuid.uuid5(_UID_NAMESPACE, chr(0).join(parts)).int}"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _header_json(header: InstanceHeader) -> str:
    values: dict[str, Any] = {}
    for name in _JSON_FIELDS:
        value = getattr(header, name)
        if name == "warnings":
            value = [[w.kind, w.message] for w in value]
        values[name] = value
    return json.dumps(values, separators=(",", ":"))


def _tupled(value: Any) -> Any:
    return tuple(_tupled(v) for v in value) if isinstance(value, list) else value


def _header_from_row(row: sqlite3.Row) -> InstanceHeader:
    stored = json.loads(row["header"])
    values: dict[str, Any] = {n: _tupled(stored[n]) for n in _JSON_FIELDS if n in stored}
    values["warnings"] = tuple(Warning_(k, m) for k, m in stored.get("warnings", ()))
    for name in _COLUMN_FIELDS:
        values[name] = row[name]
    for name in ("image_position", "image_orientation"):
        values[name] = _tupled(json.loads(row[name])) if row[name] is not None else None
    values["path"] = Path(row["path"])
    return InstanceHeader(**values)


class StudyDatabase:
    """The study index in one SQLite file (see the module docstring for threading)."""

    def __init__(self, path: Path | str | None = None) -> None:
        self.path = Path(path) if path is not None else paths.database_path()
        # Copies live beside the database, so a database only ever deletes its own copies.
        self.storage_dir = self.path.parent / paths.STORAGE_NAME
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._connections = ThreadConnections(self.path, synchronous="NORMAL")
        self._migrate()

    # -- connections -------------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        return self._connections.get()

    def close(self) -> None:
        """Close every thread's connection (call once no thread uses the database)."""
        self._connections.close_all()

    def __enter__(self) -> StudyDatabase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        return self._connections.write()

    def _migrate(self) -> None:
        with self._write() as conn:
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
            version = row[0] or 0
            if version > SCHEMA_VERSION:
                raise RuntimeError(f"{self.path}: database schema {version} is newer than this "
                                   f"Tandem ({SCHEMA_VERSION}); update Tandem")
            for script in _MIGRATIONS[version:]:
                for statement in script.split(";"):
                    if statement.strip():
                        conn.execute(statement)
            if version < SCHEMA_VERSION:
                conn.execute("DELETE FROM schema_version")
                conn.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION,))

    # -- writing -----------------------------------------------------------------------------

    @contextmanager
    def batch(self) -> Iterator[WriteBatch]:
        """One write transaction; copies it forgot are removed from storage after commit."""
        with self._write() as conn:
            batch = WriteBatch(conn, self.storage_dir)
            yield batch
        batch.remove_forgotten_copies()

    def upsert_headers(self, headers: Sequence[InstanceHeader]) -> None:
        """Index ``headers`` in place (their files are not copied), in one transaction."""
        with self.batch() as batch:
            for header in headers:
                batch.store_instance(header, source_path=header.path,
                                     stamp=FileStamp.of(header.path))

    def delete_study(self, study_instance_uid: str) -> int:
        """Forget a study; delete its files only where they are Tandem's own copies.

        Returns the number of instances removed. Files referenced in place stay
        untouched; forgetting their paths lets a later import bring them back.
        """
        with self.batch() as batch:
            return batch.delete_study(study_instance_uid)

    # -- reading -----------------------------------------------------------------------------

    def known_file(self, path: Path | str) -> FileStamp | None:
        """(size, mtime_ns) of ``path`` when an import last looked at it, else None.

        A file set aside as a duplicate stays known only while the instance it
        duplicates is still filed; otherwise the next import reads it again.
        """
        row = self._conn().execute(
            """SELECT file_size, mtime_ns FROM source_files sf WHERE path = ?
               AND (outcome != 'duplicate' OR EXISTS (SELECT 1 FROM instances i
                    WHERE i.sop_instance_uid = sf.sop_instance_uid))""",
            (os.path.abspath(path),)).fetchone()
        return FileStamp(row[0], row[1]) if row else None

    def patients(self) -> list[PatientRow]:
        rows = self._conn().execute(
            """SELECT p.id, p.patient_id, p.patient_name, p.birth_date, p.sex,
                      count(s.study_instance_uid) AS studies
               FROM patients p LEFT JOIN studies s ON s.patient = p.id
               GROUP BY p.id ORDER BY p.patient_name, p.patient_id""").fetchall()
        return [PatientRow(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows]

    def studies(self, patient_key: int | None = None) -> list[StudyRow]:
        """Studies, newest first; all of them or one patient's."""
        rows = self._conn().execute(
            """SELECT st.*, p.id AS pkey, p.patient_id, p.patient_name,
                      group_concat(DISTINCT se.modality) AS modalities,
                      count(DISTINCT se.series_instance_uid) AS series_count,
                      count(i.sop_instance_uid) AS instance_count
               FROM studies st JOIN patients p ON p.id = st.patient
               LEFT JOIN series se ON se.study_instance_uid = st.study_instance_uid
               LEFT JOIN instances i ON i.series_instance_uid = se.series_instance_uid
               WHERE ?1 IS NULL OR st.patient = ?1
               GROUP BY st.study_instance_uid
               ORDER BY st.study_date DESC, st.study_time DESC, st.study_instance_uid""",
            (patient_key,)).fetchall()
        return [StudyRow(r["study_instance_uid"], r["pkey"], r["patient_id"], r["patient_name"],
                         r["study_date"], r["study_time"], r["description"],
                         r["accession_number"],
                         tuple(sorted(m for m in (r["modalities"] or "").split(",") if m)),
                         r["series_count"], r["instance_count"]) for r in rows]

    def series(self, study_instance_uid: str) -> list[SeriesRow]:
        rows = self._conn().execute(
            """SELECT se.*, count(i.sop_instance_uid) AS n,
                      coalesce(sum(i.number_of_frames), 0) AS frames
               FROM series se LEFT JOIN instances i
                    ON i.series_instance_uid = se.series_instance_uid
               WHERE se.study_instance_uid = ?
               GROUP BY se.series_instance_uid
               ORDER BY se.series_number IS NULL, se.series_number, se.series_instance_uid""",
            (study_instance_uid,)).fetchall()
        return [SeriesRow(r["series_instance_uid"], r["study_instance_uid"], r["series_number"],
                          r["modality"], r["description"], r["body_part"], r["n"], r["frames"])
                for r in rows]

    def series_headers(self, series_instance_uid: str) -> list[InstanceHeader]:
        """The series' instance headers rebuilt from the database (no file is read)."""
        rows = self._conn().execute(
            """SELECT * FROM instances WHERE series_instance_uid = ?
               ORDER BY instance_number IS NULL, instance_number, path""",
            (series_instance_uid,)).fetchall()
        return [_header_from_row(r) for r in rows]

    def errors(self) -> list[FileErrorRow]:
        """Files the imports refused, with the reason."""
        rows = self._conn().execute(
            "SELECT path, kind, message, seen_at FROM files_with_errors ORDER BY path").fetchall()
        return [FileErrorRow(Path(r[0]), r[1], r[2], r[3]) for r in rows]

    def counts(self) -> dict[str, int]:
        """Row counts per table (patients, studies, series, instances, errors, source_files)."""
        conn = self._conn()
        tables = {"patients": "patients", "studies": "studies", "series": "series",
                  "instances": "instances", "errors": "files_with_errors",
                  "source_files": "source_files"}
        return {name: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for name, table in tables.items()}

    def integrity_check(self) -> str:
        """SQLite's ``PRAGMA integrity_check`` plus a foreign-key check: "ok" when sound."""
        conn = self._conn()
        result = "\n".join(r[0] for r in conn.execute("PRAGMA integrity_check"))
        broken = conn.execute("PRAGMA foreign_key_check").fetchall()
        return result if not broken else f"{result}\nforeign keys broken: {len(broken)} rows"


@dataclass(frozen=True)
class StoredInstance:
    """The instance row already filed under a SOP key."""

    path: Path
    source_path: Path
    header: InstanceHeader


class WriteBatch:
    """Writes of one transaction (obtain it from :meth:`StudyDatabase.batch`)."""

    def __init__(self, conn: sqlite3.Connection, storage_dir: Path) -> None:
        self._conn = conn
        self._storage = storage_dir.resolve()
        self._forgotten: list[Path] = []

    def stored_instance(self, sop_key: str) -> StoredInstance | None:
        row = self._conn.execute("SELECT * FROM instances WHERE sop_instance_uid = ?",
                                 (sop_key,)).fetchone()
        if row is None:
            return None
        return StoredInstance(Path(row["path"]), Path(row["source_path"]), _header_from_row(row))

    def store_instance(self, header: InstanceHeader, *, source_path: Path, stamp: FileStamp,
                       keys: InstanceKeys | None = None) -> InstanceKeys:
        """File ``header`` (whose file is at ``header.path``) imported from ``source_path``.

        Replaces what the database knew about ``source_path`` and any instance
        with the same SOP key (the caller decides which of two files to keep).
        """
        keys = keys or instance_keys(header, source_path)
        self._forget_source(source_path)
        old = self._conn.execute("SELECT path FROM instances WHERE sop_instance_uid = ?",
                                 (keys.sop,)).fetchone()
        if old is not None:
            self._conn.execute("DELETE FROM instances WHERE sop_instance_uid = ?", (keys.sop,))
            if Path(old[0]) != header.path:
                self._forget_copy(Path(old[0]))
            self._conn.execute("UPDATE source_files SET outcome = 'duplicate' "
                               "WHERE sop_instance_uid = ? AND outcome = 'instance'", (keys.sop,))
        self._upsert_tree(header, keys)
        if old is not None:
            self._delete_orphans()
        file_stat = FileStamp.of(header.path) if header.path != source_path else stamp
        self._conn.execute(
            """INSERT INTO instances (sop_instance_uid, series_instance_uid, path, source_path,
                   file_size, mtime_ns, sop_class_uid, transfer_syntax_uid, instance_number,
                   number_of_frames, rows, columns, image_position, image_orientation, header,
                   imported_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (keys.sop, keys.series, str(header.path), str(source_path), header.file_size,
             file_stat.mtime_ns, header.sop_class_uid, header.transfer_syntax_uid,
             header.instance_number, header.number_of_frames, header.rows, header.columns,
             _json_or_none(header.image_position), _json_or_none(header.image_orientation),
             _header_json(header), _now()))
        self._record_source(source_path, stamp, "instance", keys.sop)
        return keys

    def record_duplicate(self, source_path: Path, stamp: FileStamp, sop_key: str) -> None:
        """``source_path`` holds an instance already filed from another file."""
        self._forget_source(source_path)
        self._record_source(source_path, stamp, "duplicate", sop_key)

    def record_ignored(self, source_path: Path, stamp: FileStamp) -> None:
        """Readable DICOM that is not an instance to show (a DICOMDIR)."""
        self._forget_source(source_path)
        self._record_source(source_path, stamp, "ignored", None)

    def record_error(self, source_path: Path, stamp: FileStamp | None, kind: str,
                     message: str) -> None:
        """``source_path`` was refused; without a stamp it is retried by the next import."""
        self._forget_source(source_path)
        self._record_source(source_path, stamp or FileStamp(-1, -1), "error", None)
        self._conn.execute("INSERT INTO files_with_errors VALUES (?, ?, ?, ?)",
                           (str(source_path), kind, message, _now()))

    def delete_study(self, study_instance_uid: str) -> int:
        rows = self._conn.execute(
            """SELECT i.sop_instance_uid, i.path FROM instances i
               JOIN series se ON se.series_instance_uid = i.series_instance_uid
               WHERE se.study_instance_uid = ?""", (study_instance_uid,)).fetchall()
        for sop, path in rows:
            self._conn.execute("DELETE FROM source_files WHERE sop_instance_uid = ?", (sop,))
            self._forget_copy(Path(path))
        self._conn.execute("DELETE FROM studies WHERE study_instance_uid = ?",
                           (study_instance_uid,))
        self._delete_orphans()
        return len(rows)

    def remove_forgotten_copies(self) -> None:
        """Unlink copies in storage that the committed transaction forgot (and did not refile)."""
        for path in self._forgotten:
            if self._conn.execute("SELECT 1 FROM instances WHERE path = ?",
                                  (str(path),)).fetchone() is None:
                path.unlink(missing_ok=True)
                for folder in (path.parent, path.parent.parent):  # series, study folders
                    inside = folder.resolve().is_relative_to(self._storage)
                    if inside and folder.resolve() != self._storage:
                        with contextlib.suppress(OSError):  # not empty: keep it
                            folder.rmdir()
        self._forgotten.clear()

    def _forget_copy(self, path: Path) -> None:
        if path.resolve().is_relative_to(self._storage):
            self._forgotten.append(path)

    def _forget_source(self, source_path: Path) -> None:
        """Drop what an earlier import filed from ``source_path`` (it changed)."""
        src = str(source_path)
        self._conn.execute("DELETE FROM source_files WHERE path = ?", (src,))
        for (path,) in self._conn.execute("SELECT path FROM instances WHERE source_path = ?",
                                          (src,)).fetchall():
            if Path(path) != source_path:
                self._forget_copy(Path(path))
        if self._conn.execute("DELETE FROM instances WHERE source_path = ?", (src,)).rowcount:
            self._delete_orphans()

    def _record_source(self, path: Path, stamp: FileStamp, outcome: str,
                       sop_key: str | None) -> None:
        self._conn.execute("INSERT INTO source_files VALUES (?, ?, ?, ?, ?, ?)",
                           (str(path), stamp.size, stamp.mtime_ns, outcome, sop_key, _now()))

    def _upsert_tree(self, h: InstanceHeader, keys: InstanceKeys) -> None:
        """Patient, study and series rows for ``h``; blanks are filled by later instances."""
        self._conn.execute(
            """INSERT INTO patients (patient_id, patient_name, birth_date, sex)
               VALUES (?, ?, ?, ?)
               ON CONFLICT (patient_id, patient_name) DO UPDATE SET
                   birth_date = iif(birth_date = '', excluded.birth_date, birth_date),
                   sex = iif(sex = '', excluded.sex, sex)""",
            (h.patient_id, h.patient_name, h.patient_birth_date, h.patient_sex))
        patient = self._conn.execute(
            "SELECT id FROM patients WHERE patient_id = ? AND patient_name = ?",
            (h.patient_id, h.patient_name)).fetchone()[0]
        self._conn.execute(
            """INSERT INTO studies VALUES (?, ?, ?, ?, ?, ?)
               ON CONFLICT (study_instance_uid) DO UPDATE SET
                   study_date = iif(study_date = '', excluded.study_date, study_date),
                   study_time = iif(study_time = '', excluded.study_time, study_time),
                   description = iif(description = '', excluded.description, description),
                   accession_number = iif(accession_number = '', excluded.accession_number,
                                          accession_number)""",
            (keys.study, patient, h.study_date, h.study_time, h.study_description,
             h.accession_number))
        self._conn.execute(
            """INSERT INTO series VALUES (?, ?, ?, ?, ?, ?)
               ON CONFLICT (series_instance_uid) DO UPDATE SET
                   modality = iif(modality = '', excluded.modality, modality),
                   series_number = coalesce(series_number, excluded.series_number),
                   description = iif(description = '', excluded.description, description),
                   body_part = iif(body_part = '', excluded.body_part, body_part)""",
            (keys.series, keys.study, h.modality, h.series_number, h.series_description,
             h.body_part))

    def _delete_orphans(self) -> None:
        self._conn.execute("""DELETE FROM series WHERE NOT EXISTS (SELECT 1 FROM instances i
                              WHERE i.series_instance_uid = series.series_instance_uid)""")
        self._conn.execute("""DELETE FROM studies WHERE NOT EXISTS (SELECT 1 FROM series se
                              WHERE se.study_instance_uid = studies.study_instance_uid)""")
        self._conn.execute("""DELETE FROM patients WHERE NOT EXISTS (SELECT 1 FROM studies st
                              WHERE st.patient = patients.id)""")


def _json_or_none(value: tuple[float, ...] | None) -> str | None:
    return None if value is None else json.dumps(value)
