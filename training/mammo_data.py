"""mini-MIAS for the mammography lesion detector: labels, woman-level folds, prepared cache.

Every film goes through the product's recipe (``inference.preprocess.prepare`` with the
manifest's input spec: breast crop, chest wall to the left, letterbox), and its lesion
boxes through the same :class:`~inference.transform.InputTransform`, so training sees
exactly what Tandem gives the model, flips included.

Box targets are the located masses, distortions and asymmetries (CIRC, SPIC, MISC, ARCH,
ASYM). Calcification clusters (CALC) are *not* targets: the stored films have 400 µm
pixels and the 256 px model input about 0.8 mm, so single calcifications are below one
pixel; their circles are kept apart (``calc_boxes``) so training can ignore them and
evaluation can report them separately.
"""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from inference.manifest import InputSpec
from inference.preprocess import prepare
from inference.source import source_from_picture
from training.common import CACHE_DIR, DATASETS

DATA = DATASETS / "mammo" / "mini_mias"
CACHE = CACHE_DIR / "mammo"
SPLIT_SEED = 20261
BOX_COLUMNS = ("x_min", "y_min", "x_max", "y_max")


@dataclass(frozen=True)
class Film:
    ref: str
    path: Path
    woman: int
    side: str  # "L" or "R"
    tissue: str  # F, G, D
    classes: tuple[str, ...]  # abnormality classes of the film ("NORM" for a normal film)
    malignant: int  # any malignant abnormality
    boxes: np.ndarray  # (k, 4) xyxy stored-image pixels: located non-CALC abnormalities
    calc_boxes: np.ndarray  # (m, 4) located calcification clusters

    @property
    def abnormal(self) -> int:
        return int(self.classes != ("NORM",))


def load_films(data: Path = DATA) -> list[Film]:
    """One :class:`Film` per image of ``labels.csv``, sorted by reference."""
    rows: dict[str, list[dict[str, str]]] = defaultdict(list)
    with (data / "labels.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            rows[row["ref"]].append(row)
    films = []
    for ref in sorted(rows):
        group = rows[ref]
        first = group[0]

        def boxes(calc: bool, group: list[dict[str, str]] = group) -> np.ndarray:
            picked = [[float(r[c]) for c in BOX_COLUMNS] for r in group
                      if r["has_location"] == "1" and (r["abnormality_class"] == "CALC") == calc]
            return np.array(picked, dtype=np.float32).reshape(-1, 4)

        films.append(Film(ref, data / first["file"], int(first["woman"]), first["side"],
                          first["background_tissue"],
                          tuple(r["abnormality_class"] for r in group),
                          int(any(r["severity"] == "M" for r in group)),
                          boxes(False), boxes(True)))
    return films


def woman_folds(films: list[Film], k: int, seed: int = SPLIT_SEED) -> list[int]:
    """Fold index per film: women shuffled within strata (any abnormal film / none) and
    dealt round-robin, so both films of a woman share a fold and folds are balanced."""
    women: dict[int, int] = {}
    for f in films:
        women[f.woman] = max(women.get(f.woman, 0), f.abnormal)
    rng = random.Random(seed)
    fold_of: dict[int, int] = {}
    turn = 0
    for stratum in (1, 0):
        ids = sorted(w for w, a in women.items() if a == stratum)
        rng.shuffle(ids)
        for w in ids:
            fold_of[w] = turn % k
            turn += 1
    return [fold_of[f.woman] for f in films]


@dataclass(frozen=True)
class Prepared:
    greys: np.ndarray  # (N, S, S) float16 in [0, 1]
    boxes: list[np.ndarray]  # per film (k, 4) model-input pixels
    calc_boxes: list[np.ndarray]  # per film (m, 4) model-input pixels


def _to_input(transform_points: np.ndarray) -> np.ndarray:
    """(k, 2, 2) corner points → (k, 4) xyxy with x0 < x1 (a flip swaps the corners)."""
    pts = transform_points.reshape(-1, 2, 2)
    lo, hi = pts.min(axis=1), pts.max(axis=1)
    return np.concatenate([lo, hi], axis=1).astype(np.float32)


def prepare_films(films: list[Film], spec: InputSpec) -> Prepared:
    """Every film through the product's recipe, cached in ``CACHE`` per input size."""
    size = spec.preprocess.size
    path = CACHE / f"mias_{size}_{len(films)}.npz"
    if path.exists():
        with np.load(path, allow_pickle=False) as data:
            greys = data["greys"]
            boxes = np.split(data["boxes"], np.cumsum(data["counts"])[:-1])
            calcs = np.split(data["calcs"], np.cumsum(data["calc_counts"])[:-1])
        return Prepared(greys, list(boxes), list(calcs))
    greys = np.zeros((len(films), size, size), dtype=np.float16)
    boxes, calcs = [], []
    for i, film in enumerate(films):
        ready = prepare(source_from_picture(film.path), spec)
        greys[i] = ready.grey
        boxes.append(_to_input(ready.transform.original_to_input(film.boxes.reshape(-1, 2, 2))))
        calcs.append(_to_input(ready.transform.original_to_input(
            film.calc_boxes.reshape(-1, 2, 2))))
    CACHE.mkdir(parents=True, exist_ok=True)
    np.savez(path, greys=greys, boxes=np.concatenate(boxes).reshape(-1, 4),
             counts=np.array([len(b) for b in boxes]),
             calcs=np.concatenate(calcs).reshape(-1, 4),
             calc_counts=np.array([len(b) for b in calcs]))
    return Prepared(greys, boxes, calcs)
