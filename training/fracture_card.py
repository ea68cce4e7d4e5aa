"""The manifest, the model card and the failure-case pictures of ``fracture_boxes``,
all from the numbers measured by ``training.fracture_boxes``."""

from __future__ import annotations

import io
import math
import platform
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from inference.manifest import RESEARCH_STATUS
from training.fracture_data import Item

BODY_PARTS = ["HAND", "FINGER", "THUMB", "WRIST", "FOREARM", "ELBOW", "ARM", "HUMERUS",
              "SHOULDER", "CLAVICLE", "UPPER LIMB", "HIP", "PELVIS", "FEMUR", "THIGH", "KNEE",
              "LEG", "TIBIA", "FIBULA", "ANKLE", "FOOT", "TOE", "HEEL", "LOWER LIMB",
              "EXTREMITY"]
CITATION = ("Abedeen, I., Rahman, M.A., Prottyasha, F.Z. et al. FracAtlas: A Dataset for "
            "Fracture Classification, Localization and Segmentation of Musculoskeletal "
            "Radiographs. Sci Data 10, 521 (2023). https://doi.org/10.1038/s41597-023-02432-4")
PNG_BUDGET = 190_000


def _r(x: float, nd: int = 4) -> float:
    return round(float(x), nd)


def build_manifest(model_id: str, input_spec: dict, res: dict) -> dict[str, Any]:
    pts, bt = res["points"], res["box_thresholds"]
    auc = res["test_auc"]
    metrics: dict[str, float | list[float]] = {
        "test_auc": [_r(v) for v in auc], "val_auc": _r(res["val_auc"]),
        "test_ece": _r(res["test_ece"]),
        "test_sensitivity_at_high_sensitivity": _r(
            res["test_points"]["high_sensitivity"]["sensitivity"]),
        "test_specificity_at_high_sensitivity": _r(
            res["test_points"]["high_sensitivity"]["specificity"]),
        "test_sensitivity_at_high_specificity": _r(
            res["test_points"]["high_specificity"]["sensitivity"]),
        "test_specificity_at_high_specificity": _r(
            res["test_points"]["high_specificity"]["specificity"]),
        **{f"test_froc_sensitivity_at_{k}_fp": _r(v) for k, v in res["froc_test"].items()},
        "cpu_latency_ms": _r(res["latency_ms"], 1),
    }
    return {
        "id": model_id,
        "name": "Fracture boxes (FracAtlas research model)",
        "version": "0.1.0",
        "status": RESEARCH_STATUS,
        "intended_use": ("Research second reader on limb, shoulder and hip radiographs: boxes "
                         "around possible fractures and an image-level fracture probability. "
                         "Not for clinical use."),
        "artifact": {"file": "model.onnx", "sha256": "0" * 64, "opset": 17, "size_bytes": 0},
        "training": {"datasets": ["FracAtlas (figshare 10.6084/m9.figshare.22363012, "
                                  "CC BY 4.0), subset in shared/datasets/fracture/fracatlas"],
                     "card": "MODEL_CARD.md", "metrics": metrics},
        "applicability": {"modalities": ["CR", "DX"], "body_parts": BODY_PARTS,
                          "ood": res["ood"]},
        "execution_providers": ["CUDAExecutionProvider", "CPUExecutionProvider"],
        "inputs": [input_spec],
        "outputs": [
            {"name": "logits", "kind": "score", "labels": ["fracture"],
             "activation": "sigmoid",
             "calibration": {"method": "temperature", "temperature": _r(res["temperature"], 6)},
             "operating_points": {name: {"threshold": _r(p["threshold"], 6),
                                         "sensitivity": _r(p["sensitivity"]),
                                         "specificity": _r(p["specificity"])}
                                  for name, p in pts.items()}},
            {"name": "boxes", "kind": "boxes", "format": "xyxy", "space": "model_input",
             "normalized": False, "scores": "box_scores", "labels": ["fracture"],
             "activation": "none", "score_threshold": 0.05, "nms_iou": 0.3, "max_boxes": 10,
             "operating_points": {name: {
                 "threshold": _r(bt[name], 6),
                 "sensitivity": _r(res["box_val"][name]["lesion_sensitivity"]),
                 "specificity": _r(res["box_val"][name]["negative_images_without_box"])}
                 for name in ("high_sensitivity", "high_specificity")}},
            {"name": "embedding", "kind": "embedding"},
        ],
    }


