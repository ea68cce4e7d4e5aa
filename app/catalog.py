"""Plain rows the study browser shows: patients → studies → series, read from the study database.

The browser never talks SQL: :func:`read_catalog` turns the database's content
into frozen values, so the widget code stays independent of the schema.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from imaging.geometry import sort_headers
from imaging.series import group_series

if TYPE_CHECKING:
    from imaging.db import StudyDatabase
    from imaging.header import InstanceHeader


@dataclass(frozen=True)
class SeriesRow:
    series_uid: str
    study_uid: str
    number: int | None
    modality: str
    description: str
    image_count: int


@dataclass(frozen=True)
class StudyRow:
    study_uid: str
    patient_key: str
    date: str  # DICOM DA "YYYYMMDD" (may be empty or malformed)
    description: str
    accession: str
    series: tuple[SeriesRow, ...] = field(default=())

    @property
    def modalities(self) -> str:
        seen: list[str] = []
        for s in self.series:
            if s.modality and s.modality not in seen:
                seen.append(s.modality)
        return "/".join(seen)

    @property
    def image_count(self) -> int:
        return sum(s.image_count for s in self.series)


@dataclass(frozen=True)
class PatientRow:
    key: str  # patient id, or name when the id is empty
    patient_id: str
    name: str
    birth_date: str
    sex: str
    studies: tuple[StudyRow, ...] = field(default=())


# Reading statuses the browser shows: the store's (unread, in_progress, read, discordant,
# amended) plus "ai_running", which only the running application knows.
READING_STATUSES = ("unread", "ai_running", "in_progress", "read", "discordant", "amended")


def reading_rank(status: str | None, discordant_first: bool) -> int:
    """Sort rank of a study: 0 puts it first (discordant, when asked), 1 keeps its place."""
    return 0 if discordant_first and status == "discordant" else 1


def parse_dicom_date(value: str) -> date | None:
    """``YYYYMMDD`` (also the old ``YYYY.MM.DD``) as a date, or None when unusable."""
    digits = value.strip().replace(".", "")
    if len(digits) != 8 or not digits.isdigit():
        return None
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None


def display_name(dicom_name: str) -> str:
    """A DICOM PN (``Family^Given^Middle^Prefix^Suffix``) as "FAMILY Given"."""
    parts = [p.strip() for p in dicom_name.split("=")[0].split("^")]
    if not any(parts):
        return ""
    family = parts[0].upper()
    given = " ".join(p for p in parts[1:3] if p)
    return f"{family} {given}".strip()


def read_catalog(db: StudyDatabase) -> list[PatientRow]:
    """Every patient with their studies (newest first) and series, from ``db``."""
    studies_by_patient: dict[int, list[StudyRow]] = {}
    for st in db.studies():
        series = tuple(
            SeriesRow(se.series_instance_uid, se.study_instance_uid, se.number, se.modality,
                      se.description, se.frame_count or se.instance_count)
            for se in db.series(st.study_instance_uid)
        )
        studies_by_patient.setdefault(st.patient_key, []).append(
            StudyRow(st.study_instance_uid, str(st.patient_key), st.date, st.description,
                     st.accession_number, series))
    return [
        PatientRow(str(p.key), p.patient_id, p.name, p.birth_date, p.sex,
                   tuple(studies_by_patient.get(p.key, ())))
        for p in db.patients()
    ]


def sorted_series_headers(db: StudyDatabase, series_uid: str) -> list[InstanceHeader]:
    """The series' headers in slice order (geometry when known, else instance number)."""
    return list(sort_headers(db.series_headers(series_uid)))


def middle_header(db: StudyDatabase, series_uid: str) -> InstanceHeader | None:
    """The header of the series' middle image (its thumbnail), if the series has any."""
    headers = [h for h in sorted_series_headers(db, series_uid) if h.is_image]
    return headers[len(headers) // 2] if headers else None


def series_warnings(db: StudyDatabase, series_uids: Iterable[str], *,
                    progress: Callable[..., None] | None = None,
                    cancel: Any = None) -> dict[str, tuple[str, ...]]:
    """Readable warnings per series (gantry tilt, missing slices, localizer...), worker body.

    Grouping needs every header of a series, so it runs after an import, not on
    each refresh of the browser.
    """
    found: dict[str, tuple[str, ...]] = {}
    uids = list(series_uids)
    for done, uid in enumerate(uids, 1):
        if cancel is not None and cancel.is_set():
            break
        messages = [w.message for part in group_series(db.series_headers(uid))
                    for w in part.warnings]
        found[uid] = tuple(dict.fromkeys(messages))
        if progress is not None:
            progress(done, len(uids))
    return found
