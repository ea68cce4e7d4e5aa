"""The practice audit: how the radiologists' double reads compare with each model, over a period.

**Which readings count**: each reading *signed* in the period (its audit "signed" event)
that closes a double read: a ``final`` reading (after a blinded first read) or a ``first``
reading made unblinded (the AI was shown from the start). Blinded first reads are counted
through their final reading; amendments correct a case already counted and are left out.

**One row per such reading and model** found in its stored concordance (a reading without
a stored concordance, or whose concordance names no model, gives one row with an empty
``model_id``: it still counts in reading times, not in model statistics).

- ``seconds``: from the start of the *first* read of the chain to this reading's sign-off
  (the whole double read, AI review included); None when a time is missing.
- ``agreed`` / ``ai_only``: the concordance's pairs of that model; ``ai_only_accepted`` /
  ``ai_only_dismissed``: the reader's decisions on those AI-only findings.
- ``reader_only``: marks no finding matched. A reader-only mark belongs to no model, so
  every model row of the reading carries the reading's count.
- ``case_agreement``: ``disagree`` if any case comparison of that model disagrees, else
  ``agree`` if at least one agrees, else ``undetermined`` (``""`` without comparisons).
"""

from __future__ import annotations

import csv
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import astuple, dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any

from reading.model import Reading
from reading.store import ReadingStore


@dataclass(frozen=True)
class CaseRow:
    study_instance_uid: str
    reading_id: str
    reader: str
    kind: str
    started_at: str  # ISO 8601 UTC, start of the first read
    signed_at: str  # ISO 8601 UTC, sign-off of this reading
    seconds: float | None
    model_id: str
    agreed: int
    ai_only: int
    ai_only_accepted: int
    ai_only_dismissed: int
    reader_only: int
    case_agreement: str  # "agree" | "disagree" | "undetermined" | ""


@dataclass(frozen=True)
class ModelStats:
    model_id: str
    cases: int
    agreement_rate: float | None  # agree / (agree + disagree); None when nothing was decided
    ai_only: int
    accepted: int
    dismissed: int
    median_seconds: float | None


def audit_rows(store: ReadingStore, *, since: str | None, until: str | None) -> list[CaseRow]:
    """The audit rows of readings signed between ``since`` and ``until`` (inclusive ISO)."""
    rows: list[CaseRow] = []
    seen: set[str] = set()
    for event in store.audit(since=since, until=until):
        if event.action != "signed" or not event.reading_id or event.reading_id in seen:
            continue
        seen.add(event.reading_id)
        reading = store.get(event.reading_id)
        if reading is None or not reading.signed or not _closes_double_read(reading):
            continue
        started = _first_read(store, reading).started_at
        signed = reading.signed_at or event.at
        base = (reading.study_instance_uid, reading.reading_id, reading.reader, reading.kind,
                started, signed, _seconds(started, signed))
        concordance = store.concordance(reading.reading_id) or {}
        per_model = _per_model(concordance)
        if not per_model:
            rows.append(CaseRow(*base, "", 0, 0, 0, 0, _reader_only(concordance), ""))
        for model_id, c in per_model.items():
            rows.append(CaseRow(*base, model_id, c["agreed"], c["ai_only"],
                                c["ai_only_accepted"], c["ai_only_dismissed"],
                                c["reader_only"], c["case_agreement"]))
    return rows


def model_stats(rows: Sequence[CaseRow]) -> list[ModelStats]:
    """Per model (sorted by id): cases, agreement rate, AI-only findings and decisions, time."""
    by_model: dict[str, list[CaseRow]] = {}
    for row in rows:
        if row.model_id:
            by_model.setdefault(row.model_id, []).append(row)
    out = []
    for model_id in sorted(by_model):
        items = by_model[model_id]
        agree = sum(1 for r in items if r.case_agreement == "agree")
        disagree = sum(1 for r in items if r.case_agreement == "disagree")
        times = [r.seconds for r in items if r.seconds is not None]
        out.append(ModelStats(
            model_id=model_id, cases=len(items),
            agreement_rate=agree / (agree + disagree) if agree + disagree else None,
            ai_only=sum(r.ai_only for r in items),
            accepted=sum(r.ai_only_accepted for r in items),
            dismissed=sum(r.ai_only_dismissed for r in items),
            median_seconds=statistics.median(times) if times else None))
    return out


CSV_DELIMITER = ";"


def write_audit_csv(path: Path, rows: Sequence[CaseRow]) -> Path:
    """Write ``rows`` as CSV: header row, ``;``-separated, UTF-8 with a byte-order mark.

    Why: Excel in a French locale splits on ``;`` (its list separator, since ``,`` is the
    decimal mark) and reads a file as UTF-8 only when it starts with a BOM; Python's
    ``csv`` (``encoding="utf-8-sig"``), R and LibreOffice read it as well. Numbers are
    integers (seconds rounded) so no decimal mark can be misread; times stay ISO 8601 UTC
    as stored in the audit trail. Text that a spreadsheet would run as a formula
    (``=``, ``+``, ``-``, ``@``) is prefixed with ``'``.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=CSV_DELIMITER, lineterminator="\r\n")
        writer.writerow([f.name for f in fields(CaseRow)])
        for row in rows:
            writer.writerow([_cell(v) for v in astuple(row)])
    return path


# --------------------------------------------------------------------------- helpers


def _closes_double_read(reading: Reading) -> bool:
    return reading.purpose == "final" or (reading.purpose == "first" and not reading.blinded)


def _first_read(store: ReadingStore, reading: Reading) -> Reading:
    """Follow ``previous_id`` back to the first version of the chain."""
    current, hops = reading, 0
    while current.previous_id and hops < 100:  # a broken chain never loops forever
        previous = store.get(current.previous_id)
        if previous is None:
            break
        current, hops = previous, hops + 1
    return current


def _seconds(started: str, signed: str) -> float | None:
    try:
        delta = datetime.fromisoformat(signed) - datetime.fromisoformat(started)
    except (TypeError, ValueError):
        return None
    return max(delta.total_seconds(), 0.0)


def _reader_only(concordance: Mapping[str, Any]) -> int:
    return sum(1 for p in concordance.get("pairs") or () if p.get("status") == "reader_only")


def _per_model(concordance: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    reader_only = _reader_only(concordance)
    models: dict[str, dict[str, Any]] = {}

    def entry(model_id: str) -> dict[str, Any]:
        return models.setdefault(model_id, dict(
            agreed=0, ai_only=0, ai_only_accepted=0, ai_only_dismissed=0,
            reader_only=reader_only, case_agreement=""))

    for pair in concordance.get("pairs") or ():
        ai = pair.get("ai")
        if not ai:
            continue
        counts = entry(str(ai.get("model_id", "")))
        if pair.get("status") == "agreed":
            counts["agreed"] += 1
        elif pair.get("status") == "ai_only":
            counts["ai_only"] += 1
            if pair.get("decision") == "accepted":
                counts["ai_only_accepted"] += 1
            elif pair.get("decision") == "dismissed":
                counts["ai_only_dismissed"] += 1
    verdicts: dict[str, set[str]] = {}
    for case in concordance.get("cases") or ():
        model_id = str(case.get("model_id", ""))
        entry(model_id)
        verdicts.setdefault(model_id, set()).add(str(case.get("agreement", "")))
    for model_id, seen in verdicts.items():
        models[model_id]["case_agreement"] = (
            "disagree" if "disagree" in seen else "agree" if "agree" in seen
            else "undetermined")
    return models


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return round(value)
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value
