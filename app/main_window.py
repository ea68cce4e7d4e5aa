"""Tandem's main window: study browser, viewports, reading/AI panels, status bar, menus.

Everything slow (import, decoding, thumbnails) runs on the thread pool through
:mod:`app.workers`, the AI models on :class:`app.ai_runner.AiRunner`'s own thread;
this class only wires results into widgets. Nothing here is modal during reading:
import problems go to the non-modal errors panel, model cards open in a side window.
"""

from __future__ import annotations

import sqlite3
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import cast

from PySide6.QtCore import QCoreApplication, QLocale, QObject, Qt, QTimer
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QTextBrowser,
    QToolBar,
    QToolButton,
    QWidget,
)

from app import shortcuts
from app.ai_overlays import OverlayStyle, overlays_for
from app.ai_panel import AiPanel
from app.ai_reasons import result_reason
from app.ai_runner import AiRunner, ImageRef
from app.annotations import preset_label
from app.audit_window import AuditWindow
from app.browser import StudyBrowser
from app.catalog import middle_header, read_catalog, series_warnings, sorted_series_headers
from app.concordance_panel import ConcordancePanel
from app.errors_panel import ErrorsPanel
from app.listener_service import ListenerService
from app.pacs_nodes_dialog import NodesDialog, SendDialog, send_files_to_node
from app.pacs_query_panel import QUERY_SHORTCUT, PacsQueryPanel
from app.privacy_actions import PrivacyActions
from app.reading_panel import SIGN_KEY, ReadingPanel, label_text
from app.reading_session import ReadingController, export_reading
from app.series_loading import load_first_images, load_series, reformat
from app.settings import Settings
from app.thumbnails import ThumbnailService
from app.viewport import LAYOUTS, ViewportArea
from app.workers import Task, TaskRunner
from imaging import paths
from imaging.db import StudyDatabase
from imaging.importer import import_paths
from imaging.loader import load_image
from imaging.pipeline import VoiWindow
from imaging.stack import ImageStack
from inference.results import AnalysisResult
from pacs.dimse import StoreOutcome
from pacs.errors import NodeConfigError
from pacs.nodes import NodeStore
from reading.concordance import Concordance, finding_key
from reading.model import MarkShape, Point, ReadingError
from viewer.overlays import Box, Heatmap
from viewer.reader_marks import ROLE_COLOURS, MarkGlyph, MarkRole
from viewer.slice_view import SliceView

_REFRESH_MS = 400  # browser refresh period while an import runs
_MAX_HUNG_CANDIDATES = 16
_AI_KEY = "A"  # toggles every AI overlay (the bare image is always one key away)
_AI_RESULTS_KEPT = 64  # images whose AI results stay in memory for the overlays
# Left-button tools: (mode, key). Drawing keys are free letters of the viewer's table
# (app.shortcuts); Esc goes back to window/level.
_DRAW_TOOLS = (("draw_point", "P"), ("draw_box", "B"), ("draw_ellipse", "E"),
               ("draw_polygon", "G"), ("select", "S"))
# U: "unremarkable" (N / Shift+N walk through the concordance panel's findings)
NORMAL_KEY, ABNORMAL_KEY = "U", "Shift+U"
_ZOOM_BOX_SHARE = 0.4  # navigating to an AI finding: its box fills this share of the view


@dataclass
class _ViewportState:
    series_uid: str | None = None
    task: Task | None = None
    image_count: int = 0


@dataclass(frozen=True)
class _MprSource:
    """The view an MPR was asked from: its series, window and image, reopened as they were."""

    stack: ImageStack
    series_uid: str | None
    window: VoiWindow | None
    window_name: str
    index: int


@dataclass
class _ImportJob:
    paths: list[Path]
    copy: bool
    open_first: bool
    task: Task | None = None
    errors: list[object] = field(default_factory=list)


