"""Training pieces of the mammography lesion detector: augmentation, targets, loss, fit, predict.

The network is the fracture detector (``training.fracture_net.Detector``: a compact ResNet,
stride-8 CenterNet heads and a pooled image-level head), reused as is. What differs from
the fracture training, and is therefore written here:

- no left-right flip: the recipe already puts the chest wall on the left, so a flip
  would only show the model films it never gets; small rotations and aspect jitter instead
  (MLO films are taken at various angles and breast shapes differ);
- an *ignore* mask in the centre-heatmap loss: calcification clusters (not targets at this
  resolution, see ``training.mammo_data``) and films with an abnormality MIAS did not
  locate give no "background" penalty there, rather than teaching the model that a real
  abnormality is background.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch.nn import functional as F

from training.fracture_net import STRIDE, Detector, centre_targets, focal_loss, predict_batches
from training.mammo_data import Film

TOP_K = 50
MEAN, STD = 0.2, 0.3  # the manifest's normalize (prepared mini-MIAS greys: 0.22 ± 0.29)


def normalise(x: torch.Tensor) -> torch.Tensor:
    return (x - MEAN) / STD


def augment(x: torch.Tensor, boxes: list[list[np.ndarray]], rng: np.random.Generator
            ) -> tuple[torch.Tensor, list[list[np.ndarray]]]:
    """Zoom, aspect, rotation, shift (boxes follow), gamma/contrast/noise on (N,1,S,S) grey.

    ``boxes[i]`` is a list of (k, 4) arrays (targets, ignore regions) moved alike.
    """
    n, _, size, _ = x.shape
    zoom = rng.uniform(0.85, 1.2, n)
    aspect = np.exp(rng.uniform(-0.1, 0.1, n))
    sx, sy = zoom * aspect, zoom / aspect
    angle = np.radians(rng.uniform(-10, 10, n))
    shift = rng.uniform(-0.06, 0.06, (n, 2)) * 2  # normalised units
    # Forward map in normalised coordinates: out = R·S·in + t; affine_grid wants out → in.
    cos, sin = np.cos(angle), np.sin(angle)
    fwd = np.zeros((n, 2, 2))
    fwd[:, 0, 0], fwd[:, 0, 1] = cos * sx, -sin * sy
    fwd[:, 1, 0], fwd[:, 1, 1] = sin * sx, cos * sy
    inv = np.linalg.inv(fwd)
    theta = np.concatenate([inv, -(inv @ shift[:, :, None])], axis=2)
    grid = F.affine_grid(torch.tensor(theta, dtype=torch.float32), list(x.shape),
                         align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    gamma = torch.tensor(np.exp(rng.uniform(-0.35, 0.35, n)), dtype=torch.float32)
    gain = torch.tensor(rng.uniform(0.85, 1.15, n), dtype=torch.float32)
    bias = torch.tensor(rng.uniform(-0.06, 0.06, n), dtype=torch.float32)
    x = x.clamp(0, 1) ** gamma.view(n, 1, 1, 1) * gain.view(n, 1, 1, 1) + bias.view(n, 1, 1, 1)
    noise = torch.tensor(rng.uniform(0, 0.02, n), dtype=torch.float32).view(n, 1, 1, 1)
    x = (x + noise * torch.randn_like(x)).clamp(0, 1)
    moved = []
    for i, groups in enumerate(boxes):
        out = []
        for b in groups:
            if not len(b):
                out.append(b)
                continue
            centre = ((b[:, :2] + b[:, 2:]) / 2) * 2 / size - 1
            c = centre @ fwd[i].T + shift[i]
            c = (c + 1) * size / 2
            half = (b[:, 2:] - b[:, :2]) / 2 * np.array([sx[i], sy[i]])
            nb = np.concatenate([c - half, c + half], axis=1).astype(np.float32)
            inside = (c[:, 0] > 0) & (c[:, 0] < size) & (c[:, 1] > 0) & (c[:, 1] < size)
            out.append(nb[inside])
        moved.append(out)
    return x, moved


def targets(boxes: list[np.ndarray], ignore: list[np.ndarray], unlocated: list[bool],
            size: int) -> tuple[torch.Tensor, ...]:
    """Centre heatmap, log-size, offset, centre mask (N,·,h,w) and a loss weight map.

    The weight is 0 inside ignore boxes (grown by half their size) and over the whole map of
    a film with an unlocated abnormality; 1 elsewhere.
    """
    # MIAS centres are a radiologist's circle: a wider peak than CenterNet's size / 6.
    heat, wh, off, mask = centre_targets(boxes, size, sigma_div=4.0, sigma_min=0.8)
    h = size // STRIDE
    weight = np.ones((len(boxes), 1, h, h), np.float32)
    for i in range(len(boxes)):
        for x0, y0, x1, y1 in ignore[i]:
            gx, gy = (x1 - x0) / 2, (y1 - y0) / 2
            c0, c1 = int(max(0, (x0 - gx) // STRIDE)), int(min(h, math.ceil((x1 + gx) / STRIDE)))
            r0, r1 = int(max(0, (y0 - gy) // STRIDE)), int(min(h, math.ceil((y1 + gy) / STRIDE)))
            weight[i, 0, r0:r1, c0:c1] = 0.0
        if unlocated[i]:
            weight[i] = 0.0
    weight = np.maximum(weight, (heat.numpy() == 1).astype(np.float32))  # centres always count
    return heat, wh, off, mask, torch.from_numpy(weight)


def sample_weights(films: list[Film]) -> np.ndarray:
    """Films with a target box drawn as often in total as the others (about 1 in 4 has one)."""
    has_box = np.array([len(f.boxes) > 0 for f in films])
    w = np.where(has_box, 1.0 / max(has_box.sum(), 1), 1.0 / max((~has_box).sum(), 1))
    return w / w.sum()


def fit(films: list[Film], greys: np.ndarray, boxes: list[np.ndarray],
        calcs: list[np.ndarray], train_idx: np.ndarray, *, epochs: int, batch: int,
        widths: tuple[int, int, int, int], blocks: tuple[int, int, int, int], device: str,
        seed: int, lr: float = 2e-3, log: bool = True) -> Detector:
    """Train a detector on ``train_idx``: ``len(train_idx)`` weighted draws per epoch."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = Detector(widths, blocks).to(device)
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-4)
    steps_per_epoch = max(1, len(train_idx) // batch)
    total = epochs * steps_per_epoch
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=total, pct_start=0.15)
    chosen = [films[i] for i in train_idx]
    p = sample_weights(chosen)
    unlocated = np.array([_unlocated(f) for f in films])
    size = greys.shape[-1]
    for epoch in range(epochs):
        net.train()
        running = 0.0
        for _ in range(steps_per_epoch):
            pick = train_idx[rng.choice(len(train_idx), batch, p=p)]
            x = torch.from_numpy(greys[pick].astype(np.float32))[:, None]
            x, moved = augment(x, [[boxes[i], calcs[i]] for i in pick], rng)
            heat, wh, off, mask, weight = (t.to(device) for t in targets(
                [m[0] for m in moved], [m[1] for m in moved], list(unlocated[pick]), size))
            label = torch.tensor([films[i].abnormal for i in pick], dtype=torch.float32,
                                 device=device)
            hm, pwh, poff, cls = net(normalise(x.to(device)))
            n_pos = mask.sum().clamp(min=1.0)
            loss = (focal_loss(hm, heat, weight)
                    + (F.l1_loss(pwh, wh, reduction="none") * mask).sum() / n_pos
                    + (F.l1_loss(poff, off, reduction="none") * mask).sum() / n_pos
                    + 0.5 * F.binary_cross_entropy_with_logits(cls[:, 0], label))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            running += float(loss.detach())
        if log and (epoch % 10 == 0 or epoch == epochs - 1):
            print(f"  epoch {epoch + 1}/{epochs} loss {running / steps_per_epoch:.3f}",
                  flush=True)
    return net.eval()


def _unlocated(film: Film) -> bool:
    """An abnormality without a box (MIAS gives no centre): the heatmap cannot be told."""
    located = len(film.boxes) + len(film.calc_boxes)
    return sum(c != "NORM" for c in film.classes) > located


def predict(net: Detector, greys: np.ndarray, idx: np.ndarray, device: str, batch: int = 32
            ) -> dict[str, np.ndarray]:
    """:func:`training.fracture_net.predict_batches` on the films ``idx``."""
    return predict_batches(
        net, (normalise(torch.from_numpy(greys[idx[s:s + batch]].astype(np.float32))[:, None])
              .to(device) for s in range(0, len(idx), batch)), TOP_K)
