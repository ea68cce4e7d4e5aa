"""Load Tandem's translations: English source strings, French shipped as ``tandem_fr.qm``.

The language follows, in order: the ``TANDEM_LANG`` environment variable, the
user's setting, then the system locale. The ``.qm`` files are compiled from the
``.ts`` sources by ``python -m app.i18n.update`` (pyside6-lupdate + pyside6-lrelease)
and committed, so an installed Tandem never needs the Qt tools.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

I18N_DIR = Path(__file__).resolve().parent
SHIPPED = ("en", "fr")  # English is the source language: it needs no .qm


def choose_language(setting: str = "", system: QLocale | None = None) -> str:
    """The language code to use ("en" or "fr")."""
    for candidate in (os.environ.get("TANDEM_LANG", ""), setting):
        code = candidate.strip().lower()[:2]
        if code in SHIPPED:
            return code
    locale = system if system is not None else QLocale.system()
    code = locale.name()[:2].lower()
    return code if code in SHIPPED else "en"


def install_translators(app: QCoreApplication, language: str) -> list[QTranslator]:
    """Install Tandem's and Qt's own translators for ``language`` and set the default locale.

    Returns the installed translators; the caller keeps them alive (Qt does not own them).
    Dates and numbers follow ``QLocale()``, so the default locale is set to the
    chosen language unless the system locale already speaks it (keeping its country:
    fr_BE, fr_CH, fr_CA format dates their own way).
    """
    system = QLocale.system()
    if system.name()[:2].lower() == language:
        QLocale.setDefault(system)
    else:
        QLocale.setDefault(QLocale(language))
    installed: list[QTranslator] = []
    if language == "en":
        return installed
    ours = QTranslator(app)
    if ours.load(str(I18N_DIR / f"tandem_{language}.qm")):
        app.installTranslator(ours)
        installed.append(ours)
    qt_dir = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    qt = QTranslator(app)
    if qt.load(f"qtbase_{language}", qt_dir):  # standard buttons, context menus
        app.installTranslator(qt)
        installed.append(qt)
    return installed