class MainWindow(QMainWindow):
    """The reading screen."""

    def __init__(self, db: StudyDatabase, settings: Settings | None = None,
                 parent: QWidget | None = None, ai_runner: AiRunner | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.setWindowTitle(self.tr("Tandem"))
        self.db = db
        self.settings = settings if settings is not None else Settings()
        self.runner = TaskRunner(parent=self)
        self.ai_runner = ai_runner if ai_runner is not None else AiRunner(parent=self)
        self._viewports: dict[int, _ViewportState] = {}
        self._imports: list[_ImportJob] = []
        self._auto_open = False
        self._closing = False
        self._mpr_source: _MprSource | None = None
        # AI: results per image (SOP instance UID, frame) and model; the image the panel shows.
        self._ai_results: OrderedDict[tuple[str, int], dict[str, AnalysisResult]] = OrderedDict()
        self._ai_image: tuple[str, int] | None = None
        self._ai_waiting: list[ImageRef] = []  # opened before the model list was read
        self._ai_visible = True
        self._card_viewers: dict[str, QTextBrowser] = {}
        # The radiologist's reading of the active study (blinded first read, marks, sign-off).
        self.reading = ReadingController(db, blinded=self.settings.blinded_first_read,
                                         parent=self)
        self._selected_mark: str | None = None
        self._sop_study: dict[str, str] = {}  # SOP UID -> study UID of the images opened
        self._ai_study: str | None = None  # the study the AI runner is working on
        self._pending_navigation: tuple[str, int, object] | None = None
        self._study_kinds: dict[str, str] = {}
        self._export_target: tuple[str, str, Path] = ("", "", Path())
        self._audit_window: AuditWindow | None = None

        self.viewports = ViewportArea(self)
        self.viewports.series_dropped.connect(self._on_series_dropped)
        self.viewports.status_message.connect(self._show_message)
        self.viewports.series_step.connect(self._step_series)
        self.setCentralWidget(self.viewports)

        self.browser = StudyBrowser(self)
        self.browser.series_activated.connect(self.open_series)
        self.browser_dock = self._dock(self.tr("Studies"), "studiesDock", self.browser,
                                       Qt.DockWidgetArea.LeftDockWidgetArea)
        self.thumbnail_service = ThumbnailService(
            self.runner, paths.data_dir() / "thumbnails",
            lambda uid: middle_header(self.db, uid), load_image, self)
        self.thumbnail_service.ready.connect(self.browser.set_thumbnail)
        self.browser.thumbnails_wanted.connect(self.thumbnail_service.request)

        self.reading_panel = ReadingPanel(self.reading, self)
        self.reading_panel.mark_activated.connect(self.show_mark)
        self.ai_panel = AiPanel(self)
        self.ai_panel.overlay_style_changed.connect(self._on_overlay_style)
        self.ai_panel.run_requested.connect(self.run_ai)
        self.ai_panel.cancel_requested.connect(self.cancel_ai)
        self.ai_panel.card_requested.connect(self.show_model_card)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.reading_panel)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.ai_panel)
        self.concordance_panel = ConcordancePanel(self)
        self.concordance_panel.navigate_requested.connect(self.navigate_to)
        self.concordance_panel.decided.connect(self.reading.decide)
        self.concordance_dock = self._dock(self.tr("Concordance"), "concordanceDock",
                                           self.concordance_panel,
                                           Qt.DockWidgetArea.RightDockWidgetArea)
        self.tabifyDockWidget(self.ai_panel, self.concordance_dock)
        self.ai_panel.raise_()
        self.reading.reading_changed.connect(self._on_reading_changed)
        self.reading.concordance_changed.connect(self._on_concordance_changed)
        self.reading.ai_visibility_changed.connect(self._on_ai_gate)
        self.reading.revealed.connect(self._on_revealed)
        callbacks = self.viewports.interaction.callbacks
        callbacks.mark_drawn = self._on_mark_drawn
        callbacks.mark_moved = self._on_mark_moved
        callbacks.mark_selected = self._on_mark_selected
        callbacks.delete_selected = self._on_delete_selected
        callbacks.key = self._on_viewer_key
        self.errors_panel = ErrorsPanel(self)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.errors_panel)
        self.errors_panel.hide()

        self._build_status_bar()
        self._build_actions()
        self._build_pacs()
        self._build_menus()
        self._build_toolbar()

        self._refresh_timer = QTimer(self)
        self._refresh_timer.setInterval(_REFRESH_MS)
        self._refresh_timer.timeout.connect(self.refresh_browser)

        geometry, state = self.settings.window_state()
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1400, 860)
        self._fresh_layout = state is None
        if state is not None:
            self.restoreState(state)
        self.ai_runner.models_ready.connect(self._on_ai_models)
        self.ai_runner.running.connect(self._on_ai_running)
        self.ai_runner.result.connect(self._on_ai_result)
        self.ai_runner.failed.connect(self._on_ai_failed)
        self.ai_runner.finished.connect(self._on_ai_finished)
        self.ai_runner.load_models()
        self.refresh_browser()
        if self.settings.listener_enabled:
            self.set_listening(True)

    # -- construction ------------------------------------------------------------------------

    def _dock(self, title: str, name: str, widget: QWidget,
              area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.progress_label = QLabel(self)
        self.progress = QProgressBar(self)
        self.progress.setMaximumWidth(220)
        self.progress.setTextVisible(True)
        self.cancel_button = QToolButton(self)
        self.cancel_button.setText(self.tr("Cancel"))
        self.cancel_button.setToolTip(self.tr("Stop the import (files already read stay)"))
        self.cancel_button.clicked.connect(self.cancel_import)
        for widget in (self.progress_label, self.progress, self.cancel_button):
            bar.addPermanentWidget(widget)
            widget.hide()
        self.ai_progress_label = QLabel(self)
        self.ai_progress = QProgressBar(self)
        self.ai_progress.setMaximumWidth(120)
        self.ai_progress.setRange(0, 0)  # a model gives no progress: indeterminate
        self.ai_cancel_button = QToolButton(self)
        self.ai_cancel_button.setText(self.tr("Cancel"))
        self.ai_cancel_button.setToolTip(self.tr("Stop the AI analysis of this image"))
        self.ai_cancel_button.clicked.connect(self.cancel_ai)
        for widget in (self.ai_progress_label, self.ai_progress, self.ai_cancel_button):
            bar.addPermanentWidget(widget)
            widget.hide()
        # Whenever AI output is on screen: research use, and where the models ran.
        self.ai_notice_label = QLabel(self)
        self.ai_notice_label.setObjectName("aiNotice")
        self.ai_notice_label.setStyleSheet("QLabel { color: #e0a030; font-weight: bold; }")
        bar.addPermanentWidget(self.ai_notice_label)
        self.ai_notice_label.hide()

    def _action(self, text: str, slot: object, keys: Sequence[QKeySequence | str] = (),
                checkable: bool = False) -> QAction:
        action = QAction(text, self)
        if keys:
            action.setShortcuts([QKeySequence(k) for k in keys])
        action.setCheckable(checkable)
        action.triggered.connect(slot)
        return action

    def _build_actions(self) -> None:
        self.open_folder_action = self._action(self.tr("Open &folder…"), self.choose_folder,
                                               [QKeySequence(QKeySequence.StandardKey.Open)])
        self.open_files_action = self._action(self.tr("Open f&iles…"), self.choose_files)
        self.import_cd_action = self._action(self.tr("Import &DICOMDIR/CD…"), self.choose_dicomdir)
        self.quit_action = self._action(self.tr("&Quit"), self.close,
                                        [QKeySequence(QKeySequence.StandardKey.Quit)])
        self.about_action = self._action(self.tr("&About Tandem"), self.show_about)

        self.layout_actions: dict[str, QAction] = {}
        group = QActionGroup(self)
        labels = {"1x1": self.tr("1 × 1"), "1x2": self.tr("1 × 2"), "2x2": self.tr("2 × 2"),
                  "mammo4": self.tr("Mammography 4-view")}
        for name in LAYOUTS:
            action = self._action(labels.get(name, name), lambda _=False, n=name:
                                  self.set_layout(n), checkable=True)
            action.setData(name)
            group.addAction(action)
            self.layout_actions[name] = action
        self.layout_actions[LAYOUTS[0]].setChecked(True)

        # Viewer commands: active only while the viewport area has the focus.
        self.viewer_actions: dict[str, QAction] = {}
        texts = {
            "previous_image": self.tr("Previous image"), "next_image": self.tr("Next image"),
            "first_image": self.tr("First image"), "last_image": self.tr("Last image"),
            "previous_series": self.tr("Previous series"), "next_series": self.tr("Next series"),
            "invert": self.tr("Invert"), "reset": self.tr("Reset view"),
            "fit": self.tr("Fit to window"), "one_to_one": self.tr("Actual pixels (1:1)"),
            "maximise": self.tr("Maximise viewport"),
            "dicom_overlays": self.tr("DICOM overlays"),
        }
        for spec in shortcuts.VIEWER_SHORTCUTS:
            action = self._action(texts[spec.command],
                                  lambda _=False, c=spec.command: self.viewer_command(c),
                                  spec.keys)
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.viewports.addAction(action)
            self.viewer_actions[spec.command] = action
        # Checked: the active viewport shows its images' overlay planes (60xx).
        self.viewer_actions["dicom_overlays"].setCheckable(True)
        self.viewer_actions["dicom_overlays"].setChecked(True)
        self.viewports.active_changed.connect(self._sync_dicom_overlays_action)
        self.viewports.active_changed.connect(
            lambda _index: self._open_reading(self._active_study_uid()))
        self.run_ai_action = self._action(self.tr("&Run AI on this image"), self.run_ai)
        self.cancel_ai_action = self._action(self.tr("&Cancel AI analysis"), self.cancel_ai)
        self.cancel_ai_action.setEnabled(False)
        self.ai_overlays_action = self._action(self.tr("&Show AI overlays"),
                                               self.set_ai_overlays_visible, [_AI_KEY],
                                               checkable=True)
        self.ai_overlays_action.setChecked(True)
        self.ai_overlays_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.viewports.addAction(self.ai_overlays_action)
        self.mpr_action = self._action(self.tr("&MPR (coronal, sagittal, axial)"), self.show_mpr,
                                       ["Ctrl+M"])
        self.tool_actions: dict[str, QAction] = {}
        tools = QActionGroup(self)
        for mode, text in (("window", self.tr("Window/level")),
                           ("distance", self.tr("Measure distance")),
                           ("angle", self.tr("Measure angle")),
                           ("pan", self.tr("Pan")), ("zoom", self.tr("Zoom")),
                           ("crosshair", self.tr("Crosshair (MPR navigation, Shift+click)"))):
            action = self._action(text, lambda _=False, m=mode:
                                  self.viewports.interaction.set_left_mode(m), checkable=True)
            tools.addAction(action)
            self.tool_actions[mode] = action
        draw_texts = {"draw_point": self.tr("Mark a point"), "draw_box": self.tr("Draw a box"),
                      "draw_ellipse": self.tr("Draw an ellipse"),
                      "draw_polygon": self.tr("Draw a polygon (double-click or Enter closes)"),
                      "select": self.tr("Select and move marks (Delete removes)")}
        for mode, key in _DRAW_TOOLS:
            action = self._action(draw_texts[mode], lambda _=False, m=mode: self.set_tool(m),
                                  [key], checkable=True)
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.setToolTip(f"{draw_texts[mode]} ({key}; Esc: "
                              + self.tr("back to window/level") + ")")
            self.viewports.addAction(action)
            tools.addAction(action)
            self.tool_actions[mode] = action
        self.tool_actions["window"].setChecked(True)
        self.undo_action = self.reading.undo_stack.createUndoAction(self, self.tr("&Undo"))
        self.undo_action.setShortcuts(QKeySequence.StandardKey.Undo)
        self.redo_action = self.reading.undo_stack.createRedoAction(self, self.tr("&Redo"))
        self.redo_action.setShortcuts(QKeySequence.StandardKey.Redo)
        self.normal_action = self._action(self.tr("&Normal"),
                                          lambda: self.reading_panel.set_cxr("normal"),
                                          [NORMAL_KEY])
        self.abnormal_action = self._action(self.tr("&Abnormal"),
                                            lambda: self.reading_panel.set_cxr("abnormal"),
                                            [ABNORMAL_KEY])
        for action in (self.normal_action, self.abnormal_action):
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.viewports.addAction(action)
            self.reading_panel.addAction(action)
        self.sign_action = self._action(self.tr("&Sign reading"), self.reading.sign,
                                        [SIGN_KEY])
        self.amend_action = self._action(self.tr("A&mend reading"), self.reading.amend)
        self.export_action = self._action(self.tr("&Export reading…"), self.choose_export)
        self.audit_action = self._action(self.tr("&Audit…"), self.show_audit)
        self.setup_action = self._action(self.tr("&Setup…"), self.show_setup)
        self.privacy = PrivacyActions(self, self.viewports, self.db, self.runner,
                                      self._active_study_uid,
                                      lambda: self.settings.last_folder, self._show_message)
        self.blinded_action = self._action(self.tr("&Blinded first read (AI after sign-off)"),
                                           self.set_blinded_first_read, checkable=True)
        self.blinded_action.setChecked(self.settings.blinded_first_read)
        self.preset_actions: list[QAction] = []
        for n, key in enumerate(shortcuts.PRESET_KEYS):
            action = self._action("", lambda _=False, i=n: self.viewports.apply_preset(i), [key])
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.viewports.addAction(action)
            self.preset_actions.append(action)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu(self.tr("&File"))
        file_menu.addAction(self.open_folder_action)
        file_menu.addAction(self.open_files_action)
        file_menu.addAction(self.import_cd_action)
        file_menu.addSeparator()
        file_menu.addAction(self.export_action)
        file_menu.addAction(self.privacy.export_action)
        file_menu.addAction(self.privacy.screenshot_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)

        view_menu = self.menuBar().addMenu(self.tr("&View"))
        layout_menu = view_menu.addMenu(self.tr("&Layout"))
        for action in self.layout_actions.values():
            layout_menu.addAction(action)
        self.presets_menu = view_menu.addMenu(self.tr("Window &presets"))
        self.presets_menu.aboutToShow.connect(self._fill_presets_menu)
        for command in ("invert", "reset", "fit", "one_to_one", "maximise", "dicom_overlays"):
            view_menu.addAction(self.viewer_actions[command])
        view_menu.addAction(self.mpr_action)
        navigate = view_menu.addMenu(self.tr("&Navigate"))
        for command in ("previous_image", "next_image", "first_image", "last_image",
                        "previous_series", "next_series"):
            navigate.addAction(self.viewer_actions[command])
        view_menu.addSeparator()
        panels = view_menu.addMenu(self.tr("&Panels"))
        for dock in (self.browser_dock, self.reading_panel, self.ai_panel,
                     self.concordance_dock, self.errors_panel, self.pacs_dock):
            panels.addAction(dock.toggleViewAction())

        language_menu = view_menu.addMenu(self.tr("&Language"))
        languages = QActionGroup(self)
        for code, label in (("", self.tr("System language")), ("en", "English"),
                            ("fr", "Français")):
            action = self._action(label, lambda _=False, c=code: self.set_language(c),
                                  checkable=True)
            action.setChecked(self.settings.language == code)
            languages.addAction(action)
            language_menu.addAction(action)

        tools_menu = self.menuBar().addMenu(self.tr("&Tools"))
        for mode, action in self.tool_actions.items():
            if mode == "draw_point":
                tools_menu.addSeparator()
            tools_menu.addAction(action)
        tools_menu.addSeparator()
        tools_menu.addAction(self.setup_action)

        reading_menu = self.menuBar().addMenu(self.tr("&Reading"))
        for action in (self.undo_action, self.redo_action):
            reading_menu.addAction(action)
        reading_menu.addSeparator()
        for action in (self.normal_action, self.abnormal_action, self.sign_action,
                       self.amend_action):
            reading_menu.addAction(action)
        reading_menu.addSeparator()
        reading_menu.addAction(self.blinded_action)
        reading_menu.addAction(self.audit_action)

        ai_menu = self.menuBar().addMenu(self.tr("&AI"))
        ai_menu.addAction(self.run_ai_action)
        ai_menu.addAction(self.cancel_ai_action)
        ai_menu.addAction(self.ai_overlays_action)
        ai_menu.addSeparator()
        self.ai_auto_menu = ai_menu.addMenu(self.tr("Run &automatically"))
        self.ai_cards_menu = ai_menu.addMenu(self.tr("Model &cards"))
        self._fill_ai_menus()

        pacs_menu = self.menuBar().addMenu(self.tr("&PACS"))
        for action in (self.pacs_query_action, self.pacs_listen_action,
                       self.pacs_send_action, self.pacs_nodes_action):
            pacs_menu.addAction(action)
        pacs_menu.aboutToShow.connect(self._update_listen_action)

        help_menu = self.menuBar().addMenu(self.tr("&Help"))
        help_menu.addAction(self.about_action)

    def _build_toolbar(self) -> None:
        bar = QToolBar(self.tr("Viewer"), self)
        bar.setObjectName("viewerToolbar")
        bar.setMovable(False)
        for action in self.layout_actions.values():
            bar.addAction(action)
        bar.addSeparator()
        for command in ("invert", "reset", "fit"):
            bar.addAction(self.viewer_actions[command])
        bar.addAction(self.mpr_action)
        bar.addSeparator()
        for action in self.tool_actions.values():
            bar.addAction(action)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)

    def _fill_presets_menu(self) -> None:
        self.presets_menu.clear()
        for n, window in enumerate(self.viewports.presets()):
            if n >= len(self.preset_actions):
                break
            action = self.preset_actions[n]
            action.setText(preset_label(str(getattr(window, "name", ""))))
            self.presets_menu.addAction(action)

    # -- import ------------------------------------------------------------------------------

    def open_paths(self, items: Sequence[Path], *, copy: bool | None = None,
                   open_first: bool = True) -> None:
        """Import ``items`` (folders, files, DICOMDIR) in the background; open the first series."""
        job = _ImportJob([Path(p) for p in items], self.settings.copy_on_import
                         if copy is None else copy, open_first)
        self._imports.append(job)
        if len(self._imports) == 1:
            self._start_import(job)

    def _start_import(self, job: _ImportJob) -> None:
        self._auto_open = job.open_first and not any(
            s.series_uid for s in self._viewports.values())
        task = Task(import_paths, self.db, job.paths, copy=job.copy)
        job.task = task
        task.signals.progress.connect(self._on_import_progress)
        task.signals.succeeded.connect(self._on_import_done)
        task.signals.failed.connect(self._on_import_failed)
        self.progress_label.setText(self.tr("Importing…"))
        self.progress.setRange(0, 0)
        for widget in (self.progress_label, self.progress, self.cancel_button):
            widget.show()
        self.cancel_button.setEnabled(True)
        self._refresh_timer.start()
        self.runner.start(task)

    @property
    def import_running(self) -> bool:
        return bool(self._imports)

    def cancel_import(self) -> None:
        for job in self._imports:
            if job.task is not None:
                job.task.cancel.set()
        del self._imports[1:]
        self.cancel_button.setEnabled(False)
        self.progress_label.setText(self.tr("Cancelling…"))

    def _on_import_progress(self, done: int, total: int, label: str) -> None:
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(min(done, total))
        self.progress.setFormat(self.tr("%1 / %2").replace("%1", str(done))
                                .replace("%2", str(total)))
        if label:
            self.progress_label.setText(self.tr("Importing %1").replace("%1", Path(label).name))

    def _on_import_done(self, report: object) -> None:
        errors = list(getattr(report, "errors", []) or [])
        imported = sorted(getattr(report, "series", ()) or ())
        if imported:
            task = Task(series_warnings, self.db, imported)
            task.signals.succeeded.connect(self._on_series_warnings)
            self.runner.start(task)
        self._finish_import(errors, cancelled=bool(getattr(report, "cancelled", False)))

    def _on_series_warnings(self, warnings: object) -> None:
        if isinstance(warnings, dict):
            self.browser.set_series_warnings(warnings)

    def _on_import_failed(self, message: str) -> None:
        self._finish_import([], failure=message)

    def _finish_import(self, errors: list[object], *, cancelled: bool = False,
                       failure: str = "") -> None:
        self._imports.pop(0)
        self.refresh_browser()
        if errors:
            self.errors_panel.add_errors(errors)
            self.errors_panel.show()
        if failure:
            self._show_message(self.tr("Import failed: %1").replace("%1", failure))
        elif cancelled:
            self._show_message(self.tr("Import cancelled; the files read so far are available."))
        elif errors:
            self._show_message(self.tr("Import finished; %n file(s) could not be read.", "",
                                       len(errors)))
        else:
            self._show_message(self.tr("Import finished."))
        self._reload_grown_series()
        if self._auto_open:
            self._auto_open = False
            self._open_first_series()
        if self._imports:
            self._start_import(self._imports[0])
            return
        self._refresh_timer.stop()
        for widget in (self.progress_label, self.progress, self.cancel_button):
            widget.hide()

    def refresh_browser(self) -> None:
        """Re-read the database into the browser (cheap; runs on a timer during imports)."""
        self.browser.set_catalog(read_catalog(self.db))
        self._refresh_reading_statuses()
        if self._auto_open and self.browser.first_series_uid() is not None:
            self._auto_open = False
            self._open_first_series()

    def _open_first_series(self) -> None:
        uid = self.browser.first_series_uid()
        if uid is not None:
            self.browser.select_series(uid)
            self.open_series(uid)

    def _reload_grown_series(self) -> None:
        """A series opened while its files were still being imported is reopened complete."""
        for index, state in self._viewports.items():
            row = self.browser.series_row(state.series_uid) if state.series_uid else None
            if row is not None and row.image_count != state.image_count:
                self.open_series(row.series_uid, index)

    # -- series ------------------------------------------------------------------------------

    def open_series(self, series_uid: str, viewport: int | None = None) -> None:
        """Load ``series_uid`` into ``viewport`` (the active one by default) in the background."""
        index = self.viewports.active_index if viewport is None else viewport
        state = self._viewports.setdefault(index, _ViewportState())
        if state.task is not None:
            state.task.cancel.set()
        headers = sorted_series_headers(self.db, series_uid)
        row = self.browser.series_row(series_uid)
        state.series_uid = series_uid
        state.image_count = row.image_count if row is not None else len(headers)
        if not headers:
            self._show_message(self.tr("This series has no images."))
            return
        task = Task(load_series, headers, with_partial=True)
        state.task = task
        self.viewports.set_loading(index)
        receiver = _SeriesReceiver(self, index, task)
        task.signals.partial.connect(receiver.on_partial)
        task.signals.succeeded.connect(receiver.on_stack)
        task.signals.failed.connect(receiver.on_failed)
        task.signals.progress.connect(receiver.on_progress)
        self.runner.start(task)

    def _series_partial(self, index: int, task: Task, stack: object) -> None:
        if self._current_task(index) is task and isinstance(stack, ImageStack):
            self.viewports.show_stack(index, stack)

    def _series_loaded(self, index: int, task: Task, stack: object) -> None:
        if self._current_task(index) is not task:
            return
        self._viewports[index].task = None
        self.statusBar().clearMessage()
        if isinstance(stack, ImageStack):
            self.viewports.show_stack(index, stack)
            if stack.warnings:
                self._show_message("; ".join(str(w) for w in stack.warnings))
            if index == self.viewports.active_index:
                self._open_reading(self._active_study_uid())
            self._apply_ai_overlays()
            view = self.viewports.views[index]
            self.request_ai([ImageRef(stack, self._ai_index(stack, view.index))], auto=True)
            pending, self._pending_navigation = self._pending_navigation, None
            if pending is not None and any(
                    i.sop_instance_uid == pending[0] for i in stack.slices):
                self.navigate_to(*pending)

    def _series_failed(self, index: int, task: Task, message: str) -> None:
        if self._current_task(index) is not task:
            return
        self._viewports[index].task = None
        self.viewports.show_error(index, message)
        self._show_message(self.tr("Cannot display this series: %1").replace("%1", message))

    def _current_task(self, index: int) -> Task | None:
        state = self._viewports.get(index)
        return state.task if state is not None else None

    def _on_series_dropped(self, index: int, series_uid: str) -> None:
        self.open_series(series_uid, index)

    def _step_series(self, step: int) -> None:
        index = self.viewports.active_index
        state = self._viewports.get(index)
        if state is None or state.series_uid is None:
            return
        row = self.browser.series_row(state.series_uid)
        study = self.browser.study_row(row.study_uid) if row is not None else None
        if study is None:
            return
        uids = [s.series_uid for s in study.series]
        if state.series_uid not in uids:
            return
        target = uids.index(state.series_uid) + step
        if 0 <= target < len(uids):
            self.browser.select_series(uids[target])
            self.open_series(uids[target], index)

    def viewer_command(self, command: str) -> None:
        if command == "next_series":
            self._step_series(1)
        elif command == "previous_series":
            self._step_series(-1)
        else:
            self.viewports.command(command)
        if command == "dicom_overlays":
            self._sync_dicom_overlays_action()

    def _sync_dicom_overlays_action(self) -> None:
        view = self.viewports.active_view
        self.viewer_actions["dicom_overlays"].setChecked(
            view is None or view.dicom_overlays_visible)

    def set_layout(self, name: str) -> None:
        for state in self._viewports.values():
            if state.task is not None:
                state.task.cancel.set()
        study_uid = self._active_study_uid()
        self.viewports.set_layout(name)
        self.layout_actions[name].setChecked(True)
        # The grid keeps the first views' images; forget what the removed ones showed.
        self._viewports = {i: s for i, s in self._viewports.items()
                           if i < len(self.viewports.views) and s.task is None}
        if name == "mammo4" and study_uid is not None:
            self.hang_mammography(study_uid)
        self.viewports.grid.set_ai_overlays_visible(self._ai_visible)  # new views too
        self._apply_ai_overlays()

    def _active_study_uid(self) -> str | None:
        state = self._viewports.get(self.viewports.active_index)
        row = self.browser.series_row(state.series_uid) if state and state.series_uid else None
        return row.study_uid if row is not None else self.browser.current_study_uid()

    def hang_mammography(self, study_uid: str) -> None:
        """Load the study's breast views (one image each) and hang RCC | LCC over RMLO | LMLO."""
        study = self.browser.study_row(study_uid)
        if study is None:
            return
        headers = [h for s in study.series for h in self.db.series_headers(s.series_uid)
                   if h.is_image and h.laterality and h.view_position]
        if not headers:
            self._show_message(self.tr("This study has no mammography views to hang."))
            return
        self._open_reading(study_uid)
        task = Task(load_first_images, headers[:_MAX_HUNG_CANDIDATES])
        task.signals.succeeded.connect(self._on_mammo_loaded)
        self.runner.start(task)

    def _on_mammo_loaded(self, stacks: object) -> None:
        if not self.viewports.mammography or not isinstance(stacks, list):
            return
        self._viewports.clear()
        hung = self.viewports.show_mammo4(stacks)
        self._show_message(self.tr("%n view(s) hung.", "", hung))
        self._apply_ai_overlays()
        shown = [v.stack for v in self.viewports.views if v.stack is not None]
        self.request_ai([ImageRef(s, 0) for s in shown], auto=True)

    def show_mpr(self) -> None:
        """Coronal, sagittal and axial reformats of the active volume beside the acquisition."""
        view = self.viewports.active_view
        stack = view.stack if view is not None else None
        if stack is None or not stack.is_volume or stack.is_colour:
            self._show_message(self.tr("MPR needs a CT or MR volume (at least 3 slices)."))
            return
        assert view is not None
        index = self.viewports.active_index
        uid = self._viewports.get(index, _ViewportState()).series_uid
        self._mpr_source = _MprSource(stack, uid, view.window, view.window_name, view.index)
        task = Task(reformat, stack)
        task.signals.succeeded.connect(self._on_mpr_ready)
        task.signals.failed.connect(self._on_mpr_failed)
        self._show_message(self.tr("Computing reformats…"))
        self.runner.start(task)

    def _on_mpr_ready(self, results: object) -> None:
        if not isinstance(results, list) or self._mpr_source is None:
            return
        source, self._mpr_source = self._mpr_source, None
        stack = source.stack
        self.set_layout("2x2")
        self.viewports.show_stack(0, stack)
        self.viewports.views[0].set_index(source.index)
        self._viewports = {0: _ViewportState(source.series_uid, None, stack.count)}
        warnings: list[str] = []
        for index, result in enumerate(results, 1):
            self.viewports.show_stack(index, result.stack, middle=True)
            warnings.extend(str(w) for w in result.warnings)
        # One window for the acquisition and its reformats (the one the radiologist was
        # reading with), kept in step; Shift+click or the crosshair tool navigates all four.
        self.viewports.link_views(range(len(results) + 1), source.window, source.window_name)
        self._show_message("; ".join(dict.fromkeys(warnings)))
        self._apply_ai_overlays()  # the acquisition was shown again: its AI layers too

    def _on_mpr_failed(self, message: str) -> None:
        self._mpr_source = None
        self._show_message(self.tr("Cannot compute the reformats: %1").replace("%1", message))

    # -- AI second reader ---------------------------------------------------------------------

    @staticmethod
    def _ai_index(stack: ImageStack, shown: int) -> int:
        """The image of a newly shown stack that the models get.

        A radiograph is one image (image 0); in a longer stack the image on screen is
        analysed, so that a CT or MR volume costs one applicability check, and the
        panel says why the models do not apply, instead of hundreds of slices queued.
        """
        return 0 if stack.count == 1 else min(max(shown, 0), stack.count - 1)

    def request_ai(self, images: Sequence[ImageRef], *, auto: bool = False) -> None:
        """Run the models on ``images`` (the panel follows the first); ``auto``: only the
        models whose "Run automatically" setting is on."""
        if not images:
            return
        if not self.ai_runner.loaded:  # the model list is still being read
            self._ai_waiting = list(images) if auto else self._ai_waiting
            return
        ids = [i for i in self.ai_runner.usable_ids
               if not auto or self.settings.ai_auto_run(i)]
        key = images[0].key
        self._ai_study = self._sop_study.get(key[0])
        if key != self._ai_image:
            self._ai_image = key
            self.ai_panel.set_models(self.ai_runner.entries)
            for result in self._ai_results.get(key, {}).values():
                self._show_ai_result(result)
        if not ids:  # nothing to run here; what ran for the previous image is moot
            self.ai_runner.cancel()
            self._update_ai_notice()
            return
        if self.ai_runner.analyze(images, ids):
            self.ai_panel.set_busy(True)
            self.cancel_ai_action.setEnabled(True)
        self._update_ai_notice()

    def run_ai(self) -> None:
        """AI > Run AI on this image: every usable model on the active view's image."""
        view = self.viewports.active_view
        if view is None or view.stack is None:
            self._show_message(self.tr("Open an image first."))
            return
        if not self.ai_runner.usable_ids:
            self._show_message(self.tr("No usable AI model is installed."))
            return
        self.request_ai([ImageRef(view.stack, view.index)])

    def cancel_ai(self) -> None:
        if not self.ai_runner.busy:
            return
        self.ai_runner.cancel()
        self._show_message(self.tr("AI analysis cancelled."))
        self.cancel_ai_action.setEnabled(False)
        self.ai_cancel_button.setEnabled(False)
        self.ai_progress_label.setText(self.tr("Cancelling AI…"))

    def set_ai_overlays_visible(self, visible: bool) -> None:
        """One switch for every AI overlay on every view: A, the AI menu, the panel's box."""
        self._ai_visible = bool(visible)
        self.ai_overlays_action.setChecked(self._ai_visible)
        self.ai_panel.set_overlays_visible(self._ai_visible)
        self.viewports.grid.set_ai_overlays_visible(self._ai_visible)
        self.viewports.redraw()
        self._update_ai_notice()

    def _on_overlay_style(self, style: object) -> None:
        if isinstance(style, OverlayStyle) and style.visible != self._ai_visible:
            self.set_ai_overlays_visible(style.visible)
        self._apply_ai_overlays()

    def _on_ai_models(self, entries: list[object]) -> None:
        self.ai_panel.set_models(self.ai_runner.entries)
        self._fill_ai_menus()
        waiting, self._ai_waiting = self._ai_waiting, []
        if waiting:
            self.request_ai(waiting, auto=True)
        elif self._ai_image is None:
            self.ai_panel.clear()

    def _fill_ai_menus(self) -> None:
        self.ai_auto_menu.clear()
        self.ai_cards_menu.clear()
        entries = self.ai_runner.entries
        for entry in entries:
            name = entry.manifest.name if entry.manifest is not None else entry.id
            auto = self.ai_auto_menu.addAction(name)
            auto.setCheckable(True)
            auto.setChecked(self.settings.ai_auto_run(entry.id))
            auto.setEnabled(entry.valid)
            auto.toggled.connect(lambda on, i=entry.id: self.settings.set_ai_auto_run(i, on))
            card = self.ai_cards_menu.addAction(name)
            card.triggered.connect(lambda _=False, i=entry.id: self.show_model_card(i))
        for menu in (self.ai_auto_menu, self.ai_cards_menu):
            menu.setEnabled(bool(entries))

    def _on_ai_running(self, model_id: str) -> None:
        self.ai_panel.show_running(model_id)
        self.ai_progress_label.setText(self.tr("AI: %1…").replace("%1", self._model_name(model_id)))
        self.ai_cancel_button.setEnabled(True)
        for widget in (self.ai_progress_label, self.ai_progress, self.ai_cancel_button):
            widget.show()
        self._refresh_reading_statuses()

    def _on_ai_result(self, result: object) -> None:
        if not isinstance(result, AnalysisResult):
            return
        key = (result.sop_instance_uid, result.frame)
        self.reading.add_result(result)
        if self._withheld(result.sop_instance_uid):
            self.ai_panel.set_blinded(True, True)
        self._ai_results.setdefault(key, {})[result.model_id] = result
        self._ai_results.move_to_end(key)
        while len(self._ai_results) > _AI_RESULTS_KEPT:
            self._ai_results.popitem(last=False)
        if key == self._ai_image:
            self._show_ai_result(result)
        if result.provider_notice:
            self._show_message(result.provider_notice)
        self._apply_ai_overlays()

    def _show_ai_result(self, result: AnalysisResult) -> None:
        if result.applicable and result.reason:  # it should have run but broke
            self.ai_panel.show_failed(result.model_id, result_reason(result))
        else:
            self.ai_panel.show_result(result)

    def _on_ai_failed(self, message: str) -> None:
        self.ai_panel.clear(self.tr("The AI engine could not run: %1").replace("%1", message))
        self._show_message(self.tr("AI failed: %1").replace("%1", message))

    def _on_ai_finished(self) -> None:
        for widget in (self.ai_progress_label, self.ai_progress, self.ai_cancel_button):
            widget.hide()
        self.cancel_ai_action.setEnabled(False)
        self.ai_panel.set_busy(False)
        self._update_ai_notice()
        self._refresh_reading_statuses()

    def _model_name(self, model_id: str) -> str:
        for entry in self.ai_runner.entries:
            if entry.id == model_id and entry.manifest is not None:
                return entry.manifest.name
        return model_id

    def _apply_ai_overlays(self) -> None:
        """Draw the stored results on every view showing their image, in the panel's style."""
        style = replace(self.ai_panel.overlay_style(), visible=True)  # A hides them, not this
        changed = False
        for view in self.viewports.views:
            if view.stack is None:
                continue
            heatmaps: list[Heatmap] = []
            boxes = [b for b in view.boxes if not b.ai]
            if self._ai_results:
                for i, info in enumerate(view.stack.slices):
                    if self._withheld(info.sop_instance_uid):
                        continue  # blinded first read: nothing of the AI before sign-off
                    for result in self._ai_results.get((info.sop_instance_uid, info.frame),
                                                       {}).values():
                        heatmap, found = overlays_for(result, style, slice_index=i)
                        boxes.extend(self._coloured_boxes(result, found))
                        if heatmap is not None:
                            heatmaps.append(heatmap)
            # One heatmap per view: the one on the image shown, else the first.
            heatmaps.sort(key=lambda h: h.slice_index != view.index)
            keep = view.heatmap if view.heatmap is not None and not view.heatmap.ai else None
            heatmap = heatmaps[0] if heatmaps else keep
            if heatmap is not view.heatmap:
                view.set_heatmap(heatmap)
                changed = True
            if boxes != view.boxes:
                view.set_boxes(boxes)
                changed = True
        changed = self._apply_marks() or changed
        if changed:  # a software-GL render costs ~20 ms: only when a layer changed
            self.viewports.redraw()
        self._update_ai_notice()

    def _ai_on_screen(self) -> bool:
        """Whether AI output is visible: results in the panel, or AI layers on a view."""
        shown = (self._ai_results.get(self._ai_image, {})
                 if self._ai_image and not self._withheld(self._ai_image[0]) else {})
        if any(r.applicable for r in shown.values()):
            return True
        return self._ai_visible and any(
            (v.heatmap is not None and v.heatmap.ai) or any(b.ai for b in v.boxes)
            for v in self.viewports.views)

    def _update_ai_notice(self) -> None:
        if not self._ai_on_screen():
            self.ai_notice_label.hide()
            return
        providers = {r.provider for results in self._ai_results.values()
                     for r in results.values() if r.applicable and r.provider}
        notices = {r.provider_notice for results in self._ai_results.values()
                   for r in results.values() if r.provider_notice}
        text = self.tr("Research use only — not for clinical use")
        if providers:
            text += " · " + self.tr("AI on %1").replace(
                "%1", ", ".join(sorted(provider_label(p) for p in providers)))
        self.ai_notice_label.setText(text)
        self.ai_notice_label.setToolTip("\n".join(sorted(notices)))
        self.ai_notice_label.show()

    def show_model_card(self, model_id: str) -> None:
        """The model's MODEL_CARD.md in a read-only side window (not modal)."""
        entry = next((e for e in self.ai_runner.entries if e.id == model_id), None)
        if entry is None:
            return
        viewer = self._card_viewers.get(model_id)
        if viewer is None:
            viewer = QTextBrowser(self)
            viewer.setWindowFlag(Qt.WindowType.Window)
            viewer.setObjectName("modelCard")
            viewer.setOpenExternalLinks(True)
            viewer.setWindowTitle(self.tr("Model card: %1").replace(
                "%1", self._model_name(model_id)))
            viewer.resize(640, 720)
            self._card_viewers[model_id] = viewer
        try:
            viewer.setSearchPaths([str(entry.card_path.parent)])
            viewer.setMarkdown(entry.card_path.read_text(encoding="utf-8"))
        except OSError as exc:
            viewer.setPlainText(self.tr("Cannot read the model card %1: %2")
                                .replace("%1", str(entry.card_path))
                                .replace("%2", exc.strerror or str(exc)))
        viewer.show()
        viewer.raise_()

    # -- the radiologist's reading ------------------------------------------------------------

    def _open_reading(self, study_uid: str | None) -> None:
        """The reading follows the study of the active viewport (opened before its AI runs)."""
        if study_uid is None or study_uid == self.reading.study_uid:
            return
        try:
            self.reading.open_study(study_uid)
        except (sqlite3.Error, ValueError) as exc:
            self._show_message(self.tr("Cannot open the reading: %1").replace("%1", str(exc)))
            return
        self._selected_mark = None
        images = self.reading.images
        if images is not None:
            self._sop_study.update(dict.fromkeys(images.sop_order, study_uid))
            if images.kind is not None:
                self._study_kinds[study_uid] = images.kind
        for results in list(self._ai_results.values()):  # analysed before (cache, priors)
            for result in results.values():
                self.reading.add_result(result)
        self._on_ai_gate()

    def _withheld(self, sop_instance_uid: str) -> bool:
        """Whether this image's AI output is held back (blinded first read not signed)."""
        images = self.reading.images
        return (self.reading.ai_withheld and images is not None
                and sop_instance_uid in images.sop_uids)

    def _on_reading_changed(self, _reading: object) -> None:
        if self.reading.reading is None or self.reading.reading.mark(
                self._selected_mark or "") is None:
            self._selected_mark = None
        if self._apply_marks():
            self.viewports.redraw()
        self._refresh_reading_statuses()

    def _on_concordance_changed(self, concordance: object) -> None:
        shown = concordance if isinstance(concordance, Concordance) else None
        self.concordance_panel.set_concordance(shown, self._model_names(),
                                               reading=self.reading.reading)
        self._apply_ai_overlays()

    def _on_ai_gate(self) -> None:
        """Blinded or not: the AI panel, the overlays and the notice follow the gate."""
        self.ai_panel.set_blinded(self.reading.ai_withheld, bool(self.reading.results))
        self._apply_ai_overlays()

    def _on_revealed(self) -> None:
        self.concordance_dock.show()
        self.concordance_dock.raise_()
        self._show_message(self.tr("First reading signed. AI revealed: accept or dismiss its "
                                   "findings, then sign the final reading."))

    def _model_names(self) -> dict[str, str]:
        return {e.id: e.manifest.name for e in self.ai_runner.entries if e.manifest is not None}

    def set_tool(self, mode: str) -> None:
        """The left button's tool (window/level, measures, drawing marks…)."""
        action = self.tool_actions.get(mode)
        if action is None:
            return
        self.viewports.interaction.set_left_mode(mode)  # type: ignore[arg-type]
        action.setChecked(True)
        if mode.startswith("draw_") and not self.reading.editable:
            self._show_message(self._not_editable_message())

    def _not_editable_message(self) -> str:
        if self.reading.reading is None:
            return self.tr("Open a chest, bone or breast radiograph to draw marks.")
        return self.tr("This reading is signed: Amend it to change it.")

    def _on_viewer_key(self, _view: SliceView, key: str) -> bool:
        """Esc: cancel what is being drawn and go back to window/level."""
        if key == "Escape" and self.viewports.interaction.left_mode != "window":
            self.viewports.interaction.cancel_drawing()
            self.set_tool("window")
            return True
        return False

    def _on_mark_drawn(self, view: SliceView, shape: str, points: Sequence[Point]) -> None:
        images = self.reading.images
        if view.stack is None:
            return
        if not self.reading.editable or images is None:
            self._show_message(self._not_editable_message())
            return
        info = view.stack.slices[view.index]
        if info.sop_instance_uid not in images.sop_uids:
            self._show_message(self.tr("This image is not part of the study being read."))
            return
        try:
            mark = self.reading.add_mark(info.sop_instance_uid, info.frame,
                                         cast(MarkShape, shape), points,
                                         self.reading_panel.default_label)
        except ReadingError as exc:
            self._show_message(self.tr("Mark not added: %1").replace("%1", exc.message))
            return
        if mark is not None:
            self.reading_panel.remember_label(mark.label)
            self._on_mark_selected(view, mark.id)

    def _on_mark_moved(self, _view: SliceView, mark_id: str, dx: float, dy: float) -> None:
        if not self.reading.move_mark(mark_id, dx, dy):
            self._show_message(self._not_editable_message())
            if self._apply_marks(force=True):  # the dragged glyph goes back
                self.viewports.redraw()

    def _on_mark_selected(self, _view: SliceView | None, mark_id: str | None) -> None:
        self._selected_mark = mark_id
        self.reading_panel.select_mark(mark_id)
        if self._apply_marks():
            self.viewports.redraw()

    def _on_delete_selected(self, _view: SliceView) -> None:
        if self._selected_mark is not None and self.reading.delete_mark(self._selected_mark):
            self._selected_mark = None

    def _apply_marks(self, force: bool = False) -> bool:
        """Draw the open reading's marks on every view showing their image.

        Before the reveal they are the reader's (cyan); after it, agreed (green) or
        reader-only (blue) from the concordance; the selected one stands out.
        """
        reading = self.reading.reading
        concordance = self._shown_concordance()
        roles = {p.mark_id: p.status for p in concordance.pairs
                 if p.mark_id is not None} if concordance is not None else {}
        changed = False
        for view in self.viewports.views:
            glyphs: list[MarkGlyph] = []
            if reading is not None and view.stack is not None:
                where = {(info.sop_instance_uid, info.frame): i
                         for i, info in enumerate(view.stack.slices)}
                for mark in reading.marks:
                    index = where.get((mark.sop_instance_uid, mark.frame))
                    if index is None:
                        continue
                    role = cast(MarkRole, "selected" if mark.id == self._selected_mark
                                else roles.get(mark.id, "reader"))
                    glyphs.append(MarkGlyph(mark.id, index, mark.shape, mark.points, role,
                                            label_text(mark.label)))
            if force or tuple(glyphs) != view.marks:
                view.set_marks(glyphs)
                changed = True
        return changed

    def _shown_concordance(self) -> Concordance | None:
        """The concordance the views show: once the reader has signed a first reading
        (before that, AI-only would call a finding "missed" that was not read yet)."""
        reading = self.reading.reading
        if reading is None or self.reading.ai_withheld or (
                reading.purpose == "first" and not reading.signed):
            return None
        return self.reading.concordance

    def _coloured_boxes(self, result: AnalysisResult, boxes: list[Box]) -> list[Box]:
        """After the reveal: agreed AI boxes green, AI-only magenta with a "!" badge
        (green once the reader accepted it)."""
        concordance = self._shown_concordance()
        if concordance is None:
            return boxes
        pairs = {p.ai.key: p for p in concordance.pairs if p.ai is not None}
        keys = [finding_key(result, i) for i, f in enumerate(result.findings)
                if f.box_xyxy_px is not None and f.operating_point is not None]
        if len(keys) != len(boxes):
            return boxes
        coloured = []
        for key, box in zip(keys, boxes, strict=True):
            pair = pairs.get(key)
            if pair is not None and (pair.status == "agreed" or pair.decision == "accepted"):
                box = replace(box, color=ROLE_COLOURS["agreed"])
            elif pair is not None and pair.status == "ai_only":
                box = replace(box, color=ROLE_COLOURS["ai_only"], badge="!")
            coloured.append(box)
        return coloured

    def show_mark(self, mark_id: str) -> None:
        """A row of the marks list was clicked: show that image and select the mark."""
        reading = self.reading.reading
        mark = reading.mark(mark_id) if reading is not None else None
        if mark is None:
            return
        self._on_mark_selected(None, mark_id)
        self.navigate_to(mark.sop_instance_uid, mark.frame, None)

    def navigate_to(self, sop_instance_uid: str, frame: int, box: object) -> None:
        """Show image (``sop_instance_uid``, ``frame``), zoomed to ``box`` when given;
        an image not on screen is opened in the active viewport first."""
        for index, view in enumerate(self.viewports.views):
            if view.stack is None:
                continue
            for i, info in enumerate(view.stack.slices):
                if (info.sop_instance_uid, info.frame) == (sop_instance_uid, frame):
                    self.viewports.set_active(index)
                    view.set_index(i)
                    if isinstance(box, tuple) and len(box) == 4:
                        self._zoom_to_box(view, cast(tuple[float, float, float, float], box))
                    self.viewports.redraw()
                    return
        series_uid = self._series_of(sop_instance_uid)
        if series_uid is None:
            self._show_message(self.tr("This image is no longer in the database."))
            return
        self._pending_navigation = (sop_instance_uid, frame, box)
        self.open_series(series_uid)

    def _series_of(self, sop_instance_uid: str) -> str | None:
        study = self._sop_study.get(sop_instance_uid)
        for series in self.db.series(study) if study is not None else []:
            uid = series.series_instance_uid
            if any(h.sop_instance_uid == sop_instance_uid for h in self.db.series_headers(uid)):
                return uid
        return None

    @staticmethod
    def _zoom_to_box(view: SliceView, box: tuple[float, float, float, float]) -> None:
        """Centre ``box`` (image pixels, corner origin) and zoom until it fills
        :data:`_ZOOM_BOX_SHARE` of the view (never less than the fitted view)."""
        x0, y0, x1, y1 = box
        view.fit()
        width, height = view.viewport_size()
        fitted = view.zoom
        wanted = _ZOOM_BOX_SHARE * min(width / max(x1 - x0, 1.0), height / max(y1 - y0, 1.0))
        view.set_zoom(max(fitted, min(wanted, 8 * fitted)))
        # image_to_display takes pixel centres: the corner-origin centre minus half a pixel
        cx, cy = view.image_to_display((x0 + x1) / 2 - 0.5, (y0 + y1) / 2 - 0.5)
        vx0, vy0, vx1, vy1 = view.renderer.GetViewport()
        win_w, win_h = view.render_window.GetSize()
        view.pan((vx0 + vx1) / 2 * win_w - cx, (vy0 + vy1) / 2 * win_h - cy)

    def set_blinded_first_read(self, blinded: bool) -> None:
        """Reading > Blinded first read: the practice's policy, for readings started next."""
        self.settings.blinded_first_read = bool(blinded)
        self.reading.blinded = bool(blinded)
        self._show_message(self.tr("Blinded first read on: the AI is shown once you sign.")
                           if blinded else
                           self.tr("Blinded first read off: the AI is shown at once."))

    def _refresh_reading_statuses(self) -> None:
        """The study list's Reading column: stored statuses, AI running, "likely normal"."""
        try:
            statuses: dict[str, str] = dict(self.reading.store.statuses())
        except sqlite3.Error:
            return
        if self.ai_runner.busy and self._ai_study is not None and statuses.get(
                self._ai_study, "unread") in ("unread", "in_progress"):
            statuses[self._ai_study] = "ai_running"
        flags: dict[str, str] = {}
        positive: set[str] = set()
        for results in self._ai_results.values():
            for result in results.values():
                study = self._sop_study.get(result.sop_instance_uid)
                if study is None or self._study_kinds.get(study) != "cxr" \
                        or not result.applicable or result.reason or not result.case_scores:
                    continue
                if all(score.operating_point is None for score in result.case_scores):
                    flags[study] = "likely_normal"  # under the high-sensitivity threshold
                else:
                    positive.add(study)
        for study in positive:
            flags.pop(study, None)
        self.browser.set_reading_statuses(statuses, flags)

    def choose_export(self) -> None:
        """File > Export reading…: DICOM SR (+GSPS) and the PDF report into a folder."""
        if self.reading.reading is None:
            self._show_message(self.tr("Open a study with a reading first."))
            return
        folder = QFileDialog.getExistingDirectory(self, self.tr("Export the reading to"),
                                                  self.settings.last_folder)
        if folder:
            self.export_to(Path(folder))

    def export_to(self, folder: Path) -> Task | None:
        """Write the exports in the background; the status bar says where they went."""
        reading = self.reading.reading
        if reading is None:
            return None
        language = self.settings.language or (
            "fr" if QLocale.system().name().startswith("fr") else "en")
        results = [] if self.reading.ai_withheld else self.reading.results
        concordance = None if self.reading.ai_withheld else self.reading.concordance
        task = Task(export_reading, self.db, reading, results, concordance, folder,
                    lang=language, model_names=self._model_names(), with_progress=False)
        task.signals.succeeded.connect(self._on_exported)
        task.signals.failed.connect(self._on_export_failed)
        self._export_target = (reading.study_instance_uid, reading.reading_id, folder)
        self._show_message(self.tr("Exporting the reading…"))
        self.runner.start(task)
        return task

    def _on_exported(self, written: object) -> None:
        study_uid, reading_id, folder = self._export_target
        files = [str(p) for p in written] if isinstance(written, list) else []
        self.reading.store.record(study_uid, self.reading.reader, "exported",
                                  {"what": "sr+pdf", "path": str(folder), "files": files},
                                  reading_id=reading_id)
        self._show_message(self.tr("Reading exported to %1 (%n file(s)).", "", len(files))
                           .replace("%1", str(folder)))
        dicom = [Path(f) for f in files if f.lower().endswith(".dcm")]
        if dicom and self.pacs_store.nodes():  # offer to file the results with the study
            dialog = send_files_to_node(self, dicom, store=self.pacs_store)
            dialog.finished_sending.connect(
                lambda outcomes: self._record_sent(study_uid, reading_id, dialog, outcomes))

    def _record_sent(self, study_uid: str, reading_id: str, dialog: SendDialog,
                     outcomes: object) -> None:
        """Each exported file the PACS accepted goes into the audit trail ("sent")."""
        node = str(dialog.node_combo.currentData())
        for outcome in outcomes if isinstance(outcomes, list) else []:
            if isinstance(outcome, StoreOutcome) and outcome.ok:
                self.reading.store.record(
                    study_uid, self.reading.reader, "sent",
                    {"node": node, "path": str(outcome.path),
                     "sop_instance_uid": outcome.sop_instance_uid}, reading_id=reading_id)

    def _on_export_failed(self, message: str) -> None:
        self._show_message(self.tr("Export failed: %1").replace("%1", message))

    def show_setup(self) -> None:
        """Tools > Setup…: the first-run window again (data folder, PACS, GPU, self-test)."""
        from app.first_run import FirstRunDialog

        FirstRunDialog(self.settings, parent=self).exec()

    def show_audit(self) -> None:
        """Reading > Audit…: agreement with the AI per model, over a period (non-modal)."""
        if self._audit_window is None:
            self._audit_window = AuditWindow(self.reading.store, self)
            self._audit_window.setWindowFlag(Qt.WindowType.Window)
        self._audit_window.show()
        self._audit_window.raise_()

    # -- dialogs (only on the user's request: File menu, About) -------------------------------

    def _copy_checkbox(self, dialog: QFileDialog) -> QCheckBox:
        box = QCheckBox(self.tr("Copy files into Tandem (for CDs and USB sticks)"), dialog)
        box.setChecked(self.settings.copy_on_import)
        layout = dialog.layout()
        if layout is not None:
            layout.addWidget(box)
        return box

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Open folder"),
                                                  self.settings.last_folder)
        if folder:
            self.settings.last_folder = folder
            self.open_paths([Path(folder)])

    def choose_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(
            self, self.tr("Open files"), self.settings.last_folder,
            self.tr("DICOM files (*.dcm *.DCM *.dicom DICOMDIR);;All files (*)"))
        if files:
            self.settings.last_folder = str(Path(files[0]).parent)
            self.open_paths([Path(f) for f in files])

    def choose_dicomdir(self) -> None:
        dialog = QFileDialog(self, self.tr("Import DICOMDIR or CD"), self.settings.last_folder,
                             self.tr("DICOMDIR (DICOMDIR DICOMDIR.* dicomdir);;All files (*)"))
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog, True)  # room for the checkbox
        copy_box = self._copy_checkbox(dialog)
        if dialog.exec() and dialog.selectedFiles():
            chosen = Path(dialog.selectedFiles()[0])
            self.settings.copy_on_import = copy_box.isChecked()
            self.settings.last_folder = str(chosen.parent)
            self.open_paths([chosen], copy=copy_box.isChecked())

    def set_language(self, code: str) -> None:
        """Store the interface language; menus are built once, so it applies at next start."""
        self.settings.language = code
        self._show_message(self.tr("The language will change the next time Tandem starts."))

    def show_about(self) -> None:
        QMessageBox.about(self, self.tr("About Tandem"), about_text())

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._fresh_layout:  # first start: room for the study list and the panels
            self._fresh_layout = False
            QTimer.singleShot(0, self._initial_dock_sizes)

    def _initial_dock_sizes(self) -> None:
        self.resizeDocks([self.browser_dock, self.reading_panel], [440, 290],
                         Qt.Orientation.Horizontal)

    # -- PACS --------------------------------------------------------------------------------

    def _build_pacs(self) -> None:
        """PACS menu actions, the query/retrieve dock and the storage SCP (listener)."""
        self.pacs_store = NodeStore()
        self.listener = ListenerService(self.db, parent=self)
        self.listener_label = QLabel(self)
        self.listener_label.setObjectName("listenerStatus")
        self.statusBar().addPermanentWidget(self.listener_label)
        self.listener_label.hide()
        self.listener.status_changed.connect(self._on_listener_status)
        self.listener.studies_arrived.connect(self.refresh_browser)
        self.listener.failed.connect(self._on_listener_failed)
        self.pacs_panel = PacsQueryPanel(self.db, self.pacs_store, listener=self.listener,
                                         parent=self)
        self.pacs_panel.study_retrieved.connect(self._on_pacs_retrieved)
        self.pacs_dock = self._dock(self.tr("PACS"), "pacsDock", self.pacs_panel,
                                    Qt.DockWidgetArea.LeftDockWidgetArea)
        # A tab beside the study list: the results table gets the column's full height.
        self.tabifyDockWidget(self.browser_dock, self.pacs_dock)
        self.pacs_dock.hide()
        self._nodes_dialog: NodesDialog | None = None
        self.pacs_query_action = self._action(self.tr("&Query / retrieve…"),
                                              self.show_pacs_query, [QUERY_SHORTCUT])
        self.pacs_listen_action = self._action("", self.set_listening, checkable=True)
        self.pacs_send_action = self._action(self.tr("&Send exported files…"),
                                             self.choose_files_to_send)
        self.pacs_nodes_action = self._action(self.tr("&Nodes…"), self.show_pacs_nodes)
        self._update_listen_action()

    def show_pacs_query(self) -> None:
        self.pacs_panel.reload_nodes()
        self.pacs_dock.show()
        self.pacs_dock.raise_()
        self.pacs_panel.patient_name.setFocus()

    def show_pacs_nodes(self) -> NodesDialog:
        """PACS > Nodes… (non-modal, one instance)."""
        if self._nodes_dialog is None:
            self._nodes_dialog = NodesDialog(self.pacs_store, self)
            self._nodes_dialog.nodes_changed.connect(self.pacs_panel.reload_nodes)
            self._nodes_dialog.local_changed.connect(self._on_local_ae_changed)
        self._nodes_dialog.reload()
        self._nodes_dialog.show()
        self._nodes_dialog.raise_()
        return self._nodes_dialog

    def _update_listen_action(self) -> None:
        try:
            port = str(self.pacs_store.local().port)
        except NodeConfigError:
            port = "?"
        self.pacs_listen_action.setText(
            self.tr("&Receive studies (listen on port %1)").replace("%1", port))
        self.pacs_listen_action.setChecked(self.listener.running)

    def set_listening(self, on: bool) -> None:
        """PACS > Receive studies: start/stop the storage SCP; remembered for next start."""
        if on:
            try:
                local = self.pacs_store.local()
            except NodeConfigError as exc:
                self._on_listener_failed(exc.message)
                return
            if not self.listener.start(local):  # port busy: the preference stays as it was
                self._update_listen_action()
                return
        else:
            self.listener.stop()
        self.settings.listener_enabled = on
        self._update_listen_action()

    def _on_local_ae_changed(self, _local: object) -> None:
        if self.listener.running:  # listen under the new AE title/port at once
            self.set_listening(True)

    def _on_listener_status(self, text: str) -> None:
        self.listener_label.setText(text)
        self.listener_label.setVisible(bool(text))

    def _on_listener_failed(self, message: str) -> None:
        self.pacs_listen_action.setChecked(False)
        self._show_message(message)

    def _on_pacs_retrieved(self, study_uid: str) -> None:
        """A retrieve ended: the study appears in the browser, selected, ready to open."""
        self.refresh_browser()
        row = self.browser.study_row(study_uid)
        if row is not None and row.series:
            self.browser.select_series(row.series[0].series_uid)
        self._reload_grown_series()

    def choose_files_to_send(self) -> None:
        """PACS > Send exported files…: pick DICOM files (SR, GSPS, PDF) and a node."""
        files, _ = QFileDialog.getOpenFileNames(
            self, self.tr("Send to PACS"), self.settings.last_folder,
            self.tr("DICOM files (*.dcm *.DCM *.dicom);;All files (*)"))
        if files:
            send_files_to_node(self, [Path(f) for f in files], store=self.pacs_store)

    # -- misc --------------------------------------------------------------------------------

    def _show_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 10000)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._closing = True
        self._refresh_timer.stop()
        self.pacs_panel.shutdown()
        self.listener.stop()
        self.ai_runner.shutdown()
        self.runner.wait(10000)
        self.reading.close()
        for viewer in self._card_viewers.values():
            viewer.close()
        self.settings.save_window_state(self.saveGeometry(), self.saveState())
        self.viewports.close_views()
        super().closeEvent(event)


