"""``tandem compare STUDY``: the AI's findings against the newest reading of the study.

Runs (or reads from the result cache) every usable model on the study's images, matches
their findings to the reading's marks (:mod:`reading.concordance`: rules, thresholds) and
prints the counts, each pair and the case-level verdicts. When the newest reading is
signed, the concordance is stored with it (audit event "concordance"); a draft is
compared but nothing is stored. Exit 0 when compared; 2 when the study is unknown or
has no reading.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from app.cli import print_json
from app.cli_models import model_registry
from app.cli_study import StudyNotFound, no_reading_yet, resolve_study
from imaging.db import StudyDatabase
from inference.cache import ResultCache
from inference.engine import AnalysisEngine
from inference.manifest import RESEARCH_STATUS
from inference.ood import site_calibration_dir
from reading.concordance import Concordance
from reading.store import ReadingStore
from reading.study_ai import compare_on_images, study_images, study_results

USAGE_ERROR = 2


def run_compare(study: str, *, as_json: bool, models_dir: Path | None) -> int:
    with StudyDatabase() as db:
        try:
            study_uid = resolve_study(db, study)
        except StudyNotFound as exc:
            print(f"tandem compare: {exc}", file=sys.stderr)
            return USAGE_ERROR
        store = ReadingStore(db.path)
        try:
            reading = store.current(study_uid)
            if reading is None:
                print(f"tandem compare: {no_reading_yet(study_uid)}", file=sys.stderr)
                return USAGE_ERROR
            images = study_images(db, study_uid)
            engine = AnalysisEngine(model_registry(models_dir),
                                    site_calibrations=site_calibration_dir())
            results = study_results(db, study_uid, engine, ResultCache())
            concordance = compare_on_images(reading, results, images)
            if reading.signed:
                store.save_concordance(reading.reading_id, concordance.to_dict())
        finally:
            store.close()
    ran = sum(r.applicable and not r.reason for r in results)
    if as_json:
        print_json({**concordance.to_dict(), "reading_state": reading.state,
                    "reading_version": reading.version, "stored": reading.signed,
                    "images": len(images), "results_ran": ran, "status": RESEARCH_STATUS})
    else:
        _print_text(concordance, reading.state, reading.version, len(images), ran)
    return 0


def _print_text(concordance: Concordance, state: str, version: int, images: int,
                ran: int) -> None:
    counts = concordance.counts()
    print(f"STUDY  {concordance.study_instance_uid}")
    print(f"READING {concordance.reading_id} v{version} ({state}); {images} image(s), "
          f"{ran} model result(s) that ran")
    print(f"agreed {counts['agreed']}, AI-only {counts['ai_only']}, "
          f"reader-only {counts['reader_only']}"
          + ("; DISCORDANT" if concordance.discordant else ""))
    for pair in concordance.pairs:
        print("  " + _pair_text(pair.to_dict()))
    for case in concordance.cases:
        scale = f", {case.ai_scale}/10" if case.ai_scale is not None else ""
        print(f"  case {case.model_id} [{case.scope}]: reader {case.reader}; AI "
              f"{case.ai_probability:.3f} ({case.ai_band.replace('_', ' ')}{scale}): "
              f"{case.agreement}")
    if concordance.uncompared_marks:
        print(f"  not compared (no model ran on their image): "
              f"{', '.join(concordance.uncompared_marks)}")
    print(f"{RESEARCH_STATUS}." + ("" if state == "signed" else
                                   " The reading is a draft: nothing was stored."))


def _pair_text(pair: dict[str, Any]) -> str:
    ai = pair["ai"]
    parts = [pair["status"].upper().replace("_", "-")]
    if ai is not None:
        parts.append(f"{ai['model_id']} {ai['label']} {ai['score']:.3f} "
                     f"on {ai['sop_instance_uid']}")
    if pair["mark_id"] is not None:
        parts.append(f"mark {pair['mark_id']}")
    if pair["iou"] is not None:
        parts.append(f"IoU {pair['iou']:.2f}")
    if pair["distance_mm"] is not None:
        parts.append(f"{pair['distance_mm']:.1f} mm")
    if pair["decision"] is not None:
        parts.append(pair["decision"])
    return " | ".join(parts)
