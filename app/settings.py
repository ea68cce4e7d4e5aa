"""User settings stored with QSettings (language, import, AI, reading, window state).

One small typed façade so that keys are spelled in one place and defaults are
explicit; everything else in ``app`` reads and writes settings through it.
"""

from __future__ import annotations

import os

from PySide6.QtCore import QByteArray, QSettings

from imaging.paths import DATA_DIR_ENV

ORGANIZATION = "Tandem"
APPLICATION = "Tandem"

# Language codes Tandem ships; "" means "follow the system locale".
LANGUAGES = ("", "en", "fr")


class Settings:
    """Typed access to Tandem's persistent settings."""

    def __init__(self, settings: QSettings | None = None) -> None:
        self._s = settings if settings is not None else QSettings(ORGANIZATION, APPLICATION)

    def _str(self, key: str, default: str = "") -> str:
        value = self._s.value(key, default)
        return str(value) if value is not None else default

    def _bool(self, key: str, default: bool) -> bool:
        value = self._s.value(key, default)
        if isinstance(value, str):  # QSettings INI back-end returns "true"/"false"
            return value.lower() in ("1", "true", "yes")
        return bool(value)

    @property
    def language(self) -> str:
        """"", "en" or "fr"; "" follows the system locale."""
        value = self._str("ui/language")
        return value if value in LANGUAGES else ""

    @language.setter
    def language(self, code: str) -> None:
        self._s.setValue("ui/language", code if code in LANGUAGES else "")

    @property
    def copy_on_import(self) -> bool:
        """Copy files into Tandem's store (a CD will be ejected) instead of indexing in place."""
        return self._bool("import/copy", False)

    @copy_on_import.setter
    def copy_on_import(self, value: bool) -> None:
        self._s.setValue("import/copy", bool(value))

    @property
    def last_folder(self) -> str:
        return self._str("import/last_folder")

    @last_folder.setter
    def last_folder(self, folder: str) -> None:
        self._s.setValue("import/last_folder", folder)

    @property
    def blinded_first_read(self) -> bool:
        """AI results stay hidden until the radiologist signs a first reading (default: yes).

        A practice policy, kept under ``practice/`` in the settings file so that a
        deployment can set it once for every workstation of the practice.
        """
        return self._bool("practice/blinded_first_read", True)

    @blinded_first_read.setter
    def blinded_first_read(self, value: bool) -> None:
        self._s.setValue("practice/blinded_first_read", bool(value))

    @property
    def listener_enabled(self) -> bool:
        """Receive studies pushed to Tandem (storage SCP) while it runs (default: no)."""
        return self._bool("pacs/listen", False)

    @listener_enabled.setter
    def listener_enabled(self, value: bool) -> None:
        self._s.setValue("pacs/listen", bool(value))

    @property
    def first_run_done(self) -> bool:
        """The first-run window was finished (data folder, PACS, GPU and model self-test)."""
        return self._bool("setup/first_run_done", False)

    @first_run_done.setter
    def first_run_done(self, value: bool) -> None:
        self._s.setValue("setup/first_run_done", bool(value))

    @property
    def data_folder(self) -> str:
        """The data folder chosen in the first-run window; "" keeps the default.

        ``$TANDEM_DATA_DIR`` still wins (tests, portable installs): the GUI applies this
        value only when the variable is not set.
        """
        return self._str("setup/data_folder")

    @data_folder.setter
    def data_folder(self, folder: str) -> None:
        self._s.setValue("setup/data_folder", folder)

    def ai_auto_run(self, model_id: str) -> bool:
        """Whether model ``model_id`` runs by itself when an image opens (default: yes)."""
        return self._bool(f"ai/auto_run/{model_id}", True)

    def set_ai_auto_run(self, model_id: str, enabled: bool) -> None:
        self._s.setValue(f"ai/auto_run/{model_id}", bool(enabled))

    def window_state(self) -> tuple[QByteArray | None, QByteArray | None]:
        """Saved (geometry, dock/toolbar state) of the main window, if any."""
        geometry = self._s.value("window/geometry")
        state = self._s.value("window/state")
        return (
            geometry if isinstance(geometry, QByteArray) else None,
            state if isinstance(state, QByteArray) else None,
        )

    def save_window_state(self, geometry: QByteArray, state: QByteArray) -> None:
        self._s.setValue("window/geometry", geometry)
        self._s.setValue("window/state", state)

    def sync(self) -> None:
        self._s.sync()


def apply_data_folder(settings: Settings) -> None:
    """Use the data folder chosen at the first start, unless $TANDEM_DATA_DIR says otherwise.

    The GUI and every CLI command call this first, so both work on the same folder.
    """
    if settings.data_folder and not os.environ.get(DATA_DIR_ENV, "").strip():
        os.environ[DATA_DIR_ENV] = settings.data_folder
