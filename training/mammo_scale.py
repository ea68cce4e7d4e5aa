"""The 1–10 scale of ``mammo_lesions``: deciles of its calibrated film score on mini-MIAS.

Runs the bundled model through Tandem's own engine (the product's preprocessing,
calibration and ONNX Runtime session) on every mini-MIAS MLO film in
``shared/datasets/mammo/mini_mias`` and prints the 10th…90th percentiles of the film
probability (films the out-of-distribution check refuses get no score and are left out):
the 9 cuts of ``outputs[0].scale_1_10`` in the manifest. ``--write`` puts
them in the manifest (the ONNX file, hence its sha256, is unchanged). ``training.mammo_lesions``
computes the same cuts on the model it has just written, for its manifest and card.

These are population quantiles of *this* data set, computed on films the shipped model
partly trained on: a film in band 7 scores higher than 60–70 % of mini-MIAS films. They
are not a validated risk scale. Torch-free: ``.venv/bin/python -m training.mammo_scale``.
"""

from __future__ import annotations

import argparse
import csv
import json
from itertools import pairwise
from pathlib import Path

import numpy as np

from inference.engine import AnalysisEngine
from inference.registry import ModelRegistry
from inference.source import source_from_picture
from training.ood import REFUSAL_WORDS

REPO_ROOT = Path(__file__).resolve().parents[1]
MIAS = REPO_ROOT.parent / "shared" / "datasets" / "mammo" / "mini_mias"
MODELS = REPO_ROOT / "onnx_models"
MODEL_ID = "mammo_lesions"
DECILES = tuple(k / 10 for k in range(1, 10))


def film_scores(mias: Path = MIAS, models: Path = MODELS
                ) -> tuple[dict[str, float], list[str]]:
    """Calibrated film probability of every film listed in ``labels.csv`` (ref -> p), and
    the films the out-of-distribution check refused (no score, as in the product)."""
    with (mias / "labels.csv").open(newline="", encoding="utf-8") as handle:
        files = {row["ref"]: row["file"] for row in csv.DictReader(handle)}
    engine = AnalysisEngine(ModelRegistry([models]))
    scores, refused = {}, []
    for ref, file in sorted(files.items()):
        result = engine.analyze(source_from_picture(mias / file), MODEL_ID)
        if not result.applicable and REFUSAL_WORDS in result.reason:
            refused.append(ref)
        elif not result.applicable or result.reason or not result.case_scores:
            raise RuntimeError(f"{ref}: the model did not score the film ({result.reason})")
        else:
            scores[ref] = result.case_scores[0].probability
    return scores, refused


def scale_cuts(scores: dict[str, float]) -> list[float]:
    """The 9 deciles (linear interpolation), rounded to 6 decimals; strictly increasing."""
    cuts = [round(float(q), 6) for q in np.quantile(list(scores.values()), DECILES)]
    if any(b <= a for a, b in pairwise(cuts)):
        raise RuntimeError(f"deciles are not strictly increasing: {cuts}")
    return cuts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true",
                        help="store the cuts in onnx_models/mammo_lesions/manifest.json")
    args = parser.parse_args(argv)
    scores, refused = film_scores()
    cuts = scale_cuts(scores)
    print(f"{len(scores)} films scored, {len(refused)} refused as unlike the training data "
          f"{refused}; film probability min {min(scores.values()):.4f}, "
          f"max {max(scores.values()):.4f}")
    print("scale_1_10 cuts:", json.dumps(cuts))
    if args.write:
        path = MODELS / MODEL_ID / "manifest.json"
        manifest = json.loads(path.read_text(encoding="utf-8"))
        score_output = next(o for o in manifest["outputs"] if o["kind"] == "score")
        score_output["scale_1_10"] = cuts
        path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n",
                        encoding="utf-8")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
