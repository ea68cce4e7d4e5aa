"""Helpers shared by the training scripts: seeds, metrics, calibration, the product's
preprocessing, the model folder writer and a compact ResNet-style backbone.

Importing this module needs only numpy and Tandem's ``inference`` package: torch is
imported on first use of :class:`ResNetBackbone` / :class:`BasicBlock` (module
``__getattr__``), so a test can check the shipped models with the same metrics and the
same ``prepared_grey`` path without torch (which the application does not depend on).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from inference.engine import AnalysisEngine
from inference.manifest import InputSpec, parse_manifest
from inference.preprocess import prepare
from inference.registry import ModelRegistry
from inference.source import source_from_picture

REPO_ROOT = Path(__file__).resolve().parents[1]
DATASETS = REPO_ROOT.parent / "shared" / "datasets"
CACHE_DIR = Path(os.environ.get("TANDEM_TRAIN_CACHE", "/tmp/tandem-train-cache"))


# --------------------------------------------------------------------------- reproducibility


def seed_everything(seed: int) -> None:
    """Seed Python, numpy and (when installed) torch, CPU and CUDA; deterministic cuDNN."""
    random.seed(seed)
    np.random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    try:
        import torch
    except ImportError:
        return
    torch.manual_seed(seed)
    torch.cuda.manual_seed_all(seed)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False


# --------------------------------------------------------------------------- metrics


def roc_auc(y_true: np.ndarray, y_score: np.ndarray) -> float:
    """Area under the ROC curve (Mann–Whitney U with average ranks for ties); NaN for one class."""
    y = np.asarray(y_true).astype(bool).ravel()
    s = np.asarray(y_score, dtype=np.float64).ravel()
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(s, kind="mergesort")
    _, first, counts = np.unique(s[order], return_index=True, return_counts=True)
    ranks = np.empty(s.size, dtype=np.float64)
    ranks[order] = np.repeat(first + (counts + 1) / 2.0, counts)  # 1-based average ranks
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def bootstrap_ci(metric: Callable[[np.ndarray, np.ndarray], float], y_true: np.ndarray,
                 y_score: np.ndarray, n: int = 2000, seed: int = 0,
                 alpha: float = 0.05) -> tuple[float, float, float]:
    """(metric, low, high): percentile interval over ``n`` resamples stratified by class
    (positives and negatives resampled separately, so every resample has both)."""
    y = np.asarray(y_true).astype(int).ravel()
    s = np.asarray(y_score, dtype=np.float64).ravel()
    value = metric(y, s)
    pos, neg = np.flatnonzero(y == 1), np.flatnonzero(y == 0)
    if pos.size == 0 or neg.size == 0:
        return value, float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    values = np.empty(n, dtype=np.float64)
    for i in range(n):
        idx = np.concatenate([rng.choice(pos, pos.size), rng.choice(neg, neg.size)])
        values[i] = metric(y[idx], s[idx])
    lo, hi = np.nanquantile(values, [alpha / 2, 1 - alpha / 2])
    return float(value), float(lo), float(hi)


def bootstrap_auc(y_true: np.ndarray, y_score: np.ndarray, n: int = 2000,
                  seed: int = 0) -> tuple[float, float, float]:
    """(AUC, 2.5 % and 97.5 % percentiles) over ``n`` class-stratified bootstrap resamples."""
    return bootstrap_ci(roc_auc, y_true, y_score, n=n, seed=seed)


def sens_spec(y_true: np.ndarray, y_score: np.ndarray, threshold: float) -> tuple[float, float]:
    """(sensitivity, specificity) when ``score >= threshold`` is called positive."""
    y = np.asarray(y_true).astype(bool).ravel()
    called = np.asarray(y_score, dtype=np.float64).ravel() >= threshold
    sens = float(called[y].mean()) if y.any() else float("nan")
    spec = float((~called[~y]).mean()) if (~y).any() else float("nan")
    return sens, spec


def operating_points(y_true: np.ndarray, y_score: np.ndarray,
                     target_sensitivity: float = 0.95,
                     target_specificity: float = 0.95) -> dict[str, dict[str, float]]:
    """The two thresholds of a manifest's ``operating_points`` (``score >= t`` is positive).

    ``high_sensitivity``: the highest threshold that keeps sensitivity ≥ the target;
    ``high_specificity``: the lowest threshold that reaches specificity ≥ the target. Each
    threshold sits halfway between the deciding score and the next lower one, so float
    rounding on the same image cannot flip a decision. When the data are separable enough
    that the specificity threshold falls below the sensitivity one, it is raised to it
    (the manifest requires high_specificity ≥ high_sensitivity).
    """
    y = np.asarray(y_true).astype(bool).ravel()
    s = np.asarray(y_score, dtype=np.float64).ravel()
    if not y.any() or y.all():
        raise ValueError("operating points need both positives and negatives")
    candidates = np.unique(s)  # ascending

    def between(k: int) -> float:
        return float(candidates[k] if k == 0 else (candidates[k] + candidates[k - 1]) / 2)

    sens = np.array([(s[y] >= c).mean() for c in candidates])
    spec = np.array([(s[~y] < c).mean() for c in candidates])
    k_sens = int(np.flatnonzero(sens >= target_sensitivity).max())  # sens[0] is 1
    meeting = np.flatnonzero(spec >= target_specificity)
    t_sens = between(k_sens)
    t_spec = between(int(meeting.min())) if meeting.size else float(candidates[-1]) + 1e-6
    t_spec = max(t_spec, t_sens)
    points = {}
    for name, t in (("high_sensitivity", t_sens), ("high_specificity", t_spec)):
        se, sp = sens_spec(y, s, t)
        points[name] = {"threshold": t, "sensitivity": se, "specificity": sp}
    return points


def reliability(y_true: np.ndarray, y_prob: np.ndarray,
                bins: int = 10) -> list[tuple[float, float, int, float, float]]:
    """(bin low, bin high, count, mean predicted probability, observed positive rate) per
    equal-width bin; empty bins are left out."""
    y = np.asarray(y_true, dtype=np.float64).ravel()
    p = np.clip(np.asarray(y_prob, dtype=np.float64).ravel(), 0.0, 1.0)
    index = np.minimum((p * bins).astype(int), bins - 1)
    rows = []
    for b in range(bins):
        inside = index == b
        if inside.any():
            rows.append((b / bins, (b + 1) / bins, int(inside.sum()),
                         float(p[inside].mean()), float(y[inside].mean())))
    return rows


def ece(y_true: np.ndarray, y_prob: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error: count-weighted |observed rate − mean probability| over
    ``bins`` equal-width probability bins."""
    total = np.asarray(y_true).size
    return float(sum(n * abs(rate - conf) for _, _, n, conf, rate
                     in reliability(y_true, y_prob, bins)) / max(total, 1))


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The temperature T minimising the binary log-loss of ``sigmoid(logit / T)``.

    Golden-section search on log T in [e^-3, e^3] (the loss is unimodal in T for a
    fixed ranking); one scalar, so no optimiser library is needed.
    """
    z = np.asarray(logits, dtype=np.float64).ravel()
    t = np.asarray(y, dtype=np.float64).ravel()

    def nll(log_temp: float) -> float:
        x = z / np.exp(log_temp)
        return float(np.mean(np.logaddexp(0.0, x) - t * x))

    lo, hi = -3.0, 3.0
    ratio = (np.sqrt(5.0) - 1) / 2
    a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    fa, fb = nll(a), nll(b)
    for _ in range(80):
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - ratio * (hi - lo)
            fa = nll(a)
        else:
            lo, a, fa = a, b, fb
            b = lo + ratio * (hi - lo)
            fb = nll(b)
    return float(np.exp((lo + hi) / 2))


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * np.asarray(x, dtype=np.float64)))


# --------------------------------------------------------------------------- preprocessing


def input_spec(spec: InputSpec | Mapping[str, Any]) -> InputSpec:
    """An :class:`InputSpec` from the manifest's ``inputs[0]`` dict (or itself)."""
    return spec if isinstance(spec, InputSpec) else InputSpec.model_validate(dict(spec))


