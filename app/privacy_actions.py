"""File menu actions that share a case without its patient: a de-identified screenshot of the
views, and a de-identified copy of the open study (PS3.15 Annex E basic profile).

The screenshot swaps every view's corner-text formatter for
:class:`app.annotations.DeidentifiedFormatter` for the time of one render and grab, so the
image shows modality, series, image number, window and zoom but no name, ID, birth date,
accession number or dates. The study copy runs :func:`imaging.deidentify.deidentify_files`
on a worker thread; files whose pixels may carry burned-in text are named in the summary,
because their pixels are NOT cleaned.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QImage
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from app.annotations import DeidentifiedFormatter
from app.viewport import ViewportArea
from app.workers import Task, TaskRunner
from imaging.db import StudyDatabase
from imaging.deidentify import DeidOptions, DeidSummary, deidentify_files

MAX_LISTED = 12  # files named in the summary box; the rest are counted


class PrivacyActions(QObject):
    """The two actions; ``active_study`` gives the study shown in the active view."""

    def __init__(self, parent: QWidget, viewports: ViewportArea, db: StudyDatabase,
                 runner: TaskRunner, active_study: Callable[[], str | None],
                 folder: Callable[[], str], show_message: Callable[[str], None]) -> None:
        super().__init__(parent)
        self._parent = parent
        self.viewports = viewports
        self.db = db
        self.runner = runner
        self.active_study = active_study
        self.folder = folder
        self.show_message = show_message
        self.screenshot_action = QAction(self.tr("Save a de-identified &screenshot…"), parent)
        self.screenshot_action.triggered.connect(self.choose_screenshot)
        self.export_action = QAction(self.tr("Export the study &de-identified…"), parent)
        self.export_action.triggered.connect(self.choose_export)
        self.last_summary: DeidSummary | None = None

    # -- screenshot ------------------------------------------------------------------------

    @contextmanager
    def deidentified_views(self) -> Iterator[None]:
        """Every view writes its corners without the patient's identity inside the block."""
        views = list(self.viewports.grid.views)
        before = [view.formatter for view in views]
        for view in views:
            view.set_formatter(DeidentifiedFormatter(self.viewports.formatter))
        self.viewports.redraw()
        try:
            yield
        finally:
            for view, formatter in zip(views, before, strict=True):
                view.set_formatter(formatter)
            self.viewports.redraw()

    def grab_deidentified(self) -> QImage:
        with self.deidentified_views():
            return self.viewports.grab_image()

    def save_screenshot(self, path: Path) -> bool:
        saved = self.grab_deidentified().save(str(path))  # PNG: the name ends in .png
        self.show_message(self.tr("De-identified screenshot saved to %1.").replace("%1", str(path))
                          if saved else
                          self.tr("The screenshot could not be written to %1.")
                          .replace("%1", str(path)))
        return saved

    def choose_screenshot(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self._parent, self.tr("Save a de-identified screenshot"),
            str(Path(self.folder() or Path.home()) / "tandem.png"), self.tr("PNG images (*.png)"))
        if path:
            self.save_screenshot(Path(path if path.lower().endswith(".png") else path + ".png"))

    # -- study copy ------------------------------------------------------------------------

    def study_files(self, study_uid: str) -> list[Path]:
        return [h.path for s in self.db.series(study_uid)
                for h in self.db.series_headers(s.series_instance_uid)]

    def export_study(self, study_uid: str, out_dir: Path,
                     options: DeidOptions | None = None) -> Task:
        """De-identify the study's files into ``out_dir`` (default: the basic profile)."""
        task = Task(deidentify_files, self.study_files(study_uid), out_dir,
                    options or DeidOptions(), with_progress=False)
        task.signals.succeeded.connect(self._on_exported)
        task.signals.failed.connect(lambda message: self.show_message(
            self.tr("De-identification failed: %1").replace("%1", message)))
        self.show_message(self.tr("De-identifying the study…"))
        self.runner.start(task)
        return task

    def choose_export(self) -> None:
        study_uid = self.active_study()
        if study_uid is None:
            self.show_message(self.tr("Open a study first."))
            return
        folder = QFileDialog.getExistingDirectory(
            self._parent, self.tr("Export the study de-identified to"), self.folder())
        if folder:
            self.export_study(study_uid, Path(folder))

    def _on_exported(self, summary: object) -> None:
        if not isinstance(summary, DeidSummary):
            return
        self.last_summary = summary
        lines = [self.tr("%1 file(s) written to %2 (basic confidentiality profile: names, IDs, "
                         "dates, institution and device removed or replaced; UIDs remapped).")
                 .replace("%1", str(len(summary.written))).replace("%2", str(summary.out_dir))]
        burned = [o.source.name for o in summary.outcomes
                  if any(w.kind == "burned_in_annotation" for w in o.warnings)]
        if burned:
            lines.append(self.tr("Check these images before sharing: their pixels may show the "
                                 "patient's name, and pixels are NOT cleaned: %1")
                         .replace("%1", _listed(burned)))
        if summary.failed:
            lines.append(self.tr("Not exported: %1").replace(
                "%1", _listed([f"{o.source.name} ({o.error.message})"
                               for o in summary.failed if o.error is not None])))
        box = QMessageBox(QMessageBox.Icon.Warning if burned or summary.failed
                          else QMessageBox.Icon.Information,
                          self.tr("De-identified copy"), "\n\n".join(lines),
                          QMessageBox.StandardButton.Ok, self._parent)
        box.setObjectName("deidSummary")
        box.open()
        self.show_message(lines[0])


def _listed(names: list[str]) -> str:
    shown = ", ".join(names[:MAX_LISTED])
    return shown + (f" (+{len(names) - MAX_LISTED})" if len(names) > MAX_LISTED else "")
