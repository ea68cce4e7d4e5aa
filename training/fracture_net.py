"""A compact CenterNet-style fracture detector, and its export wrapper with in-graph decoding.

Backbone: ``training.common.ResNetBackbone`` (strides 4-8-16-32); a top-down path brings
the stride-16 and stride-32 features back to stride 8, where three heads predict the fracture-centre
heatmap (logit), the box size (log of width/height in stride cells) and the sub-cell
centre offset. The image-level fracture logit comes from a separate pooled head on the
deepest features (average and max pooling).

:class:`Exported` adds the decoding (CenterNet's 3×3 max-pool peak picking, top-K) so
the ONNX graph gives boxes ``(1, K, 4)`` xyxy in model-input pixels and their scores
``(1, K)``; Tandem's postprocess applies the threshold, NMS and ``max_boxes``. It also gives
the pooled ``embedding`` for the out-of-distribution check (``training.ood``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from training.common import ResNetBackbone

STRIDE = 8


def _conv_bn(cin: int, cout: int, stride: int = 1, k: int = 3) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, k // 2, bias=False),
                         nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


class Detector(nn.Module):
    """Outputs (heatmap logit (N,1,h,w), size (N,2,h,w), offset (N,2,h,w), image logit (N,1)).

    The backbone is ``training.common.ResNetBackbone`` (stage strides 4, 8, 16, 32).
    """

    def __init__(self, widths: tuple[int, int, int, int] = (24, 48, 96, 160),
                 blocks: tuple[int, int, int, int] = (1, 2, 2, 1)) -> None:
        super().__init__()
        self.backbone = ResNetBackbone(1, widths, blocks, (1, 2, 2, 2))
        f = widths[1]
        self.lat32 = nn.Conv2d(widths[3], f, 1)
        self.lat16 = nn.Conv2d(widths[2], f, 1)
        self.lat8 = nn.Conv2d(widths[1], f, 1)
        self.smooth = _conv_bn(f, f)
        self.hm = nn.Sequential(_conv_bn(f, f), nn.Conv2d(f, 1, 1))
        self.wh = nn.Sequential(_conv_bn(f, f), nn.Conv2d(f, 2, 1))
        self.off = nn.Sequential(_conv_bn(f, f), nn.Conv2d(f, 2, 1))
        self.cls = nn.Sequential(nn.Dropout(0.2), nn.Linear(2 * widths[3], 1))
        last_hm = self.hm[1]
        assert isinstance(last_hm, nn.Conv2d) and last_hm.bias is not None
        nn.init.constant_(last_hm.bias, -math.log((1 - 0.01) / 0.01))  # prior 0.01 (focal)

    def forward(self, x: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        hm, wh, off, cls, _ = self.forward_with_embedding(x)
        return hm, wh, off, cls

    def forward_with_embedding(self, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """:meth:`forward`'s outputs plus the embedding (N, widths[3]): the deepest features
        averaged over the image, which the out-of-distribution check measures."""
        _, c8, c16, c32 = self.backbone.features(x)
        p16 = self.lat16(c16) + F.interpolate(self.lat32(c32), size=c16.shape[-2:],
                                              mode="nearest")
        p8 = self.smooth(self.lat8(c8) + F.interpolate(p16, size=c8.shape[-2:],
                                                       mode="nearest"))
        embedding = c32.mean(dim=(2, 3))
        pooled = torch.cat([embedding, c32.amax(dim=(2, 3))], dim=1)
        return self.hm(p8), self.wh(p8), self.off(p8), self.cls(pooled), embedding


class Exported(nn.Module):
    """The detector with decoding: ``(boxes (1,K,4) xyxy px, box_scores (1,K), logits (1,1),
    embedding (1,D))``.

    ``logits`` is the image-level fracture logit: the pooled head, or (``use_peak``) the
    highest centre-heatmap logit, whichever validation chose.
    """

    def __init__(self, net: Detector, top_k: int = 50, use_peak: bool = False) -> None:
        super().__init__()
        self.net = net
        self.top_k = top_k
        self.use_peak = use_peak

    def forward(self, image: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        hm_logit, wh, off, cls, embedding = self.net.forward_with_embedding(image)
        boxes, scores = decode(hm_logit, wh, off, self.top_k)
        logits = hm_logit.flatten(1).amax(dim=1, keepdim=True) if self.use_peak else cls
        return boxes, scores, logits, embedding


def predict_batches(net: Detector, batches: Iterable[torch.Tensor], top_k: int
                    ) -> dict[str, np.ndarray]:
    """The detector on normalised batches, without gradients: ``cls`` pooled logit (N,),
    ``peak`` highest centre-heatmap logit (N,), ``boxes`` (N,K,4) and ``scores`` (N,K) of the
    top-K peaks, ``embedding`` (N,D)."""
    net.eval()
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("cls", "peak", "boxes", "scores",
                                                          "embedding")}
    with torch.no_grad():
        for x in batches:
            hm, wh, off, cls, embedding = net.forward_with_embedding(x)
            boxes, scores = decode(hm, wh, off, top_k)
            for key, value in (("cls", cls[:, 0]), ("peak", hm.flatten(1).amax(1)),
                               ("boxes", boxes), ("scores", scores),
                               ("embedding", embedding)):
                parts[key].append(value.cpu().numpy())
    return {k: np.concatenate(v) for k, v in parts.items()}


def decode(hm_logit: torch.Tensor, wh: torch.Tensor, off: torch.Tensor, top_k: int
           ) -> tuple[torch.Tensor, torch.Tensor]:
    """Top-K heatmap peaks → boxes (N, K, 4) xyxy in input pixels and scores (N, K)."""
    n, _, _, w = hm_logit.shape
    heat = torch.sigmoid(hm_logit)
    peaks = heat * (F.max_pool2d(heat, 3, 1, 1) == heat).to(heat.dtype)
    scores, index = torch.topk(peaks.flatten(1), top_k, dim=1)
    ys = torch.div(index, w, rounding_mode="floor").to(heat.dtype)
    xs = (index - torch.div(index, w, rounding_mode="floor") * w).to(heat.dtype)
    gather = index.unsqueeze(1).expand(n, 2, top_k)
    size = torch.exp(torch.gather(wh.flatten(2), 2, gather).clamp(-4.0, 6.0)) * STRIDE
    shift = torch.gather(off.flatten(2), 2, gather)
    cx = (xs + shift[:, 0]) * STRIDE
    cy = (ys + shift[:, 1]) * STRIDE
    half_w, half_h = size[:, 0] / 2, size[:, 1] / 2
    boxes = torch.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], dim=2)
    return boxes, scores


def centre_targets(boxes: list[np.ndarray], size: int, *, sigma_div: float = 6.0,
                   sigma_min: float = 0.6) -> tuple[torch.Tensor, ...]:
    """CenterNet targets for boxes in model-input pixels: Gaussian centre heatmap (N,1,h,w)
    with σ = max(box size / ``sigma_div``, ``sigma_min``) cells, log-size (N,2,h,w), sub-cell
    offset (N,2,h,w) and centre mask (N,1,h,w)."""
    h = size // STRIDE
    n = len(boxes)
    heat = np.zeros((n, 1, h, h), np.float32)
    wh = np.zeros((n, 2, h, h), np.float32)
    off = np.zeros((n, 2, h, h), np.float32)
    mask = np.zeros((n, 1, h, h), np.float32)
    grid = np.arange(h, dtype=np.float32)
    for i, bs in enumerate(boxes):
        for x0, y0, x1, y1 in bs:
            cx, cy = (x0 + x1) / 2 / STRIDE, (y0 + y1) / 2 / STRIDE
            w, hh = max(x1 - x0, 1.0) / STRIDE, max(y1 - y0, 1.0) / STRIDE
            ix, iy = min(max(int(cx), 0), h - 1), min(max(int(cy), 0), h - 1)
            sx, sy = max(w / sigma_div, sigma_min), max(hh / sigma_div, sigma_min)
            g = np.exp(-((grid[None, :] - ix) ** 2) / (2 * sx**2)
                       - ((grid[:, None] - iy) ** 2) / (2 * sy**2))
            heat[i, 0] = np.maximum(heat[i, 0], g)
            wh[i, :, iy, ix] = np.log(w), np.log(hh)
            off[i, :, iy, ix] = cx - ix, cy - iy
            mask[i, 0, iy, ix] = 1.0
    return tuple(torch.from_numpy(a) for a in (heat, wh, off, mask))


def focal_loss(logit: torch.Tensor, heat: torch.Tensor,
               weight: torch.Tensor | None = None) -> torch.Tensor:
    """CenterNet's penalty-reduced focal loss (negatives optionally weighted per cell),
    normalised by the number of centres."""
    p = torch.sigmoid(logit).clamp(1e-4, 1 - 1e-4)
    pos = heat.eq(1).float()
    pos_loss = -torch.log(p) * (1 - p) ** 2 * pos
    neg_loss = -torch.log(1 - p) * p**2 * (1 - heat) ** 4 * (1 - pos)
    if weight is not None:
        neg_loss = neg_loss * weight
    return (pos_loss.sum() + neg_loss.sum()) / pos.sum().clamp(min=1.0)
