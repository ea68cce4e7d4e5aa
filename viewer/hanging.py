"""Mammography hanging protocol "mammo4": RCC | LCC over RMLO | LMLO, chest walls facing.

Each image is mirrored when needed so that right-breast images (left column) have
their chest wall on the right edge of their viewport and left-breast images on the
left edge: the two breasts face each other across the centre line, as on a
light box. The chest-wall side comes from PatientOrientation when the file gives
it, else from the image: the breast is the bright, tissue-filled side.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from imaging.stack import ImageStack
from viewer.layout import ViewportGrid

Side = Literal["left", "right"]
MAMMO4_SLOTS = ("RCC", "LCC", "RMLO", "LMLO")  # grid order: row by row from the top


@dataclass(frozen=True)
class HungImage:
    slot: str
    stack: ImageStack
    chest_wall: Side  # where the chest wall is in the stored image
    flip: bool  # mirror horizontally to put the chest wall on the wanted side


def view_slot(stack: ImageStack) -> str | None:
    """"RCC", "LMLO"...: laterality + view (CC, MLO; XCCL counts as CC, ML/LM not hung)."""
    h = stack.header
    side = h.laterality[:1]
    view = h.view_position.replace("XCCL", "CC").replace("XCCM", "CC")
    if side not in ("R", "L") or view not in ("CC", "MLO"):
        return None
    return side + view


def chest_wall_side(stack: ImageStack) -> Side:
    """Side of the stored image where the chest wall lies.

    PatientOrientation's first value is the direction of the rows (towards the right
    of the stored image): "A" means the nipple points right, so the chest wall is on
    the left; "P" the reverse. Without it, the side holding more breast tissue wins
    (display brightness, MONOCHROME1 taken into account).
    """
    orientation = stack.header.patient_orientation
    if orientation:
        row_dir = orientation[0].upper()
        if "A" in row_dir:
            return "left"
        if "P" in row_dir:
            return "right"
    image = np.asarray(stack.values[0], dtype=np.float32)
    if image.ndim == 3:
        image = image.mean(axis=2)
    step_r, step_c = max(1, image.shape[0] // 256), max(1, image.shape[1] // 256)
    lo, hi = np.percentile(image[::step_r, ::step_c], [1, 99])
    norm = np.clip((image - lo) / max(float(hi - lo), 1e-6), 0, 1)
    if stack.invert:
        norm = 1.0 - norm
    band = max(1, image.shape[1] // 4)
    return "left" if norm[:, :band].mean() >= norm[:, -band:].mean() else "right"


def hang_mammo4(stacks: Sequence[ImageStack]) -> dict[str, HungImage]:
    """Assign stacks to the four slots (the first of each kind wins)."""
    hung: dict[str, HungImage] = {}
    for stack in stacks:
        slot = view_slot(stack)
        if slot is None or slot in hung:
            continue
        wall = chest_wall_side(stack)
        wanted: Side = "right" if slot.startswith("R") else "left"
        hung[slot] = HungImage(slot, stack, wall, flip=wall != wanted)
    return hung


def show_mammo4(grid: ViewportGrid, stacks: Sequence[ImageStack]) -> dict[str, HungImage]:
    """Lay out ``grid`` as 2×2 mammography; empty slots show their name."""
    grid.set_layout("2x2")
    hung = hang_mammo4(stacks)
    for slot, view in zip(MAMMO4_SLOTS, grid.views, strict=True):
        image = hung.get(slot)
        view.flip_horizontal = image.flip if image is not None else False
        view.alignment = "right" if slot.startswith("R") else "left"
        view.set_stack(image.stack if image is not None else None, placeholder=slot)
    return hung
