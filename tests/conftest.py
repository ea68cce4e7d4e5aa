"""Shared test fixtures: where the shared corpus lives, and a private Tandem data folder."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "datasets"
DICOM_CORPUS = SHARED / "dicom"


@pytest.fixture(autouse=True)
def _private_data_dir(tmp_path_factory: pytest.TempPathFactory,
                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Never let a test touch the real user's database or settings."""
    monkeypatch.setenv("TANDEM_DATA_DIR", str(tmp_path_factory.mktemp("tandem-data")))


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not DICOM_CORPUS.is_dir():
        pytest.fail(f"shared DICOM corpus missing at {DICOM_CORPUS} "
                    "(CI has ../shared beside the repo)")
    return DICOM_CORPUS
