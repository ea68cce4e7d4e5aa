"""Why a model did not run, in the user's language (from :class:`inference.reasons.Reason`)."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication

from inference.reasons import Reason
from inference.results import AnalysisResult


def _templates() -> dict[str, str]:
    # QCoreApplication.translate spelled out with literal strings, so that lupdate finds them.
    return {
        "modality": QCoreApplication.translate(
            "AiReason", "modality %1; this model is for %2"),
        "body_part": QCoreApplication.translate(
            "AiReason", "body part %1; this model is for %2"),
        "view": QCoreApplication.translate(
            "AiReason", "view %1; this model is for %2"),
        "photometric": QCoreApplication.translate(
            "AiReason", "photometric interpretation %1; this model is for %2"),
        "image_type": QCoreApplication.translate(
            "AiReason", "image type %1; this model is for %2 images"),
        "age_below": QCoreApplication.translate(
            "AiReason", "patient aged %1; this model is for ages %2 and above"),
        "age_above": QCoreApplication.translate(
            "AiReason", "patient aged %1; this model is for ages up to %2"),
        "ood": QCoreApplication.translate(
            "AiReason", "image unlike the model's training images (distance %1, limit %2)"),
        "unavailable": QCoreApplication.translate(
            "AiReason", "model unavailable: %1"),
        "failed": "%1",  # the card already says "Failed"; the detail is technical
    }


def reason_text(reason: Reason | None, fallback: str = "") -> str:
    """``reason`` translated, or ``fallback`` (the English text) for results without one."""
    if reason is None:
        return fallback
    template = _templates().get(reason.code)
    if template is None:
        return str(reason)
    return template.replace("%1", reason.value).replace("%2", reason.expected)


def result_reason(result: AnalysisResult) -> str:
    """The translated reason of ``result`` ("" when it ran)."""
    return reason_text(result.reason_detail, result.reason)
