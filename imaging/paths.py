"""Where Tandem keeps its own data: the study database and the copies of imported files.

The default is the platform's per-user data folder (``platformdirs``); the
environment variable ``TANDEM_DATA_DIR`` overrides it (tests, CI, portable
installs). Nothing here creates folders: callers that write create what they need.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

DATA_DIR_ENV = "TANDEM_DATA_DIR"
DATABASE_NAME = "studies.sqlite"
STORAGE_NAME = "storage"


def data_dir() -> Path:
    """Tandem's data folder: ``$TANDEM_DATA_DIR`` if set, else the user data dir."""
    override = os.environ.get(DATA_DIR_ENV, "").strip()
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir("Tandem", appauthor=False))


def database_path() -> Path:
    """The study database file."""
    return data_dir() / DATABASE_NAME


def storage_dir() -> Path:
    """Folder holding the files Tandem copied in (``<StudyUID>/<SeriesUID>/<SOPUID>.dcm``)."""
    return data_dir() / STORAGE_NAME
