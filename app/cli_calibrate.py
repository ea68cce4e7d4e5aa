"""``tandem models calibrate``: let a model's out-of-distribution check accept this
practice's own films, or (``--remove``) go back to the training check alone.

For the practice's IT person, once per model and X-ray system, when a model answers "image
unlike the training data" on films it was made for: give it at least 50 of the site's own
films of that kind (limb radiographs for ``fracture_boxes``, frontal chest radiographs for
``cxr_normality``, mammograms for ``mammo_lesions``). Films the model's applicability rules
refuse (modality, body part, view) are skipped and listed.

A film the model's check refuses but another model's check accepts (a chest radiograph in
a folder given to the fracture model) is skipped too: it is that other model's kind. The
calibration widens the input check only; the model's accuracy on these films is not known,
and the AI panel marks the results it lets through.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from app.cli import print_json
from app.cli_models import model_registry
from inference.engine import AnalysisEngine, OodProbe
from inference.manifest import RESEARCH_STATUS
from inference.ood import (
    MIN_SITE_IMAGES,
    fit_site_calibration,
    site_calibration_dir,
    site_calibration_path,
)
from inference.reasons import Reason
from inference.source import SourceError, load_sources

REFUSED = 1
USAGE_ERROR = 2


def add_calibrate_parser(models_sub: argparse._SubParsersAction[argparse.ArgumentParser]
                         ) -> None:
    p = models_sub.add_parser(
        "calibrate", help="let a model's input check accept this site's own films "
        f"(at least {MIN_SITE_IMAGES} of the model's kind)")
    p.add_argument("model", metavar="ID", help="model id (see tandem models)")
    p.add_argument("paths", nargs="*", type=Path, help="DICOM files or folders, PNG or JPEG")
    p.add_argument("--remove", action="store_true",
                   help="delete this model's site calibration (training check only)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--models-dir", type=Path, help="also look for models here (first)")


def run_calibrate(opts: argparse.Namespace) -> int:
    registry = model_registry(opts.models_dir)
    known = {e.id for e in registry.entries()}
    if opts.model not in known:
        print(f"tandem models calibrate: unknown model {opts.model}; known: "
              f"{', '.join(sorted(known)) or 'none'}", file=sys.stderr)
        return USAGE_ERROR
    target = site_calibration_path(site_calibration_dir(), opts.model)
    if opts.remove:
        existed = target.exists()
        target.unlink(missing_ok=True)
        print(f"{'Removed' if existed else 'No site calibration at'} {target}")
        return 0
    if not opts.paths:
        print("tandem models calibrate: give the site's films (files or folders), or --remove",
              file=sys.stderr)
        return USAGE_ERROR
    engine = AnalysisEngine(registry, site_calibrations=site_calibration_dir())
    probes, skipped = _probe_all(engine, opts.model, opts.paths)
    report: dict[str, Any] = {"status": RESEARCH_STATUS, "model": opts.model,
                              "used": len(probes), "skipped": skipped}
    if probes:
        distances = np.array([p.distance for p in probes])
        report["training_threshold"] = probes[0].threshold
        report["median_training_distance"] = round(float(np.median(distances)), 2)
        report["already_accepted"] = int(sum(p.accepted for p in probes))
    manifest = registry.get(opts.model).manifest
    if manifest is None or len(probes) < MIN_SITE_IMAGES:
        return _refuse(report, f"{len(probes)} usable films; a site calibration needs at "
                       f"least {MIN_SITE_IMAGES}", opts.json)
    calibration = fit_site_calibration(opts.model, manifest.artifact.sha256,
                                       np.stack([p.embedding for p in probes]))
    _write_atomic(target, calibration.to_npz())
    report.update(written=str(target), site_threshold=round(calibration.threshold, 2))
    _print(report, opts.json)
    return 0


def _probe_all(engine: AnalysisEngine, model_id: str, paths: list[Path]
               ) -> tuple[list[OodProbe], list[dict[str, str]]]:
    """The films' probes through ``model_id``'s check, and the files skipped, with why."""
    others = [e.id for e in engine.registry.usable()
              if e.id != model_id and e.manifest is not None and e.manifest.applicability.ood]
    probes: list[OodProbe] = []
    skipped: list[dict[str, str]] = []
    for item in load_sources(paths):
        if isinstance(item, SourceError):
            skipped.append({"file": str(item.path), "reason": item.reason})
            continue
        probe = engine.ood_probe(item, model_id)
        owner = None if isinstance(probe, Reason) or probe.accepted else next(
            (other for other in others if _accepts(engine.ood_probe(item, other))), None)
        if isinstance(probe, Reason):
            skipped.append({"file": item.meta.source, "reason": str(probe)})
        elif owner is not None:
            skipped.append({"file": item.meta.source,
                            "reason": f"looks like the images of {owner} (its input check "
                                      "accepts it)"})
        else:
            probes.append(probe)
    return probes, skipped


def _accepts(probe: OodProbe | Reason) -> bool:
    return isinstance(probe, OodProbe) and (probe.accepted or probe.site_accepted)


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    os.replace(partial, path)


def _refuse(report: dict[str, Any], why: str, as_json: bool) -> int:
    report["refused"] = why
    _print(report, as_json)
    return REFUSED


def _print(report: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(report)
        return
    for item in report["skipped"]:
        print(f"SKIP   {item['file']}: {item['reason']}")
    print(f"{report['model']}: {report['used']} films used, {len(report['skipped'])} skipped.")
    if report["used"]:
        print(f"Training check: {report['already_accepted']} of {report['used']} films "
              f"accepted (median distance {report['median_training_distance']}, threshold "
              f"{report['training_threshold']:g}).")
    if "refused" in report:
        print(f"NOT CALIBRATED: {report['refused']}")
        return
    print(f"Site calibration written to {report['written']} (threshold "
          f"{report['site_threshold']}). It widens the input check only: the model is not "
          "validated on these films, and the results it lets through are marked. "
          f"{RESEARCH_STATUS}.")
