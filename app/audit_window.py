"""The practice audit screen: how each model and the readers agreed over a chosen period.

A non-modal window: a period (from / to, last 30 days by default), a table per model
(cases, agreement rate, AI-only findings, accepted, dismissed, median time per case)
from :func:`reading.audit_report.model_stats`, two small bar plots drawn with QPainter
(agreement rate; accepted vs dismissed AI-only findings) and "Export CSV…". The
numbers are the audit report's; this window only lays them out.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QDate, QDateTime, QLocale, QRectF, QSize, Qt, QTime
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.concordance_panel import role_colour
from reading.audit_report import CaseRow, ModelStats, audit_rows, model_stats, write_audit_csv
from reading.store import ReadingStore

__all__ = ["AuditWindow", "BarChart", "BarSeries"]

DEFAULT_DAYS = 30
NBSP = "\u00a0"


def _four_digit_years(pattern: str) -> str:
    """The locale's short date pattern with a 4-digit year ("dd/MM/yy" -> "dd/MM/yyyy")."""
    return pattern if "yyyy" in pattern else pattern.replace("yy", "yyyy")


@dataclass(frozen=True)
class BarSeries:
    """One kind of bar: its legend text, colour and a value per category (None: no value)."""

    name: str
    colour: str
    values: tuple[float | None, ...]


