"""The out-of-distribution check every Tandem model ships: Mahalanobis distance of the
model's pooled ``embedding`` output to its training embeddings.

The statistics (mean and inverse shrunk covariance) come from the training images; the
threshold lets 99 % of the *validation* images through, so a film like the training data is
refused about 1 time in 100 and a film from another body part or modality (a chest given to
the fracture model, a bone film given to the mammography model) far more often. The refused
shares on the other datasets are measured through Tandem's engine and written in each card.

With a *background* (``fit_ood(..., background_emb)``), the score is the relative
Mahalanobis distance: the distance to the training embeddings minus the distance to the
training embeddings pooled with pictures of the other kinds. The fracture model's plain
distance let 86 % of mammogram pictures through (to its features they look like limb films);
the relative score refuses them. The background pictures are drawn from what the refusal
count leaves, so the refused shares in the cards are measured on pictures it never saw.

The engine reads the same numbers: ``inference.engine`` computes the distance from the
``applicability.ood`` block of the manifest and ``ood_stats.npz`` beside ``model.onnx``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from inference.engine import AnalysisEngine
from inference.manifest import InputSpec
from inference.ood import PASS_QUANTILE, mahalanobis, mahalanobis_stats
from inference.source import source_from_picture
from training.common import DATASETS, prepared_grey

STATS_FILE = "ood_stats.npz"
BACKGROUND_PER_DATASET = 120  # mini-MIAS has 302 pictures; 200 go to the refusal count
REFUSAL_WORDS = "unlike the training data"  # inference.reasons' text for an "ood" refusal

# The other datasets a model is checked against (each model skips its own).
OTHER_DATASETS = {
    "chest": DATASETS / "cxr" / "tb_normal" / "images",
    "bone": DATASETS / "fracture" / "fracatlas" / "images",
    "mammo": DATASETS / "mammo" / "mini_mias" / "images",
}


@dataclass(frozen=True)
class OodFit:
    """Training statistics (and background, for the relative score) and the threshold
    chosen on validation scores."""

    mean: np.ndarray
    inv_cov: np.ndarray
    threshold: float
    val_pass: float  # share of validation images under the threshold (≈ PASS_QUANTILE)
    background: tuple[np.ndarray, np.ndarray] | None = None
    n_background_pictures: int = 0  # other-kind pictures pooled into the background

    def score(self, emb: np.ndarray) -> np.ndarray:
        """What the engine compares with the threshold, for each row of ``emb``."""
        emb = np.asarray(emb, dtype=np.float64)
        score = mahalanobis(emb, self.mean, self.inv_cov)
        if self.background is not None:
            score = score - mahalanobis(emb, *self.background)
        return score

    def stats_npz(self) -> bytes:
        """The ``ood_stats.npz`` the engine loads (float64 ``mean``, ``inv_cov``, and
        ``background_mean``, ``background_inv_cov`` for the relative score)."""
        buffer = io.BytesIO()
        mean, inv_cov = self.mean.astype(np.float64), self.inv_cov.astype(np.float64)
        if self.background is None:
            np.savez(buffer, mean=mean, inv_cov=inv_cov)
        else:
            np.savez(buffer, mean=mean, inv_cov=inv_cov,
                     background_mean=self.background[0].astype(np.float64),
                     background_inv_cov=self.background[1].astype(np.float64))
        return buffer.getvalue()

    def manifest_block(self) -> dict[str, Any]:
        """The manifest's ``applicability.ood`` entry."""
        method = ("embedding_mahalanobis" if self.background is None
                  else "embedding_relative_mahalanobis")
        return {"method": method, "output": "embedding", "threshold": self.threshold,
                "stats_file": STATS_FILE}


def method_sentence(ood: dict[str, Any], n_background: int, other_kinds: str) -> str:
    """How the card's model is checked (``ood``: the manifest's ``applicability.ood``)."""
    if ood["method"] == "embedding_mahalanobis":
        return ("Tandem refuses an image whose Mahalanobis distance to the training images' "
                "embeddings exceeds the threshold.")
    return ("Its score is the Mahalanobis distance to the training images' embeddings minus "
            "the distance to a background: those embeddings pooled with "
            f"{n_background} pictures of {other_kinds}, none of them among the pictures counted "
            "below (relative Mahalanobis distance, Ren et al. 2021). Tandem refuses an image "
            "scoring above the threshold.")


def fit_ood(train_emb: np.ndarray, val_emb: np.ndarray,
            background_emb: np.ndarray | None = None) -> OodFit:
    """Statistics on ``train_emb``; with ``background_emb`` (other kinds of pictures), the
    relative score against train + background. Threshold: 99 % of ``val_emb`` pass."""
    train_emb = np.asarray(train_emb, dtype=np.float64)
    mean, inv_cov = mahalanobis_stats(train_emb)
    background = None
    if background_emb is not None:
        background = mahalanobis_stats(np.concatenate([train_emb, background_emb]))
    fit = OodFit(mean, inv_cov, 0.0, 0.0, background,
                 0 if background_emb is None else len(background_emb))
    val_score = fit.score(val_emb)
    threshold = float(np.quantile(val_score, PASS_QUANTILE))
    return replace(fit, threshold=threshold, val_pass=float((val_score <= threshold).mean()))


def background_greys(own: str, n_check: int, seed: int, spec: InputSpec) -> np.ndarray:
    """The product's model-input greys (N, S, S) of :func:`background_pictures`."""
    return np.stack([prepared_grey(p, spec) for p in background_pictures(own, n_check, seed)])


def background_pictures(own: str, n_check: int, seed: int,
                        n_background: int = BACKGROUND_PER_DATASET) -> list[Path]:
    """Up to ``n_background`` pictures of each dataset other than ``own``, none of them among
    the ``n_check`` that :func:`other_dataset_refusals` counts (same ``seed``)."""
    rng = np.random.default_rng(seed + 1)
    chosen = []
    for name, checked in _check_pictures(own, n_check, seed).items():
        rest = sorted(set(OTHER_DATASETS[name].glob("*.jpg")) - set(checked))
        pick = rng.choice(len(rest), min(n_background, len(rest)), replace=False)
        chosen += [rest[i] for i in sorted(pick)]
    return chosen


def _check_pictures(own: str, n: int, seed: int) -> dict[str, list[Path]]:
    """``n`` fixed random pictures of each dataset other than ``own``."""
    rng = np.random.default_rng(seed)
    chosen: dict[str, list[Path]] = {}
    for name, folder in OTHER_DATASETS.items():
        if name == own:
            continue
        pictures = sorted(folder.glob("*.jpg"))
        chosen[name] = [pictures[i] for i in sorted(
            rng.choice(len(pictures), min(n, len(pictures)), replace=False))]
    return chosen


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
    return {name: {"n": len(chosen), "refused": refused_share(engine, model_id, chosen)}
            for name, chosen in _check_pictures(own, n, seed).items()}
