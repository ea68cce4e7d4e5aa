"""Start the Tandem window: ``tandem`` and ``tandem PATH`` land here (called by ``app.cli``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QApplication

from app.i18n import choose_language, install_translators
from app.settings import APPLICATION, ORGANIZATION, Settings


def create_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication (reused when one exists, as in tests), translated."""
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        app = existing
    else:
        # VTK's Qt widget needs a native window per view; share GL contexts between them.
        QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
        app = QApplication(argv if argv is not None else sys.argv[:1])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("Tandem")
    if not getattr(app, "_tandem_translators", None):
        language = choose_language(Settings().language)
        app._tandem_translators = install_translators(app, language)  # type: ignore[attr-defined]
    return app


def run_gui(paths: list[Path]) -> int:
    """Open the main window; import and show ``paths`` (folders, files, DICOMDIR) if given."""
    from app.main_window import MainWindow  # after QApplication: widgets need it
    from imaging.db import StudyDatabase
    from imaging.isolation import default_pool

    if sys.platform.startswith("linux") and not os.environ.get("DISPLAY") \
            and not os.environ.get("WAYLAND_DISPLAY") and not os.environ.get("QT_QPA_PLATFORM"):
        print("tandem: no display available (DISPLAY is not set)",
              file=sys.stderr)
        return 2
    app = create_application()
    # Decoder workers import their codecs while the window opens, so the first
    # compressed image does not wait for them (~0.5 s on a 2-core PC).
    default_pool().start()
    db = StudyDatabase()
    window = MainWindow(db)
    window.show()
    if paths:
        window.open_paths([Path(p) for p in paths])
    try:
        return int(app.exec())
    finally:
        db.close()
