"""``tandem inspect``: every file's verdict and every series, as text or JSON.

Runs the same discovery as an import (header-only), without touching the
database; ``--decode`` also decodes every image in an isolated worker with a
per-file timeout, so a hostile file can neither crash nor hang the run.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from app.cli import print_json
from imaging.discover import DiscoveryReport, FileVerdict, discover
from imaging.errors import DicomFileError
from imaging.series import SeriesCandidate


def run_inspect(paths: list[Path], *, as_json: bool, decode: bool, timeout: float) -> int:
    missing = [p for p in paths if not p.exists()]
    for p in missing:
        print(f"tandem inspect: {p}: no such file or folder", file=sys.stderr)
    report = discover([p for p in paths if p.exists()])
    files = [_file_entry(v) for v in report.files]
    if decode:
        _decode_all(report, files, timeout)
    result = {
        "files": files,
        "series": [_series_entry(s) for s in report.series],
        "summary": _summary(files, report),
    }
    if as_json:
        print_json(result)
    else:
        _print_text(result)
    return 0


def _file_entry(verdict: FileVerdict) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "path": str(verdict.path),
        "status": verdict.status,
        "error": verdict.message if verdict.status == "error" else None,
        "error_kind": verdict.kind if verdict.status == "error" else None,
        "warnings": [{"kind": w.kind, "message": w.message} for w in verdict.warnings],
    }
    header = verdict.header
    if header is not None:
        entry.update(
            sop_instance_uid=header.sop_instance_uid,
            series_instance_uid=header.series_instance_uid,
            modality=header.modality,
            transfer_syntax=header.transfer_syntax_uid,
            has_pixel_data=header.has_pixel_data,
        )
    return entry


def _series_entry(series: SeriesCandidate) -> dict[str, Any]:
    return {
        "patient_id": series.patient_id,
        "study_instance_uid": series.study_instance_uid,
        "series_instance_uid": series.series_instance_uid,
        "key": series.key,  # UID, or UID#part when one UID had to be split
        "part": series.part_label or None,
        "series_number": series.number,
        "description": series.description,
        "modality": series.modality,
        "images": series.image_count,
        "dimensions": [series.columns, series.rows, series.image_count],
        "spacing": list(series.spacing) if series.spacing is not None else None,
        "warnings": [{"kind": w.kind, "message": w.message} for w in series.warnings],
    }


def _decode_all(report: DiscoveryReport, files: list[dict[str, Any]], timeout: float) -> None:
    """Decode every image file in isolated workers; record the pixel verdict per file."""
    from imaging.isolation import DecoderPool

    by_path = {entry["path"]: entry for entry in files}
    images = [v.path for v in report.files if v.header is not None and v.header.is_image]
    pool = DecoderPool(timeout=timeout)
    try:
        outcomes = list(pool.decode_many(images))
    finally:
        pool.close()
    for path, outcome in outcomes:
        entry = by_path[str(path)]
        if isinstance(outcome, DicomFileError):
            entry.update(status="error", error=outcome.message, error_kind=outcome.kind,
                         pixels=None)
        else:
            entry["pixels"] = {"shape": list(outcome.array.shape), "decoder": outcome.decoder}
            entry["warnings"].extend({"kind": w.kind, "message": w.message}
                                     for w in outcome.warnings)


def _summary(files: list[dict[str, Any]], report: DiscoveryReport) -> dict[str, int]:
    return {
        "files": len(files),
        "ok": sum(f["status"] == "ok" for f in files),
        "errors": sum(f["status"] == "error" for f in files),
        "series": len(report.series),
        "decoded": sum(1 for f in files if f.get("pixels")),
    }


def _print_text(result: dict[str, Any]) -> None:
    for f in result["files"]:
        if f["status"] == "error":
            print(f"ERROR  {f['path']}: {f['error']}")
        for w in f["warnings"]:
            print(f"WARN   {f['path']}: {w['message']}")
    for s in result["series"]:
        dims = "x".join(str(d) for d in s["dimensions"])
        print(f"SERIES {s['modality']:<3} {dims:<14} {s['description'] or '-'} "
              f"[{s['series_instance_uid']}]")
        for w in s["warnings"]:
            print(f"       ! {w['message']}")
    summary = result["summary"]
    print(f"{summary['files']} files: {summary['ok']} ok, {summary['errors']} errors; "
          f"{summary['series']} series")
