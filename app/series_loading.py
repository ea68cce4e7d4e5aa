"""Worker body that opens a series: the first image fast, then the whole stack.

Kept apart from the widgets so that it can be tested without a display.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Any

from imaging.errors import NO_PIXEL_DATA, DicomFileError
from imaging.header import InstanceHeader
from imaging.loader import LoadCancelled, load_image, load_stack
from imaging.stack import ImageStack
from viewer.mpr import MprResult, reslice


def load_series(
    headers: Sequence[InstanceHeader],
    *,
    progress: Callable[..., None] | None = None,
    cancel: Any = None,
    partial: Callable[[object], None] | None = None,
) -> ImageStack | None:
    """Decode ``headers`` (slice order); hand the first image to ``partial`` before the rest.

    Returns None when cancelled. Raises ``DicomFileError`` when nothing can be shown.
    """
    images = [h for h in headers if h.is_image]
    if not images:
        first = headers[0].path if headers else None
        raise DicomFileError(NO_PIXEL_DATA, "this series has no image to display", first)
    single_image = len(images) == 1 and images[0].number_of_frames <= 1
    if partial is not None and not single_image:
        # A failure here is reported by the full load below, with the file named.
        with contextlib.suppress(DicomFileError):
            partial(load_image(images[0]))
    try:
        return load_stack(images, progress=progress, cancel=cancel)
    except LoadCancelled:
        return None


def load_first_images(
    headers: Sequence[InstanceHeader],
    *,
    progress: Callable[..., None] | None = None,
    cancel: Any = None,
) -> list[ImageStack]:
    """The first image of each instance (hanging protocols); undecodable ones are skipped."""
    stacks = []
    for done, header in enumerate(headers, 1):
        if cancel is not None and cancel.is_set():
            break
        try:
            stacks.append(load_image(header))
        except DicomFileError:
            continue
        if progress is not None:
            progress(done, len(headers))
    return stacks


MPR_PLANES = ("coronal", "sagittal", "axial")


def reformat(stack: ImageStack, *, progress: Callable[..., None] | None = None,
             cancel: Any = None) -> list[MprResult]:
    """Coronal, sagittal and axial reformats of a volume (worker body for the MPR view)."""
    results = []
    for done, plane in enumerate(MPR_PLANES, 1):
        if cancel is not None and cancel.is_set():
            break
        results.append(reslice(stack, plane))
        if progress is not None:
            progress(done, len(MPR_PLANES))
    return results
