"""What a radiologist can say about each kind of study: mark labels and assessments.

Labels are stable English keys (stored, exported, compared); the GUI and the PDF
translate them. Each AI model label belongs to a *family* of reader labels it is
compared with (see :data:`AI_LABEL_FAMILIES`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from imaging.db import SeriesRow
    from imaging.header import InstanceHeader

StudyKind = Literal["cxr", "bone", "mammo"]
STUDY_KINDS: tuple[StudyKind, ...] = ("cxr", "bone", "mammo")

MARK_LABELS: dict[StudyKind, tuple[str, ...]] = {
    "cxr": ("nodule_mass", "consolidation", "effusion", "pneumothorax", "cardiomegaly", "other"),
    "bone": ("fracture", "dislocation", "other"),
    "mammo": ("mass", "calcifications", "architectural_distortion", "asymmetry"),
}

CONFIDENCES = ("possible", "probable", "definite")
CxrAssessment = Literal["normal", "abnormal"]
BIRADS_CATEGORIES = (0, 1, 2, 3, 4, 5, 6)
DENSITIES = ("a", "b", "c", "d")
BREASTS = ("R", "L")

# AI model label -> the reader labels it is compared with, per study kind. A reader mark
# whose label is in the family can agree with an AI finding of that label.
AI_LABEL_FAMILIES: dict[str, frozenset[str]] = {
    "abnormal": frozenset(MARK_LABELS["cxr"]),  # chest normality heatmap: any chest finding
    "fracture": frozenset({"fracture"}),
    "lesion": frozenset({"mass", "architectural_distortion", "asymmetry", "calcifications"}),
}

_CHEST_PARTS = frozenset({"CHEST", "THORAX", "LUNG", "POUMON", "POUMONS", "TORSO"})
# Words of a series or study description that name a chest radiograph (English, French).
_CHEST_WORDS = _CHEST_PARTS | {"CXR", "LUNGS", "PULMONAIRE", "PULMONAIRES", "TELETHORAX",
                               "POITRINE", "THORACIQUE"}


def study_kind(modality: str, body_part: str, description: str = "") -> StudyKind | None:
    """The study kind a series belongs to, from its modality and body part.

    MG is mammography; CR/DX/RG/DR of the chest is a chest radiograph; any other
    radiograph is a bone study. Anything else (CT, MR, US...) has no reading form yet.
    BodyPartExamined is optional and often left empty: then a chest word in
    ``description`` (series or study description, e.g. "RX THORAX FACE") decides.
    """
    modality = modality.strip().upper()
    if modality == "MG":
        return "mammo"
    if modality in {"CR", "DX", "RG", "DR"}:
        part = body_part.strip().upper()
        if part in _CHEST_PARTS:
            return "cxr"
        words = set(re.split(r"[^A-Z]+", description.upper()))
        return "cxr" if not part and words & _CHEST_WORDS else "bone"
    return None


def series_kind(series: SeriesRow, headers: Sequence[InstanceHeader]) -> StudyKind | None:
    """:func:`study_kind` of a stored series, its series and study descriptions included."""
    study_description = next((h.study_description for h in headers if h.study_description), "")
    return study_kind(series.modality, series.body_part,
                      f"{series.description} {study_description}")
