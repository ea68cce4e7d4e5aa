"""Does a model apply to this image? A :class:`~inference.reasons.Reason` when it does not.

Rules, in order (the first mismatch is the reason):

- **modality** must be one of the manifest's (a DICOM image without one is refused);
- **body part**, **view position**, **image type** and **age** are checked when the image
  states them. An empty value is *unknown*, not a mismatch: many devices leave Body Part
  Examined, View Position or Patient's Age blank, and refusing those would make a model
  useless in practice. The out-of-distribution check (``applicability.ood``), where a
  model declares one, is the guard for images whose header says too little;
- **photometric** must be one the model accepts (DICOM only).

PNG/JPEG files (``meta.is_dicom`` false) carry none of these attributes: a picture has
no modality, and its colours are turned into luminance on loading. For them every rule
is skipped; the reason stays "" and the caller knows the checks were not possible from
``meta.is_dicom``. Comparisons ignore case, accents and surrounding spaces; body parts
also accept common synonyms (``THORAX`` for ``CHEST``, French terms sent by local
modalities such as ``POIGNET`` for ``WRIST``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from inference.manifest import ModelManifest
from inference.reasons import Reason, ReasonCode
from inference.source import ImageMeta

# Each group names one region; the first term is the canonical (DICOM) one.
_BODY_PART_GROUPS: tuple[tuple[str, ...], ...] = (
    ("CHEST", "THORAX", "LUNG", "POUMON", "POUMONS", "THORAX_PA", "CHEST_PA"),
    ("BREAST", "SEIN", "MAMMA"),
    ("HAND", "MAIN"),
    ("FINGER", "DOIGT", "DOIGTS"),
    ("THUMB", "POUCE"),
    ("TOE", "ORTEIL", "ORTEILS"),
    ("EXTREMITY", "MEMBRE", "EXTREMITE"),
    ("WRIST", "POIGNET"),
    ("ELBOW", "COUDE"),
    ("SHOULDER", "EPAULE"),
    ("KNEE", "GENOU"),
    ("ANKLE", "CHEVILLE"),
    ("FOOT", "PIED"),
    ("HIP", "HANCHE"),
    ("PELVIS", "BASSIN"),
    ("LEG", "JAMBE"),
    ("ARM", "BRAS"),
    ("FOREARM", "AVANT_BRAS"),
    ("SPINE", "RACHIS"),
    ("SKULL", "CRANE"),
    ("ABDOMEN", "ABDO"),
)
_CANONICAL = {term: group[0] for group in _BODY_PART_GROUPS for term in group}
_PIXEL_KIND = ("ORIGINAL", "DERIVED")  # ImageType value 1
_EXAM_KIND = ("PRIMARY", "SECONDARY")  # ImageType value 2


def normalise(value: str) -> str:
    """Upper-case, no accents, spaces and hyphens as underscores: ``"Épaule "`` → ``EPAULE``."""
    text = unicodedata.normalize("NFKD", value.strip())
    text = "".join(c for c in text if not unicodedata.combining(c)).upper()
    return "_".join(text.replace("-", " ").split())


def body_part_key(value: str) -> str:
    """The canonical region for a Body Part Examined value (itself when unknown)."""
    key = normalise(value)
    return _CANONICAL.get(key, key)


def check_applicability(manifest: ModelManifest, meta: ImageMeta) -> Reason | None:
    """Why ``manifest``'s model should not run on the image ``meta`` describes, or None."""
    if not meta.is_dicom:
        return None
    rules = manifest.applicability
    modality = normalise(meta.modality)
    if modality not in {normalise(m) for m in rules.modalities}:
        return _mismatch("modality", meta.modality or "missing", rules.modalities)
    if rules.body_parts and meta.body_part.strip():
        wanted = {body_part_key(b) for b in rules.body_parts}
        if body_part_key(meta.body_part) not in wanted:
            return _mismatch("body_part", meta.body_part, rules.body_parts)
    views = {normalise(v) for v in rules.view_positions}
    if views and meta.view_position.strip() and normalise(meta.view_position) not in views:
        return _mismatch("view", meta.view_position, rules.view_positions)
    if rules.photometric and normalise(meta.photometric) not in {
            normalise(p) for p in rules.photometric}:
        return _mismatch("photometric", meta.photometric or "missing", rules.photometric)
    reason = _image_type_reason(rules.image_types, meta.image_type)
    if reason:
        return reason
    return _age_reason(rules.min_age_years, rules.max_age_years, meta.age_years)


def _mismatch(code: ReasonCode, value: str, expected: Iterable[str]) -> Reason:
    return Reason(code, value.strip(), ", ".join(expected))


def _image_type_reason(wanted: list[str], image_type: tuple[str, ...]) -> Reason | None:
    """ORIGINAL/DERIVED is matched to value 1, PRIMARY/SECONDARY to value 2, the rest anywhere."""
    if not wanted or not image_type:
        return None
    values = [normalise(v) for v in image_type]
    tokens = [normalise(w) for w in wanted]
    stated = "\\".join(v for v in values if v)
    for position, kinds in ((0, _PIXEL_KIND), (1, _EXAM_KIND)):
        required = [t for t in tokens if t in kinds]
        if required and (len(values) <= position or values[position] not in required):
            return Reason("image_type", stated, ", ".join(required))
    others = [t for t in tokens if t not in _PIXEL_KIND + _EXAM_KIND]
    if others and not set(others) & set(values[2:]):
        return Reason("image_type", stated, ", ".join(others))
    return None


def _age_reason(low: float | None, high: float | None, age: float | None) -> Reason | None:
    if age is None:
        return None
    if low is not None and age < low:
        return Reason("age_below", f"{age:g}", f"{low:g}")
    if high is not None and age > high:
        return Reason("age_above", f"{age:g}", f"{high:g}")
    return None
