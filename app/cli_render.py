"""``tandem render``: a series (or the mammography four views) to a PNG, offscreen.

Same discovery, loader and viewer code as the GUI; only the render window is
offscreen (EGL), so it runs without any display.
"""

from __future__ import annotations

import argparse
import sys

from imaging.discover import discover
from imaging.loader import load_stack
from imaging.pipeline import VoiWindow
from imaging.series import SeriesCandidate
from imaging.stack import ImageStack
from viewer.annotations import TextFormatter

MAMMO_MODALITIES = {"MG"}


def run_render(opts: argparse.Namespace) -> int:
    if not opts.path.exists():
        print(f"tandem render: {opts.path}: no such file or folder", file=sys.stderr)
        return 2
    try:
        size = _parse_size(opts.size)
        window = _parse_window(opts.window) if opts.window else opts.preset
    except ValueError as exc:
        print(f"tandem render: {exc}", file=sys.stderr)
        return 2
    report = discover([opts.path])
    candidates = [s for s in report.series if s.image_count > 0]
    if opts.series:
        candidates = [s for s in candidates if s.series_instance_uid == opts.series]
    if not candidates:
        what = f"series {opts.series}" if opts.series else "an image series"
        print(f"tandem render: {opts.path}: no {what} found", file=sys.stderr)
        return 1
    stacks = _stacks_for_layout(candidates, opts.layout)
    layout = opts.layout
    if layout == "mpr":
        source = stacks[0]
        stacks, layout = _reformats(source), "2x2"
        if not stacks:
            return 1
        if window is None:  # one window for the three planes: the acquisition's own
            from viewer.windowing import stack_window

            index = source.count // 2 if opts.slice is None else min(opts.slice, source.count - 1)
            window = stack_window(source, max(index, 0))
    from viewer.render import render_to_png

    render_to_png(stacks, opts.out, size=size, slice=opts.slice, window=window, layout=layout,
                  formatter=_formatter(getattr(opts, "deidentify", False)))
    for stack in stacks:
        for warning in stack.warnings:
            print(f"warning: {warning.message}", file=sys.stderr)
    print(opts.out)
    return 0


def _formatter(deidentify: bool) -> TextFormatter | None:
    """``--deidentify``: the default corner texts without name, ID, birth date, accession
    number or dates (modality, series, slice and window stay)."""
    if not deidentify:
        return None
    from app.annotations import DeidentifiedFormatter
    from viewer.annotations import EnglishFormatter

    return DeidentifiedFormatter(EnglishFormatter())


def _stacks_for_layout(candidates: list[SeriesCandidate], layout: str) -> list[ImageStack]:
    """The stacks a layout shows: mammo4 takes every mammography image, grids one per cell."""
    if layout == "mammo4":
        mammo = [s for s in candidates if _is_mammography(s)] or candidates
        return [load_stack([h]) for s in mammo for h in s.instances][:8]
    cells = {"1x1": 1, "1x2": 2, "2x2": 4, "mpr": 1}[layout]
    return [load_stack(s.instances) for s in candidates[:cells]]


def _reformats(stack: ImageStack) -> list[ImageStack]:
    """Axial, coronal and sagittal reformats of a volume (MPR), with the reformat's warnings."""
    from viewer.mpr import reslice

    try:
        results = [reslice(stack, plane) for plane in ("axial", "coronal", "sagittal")]
    except ValueError as exc:
        print(f"tandem render: MPR not possible for this series: {exc}", file=sys.stderr)
        return []
    for warning in results[0].warnings:
        print(f"warning: {warning.message}", file=sys.stderr)
    return [r.stack for r in results]


def _is_mammography(series: SeriesCandidate) -> bool:
    header = series.instances[0]
    return header.modality in MAMMO_MODALITIES or header.body_part == "BREAST"


def _parse_size(text: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"--size {text!r}: expected WIDTHxHEIGHT, e.g. 1024x768") from None
    if not (16 <= width <= 8192 and 16 <= height <= 8192):
        raise ValueError(f"--size {text!r}: each side must be between 16 and 8192 pixels")
    return width, height


def _parse_window(text: str) -> VoiWindow:
    try:
        center, width = (float(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"--window {text!r}: expected CENTRE,WIDTH, e.g. -600,1500") from None
    if width <= 0:
        raise ValueError(f"--window {text!r}: the width must be positive")
    return VoiWindow(center=center, width=width, name="command line")
