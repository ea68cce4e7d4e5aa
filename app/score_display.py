"""AI scores on the scales radiologists know: the operating-point band, or 1–10 for mammography.

The band ("likely normal" / "doubt" / "positive", as BoneView draws its boxes) and the
1–10 score (as Transpara and MammoScreen show it) always come from the thresholds and
cuts carried by the :class:`~inference.results.CaseScore` itself, i.e. those of the
model version (sha256) that produced it; a cached result without them shows no scale.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

from inference.results import CaseScore
from reading.scales import Band, band, scale_1_10

_CONTEXT = "ScoreDisplay"


def _tr(text: str) -> str:
    return QCoreApplication.translate(_CONTEXT, text)


def band_text(value: Band) -> str:
    """The band in the reader's language: "likely normal", "doubt" or "positive"."""
    texts: dict[str, str] = {
        "likely_normal": _tr("likely normal"),
        "doubt": _tr("doubt"),
        "positive": _tr("positive"),
    }
    return texts.get(value, value)


def scale_text(scale: int) -> str:
    """A 1–10 score as "7/10"."""
    return _tr("%1/10").replace("%1", str(scale))


def score_band(score: CaseScore) -> Band | None:
    """The score's band from its own model's thresholds; None for a result without them."""
    if score.thresholds is None:
        return None
    return band(score.probability, score.thresholds)


def score_scale(score: CaseScore) -> int | None:
    """The 1–10 score where the model has (valid) cuts, else None."""
    if not score.scale_cuts:
        return None
    try:
        return scale_1_10(score.probability, score.scale_cuts)
    except ValueError:  # a malformed cache entry: show the percentage alone
        return None


def case_score_text(score: CaseScore) -> str:
    """What stands next to the percentage: "7/10" with cuts, else the band, else ""."""
    scale = score_scale(score)
    if scale is not None:
        return scale_text(scale)
    found = score_band(score)
    return band_text(found) if found is not None else ""
