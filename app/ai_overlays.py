"""Turn one model's :class:`AnalysisResult` into the viewer's overlay layers.

Boxes follow BoneView's convention: solid when the high-specificity operating point
is met, dashed when only the high-sensitivity one is, nothing below it. The heatmap
is the one of the label with the highest case score, drawn with the panel's style.
"""

from __future__ import annotations

from dataclasses import dataclass

from inference.results import AnalysisResult, HeatmapRef
from viewer.overlays import Box, Heatmap


@dataclass(frozen=True)
class OverlayStyle:
    """How AI overlays are drawn; ``threshold`` is a fraction of the heatmap's value range."""

    visible: bool = True
    colormap: str = "inferno"
    opacity: float = 0.45
    threshold: float = 0.2


def display_label(label: str) -> str:
    """A model label as a reader sees it: ``"rib_fracture"`` → ``"Rib fracture"``."""
    text = label.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def box_percent(score: float) -> int:
    """A box score as a whole percentage, kept within 1–99 (never a certainty)."""
    return min(max(round(100.0 * score), 1), 99)


def overlays_for(result: AnalysisResult, style: OverlayStyle,
                 slice_index: int | None = None) -> tuple[Heatmap | None, list[Box]]:
    """The heatmap (or None) and the boxes to draw for ``result`` on image ``slice_index``."""
    if not style.visible or not result.applicable:
        return None, []
    boxes = [
        Box(finding.box_xyxy_px, label=display_label(finding.label), score=finding.score,
            dashed=finding.operating_point == "high_sensitivity", slice_index=slice_index,
            text=f"{display_label(finding.label)} {box_percent(finding.score)}\u00a0%")
        for finding in result.findings
        if finding.box_xyxy_px is not None and finding.operating_point is not None
    ]
    ref = _main_heatmap(result)
    if ref is None or ref.values is None:
        return None, boxes
    lo, hi = ref.value_range
    heatmap = Heatmap(ref.values, colormap=style.colormap, opacity=style.opacity,
                      threshold=lo + style.threshold * (hi - lo), value_range=ref.value_range,
                      slice_index=slice_index)
    return heatmap, boxes


def _main_heatmap(result: AnalysisResult) -> HeatmapRef | None:
    """The loaded heatmap whose label has the highest case score (labels without one last)."""
    probability = {score.label: score.probability for score in result.case_scores}
    loaded = [ref for ref in result.heatmaps if ref.values is not None]
    loaded.sort(key=lambda ref: probability.get(ref.label, -1.0), reverse=True)
    return loaded[0] if loaded else None
