"""The concordance view: the signed reading beside the AI, finding by finding.

Shown once the first reading is signed. At the top, the counts (agreed green, AI-only
magenta, reader-only blue) and the case-level comparisons; below, every finding with
the AI-only ones ("possible miss") first. Previous / Next (keys Shift+N / N) walk
through them and ask the viewer to jump to each (``navigate_requested``); Accept /
Dismiss with an optional reason record the reader's decision (``decided``). The panel
only displays and emits: storing decisions is the reading controller's job.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QLocale, Qt, Signal
from PySide6.QtGui import QAction, QColor, QFont, QKeySequence, QMouseEvent, QPalette
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from app.ai_overlays import display_label
from app.ai_panel import format_percent
from app.score_display import band_text, scale_text

if TYPE_CHECKING:
    from reading.concordance import AiFindingRef, CaseComparison, Concordance, Pair
    from reading.model import Mark, Reading

__all__ = ["NEXT_KEY", "PREVIOUS_KEY", "ConcordancePanel", "role_colour"]

NEXT_KEY = "N"
PREVIOUS_KEY = "Shift+N"
# Status -> (colour on a dark palette, colour on a light one): PRODUCT.md's visual language.
ROLE_COLOURS: dict[str, tuple[str, str]] = {
    "agreed": ("#4cd97b", "#1b7a3a"),
    "ai_only": ("#ff5ad9", "#b0008c"),
    "reader_only": ("#5aa9ff", "#1f5fbf"),
}
_STATUS_ORDER = {"ai_only": 0, "agreed": 1, "reader_only": 2}
Box = tuple[float, float, float, float]


def role_colour(role: str, palette: QPalette) -> str:
    """The colour of ``role`` ("agreed", "ai_only", "reader_only") legible on ``palette``."""
    dark = palette.color(QPalette.ColorRole.Window).lightness() < 128
    on_dark, on_light = ROLE_COLOURS[role]
    return on_dark if dark else on_light


@dataclass(frozen=True)
class _Target:
    """Where the viewer goes for one row: image, frame and the box to zoom to."""

    sop_instance_uid: str
    frame: int
    box: Box | None


def _short_sha(sha256: str) -> str:
    return sha256[:12]


class _FindingRow(QFrame):
    """One finding: status badge, label and score, image; Accept / Dismiss for AI findings."""

    clicked = Signal(object)  # this row
    decided = Signal(str, str, str)  # finding key, decision, reason

    def __init__(self, pair: Pair, mark: Mark | None, image_name: str, model_name: str,
                 reasons: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pair = pair
        self.key = pair.ai.key if pair.ai is not None else ""
        self.target = self._target(pair, mark)
        self.decision: str | None = pair.decision
        self.setObjectName("concordanceFinding")
        self.setProperty("status", pair.status)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        colour = role_colour(pair.status, self.palette())
        self._colour = colour
        layout = QGridLayout(self)
        layout.setContentsMargins(8, 5, 8, 5)
        layout.setHorizontalSpacing(6)
        layout.setVerticalSpacing(3)

        badges = {"ai_only": self.tr("Possible miss"), "agreed": self.tr("Agreed"),
                  "reader_only": self.tr("Reader only")}
        self.badge = QLabel(badges.get(pair.status, pair.status), self)
        self.badge.setObjectName("concordanceBadge")
        if pair.status == "ai_only":  # filled magenta: the one thing not to overlook
            style = f"background: {colour}; color: #ffffff; border: 1px solid {colour};"
        else:
            style = f"color: {colour}; border: 1px solid {colour};"
        self.badge.setStyleSheet(f"QLabel {{ {style} border-radius: 3px; padding: 0 5px;"
                                 " font-weight: bold; }")
        layout.addWidget(self.badge, 0, 0)

        self.title = QLabel(self._title_text(pair, mark), self)
        self.title.setObjectName("concordanceFindingTitle")
        self.title.setWordWrap(True)
        layout.addWidget(self.title, 0, 1)
        self.image_label = QLabel(image_name, self)
        self.image_label.setObjectName("concordanceFindingImage")
        muted = self.palette().color(QPalette.ColorRole.PlaceholderText).name()
        self.image_label.setStyleSheet(f"color: {muted};")
        if self.target is not None:
            self.image_label.setToolTip(self.target.sop_instance_uid)
        layout.addWidget(self.image_label, 0, 2, Qt.AlignmentFlag.AlignRight)
        layout.setColumnStretch(1, 1)

        self.accept_button: QPushButton | None = None
        self.dismiss_button: QPushButton | None = None
        self.reason_combo: QComboBox | None = None
        self.decision_label = QLabel(self)
        self.decision_label.setObjectName("concordanceDecision")
        self.decision_label.hide()
        if pair.ai is not None:
            self.setToolTip(self._model_tooltip(pair.ai, model_name))
            self._build_decision_row(layout, reasons)
        layout.addWidget(self.decision_label, 2, 0, 1, 3)
        self._show_decision()
        self.set_current(False)

    # -- building --------------------------------------------------------------------------

    def _title_text(self, pair: Pair, mark: Mark | None) -> str:
        if pair.ai is not None:
            text = f"{display_label(pair.ai.label)} {format_percent(pair.ai.score)}"
            if pair.status == "agreed" and mark is not None:
                text += " · " + self.tr("your mark: %1").replace("%1", display_label(mark.label))
            return text
        if mark is not None:
            return self.tr("Your mark: %1").replace("%1", display_label(mark.label))
        return self.tr("Your mark")

    def _model_tooltip(self, ai: AiFindingRef, model_name: str) -> str:
        points = {"high_specificity": self.tr("high-specificity operating point met"),
                  "high_sensitivity": self.tr("only the high-sensitivity operating point met")}
        lines = [self.tr("%1 v%2 (sha256 %3…)").replace("%1", model_name)
                 .replace("%2", ai.model_version).replace("%3", _short_sha(ai.sha256))]
        if ai.operating_point in points:
            lines.append(points[ai.operating_point])
        return "\n".join(lines)

    def _build_decision_row(self, layout: QGridLayout, reasons: Sequence[str]) -> None:
        row = QHBoxLayout()
        row.setSpacing(4)
        self.accept_button = QPushButton(self.tr("Accept"), self)
        self.accept_button.setObjectName("concordanceAccept")
        self.accept_button.setToolTip(self.tr("The AI is right: keep this finding in the "
                                              "final reading"))
        self.dismiss_button = QPushButton(self.tr("Dismiss"), self)
        self.dismiss_button.setObjectName("concordanceDismiss")
        self.dismiss_button.setToolTip(self.tr("The AI is wrong here; give a reason if you "
                                               "wish"))
        for button in (self.accept_button, self.dismiss_button):
            button.setCheckable(True)
            button.setAutoDefault(False)
        self.accept_button.clicked.connect(lambda: self._decide("accepted"))
        self.dismiss_button.clicked.connect(lambda: self._decide("dismissed"))
        self.reason_combo = QComboBox(self)
        self.reason_combo.setObjectName("concordanceReason")
        self.reason_combo.setEditable(True)
        self.reason_combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.reason_combo.addItem("")
        self.reason_combo.addItems(list(reasons))
        self.reason_combo.setCurrentIndex(0)
        line = self.reason_combo.lineEdit()
        if line is not None:
            line.setPlaceholderText(self.tr("Reason (optional)"))
        self.reason_combo.setToolTip(self.tr("Why you accept or dismiss it (optional)"))
        self.reason_combo.setSizePolicy(QSizePolicy.Policy.Expanding,
                                        QSizePolicy.Policy.Fixed)
        self.reason_combo.setMinimumContentsLength(8)
        self.reason_combo.activated.connect(self._reason_changed)
        row.addWidget(self.accept_button)
        row.addWidget(self.dismiss_button)
        row.addWidget(self.reason_combo, 1)
        layout.addLayout(row, 1, 0, 1, 3)

    @staticmethod
    def _target(pair: Pair, mark: Mark | None) -> _Target | None:
        if pair.ai is not None:
            ai = pair.ai
            return _Target(ai.sop_instance_uid, ai.frame, ai.box_xyxy_px)
        if mark is not None:
            return _Target(mark.sop_instance_uid, mark.frame, mark.bbox())
        return None

    # -- state -----------------------------------------------------------------------------

    def reason(self) -> str:
        return self.reason_combo.currentText().strip() if self.reason_combo is not None else ""

    def set_decision(self, decision: str, reason: str) -> None:
        """Show a decision already stored (emits nothing)."""
        self.decision = decision
        if self.reason_combo is not None:
            self.reason_combo.setEditText(reason)
        self._show_decision()

    def set_current(self, current: bool) -> None:
        width = 2 if current else 1
        highlight = self.palette().color(QPalette.ColorRole.Highlight)
        border = self._colour if self.pair.status == "ai_only" else (
            highlight.name() if current else _mix(self.palette(), 0.25))
        background = ""
        if current:
            tint = QColor(highlight)
            tint.setAlpha(45)
            background = f" background: rgba({tint.red()}, {tint.green()}, {tint.blue()}, 45);"
        left = 5 if self.pair.status == "ai_only" else width
        self.setStyleSheet(
            f"QFrame#concordanceFinding {{ border: {width}px solid {border};"
            f" border-left: {left}px solid {self._colour if left > width else border};"
            f" border-radius: 4px;{background} }}")

    def _decide(self, decision: str) -> None:
        self.decision = decision
        self._show_decision()
        self.decided.emit(self.key, decision, self.reason())

    def _reason_changed(self) -> None:
        if self.decision is not None:  # a new reason for a decision already taken
            self.decided.emit(self.key, self.decision, self.reason())
            self._show_decision()

    def _show_decision(self) -> None:
        if self.accept_button is None or self.dismiss_button is None:
            return
        for button, decision in ((self.accept_button, "accepted"),
                                 (self.dismiss_button, "dismissed")):
            button.setChecked(self.decision == decision)
            font = QFont(button.font())
            font.setBold(self.decision == decision)  # the pressed look alone is faint
            button.setFont(font)
        texts = {"accepted": self.tr("Accepted"), "dismissed": self.tr("Dismissed")}
        text = texts.get(self.decision or "", "")
        reason = self.reason()
        if text and reason:
            text += " — " + reason
        self.decision_label.setText(text)
        self.decision_label.setVisible(bool(text))
        font = QFont(self.decision_label.font())
        font.setBold(True)
        self.decision_label.setFont(font)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self.clicked.emit(self)
        super().mousePressEvent(event)


def _mix(palette: QPalette, weight: float) -> str:
    text = palette.color(QPalette.ColorRole.WindowText)
    window = palette.color(QPalette.ColorRole.Window)
    return QColor(*(round(weight * a + (1 - weight) * b) for a, b in
                    ((text.red(), window.red()), (text.green(), window.green()),
                     (text.blue(), window.blue())))).name()


class ConcordancePanel(QWidget):
    """The signed reading compared with the AI (non-modal; keys N / Shift+N)."""

    navigate_requested = Signal(str, int, object)  # sop uid, frame, box (x0,y0,x1,y1) or None
    decided = Signal(str, str, str)  # finding key, "accepted"|"dismissed", reason

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("concordancePanel")
        self._concordance: Concordance | None = None
        self._rows: list[_FindingRow] = []
        self._current: int | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)

        self.empty_label = QLabel(self.tr("The comparison with the AI appears here once your "
                                          "first reading is signed."), self)
        self.empty_label.setObjectName("emptyState")
        self.empty_label.setWordWrap(True)
        layout.addWidget(self.empty_label)

        self.body = QWidget(self)
        body = QVBoxLayout(self.body)
        body.setContentsMargins(0, 0, 0, 0)
        body.setSpacing(6)
        layout.addWidget(self.body, 1)

        self.verdict_label = QLabel(self.body)
        self.verdict_label.setObjectName("concordanceVerdict")
        self.verdict_label.setWordWrap(True)
        body.addWidget(self.verdict_label)

        counts = QHBoxLayout()
        counts.setSpacing(6)
        self.count_labels: dict[str, QLabel] = {}
        for status in ("ai_only", "agreed", "reader_only"):
            chip = QLabel(self.body)
            chip.setObjectName(f"concordanceCount_{status}")
            colour = role_colour(status, self.palette())
            chip.setStyleSheet(f"QLabel {{ color: {colour}; border: 1px solid {colour};"
                               " border-radius: 3px; padding: 1px 6px; font-weight: bold; }")
            counts.addWidget(chip)
            self.count_labels[status] = chip
        counts.addStretch(1)
        body.addLayout(counts)

        self.cases_box = QWidget(self.body)
        self.cases_layout = QVBoxLayout(self.cases_box)
        self.cases_layout.setContentsMargins(0, 0, 0, 0)
        self.cases_layout.setSpacing(2)
        body.addWidget(self.cases_box)

        self.uncompared_label = QLabel(self.body)
        self.uncompared_label.setObjectName("concordanceUncompared")
        self.uncompared_label.setWordWrap(True)
        body.addWidget(self.uncompared_label)

        nav = QHBoxLayout()
        self.previous_button = QPushButton(self.tr("◀ Previous"), self.body)
        self.previous_button.setObjectName("concordancePrevious")
        self.previous_button.setToolTip(
            self.tr("Previous finding (key: %1)").replace("%1", PREVIOUS_KEY))
        self.next_button = QPushButton(self.tr("Next ▶"), self.body)
        self.next_button.setObjectName("concordanceNext")
        self.next_button.setToolTip(
            self.tr("Next finding, possible misses first (key: %1)").replace("%1", NEXT_KEY))
        self.position_label = QLabel(self.body)
        self.position_label.setObjectName("concordancePosition")
        self.position_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.previous_button.clicked.connect(self.previous_finding)
        self.next_button.clicked.connect(self.next_finding)
        nav.addWidget(self.previous_button)
        nav.addWidget(self.position_label, 1)
        nav.addWidget(self.next_button)
        body.addLayout(nav)

        self._list_box = QWidget()
        self._list_layout = QVBoxLayout(self._list_box)
        self._list_layout.setContentsMargins(0, 0, 0, 0)
        self._list_layout.setSpacing(4)
        self._list_layout.addStretch(1)
        self.scroll_area = QScrollArea(self.body)
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll_area.setWidget(self._list_box)
        body.addWidget(self.scroll_area, 1)

        # Window-wide while the panel is visible (typing in a text field is not affected).
        self.next_action = QAction(self.tr("Next AI finding"), self)
        self.next_action.setShortcut(QKeySequence(NEXT_KEY))
        self.next_action.triggered.connect(self.next_finding)
        self.previous_action = QAction(self.tr("Previous AI finding"), self)
        self.previous_action.setShortcut(QKeySequence(PREVIOUS_KEY))
        self.previous_action.triggered.connect(self.previous_finding)
        for action in (self.next_action, self.previous_action):
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            self.addAction(action)
        self.set_concordance(None, {})

    # -- content ---------------------------------------------------------------------------

    def common_reasons(self) -> list[str]:
        """The reasons offered for a decision (the reader may type another one)."""
        return [self.tr("artefact"), self.tr("known / old lesion"),
                self.tr("outside the field of interest"), self.tr("not a lesion")]

    def set_concordance(self, concordance: Concordance | None, model_names: Mapping[str, str],
                        *, reading: Reading | None = None) -> None:
        """Show ``concordance`` (None: nothing signed yet).

        ``reading`` (optional, the version being finalised) names the reader's marks, lets
        reader-only marks be navigated to, and gives the reasons of decisions taken.

        The selected finding is kept when the same finding is still there (e.g. after a
        decision was stored and the comparison recomputed).
        """
        previous_key = self._row_key(self._current)
        self._concordance = concordance
        self.empty_label.setVisible(concordance is None)
        self.body.setVisible(concordance is not None)
        self._clear_rows()
        if concordance is None:
            self._clear_cases()
            self._update_navigation()
            return
        counts = concordance.counts()
        texts = {"ai_only": self.tr("AI only: %1"), "agreed": self.tr("Agreed: %1"),
                 "reader_only": self.tr("Reader only: %1")}
        for status, chip in self.count_labels.items():
            chip.setText(texts[status].replace("%1", QLocale().toString(counts.get(status, 0))))
        self._show_verdict(concordance)
        images = self._image_names(concordance)
        self._show_cases(concordance.cases, model_names, images)
        self._show_uncompared(concordance)

        by_id = {m.id: m for m in reading.marks} if reading is not None else {}
        pairs = sorted(concordance.pairs, key=lambda p: (
            _STATUS_ORDER.get(p.status, 3), -(p.ai.score if p.ai is not None else 0.0)))
        reasons = self.common_reasons()
        for pair in pairs:
            mark = by_id.get(pair.mark_id) if pair.mark_id is not None else None
            target_uid = (pair.ai.sop_instance_uid if pair.ai is not None
                          else mark.sop_instance_uid if mark is not None else "")
            model = pair.ai.model_id if pair.ai is not None else ""
            row = _FindingRow(pair, mark, images.get(target_uid, ""),
                              model_names.get(model, model), reasons, self._list_box)
            stored = reading.decision_for(row.key) if reading and row.key else None
            if stored is not None:
                row.set_decision(stored.decision, stored.reason)
            row.clicked.connect(self._on_row_clicked)
            row.decided.connect(self.decided)
            self._list_layout.insertWidget(self._list_layout.count() - 1, row)
            self._rows.append(row)
        keys = [r.key for r in self._rows]
        self._current = keys.index(previous_key) if previous_key and previous_key in keys \
            else None
        self._mark_current()
        self._update_navigation()

    def concordance(self) -> Concordance | None:
        return self._concordance

    def finding_rows(self) -> list[_FindingRow]:
        """The rows in display order (AI-only first), for the caller and tests."""
        return list(self._rows)

    def current_key(self) -> str | None:
        return self._row_key(self._current)

    # -- navigation ------------------------------------------------------------------------

    def next_finding(self) -> None:
        """Select the next finding (AI-only ones come first) and ask the viewer to show it."""
        self._step(+1)

    def previous_finding(self) -> None:
        self._step(-1)

    def _navigable(self) -> list[int]:
        return [i for i, row in enumerate(self._rows) if row.target is not None]

    def _step(self, direction: int) -> None:
        order = self._navigable()
        if not order:
            return
        if self._current is None or self._current not in order:
            index = order[0] if direction > 0 else order[-1]
        else:
            index = order[(order.index(self._current) + direction) % len(order)]
        self._select(index)

    def _select(self, index: int) -> None:
        self._current = index
        self._mark_current()
        self._update_navigation()
        row = self._rows[index]
        self.scroll_area.ensureWidgetVisible(row)
        if row.target is not None:
            target = row.target
            self.navigate_requested.emit(target.sop_instance_uid, target.frame, target.box)

    def _on_row_clicked(self, row: _FindingRow) -> None:
        if row in self._rows and row.target is not None:
            self._select(self._rows.index(row))

    def _mark_current(self) -> None:
        for i, row in enumerate(self._rows):
            row.set_current(i == self._current)

    def _update_navigation(self) -> None:
        order = self._navigable()
        enabled = bool(order)
        for widget in (self.previous_button, self.next_button):
            widget.setEnabled(enabled)
        self.next_action.setEnabled(enabled)
        self.previous_action.setEnabled(enabled)
        if not order:
            self.position_label.setText(self.tr("No AI finding") if self._concordance else "")
            return
        position = order.index(self._current) + 1 if self._current in order else 0
        locale = QLocale()
        self.position_label.setText(
            self.tr("%1 of %2").replace("%1", locale.toString(position) if position else "–")
            .replace("%2", locale.toString(len(order))))

    def _row_key(self, index: int | None) -> str | None:
        if index is None or not 0 <= index < len(self._rows):
            return None
        row = self._rows[index]
        return row.key or row.pair.mark_id

    # -- header ----------------------------------------------------------------------------

    def _show_verdict(self, concordance: Concordance) -> None:
        if concordance.discordant:
            colour = role_colour("ai_only", self.palette())
            text = self.tr("Discordant — review the possible misses")
        else:
            colour = role_colour("agreed", self.palette())
            text = self.tr("Concordant")
        self.verdict_label.setText(text)
        self.verdict_label.setStyleSheet(f"QLabel {{ color: {colour}; font-weight: bold; }}")

    def _image_names(self, concordance: Concordance) -> dict[str, str]:
        """SOP UID -> "Image 1", "Image 2"… in the order they first appear (cases, pairs)."""
        names: dict[str, str] = {}
        uids = [c.scope for c in concordance.cases if c.scope not in ("study", "R", "L")]
        uids += [p.ai.sop_instance_uid for p in concordance.pairs if p.ai is not None]
        for uid in uids:
            if uid and uid not in names:
                names[uid] = str(len(names) + 1)
        if len(names) < 2:  # one image: nothing to tell apart
            return {uid: "" for uid in names}
        return {uid: self.tr("Image %1").replace("%1", n) for uid, n in names.items()}

    def _clear_cases(self) -> None:
        while self.cases_layout.count():
            item = self.cases_layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.hide()
                widget.deleteLater()

    def _show_cases(self, cases: Sequence[CaseComparison], model_names: Mapping[str, str],
                    images: Mapping[str, str]) -> None:
        self._clear_cases()
        models = list(dict.fromkeys(c.model_id for c in cases))
        muted = self.palette().color(QPalette.ColorRole.PlaceholderText).name()
        for model_id in models:
            if len(models) > 1:
                caption = QLabel(model_names.get(model_id, model_id), self.cases_box)
                caption.setStyleSheet(f"color: {muted};")
                self.cases_layout.addWidget(caption)
            for case in (c for c in cases if c.model_id == model_id):
                label = QLabel(self.case_text(case, images), self.cases_box)
                label.setObjectName("concordanceCase")
                label.setProperty("agreement", case.agreement)
                label.setWordWrap(True)
                label.setToolTip(model_names.get(model_id, model_id))
                if case.agreement == "disagree":
                    colour = role_colour("ai_only", self.palette())
                    label.setStyleSheet(f"QLabel {{ color: {colour}; font-weight: bold; }}")
                self.cases_layout.addWidget(label)

    def case_text(self, case: CaseComparison, images: Mapping[str, str] | None = None) -> str:
        """"Reader: abnormal · AI: positive (87 %) — agree"; "R: BI-RADS 2 · AI 8/10 — …"."""
        readers = {"normal": self.tr("normal"), "abnormal": self.tr("abnormal"),
                   "present": self.tr("present"), "absent": self.tr("absent"),
                   "not assessed": self.tr("not assessed")}
        agreements = {"agree": self.tr("agree"), "disagree": self.tr("disagree"),
                      "undetermined": self.tr("undetermined")}
        reader = readers.get(case.reader, case.reader)
        percent = format_percent(case.ai_probability)
        if case.ai_scale is not None:
            ai = f"{scale_text(case.ai_scale)} ({percent})"
        else:
            ai = f"{band_text(case.ai_band)} ({percent})"
        sides = {"R": self.tr("R"), "L": self.tr("L")}
        if case.scope in sides:
            head = f"{sides[case.scope]}: "
        elif case.scope != "study" and images and images.get(case.scope):
            head = f"{images[case.scope]}: "
        else:
            head = ""
        body = (self.tr("Reader: %1").replace("%1", reader) + " · "
                + self.tr("AI: %1").replace("%1", ai))
        return f"{head}{body} — {agreements.get(case.agreement, case.agreement)}"

    def _show_uncompared(self, concordance: Concordance) -> None:
        count = len(concordance.uncompared_marks)
        self.uncompared_label.setText(
            self.tr("Your marks on images the AI did not analyse: %1")
            .replace("%1", QLocale().toString(count)))
        self.uncompared_label.setVisible(count > 0)

    def _clear_rows(self) -> None:
        for row in self._rows:
            row.hide()
            row.deleteLater()
        self._rows = []
        self._current = None
