"""Start the Tandem window: ``tandem`` and ``tandem PATH`` land here (called by ``app.cli``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QApplication, QMessageBox

from app.i18n import choose_language, install_translators
from app.logs import setup_logging
from app.settings import APPLICATION, ORGANIZATION, Settings, apply_data_folder
from imaging.paths import data_dir


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


class CrashNotifier(QObject):
    """Shows "a report was saved" for an uncaught error from any thread, then goes on.

    The crash hook may run on a worker thread; the signal brings the message to the UI
    thread (queued), where the message box is shown.
    """

    crashed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.crashed.connect(self._show)

    def notify(self, report: Path) -> None:
        self.crashed.emit(str(report))

    @Slot(str)
    def _show(self, report: str) -> None:
        text = QCoreApplication.translate(
            "CrashNotifier", "Tandem hit an error; a report was saved to %1. You can go on "
            "working; please send the report to your support.").replace("%1", report)
        QMessageBox.warning(None, QCoreApplication.translate("CrashNotifier", "Tandem"), text)


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
    settings = Settings()
    apply_data_folder(settings)
    notifier = CrashNotifier(app)
    setup_logging(data_dir(), on_crash=notifier.notify)
    if not settings.first_run_done:
        from app.first_run import FirstRunDialog

        before = data_dir()
        FirstRunDialog(settings).exec()
        apply_data_folder(settings)
        if data_dir() != before:
            setup_logging(data_dir(), on_crash=notifier.notify)
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
