"""The ``tandem`` command: the GUI by default, and headless subcommands on the same code paths.

``tandem [PATH...]`` starts the workstation (opening PATH); ``tandem inspect|import|render``
print or write what the GUI would show, ``tandem models|analyze`` list and run the local AI
models, and ``tandem reading|compare|export|audit`` give the double read (the radiologist's reading,
its concordance with the AI, SR/PDF exports, the practice audit), so tests, benchmarks and scripts
drive the product; ``tandem pacs|listen`` talk DICOM with the practice's PACS and modalities.
Heavy modules (Qt, VTK, decoders) are imported inside each command, so ``tandem --version``
and ``tandem inspect`` start fast and never need a display.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

SUBCOMMANDS = ("inspect", "import", "render", "models", "analyze", "reading", "compare", "export",
               "audit", "pacs", "listen", "deidentify", "doctor")


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in ("-v", "--verbose") and args[1:2] and args[1] in SUBCOMMANDS:
        return _run_subcommand(args)
    if args and args[0] in SUBCOMMANDS:
        return _run_subcommand(args)
    return _run_gui(args)


def _version() -> str:
    try:
        return metadata.version("tandem")
    except metadata.PackageNotFoundError:
        return "unknown"


def _run_gui(args: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="tandem",
        description="Tandem radiology workstation. Subcommands: " + ", ".join(SUBCOMMANDS)
        + " (tandem SUBCOMMAND --help).",
    )
    parser.add_argument("--version", action="version", version=f"tandem {_version()}")
    parser.add_argument("paths", nargs="*", type=Path, help="folder, files or DICOMDIR to open")
    opts = parser.parse_args(args)
    from app.gui import run_gui

    return run_gui(list(opts.paths))


def _run_subcommand(args: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="tandem")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="log at debug level (the log is in the data folder's logs/)")
    sub = parser.add_subparsers(dest="command", required=True)

    p_inspect = sub.add_parser("inspect", help="list files, verdicts and series (no database)")
    p_inspect.add_argument("paths", nargs="+", type=Path)
    p_inspect.add_argument("--json", action="store_true", help="print JSON")
    p_inspect.add_argument("--decode", action="store_true",
                           help="also decode every image (isolated, with a per-file timeout)")
    p_inspect.add_argument("--timeout", type=float, default=30.0,
                           help="per-file decode timeout in seconds (with --decode)")

    p_import = sub.add_parser("import", help="index files into the study database")
    p_import.add_argument("paths", nargs="+", type=Path)
    p_import.add_argument("--copy", action="store_true",
                          help="copy files into Tandem's storage (what a CD import needs)")
    p_import.add_argument("--json", action="store_true", help="print the summary as JSON")

    p_render = sub.add_parser("render", help="render a series offscreen to a PNG")
    p_render.add_argument("path", type=Path)
    p_render.add_argument("--out", type=Path, required=True)
    p_render.add_argument("--series", help="SeriesInstanceUID (default: the first image series)")
    p_render.add_argument("--slice", type=int, default=None, help="0-based slice (default: middle)")
    p_render.add_argument("--window", help="window centre,width (e.g. -600,1500)")
    p_render.add_argument("--preset", help="W/L preset name (lung, mediastinum, bone, brain)")
    p_render.add_argument("--layout", default="1x1", choices=["1x1", "1x2", "2x2", "mammo4", "mpr"])
    p_render.add_argument("--size", default="768x768", help="WIDTHxHEIGHT in pixels")
    p_render.add_argument("--deidentify", action="store_true",
                          help="no name, ID, birth date, accession or dates in the corners")

    p_models = sub.add_parser("models", help="list the AI models and whether they can run")
    p_models.add_argument("--json", action="store_true", help="print JSON")
    p_models.add_argument("--models-dir", type=Path, help="also look for models here (first)")
    from app.cli_calibrate import add_calibrate_parser
    add_calibrate_parser(p_models.add_subparsers(dest="models_command"))

    p_analyze = sub.add_parser("analyze", help="run the AI models on images (research use only)")
    p_analyze.add_argument("paths", nargs="+", type=Path,
                           help="DICOM files or folders, PNG or JPEG images")
    p_analyze.add_argument("--model", action="append", dest="models", metavar="ID",
                           help="model id (repeatable; default: every valid model)")
    p_analyze.add_argument("--json", action="store_true", help="print JSON")
    p_analyze.add_argument("--heatmap-out", type=Path, metavar="DIR",
                           help="write each heatmap as <key>.npy and a colour <key>.png")
    p_analyze.add_argument("--models-dir", type=Path, help="also look for models here (first)")

    _add_reading_parsers(sub)
    from app.cli_pacs import add_pacs_parsers
    add_pacs_parsers(sub)
    from app.cli_deidentify import add_deidentify_parser
    add_deidentify_parser(sub)
    from app.cli_doctor import add_doctor_parser
    add_doctor_parser(sub)
    opts = parser.parse_args(args)
    _start_logging(verbose=opts.verbose)
    if opts.command == "doctor":
        from app.cli_doctor import run_doctor
        return run_doctor(opts)
    if opts.command == "deidentify":
        from app.cli_deidentify import run_deidentify
        return run_deidentify(opts)
    if opts.command == "pacs":
        from app.cli_pacs import run_pacs
        return run_pacs(opts)
    if opts.command == "listen":
        from app.cli_pacs import run_listen
        return run_listen(opts)
    if opts.command in ("reading", "compare", "export", "audit"):
        return _run_reading_command(opts)
    if opts.command == "models" and opts.models_command == "calibrate":
        from app.cli_calibrate import run_calibrate
        return run_calibrate(opts)
    if opts.command == "models":
        from app.cli_models import run_models

        return run_models(as_json=opts.json, models_dir=opts.models_dir)
    if opts.command == "analyze":
        from app.cli_analyze import run_analyze

        return run_analyze(opts.paths, model_ids=opts.models, as_json=opts.json,
                           heatmap_out=opts.heatmap_out, models_dir=opts.models_dir)
    if opts.command == "inspect":
        from app.cli_inspect import run_inspect

        return run_inspect(opts.paths, as_json=opts.json, decode=opts.decode,
                           timeout=opts.timeout)
    if opts.command == "import":
        from app.cli_import import run_import

        return run_import(opts.paths, copy=opts.copy, as_json=opts.json)
    from app.cli_render import run_render

    return run_render(opts)


def _start_logging(*, verbose: bool) -> None:
    """The same data folder as the GUI (the one chosen at the first start), and its log."""
    import logging

    from app.logs import setup_logging
    from app.settings import Settings, apply_data_folder
    from imaging.paths import data_dir

    apply_data_folder(Settings())
    setup_logging(data_dir(), logging.DEBUG if verbose else None)


def _add_reading_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    study_help = "Study Instance UID, a unique prefix of it, or a DICOM file/folder (imported)"
    p_reading = sub.add_parser("reading", help="the radiologist's reading of a study")
    reading_sub = p_reading.add_subparsers(dest="reading_command", required=True)
    p_show = reading_sub.add_parser("show", help="print every version of the study's reading")
    p_show.add_argument("study", help=study_help)
    p_show.add_argument("--json", action="store_true", help="print JSON")
    p_rimport = reading_sub.add_parser("import", help="store a reading given as JSON")
    p_rimport.add_argument("study", help=study_help)
    p_rimport.add_argument("file", type=Path, help="reading JSON (schema tandem.reading/1)")
    p_rimport.add_argument("--reader", help="reader name (default: the JSON's)")
    p_compare = sub.add_parser("compare", help="the AI's findings against the newest reading")
    p_compare.add_argument("study", help=study_help)
    p_compare.add_argument("--json", action="store_true", help="print JSON")
    p_compare.add_argument("--models-dir", type=Path, help="also look for models here (first)")
    p_export = sub.add_parser("export", help="DICOM SR/GSPS and a PDF report of the reading")
    p_export.add_argument("study", help=study_help)
    p_export.add_argument("--sr", type=Path, dest="sr_dir", metavar="DIR",
                          help="write the SR (reader, AI; CAD SR for mammography) here")
    p_export.add_argument("--no-gsps", action="store_true", help="do not write a GSPS of the marks")
    p_export.add_argument("--pdf", type=Path, metavar="FILE", help="write the one-page report")
    p_export.add_argument("--lang", default="fr", choices=["fr", "en"], help="report language")
    p_export.add_argument("--models-dir", type=Path, help="also look for models here (first)")
    p_export.add_argument("--send", metavar="NODE",
                          help="then send the DICOM files (SR, GSPS, PDF) to this PACS node")
    p_audit = sub.add_parser("audit", help="the practice's double-reading audit")
    p_audit.add_argument("--since", help="first day (YYYY-MM-DD)")
    p_audit.add_argument("--until", help="last day (YYYY-MM-DD)")
    p_audit.add_argument("--csv", type=Path, dest="csv_path", metavar="FILE",
                         help="write one row per case and model")
    p_audit.add_argument("--json", action="store_true", help="print JSON")


def _run_reading_command(opts: argparse.Namespace) -> int:
    if opts.command == "reading":
        from app.cli_reading import run_reading_import, run_reading_show
        if opts.reading_command == "show":
            return run_reading_show(opts.study, as_json=opts.json)
        return run_reading_import(opts.study, opts.file, reader=opts.reader)
    if opts.command == "compare":
        from app.cli_compare import run_compare
        return run_compare(opts.study, as_json=opts.json, models_dir=opts.models_dir)
    if opts.command == "export":
        from app.cli_export import run_export
        return run_export(opts.study, sr_dir=opts.sr_dir, pdf=opts.pdf, gsps=not opts.no_gsps,
                          lang=opts.lang, models_dir=opts.models_dir, send_to=opts.send)
    from app.cli_audit import run_audit
    return run_audit(since=opts.since, until=opts.until, csv_path=opts.csv_path,
                     as_json=opts.json)


def print_json(value: object) -> None:
    """Print ``value`` as JSON on stdout (UTF-8, stable key order for diffs)."""
    json.dump(value, sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")


if __name__ == "__main__":
    raise SystemExit(main())
