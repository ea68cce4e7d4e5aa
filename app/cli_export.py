"""``tandem export STUDY --sr DIR --pdf FILE [--send NODE]``: the reading as DICOM SR/GSPS and a
one-page PDF (also as a DICOM Encapsulated PDF in DIR when both are asked), optionally sent to a
PACS node (C-STORE) so the results are filed with the study.

The reading exported is the newest *signed* version; a study with only a draft exports
that draft, with a warning (and the PDF says "draft — not signed"). The AI results are
those the viewer would show (models run or read from the result cache), compared with
the reading afresh, except for a blinded first read still in draft: its reader has not
seen the AI yet, so nothing of the AI is exported with it. Each written file is recorded
in the audit trail ("exported").
Each written file is recorded in the audit trail ("exported"), each file the PACS
accepted too ("sent").
Exit 0 when everything asked for was written (and sent); 1 when a write or a send failed;
2 for a usage error (unknown study, no reading, nothing asked for, unknown node).
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from pydicom.dataset import Dataset

from app.cli_models import model_registry
from app.cli_study import StudyNotFound, no_reading_yet, resolve_study
from imaging.db import StudyDatabase
from inference.cache import ResultCache
from inference.engine import AnalysisEngine
from inference.manifest import RESEARCH_STATUS
from inference.ood import site_calibration_dir
from reading.concordance import Concordance
from reading.model import Reading
from reading.pdf_dicom import write_encapsulated_pdf
from reading.report_images import patient_block, report_key_images
from reading.report_pdf import write_report
from reading.report_text import text
from reading.sources import source_datasets
from reading.sr_export import ExportError, write_exports
from reading.store import ReadingStore, default_reader
from reading.study_ai import compare_on_images, study_images, study_results

USAGE_ERROR = 2
WRITE_ERROR = 1


def run_export(study: str, *, sr_dir: Path | None, pdf: Path | None, gsps: bool, lang: str,
               models_dir: Path | None, send_to: str | None = None) -> int:
    if sr_dir is None and pdf is None:
        print("tandem export: nothing to write; give --sr DIR and/or --pdf FILE",
              file=sys.stderr)
        return USAGE_ERROR
    if send_to is not None and sr_dir is None:
        print("tandem export: --send needs --sr DIR (what is sent are DICOM files)",
              file=sys.stderr)
        return USAGE_ERROR
    with StudyDatabase() as db:
        try:
            study_uid = resolve_study(db, study)
        except StudyNotFound as exc:
            print(f"tandem export: {exc}", file=sys.stderr)
            return USAGE_ERROR
        store = ReadingStore(db.path)
        try:
            reading = store.latest_signed(study_uid) or store.current(study_uid)
            if reading is None:
                print(f"tandem export: {no_reading_yet(study_uid)}", file=sys.stderr)
                return USAGE_ERROR
            if not reading.signed:
                print(f"tandem export: warning: the reading of study {study_uid} is not "
                      f"signed (version {reading.version} is a draft); exporting the draft",
                      file=sys.stderr)
            registry = model_registry(models_dir)
            images = study_images(db, study_uid)
            blinded = reading.blinded and reading.purpose == "first" and not reading.signed
            engine = AnalysisEngine(registry, site_calibrations=site_calibration_dir())
            results = [] if blinded else study_results(db, study_uid, engine, ResultCache())
            if blinded:
                print("tandem export: the AI stays hidden from a blinded first read until it is "
                      "signed: exporting the reading without the AI", file=sys.stderr)
            concordance = compare_on_images(reading, results, images)
            sources = source_datasets(db, study_uid)
            names = {e.id: e.manifest.name for e in registry.entries() if e.manifest}
            code = 0
            exporter = default_reader()
            dicom_files: list[Path] = []
            if sr_dir is not None:
                try:
                    written = write_exports(reading, results, sources, sr_dir,
                                            concordance=concordance, gsps=gsps)
                except (ValueError, OSError, TypeError, AttributeError) as exc:
                    print(f"tandem export: the DICOM SR could not be written to {sr_dir}: "
                          f"{exc}", file=sys.stderr)
                    code = WRITE_ERROR
                else:
                    dicom_files += written
                    for path in written:
                        store.record(study_uid, exporter, "exported",
                                     {"what": _kind_of(path), "path": str(path.resolve())},
                                     reading.reading_id)
                        print(f"wrote {path}")
            if pdf is not None:
                keys = report_key_images(
                    images, reading, results, lang,
                    on_error=lambda why: print(f"tandem export: {why}", file=sys.stderr))
                try:
                    write_report(pdf, reading=reading, concordance=concordance,
                                 results=results, key_images=keys,
                                 patient=patient_block(sources), lang=lang, model_names=names)
                except OSError as exc:
                    print(f"tandem export: the PDF could not be written to {pdf}: {exc}",
                          file=sys.stderr)
                    code = WRITE_ERROR
                else:
                    store.record(study_uid, exporter, "exported",
                                 {"what": "pdf", "path": str(pdf.resolve())},
                                 reading.reading_id)
                    print(f"wrote {pdf}")
                    if sr_dir is not None:
                        encapsulated = _write_pdf_dicom(pdf, reading, sources, sr_dir, lang)
                        if encapsulated is None:
                            code = WRITE_ERROR
                        else:
                            dicom_files.append(encapsulated)
                            store.record(study_uid, exporter, "exported",
                                         {"what": "pdf_dicom",
                                          "path": str(encapsulated.resolve())},
                                         reading.reading_id)
                            print(f"wrote {encapsulated}")
            if send_to is not None:
                code = max(code, _send(send_to, dicom_files, store, study_uid, exporter,
                                       reading.reading_id))
        finally:
            store.close()
    print(f"reading v{reading.version} ({reading.state}); {_summary(concordance)}. "
          f"AI: {RESEARCH_STATUS}.")
    return code


def _write_pdf_dicom(pdf: Path, reading: Reading, sources: Mapping[str, Dataset],
                     sr_dir: Path, lang: str) -> Path | None:
    out = sr_dir / f"PDF_report_v{reading.version}.dcm"
    try:
        return write_encapsulated_pdf(pdf, reading, sources, out, title=text("title", lang))
    except (ExportError, OSError) as exc:
        print(f"tandem export: the PDF could not be encapsulated into {out}: {exc}",
              file=sys.stderr)
        return None


def _send(node_name: str, files: Sequence[Path], store: ReadingStore, study_uid: str,
          exporter: str, reading_id: str) -> int:
    """C-STORE ``files`` to the configured node; each accepted file is audited as "sent"."""
    from pacs.dimse import store as c_store
    from pacs.errors import PacsError
    from pacs.nodes import NodeStore

    if not files:
        print("tandem export: nothing was written, nothing sent", file=sys.stderr)
        return WRITE_ERROR
    try:
        nodes = NodeStore()
        node = nodes.get(node_name)
        outcomes = c_store(node, files, calling_ae=nodes.local().ae_title)
    except PacsError as exc:
        print(f"tandem export: not sent: {exc}", file=sys.stderr)
        return WRITE_ERROR
    for outcome in outcomes:
        if outcome.ok:
            store.record(study_uid, exporter, "sent",
                         {"node": node_name, "path": str(outcome.path.resolve()),
                          "sop_instance_uid": outcome.sop_instance_uid}, reading_id)
            print(f"sent {outcome.path} to {node_name}")
        else:
            print(f"tandem export: {outcome.message}", file=sys.stderr)
    return 0 if all(o.ok for o in outcomes) else WRITE_ERROR


def _kind_of(path: Path) -> str:
    return "gsps" if path.name.startswith("GSPS") else "sr"


def _summary(concordance: Concordance) -> str:
    counts = concordance.counts()
    return (f"agreed {counts['agreed']}, AI-only {counts['ai_only']}, "
            f"reader-only {counts['reader_only']}")