class BarChart(QWidget):
    """Horizontal grouped bars, one group per category (model), values written at the end.

    ``maximum`` fixes the scale (100 for percentages); else the largest value sets it.
    """

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.categories: tuple[str, ...] = ()
        self.series: tuple[BarSeries, ...] = ()
        self.maximum: float | None = None
        self.value_format = "{:g}"
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_data(self, categories: Sequence[str], series: Sequence[BarSeries], *,
                 maximum: float | None = None, value_format: str = "{:g}") -> None:
        self.categories = tuple(categories)
        self.series = tuple(series)
        self.maximum = maximum
        self.value_format = value_format
        self.updateGeometry()
        self.update()

    def _bar_height(self) -> int:
        return max(QFontMetrics(self.font()).height(), 14)

    def _group_height(self) -> int:
        return self._bar_height() * max(len(self.series), 1) + 8

    def sizeHint(self) -> QSize:
        line = QFontMetrics(self.font()).height()
        height = 2 * line + 12 + self._group_height() * max(len(self.categories), 1)
        return QSize(360, height)

    def minimumSizeHint(self) -> QSize:
        return QSize(200, self.sizeHint().height())

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        palette = self.palette()
        text = palette.color(QPalette.ColorRole.WindowText)
        muted = palette.color(QPalette.ColorRole.PlaceholderText)
        metrics = QFontMetrics(self.font())
        line = metrics.height()
        width = self.width()

        bold = self.font()
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(text)
        painter.drawText(QRectF(0, 0, width, line), Qt.AlignmentFlag.AlignLeft, self.title)
        painter.setFont(self.font())
        # Legend, right-aligned on the title line.
        x = float(width)
        for series in reversed(self.series):
            label_w = metrics.horizontalAdvance(series.name)
            x -= label_w
            painter.setPen(text)
            painter.drawText(QRectF(x, 0, label_w, line), Qt.AlignmentFlag.AlignLeft,
                             series.name)
            x -= line * 0.7 + 4
            painter.fillRect(QRectF(x, line * 0.2, line * 0.7, line * 0.6),
                             QColor(series.colour))
            x -= 12

        top = line + 8
        if not self.categories:
            painter.setPen(muted)
            painter.drawText(QRectF(0, top, width, line), Qt.AlignmentFlag.AlignLeft,
                             self.tr("No data"))
            painter.end()
            return
        label_w = min(max(metrics.horizontalAdvance(c) for c in self.categories) + 8,
                      width // 3)
        values = [v for s in self.series for v in s.values if v is not None]
        scale_max = self.maximum if self.maximum is not None else max(values, default=0.0)
        scale_max = scale_max if scale_max > 0 else 1.0
        value_w = max(metrics.horizontalAdvance(self.value_format.format(v)) for v in values) \
            if values else 0
        plot_x = label_w
        plot_w = max(width - label_w - value_w - 8, 10)
        bar_h = self._bar_height()
        axis = QColor(muted)
        for i, category in enumerate(self.categories):
            y = top + i * self._group_height()
            painter.setPen(text)
            elided = metrics.elidedText(category, Qt.TextElideMode.ElideRight, label_w - 8)
            painter.drawText(QRectF(0, y, label_w - 8, bar_h * len(self.series)),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                             elided)
            for j, series in enumerate(self.series):
                value = series.values[i] if i < len(series.values) else None
                bar_y = y + j * bar_h
                length = 0.0
                if value is not None:
                    length = plot_w * min(max(value / scale_max, 0.0), 1.0)
                    painter.fillRect(QRectF(plot_x, bar_y + 2, length, bar_h - 4),
                                     QColor(series.colour))
                painter.setPen(text if value is not None else muted)
                painter.drawText(QRectF(plot_x + length + 4, bar_y, value_w + 16, bar_h),
                                 Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                                 "–" if value is None else self.value_format.format(value))
        painter.setPen(axis)
        bottom = top + len(self.categories) * self._group_height() - 6
        painter.drawLine(int(plot_x), top, int(plot_x), int(bottom))
        painter.end()


class AuditWindow(QWidget):
    """Per-model agreement, decisions and time per case over a period (non-modal)."""

    COLUMNS = ("model", "cases", "agreement", "ai_only", "accepted", "dismissed", "median")

    def __init__(self, store: ReadingStore, parent: QWidget | None = None, *,
                 model_names: Mapping[str, str] | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("auditWindow")
        self.setWindowTitle(self.tr("Reading audit"))
        self.setWindowModality(Qt.WindowModality.NonModal)
        self.store = store
        self.model_names = dict(model_names or {})
        self.rows: list[CaseRow] = []
        self.stats: list[ModelStats] = []
        layout = QVBoxLayout(self)

        period = QHBoxLayout()
        today = QDate.currentDate()
        self.from_edit = QDateEdit(today.addDays(-DEFAULT_DAYS), self)
        self.to_edit = QDateEdit(today, self)
        for edit in (self.from_edit, self.to_edit):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat(_four_digit_years(
                QLocale().dateFormat(QLocale.FormatType.ShortFormat)))
            edit.dateChanged.connect(self.refresh)
        period.addWidget(QLabel(self.tr("From"), self))
        period.addWidget(self.from_edit)
        period.addWidget(QLabel(self.tr("to"), self))
        period.addWidget(self.to_edit)
        period.addStretch(1)
        self.export_button = QPushButton(self.tr("Export CSV…"), self)
        self.export_button.setToolTip(self.tr("One row per signed case of the period"))
        self.export_button.clicked.connect(self.choose_csv)
        period.addWidget(self.export_button)
        layout.addLayout(period)

        self.summary_label = QLabel(self)
        self.summary_label.setObjectName("auditSummary")
        self.summary_label.setWordWrap(True)
        layout.addWidget(self.summary_label)

        headers = [self.tr("Model"), self.tr("Cases"), self.tr("Agreement"),
                   self.tr("AI-only findings"), self.tr("Accepted"), self.tr("Dismissed"),
                   self.tr("Median time per case")]
        self.table = QTableWidget(0, len(headers), self)
        self.table.setObjectName("auditTable")
        self.table.setHorizontalHeaderLabels(headers)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.setSizeAdjustPolicy(QTableWidget.SizeAdjustPolicy.AdjustToContents)
        layout.addWidget(self.table)

        self.agreement_chart = BarChart(self.tr("Agreement rate per model (%)"), self)
        self.agreement_chart.setObjectName("auditAgreementChart")
        self.decisions_chart = BarChart(self.tr("AI-only findings: accepted vs dismissed"),
                                        self)
        self.decisions_chart.setObjectName("auditDecisionsChart")
        layout.addWidget(self.agreement_chart)
        layout.addWidget(self.decisions_chart)
        self.status_label = QLabel(self)
        self.status_label.setObjectName("auditStatus")
        self.status_label.setWordWrap(True)
        layout.addWidget(self.status_label)
        layout.addStretch(1)
        self.resize(720, 560)
        self.refresh()

    # -- period ----------------------------------------------------------------------------

    def set_period(self, first: QDate, last: QDate) -> None:
        """Show ``first`` to ``last`` (local days, both included)."""
        for edit, value in ((self.from_edit, first), (self.to_edit, last)):
            edit.blockSignals(True)
            edit.setDate(value)
            edit.blockSignals(False)
        self.refresh()

    def period(self) -> tuple[str, str]:
        """The period as ISO date-times with the local offset (whole local days)."""
        first, last = self.from_edit.date(), self.to_edit.date()
        if last < first:
            first, last = last, first
        since = QDateTime(first, QTime(0, 0, 0))
        until = QDateTime(last, QTime(23, 59, 59))
        return (since.toString(Qt.DateFormat.ISODate), until.toString(Qt.DateFormat.ISODate))

    # -- content ---------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the period's rows from the store and redraw the table and plots."""
        since, until = self.period()
        self.status_label.setText("")
        try:
            self.rows = audit_rows(self.store, since=since, until=until)
        except (OSError, ValueError, sqlite3.Error) as error:
            self.rows = []
            self.status_label.setText(self.tr("Could not read the audit: %1")
                                      .replace("%1", str(error)))
        self.stats = model_stats(self.rows)
        self._fill_table()
        self._fill_charts()
        cases = len({(r.study_instance_uid, r.reading_id) for r in self.rows})
        self.summary_label.setText(
            self.tr("Signed cases in the period: %1").replace("%1", QLocale().toString(cases))
            if self.rows else self.tr("No signed reading in this period."))
        self.export_button.setEnabled(bool(self.rows))

    def _name(self, model_id: str) -> str:
        return self.model_names.get(model_id, model_id) or self.tr("(no model)")

    def _percent(self, rate: float | None) -> str:
        if rate is None:
            return "–"
        return f"{QLocale().toString(100.0 * rate, 'f', 0)}{NBSP}%"

    def _duration(self, seconds: float | None) -> str:
        if seconds is None:
            return "–"
        locale = QLocale()
        if seconds < 60:
            return self.tr("%1 s").replace("%1", locale.toString(round(seconds)))
        minutes, rest = divmod(round(seconds), 60)
        return self.tr("%1 min %2 s").replace("%1", locale.toString(minutes)) \
            .replace("%2", f"{rest:02d}")

    def _fill_table(self) -> None:
        locale = QLocale()
        self.table.setRowCount(len(self.stats))
        for row, stats in enumerate(self.stats):
            texts = [self._name(stats.model_id), locale.toString(stats.cases),
                     self._percent(stats.agreement_rate), locale.toString(stats.ai_only),
                     locale.toString(stats.accepted), locale.toString(stats.dismissed),
                     self._duration(stats.median_seconds)]
            for column, text in enumerate(texts):
                item = QTableWidgetItem(text)
                if column:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                if column == 0:
                    item.setToolTip(stats.model_id)
                self.table.setItem(row, column, item)

    def _fill_charts(self) -> None:
        names = [self._name(s.model_id) for s in self.stats]
        palette = self.palette()
        agreement = tuple(None if s.agreement_rate is None else 100.0 * s.agreement_rate
                          for s in self.stats)
        self.agreement_chart.set_data(
            names, [BarSeries(self.tr("agreement"), role_colour("agreed", palette), agreement)],
            maximum=100.0, value_format="{:.0f}" + NBSP + "%")
        self.decisions_chart.set_data(names, [
            BarSeries(self.tr("accepted"), role_colour("agreed", palette),
                      tuple(float(s.accepted) for s in self.stats)),
            BarSeries(self.tr("dismissed"), role_colour("ai_only", palette),
                      tuple(float(s.dismissed) for s in self.stats))],
            value_format="{:.0f}")

    # -- export ----------------------------------------------------------------------------

    def choose_csv(self) -> None:
        """Ask where to save, then :meth:`export_csv`."""
        first, last = self.period()
        default = f"tandem-audit-{first[:10]}-{last[:10]}.csv"
        path, _ = QFileDialog.getSaveFileName(self, self.tr("Export the audit as CSV"),
                                              default, self.tr("CSV files (*.csv)"))
        if path:
            self.export_csv(Path(path))

    def export_csv(self, path: Path) -> Path | None:
        """Write the period's rows to ``path``; the status line says where (or why not)."""
        try:
            written = write_audit_csv(path, self.rows)
        except OSError as error:
            self.status_label.setText(self.tr("Could not write %1: %2")
                                      .replace("%1", str(path)).replace("%2", error.strerror
                                                                        or str(error)))
            return None
        self.status_label.setText(self.tr("Saved %1 rows to %2")
                                  .replace("%1", QLocale().toString(len(self.rows)))
                                  .replace("%2", str(written)))
        return written
