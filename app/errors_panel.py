"""The "Files that could not be read" panel: one row per refused file, with the reason.

A non-modal dock: the reading goes on while the practice's IT person can look at
(and copy) the list. Rows come from ``ImportReport.errors``; any object with
``path``, ``kind`` and ``message`` attributes (``DicomFileError``, ``FileVerdict``)
is accepted.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QDockWidget,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)


@dataclass(frozen=True)
class FileProblem:
    """One file Tandem could not use, and why."""

    path: str
    kind: str
    message: str

    @classmethod
    def from_error(cls, error: object) -> FileProblem:
        path = getattr(error, "path", None)
        kind = getattr(error, "kind", "") or ""
        message = getattr(error, "message", None) or str(error)
        return cls(str(path) if path is not None else "", str(kind), str(message))


class ErrorsPanel(QDockWidget):
    """Dock listing path + reason for each file an import refused."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Files that could not be read"), parent)
        self.setObjectName("errorsPanel")
        body = QWidget(self)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        self.summary = QLabel(self.tr("No problems."), body)
        self.table = QTableWidget(0, 3, body)
        self.table.setHorizontalHeaderLabels(
            [self.tr("File"), self.tr("Problem"), self.tr("Details")])
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.setColumnWidth(0, 320)
        buttons = QHBoxLayout()
        copy = QPushButton(self.tr("Copy list"), body)
        copy.clicked.connect(self.copy_to_clipboard)
        clear = QPushButton(self.tr("Clear"), body)
        clear.clicked.connect(self.clear)
        buttons.addWidget(self.summary, 1)
        buttons.addWidget(copy)
        buttons.addWidget(clear)
        layout.addLayout(buttons)
        layout.addWidget(self.table)
        self.setWidget(body)
        self._problems: list[FileProblem] = []

    @property
    def problems(self) -> list[FileProblem]:
        return list(self._problems)

    def add_errors(self, errors: list[object]) -> None:
        """Append the refused files of one import (duplicates of a previous row are skipped)."""
        seen = {(p.path, p.kind) for p in self._problems}
        for error in errors:
            problem = FileProblem.from_error(error)
            if (problem.path, problem.kind) in seen:
                continue
            seen.add((problem.path, problem.kind))
            self._problems.append(problem)
            self._append_row(problem)
        self._update_summary()

    def _append_row(self, problem: FileProblem) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        name = QTableWidgetItem(Path(problem.path).name or problem.path)
        name.setToolTip(problem.path)
        name.setData(Qt.ItemDataRole.UserRole, problem.path)
        self.table.setItem(row, 0, name)
        self.table.setItem(row, 1, QTableWidgetItem(problem.kind))
        details = QTableWidgetItem(problem.message)
        details.setToolTip(problem.message)
        self.table.setItem(row, 2, details)

    def _update_summary(self) -> None:
        count = len(self._problems)
        if count == 0:
            self.summary.setText(self.tr("No problems."))
        else:
            self.summary.setText(self.tr("%n file(s) could not be read.", "", count))

    def clear(self) -> None:
        self._problems.clear()
        self.table.setRowCount(0)
        self._update_summary()

    def copy_to_clipboard(self) -> None:
        lines = [f"{p.path}\t{p.kind}\t{p.message}" for p in self._problems]
        QGuiApplication.clipboard().setText("\n".join(lines))