def prepared_grey(path: Path | str, spec: InputSpec | Mapping[str, Any]) -> np.ndarray:
    """The (S, S) float32 grey square in [0, 1] that the product gives the model for the
    PNG/JPEG at ``path`` (before normalisation): ``source_from_picture`` then ``prepare``."""
    return prepare(source_from_picture(Path(path)), input_spec(spec)).grey


# --------------------------------------------------------------------------- model folder


def onnx_opset(onnx_bytes: bytes) -> int:
    import onnx

    model = onnx.load_from_string(onnx_bytes)
    return int(next(o.version for o in model.opset_import if o.domain in ("", "ai.onnx")))


def write_model_folder(folder: Path | str, onnx_bytes: bytes, manifest: dict[str, Any],
                       card_markdown: str,
                       extra_files: Mapping[str, bytes] | None = None) -> Path:
    """Write ``model.onnx``, ``manifest.json`` (artifact sha256/size/opset filled in from the
    bytes, validated by :func:`inference.manifest.parse_manifest` before anything is
    written), the model card and ``extra_files`` (e.g. ``ood_stats.npz``) into ``folder``."""
    folder = Path(folder)
    manifest = json.loads(json.dumps(manifest))  # a deep copy that is surely plain JSON
    artifact = manifest.setdefault("artifact", {})
    artifact.setdefault("file", "model.onnx")
    artifact.update(sha256=hashlib.sha256(onnx_bytes).hexdigest(), size_bytes=len(onnx_bytes),
                    opset=onnx_opset(onnx_bytes))
    parsed = parse_manifest(manifest, folder / "manifest.json")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / parsed.artifact.file).write_bytes(onnx_bytes)
    (folder / "manifest.json").write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (folder / parsed.training.card).write_text(card_markdown, encoding="utf-8")
    for name, data in (extra_files or {}).items():
        (folder / name).write_bytes(data)
    return folder


