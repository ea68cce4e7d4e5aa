"""``tandem analyze``: run the local models headless on DICOM files/folders and PNG/JPEG images.

Per image: the file, its SOP Instance UID and frame, then one :class:`AnalysisResult`
per model (scores, findings with boxes in image pixels, or why the model did not apply).
A file that cannot be read is reported with its reason and the run goes on; the exit
status is 0 whenever the run reached its end.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

from app.cli import print_json
from app.cli_models import model_registry
from inference.engine import AnalysisEngine
from inference.manifest import RESEARCH_STATUS
from inference.ood import site_calibration_dir
from inference.results import AnalysisResult, HeatmapRef
from inference.source import SourceError, load_sources

USAGE_ERROR = 2


def run_analyze(paths: list[Path], *, model_ids: list[str] | None, as_json: bool,
                heatmap_out: Path | None, models_dir: Path | None = None) -> int:
    registry = model_registry(models_dir)
    known = {e.id for e in registry.entries()}
    unknown = [m for m in model_ids or [] if m not in known]
    if unknown:
        print(f"tandem analyze: unknown model {', '.join(unknown)}; known: "
              f"{', '.join(sorted(known)) or 'none'} (see tandem models)", file=sys.stderr)
        return USAGE_ERROR
    if heatmap_out is not None:
        heatmap_out.mkdir(parents=True, exist_ok=True)
    engine = AnalysisEngine(registry, site_calibrations=site_calibration_dir())
    images: list[dict[str, Any]] = []
    for item in load_sources(paths):
        if isinstance(item, SourceError):
            entry: dict[str, Any] = {"file": str(item.path), "error": item.reason}
        else:
            results = engine.analyze_all(item, model_ids)
            if heatmap_out is not None:
                for result in results:
                    _write_heatmaps(result.heatmaps, heatmap_out)
            entry = {"file": item.meta.source, "sop_instance_uid": item.meta.sop_instance_uid,
                     "frame": item.meta.frame, "image_size": list(item.size),
                     "results": [r.to_dict() for r in results]}
        images.append(entry)
        if not as_json:
            _print_image(entry)
    if as_json:
        print_json({"status": RESEARCH_STATUS, "images": images})
    else:
        errors = sum("error" in e for e in images)
        print(f"{len(images)} images, {errors} unreadable. {RESEARCH_STATUS}.")
    return 0


def _write_heatmaps(heatmaps: tuple[HeatmapRef, ...], folder: Path) -> None:
    """``<key>.npy`` (the values) and ``<key>.png`` (inferno over the value range)."""
    from PIL import Image

    from imaging.colormaps import apply_colormap

    for heatmap in heatmaps:
        if heatmap.values is None:
            continue
        np.save(folder / f"{heatmap.key}.npy", heatmap.values)
        low, high = heatmap.value_range
        scaled = (heatmap.values - low) / (high - low) if high > low else heatmap.values * 0
        Image.fromarray(apply_colormap(scaled, "inferno")).save(folder / f"{heatmap.key}.png")


def _print_image(entry: dict[str, Any]) -> None:
    if "error" in entry:
        print(f"ERROR  {entry['file']}: {entry['error']}")
        return
    rows, cols = entry["image_size"]
    uid = f" [{entry['sop_instance_uid']}]" if entry["sop_instance_uid"] else ""
    print(f"IMAGE  {entry['file']}{uid} frame {entry['frame']} ({cols}x{rows})")
    for data in entry["results"]:
        result = AnalysisResult.from_dict(data)
        head = f"  {result.model_id} {result.model_version}"
        if result.reason:
            verdict = "FAILED" if result.applicable else "NOT APPLICABLE"
            print(f"{head}: {verdict}: {result.reason.removeprefix('failed: ')}")
            continue
        timing = ", ".join(f"{k} {v:.1f}" for k, v in result.timings_ms.items())
        print(f"{head} on {result.provider} ({timing} ms)")
        if result.provider_notice:
            print(f"    ! {result.provider_notice}")
        if result.site_calibrated:
            print("    ! image unlike the training data, accepted by this site's calibration: "
                  "the model's published performance may not hold here")
        for score in result.case_scores:
            print(f"    {score.label}: {score.probability:.3f} {_point(score.operating_point)}")
        for finding in result.findings:
            where = ""
            if finding.box_xyxy_px is not None:
                where = " box " + ", ".join(f"{v:.1f}" for v in finding.box_xyxy_px)
            elif finding.heatmap_key:
                where = f" heatmap {finding.heatmap_key}"
            print(f"    - {finding.label} {finding.score:.3f} "
                  f"{_point(finding.operating_point)}{where}")


def _point(name: str | None) -> str:
    return f"[{name.replace('_', ' ')}]" if name else "[below operating points]"