class _SeriesReceiver(QObject):
    """Receives one load task's signals on the UI thread (a QObject keeps delivery queued)."""

    def __init__(self, window: MainWindow, index: int, task: Task) -> None:
        super().__init__(window)
        self._window, self._index, self._task = window, index, task
        task.signals.finished.connect(self.deleteLater)

    def on_partial(self, stack: object) -> None:
        self._window._series_partial(self._index, self._task, stack)

    def on_stack(self, stack: object) -> None:
        self._window._series_loaded(self._index, self._task, stack)

    def on_failed(self, message: str) -> None:
        self._window._series_failed(self._index, self._task, message)

    def on_progress(self, done: int, total: int, _label: str) -> None:
        self._window.viewports.set_progress(done, total)


def provider_label(provider: str) -> str:
    """Where a model ran, for the status bar: "CPU", "GPU (CUDA)", "GPU (TensorRT)"…"""
    name = provider.removesuffix("ExecutionProvider")
    if name == "CPU":
        return QCoreApplication.translate("MainWindow", "CPU")
    if name in ("CUDA", "Tensorrt", "Dml", "ROCM", "MIGraphX"):
        short = {"Tensorrt": "TensorRT", "Dml": "DirectML"}.get(name, name)
        return QCoreApplication.translate("MainWindow", "GPU (%1)").replace("%1", short)
    return name


def about_text() -> str:
    try:
        release = metadata.version("tandem")
    except metadata.PackageNotFoundError:  # running from a source checkout
        release = ""
    return "<br>".join((
        f"<b>Tandem {release}</b>",
        QCoreApplication.translate(
            "About", "Desktop radiology workstation with a local AI second reader."),
        QCoreApplication.translate("About", "Licence: Apache License 2.0."),
        QCoreApplication.translate("About", "Research use only — not for clinical use."),
    ))