def failure_pngs(items: list[Item], greys: np.ndarray, boxes: list[np.ndarray], res: dict,
                 test: list[int]) -> dict[str, bytes]:
    """Missed fractures (lowest scores) and false alarms (highest scores) on test, with label
    boxes (green) and predicted boxes at the high-sensitivity box threshold (red)."""
    prob = res["prob"]
    t_box = res["box_thresholds"]["high_sensitivity"]
    fx = sorted((i for i in test if items[i].fractured), key=lambda i: prob[i])[:3]
    neg = sorted((i for i in test if not items[i].fractured), key=lambda i: -prob[i])[:3]
    chosen = [("missed", i) for i in fx] + [("false_alarm", i) for i in neg]
    side = 256
    while True:
        pngs = {f"{kind}_{items[i].image_id}.png": _picture(greys[i], boxes[i],
                                                          res["preds"][i], t_box, side)
                for kind, i in chosen}
        if sum(len(p) for p in pngs.values()) <= PNG_BUDGET or side <= 128:
            return pngs
        side -= 32


def _picture(grey: np.ndarray, truth: np.ndarray, pred: Any, threshold: float,
             side: int) -> bytes:
    image = Image.fromarray((np.asarray(grey, np.float32) * 255).astype(np.uint8)).convert("RGB")
    draw = ImageDraw.Draw(image)
    for b in truth:
        draw.rectangle([float(v) for v in b], outline=(0, 220, 0), width=2)
    for b, s in zip(pred.boxes, pred.scores, strict=True):
        if s >= threshold:
            draw.rectangle([float(v) for v in b], outline=(255, 40, 40), width=2)
            draw.text((float(b[0]), max(0.0, float(b[1]) - 11)), f"{s:.2f}", fill=(255, 40, 40))
    image = image.resize((side, side), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.quantize(colors=48).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _ci(v: list[float]) -> str:
    if any(math.isnan(x) for x in v):
        return "n/a"
    return f"{v[0]:.3f} ({v[1]:.3f}–{v[2]:.3f})"


def _ood_sentence(res: dict) -> str:
    r = res["ood_refusals"]
    names = {"chest": "tb_normal chest radiographs", "mammo": "mini-MIAS mammograms",
             "test": "test-part FracAtlas images (same population, never trained on)"}
    refused = "; ".join(f"{d['refused'] * d['n']:.0f} of {d['n']} {names[k]}" for k, d in r.items())
    return (f"Threshold {res['ood']['threshold']:.2f}: the 99th percentile of validation "
            f"distances ({res['ood_val_pass']:.0%} of validation images pass). Refused, "
            f"through Tandem's engine: {refused}.")


def _learning_curve(hist: list[dict]) -> str:
    """Validation AUC (better head) half-way and at the best epoch, whose weights are kept."""
    auc = [max(h["val_auc_pooled"], h["val_auc_peak"]) for h in hist]
    best = int(np.argmax(auc))
    half = len(auc) // 2 - 1
    return (f"validation AUC {auc[half]:.3f} at epoch {half + 1}, {auc[best]:.3f} at epoch "
            f"{best + 1} of {len(auc)} (the weights kept), so more epochs would likely help")


def _ood_limit(mammo: dict) -> str:
    return (f"- The out-of-distribution check refuses chest films but few mammograms "
            f"({mammo['refused'] * mammo['n']:.0f} of {mammo['n']}): a DICOM mammogram "
            "(modality MG) is refused by the applicability gate before it, but a mammogram "
            "opened as a plain picture may get boxes.")


def build_card(res: dict, manifest: dict, pngs: list[str]) -> str:
    """The model card's markdown, every number from ``res``."""
    n, args = res["n"], res["args"]
    pts, tp = res["points"], res["test_points"]
    bt, bv, bx = res["box_thresholds"], res["box_val"], res["box_test"]
    score_src = "the highest centre-heatmap logit" if res["use_peak"] else \
        "the pooled image head"
    lines = [
        "# Fracture boxes (`fracture_boxes`) — FracAtlas research model", "",
        f"**{RESEARCH_STATUS}.** Boxes around possible fractures on limb, shoulder and hip "
        "radiographs, plus an image-level fracture probability. The labels are the dataset "
        "authors', not a clinical reference standard.", "",
        "## Model",
        f"- CenterNet-style detector: `training.common.ResNetBackbone` (widths 24-48-96-160), "
        f"top-down path to stride 8, heads for the centre heatmap, box size and offset; "
        f"{res['params']:,} parameters, ONNX opset 17 fp32, "
        f"{res['onnx_bytes'] / 1e6:.1f} MB.",
        f"- Input: `xray_letterbox_v1`, {args['size']} px, 1 channel, normalised "
        "(grey − 0.5) / 0.25.",
        "- Decoding is in the graph: 3×3 max-pool peak picking and top-50 → `boxes` (1, 50, 4) "
        "xyxy in model-input pixels, `box_scores` (1, 50) (sigmoid of the heatmap peak); "
        "Tandem then keeps scores ≥ 0.05, NMS at IoU 0.3, at most 10 boxes.",
        f"- Image-level `logits`: {score_src} (chosen on validation AUC), temperature-scaled "
        f"(T = {res['temperature']:.3f}, fitted on validation).",
        "- Applicability: modalities CR, DX; body parts " + ", ".join(manifest["applicability"]
                                                                     ["body_parts"]) + ".",
        "- Out-of-distribution check: `embedding` (the deepest features averaged over the "
        "image) is compared with the training images' embeddings (Mahalanobis distance); "
        "Tandem refuses an image farther than the threshold. " + _ood_sentence(res),
        "",
        "## Data, licence, citation",
        "- FracAtlas (Abedeen et al., 2023), figshare 10.6084/m9.figshare.22363012, "
        "**CC BY 4.0** (attribution required); copy from GitHub `marvY-O/FracAtlas` commit "
        "e548d128. Subset used: 677 fractured + 984 non-fractured images "
        "(`shared/datasets/fracture/README.md`; 40 + 40 images are held out elsewhere and "
        "were not used).",
        f"- Citation: {CITATION}",
        "- Split by image (FracAtlas has no patient ids, so images of one patient may sit in "
        "two parts): fractured images follow the authors' split (`source_split`); "
        "non-fractured images were drawn per body part with a fixed seed (70/15/15). "
        f"train {n['train']['fractured']} fractured / {n['train']['other']} not; "
        f"valid {n['valid']['fractured']} / {n['valid']['other']}; "
        f"test {n['test']['fractured']} / {n['test']['other']}.",
        "- Epoch, image-score source, temperature and all thresholds were chosen on *valid*; "
        "*test* was only measured.",
        "- Training only: fractured images larger than 512 px were shrunk to 512 px first "
        "(the curator shrank fractured images to 640 px but non-fractured to 512 px: a "
        "resolution shortcut). Sampling balances fractured/non-fractured within each body "
        "part (non-fractured legs outnumber fractured ones). Augmentation: flip, scale "
        "0.85–1.2, shift ±8 %, gamma/contrast/brightness.",
        "",
        "## Results (test part)",
        "| metric | value (95 % bootstrap CI) |", "|---|---|",
        f"| image-level AUC | {_ci(res['test_auc'])} |",
        f"| image-level AUC, images without orthopaedic hardware "
        f"({res['n_test_hardware']} with hardware removed) | "
        f"{_ci(res['test_auc_without_hardware'])} |",
        f"| validation AUC (selection) | {res['val_auc']:.3f} |",
        f"| ECE (10 bins), calibrated / raw | {res['test_ece']:.3f} / "
        f"{res['test_ece_uncalibrated']:.3f} |",
        "",
        "Reference to beat (MODELS.md): AUC 0.86, ResNet-18 from scratch, on a random 20 % "
        "of images. Our test part is the authors' fractured test split plus 15 % of the "
        "non-fractured images: a comparable but not identical split, and smaller.", "",
        "| operating point (image level) | threshold (calibrated p) | valid sens / spec | "
        "test sens / spec |", "|---|---|---|---|",
    ]
    for name in ("high_sensitivity", "high_specificity"):
        p, t = pts[name], tp[name]
        lines.append(f"| {name} | {p['threshold']:.3f} | {p['sensitivity']:.3f} / "
                     f"{p['specificity']:.3f} | {t['sensitivity']:.3f} / "
                     f"{t['specificity']:.3f} |")
    lines += ["", "Per body part (test; small groups, wide intervals):", "",
              "| body part | fractured | not | AUC (95 % CI) |", "|---|---|---|---|"]
    for part, d in res["per_body_part"].items():
        lines.append(f"| {part} | {d['n_fractured']} | {d['n_other']} | {_ci(d['auc'])} |")
    lines += ["", "Boxes. A predicted box hits a fracture when IoU ≥ 0.3 **or** its centre "
              "lies inside the label box. FROC on test (fraction of the "
              f"{res['n_test_boxes']} label boxes hit at a mean of k false boxes per image, "
              "all test images):", "",
              "| false boxes / image | 0.5 | 1 | 2 |", "|---|---|---|---|",
              "| lesion sensitivity | " + " | ".join(f"{res['froc_test'][k]:.3f}"
                                                   for k in ("0.5", "1.0", "2.0")) + " |",
              "", "| box operating point | threshold | set | lesion sens | fractured images "
              "with a hit | non-fractured images without a box | false boxes / image |",
              "|---|---|---|---|---|---|---|"]
    for name in ("high_sensitivity", "high_specificity"):
        for label, d in (("valid", bv[name]), ("test", bx[name])):
            lines.append(f"| {name} | {bt[name]:.3f} | {label} | {d['lesion_sensitivity']:.3f} "
                         f"| {d['image_hit_rate']:.3f} | "
                         f"{d['negative_images_without_box']:.3f} | "
                         f"{d['false_boxes_per_image']:.2f} |")
    lines += ["", "(Box thresholds: ≤ 1 false box per image on valid for high_sensitivity, "
              "≤ 0.25 for high_specificity. The manifest's box `sensitivity` is the valid "
              "lesion sensitivity, its `specificity` the share of valid non-fractured images "
              "without any box.)", "",
              "Reliability (test, calibrated): " + "; ".join(
                  f"[{lo:.1f}–{hi:.1f}) n={k} p̄={c:.2f} obs={o:.2f}"
                  for lo, hi, k, c, o in res["reliability"]), "",
              "## Failure cases (test)",
              "Green: label boxes; red: predicted boxes at the high-sensitivity box "
              "threshold, with their score. `missed_*`: fractured images with the lowest "
              "scores; `false_alarm_*`: non-fractured images with the highest.", ""]
    lines += [f"![{name}](card/{name})" for name in pngs]
    hist = res["history"]
    lines += ["", "## Training",
              f"- Hardware: {platform.processor() or platform.machine()} CPU, "
              f"{args['threads']} thread(s) (device `{args['device']}`), "
              f"{len(hist)} epochs × batch {args['batch']}, AdamW one-cycle lr "
              f"{args['lr']}, seed 4; "
              f"{res['train_seconds'] / 60:.1f} min including the preprocessing cache.",
              f"- CPU inference (ONNX Runtime, 2 threads): {res['latency_ms']:.0f} ms per "
              "image (model only).",
              "- Command: `.venv/bin/python -m training.fracture_boxes` (the CPU defaults: "
              f"{len(hist)} epochs, --threads {args['threads']}); "
              "`--device cuda --epochs 60` is the intended GPU setting.",
              "- Validation AUC per epoch (pooled head / heatmap peak): " + ", ".join(
                  f"{h['val_auc_pooled']:.3f}/{h['val_auc_peak']:.3f}" for h in hist) + ".",
              "", "## Limits and next steps",
              f"- Trained from scratch on ~1,200 images in {res['train_seconds'] / 60:.0f} CPU "
              f"minutes: {_learning_curve(hist)} (9 epochs gave 0.789 on validation, 0.788 on "
              "test). With a GPU: 60+ epochs, larger input (512 px) for hairline "
              "fractures, self-supervised pre-training on all FracAtlas images (4,083 incl. "
              "the unlabelled-for-boxes non-fractured pool), and multi-seed ensembles.",
              "- Shortcuts: orthopaedic hardware appears almost only in fractured images "
              "(93 vs 1), so the score partly means \"hardware\"; see the AUC without "
              "hardware. Burned-in side markers and text are present; check the failure "
              "cases for boxes on letters.",
              "- One source population (3 hospitals in Bangladesh); no external validation. "
              "Split by image, not by patient.",
              _ood_limit(res["ood_refusals"]["mammo"]),
              "- Outside FracAtlas, the only real limb DICOM at hand (`shared/datasets/dicom/"
              "pydicom-data/RG3_J2KI.dcm`, a 2004 Fuji CR of a leg, one image): "
              f"{res['external']}. The check knows FracAtlas only: at a new site, expect "
              "refusals; `tandem models calibrate fracture_boxes <50+ of the site's limb films>` "
              "adds a site calibration (tests/test_site_calibration.py).", ""]
    return "\n".join(lines)
