"""Key images for reports: one image as the viewer shows it, with marks and AI burned in.

The grey levels are the viewer's (the file's own VOI window, else the automatic one;
MONOCHROME1 inverted). Reader marks are cyan; AI boxes amber, solid when the
high-specificity operating point is met and dashed when only the high-sensitivity one
is (BoneView's convention, as on screen); a heatmap is blended with ``inferno``. Any
image that carries AI content gets a band under it saying it is for research use only,
so that the picture cannot be taken out of the report without its warning.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from imaging.colormaps import apply_colormap
from imaging.header import InstanceHeader, read_header
from imaging.loader import load_image
from imaging.pipeline import DisplayParameters, default_window
from reading.model import Mark
from reading.report_text import label_name, percent, text

if TYPE_CHECKING:
    from reading.concordance import AiFindingRef

CYAN = (0, 230, 255)  # viewer.overlays.CYAN
AMBER = (255, 176, 0)  # viewer.overlays.AMBER
HEATMAP_OPACITY = 0.45  # as the viewer's default overlay style
HEATMAP_THRESHOLD = 0.2  # fraction of the value range under which the heatmap is transparent
MIN_SIZE = 512  # small images (JSRT is 224 px) are enlarged so that labels stay legible
FONT_PATHS = (Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
              Path("/usr/share/fonts/TTF/DejaVuSans.ttf"),
              Path("C:/Windows/Fonts/arial.ttf"),
              Path("/System/Library/Fonts/Supplemental/Arial.ttf"))

@dataclass(frozen=True)
class KeyImage:
    """``rgb``: uint8 ``(H, W, 3)``; image pixel (x, y) is at ``(x * scale, y * scale)``.

    When AI content is drawn, the research-use band lies under the image rows.
    """

    sop_instance_uid: str
    frame: int
    rgb: np.ndarray
    caption: str
    scale: float = 1.0


def key_image(path: Path, frame: int, *, marks: Sequence[Mark], ai: Sequence[AiFindingRef],
              heatmap: np.ndarray | None, max_size: int = 1024,
              heatmap_range: tuple[float, float] = (0.0, 1.0), caption: str = "",
              lang: str = "fr") -> KeyImage:
    """Render frame ``frame`` of ``path`` with ``marks``, ``ai`` boxes and ``heatmap``.

    Only marks and findings of that image and frame are drawn. ``heatmap`` covers the
    whole image (any grid size). ``caption`` defaults to the image's modality, body part,
    view and laterality. Raises :class:`imaging.errors.DicomFileError` for a file that
    cannot be decoded.
    """
    header = read_header(path)
    grey_or_rgb = _display_rgb(header, frame)
    rows, cols = grey_or_rgb.shape[:2]
    scale = _scale(rows, cols, max_size)
    size = (max(1, round(cols * scale)), max(1, round(rows * scale)))
    picture = Image.fromarray(grey_or_rgb).resize(size, Image.Resampling.LANCZOS)
    uid = header.sop_instance_uid
    mine = [m for m in marks if m.sop_instance_uid == uid and m.frame == frame]
    theirs = [f for f in ai if f.sop_instance_uid == uid and f.frame == frame]
    if heatmap is not None:
        picture = _blend_heatmap(picture, heatmap, heatmap_range)
    line = max(2, round(max(size) / 340))
    font = _font(max(13, round(max(size) / 36)))
    draw = ImageDraw.Draw(picture)
    for mark in mine:
        _draw_mark(draw, mark, scale, line, font, lang)
    for finding in theirs:
        _draw_finding(draw, finding, scale, line, font, lang)
    if heatmap is not None or theirs:
        picture = _with_research_band(picture, text("research_use", lang))
    if not caption:
        caption = " ".join(part for part in (header.modality, header.body_part,
                                             header.view_position, header.laterality) if part)
    return KeyImage(uid, frame, np.asarray(picture.convert("RGB")), caption, scale)


def display_rgb(path: Path, frame: int = 0) -> np.ndarray:
    """Frame ``frame`` of ``path`` as uint8 RGB, in the grey levels the viewer opens with."""
    return _display_rgb(read_header(path), frame)


def _display_rgb(header: InstanceHeader, frame: int) -> np.ndarray:
    stack = load_image(header, frame)
    values = stack.values[0]
    if stack.is_colour:
        return np.ascontiguousarray(values, dtype=np.uint8)
    window = default_window(values, DisplayParameters(modality=stack.header.modality,
                                                      windows=tuple(stack.windows)))
    grey = window.apply(values)
    if stack.invert:
        grey = 1.0 - grey
    grey8 = np.rint(grey * 255.0).astype(np.uint8)
    return np.repeat(grey8[:, :, None], 3, axis=2)


def _scale(rows: int, cols: int, max_size: int) -> float:
    longest = max(rows, cols)
    target = min(max_size, max(longest, MIN_SIZE))
    return target / longest


@lru_cache(maxsize=16)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for candidate in FONT_PATHS:
        if candidate.is_file():
            try:
                return ImageFont.truetype(str(candidate), size)
            except OSError:
                continue
    return ImageFont.load_default(size)


def _blend_heatmap(picture: Image.Image, values: np.ndarray,
                   value_range: tuple[float, float]) -> Image.Image:
    lo, hi = value_range
    v = np.nan_to_num(np.asarray(values, dtype=np.float32), nan=lo)
    norm = np.clip((v - lo) / (hi - lo if hi > lo else 1.0), 0.0, 1.0)
    # Stretch the (coarse) map over the whole picture, cell edges on pixel edges.
    h, w = norm.shape
    rows = np.minimum((np.arange(picture.height) * h) // picture.height, h - 1)
    cols = np.minimum((np.arange(picture.width) * w) // picture.width, w - 1)
    stretched = norm[rows[:, None], cols[None, :]]
    colour = apply_colormap(stretched, "inferno").astype(np.float32)
    alpha = np.where(stretched >= HEATMAP_THRESHOLD, HEATMAP_OPACITY, 0.0)[..., None]
    base = np.asarray(picture.convert("RGB"), dtype=np.float32)
    out = base * (1.0 - alpha) + colour * alpha
    return Image.fromarray(np.clip(np.rint(out), 0, 255).astype(np.uint8))


def _label(draw: ImageDraw.ImageDraw, at: tuple[float, float], words: str,
           colour: tuple[int, int, int], font: ImageFont.FreeTypeFont | ImageFont.ImageFont,
           *, below: float | None = None) -> None:
    """Text just above ``at``, or just under the row ``below`` when given (AI labels go under
    their box so that they never cover the reader's label above a shared finding); outlined
    in black to stay legible on bone and on air."""
    x, y = at
    box = draw.textbbox((0, 0), words, font=font)
    height = box[3] - box[1]
    room = draw.im.size[1]
    if below is not None and below + height + 8 <= room:
        y = below + 4 - box[1]
    else:
        y = y - height - 6 if y - height - 6 >= 0 else y + 6
    x = min(max(x, 0.0), max(draw.im.size[0] - (box[2] - box[0]) - 2, 0))
    draw.text((x, y), words, fill=colour, font=font, stroke_width=2, stroke_fill=(0, 0, 0))


def _draw_mark(draw: ImageDraw.ImageDraw, mark: Mark, scale: float, line: int,
               font: ImageFont.FreeTypeFont | ImageFont.ImageFont, lang: str) -> None:
    pts = [(x * scale, y * scale) for x, y in mark.points]
    if mark.shape == "point":
        (x, y), r = pts[0], 4 * line
        draw.ellipse((x - r, y - r, x + r, y + r), outline=CYAN, width=line)
        arm = 2 * r
        draw.line((x - arm, y, x - r / 2, y), fill=CYAN, width=line)
        draw.line((x + r / 2, y, x + arm, y), fill=CYAN, width=line)
        draw.line((x, y - arm, x, y - r / 2), fill=CYAN, width=line)
        draw.line((x, y + r / 2, x, y + arm), fill=CYAN, width=line)
        anchor = (x - arm, y - arm)
    elif mark.shape in ("box", "ellipse"):
        (x0, y0), (x1, y1) = pts
        rect = (min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1))
        if mark.shape == "box":
            _outline(draw, rect, CYAN, line)
        else:
            draw.ellipse(rect, outline=CYAN, width=line)
        anchor = (rect[0], rect[1])
    else:
        draw.line([*pts, pts[0]], fill=CYAN, width=line, joint="curve")
        anchor = (min(p[0] for p in pts), min(p[1] for p in pts))
    _label(draw, anchor, label_name(mark.label, lang), CYAN, font)


def _draw_finding(draw: ImageDraw.ImageDraw, finding: AiFindingRef, scale: float, line: int,
                  font: ImageFont.FreeTypeFont | ImageFont.ImageFont, lang: str) -> None:
    words = (f"{'IA' if lang == 'fr' else 'AI'} {label_name(finding.label, lang)} "
             f"{percent(finding.score, lang, 0)}")
    if finding.box_xyxy_px is None:
        x, y = finding.point_px[0] * scale, finding.point_px[1] * scale
        r = 5 * line
        draw.ellipse((x - r, y - r, x + r, y + r), outline=AMBER, width=line)
        _label(draw, (x - r, y - r), words, AMBER, font, below=y + r + line)
        return
    x0, y0, x1, y1 = (v * scale for v in finding.box_xyxy_px)
    corners = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
    if finding.operating_point == "high_specificity":
        _outline(draw, (x0, y0, x1, y1), AMBER, line)
    else:
        for a, b in _dashes([*corners, corners[0]], dash=4.0 * line):
            draw.line((a, b), fill=AMBER, width=line)
    _label(draw, (x0, y0), words, AMBER, font, below=y1 + line)


def _outline(draw: ImageDraw.ImageDraw, rect: tuple[float, float, float, float],
             colour: tuple[int, int, int], line: int) -> None:
    """A rectangle whose strokes are centred on its edges (Pillow's grow inwards)."""
    x0, y0, x1, y1 = rect
    half = line / 2
    for a, b in (((x0 - half, y0), (x1 + half, y0)), ((x1, y0), (x1, y1)),
                 ((x1 + half, y1), (x0 - half, y1)), ((x0, y1), (x0, y0))):
        draw.line((a, b), fill=colour, width=line)


def _dashes(points: list[tuple[float, float]], dash: float
            ) -> list[tuple[tuple[float, float], tuple[float, float]]]:
    """Dash segments of length ``dash`` with equal gaps along an open polyline."""
    out = []
    for (ax, ay), (bx, by) in itertools.pairwise(points):
        length = math.hypot(bx - ax, by - ay)
        steps = max(int(length // dash), 1)
        for i in range(0, steps, 2):
            t0, t1 = i / steps, min((i + 1) / steps, 1.0)
            out.append(((ax + (bx - ax) * t0, ay + (by - ay) * t0),
                        (ax + (bx - ax) * t1, ay + (by - ay) * t1)))
    return out


def _with_research_band(picture: Image.Image, words: str) -> Image.Image:
    """``picture`` with a black band under it holding ``words`` in white."""
    size = max(12, round(picture.width / 40))
    font = _font(size)
    probe = ImageDraw.Draw(picture).textbbox((0, 0), words, font=font)
    while probe[2] - probe[0] > picture.width - 8 and size > 8:  # fit narrow images
        size -= 1
        font = _font(size)
        probe = ImageDraw.Draw(picture).textbbox((0, 0), words, font=font)
    band = int(probe[3] - probe[1]) + 2 * max(4, size // 2)
    out = Image.new("RGB", (picture.width, picture.height + band), (0, 0, 0))
    out.paste(picture.convert("RGB"), (0, 0))
    draw = ImageDraw.Draw(out)
    x = (picture.width - (probe[2] - probe[0])) / 2 - probe[0]
    y = picture.height + (band - (probe[3] - probe[1])) / 2 - probe[1]
    draw.text((x, y), words, fill=(255, 255, 255), font=font)
    return out
