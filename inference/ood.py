"""Out-of-distribution check: Mahalanobis distance of a model's embedding, and the site
calibration that lets a practice's own films through.

Every bundled model ships the mean and inverse covariance of its training embeddings
(``ood_stats.npz``) and a threshold that 99 % of its validation images pass. Films from
another hospital (another vendor's processing, collimation, markers) can sit farther away
than any training film although they show what the model was made for: the fracture
model refuses a 2004 Fuji CR of a leg (distance 23.9, threshold 13.6). A *site
calibration* is a second set of statistics fitted on at least :data:`MIN_SITE_IMAGES` of
the practice's own in-scope films; an image within either set's threshold is analysed.
It only widens the input check: the model's accuracy on those films is not known.

The calibration is tied to one model file (its sha256): a new model version ignores it.
"""

from __future__ import annotations

import io
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from imaging.paths import data_dir

PASS_QUANTILE = 0.99  # share of in-distribution images a threshold lets through
MIN_SITE_IMAGES = 50
# Heavier shrinkage than the training statistics' 0.1: a site gives tens of films for a
# 128–160-d embedding. Measured on FracAtlas films re-processed as another site would
# (tests/test_site_calibration.py): at 0.1 and 30 films, 38 % of chest films got through.
SITE_SHRINKAGE = 0.5
SITE_FOLDS = 5
SITE_FOLDER = "site_calibration"


