"""The model card and failure-case figures of ``mammo_lesions``."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from training.fracture_eval import ImageBoxes, hit_matrix
from training.mammo_data import Film, Prepared
from training.ood import method_sentence

FIG_SIDE = 224


def _figure(grey: np.ndarray, truth: np.ndarray, calcs: np.ndarray, pred: ImageBoxes,
            threshold: float, caption: str) -> bytes:
    """The model input with label boxes (green; calcifications yellow) and the boxes at the
    high-sensitivity point (red, with score), as a small palette PNG."""
    img = Image.fromarray((np.clip(grey.astype(np.float32), 0, 1) * 255).astype(np.uint8))
    img = img.convert("RGB")
    draw = ImageDraw.Draw(img)
    for b in truth:
        draw.rectangle([float(v) for v in b], outline=(0, 220, 0), width=2)
    for b in calcs:
        draw.rectangle([float(v) for v in b], outline=(240, 220, 0), width=2)
    for b, s in zip(pred.boxes, pred.scores, strict=True):
        if s >= threshold:
            draw.rectangle([float(v) for v in b], outline=(255, 40, 40), width=1)
            draw.text((float(b[0]) + 2, float(b[1]) + 1), f"{s:.2f}", fill=(255, 80, 80))
    draw.text((4, img.height - 14), caption, fill=(255, 255, 255))
    img = img.resize((FIG_SIDE, FIG_SIDE), Image.Resampling.BILINEAR).quantize(48)
    buffer = io.BytesIO()
    img.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def failure_figures(films: list[Film], prep: Prepared, val: np.ndarray, prob: np.ndarray,
                    preds: list[ImageBoxes], box_points: dict[str, float]) -> dict[str, bytes]:
    """Failures of the shipped model on its validation women: the normal film it scores
    highest, the lesion film it scores lowest, a missed lesion, and a calcification film."""
    t = box_points["sens"]
    normal = [i for i in val if not films[i].abnormal]
    lesion = [i for i in val if len(prep.boxes[i])]
    calc = [i for i in val if len(prep.calc_boxes[i]) and not len(prep.boxes[i])]
    missed = [i for i in lesion if not hit_matrix(
        preds[i].boxes[preds[i].scores >= t], prep.boxes[i]).any()]
    picks: dict[str, int] = {}
    if normal:
        picks["false_alarm_normal.png"] = max(normal, key=lambda i: prob[i])
    if lesion:
        picks["lowest_scored_lesion.png"] = min(lesion, key=lambda i: prob[i])
    remaining = [i for i in missed if i not in picks.values()]
    if remaining:
        picks["missed_lesion.png"] = max(remaining, key=lambda i: float(np.ptp(prep.boxes[i])))
    if calc:
        picks["calcification.png"] = max(calc, key=lambda i: prob[i])
    figures = {}
    for name, i in picks.items():
        f = films[i]
        caption = f"{f.ref} {f.side} {'/'.join(f.classes)} p={prob[i]:.2f}"
        figures[name] = _figure(prep.greys[i], prep.boxes[i], prep.calc_boxes[i], preds[i], t,
                                caption)
    return figures


def _ci(v: Any) -> str:
    return f"{v[0]:.3f} [{v[1]:.3f}–{v[2]:.3f}]"


def _pct(v: float) -> str:
    return f"{100 * v:.0f} %"


def _scale_section(m: dict[str, Any]) -> list[str]:
    scale, points = m["scale"], m["points"]
    cuts = scale["cuts"]
    refused = (f" ({len(scale['refused'])} film(s) refused by the out-of-distribution check "
               f"have no score: {', '.join(scale['refused'])})") if scale["refused"] else ""
    return [
        "### 1–10 scale (`scale_1_10` in the manifest)",
        "Tandem shows the film probability also as a 1–10 score, the way mammography CAD "
        "products show theirs. The 9 cuts are the **deciles of the calibrated film probability "
        f"over the {scale['n']} mini-MIAS MLO films** in `shared/datasets/mammo` that the "
        f"model scores{refused}, computed by running this model through Tandem's own engine "
        "(`training.mammo_scale`, torch-free, recomputes them):",
        "",
        "| cut | " + " | ".join(f"{10 * k} %" for k in range(1, 10)) + " |",
        "|---|" + "---|" * 9,
        "| probability | " + " | ".join(f"{c:.4f}" for c in cuts) + " |",
        "",
        "Score *k* means the probability lies in [cut *k*−1, cut *k*) (1 below the first cut, "
        "10 from the last). Read it as a rank: a film scored 7 scores higher than 60–70 % of "
        "mini-MIAS films. **These are population quantiles, not a validated risk scale:** they "
        "were computed on the same films the shipped model partly trained on (folds 1–4) and "
        "on a 1995 film population with 36 % abnormal films, far more than a screening "
        "population. They describe this data's score distribution only; the operating points "
        "above remain the thresholds for decisions (high-sensitivity threshold "
        f"{points['high_sensitivity']['threshold']:.3f}, high-specificity threshold "
        f"{points['high_specificity']['threshold']:.3f}). A breast's score is the highest "
        "film score of that breast.",
        "",
    ]


def _ood_sentence(m: dict[str, Any]) -> str:
    names = {"chest": "tb_normal chest radiographs", "bone": "FracAtlas bone radiographs",
             "training": "of its own training films (folds 1–4)"}
    refused = "; ".join(f"{d['refused'] * d['n']:.0f} of {d['n']} {names[k]}"
                        for k, d in m["ood_refusals"].items())
    return (f"Threshold {m['ood_threshold']:.2f}: the 99th percentile of fold-0 (validation) "
            f"scores ({m['ood_val_pass']:.0%} of fold-0 films pass). Refused, through "
            f"Tandem's engine: {refused}. A chest or bone DICOM never gets this far: the "
            "applicability gate accepts modality MG only.")


def model_card(m: dict[str, Any], manifest: dict[str, Any], figures: list[str],
               quick: bool) -> str:
    f, fv = m["froc"], m["froc_val"]
    lines = [
        "# mammo_lesions — mammography lesion boxes and film-level abnormality score",
        "",
        "**Research use only — not for clinical use.** Trained on 302 digitised *film* "
        "mammograms from 1995; it has never seen a modern digital mammogram.",
        "",
    ]
    if quick:
        lines += ["> **QUICK SMOKE RUN** (`--quick`: 1 epoch, 48 films): the numbers below "
                  "are meaningless; rerun without `--quick`.", ""]
    lines += [
        "## What it does",
        "- Input: one MLO mammogram through Tandem's recipe `mammo_breast_crop_v1` at "
        f"{manifest['inputs'][0]['shape'][-1]} px, 1 channel (breast bounding box, chest wall "
        "turned to the left, letterboxed). Boxes are mapped back onto the original, unflipped "
        "pixels by the product.",
        "- Output `logits` → **abnormal**: calibrated probability that the film holds any MIAS "
        "abnormality (mass, distortion, asymmetry or calcification cluster; benign or "
        "malignant).",
        "- Outputs `boxes`/`box_scores` → label **lesion**: boxes on masses, architectural "
        "distortions and asymmetries; the box score is the detector's centre-heatmap "
        "confidence that a located abnormality is there.",
        "",
        "### Choices and why",
        "- **Abnormal vs normal, not malignant vs not.** Only 52 malignant abnormalities exist "
        "here (110 abnormal films); a malignancy head would rest on ~40 training positives per "
        "fold. The box score is therefore *suspicion*, not a malignancy probability. How far "
        "the abnormal score also ranks malignancy is measured below (malignant vs benign AUC).",
        "- **One box label, calcifications excluded from boxes.** At 256 px the input pixel is "
        "about 0.8 mm: single calcifications vanish, so CALC clusters are not box targets "
        "(their circles are ignored in the heatmap loss, not called background). CALC films "
        "still count as abnormal for the film score; their AUC is reported separately.",
        "- **MLO only.** mini-MIAS has no CC views; the model leans on MLO anatomy (pectoral "
        "muscle). Applicability: modality MG, body part BREAST (or blank), view MLO (blank "
        "view accepted by Tandem's rules), MONOCHROME1/2. CC views are refused until "
        "validated on CC data.",
        "- **Out-of-distribution check.** Output `embedding` (the deepest features averaged "
        "over the image), statistics of the shipped model's training films. "
        + method_sentence(m["ood"], m["ood_background_n"],
                          "chest and bone radiographs") + " " + _ood_sentence(m),
        f"- **Film score:** the {'centre-heatmap peak' if m['use_peak'] else 'pooled image head'}"
        f" (chosen on the shipped model's validation women; the other gave out-of-fold AUC "
        f"{m['auc_other_head']:.3f}).",
        "",
        "## Data, licence, citation",
        "- `mammo/mini_mias`: 302 of the 322 mini-MIAS MLO films (151 women; 10 women held "
        "out by the data curator are not here), 512×512 JPEG, 400 µm pixels; lesion centre and "
        "radius from MIAS (bottom-left origin already converted in `labels.csv`). 113 located "
        "abnormalities: 86 box targets (non-CALC), 27 calcification clusters.",
        "- Terms (MIAS licence): **research purposes only**; may not be rented, leased or sold; "
        "MIAS accepts no liability. Publications must reference: J Suckling et al (1994) \"The "
        "Mammographic Image Analysis Society Digital Mammogram Database\" Exerpta Medica. "
        "International Congress Series 1069 pp375-378. Credits: J Suckling (organiser), "
        "C R M Boggis and I Hutt (truth data).",
        "",
        "## Evaluation",
        f"- {m['folds']}-fold cross-validation **by woman** (both films of a woman in one fold, "
        "folds balanced for women with an abnormality). Each film is scored by the fold model "
        "that never saw its woman; AUC intervals are 95 % bootstrap **over women** (2000 "
        "resamples). FROC intervals: Wilson 95 % on the lesion count.",
        "- Shipped model = fold 0's model (trained on folds 1–4). Fold 0 (its validation "
        "women) chose the film score head, the temperature and every operating point; "
        "operating-point figures are given on fold 0 (where chosen: optimistic) and on folds "
        "1–4 (sibling fold models' scores at the same thresholds: an out-of-sample check).",
        "",
        "| metric (out-of-fold, all folds) | value [95 % CI] | positives / negatives |",
        "|---|---|---|",
    ]
    for key, label in (("abnormal_vs_normal", "AUC abnormal vs normal (all films)"),
                       ("mass_like_vs_normal", "AUC films with a mass/distortion/asymmetry box "
                                               "vs normal"),
                       ("calc_only_vs_normal", "AUC calcification-only films vs normal"),
                       ("malignant_vs_normal", "AUC films with a malignant finding vs normal")):
        pos, neg = m[f"n_{key}"]
        lines.append(f"| {label} | {_ci(m['auc_' + key])} | {pos} / {neg} |")
    lines += [
        f"| AUC malignant vs benign (abnormal films only) | "
        f"{_ci(m['auc_malignant_vs_benign'])} | |",
        "",
        "Per fold (pooled head / peak AUC): " + "; ".join(
            f"fold {p['fold']}: {p['auc_pooled']:.2f} / {p['auc_peak']:.2f}"
            for p in m["per_fold"]) + ".",
        "",
        "| FROC: lesion sensitivity (a predicted box hits when IoU ≥ 0.3 or its centre is in "
        "the label box) | all folds | fold 0 (shipped model) |",
        "|---|---|---|",
    ]
    for t in ("0.5", "1", "2"):
        a, b = f[f"sens_at_{t}_fp"], f[f"sens_at_{t}_fp_ci"]
        lines.append(f"| at {t} false boxes / film | {_pct(a)} [{_pct(b[0])}–{_pct(b[1])}] "
                     f"of {f['lesions']} | {_pct(fv[f'sens_at_{t}_fp'])} of {fv['lesions']} |")
    lines += [
        "",
        "### Operating points (film score, calibrated probability)",
        "| point | threshold | sens / spec on fold 0 (chosen there) | sens / spec on folds 1–4 |",
        "|---|---|---|---|",
    ]
    for name, p in m["points"].items():
        lines.append(f"| {name} | {p['threshold']:.3f} | {_pct(p['sensitivity'])} / "
                     f"{_pct(p['specificity'])} | {_pct(p['sens_other_folds'])} / "
                     f"{_pct(p['spec_other_folds'])} |")
    lines += [
        "",
        "Box operating points (box score; chosen on fold 0 at ≤ 1 and ≤ 0.25 false boxes per "
        "film; boxes below the floor, ≤ 2 false boxes per film, are not shown):",
        "",
        "| box point | threshold | fold 0: lesion sens, false boxes/film, normal films "
        "without box | folds 1–4: same | calcification clusters hit (all folds) |",
        "|---|---|---|---|---|",
    ]
    for name, p in m["box_points"].items():
        v, o = p["val"], p["other_folds"]
        lines.append(
            f"| {name} | {p['threshold']:.3f} | {_pct(v['lesion_sensitivity'])}, "
            f"{v['false_boxes_per_image']:.2f}, {_pct(v['negative_images_without_box'])} | "
            f"{_pct(o['lesion_sensitivity'])}, {o['false_boxes_per_image']:.2f}, "
            f"{_pct(o['negative_images_without_box'])} | {p['calc_hits']} |")
    lines += [
        "",
        f"Calibration: temperature {m['temperature']:.3f} fitted on fold 0; ECE (10 bins) "
        f"{m['ece_val']:.3f} on fold 0 (fit data), {m['ece_other_folds']:.3f} on folds 1–4.",
        "",
        *_scale_section(m),
        "## Model, size, speed, training",
        f"- CenterNet-style detector reused from `training/fracture_net.py` (compact ResNet "
        f"16-32-64-128, stride-8 heads, pooled head): {m['params']:,} parameters, "
        f"`model.onnx` {m['model_bytes'] / 1e6:.2f} MB fp32, opset 17, decoding (peaks, "
        f"top-50) in the graph; Tandem applies NMS (IoU 0.3) and keeps ≤ 10 boxes.",
        f"- CPU latency through Tandem's engine (preprocessing included): "
        f"{m['cpu_latency_ms']:.0f} ms per film; engine vs torch on fold-0 films: max |Δp| "
        f"{m['engine_vs_torch']:.1e}. GPU latency: not measured (no GPU lent).",
        f"- Training: {m['epochs']} epochs × {m['folds']} folds, batch 16, AdamW + one-cycle, "
        f"films with a box drawn half of the time; augmentation: zoom 0.85–1.2, aspect ±10 %, "
        f"rotation ±10°, shift ±6 %, gamma/gain/bias, noise (no left-right flip: the recipe "
        f"fixes the chest wall on the left). Device `{m['device']}` ({m['host']}); "
        f"{m['train_seconds'] / 60:.1f} min training, {m['total_seconds'] / 60:.1f} min in all.",
        f"- Reproduce: `.venv/bin/python -m training.mammo_lesions --epochs {m['epochs']}` "
        "(CPU; the default is 45 epochs); `--device cuda` trains 150 epochs.",
        "",
        "## Failure cases (fold 0, the shipped model's own validation women)",
        "Green: MIAS box; yellow: calcification cluster; red: boxes at the high-sensitivity "
        "point with their score.",
        "",
    ]
    lines += [f"![{name}](card/{name})" for name in figures]
    lines += [
        "",
        "## Known weaknesses",
        "- Tiny data: 86 box targets; intervals are wide and a 5-fold split still leaves ~17 "
        "target lesions per fold. Expect large shifts on other data.",
        "- Scanned 1990s film, 400 µm pixels, film labels and scanner artefacts: nothing here "
        "says how it behaves on digital (FFDM) or tomosynthesis images; operating points will "
        "not transfer.",
        "- Calcifications are out of scope at this resolution; benign and malignant lesions are "
        "one label; no CC views. The out-of-distribution check knows only 1995 film "
        "mammograms: a modern digital mammogram may be refused as unlike the training data "
        "(`tandem models calibrate mammo_lesions <50+ of the site's MLO films>` lets a site's "
        "films in, and marks the results: accuracy on them is unknown).",
        "",
        "## With more data / a GPU",
        "- Train at full resolution (≥ 1024 px, 100 µm) with a GPU so calcifications become "
        "visible; add CBIS-DDSM / INbreast / VinDr-Mammo (CC and MLO, malignancy labels, "
        "BI-RADS) under their terms; a separate malignancy head once there are hundreds of "
        "malignant findings; use both views and the contralateral breast as context; "
        "self-supervised pre-training on unlabelled mammograms; OOD statistics from digital "
        "mammograms once there are some.",
        "",
    ]
    return "\n".join(lines)
