"""What a radiologist can say about each kind of study: mark labels and assessments.

Labels are stable English keys (stored, exported, compared); the GUI and the PDF
translate them. Each AI model label belongs to a *family* of reader labels it is
compared with (see :data:`AI_LABEL_FAMILIES`).
"""

from __future__ import annotations

from typing import Literal

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


def study_kind(modality: str, body_part: str) -> StudyKind | None:
    """The study kind a series belongs to, from its modality and body part.

    MG is mammography; CR/DX/RG/DR of the chest is a chest radiograph; any other
    radiograph is a bone study. Anything else (CT, MR, US...) has no reading form yet.
    """
    modality = modality.strip().upper()
    if modality == "MG":
        return "mammo"
    if modality in {"CR", "DX", "RG", "DR"}:
        return "cxr" if body_part.strip().upper() in _CHEST_PARTS else "bone"
    return None
