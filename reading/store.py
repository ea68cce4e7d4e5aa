"""Readings, their audit trail and concordances, stored in the study database file.

Tables ``reading_versions``, ``reading_audit`` and ``reading_concordance`` live in the
same SQLite file as :class:`imaging.db.StudyDatabase`, with their own schema version
table (``reading_schema_version``), so either side migrates without the other.

Durability: every call that changes something is one ``BEGIN IMMEDIATE`` transaction
on a WAL database with ``synchronous=FULL``; once a call returns, a killed process or
a power cut keeps it. An edit and its audit event commit together or not at all.

Immutability is enforced by SQLite itself, not only by this module: triggers abort
any UPDATE or DELETE of a signed version and of any audit row. Each audit row
carries ``hash = sha256(previous hash + canonical JSON of the row)``, so an edit made
behind the triggers' back (dropping them) is found by :meth:`ReadingStore.verify_audit`.

Threads: like ``StudyDatabase``, each thread gets its own connection.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import sqlite3
import uuid
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from imaging.sqlite_connections import ThreadConnections
from reading.model import Reading
from reading.vocabulary import StudyKind

SCHEMA_VERSION = 1
_GENESIS = "0" * 64  # the "previous hash" of the first audit row

# Each entry upgrades the reading schema from version i to i + 1, one statement per item
# (trigger bodies hold ';', so statements are not split from one script).
_MIGRATIONS: tuple[tuple[str, ...], ...] = ((
    """CREATE TABLE reading_versions (
        reading_id TEXT PRIMARY KEY,
        study_instance_uid TEXT NOT NULL,
        version INTEGER NOT NULL CHECK (version >= 1),
        purpose TEXT NOT NULL CHECK (purpose IN ('first', 'final', 'amendment')),
        previous_id TEXT,
        state TEXT NOT NULL CHECK (state IN ('draft', 'signed')),
        reader TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        body TEXT NOT NULL,
        UNIQUE (study_instance_uid, version))""",
    # At most one open draft per study: edits never fork.
    """CREATE UNIQUE INDEX reading_one_draft ON reading_versions(study_instance_uid)
        WHERE state = 'draft'""",
    """CREATE TRIGGER reading_signed_no_update BEFORE UPDATE ON reading_versions
        WHEN OLD.state = 'signed'
        BEGIN SELECT RAISE(ABORT, 'a signed reading is never changed'); END""",
    """CREATE TRIGGER reading_signed_no_delete BEFORE DELETE ON reading_versions
        WHEN OLD.state = 'signed'
        BEGIN SELECT RAISE(ABORT, 'a signed reading is never deleted'); END""",
    """CREATE TABLE reading_audit (
        seq INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        reader TEXT NOT NULL,
        study_instance_uid TEXT NOT NULL,
        reading_id TEXT,
        action TEXT NOT NULL,
        detail TEXT NOT NULL,
        hash TEXT NOT NULL)""",
    "CREATE INDEX reading_audit_study ON reading_audit(study_instance_uid)",
    "CREATE INDEX reading_audit_at ON reading_audit(at)",
    """CREATE TRIGGER reading_audit_no_update BEFORE UPDATE ON reading_audit
        BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END""",
    """CREATE TRIGGER reading_audit_no_delete BEFORE DELETE ON reading_audit
        BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END""",
    """CREATE TABLE reading_concordance (
        reading_id TEXT PRIMARY KEY REFERENCES reading_versions(reading_id),
        study_instance_uid TEXT NOT NULL,
        discordant INTEGER NOT NULL,
        saved_at TEXT NOT NULL,
        body TEXT NOT NULL)""",
),)

ReadingStatus = Literal["unread", "in_progress", "read", "discordant", "amended"]


class ReadingLocked(Exception):
    """Saving over (or re-signing) a signed version: signed readings never change."""


@dataclass(frozen=True)
class AuditEvent:
    seq: int
    at: str  # ISO 8601 UTC, microseconds, fixed width (sorts as text)
    reader: str
    study_instance_uid: str
    reading_id: str | None
    action: str
    detail: dict[str, Any]
    hash: str


def default_reader() -> str:
    """The local user name; never fails (a service account may have no passwd entry)."""
    try:
        name = getpass.getuser()
    except (OSError, KeyError, ImportError):
        name = os.environ.get("USER") or os.environ.get("USERNAME") or ""
    return name.strip() or "unknown"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def _row_hash(previous: str, event: Mapping[str, Any]) -> str:
    """sha256 of the previous row's hash + the canonical JSON of this row's content."""
    content = {k: event[k] for k in ("seq", "at", "reader", "study_instance_uid",
                                     "reading_id", "action", "detail")}
    return hashlib.sha256((previous + _canonical(content)).encode("utf-8")).hexdigest()


def _bound(text: str, *, end: bool) -> str:
    """An ISO date or date-time as the fixed-width UTC text audit rows are compared with.

    Bounds are inclusive: a date-only ``until`` covers the whole day, a ``until`` given
    to the second covers that whole second. A time without zone is taken as UTC.
    """
    try:
        when = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 date or date-time "
                         "(e.g. 2025-03-12 or 2025-03-12T14:30)") from None
    date_only = "T" not in text and " " not in text.strip()
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    when = when.astimezone(UTC)
    if end and date_only:
        when += timedelta(days=1) - timedelta(microseconds=1)
    elif end and when.microsecond == 0:
        when += timedelta(seconds=1) - timedelta(microseconds=1)
    return when.isoformat(timespec="microseconds")


def _concordance_summary(concordance: Mapping[str, Any]) -> tuple[dict[str, int], bool]:
    """Pair counts and the discordant flag of a ``Concordance.to_dict()``.

    Uses the dict's own ``counts``/``discordant`` when present, else derives them
    from its pairs and cases with the same rule as ``Concordance.discordant``.
    """
    pairs = [p for p in concordance.get("pairs") or () if isinstance(p, Mapping)]
    counts = {status: sum(1 for p in pairs if p.get("status") == status)
              for status in ("agreed", "ai_only", "reader_only")}
    given = concordance.get("counts")
    if isinstance(given, Mapping):
        counts = {k: int(given.get(k, counts[k])) for k in counts}
    discordant = concordance.get("discordant")
    if not isinstance(discordant, bool):
        discordant = any(p.get("status") == "ai_only" and p.get("decision") != "accepted"
                         for p in pairs) or any(
            isinstance(c, Mapping) and c.get("agreement") == "disagree"
            for c in concordance.get("cases") or ())
    return counts, discordant


class ReadingStore:
    """Versions of readings, their audit trail and concordances (see the module docstring)."""

    def __init__(self, db_path: Path | str) -> None:
        self.path = Path(db_path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._connections = ThreadConnections(self.path, synchronous="FULL")
        self._migrate()

    # -- connections -------------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        return self._connections.get()

    def close(self) -> None:
        """Close every thread's connection (call once no thread uses the store)."""
        self._connections.close_all()

    def __enter__(self) -> ReadingStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write(self) -> AbstractContextManager[sqlite3.Connection]:
        # synchronous=FULL: a committed edit survives a power cut too, not only a kill.
        return self._connections.write()

    def _migrate(self) -> None:
        with self._write() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS reading_schema_version (version INTEGER NOT NULL)")
            version = conn.execute(
                "SELECT max(version) FROM reading_schema_version").fetchone()[0] or 0
            if version > SCHEMA_VERSION:
                raise RuntimeError(f"{self.path}: reading schema {version} is newer than this "
                                   f"Tandem ({SCHEMA_VERSION}); update Tandem")
            for statements in _MIGRATIONS[version:]:
                for statement in statements:
                    conn.execute(statement)
            if version < SCHEMA_VERSION:
                conn.execute("DELETE FROM reading_schema_version")
                conn.execute("INSERT INTO reading_schema_version VALUES (?)", (SCHEMA_VERSION,))

    # -- reading versions --------------------------------------------------------------------

    def start(self, study_uid: str, reader: str, kind: StudyKind, *, blinded: bool) -> Reading:
        """The open draft of this study if any, else a new version-1 "first" draft.

        A study whose readings are all signed gets no new draft here (that would be a
        second first read): its newest version is returned, signed; amend it with
        :meth:`follow_up`.
        """
        with self._write() as conn:
            existing = self._draft(conn, study_uid) or self._newest(conn, study_uid)
            if existing is not None:
                return existing
            reading = Reading(reading_id=str(uuid.uuid4()), study_instance_uid=study_uid,
                              reader=reader, kind=kind, started_at=_now(), blinded=blinded)
            self._insert(conn, reading)
            self._append(conn, reader, study_uid, reading.reading_id, "reading_started",
                         {"version": 1, "purpose": "first", "kind": kind, "blinded": blinded})
            return reading

    def current(self, study_uid: str) -> Reading | None:
        """The newest version (draft or signed)."""
        return self._newest(self._conn(), study_uid)

    def latest_signed(self, study_uid: str) -> Reading | None:
        row = self._conn().execute(
            """SELECT body FROM reading_versions WHERE study_instance_uid = ?
               AND state = 'signed' ORDER BY version DESC LIMIT 1""", (study_uid,)).fetchone()
        return _reading(row)

    def versions(self, study_uid: str) -> list[Reading]:
        """Every version of the study's reading, oldest first."""
        rows = self._conn().execute(
            "SELECT body FROM reading_versions WHERE study_instance_uid = ? ORDER BY version",
            (study_uid,)).fetchall()
        return [Reading.from_dict(json.loads(r["body"])) for r in rows]

    def get(self, reading_id: str) -> Reading | None:
        return _reading(self._conn().execute(
            "SELECT body FROM reading_versions WHERE reading_id = ?", (reading_id,)).fetchone())

    def save(self, reading: Reading, action: str,
             detail: Mapping[str, Any] | None = None) -> Reading:
        """Replace the stored draft with ``reading`` and append one audit event, atomically.

        The reading is validated as :meth:`Reading.from_dict` would (``ReadingError``);
        its identity (study, version, purpose, previous version) must match the stored
        draft. ``ReadingLocked`` when the stored version or ``reading`` itself is signed.
        """
        if reading.signed:
            raise ReadingLocked(f"reading {reading.reading_id} is signed; "
                                "sign() signs, follow_up() amends")
        body = reading.to_dict()
        Reading.from_dict(body)  # the GUI builds readings directly: same rules as an import
        with self._write() as conn:
            stored = self._stored(conn, reading.reading_id)
            if stored.signed:
                raise ReadingLocked(f"reading {reading.reading_id} (version {stored.version}) "
                                    "is signed; amend it with a new version")
            for name in ("study_instance_uid", "version", "purpose", "previous_id"):
                if getattr(reading, name) != getattr(stored, name):
                    raise ValueError(f"reading {reading.reading_id}: {name} cannot change "
                                     f"({getattr(stored, name)!r} stored)")
            conn.execute("UPDATE reading_versions SET body = ?, reader = ?, updated_at = ? "
                         "WHERE reading_id = ?",
                         (_canonical(body), reading.reader, _now(), reading.reading_id))
            self._append(conn, reading.reader, reading.study_instance_uid, reading.reading_id,
                         action, detail)
        return reading

    def sign(self, reading_id: str) -> Reading:
        """Freeze the draft ``reading_id``; audit "signed" {version, purpose}."""
        with self._write() as conn:
            stored = self._stored(conn, reading_id)
            if stored.signed:
                raise ReadingLocked(f"reading {reading_id} is already signed")
            signed = replace(stored, state="signed", signed_at=_now())
            conn.execute("UPDATE reading_versions SET state = 'signed', body = ?, updated_at = ? "
                         "WHERE reading_id = ?",
                         (_canonical(signed.to_dict()), signed.signed_at, reading_id))
            self._append(conn, signed.reader, signed.study_instance_uid, reading_id, "signed",
                         {"version": signed.version, "purpose": signed.purpose})
            return signed

    def follow_up(self, reading_id: str, purpose: Literal["final", "amendment"]) -> Reading:
        """A new draft after the signed ``reading_id``: next version, same content.

        If the study already has an open draft that follows ``reading_id`` for the same
        purpose, that draft is returned (calling twice does not fork); any other open
        draft is an error (``ValueError``): sign it first.
        """
        if purpose not in ("final", "amendment"):
            raise ValueError(f"follow-up purpose must be 'final' or 'amendment', not {purpose!r}")
        with self._write() as conn:
            source = self._stored(conn, reading_id)
            if not source.signed:
                raise ValueError(f"reading {reading_id} is a draft; sign it before a follow-up")
            draft = self._draft(conn, source.study_instance_uid)
            if draft is not None:
                if draft.previous_id == reading_id and draft.purpose == purpose:
                    return draft
                raise ValueError(f"study {source.study_instance_uid} already has an open draft "
                                 f"(version {draft.version}); sign it first")
            new = replace(source, reading_id=str(uuid.uuid4()),
                          version=self._next_version(conn, source.study_instance_uid),
                          purpose=purpose, previous_id=reading_id, state="draft",
                          started_at=_now(), signed_at=None)
            self._insert(conn, new)
            self._append(conn, new.reader, new.study_instance_uid, new.reading_id,
                         "follow_up", {"version": new.version, "purpose": purpose,
                                       "previous_id": reading_id})
            return new

    def import_reading(self, reading: Reading) -> Reading:
        """Store ``reading`` as the next version of its study, keeping its state.

        ``version`` is set to the next free one; a signed reading without ``signed_at``
        gets the import time, an empty ``started_at`` too. ``ValueError`` when the id is
        already stored, or when the study has an open draft (versions stay in order).
        """
        Reading.from_dict(reading.to_dict())
        with self._write() as conn:
            if self._row(conn, reading.reading_id) is not None:
                raise ValueError(f"reading id {reading.reading_id} is already stored")
            study = reading.study_instance_uid
            draft = self._draft(conn, study)
            if draft is not None:
                raise ValueError(f"study {study} has an open draft (version {draft.version}, "
                                 f"reading {draft.reading_id}); sign it before importing")
            now = _now()
            stored = replace(reading, version=self._next_version(conn, study),
                             started_at=reading.started_at or now,
                             signed_at=(reading.signed_at or now) if reading.signed else None)
            self._insert(conn, stored)
            self._append(conn, stored.reader, study, stored.reading_id, "imported",
                         {"version": stored.version, "purpose": stored.purpose,
                          "state": stored.state, "marks": len(stored.marks)})
            return stored

    # -- free events, concordance ------------------------------------------------------------

    def record(self, study_uid: str, reader: str, action: str,
               detail: Mapping[str, Any] | None = None,
               reading_id: str | None = None) -> AuditEvent:
        """Append one audit event that changes no reading ("ai_shown", "exported"...)."""
        with self._write() as conn:
            return self._append(conn, reader, study_uid, reading_id, action, detail)

    def save_concordance(self, reading_id: str, concordance: Mapping[str, Any]) -> None:
        """Store ``Concordance.to_dict()`` for that version (replacing an earlier one)."""
        counts, discordant = _concordance_summary(concordance)
        body = _canonical(dict(concordance))
        with self._write() as conn:
            stored = self._stored(conn, reading_id)
            conn.execute("INSERT OR REPLACE INTO reading_concordance VALUES (?, ?, ?, ?, ?)",
                         (reading_id, stored.study_instance_uid, int(discordant), _now(), body))
            self._append(conn, stored.reader, stored.study_instance_uid, reading_id,
                         "concordance", {**counts, "discordant": discordant})

    def concordance(self, reading_id: str) -> dict[str, Any] | None:
        row = self._conn().execute("SELECT body FROM reading_concordance WHERE reading_id = ?",
                                   (reading_id,)).fetchone()
        return json.loads(row["body"]) if row else None

    def statuses(self) -> dict[str, ReadingStatus]:
        """Status of every study with at least one version.

        in_progress: only drafts; amended: its newest signed version is an amendment;
        discordant: its newest signed version has a stored discordant concordance;
        read: otherwise signed.
        """
        rows = self._conn().execute(
            """SELECT v.study_instance_uid AS study, s.purpose, c.discordant
               FROM (SELECT DISTINCT study_instance_uid FROM reading_versions) v
               LEFT JOIN reading_versions s ON s.study_instance_uid = v.study_instance_uid
                   AND s.version = (SELECT max(version) FROM reading_versions x
                                    WHERE x.study_instance_uid = v.study_instance_uid
                                    AND x.state = 'signed')
               LEFT JOIN reading_concordance c ON c.reading_id = s.reading_id""").fetchall()
        result: dict[str, ReadingStatus] = {}
        for row in rows:
            if row["purpose"] is None:
                result[row["study"]] = "in_progress"
            elif row["purpose"] == "amendment":
                result[row["study"]] = "amended"
            elif row["discordant"]:
                result[row["study"]] = "discordant"
            else:
                result[row["study"]] = "read"
        return result

    # -- audit -------------------------------------------------------------------------------

    def audit(self, *, since: str | None = None, until: str | None = None,
              study_uid: str | None = None) -> list[AuditEvent]:
        """Audit events in order; ``since``/``until`` are inclusive ISO dates or date-times
        (``ValueError`` names a malformed one)."""
        low = _bound(since, end=False) if since else None
        high = _bound(until, end=True) if until else None
        rows = self._conn().execute(
            """SELECT * FROM reading_audit WHERE (?1 IS NULL OR at >= ?1)
               AND (?2 IS NULL OR at <= ?2) AND (?3 IS NULL OR study_instance_uid = ?3)
               ORDER BY seq""", (low, high, study_uid)).fetchall()
        return [_event(r) for r in rows]

    def verify_audit(self) -> list[str]:
        """Problems found in the hash chain, naming each row; ``[]`` when intact."""
        problems: list[str] = []
        previous, expected_seq = _GENESIS, 1
        for row in self._conn().execute("SELECT * FROM reading_audit ORDER BY seq"):
            seq = row["seq"]
            if seq != expected_seq:
                problems.append(f"audit rows {expected_seq}..{seq - 1} are missing")
            try:
                event = _event(row)
            except ValueError:
                problems.append(f"audit row {seq}: detail is not valid JSON")
            else:
                if _row_hash(previous, asdict(event)) != event.hash:
                    problems.append(f"audit row {seq} ({event.action} at {event.at}): hash "
                                    "does not match its content and the row before")
            previous, expected_seq = row["hash"], seq + 1
        return problems

    # -- internals ---------------------------------------------------------------------------

    def _append(self, conn: sqlite3.Connection, reader: str, study_uid: str,
                reading_id: str | None, action: str,
                detail: Mapping[str, Any] | None) -> AuditEvent:
        """Append one hash-chained audit row (inside the caller's write transaction)."""
        last = conn.execute("SELECT seq, hash FROM reading_audit ORDER BY seq DESC LIMIT 1"
                            ).fetchone()
        seq, previous = (last["seq"] + 1, last["hash"]) if last else (1, _GENESIS)
        # Round-trip so the hashed detail is exactly what is stored and read back.
        content = {"seq": seq, "at": _now(), "reader": reader, "study_instance_uid": study_uid,
                   "reading_id": reading_id, "action": action,
                   "detail": json.loads(_canonical(dict(detail or {})))}
        event = AuditEvent(**content, hash=_row_hash(previous, content))
        conn.execute("INSERT INTO reading_audit VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     (seq, event.at, reader, study_uid, reading_id, action,
                      _canonical(event.detail), event.hash))
        return event

    def _insert(self, conn: sqlite3.Connection, reading: Reading) -> None:
        conn.execute("INSERT INTO reading_versions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                     (reading.reading_id, reading.study_instance_uid, reading.version,
                      reading.purpose, reading.previous_id, reading.state, reading.reader,
                      _now(), _canonical(reading.to_dict())))

    @staticmethod
    def _row(conn: sqlite3.Connection, reading_id: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = conn.execute(
            "SELECT body FROM reading_versions WHERE reading_id = ?", (reading_id,)).fetchone()
        return row

    def _stored(self, conn: sqlite3.Connection, reading_id: str) -> Reading:
        reading = _reading(self._row(conn, reading_id))
        if reading is None:
            raise KeyError(f"no reading {reading_id} in {self.path}")
        return reading

    @staticmethod
    def _newest(conn: sqlite3.Connection, study_uid: str) -> Reading | None:
        return _reading(conn.execute(
            """SELECT body FROM reading_versions WHERE study_instance_uid = ?
               ORDER BY version DESC LIMIT 1""", (study_uid,)).fetchone())

    @staticmethod
    def _draft(conn: sqlite3.Connection, study_uid: str) -> Reading | None:
        return _reading(conn.execute(
            "SELECT body FROM reading_versions WHERE study_instance_uid = ? AND state = 'draft'",
            (study_uid,)).fetchone())

    @staticmethod
    def _next_version(conn: sqlite3.Connection, study_uid: str) -> int:
        row = conn.execute("SELECT max(version) FROM reading_versions "
                           "WHERE study_instance_uid = ?", (study_uid,)).fetchone()
        return int(row[0] or 0) + 1


def _reading(row: sqlite3.Row | None) -> Reading | None:
    return Reading.from_dict(json.loads(row["body"])) if row is not None else None


def _event(row: sqlite3.Row) -> AuditEvent:
    return AuditEvent(seq=row["seq"], at=row["at"], reader=row["reader"],
                      study_instance_uid=row["study_instance_uid"], reading_id=row["reading_id"],
                      action=row["action"], detail=json.loads(row["detail"]), hash=row["hash"])