def engine_for(folder: Path, model_id: str) -> AnalysisEngine:
    """Tandem's engine on the model just written to ``folder`` (checked valid, and the one
    that answers to ``model_id`` among ``folder``'s siblings)."""
    registry = ModelRegistry([folder.parent])
    entry = registry.get(model_id)
    if entry.folder.resolve() != folder.resolve() or not entry.valid:
        raise RuntimeError(f"{folder}: not the valid {model_id} of its parent folder "
                           f"({entry.folder}: {entry.problems})")
    return AnalysisEngine(registry)


# --------------------------------------------------------------------------- networks (torch)


@cache
def _networks() -> dict[str, Any]:
    """The torch modules, defined on first use (torch is a training-only dependency)."""
    from torch import Tensor, nn

    class BasicBlock(nn.Module):
        """ResNet basic block: two 3×3 conv + batch norm, identity or 1×1 shortcut."""

        def __init__(self, cin: int, cout: int, stride: int = 1) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.relu = nn.ReLU(inplace=True)
            self.shortcut: nn.Module = nn.Identity()
            if stride != 1 or cin != cout:
                self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                              nn.BatchNorm2d(cout))

        def forward(self, x: Tensor) -> Tensor:
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return self.relu(out + self.shortcut(x))

    class ResNetBackbone(nn.Module):
        """A compact ResNet: stem (5×5 conv stride 2 + 3×3 max-pool stride 2), then one stage
        per width of ``blocks[i]`` basic blocks, the first with ``strides[i]``.

        ``forward`` returns the last feature map ``(N, out_channels, H / stride, W / stride)``
        with ``stride = 4 · prod(strides)``; ``features`` lists every stage's map (for
        detectors). Defaults: 16–128 channels, 1 block per stage, ≈ 0.7 M parameters.
        """

        def __init__(self, in_channels: int = 1, widths: tuple[int, ...] = (16, 32, 64, 128),
                     blocks: tuple[int, ...] = (1, 1, 1, 1),
                     strides: tuple[int, ...] = (1, 2, 2, 2)) -> None:
            super().__init__()
            if not len(widths) == len(blocks) == len(strides):
                raise ValueError("widths, blocks and strides need one entry per stage")
            self.stem = nn.Sequential(
                nn.Conv2d(in_channels, widths[0], 5, 2, 2, bias=False),
                nn.BatchNorm2d(widths[0]), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1))
            stages = []
            cin = widths[0]
            for width, count, stride in zip(widths, blocks, strides, strict=True):
                layers = [BasicBlock(cin, width, stride)]
                layers += [BasicBlock(width, width) for _ in range(count - 1)]
                stages.append(nn.Sequential(*layers))
                cin = width
            self.stages = nn.ModuleList(stages)
            self.out_channels = cin
            self.stride = 4 * int(np.prod(strides))
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

        def features(self, x: Tensor) -> list[Tensor]:
            x = self.stem(x)
            maps = []
            for stage in self.stages:
                x = stage(x)
                maps.append(x)
            return maps

        def forward(self, x: Tensor) -> Tensor:
            return self.features(x)[-1]

    return {"BasicBlock": BasicBlock, "ResNetBackbone": ResNetBackbone}


def __getattr__(name: str) -> Any:
    if name in ("BasicBlock", "ResNetBackbone"):
        return _networks()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
