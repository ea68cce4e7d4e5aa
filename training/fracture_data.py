"""FracAtlas for the fracture detector: labels, the split, and the prepared-image cache.

Every image goes through the product's recipe (``inference.preprocess.prepare`` with the
manifest's input spec), so training sees what Tandem gives the model. One training-only
step comes first: fractured images larger than 512 px are shrunk to 512 px (Lanczos), as
the dataset's curator did for the non-fractured ones (README: longest side ≤ 640 px for
fractured, ≤ 512 px for non-fractured). Without it, "large original, less shrunk" would
be a label shortcut.
"""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image

from inference.manifest import InputSpec
from inference.preprocess import prepare
from inference.source import source_from_picture

DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "fracture" / "fracatlas"
CACHE = Path("/tmp/tandem-train-cache/fracture")
MAX_SIDE = 512  # the non-fractured images' longest side (README)
SPLIT_SEED = 20260
# Non-fractured images have no authors' split: drawn per body part with SPLIT_SEED.
NEG_FRACTIONS = {"train": 0.70, "valid": 0.15, "test": 0.15}


@dataclass(frozen=True)
class Item:
    image_id: str
    path: Path
    fractured: int
    body_part: str
    hardware: int
    split: str
    boxes: np.ndarray  # (k, 4) xyxy in stored-image pixels


def body_group(body_part: str) -> str:
    """hand / leg / hip / shoulder, or "mixed" for several parts in one image."""
    return body_part if "+" not in body_part else "mixed"


def load_items(data: Path = DATA) -> list[Item]:
    """One item per image, with the split: authors' split for fractured images, a seeded
    per-body-part draw for the others (no patient ids in FracAtlas: the split is by image)."""
    rows: dict[str, list[dict[str, str]]] = defaultdict(list)
    with (data / "labels.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            rows[row["image_id"]].append(row)
    neg_split = _negative_split({k: v[0] for k, v in rows.items() if v[0]["fractured"] == "0"})
    items = []
    for image_id in sorted(rows):
        first = rows[image_id][0]
        boxes = np.array([[float(r[c]) for c in ("x_min", "y_min", "x_max", "y_max")]
                          for r in rows[image_id] if r["box_index"] != ""],
                         dtype=np.float32).reshape(-1, 4)
        fractured = int(first["fractured"])
        split = first["source_split"] if fractured else neg_split[image_id]
        items.append(Item(image_id, data / first["file"], fractured, first["body_part"],
                          int(first["hardware"]), split, boxes))
    return items


def _negative_split(first_rows: dict[str, dict[str, str]]) -> dict[str, str]:
    by_part: dict[str, list[str]] = defaultdict(list)
    for image_id, row in sorted(first_rows.items()):
        by_part[body_group(row["body_part"])].append(image_id)
    rng = random.Random(SPLIT_SEED)
    split = {}
    for part in sorted(by_part):
        ids = by_part[part]
        rng.shuffle(ids)
        n_valid = round(len(ids) * NEG_FRACTIONS["valid"])
        n_test = round(len(ids) * NEG_FRACTIONS["test"])
        for i, image_id in enumerate(ids):
            split[image_id] = "test" if i < n_test else "valid" if i < n_test + n_valid \
                else "train"
    return split


def prepared(item: Item, spec: InputSpec) -> tuple[np.ndarray, np.ndarray]:
    """(grey (S, S) float32, boxes (k, 4) in model-input pixels) for one item."""
    source = source_from_picture(item.path)
    boxes = item.boxes.astype(np.float64)
    rows, cols = source.size
    if max(rows, cols) > MAX_SIDE:
        factor = MAX_SIDE / max(rows, cols)
        new = (max(1, round(cols * factor)), max(1, round(rows * factor)))
        small = Image.fromarray(source.values.astype(np.uint8)).resize(
            new, Image.Resampling.LANCZOS)
        boxes = boxes * np.array([new[0] / cols, new[1] / rows] * 2)
        source = replace(source, values=np.asarray(small, dtype=np.float32))
    ready = prepare(source, spec)
    pts = ready.transform.original_to_input(boxes.reshape(-1, 2, 2)).reshape(-1, 4)
    return ready.grey, pts.astype(np.float32)


def cached_arrays(items: list[Item], spec: InputSpec) -> tuple[np.ndarray, list[np.ndarray]]:
    """All prepared greys (N, S, S) float16 and boxes, cached in CACHE per input size."""
    size = spec.preprocess.size
    path = CACHE / f"grey_{size}_{len(items)}.npz"
    if path.exists():
        with np.load(path, allow_pickle=False) as data:
            greys = data["greys"]
            flat, counts = data["boxes"], data["counts"]
        boxes = np.split(flat, np.cumsum(counts)[:-1])
        return greys, boxes
    greys = np.zeros((len(items), size, size), dtype=np.float16)
    boxes = []
    for i, item in enumerate(items):
        grey, b = prepared(item, spec)
        greys[i] = grey
        boxes.append(b)
    CACHE.mkdir(parents=True, exist_ok=True)
    counts = np.array([len(b) for b in boxes])
    np.savez(path, greys=greys, boxes=np.concatenate(boxes).reshape(-1, 4), counts=counts)
    return greys, boxes
