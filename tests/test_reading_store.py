"""ReadingStore: versions, sign-off immutability, the hash-chained audit trail, crash safety."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from imaging.db import StudyDatabase
from reading.model import Assessment, Mark, Reading, ReadingError
from reading.store import ReadingLocked, ReadingStore, default_reader

REPO = Path(__file__).resolve().parents[1]
STUDY = "1.2.826.0.1.3680043.8.498.1"
SOP = "1.2.826.0.1.3680043.8.498.1.1"


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "studies.sqlite"


@pytest.fixture
def store(db_path: Path) -> Iterator[ReadingStore]:
    s = ReadingStore(db_path)
    yield s
    s.close()


def _mark(n: int, label: str = "nodule_mass") -> Mark:
    return Mark(id=f"m{n}", sop_instance_uid=SOP, frame=0, shape="box",
                points=((10.0 + n, 20.0), (30.0 + n, 45.0)), label=label)


def _signed_first(store: ReadingStore) -> Reading:
    r = store.start(STUDY, "alice", "cxr", blinded=True)
    r = store.save(replace(r, marks=(_mark(1),)), "mark_added", {"mark_id": "m1"})
    return store.sign(r.reading_id)


def test_shares_the_study_database_file(db_path: Path) -> None:
    db = StudyDatabase(db_path)
    store = ReadingStore(db.path)
    reading = store.start(STUDY, "alice", "cxr", blinded=True)
    store.close()
    db.close()
    # both schemas live in one file, each with its own version table; reopening migrates nothing
    with sqlite3.connect(db_path) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert {"studies", "schema_version", "reading_versions", "reading_audit",
            "reading_concordance", "reading_schema_version"} <= tables
    again = ReadingStore(db_path)
    assert again.current(STUDY) == reading
    again.close()
    StudyDatabase(db_path).close()


def test_start_resumes_the_draft_and_audits_once(store: ReadingStore) -> None:
    first = store.start(STUDY, "alice", "cxr", blinded=True)
    assert (first.version, first.purpose, first.state, first.blinded) == (1, "first", "draft",
                                                                          True)
    assert first.started_at.endswith("+00:00")
    assert store.start(STUDY, "alice", "cxr", blinded=True) == first
    assert [e.action for e in store.audit()] == ["reading_started"]
    assert store.statuses() == {STUDY: "in_progress"}


def test_save_persists_each_edit_with_one_audit_event(db_path: Path,
                                                      store: ReadingStore) -> None:
    r = store.start(STUDY, "alice", "cxr", blinded=False)
    r = store.save(replace(r, marks=(_mark(1),)), "mark_added", {"mark_id": "m1"})
    moved = replace(_mark(1), points=((12.0, 22.0), (32.0, 47.0)))
    r = store.save(replace(r, marks=(moved,)), "mark_moved", {"mark_id": "m1", "dx": 2, "dy": 2})
    r = store.save(replace(r, assessment=Assessment(cxr="abnormal"), text="nodule LUL"),
                   "assessment_changed", {"cxr": "abnormal"})
    other = ReadingStore(db_path)  # another connection sees every committed edit
    back = other.current(STUDY)
    other.close()
    assert back == r and back is not None
    assert back.marks[0].points == ((12.0, 22.0), (32.0, 47.0))
    events = store.audit(study_uid=STUDY)
    assert [e.action for e in events] == ["reading_started", "mark_added", "mark_moved",
                                         "assessment_changed"]
    assert events[2].detail == {"mark_id": "m1", "dx": 2, "dy": 2}
    assert [e.seq for e in events] == [1, 2, 3, 4]
    assert store.verify_audit() == []


def test_save_validates_and_keeps_identity(store: ReadingStore) -> None:
    r = store.start(STUDY, "alice", "cxr", blinded=True)
    with pytest.raises(ReadingError) as bad:
        store.save(replace(r, marks=(_mark(1, label="fracture"),)), "mark_added")
    assert bad.value.path == "marks[0].label"
    with pytest.raises(ValueError, match="version cannot change"):
        store.save(replace(r, version=3), "text_changed")
    with pytest.raises(KeyError):
        store.save(replace(r, reading_id="nope"), "text_changed")
    assert [e.action for e in store.audit()] == ["reading_started"]  # nothing half-written


def test_signed_reading_cannot_change(db_path: Path, store: ReadingStore) -> None:
    signed = _signed_first(store)
    assert signed.signed and signed.signed_at
    assert store.audit()[-1].detail == {"version": 1, "purpose": "first"}
    with pytest.raises(ReadingLocked):
        store.save(replace(signed, state="draft", text="changed"), "text_changed")
    with pytest.raises(ReadingLocked):
        store.save(signed, "text_changed")
    with pytest.raises(ReadingLocked):
        store.sign(signed.reading_id)
    # SQLite itself refuses, whoever writes
    conn = sqlite3.connect(db_path)
    with pytest.raises(sqlite3.IntegrityError, match="signed reading is never changed"):
        conn.execute("UPDATE reading_versions SET body = '{}' WHERE reading_id = ?",
                     (signed.reading_id,))
    with pytest.raises(sqlite3.IntegrityError, match="never deleted"):
        conn.execute("DELETE FROM reading_versions WHERE reading_id = ?", (signed.reading_id,))
    conn.close()
    assert store.get(signed.reading_id) == signed
    assert store.start(STUDY, "alice", "cxr", blinded=True) == signed  # no second first read


def test_amendment_is_a_new_version_pointing_back(store: ReadingStore) -> None:
    signed = _signed_first(store)
    amend = store.follow_up(signed.reading_id, "amendment")
    assert (amend.version, amend.purpose, amend.previous_id, amend.state) == (
        2, "amendment", signed.reading_id, "draft")
    assert amend.marks == signed.marks and amend.reading_id != signed.reading_id
    assert store.follow_up(signed.reading_id, "amendment") == amend  # no fork
    with pytest.raises(ValueError, match="open draft"):
        store.follow_up(signed.reading_id, "final")
    with pytest.raises(ValueError, match="sign it"):
        store.follow_up(amend.reading_id, "amendment")
    amend = store.save(replace(amend, marks=()), "mark_deleted", {"mark_id": "m1"})
    store.sign(amend.reading_id)
    assert [v.version for v in store.versions(STUDY)] == [1, 2]
    assert store.versions(STUDY)[0] == signed  # the old version is untouched
    latest = store.latest_signed(STUDY)
    assert latest is not None and latest.marks == () and latest.purpose == "amendment"
    assert store.statuses() == {STUDY: "amended"}


def test_statuses_and_concordance(store: ReadingStore) -> None:
    signed = _signed_first(store)
    assert store.statuses() == {STUDY: "read"}
    pairs: list[dict[str, Any]] = [{"status": "agreed"}, {"status": "ai_only", "decision": None},
             {"status": "reader_only"}]
    store.save_concordance(signed.reading_id, {"pairs": pairs, "cases": [],
                                               "discordant": True})
    assert store.statuses() == {STUDY: "discordant"}
    assert store.concordance(signed.reading_id) == {"pairs": pairs, "cases": [],
                                                    "discordant": True}
    assert store.audit()[-1].action == "concordance"
    assert store.audit()[-1].detail == {"agreed": 1, "ai_only": 1, "reader_only": 1,
                                        "discordant": True}
    # without an explicit flag it is derived: an accepted AI-only finding is not discordant
    pairs[1]["decision"] = "accepted"
    store.save_concordance(signed.reading_id, {"pairs": pairs, "cases": []})
    assert store.statuses() == {STUDY: "read"}
    final = store.follow_up(signed.reading_id, "final")
    assert store.statuses() == {STUDY: "read"}  # the newest SIGNED version decides
    store.sign(final.reading_id)
    store.save_concordance(final.reading_id, {"pairs": [], "cases": [
        {"agreement": "disagree"}]})
    assert store.statuses() == {STUDY: "discordant"}
    assert store.concordance("unknown") is None
    store.start("2.25.9", "bob", "mammo", blinded=False)
    assert store.statuses()["2.25.9"] == "in_progress"


def test_import_keeps_state_and_takes_next_version(store: ReadingStore) -> None:
    signed = _signed_first(store)
    incoming = Reading(reading_id="ext-1", study_instance_uid=STUDY, reader="research",
                       kind="cxr", state="signed", version=7, marks=(_mark(2),))
    stored = store.import_reading(incoming)
    assert (stored.version, stored.state, stored.reader) == (2, "signed", "research")
    assert stored.signed_at and stored.started_at
    assert store.get("ext-1") == stored
    with pytest.raises(ValueError, match="already stored"):
        store.import_reading(incoming)
    draft = store.import_reading(replace(incoming, reading_id="ext-2", state="draft"))
    assert draft.version == 3 and not draft.signed
    with pytest.raises(ValueError, match="open draft"):
        store.import_reading(replace(incoming, reading_id="ext-3"))
    assert store.audit()[-1].action == "imported"
    assert [v.reading_id for v in store.versions(STUDY)] == [signed.reading_id, "ext-1",
                                                            "ext-2"]


def test_audit_rows_are_immutable_and_hash_chained(db_path: Path,
                                                   store: ReadingStore) -> None:
    _signed_first(store)
    store.record(STUDY, "alice", "ai_shown", {"model_id": "cxr_normality",
                                              "sha256": "ab" * 32, "sop_instance_uid": SOP})
    store.record(STUDY, "alice", "exported", {"what": "sr", "path": "/tmp/x"})
    assert store.verify_audit() == []
    conn = sqlite3.connect(db_path, isolation_level=None)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE reading_audit SET reader = 'mallory' WHERE seq = 2")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM reading_audit WHERE seq = 2")
    # someone with raw file access drops the triggers and rewrites history
    conn.execute("DROP TRIGGER reading_audit_no_update")
    conn.execute("""UPDATE reading_audit SET detail = '{"mark_id":"forged"}' WHERE seq = 2""")
    problems = store.verify_audit()
    assert len(problems) == 1 and problems[0].startswith("audit row 2 (mark_added")
    conn.execute("DROP TRIGGER reading_audit_no_delete")
    conn.execute("DELETE FROM reading_audit WHERE seq = 4")
    conn.close()
    problems = store.verify_audit()
    assert "audit rows 4..4 are missing" in problems
    assert any(p.startswith("audit row 5 ") for p in problems)  # chain broken after the gap


def test_audit_period_filter_is_inclusive(store: ReadingStore) -> None:
    _signed_first(store)
    events = store.audit()
    day = events[0].at[:10]
    assert store.audit(since=day, until=day) == events
    assert store.audit(until=events[1].at) == events[:2]
    assert store.audit(since=events[1].at) == events[1:]
    assert store.audit(since=events[0].at[:19]) == events  # to the second, no zone: UTC
    assert store.audit(since="2999-01-01") == []
    assert store.audit(study_uid="other") == []
    with pytest.raises(ValueError, match="not an ISO 8601 date"):
        store.audit(since="last tuesday")


def test_concurrent_writers_keep_the_chain(db_path: Path) -> None:
    """Two stores (two connections, two threads) appending at once never fork the chain."""
    stores = [ReadingStore(db_path), ReadingStore(db_path)]

    def work(i: int) -> None:
        for n in range(40):
            stores[i].record(f"2.25.{i}", f"r{i}", "opened", {"n": n})

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(stores[0].audit()) == 80
    assert stores[0].verify_audit() == []
    for s in stores:
        s.close()


def test_default_reader_is_a_name() -> None:
    assert default_reader().strip() != ""


def test_sigkill_mid_edit_loses_nothing_that_returned(tmp_path: Path) -> None:
    db_path = tmp_path / "studies.sqlite"
    child = subprocess.Popen([sys.executable, str(REPO / "tests" / "reading_crash_child.py"),
                              str(db_path), STUDY], stdout=subprocess.PIPE, text=True,
                             cwd=REPO, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert child.stdout is not None
    reported = 0
    try:
        for line in child.stdout:
            if line.startswith("saved"):
                reported = int(line.split()[1])
                if reported >= 25:
                    break
    finally:
        child.send_signal(signal.SIGKILL)  # while it is still writing mark 26, 27...
        child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL
    assert reported >= 25

    store = ReadingStore(db_path)
    reading = store.current(STUDY)
    assert reading is not None and not reading.signed
    n = len(reading.marks)
    assert n >= reported  # every save that returned is there (maybe a few more)
    assert [m.id for m in reading.marks] == [f"m{i}" for i in range(n)]  # a clean prefix
    assert reading.text == f"{n} marks"  # the whole reading JSON of that edit, not a part
    events = store.audit(study_uid=STUDY)
    assert [e.action for e in events] == ["reading_started"] + ["mark_added"] * n
    assert [e.detail["mark_id"] for e in events[1:]] == [m.id for m in reading.marks]
    assert store.verify_audit() == []
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # the reopened store continues the same chain, then signing locks the result
    reading = store.save(replace(reading, text="done"), "text_changed")
    signed = store.sign(reading.reading_id)
    with pytest.raises(ReadingLocked):
        store.save(replace(signed, state="draft"), "mark_deleted")
    assert store.verify_audit() == []
    store.close()
