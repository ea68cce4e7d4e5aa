"""``tandem import``: index files into the study database (referenced in place or copied)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from app.cli import print_json
from imaging.db import StudyDatabase
from imaging.importer import ImportReport, import_paths
from imaging.paths import database_path


def run_import(paths: list[Path], *, copy: bool, as_json: bool) -> int:
    for p in paths:
        if not p.exists():
            print(f"tandem import: {p}: no such file or folder", file=sys.stderr)
    db = StudyDatabase(database_path())
    try:
        report = import_paths(db, [p for p in paths if p.exists()], copy=copy,
                              progress=None if as_json else _progress_printer())
    finally:
        db.close()
    if as_json:
        print_json(_report_dict(report))
    else:
        _print_summary(report)
    return 0


def _progress_printer() -> Callable[[int, int | None, Path | None], None]:
    """Progress on stderr, one line rewritten in place when stderr is a terminal."""
    interactive = sys.stderr.isatty()

    def progress(done: int, total: int | None, current: Path | None) -> None:
        if interactive:
            of = f"/{total}" if total else ""
            print(f"\rimporting {done}{of}", end="", file=sys.stderr, flush=True)

    return progress


def _report_dict(report: ImportReport) -> dict[str, object]:
    return {
        "database": str(database_path()),
        "found": report.found,
        "new": report.new,
        "skipped_unchanged": report.skipped_unchanged,
        "duplicates": report.duplicates,
        "cancelled": report.cancelled,
        "warnings": [{"path": str(w.path), "kind": w.kind, "message": w.message}
                     for w in report.warnings],
        "errors": [{"path": str(e.path), "kind": e.kind, "message": e.message}
                   for e in report.errors],
        "studies": len(report.studies),
        "series": len(report.series),
        "seconds": round(report.elapsed_s, 3),
    }


def _print_summary(report: ImportReport) -> None:
    if sys.stderr.isatty():
        print(file=sys.stderr)
    for e in report.errors:
        print(f"ERROR  {e.path}: {e.message}")
    for w in report.warnings:
        print(f"WARN   {w.path}: {w.message}")
    print(f"{report.found} files found: {report.new} new, {report.skipped_unchanged} unchanged, "
          f"{report.duplicates} duplicates, {len(report.errors)} unreadable; "
          f"{len(report.studies)} studies, "
          f"{len(report.series)} series in {report.elapsed_s:.1f} s")
    print(f"database: {database_path()}")
