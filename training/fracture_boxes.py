"""Train, evaluate and export ``fracture_boxes`` (FracAtlas): one command, fixed seed.

    .venv/bin/python -m training.fracture_boxes [--quick] [--device cuda] [--epochs N]

CPU settings (default): 384 px, 24 epochs, batch 16, ``--threads 1`` (about 65 min on one
core of this 2-core machine; 9 epochs gave a weaker model, see the card). GPU
(``--device cuda``): the same code, ``--epochs 60`` is the intended full setting.
``--quick``: 64 training images, 1 epoch, to check export → manifest → ``tandem analyze``
(writes to /tmp unless ``--out`` is given).

Split (by image: FracAtlas has no patient ids): fractured images follow the authors'
split (``source_split``); non-fractured images are drawn per body part with a fixed seed
(70/15/15). The epoch, the image score (pooled head or heatmap peak), the temperature and
all operating points are chosen on *valid*; *test* is only reported. The out-of-distribution
statistics come from the *train* embeddings, their threshold from *valid* (``training.ood``).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from inference.engine import AnalysisEngine
from inference.source import SourceImage, load_sources
from training import common
from training.fracture_data import Item, body_group, cached_arrays, load_items
from training.fracture_eval import (
    box_point,
    froc_curve,
    product_boxes,
    sensitivity_at,
    threshold_for,
)
from training.fracture_net import (
    Detector,
    Exported,
    centre_targets,
    focal_loss,
    predict_batches,
)
from training.ood import STATS_FILE, fit_ood, other_dataset_refusals, refused_share

MODEL_ID = "fracture_boxes"
# A 2004 Fuji CR of a leg (pydicom-data, not FracAtlas): the only real limb DICOM at hand.
EXTERNAL_CR = common.DATASETS / "dicom" / "pydicom-data" / "RG3_J2KI.dcm"
REPO = Path(__file__).resolve().parents[1]
SEED = 4
TOP_K = 50
SCORE_THRESHOLD = 0.05
NMS_IOU = 0.3
MAX_BOXES = 10


def input_dict(size: int) -> dict:
    return {"name": "image", "shape": [1, 1, size, size], "dtype": "float32",
            "preprocess": {"recipe": "xray_letterbox_v1", "size": size,
                           "window": "dicom_voi_or_minmax", "invert_monochrome1": True,
                           "normalize": {"mean": 0.5, "std": 0.25}}}


# --------------------------------------------------------------------------- targets


def augment(x: torch.Tensor, boxes: list[np.ndarray], rng: np.random.Generator
            ) -> tuple[torch.Tensor, list[np.ndarray]]:
    """Flip, scale/translate (boxes follow), contrast/brightness/gamma; x is (N,1,S,S) grey."""
    n, _, size, _ = x.shape
    scale = rng.uniform(0.85, 1.2, n)
    shift = rng.uniform(-0.08, 0.08, (n, 2)) * size
    flip = rng.random(n) < 0.5
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = torch.tensor(np.where(flip, -1.0, 1.0) / scale, dtype=torch.float32)
    theta[:, 1, 1] = torch.tensor(1.0 / scale, dtype=torch.float32)
    # out = mirror(s·(in − c) + c + t); affine_grid maps out → in: in = (mirror(out) − t) / s
    theta[:, 0, 2] = torch.tensor(-(2 * shift[:, 0] / size) / scale, dtype=torch.float32)
    theta[:, 1, 2] = torch.tensor(-(2 * shift[:, 1] / size) / scale, dtype=torch.float32)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    gamma = torch.tensor(np.exp(rng.uniform(-0.3, 0.3, n)), dtype=torch.float32).view(n, 1, 1, 1)
    gain = torch.tensor(rng.uniform(0.8, 1.2, n), dtype=torch.float32).view(n, 1, 1, 1)
    bias = torch.tensor(rng.uniform(-0.08, 0.08, n), dtype=torch.float32).view(n, 1, 1, 1)
    x = (x.clamp(0, 1) ** gamma * gain + bias).clamp(0, 1)
    out = []
    c = size / 2
    for i, b in enumerate(boxes):
        b = (b - c) * scale[i] + c
        b[:, [0, 2]] += shift[i, 0]
        b[:, [1, 3]] += shift[i, 1]
        if flip[i]:
            b[:, [0, 2]] = size - b[:, [2, 0]]
        area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
        b = np.clip(b, 0, size)
        kept = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]) >= 0.4 * area
        out.append(b[kept])
    return x, out


# --------------------------------------------------------------------------- training


def sample_weights(items: list[Item]) -> np.ndarray:
    """Within each body part, fractured and non-fractured images weigh the same in total
    (non-fractured legs outnumber fractured ones 2.8 : 1); body parts keep their share."""
    groups: dict[tuple[str, int], int] = {}
    for it in items:
        key = (body_group(it.body_part), it.fractured)
        groups[key] = groups.get(key, 0) + 1
    parts: dict[str, int] = {}
    for (part, _), count in groups.items():
        parts[part] = parts.get(part, 0) + count
    w = []
    for it in items:
        part = body_group(it.body_part)
        both = sum(1 for lab in (0, 1) if (part, lab) in groups)
        w.append(parts[part] / both / groups[(part, it.fractured)])
    return np.asarray(w) / np.sum(w)


def predict(net: Detector, greys: np.ndarray, device: str, batch: int = 32
            ) -> dict[str, np.ndarray]:
    """:func:`training.fracture_net.predict_batches` on ``greys`` (N, size, size)."""
    return predict_batches(
        net, (normalise(torch.from_numpy(greys[i:i + batch].astype(np.float32))[:, None])
              .to(device) for i in range(0, len(greys), batch)), TOP_K)


def normalise(x: torch.Tensor) -> torch.Tensor:
    return (x - 0.5) / 0.25  # the manifest's normalize (mean 0.5, std 0.25)


def train(items: list[Item], greys: np.ndarray, boxes: list[np.ndarray], val: list[int],
          args: argparse.Namespace) -> tuple[Detector, list[dict]]:
    train_idx = [i for i, it in enumerate(items) if it.split == "train"]
    if args.quick:
        train_idx = train_idx[::max(1, len(train_idx) // 64)][:64]
    rng = np.random.default_rng(SEED)
    weights = sample_weights([items[i] for i in train_idx])
    net = Detector().to(args.device)
    steps_per_epoch = max(1, len(train_idx) // args.batch)
    total = steps_per_epoch * args.epochs
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=total,
                                                pct_start=0.15)
    y_val = np.array([items[i].fractured for i in val])
    best: tuple[float, dict] = (-1.0, {})
    history = []
    for epoch in range(args.epochs):
        net.train()
        start = time.time()
        losses = np.zeros(4)
        for _ in range(steps_per_epoch):
            pick = rng.choice(train_idx, args.batch, p=weights)
            x = torch.from_numpy(greys[pick].astype(np.float32))[:, None]
            x, bs = augment(x, [boxes[i].copy() for i in pick], rng)
            heat, wh, off, mask = centre_targets(bs, x.shape[-1])
            label = torch.tensor([float(items[i].fractured) for i in pick])
            dev = args.device
            hm_p, wh_p, off_p, cls_p = net(normalise(x).to(dev))
            mask, heat = mask.to(dev), heat.to(dev)
            n_pos = mask.sum().clamp(min=1.0)
            parts = torch.stack([
                focal_loss(hm_p, heat),
                (F.l1_loss(wh_p, wh.to(dev), reduction="none") * mask).sum() / n_pos,
                (F.l1_loss(off_p, off.to(dev), reduction="none") * mask).sum() / n_pos,
                F.binary_cross_entropy_with_logits(cls_p[:, 0], label.to(dev))])
            loss = parts[0] + 0.1 * parts[1] + parts[2] + parts[3]
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            losses += parts.detach().cpu().numpy()
        val_out = predict(net, greys[val], args.device)
        auc_cls = common.roc_auc(y_val, val_out["cls"])
        auc_peak = common.roc_auc(y_val, val_out["peak"])
        row = {"epoch": epoch + 1, "seconds": round(time.time() - start, 1),
               "loss": [round(v, 4) for v in losses / steps_per_epoch],
               "val_auc_pooled": round(auc_cls, 4), "val_auc_peak": round(auc_peak, 4)}
        history.append(row)
        print(json.dumps(row), flush=True)
        score = max(auc_cls, auc_peak)
        if score > best[0]:
            best = (score, {k: v.detach().clone() for k, v in net.state_dict().items()})
    net.load_state_dict(best[1])
    return net, history


# --------------------------------------------------------------------------- evaluation


def evaluate(items: list[Item], boxes: list[np.ndarray], outputs: dict, val: list[int],
             test: list[int]) -> dict:
    """Everything the manifest and the card report; choices made on val only."""
    cls, peak, raw_boxes, raw_scores = outputs["cls"], outputs["peak"], outputs["boxes"], \
        outputs["scores"]
    y = np.array([it.fractured for it in items])
    use_peak = common.roc_auc(y[val], peak[val]) > common.roc_auc(y[val], cls[val])
    logit = peak if use_peak else cls
    temperature = common.fit_temperature(logit[val], y[val])
    prob = common.sigmoid(logit / temperature)
    points = common.operating_points(y[val], prob[val])
    res: dict = {"use_peak": bool(use_peak), "temperature": temperature, "points": points}
    auc, lo, hi = common.bootstrap_auc(y[test], prob[test], seed=SEED)
    res["test_auc"] = [auc, lo, hi]
    res["val_auc"] = common.roc_auc(y[val], prob[val])
    res["test_points"] = {name: dict(zip(("sensitivity", "specificity"),
                                         common.sens_spec(y[test], prob[test], p["threshold"]),
                                         strict=True))
                          for name, p in points.items()}
    res["test_ece"] = common.ece(y[test], prob[test])
    res["test_ece_uncalibrated"] = common.ece(y[test], common.sigmoid(logit[test]))
    res["reliability"] = common.reliability(y[test], prob[test])
    per_part = {}
    for part in ("hand", "leg", "hip", "shoulder", "mixed"):
        idx = [i for i in test if body_group(items[i].body_part) == part]
        n_pos = int(y[idx].sum())
        auc_part = common.bootstrap_auc(y[idx], prob[idx], seed=SEED) if 0 < n_pos < len(idx) \
            else (float("nan"),) * 3
        per_part[part] = {"n_fractured": n_pos, "n_other": len(idx) - n_pos,
                          "auc": list(auc_part)}
    res["per_body_part"] = per_part
    no_hw = [i for i in test if not items[i].hardware]
    res["test_auc_without_hardware"] = list(common.bootstrap_auc(y[no_hw], prob[no_hw],
                                                                 seed=SEED))
    res["n_test_hardware"] = len(test) - len(no_hw)
    preds = {i: product_boxes(raw_boxes[i], raw_scores[i], SCORE_THRESHOLD, NMS_IOU,
                              MAX_BOXES) for i in val + test}
    t_val, fp_val, _ = froc_curve([preds[i] for i in val], [boxes[i] for i in val])
    box_sens_t = max(threshold_for(t_val, fp_val, 1.0), SCORE_THRESHOLD)
    box_spec_t = max(threshold_for(t_val, fp_val, 0.25), box_sens_t)
    res["box_thresholds"] = {"high_sensitivity": box_sens_t, "high_specificity": box_spec_t}
    res["box_val"] = {name: box_point([preds[i] for i in val], [boxes[i] for i in val], t)
                      for name, t in res["box_thresholds"].items()}
    res["box_test"] = {name: box_point([preds[i] for i in test], [boxes[i] for i in test], t)
                       for name, t in res["box_thresholds"].items()}
    _, fp_test, sens_test = froc_curve([preds[i] for i in test], [boxes[i] for i in test])
    res["n_test_boxes"] = sum(len(boxes[i]) for i in test)
    res["froc_test"] = {str(r): sensitivity_at(fp_test, sens_test, r) for r in (0.5, 1.0, 2.0)}
    res["prob"] = prob
    res["preds"] = preds
    return res


# --------------------------------------------------------------------------- export


def export_onnx(net: Detector, size: int, use_peak: bool, sample: np.ndarray) -> bytes:
    import tempfile

    import onnx
    import onnxruntime as ort

    model = Exported(net.cpu(), TOP_K, use_peak).eval()  # eval on the wrapper: export
    # restores the wrapper's own mode recursively, which would put BatchNorm in training
    x = normalise(torch.from_numpy(sample[:1].astype(np.float32))[:, None])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.onnx"
        torch.onnx.export(model, (x,), path, dynamo=False, opset_version=17,
                          input_names=["image"],
                          output_names=["boxes", "box_scores", "logits", "embedding"])
        data = path.read_bytes()
    onnx.checker.check_model(onnx.load_from_string(data))
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    worst_logit = worst_box = 0.0
    with torch.no_grad():
        for g in sample:
            xi = normalise(torch.from_numpy(g.astype(np.float32))[None, None])
            ref = [t.numpy()[0] for t in model(xi)]
            got = [a[0] for a in session.run(None, {"image": xi.numpy()})]
            worst_logit = max(worst_logit, float(np.abs(ref[2] - got[2]).max()))
            # Boxes compared as the product keeps them: a near-tie between two neighbouring
            # heatmap cells may make one implementation report both as peaks (a duplicate
            # that NMS removes), which shifts raw top-K positions.
            kept = [product_boxes(b, sc, SCORE_THRESHOLD, NMS_IOU, MAX_BOXES)
                    for b, sc, *_ in (ref, got)]
            if len(kept[0].scores) != len(kept[1].scores):
                worst_box = float("inf")
            elif len(kept[0].scores):
                worst_box = max(worst_box, float(np.abs(kept[0].scores - kept[1].scores).max()),
                                float(np.abs(kept[0].boxes - kept[1].boxes).max()) / 100)
    if worst_logit > 1e-4:
        raise RuntimeError(f"ONNX and torch disagree on the image score by {worst_logit}")
    if worst_box > 1e-4:
        print(f"WARNING: kept boxes differ between ONNX and torch ({worst_box})", flush=True)
    print(f"onnx export ok: {len(data) / 1e6:.2f} MB, max |torch - onnx|: image score "
          f"{worst_logit:.2e}, kept boxes {worst_box:.2e}", flush=True)
    return data


def external_check(engine: AnalysisEngine) -> str:
    """What the written model says on the one real limb DICOM outside FracAtlas."""
    [source] = load_sources([EXTERNAL_CR])
    if not isinstance(source, SourceImage):
        return f"unreadable: {source}"
    result = engine.analyze(source, MODEL_ID)
    if not result.applicable:
        return f"refused: {result.reason}"
    return f"scored: fracture probability {result.case_scores[0].probability:.2f}"


def cpu_latency_ms(data: bytes, sample: np.ndarray) -> float:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    session = ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    xs = [((g.astype(np.float32) - 0.5) / 0.25)[None, None] for g in sample]
    session.run(None, {"image": xs[0]})
    start = time.perf_counter()
    for x in xs:
        session.run(None, {"image": x})
    return (time.perf_counter() - start) * 1000 / len(xs)


def main() -> None:
    from training.fracture_card import build_card, build_manifest, failure_pngs

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--size", type=int, default=384)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--from-checkpoint", action="store_true",
                        help="skip training: evaluate and export the last saved weights")
    args = parser.parse_args()
    args.epochs = args.epochs or (1 if args.quick else 24)
    out = args.out or (Path("/tmp/fracture_boxes_quick") if args.quick
                       else REPO / "onnx_models" / MODEL_ID)
    torch.set_num_threads(args.threads)
    common.seed_everything(SEED)
    started = time.time()
    spec = common.input_spec(input_dict(args.size))
    items = load_items()
    greys, boxes = cached_arrays(items, spec)
    print(f"{len(items)} images prepared in {time.time() - started:.0f} s", flush=True)
    val = [i for i, it in enumerate(items) if it.split == "valid"]
    test = [i for i, it in enumerate(items) if it.split == "test"]
    if args.quick:
        val, test = val[::4], test[::4]
    checkpoint = common.CACHE_DIR / f"{MODEL_ID}{'_quick' if args.quick else ''}.pt"
    if args.from_checkpoint:
        saved = torch.load(checkpoint, weights_only=False)  # our own file (history: numpy)
        net, history, train_s = Detector(), saved["history"], saved["train_seconds"]
        args.threads = saved.get("threads", args.threads)  # the card reports training's
        net.load_state_dict(saved["state"])
    else:
        net, history = train(items, greys, boxes, val, args)
        train_s = time.time() - started
        torch.save({"state": net.state_dict(), "history": history, "train_seconds": train_s,
                    "threads": args.threads}, checkpoint)
    outputs = predict(net, greys, args.device)
    res = evaluate(items, boxes, outputs, val, test)
    train_idx = [i for i, it in enumerate(items) if it.split == "train"]
    ood_fit = fit_ood(outputs["embedding"][train_idx], outputs["embedding"][val])
    res["ood"] = ood_fit.manifest_block()
    data = export_onnx(net, args.size, res["use_peak"], greys[test[:8]])
    res["latency_ms"] = cpu_latency_ms(data, greys[test[:20]])
    res["onnx_bytes"] = len(data)
    res["history"] = history
    res["train_seconds"] = train_s
    res["args"] = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    res["n"] = {s: {"fractured": sum(1 for it in items if it.split == s and it.fractured),
                    "other": sum(1 for it in items if it.split == s and not it.fractured)}
                for s in ("train", "valid", "test")}
    res["params"] = sum(p.numel() for p in net.parameters())
    manifest = build_manifest(MODEL_ID, input_dict(args.size), res)
    pngs = failure_pngs(items, greys, boxes, res, test)
    extra = {STATS_FILE: ood_fit.stats_npz()}
    common.write_model_folder(out, data, manifest, "pending\n", extra)
    engine = common.engine_for(out, MODEL_ID)
    res["ood_refusals"] = other_dataset_refusals(engine, MODEL_ID, "bone",
                                                 20 if args.quick else 200, SEED)
    res["ood_refusals"]["test"] = {
        "n": len(test), "refused": refused_share(engine, MODEL_ID, [items[i].path for i in test])}
    res["ood_val_pass"] = ood_fit.val_pass
    res["external"] = external_check(engine)
    card = build_card(res, manifest, sorted(pngs))
    common.write_model_folder(out, data, manifest, card, extra)
    (out / "card").mkdir(exist_ok=True)
    for old in (out / "card").glob("*.png"):
        old.unlink()
    for name, png in pngs.items():
        (out / "card" / name).write_bytes(png)
    summary = {k: v for k, v in res.items() if k not in ("prob", "preds", "history",
                                                          "reliability")}
    print(json.dumps(summary, indent=1, default=float))
    print(f"wrote {out} in {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
