"""``tandem deidentify PATH... --out DIR``: de-identified copies of DICOM files for sharing.

PS3.15 Basic Application Level Confidentiality Profile with the options named on the command
line (see :mod:`imaging.deidentify`). Every refused file is reported on stderr with the
reason; the others are written. Exit 0 when every file was written, 1 when some were
refused, 2 for a usage error. Nothing patient-identifying is printed: only paths, UIDs
(new ones) and counts.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from imaging.deidentify import DeidOptions, deidentify_files

USAGE_ERROR = 2
SOME_REFUSED = 1


def add_deidentify_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("deidentify", help="de-identified copies of DICOM files (PS3.15 Basic "
                       "Profile); pixel data is not cleaned")
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="DICOM files or folders")
    p.add_argument("--out", type=Path, required=True, metavar="DIR",
                   help="output folder (<study uid>/<series uid>/<sop uid>.dcm)")
    dates = p.add_mutually_exclusive_group()
    dates.add_argument("--keep-dates", action="store_const", const="keep", dest="dates",
                       help="Retain Longitudinal Temporal Information, Full Dates Option")
    dates.add_argument("--shift-dates", action="store_const", const="shift", dest="dates",
                       help="... Modified Dates Option: dates moved by a per-patient offset")
    p.add_argument("--keep-patient-characteristics", action="store_true",
                   help="Retain Patient Characteristics Option (sex, age, size, weight...)")
    p.add_argument("--keep-device", action="store_true", help="Retain Device Identity Option")
    p.add_argument("--keep-institution", action="store_true",
                   help="Retain Institution Identity Option")
    p.add_argument("--keep-descriptors", action="store_true",
                   help="Clean Descriptors Option: keep descriptions, with the patient's own "
                   "names/IDs masked (default: descriptions removed)")
    p.add_argument("--keep-uids", action="store_true", help="Retain UIDs Option")
    p.add_argument("--patient-name", help="Patient's Name to write (default: a pseudonym)")
    p.add_argument("--patient-id", help="Patient ID to write (default: a pseudonym)")
    p.add_argument("--json", action="store_true", help="print the per-file summary as JSON")


def run_deidentify(opts: argparse.Namespace) -> int:
    missing = [p for p in opts.paths if not p.exists()]
    if missing:
        print(f"tandem deidentify: {missing[0]}: no such file or folder", file=sys.stderr)
        return USAGE_ERROR
    out_dir = opts.out.resolve()
    if any(out_dir == p.resolve() for p in opts.paths if p.is_dir()):
        print("tandem deidentify: --out must not be an input folder", file=sys.stderr)
        return USAGE_ERROR
    options = DeidOptions(
        dates=opts.dates or "remove",
        keep_patient_characteristics=opts.keep_patient_characteristics,
        keep_device_identity=opts.keep_device, keep_institution_identity=opts.keep_institution,
        clean_descriptors=opts.keep_descriptors, keep_uids=opts.keep_uids,
        patient_name=opts.patient_name, patient_id=opts.patient_id)
    summary = deidentify_files(opts.paths, out_dir, options)
    for outcome in summary.outcomes:
        if outcome.error is not None:
            print(f"tandem deidentify: {outcome.error}", file=sys.stderr)
        for warning in outcome.warnings:
            print(f"warning: {warning.message}", file=sys.stderr)
    if opts.json:
        json.dump(summary.to_json(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(f"{len(summary.written)} file(s) written to {out_dir}, "
              f"{len(summary.failed)} refused ({summary.seconds:.1f} s)")
    return SOME_REFUSED if summary.failed else 0
