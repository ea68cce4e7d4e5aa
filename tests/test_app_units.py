"""App logic that needs no display: language choice, catalog rows, worker bodies, settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QLocale, QSettings

from app.catalog import display_name, parse_dicom_date, read_catalog, sorted_series_headers
from app.errors_panel import FileProblem
from app.i18n import I18N_DIR, choose_language
from app.series_loading import load_first_images, load_series
from app.settings import Settings
from app.thumbnails import display_grey, render_thumbnail
from imaging.db import StudyDatabase
from imaging.errors import DicomFileError
from imaging.importer import import_paths

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "dicom"
CT3 = CORPUS / "dcmqi" / "ct-3slice"


@pytest.fixture
def ct_db(tmp_path: Path) -> Iterator[StudyDatabase]:
    db = StudyDatabase(tmp_path / "studies.sqlite")
    report = import_paths(db, [CT3])
    assert not report.errors
    yield db
    db.close()


def test_language_follows_env_then_setting_then_system(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TANDEM_LANG", raising=False)
    assert choose_language("", QLocale("fr_BE")) == "fr"
    assert choose_language("", QLocale("de_DE")) == "en"  # not shipped: English
    assert choose_language("en", QLocale("fr_FR")) == "en"
    monkeypatch.setenv("TANDEM_LANG", "fr")
    assert choose_language("en", QLocale("en_US")) == "fr"


def test_french_catalogue_is_compiled_and_shipped() -> None:
    qm = I18N_DIR / "tandem_fr.qm"
    ts = I18N_DIR / "tandem_fr.ts"
    assert qm.stat().st_size > 1000
    assert 'type="unfinished"' not in ts.read_text(encoding="utf-8")


def test_dicom_dates_and_names() -> None:
    assert parse_dicom_date("20030417").isoformat() == "2003-04-17"  # type: ignore[union-attr]
    assert parse_dicom_date("2003.04.17") is not None  # ACR-NEMA style
    assert parse_dicom_date("20031317") is None
    assert parse_dicom_date("") is None
    assert display_name("Doe^Jane^M") == "DOE Jane M"
    assert display_name("^^") == ""


def test_file_problem_from_error_names_file_and_kind() -> None:
    problem = FileProblem.from_error(DicomFileError("not_dicom", "not a DICOM file", "/x/a.dcm"))
    assert problem == FileProblem("/x/a.dcm", "not_dicom", "not a DICOM file")


def test_catalog_reads_patient_study_series(ct_db: StudyDatabase) -> None:
    patients = read_catalog(ct_db)
    assert len(patients) == 1
    (study,) = patients[0].studies
    assert study.date == "20030417"  # header of the dcmqi CT
    (series,) = study.series
    assert (series.modality, series.image_count) == ("CT", 3)
    headers = sorted_series_headers(ct_db, series.series_uid)
    z = [h.image_position[2] for h in headers if h.image_position is not None]
    assert len(z) == 3 and (z == sorted(z) or z == sorted(z, reverse=True))


def test_load_series_gives_first_image_then_stack(ct_db: StudyDatabase) -> None:
    uid = read_catalog(ct_db)[0].studies[0].series[0].series_uid
    headers = sorted_series_headers(ct_db, uid)
    previews: list[object] = []
    stack = load_series(headers, partial=previews.append)
    assert stack is not None and stack.count == 3
    assert len(previews) == 1 and previews[0].count == 1  # type: ignore[attr-defined]
    # The preview is the stack's first image, so the viewer does not jump when it arrives.
    np.testing.assert_array_equal(previews[0].values[0], stack.values[0])  # type: ignore[attr-defined]

    class Cancelled:
        def is_set(self) -> bool:
            return True

    assert load_series(headers, cancel=Cancelled()) is None


def test_load_series_without_images_names_the_file(ct_db: StudyDatabase) -> None:
    with pytest.raises(DicomFileError) as info:
        load_series([])
    assert info.value.kind == "no_pixel_data"
    bad = CORPUS / "bad" / "zero_bytes.dcm"
    assert load_first_images([]) == []
    assert bad.exists()


def test_thumbnail_uses_file_window_and_keeps_aspect(ct_db: StudyDatabase) -> None:
    uid = read_catalog(ct_db)[0].studies[0].series[0].series_uid
    stack = load_series(sorted_series_headers(ct_db, uid))
    assert stack is not None
    grey = display_grey(stack.values[1], stack)
    assert grey.dtype == np.uint8 and 0 < grey.mean() < 255
    assert (grey == 0).mean() > 0.2  # air outside the body is black with W 400 / L 40
    image = render_thumbnail(stack)
    assert (image.width(), image.height()) == (128, 128)


def test_settings_round_trip(tmp_path: Path) -> None:
    settings = Settings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    assert settings.language == "" and settings.copy_on_import is False
    settings.language = "fr"
    settings.copy_on_import = True
    settings.language = "xx"  # unknown: back to the system locale
    settings.sync()
    again = Settings(QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    assert again.language == "" and again.copy_on_import is True
