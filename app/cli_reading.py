"""``tandem reading show|import``: a study's reading versions, and readings given as JSON.

``import`` is for scripted tests and research studies: the JSON is a reading as
``Reading.to_dict()`` writes it. The study comes from the command line; the JSON may
leave out ``study_instance_uid`` (or must name the same study), ``reading_id`` (a new
uuid4), ``reader`` (``--reader`` or the local user) and ``kind`` (from the study's
modality and body part). Every mark must lie on an image of that study.
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import Any

from app.cli import print_json
from app.cli_study import StudyNotFound, resolve_study
from imaging.db import StudyDatabase
from imaging.paths import database_path
from reading.model import Reading, ReadingError
from reading.store import ReadingStore, default_reader
from reading.vocabulary import series_kind


class _Refused(Exception):
    """A reason to stop with exit code 2; the message is printed as is."""


def run_reading_show(study: str, *, as_json: bool) -> int:
    db = StudyDatabase(database_path())
    store = ReadingStore(db.path)
    try:
        uid = resolve_study(db, study)
        versions = store.versions(uid)
        status = store.statuses().get(uid, "unread")
        signed = store.latest_signed(uid)
        concordance = store.concordance(signed.reading_id) if signed else None
    except StudyNotFound as exc:
        return _fail("show", str(exc))
    finally:
        store.close()
        db.close()
    if as_json:
        print_json({"study_instance_uid": uid, "versions": [v.to_dict() for v in versions],
                    "status": status, "concordance": concordance})
    else:
        _print_versions(uid, versions, status, concordance)
    return 0


def run_reading_import(study: str, reading_json: Path, *, reader: str | None) -> int:
    db = StudyDatabase(database_path())
    store = ReadingStore(db.path)
    try:
        uid = resolve_study(db, study)
        data = _load(reading_json)
        reading = _prepared(db, uid, data, reader)
        stored = store.import_reading(reading)
    except StudyNotFound as exc:
        return _fail("import", str(exc))
    except (_Refused, ValueError) as exc:  # ValueError: the store refused (id taken, draft open)
        return _fail("import", f"{reading_json}: {exc}")
    finally:
        store.close()
        db.close()
    print(stored.reading_id)
    return 0


def _fail(command: str, message: str) -> int:
    print(f"tandem reading {command}: {message}", file=sys.stderr)
    return 2


def _load(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise _Refused("no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _Refused(f"cannot read the file ({exc})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _Refused(f"not valid JSON (line {exc.lineno}, column {exc.colno}: "
                       f"{exc.msg})") from None
    if not isinstance(data, dict):
        raise _Refused("a reading must be a JSON object")
    return data


def _prepared(db: StudyDatabase, uid: str, data: dict[str, Any],
              reader: str | None) -> Reading:
    """The JSON completed for study ``uid`` and validated (``_Refused`` names the field)."""
    named = data.get("study_instance_uid")
    if named not in (None, "", uid):
        raise _Refused(f"study_instance_uid: the reading is for study {named}, "
                       f"not {uid}")
    images = _images(db, uid)
    data = {**data, "study_instance_uid": uid}
    if not data.get("reading_id"):
        data["reading_id"] = str(uuid.uuid4())
    if reader:
        data["reader"] = reader
    elif not data.get("reader"):
        data["reader"] = default_reader()
    if "kind" not in data:
        kinds = {series_kind(s, db.series_headers(s.series_instance_uid))
                 for s in db.series(uid)}
        kinds.discard(None)
        if len(kinds) != 1:
            raise _Refused(f"kind: missing, and study {uid} does not say (give cxr, bone "
                           "or mammo)")
        data["kind"] = kinds.pop()
    try:
        reading = Reading.from_dict(data)
    except ReadingError as exc:
        raise _Refused(str(exc)) from None
    for i, mark in enumerate(reading.marks):
        frames = images.get(mark.sop_instance_uid)
        if frames is None:
            raise _Refused(f"marks[{i}].sop_instance_uid: {mark.sop_instance_uid} is not an "
                           f"image of study {uid}")
        if mark.frame >= frames:
            raise _Refused(f"marks[{i}].frame: {mark.frame} but the image has {frames} "
                           f"frame{'s' if frames > 1 else ''}")
    return reading


def _images(db: StudyDatabase, uid: str) -> dict[str, int]:
    """SOP Instance UID -> number of frames, for the study's instances."""
    return {h.sop_instance_uid: max(1, h.number_of_frames)
            for s in db.series(uid) for h in db.series_headers(s.series_instance_uid)
            if h.sop_instance_uid}


def _print_versions(uid: str, versions: list[Reading], status: str,
                    concordance: dict[str, Any] | None) -> None:
    print(f"study {uid}: {status}, {len(versions)} version{'s' if len(versions) != 1 else ''}")
    for r in versions:
        print()
        when = f"signed {r.signed_at}" if r.signed else "draft"
        after = f" after {r.previous_id}" if r.previous_id else ""
        print(f"version {r.version} ({r.purpose}{after}) {when}: {r.kind} read by {r.reader}, "
              f"started {r.started_at}, {'blinded' if r.blinded else 'unblinded'}")
        print(f"  reading id  {r.reading_id}")
        print(f"  assessment  {_assessment_text(r)}")
        for m in r.marks:
            points = " ".join(f"({x:g},{y:g})" for x, y in m.points)
            confidence = f" [{m.confidence}]" if m.confidence else ""
            print(f"  mark {m.id}: {m.label}{confidence} {m.shape} {points} "
                  f"on {m.sop_instance_uid} frame {m.frame}")
        for d in r.ai_decisions:
            reason = f" ({d.reason})" if d.reason else ""
            print(f"  AI finding {d.finding_key}: {d.decision}{reason}")
        if r.text:
            print("  text        " + r.text.replace("\n", "\n              "))
    if concordance is not None:
        pairs = concordance.get("pairs") or []
        counts = {s: sum(1 for p in pairs if isinstance(p, dict) and p.get("status") == s)
                  for s in ("agreed", "ai_only", "reader_only")}
        print()
        print("concordance (newest signed version): "
              + ", ".join(f"{k} {v}" for k, v in counts.items()))


def _assessment_text(r: Reading) -> str:
    a = r.assessment
    parts: list[str] = []
    if r.kind == "cxr":
        parts.append(a.cxr or "not given")
    elif r.kind == "bone":
        parts += [f"{sop}: fracture {'present' if v else 'absent'}"
                  for sop, v in a.fracture_by_image.items()] or ["not given"]
    else:
        parts += [f"{side}: BI-RADS {b.birads if b.birads is not None else '-'}, "
                  f"density {b.density or '-'}" for side, b in sorted(a.breasts.items())]
        parts = parts or ["not given"]
    return "; ".join(parts)
