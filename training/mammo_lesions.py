"""Train, evaluate and export ``mammo_lesions``: lesion boxes + a film-level "abnormal" score.

    .venv/bin/python -m training.mammo_lesions [--quick] [--device cuda] [--epochs N]

mini-MIAS (302 MLO films, 151 women) is split into ``--folds`` folds BY WOMAN (both films
of a woman in one fold). Each fold's model is trained on the other folds and predicts its
own fold, so every film gets one out-of-fold prediction: the reported AUCs (95 % woman-level
cluster bootstrap) and FROC use those. The shipped model is fold 0's: trained on folds 1…k-1,
with fold 0 (its validation women, never trained on) used to choose the image score (pooled
head or heatmap peak), fit the temperature, set every operating point and the
out-of-distribution threshold (``training.ood``). Fixed seed; the same
code on CPU (defaults, ~25 min on one core) and GPU (``--device cuda``: more epochs).
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from inference.source import source_from_picture
from training.common import (
    REPO_ROOT,
    engine_for,
    fit_temperature,
    input_spec,
    operating_points,
    roc_auc,
    seed_everything,
    sens_spec,
    sigmoid,
    write_model_folder,
)
from training.fracture_eval import (
    ImageBoxes,
    box_point,
    froc_curve,
    hit_matrix,
    product_boxes,
    sensitivity_at,
    threshold_for,
)
from training.fracture_net import Detector, Exported
from training.mammo_data import Film, load_films, prepare_films, woman_folds
from training.mammo_report import failure_figures, model_card
from training.mammo_scale import film_scores, scale_cuts
from training.mammo_train import MEAN, STD, TOP_K, fit, normalise, predict
from training.ood import (
    STATS_FILE,
    OodFit,
    background_greys,
    fit_ood,
    other_dataset_refusals,
    refused_share,
)

MODEL_ID = "mammo_lesions"
VERSION = "0.1.0"
SEED = 20262
SIZE = 256
NMS_IOU = 0.3
MAX_BOXES = 10
WIDTHS = (16, 32, 64, 128)
BLOCKS = (1, 1, 1, 1)
OUT = REPO_ROOT / "onnx_models" / MODEL_ID
INPUT = {"name": "image", "shape": [1, 1, SIZE, SIZE], "dtype": "float32",
         "preprocess": {"recipe": "mammo_breast_crop_v1", "size": SIZE,
                        "window": "dicom_voi_or_minmax", "invert_monochrome1": True,
                        "normalize": {"mean": MEAN, "std": STD}}}
SPEC = input_spec(INPUT)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: 2 folds, 1 epoch, 48 training films")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--epochs", type=int, default=None,
                        help="default 45 on CPU, 150 on a GPU")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=OUT)
    return parser.parse_args()


# --------------------------------------------------------------------------- metrics


def woman_bootstrap_auc(y: np.ndarray, s: np.ndarray, women: np.ndarray, n: int = 2000,
                        seed: int = 0) -> tuple[float, float, float]:
    """AUC and its 95 % interval resampling WOMEN (both films together), not films."""
    ids = np.unique(women)
    rows = {w: np.flatnonzero(women == w) for w in ids}
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n):
        idx = np.concatenate([rows[w] for w in rng.choice(ids, ids.size)])
        values.append(roc_auc(y[idx], s[idx]))
    lo, hi = np.nanquantile(values, [0.025, 0.975])
    return roc_auc(y, s), float(lo), float(hi)


def wilson(k: float, n: int) -> tuple[float, float]:
    """95 % Wilson interval of a proportion k / n."""
    if n == 0:
        return float("nan"), float("nan")
    p, z = k / n, 1.96
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return float(centre - half), float(centre + half)


def product_view(out: dict[str, np.ndarray], floor: float = 0.001) -> list[ImageBoxes]:
    """Boxes as Tandem keeps them (floor threshold, NMS, max boxes), for FROC curves."""
    return [product_boxes(b, s, floor, NMS_IOU, MAX_BOXES)
            for b, s in zip(out["boxes"], out["scores"], strict=True)]


def froc(preds: list[ImageBoxes], truths: list[np.ndarray]) -> dict[str, Any]:
    _, fp, sens = froc_curve(preds, truths)
    n = sum(len(t) for t in truths)
    result: dict[str, Any] = {"lesions": n}
    for target in (0.5, 1.0, 2.0):
        s = sensitivity_at(fp, sens, target)
        result[f"sens_at_{target:g}_fp"] = s
        result[f"sens_at_{target:g}_fp_ci"] = list(wilson(round(s * n), n))
    return result


def calc_hits(preds: list[ImageBoxes], calcs: list[np.ndarray], threshold: float) -> str:
    hit = sum(int(hit_matrix(p.boxes[p.scores >= threshold], c).any(axis=0).sum())
              for p, c in zip(preds, calcs, strict=True))
    return f"{hit}/{sum(len(c) for c in calcs)}"


# --------------------------------------------------------------------------- export


def export_onnx(net: Detector, use_peak: bool, sample: np.ndarray) -> bytes:
    import onnx

    model = Exported(net.cpu().eval(), TOP_K, use_peak)
    buffer = io.BytesIO()
    x = normalise(torch.from_numpy(sample[:1].astype(np.float32))[:, None])
    torch.onnx.export(model, (x,), buffer,  # type: ignore[arg-type]  # a BytesIO works
                      dynamo=False, opset_version=17,
                      input_names=["image"],
                      output_names=["boxes", "box_scores", "logits", "embedding"])
    data = buffer.getvalue()
    onnx.checker.check_model(onnx.load_from_string(data))
    return data


def build_manifest(temperature: float, points: dict[str, dict[str, float]],
                   box_points: dict[str, float], metrics: dict[str, float | list[float]],
                   ood: OodFit) -> dict[str, Any]:
    def point(p: dict[str, float]) -> dict[str, float]:
        return {k: float(np.clip(v, 0.0, 1.0)) for k, v in p.items()}

    return {
        "id": MODEL_ID, "name": "Mammography lesions (mini-MIAS, research)",
        "version": VERSION, "status": "research use only — not for clinical use",
        "intended_use": "Research second reader on MLO mammograms: boxes on suspicious masses, "
                        "distortions and asymmetries, and a film-level probability that the "
                        "film holds any MIAS abnormality. Not for clinical use.",
        "artifact": {"file": "model.onnx", "sha256": "0" * 64, "opset": 17, "size_bytes": 0},
        "training": {"datasets": ["mammo/mini_mias"], "card": "MODEL_CARD.md",
                     "metrics": metrics},
        "applicability": {"modalities": ["MG"], "body_parts": ["BREAST"],
                          "view_positions": ["MLO"],
                          "photometric": ["MONOCHROME2", "MONOCHROME1"],
                          "ood": ood.manifest_block()},
        "execution_providers": ["CUDAExecutionProvider", "CPUExecutionProvider"],
        "inputs": [INPUT],
        "outputs": [
            {"name": "logits", "kind": "score", "labels": ["abnormal"], "activation": "sigmoid",
             "calibration": {"method": "temperature", "temperature": temperature},
             "operating_points": {k: point(v) for k, v in points.items()}},
            {"name": "boxes", "kind": "boxes", "format": "xyxy", "space": "model_input",
             "normalized": False, "scores": "box_scores", "labels": ["lesion"],
             "activation": "none", "score_threshold": box_points["floor"], "nms_iou": NMS_IOU,
             "max_boxes": MAX_BOXES,
             "operating_points": {"high_sensitivity": {"threshold": box_points["sens"]},
                                  "high_specificity": {"threshold": box_points["spec"]}}},
            {"name": "embedding", "kind": "embedding"},
        ],
    }


def engine_check(folder: Path, films: list[Film], idx: np.ndarray, net: Detector,
                 use_peak: bool, temperature: float) -> tuple[float, float]:
    """(max |engine − torch| on calibrated scores, mean engine ms per film) on ``idx``."""
    engine = engine_for(folder, MODEL_ID)
    model = Exported(net.cpu().eval(), TOP_K, use_peak)
    worst, elapsed = 0.0, 0.0
    for i in idx:
        source = source_from_picture(films[i].path)
        start = time.perf_counter()
        result = engine.analyze(source, MODEL_ID)
        elapsed += time.perf_counter() - start
        if result.reason:
            raise RuntimeError(f"engine refused {films[i].ref}: {result.reason}")
        from inference.preprocess import prepare

        x = torch.from_numpy(prepare(source, SPEC).tensor.copy())
        with torch.no_grad():
            _, _, logit, _ = model(x)
        ref = float(sigmoid(logit.numpy()[0, 0] / temperature))
        worst = max(worst, abs(result.case_scores[0].probability - ref))
    return worst, 1000 * elapsed / len(idx)


# --------------------------------------------------------------------------- main


def main() -> None:
    args = parse_args()
    torch.set_num_threads(1)
    seed_everything(SEED)
    started = time.time()
    gpu = args.device.startswith("cuda")
    epochs = args.epochs or (1 if args.quick else 150 if gpu else 45)
    films = load_films()
    prep = prepare_films(films, SPEC)
    folds = np.array(woman_folds(films, args.folds))
    women = np.array([f.woman for f in films])
    y = np.array([f.abnormal for f in films])
    fold_ids = range(2) if args.quick else range(args.folds)
    oof: dict[str, np.ndarray] = {}
    covered = np.zeros(len(films), bool)
    shipped: Detector | None = None
    per_fold = []
    for k in fold_ids:
        t0 = time.time()
        train_idx, val_idx = np.flatnonzero(folds != k), np.flatnonzero(folds == k)
        if args.quick:
            train_idx = train_idx[:48]
        print(f"fold {k}: {len(train_idx)} train films, {len(val_idx)} held out", flush=True)
        net = fit(films, prep.greys, prep.boxes, prep.calc_boxes, train_idx, epochs=epochs,
                  batch=16, widths=WIDTHS, blocks=BLOCKS, device=args.device, seed=SEED + k)
        out = predict(net, prep.greys, val_idx, args.device)
        for key, v in out.items():
            oof.setdefault(key, np.zeros((len(films), *v.shape[1:]), v.dtype))[val_idx] = v
        covered[val_idx] = True
        per_fold.append({"fold": k, "auc_pooled": roc_auc(y[val_idx], out["cls"]),
                         "auc_peak": roc_auc(y[val_idx], out["peak"]),
                         "seconds": time.time() - t0})
        print(f"  {per_fold[-1]}", flush=True)
        if k == 0:
            shipped = net.cpu()
    assert shipped is not None
    train_seconds = time.time() - started

    # ---- choices on the shipped model's validation women (fold 0) only
    val = np.flatnonzero(folds == 0)
    use_peak = roc_auc(y[val], oof["peak"][val]) > roc_auc(y[val], oof["cls"][val])
    logit = oof["peak" if use_peak else "cls"]
    temperature = fit_temperature(logit[val], y[val])
    prob = sigmoid(logit / temperature)
    points = operating_points(y[val], prob[val])
    preds = product_view(oof)
    _, val_fp, _ = th_fp = froc_curve([preds[i] for i in val], [prep.boxes[i] for i in val])
    thresholds = th_fp[0]
    sens_t = threshold_for(thresholds, val_fp, 1.0)
    spec_t = max(threshold_for(thresholds, val_fp, 0.25), sens_t)
    floor_t = min(threshold_for(thresholds, val_fp, 2.0), sens_t)
    box_points = {"floor": floor_t - 1e-6, "sens": sens_t - 1e-6, "spec": spec_t - 1e-6}

    # ---- reported metrics: out-of-fold predictions of every fold model
    m: dict[str, Any] = {"epochs": epochs, "folds": args.folds, "use_peak": use_peak,
                         "temperature": temperature, "per_fold": per_fold,
                         "train_seconds": train_seconds, "device": args.device,
                         "host": f"{platform.processor() or platform.machine()}, "
                                 f"{torch.get_num_threads()} torch thread(s)"}
    ev = np.flatnonzero(covered)
    mass = np.array([len(f.boxes) > 0 for f in films])
    calc_only = np.array([set(f.classes) == {"CALC"} for f in films])
    malignant = np.array([f.malignant for f in films])
    normal = y == 0
    groups = {"abnormal_vs_normal": ev,
              "mass_like_vs_normal": ev[(mass | normal)[ev]],
              "calc_only_vs_normal": ev[(calc_only | normal)[ev]],
              "malignant_vs_normal": ev[(malignant.astype(bool) | normal)[ev]]}
    for name, idx in groups.items():
        target = y if name != "malignant_vs_normal" else malignant
        m[f"auc_{name}"] = woman_bootstrap_auc(target[idx], prob[idx], women[idx])
        m[f"n_{name}"] = [int(target[idx].sum()), int((1 - target[idx]).sum())]
    ab = ev[y[ev] == 1]
    m["auc_malignant_vs_benign"] = woman_bootstrap_auc(malignant[ab], prob[ab], women[ab])
    m["auc_other_head"] = roc_auc(y[ev], oof["cls" if use_peak else "peak"][ev])
    m["froc"] = froc([preds[i] for i in ev], [prep.boxes[i] for i in ev])
    m["froc_val"] = froc([preds[i] for i in val], [prep.boxes[i] for i in val])
    rest = ev[folds[ev] != 0]
    m["points"] = {}
    for name, p in points.items():
        se, sp = sens_spec(y[rest], prob[rest], p["threshold"])
        m["points"][name] = {**p, "sens_other_folds": se, "spec_other_folds": sp}
    from training.common import ece

    m["ece_val"] = ece(y[val], prob[val])
    m["ece_other_folds"] = ece(y[rest], prob[rest])
    m["box_points"] = {}
    for name, t in box_points.items():
        m["box_points"][name] = {
            "threshold": t,
            "val": box_point([preds[i] for i in val], [prep.boxes[i] for i in val], t),
            "other_folds": box_point([preds[i] for i in rest], [prep.boxes[i] for i in rest], t),
            "calc_hits": calc_hits([preds[i] for i in ev], [prep.calc_boxes[i] for i in ev], t)}
    print(json.dumps({k: v for k, v in m.items() if k != "per_fold"}, indent=1, default=str))

    # ---- out-of-distribution check: statistics on the shipped model's training films,
    # threshold on its validation women (fold 0)
    shipped_train = np.flatnonzero(folds != 0)
    if args.quick:
        shipped_train = shipped_train[:48]
    n_check = 20 if args.quick else 200  # other datasets' pictures in the refusal count
    background = background_greys("mammo", n_check, SEED, SPEC)
    ood_fit = fit_ood(predict(shipped, prep.greys, shipped_train, "cpu")["embedding"],
                      oof["embedding"][val],
                      predict(shipped, background, np.arange(len(background)), "cpu")["embedding"])
    m["ood"] = ood_fit.manifest_block()
    m["ood_background_n"] = ood_fit.n_background_pictures
    m["ood_threshold"] = ood_fit.threshold
    m["ood_val_pass"] = ood_fit.val_pass

    # ---- export and write the model folder
    data = export_onnx(shipped, use_peak, prep.greys[val[:4]])
    auc, lo, hi = m["auc_abnormal_vs_normal"]
    f1 = m["froc"]
    metrics = {"auc_abnormal_cv": auc, "auc_abnormal_cv_ci95": [lo, hi],
               "froc_sens_at_0_5_fp": f1["sens_at_0.5_fp"],
               "froc_sens_at_1_fp": f1["sens_at_1_fp"], "froc_sens_at_2_fp": f1["sens_at_2_fp"],
               "ece_validation": m["ece_val"]}
    manifest = build_manifest(temperature, points, box_points, metrics, ood_fit)
    sample = test_sample(films, val, prob, preds, prep.boxes, box_points["sens"])
    m["test_sample"] = sample
    out_dir: Path = args.out
    figures = failure_figures(films, prep, val, prob, preds, box_points)
    extra = {STATS_FILE: ood_fit.stats_npz()}
    write_model_folder(out_dir, data, manifest, "pending\n", extra)
    worst, latency = engine_check(out_dir, films, val[:6], shipped, use_peak, temperature)
    engine = engine_for(out_dir, MODEL_ID)
    m["ood_refusals"] = other_dataset_refusals(engine, MODEL_ID, "mammo", n_check, SEED)
    m["ood_refusals"]["training"] = {
        "n": len(rest), "refused": refused_share(engine, MODEL_ID, [films[i].path for i in rest])}
    # ---- the 1–10 scale: deciles of the written model's film scores on all mini-MIAS films
    scale_scores, scale_refused = film_scores(models=out_dir.parent)
    manifest["outputs"][0]["scale_1_10"] = scale_cuts(scale_scores)
    m["scale"] = {"cuts": manifest["outputs"][0]["scale_1_10"], "n": len(scale_scores),
                  "refused": scale_refused}
    m["engine_vs_torch"] = worst
    m["cpu_latency_ms"] = latency
    m["model_bytes"] = len(data)
    m["params"] = sum(p.numel() for p in shipped.parameters())
    m["total_seconds"] = time.time() - started
    card_dir = out_dir / "card"
    card_dir.mkdir(exist_ok=True)
    for name, png in figures.items():
        (card_dir / name).write_bytes(png)
    card = model_card(m, manifest, list(figures), args.quick)
    write_model_folder(out_dir, data, manifest, card, extra)
    print(f"engine vs torch {worst:.2e}; {latency:.0f} ms/film; wrote {out_dir}; "
          f"{m['total_seconds']:.0f} s total")
    print("test sample:", json.dumps(sample))


def test_sample(films: list[Film], val: np.ndarray, prob: np.ndarray,
                preds: list[ImageBoxes], boxes: list[np.ndarray], t: float) -> dict[str, Any]:
    """A fixed sample of validation films for the test: the first 8 women (by number) with a
    target box and the first 8 normal women, both films each; its AUC and hits as trained."""
    by_woman: dict[int, list[int]] = {}
    for i in val:
        by_woman.setdefault(films[i].woman, []).append(int(i))
    lesion_w = [w for w, ii in sorted(by_woman.items()) if any(len(boxes[i]) for i in ii)][:8]
    normal_w = [w for w, ii in sorted(by_woman.items())
                if not any(films[i].abnormal for i in ii)][:8]
    idx = [i for w in lesion_w + normal_w for i in by_woman[w]]
    y = np.array([films[i].abnormal for i in idx])
    hits = sum(int(hit_matrix(preds[i].boxes[preds[i].scores >= t], boxes[i]).any(axis=0).sum())
               for i in idx)
    return {"refs": [films[i].ref for i in idx], "auc": roc_auc(y, prob[idx]),
            "lesions": int(sum(len(boxes[i]) for i in idx)), "hits": hits}


if __name__ == "__main__":
    main()
