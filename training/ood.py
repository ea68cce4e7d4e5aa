"""The out-of-distribution check every Tandem model ships: Mahalanobis distance of the
model's pooled ``embedding`` output to its training embeddings.

The statistics (mean and inverse shrunk covariance) come from the training images; the
threshold lets 99 % of the *validation* images through, so a film like the training data is
refused about 1 time in 100 and a film from another body part or modality (a chest given to
the fracture model, a bone film given to the mammography model) far more often. The refused
shares on the other datasets are measured through Tandem's engine and written in each card.

The engine reads the same numbers: ``inference.engine`` computes the distance from the
``applicability.ood`` block of the manifest and ``ood_stats.npz`` beside ``model.onnx``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from inference.engine import AnalysisEngine
from inference.ood import PASS_QUANTILE, mahalanobis, mahalanobis_stats
from inference.source import source_from_picture
from training.common import DATASETS

STATS_FILE = "ood_stats.npz"
REFUSAL_WORDS = "unlike the training data"  # inference.reasons' text for an "ood" refusal

# The other datasets a model is checked against (each model skips its own).
OTHER_DATASETS = {
    "chest": DATASETS / "cxr" / "tb_normal" / "images",
    "bone": DATASETS / "fracture" / "fracatlas" / "images",
    "mammo": DATASETS / "mammo" / "mini_mias" / "images",
}


@dataclass(frozen=True)
class OodFit:
    """Training statistics and the threshold chosen on validation distances."""

    mean: np.ndarray
    inv_cov: np.ndarray
    threshold: float
    val_pass: float  # share of validation images under the threshold (≈ PASS_QUANTILE)

    def stats_npz(self) -> bytes:
        """The ``ood_stats.npz`` the engine loads (float64 ``mean``, ``inv_cov``)."""
        buffer = io.BytesIO()
        np.savez(buffer, mean=self.mean.astype(np.float64),
                 inv_cov=self.inv_cov.astype(np.float64))
        return buffer.getvalue()

    def manifest_block(self) -> dict[str, Any]:
        """The manifest's ``applicability.ood`` entry."""
        return {"method": "embedding_mahalanobis", "output": "embedding",
                "threshold": self.threshold, "stats_file": STATS_FILE}


def fit_ood(train_emb: np.ndarray, val_emb: np.ndarray) -> OodFit:
    mean, inv_cov = mahalanobis_stats(train_emb.astype(np.float64))
    val_dist = mahalanobis(val_emb.astype(np.float64), mean, inv_cov)
    threshold = float(np.quantile(val_dist, PASS_QUANTILE))
    return OodFit(mean, inv_cov, threshold, float((val_dist <= threshold).mean()))


def refused_share(engine: AnalysisEngine, model_id: str, paths: list[Path]) -> float:
    """Share of ``paths`` (pictures) the engine refuses as unlike the training data."""
    refused = 0
    for path in paths:
        result = engine.analyze(source_from_picture(path), model_id)
        refused += (not result.applicable) and REFUSAL_WORDS in result.reason
    return refused / max(1, len(paths))


def other_dataset_refusals(engine: AnalysisEngine, model_id: str, own: str, n: int,
                           seed: int) -> dict[str, dict[str, float]]:
    """Refused share of ``n`` fixed random pictures from each dataset other than ``own``."""
    rng = np.random.default_rng(seed)
    shares: dict[str, dict[str, float]] = {}
    for name, folder in OTHER_DATASETS.items():
        if name == own:
            continue
        pictures = sorted(folder.glob("*.jpg"))
        chosen = [pictures[i] for i in sorted(rng.choice(len(pictures), min(n, len(pictures)),
                                                         replace=False))]
        shares[name] = {"n": len(chosen), "refused": refused_share(engine, model_id, chosen)}
    return shares
