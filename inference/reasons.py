"""Why a model did not run on an image, or failed: a code and its values.

The English sentence (``str(reason)``) goes into logs, the CLI and
``AnalysisResult.reason``; the GUI translates from ``code`` and the values, so a
French-speaking radiologist never reads English inside a French sentence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ReasonCode = Literal["modality", "body_part", "view", "photometric", "image_type",
                     "age_below", "age_above", "ood", "unavailable", "failed"]

_ENGLISH: dict[str, str] = {
    "modality": "modality {value}; this model is for {expected}",
    "body_part": "body part {value}; this model is for {expected}",
    "view": "view {value}; this model is for {expected}",
    "photometric": "photometric {value}; this model is for {expected}",
    "image_type": "image type {value}; this model is for {expected} images",
    "age_below": "patient age {value} years; this model is for ages {expected} and above",
    "age_above": "patient age {value} years; this model is for ages up to {expected}",
    "ood": "image unlike the training data (distance {value} > threshold {expected})",
    "unavailable": "model unavailable: {value}",
    "failed": "failed: {value}",
}


@dataclass(frozen=True)
class Reason:
    """``value`` is what the image (or the error) says; ``expected`` what the model wants."""

    code: ReasonCode
    value: str = ""
    expected: str = ""

    def __str__(self) -> str:
        return _ENGLISH[self.code].format(value=self.value, expected=self.expected)