def mahalanobis_stats(emb: np.ndarray, shrinkage: float = 0.1
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Mean and inverse of the shrunk covariance (1-a)·C + a·(tr C / D)·I.

    The shrinkage keeps the inverse stable when there are few images per dimension."""
    emb = np.asarray(emb, dtype=np.float64)
    mean = emb.mean(0)
    cov = np.cov(emb - mean, rowvar=False)
    d = cov.shape[0]
    cov = (1 - shrinkage) * cov + shrinkage * np.trace(cov) / d * np.eye(d)
    return mean, np.linalg.inv(cov)


def mahalanobis(emb: np.ndarray, mean: np.ndarray, inv_cov: np.ndarray) -> np.ndarray:
    """Distances of the rows of ``emb`` (N, D) (or of one (D,) vector: shape (1,))."""
    delta = np.atleast_2d(np.asarray(emb, dtype=np.float64)) - mean
    return np.sqrt(np.maximum(np.einsum("nd,de,ne->n", delta, inv_cov, delta), 0))


@dataclass(frozen=True)
class OodStats:
    """A model's shipped statistics (``ood_stats.npz`` beside ``model.onnx``)."""

    mean: np.ndarray  # (D,) training embedding mean
    inv_cov: np.ndarray  # (D, D) inverse covariance
    background: tuple[np.ndarray, np.ndarray] | None = None  # the relative method's

    def score(self, embedding: np.ndarray) -> float:
        """Distance to the training data (minus the distance to the background)."""
        score = float(mahalanobis(embedding, self.mean, self.inv_cov)[0])
        if self.background is not None:
            score -= float(mahalanobis(embedding, *self.background)[0])
        return score

    @classmethod
    def from_npz(cls, path: Path, *, relative: bool) -> OodStats:
        """``mean``, ``inv_cov`` (and ``background_mean``, ``background_inv_cov`` when
        ``relative``); raises ``OSError``/``ValueError``/``KeyError`` for a bad file."""
        names = ["mean", "inv_cov"] + (["background_mean", "background_inv_cov"]
                                       if relative else [])
        with np.load(path, allow_pickle=False) as stats:
            arrays = [np.asarray(stats[name], dtype=np.float64) for name in names]
        means, inv_covs = [a.ravel() for a in arrays[0::2]], arrays[1::2]
        for mean, inv_cov in zip(means, inv_covs, strict=True):
            if mean.size != means[0].size or inv_cov.shape != (mean.size, mean.size):
                raise ValueError(f"inverse covariance {inv_cov.shape} does not match mean "
                                 f"({mean.size},)")
        background = (means[1], inv_covs[1]) if relative else None
        return cls(means[0], inv_covs[0], background)


def site_calibration_dir() -> Path:
    """Where ``tandem models calibrate`` writes: ``<data dir>/site_calibration``."""
    return data_dir() / SITE_FOLDER


@dataclass(frozen=True)
class SiteCalibration:
    """Statistics of a practice's own films in one model's embedding space."""

    model_id: str
    model_sha256: str
    mean: np.ndarray
    inv_cov: np.ndarray
    threshold: float
    n_images: int
    created: str  # ISO 8601, UTC

    def distance(self, embedding: np.ndarray) -> float:
        return float(mahalanobis(embedding, self.mean, self.inv_cov)[0])

    def accepts(self, embeddings: np.ndarray) -> np.ndarray:
        """Boolean (N,): which embeddings lie within the site threshold."""
        return mahalanobis(embeddings, self.mean, self.inv_cov) <= self.threshold

    def to_npz(self) -> bytes:
        buffer = io.BytesIO()
        np.savez(buffer, model_id=self.model_id, model_sha256=self.model_sha256,
                 mean=self.mean, inv_cov=self.inv_cov, threshold=self.threshold,
                 n_images=self.n_images, created=self.created)
        return buffer.getvalue()

    @classmethod
    def from_npz(cls, path: Path) -> SiteCalibration:
        """Raises ``OSError``/``ValueError``/``KeyError`` for an unreadable file."""
        with np.load(path, allow_pickle=False) as f:
            mean = np.asarray(f["mean"], dtype=np.float64).ravel()
            inv_cov = np.asarray(f["inv_cov"], dtype=np.float64)
            if inv_cov.shape != (mean.size, mean.size):
                raise ValueError(f"inv_cov {inv_cov.shape} does not match mean ({mean.size},)")
            return cls(str(f["model_id"]), str(f["model_sha256"]), mean, inv_cov,
                       float(f["threshold"]), int(f["n_images"]), str(f["created"]))


def site_calibration_path(folder: Path, model_id: str) -> Path:
    return folder / f"{model_id}.npz"


def fit_site_calibration(model_id: str, model_sha256: str, embeddings: np.ndarray,
                         seed: int = 0) -> SiteCalibration:
    """Statistics of ``embeddings`` (N ≥ :data:`MIN_SITE_IMAGES`, D) and a threshold that
    lets through 99 % of *held-out* site films (5-fold: each fold's distances come from
    statistics fitted without it, so the threshold is not set on the films it was fitted on).
    """
    emb = np.asarray(embeddings, dtype=np.float64)
    if len(emb) < MIN_SITE_IMAGES:
        raise ValueError(f"{len(emb)} usable images; a site calibration needs at least "
                         f"{MIN_SITE_IMAGES}")
    order = np.random.default_rng(seed).permutation(len(emb))
    held_out = []
    for fold in range(SITE_FOLDS):
        held = order[fold::SITE_FOLDS]
        mean, inv_cov = mahalanobis_stats(np.delete(emb, held, axis=0), SITE_SHRINKAGE)
        held_out.append(mahalanobis(emb[held], mean, inv_cov))
    threshold = float(np.quantile(np.concatenate(held_out), PASS_QUANTILE))
    mean, inv_cov = mahalanobis_stats(emb, SITE_SHRINKAGE)
    return SiteCalibration(model_id, model_sha256, mean, inv_cov, threshold, len(emb),
                           datetime.now(UTC).isoformat(timespec="seconds"))


def site_calibration_status(folder: Path, model_id: str, model_sha256: str | None
                            ) -> dict[str, object] | None:
    """What ``tandem models`` and ``tandem doctor`` say of a model's site calibration: None
    without one; else its file, films, date, threshold and ``problem`` ("" when it applies)."""
    path = site_calibration_path(folder, model_id)
    if not path.exists():
        return None
    try:
        calibration = SiteCalibration.from_npz(path)
    except (OSError, ValueError, KeyError) as exc:
        return {"file": str(path), "problem": f"unreadable ({exc}): ignored"}
    stale = calibration.model_sha256 != model_sha256
    return {"file": str(path), "films": calibration.n_images, "created": calibration.created,
            "threshold": round(calibration.threshold, 3),
            "problem": "made for another version of the model: ignored; calibrate again"
                       if stale else ""}


class SiteCalibrations:
    """The practice's site calibrations in ``folder``, re-read when a file changes (a
    calibration made while Tandem runs applies to the next image). Unreadable files, and
    calibrations of another model file or embedding size, count as absent."""

    def __init__(self, folder: Path | None) -> None:
        self._folder = folder
        self._lock = threading.Lock()
        self._read: dict[str, tuple[tuple[int, int], SiteCalibration | None]] = {}

    def get(self, model_id: str, sha256: str, dim: int) -> SiteCalibration | None:
        if self._folder is None:
            return None
        path = site_calibration_path(self._folder, model_id)
        try:
            info = path.stat()
        except OSError:
            return None
        stamp = (info.st_mtime_ns, info.st_size)
        with self._lock:
            known = self._read.get(model_id)
        if known is not None and known[0] == stamp:
            calibration = known[1]
        else:
            try:
                calibration = SiteCalibration.from_npz(path)
            except (OSError, ValueError, KeyError):
                calibration = None
            with self._lock:
                self._read[model_id] = (stamp, calibration)
        if calibration is None or calibration.model_sha256 != sha256 \
                or calibration.mean.size != dim:
            return None
        return calibration
