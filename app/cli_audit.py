"""``tandem audit --since DATE --until DATE --csv FILE``: the practice's double-reading audit.

Prints, per model, the cases double-read in the period, the reader/AI agreement rate,
the AI-only findings and what the readers decided about them, and the median time per
case (:mod:`reading.audit_report` defines each number); ``--csv`` writes one row per
case and model. Exit 0; 2 for a malformed date.
"""

from __future__ import annotations

import sys
from dataclasses import asdict
from pathlib import Path

from app.cli import print_json
from imaging.db import StudyDatabase
from reading.audit_report import ModelStats, audit_rows, model_stats, write_audit_csv
from reading.store import ReadingStore

USAGE_ERROR = 2


def run_audit(*, since: str | None, until: str | None, csv_path: Path | None,
              as_json: bool) -> int:
    with StudyDatabase() as db:
        store = ReadingStore(db.path)
        try:
            rows = audit_rows(store, since=since, until=until)
        except ValueError as exc:  # a malformed --since/--until, named by the store
            print(f"tandem audit: {exc}", file=sys.stderr)
            return USAGE_ERROR
        finally:
            store.close()
    stats = model_stats(rows)
    if csv_path is not None:
        write_audit_csv(csv_path, rows)
    readings = len({r.reading_id for r in rows})
    if as_json:
        print_json({"since": since, "until": until, "readings": readings,
                    "models": [asdict(s) for s in stats],
                    "csv": None if csv_path is None else str(csv_path)})
    else:
        _print_table(stats, readings, since, until)
        if csv_path is not None:
            print(f"wrote {csv_path} ({len(rows)} rows)")
    return 0


def _print_table(stats: list[ModelStats], readings: int, since: str | None,
                 until: str | None) -> None:
    period = f"{since or 'the beginning'} to {until or 'now'}"
    print(f"{readings} double read(s) signed from {period}")
    if not stats:
        print("no model result was compared in this period")
        return
    print(f"{'model':<22} {'cases':>5} {'agree':>6} {'AI-only':>7} {'accepted':>8} "
          f"{'dismissed':>9} {'median time':>11}")
    for s in stats:
        rate = "—" if s.agreement_rate is None else f"{100 * s.agreement_rate:.0f}%"
        time = "—" if s.median_seconds is None else f"{s.median_seconds:.0f} s"
        print(f"{s.model_id:<22} {s.cases:>5} {rate:>6} {s.ai_only:>7} {s.accepted:>8} "
              f"{s.dismissed:>9} {time:>11}")
