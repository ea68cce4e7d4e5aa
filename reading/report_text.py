"""French and English wording of the PDF report and key images (reading/ has no Qt).

French is the default: Tandem is written for French-speaking practices. Numbers use a
decimal comma and a non-breaking space before ``%`` in French; dates are dd/mm/yyyy in
French and ISO (yyyy-mm-dd) in English, which no English reader misreads.
"""

from __future__ import annotations

from datetime import datetime

LANGS = ("fr", "en")
NBSP = "\u00a0"

_TEXT: dict[str, tuple[str, str]] = {  # key: (fr, en)
    "title": ("Compte rendu de double lecture", "Double-reading report"),
    "patient": ("Patient", "Patient"),
    "patient_id": ("ID", "ID"),
    "birth_date": ("Né(e) le", "Born"),
    "study_date": ("Examen du", "Study date"),
    "description": ("Examen", "Study"),
    "reader": ("Lecteur", "Reader"),
    "signed_at": ("Signé le", "Signed"),
    "not_signed": ("non signé", "not signed"),
    "version": ("Version", "Version"),
    "draft": ("BROUILLON — non signé", "DRAFT — not signed"),
    "purpose.first": ("première lecture", "first read"),
    "purpose.first_blinded": ("première lecture (IA masquée)", "first read (AI hidden)"),
    "purpose.final": ("lecture finale (après IA)", "final read (after AI)"),
    "purpose.amendment": ("rectificatif", "amendment"),
    "section.reading": ("Lecture du radiologue", "Radiologist's reading"),
    "section.ai": ("Résultats de l'IA", "AI results"),
    "section.concordance": ("Concordance radiologue / IA", "Radiologist / AI concordance"),
    "section.key_images": ("Images clés", "Key images"),
    "assessment": ("Conclusion", "Assessment"),
    "assessment.none": ("non renseignée", "not given"),
    "cxr.normal": ("radiographie thoracique normale", "normal chest radiograph"),
    "cxr.abnormal": ("radiographie thoracique anormale", "abnormal chest radiograph"),
    "fracture.present": ("fracture", "fracture"),
    "fracture.absent": ("pas de fracture", "no fracture"),
    "image": ("Image", "Image"),
    "breast.R": ("Sein droit", "Right breast"),
    "breast.L": ("Sein gauche", "Left breast"),
    "density": ("densité", "density"),
    "marks": ("Repères", "Marks"),
    "marks.none": ("Aucun repère.", "No marks."),
    "mark.label": ("Repère", "Finding"),
    "mark.confidence": ("Confiance", "Confidence"),
    "comments": ("Commentaire", "Comments"),
    "ai.none": ("Aucun résultat d'IA pour cet examen.", "No AI result for this study."),
    "ai.model": ("Modèle", "Model"),
    "ai.probability": ("Probabilité", "Probability"),
    "ai.band": ("Catégorie", "Band"),
    "ai.scale": ("Échelle 1–10", "1–10 scale"),
    "ai.findings": ("Signes", "Findings"),
    "ai.not_applicable": ("non applicable", "not applicable"),
    "research_use": ("Usage de recherche uniquement — pas d'usage clinique",
                     "Research use only — not for clinical use"),
    "band.likely_normal": ("probablement normal", "likely normal"),
    "band.doubt": ("doute", "doubt"),
    "band.positive": ("positif", "positive"),
    "count.agreed": ("concordants", "agreed"),
    "count.ai_only": ("IA seule (omission possible)", "AI only (possible miss)"),
    "count.reader_only": ("radiologue seul", "reader only"),
    "concordance.none": ("Concordance non calculée.", "Concordance not computed."),
    "concordance.ai_only_list": ("Signes vus par l'IA seule", "Findings seen by the AI only"),
    "concordance.case": ("Accord", "Agreement"),
    "decision": ("Décision", "Decision"),
    "decision.accepted": ("acceptée", "accepted"),
    "decision.dismissed": ("rejetée", "dismissed"),
    "decision.none": ("pas de décision", "no decision"),
    "agreement.agree": ("accord", "agree"),
    "agreement.disagree": ("désaccord", "disagree"),
    "agreement.undetermined": ("indéterminé", "undetermined"),
    "reader.normal": ("normal", "normal"),
    "reader.abnormal": ("anormal", "abnormal"),
    "reader.present": ("présente", "present"),
    "reader.absent": ("absente", "absent"),
    "reader.not assessed": ("non renseigné", "not assessed"),
    "score": ("score", "score"),
    "key_images.none": ("Aucune image clé.", "No key image."),
    "generated": ("Édité par Tandem le", "Produced by Tandem on"),
}

_LABELS: dict[str, tuple[str, str]] = {  # reader and AI labels (stable keys) -> (fr, en)
    "nodule_mass": ("Nodule / masse", "Nodule / mass"),
    "consolidation": ("Condensation", "Consolidation"),
    "effusion": ("Épanchement pleural", "Pleural effusion"),
    "pneumothorax": ("Pneumothorax", "Pneumothorax"),
    "cardiomegaly": ("Cardiomégalie", "Cardiomegaly"),
    "other": ("Autre", "Other"),
    "fracture": ("Fracture", "Fracture"),
    "dislocation": ("Luxation", "Dislocation"),
    "mass": ("Masse", "Mass"),
    "calcifications": ("Calcifications", "Calcifications"),
    "architectural_distortion": ("Distorsion architecturale", "Architectural distortion"),
    "asymmetry": ("Asymétrie", "Asymmetry"),
    "abnormal": ("Anomalie", "Abnormality"),
    "lesion": ("Lésion", "Lesion"),
    "possible": ("possible", "possible"),
    "probable": ("probable", "probable"),
    "definite": ("certain", "definite"),
}


def _index(lang: str) -> int:
    return 0 if lang == "fr" else 1


def text(key: str, lang: str = "fr") -> str:
    """The wording of ``key`` in ``lang`` (``"fr"`` or ``"en"``; anything else gives English)."""
    return _TEXT[key][_index(lang)]


def label_name(label: str, lang: str = "fr") -> str:
    """A stored label (``"nodule_mass"``) as a reader reads it; unknown labels made readable."""
    if label in _LABELS:
        return _LABELS[label][_index(lang)]
    words = label.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def number(value: float, lang: str = "fr", decimals: int = 1) -> str:
    """``0.5`` → ``"0,5"`` in French, ``"0.5"`` in English."""
    out = f"{value:.{decimals}f}"
    return out.replace(".", ",") if lang == "fr" else out


def percent(probability: float, lang: str = "fr", decimals: int = 1) -> str:
    """A probability in [0, 1] as a percentage: ``"87,3 %"`` (fr) or ``"87.3%"`` (en)."""
    value = number(100.0 * probability, lang, decimals)
    return f"{value}{NBSP}%" if lang == "fr" else f"{value}%"


def date(value: str, lang: str = "fr") -> str:
    """A DICOM date (``YYYYMMDD``) or ISO date/time as dd/mm/yyyy (fr) or yyyy-mm-dd (en).

    Text that is neither is returned unchanged (a report shows what the file says).
    """
    value = value.strip()
    digits = value.replace("-", "")[:8]
    if len(digits) != 8 or not digits.isdigit():
        return value
    y, m, d = digits[:4], digits[4:6], digits[6:8]
    return f"{d}/{m}/{y}" if lang == "fr" else f"{y}-{m}-{d}"


def date_time(iso: str | None, lang: str = "fr") -> str:
    """An ISO 8601 time (stored in UTC) shown in local time, to the minute."""
    if not iso:
        return ""
    try:
        moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    if moment.tzinfo is not None:
        moment = moment.astimezone()
    return f"{date(moment.date().isoformat(), lang)} {moment:%H:%M}"


def person_name(value: str) -> str:
    """A DICOM person name (``DOE^JOHN^^DR``) as ``DOE John``; other text unchanged."""
    if "^" not in value:
        return value.strip()
    parts = [p.strip() for p in value.split("=")[0].split("^")]
    family, given = parts[0], parts[1] if len(parts) > 1 else ""
    return " ".join(p for p in (family.upper(), given.title()) if p)
