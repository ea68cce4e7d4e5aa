"""The "AI second reader" dock: one compact card per model, and the overlay controls.

Each card shows the model's name and version, its status (waiting, running, done,
not applicable and why, failed, disabled and why), the case score as a percentage with
its band or 1–10 score (from that result's own model version, see ``score_display``),
the findings that meet an operating point (sorted by score, with their badge), the
provider and the time it took, and a link to the model card. Below the cards: the
AI overlay controls (shown, colormap, opacity, threshold) and Run / Cancel. The
panel only displays; running the models is the caller's job (``run_requested``).
While the first reading is blinded (:meth:`AiPanel.set_blinded`) the cards are hidden
and the panel only says whether results are waiting.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Literal, Protocol

from PySide6.QtCore import QLocale, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDockWidget,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from app.ai_overlays import OverlayStyle, display_label
from app.ai_reasons import result_reason
from app.score_display import case_score_text, score_band
from imaging.colormaps import COLORMAPS
from inference.manifest import ModelManifest
from inference.results import AnalysisResult, CaseScore, Finding, OperatingPointName

__all__ = ["AiPanel", "ModelCard", "ModelEntryLike", "OverlayStyle"]

AMBER = "#ffb000"  # viewer.overlays.AMBER: the colour of everything the AI says
NBSP = "\u00a0"
PROVIDER_NAMES = {
    "TensorrtExecutionProvider": "TensorRT",
    "CUDAExecutionProvider": "CUDA",
    "DmlExecutionProvider": "DirectML",
    "OpenVINOExecutionProvider": "OpenVINO",
    "CoreMLExecutionProvider": "Core ML",
    "CPUExecutionProvider": "CPU",
}
OPACITY_RANGE = (10, 80)  # percent: a heatmap never hides the image entirely

State = Literal["idle", "waiting", "running", "done", "not_applicable", "failed", "disabled"]


class ModelEntryLike(Protocol):
    """What the panel reads from ``inference.registry.ModelEntry``."""

    @property
    def id(self) -> str: ...
    @property
    def manifest(self) -> ModelManifest | None: ...
    @property
    def problems(self) -> tuple[str, ...]: ...
    @property
    def valid(self) -> bool: ...
    @property
    def card_path(self) -> Path: ...


def provider_name(provider: str) -> str:
    """ONNX Runtime's provider name as a short word: ``CUDAExecutionProvider`` → ``CUDA``."""
    return PROVIDER_NAMES.get(provider, provider.removesuffix("ExecutionProvider"))


def format_percent(probability: float, locale: QLocale | None = None) -> str:
    """A probability as a whole percentage in the locale ("82 %"); never rounds to 0 or 100."""
    locale = locale if locale is not None else QLocale()
    pct = 100.0 * probability
    if 0.0 < pct < 0.5:
        return f"<{NBSP}{locale.toString(1)}{NBSP}%"
    if 99.5 <= pct < 100.0:
        return f">{NBSP}{locale.toString(99)}{NBSP}%"
    return f"{locale.toString(round(pct))}{NBSP}%"


def total_ms(timings: dict[str, float]) -> float:
    """The whole time a result took: its ``total`` stage when recorded, else the stages' sum."""
    return timings["total"] if "total" in timings else sum(timings.values())


class _Colours:
    """Colours that read on the current palette, light or dark (AI = amber)."""

    def __init__(self, palette: QPalette) -> None:
        text = palette.color(QPalette.ColorRole.WindowText)
        window = palette.color(QPalette.ColorRole.Window)
        self.dark = window.lightness() < 128
        self.muted = _blend(text, window, 0.6)
        self.border = _blend(text, window, 0.25)
        self.amber_text = AMBER if self.dark else "#8a5a00"  # amber legible on white
        self.error = "#ff7b72" if self.dark else "#c62828"


def _blend(a: QColor, b: QColor, weight: float) -> str:
    def mix(x: int, y: int) -> int:
        return round(weight * x + (1 - weight) * y)
    return QColor(mix(a.red(), b.red()), mix(a.green(), b.green()),
                  mix(a.blue(), b.blue())).name()


class ModelCard(QFrame):
    """One model: name and version, scores and findings, then status and the card link.

    The status sits in the footer beside the link ("Done · CPU · 142 ms", "Not
    applicable: …") so the scores come right under the model's name.
    """

    def __init__(self, model_id: str, name: str, version: str, has_card: bool,
                 colours: _Colours, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model_id = model_id
        self.state: State = "idle"
        self._colours = colours
        self.setObjectName("aiModelCard")
        self.setStyleSheet(f"QFrame#aiModelCard {{ border: 1px solid {colours.border};"
                           " border-radius: 4px; }")
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(8, 6, 8, 6)
        self._layout.setSpacing(3)

        header = QHBoxLayout()
        self.name_label = QLabel(name, self)
        self.name_label.setWordWrap(True)
        bold = QFont(self.name_label.font())
        bold.setBold(True)
        self.name_label.setFont(bold)
        self.version_label = QLabel(self.tr("v%1").replace("%1", version) if version else "",
                                    self)
        self.version_label.setStyleSheet(f"color: {colours.muted};")
        header.addWidget(self.name_label, 1)
        header.addWidget(self.version_label, 0, Qt.AlignmentFlag.AlignTop)
        self._layout.addLayout(header)

        self.notice_label = QLabel(self)
        self.notice_label.setWordWrap(True)
        self.notice_label.setStyleSheet(f"color: {colours.amber_text};")
        self.notice_label.hide()
        self._layout.addWidget(self.notice_label)

        self.results = QWidget(self)
        self.results_grid = QGridLayout(self.results)
        self.results.hide()
        self._layout.addWidget(self.results)

        footer = QHBoxLayout()
        self.status_label = QLabel(self)
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.card_button = QPushButton(self.tr("Model card"), self)
        self.card_button.setObjectName("aiModelCardLink")
        self.card_button.setFlat(True)
        self.card_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.card_button.setStyleSheet(
            "QPushButton { border: none; padding: 0; text-decoration: underline;"
            f" color: {self.palette().color(QPalette.ColorRole.Link).name()}; }}")
        self.card_button.setToolTip(self.tr("Intended use, training data and performance"))
        self.card_button.setVisible(has_card)
        footer.addWidget(self.status_label, 1)
        footer.addWidget(self.card_button, 0, Qt.AlignmentFlag.AlignTop)
        self._layout.addLayout(footer)

        self.progress = QProgressBar(self)
        self.progress.setRange(0, 0)  # indeterminate: ORT gives no progress
        self.progress.setTextVisible(False)
        self.progress.setFixedHeight(4)
        self.progress.setStyleSheet(
            f"QProgressBar {{ border: none; background: {colours.border}; }}"
            f" QProgressBar::chunk {{ background: {AMBER}; }}")
        self.progress.hide()
        self._layout.addWidget(self.progress)
        self.set_state("idle")

    # -- status --------------------------------------------------------------------------

    def set_state(self, state: State, detail: str = "") -> None:
        """Show ``state``; ``detail`` is the reason (not applicable, failed, disabled)."""
        self.state = state
        texts: dict[State, str] = {
            "idle": self.tr("Not run"),
            "waiting": self.tr("Waiting"),
            "running": self.tr("Running…"),
            "done": self.tr("Done"),
            "not_applicable": self.tr("Not applicable: %1"),
            "failed": self.tr("Failed: %1"),
            "disabled": self.tr("Disabled: %1"),
        }
        self.status_label.setText(texts[state].replace("%1", detail))
        colour = self._colours.error if state in ("failed", "disabled") else self._colours.muted
        self.status_label.setStyleSheet(f"color: {colour};")
        self.status_label.setToolTip("")
        self.progress.setVisible(state == "running")
        if state != "done":
            self.notice_label.hide()
            self.results.hide()

    def show_result(self, result: AnalysisResult) -> None:
        if not result.applicable:
            self.set_state("not_applicable", result_reason(result) or self.tr("no reason given"))
            return
        self.set_state("done")
        summary = [self.tr("Done")]
        if result.provider:
            summary.append(provider_name(result.provider))
        if result.timings_ms:
            ms = QLocale().toString(round(total_ms(result.timings_ms)))
            summary.append(self.tr("%1 ms").replace("%1", ms))
        self.status_label.setText(" · ".join(summary))
        self.status_label.setToolTip("\n".join(
            f"{stage}: {QLocale().toString(value, 'f', 1)} ms"
            for stage, value in result.timings_ms.items()))
        notices = [result.provider_notice] if result.provider_notice else []
        if result.site_calibrated:
            notices.append(self.tr("Image unlike the training data, accepted by this site's "
                                   "calibration: the model's published performance may not "
                                   "hold here."))
        self.notice_label.setText("\n".join(notices))
        self.notice_label.setVisible(bool(notices))
        self._fill_results(result)

    # -- scores and findings -------------------------------------------------------------

    def _fill_results(self, result: AnalysisResult) -> None:
        """Rebuild the score and findings grid (a fresh widget: no stale rows linger)."""
        old = self.results
        self.results = QWidget(self)
        self.results_grid = grid = QGridLayout(self.results)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(2)
        grid.setColumnStretch(0, 1)
        self._layout.replaceWidget(old, self.results)
        old.hide()
        old.deleteLater()

        row = 0
        scored = {score.label for score in result.case_scores}
        for score in sorted(result.case_scores, key=lambda s: s.probability, reverse=True):
            name = QLabel(f"{display_label(score.label)} {format_percent(score.probability)}",
                          self.results)
            name.setObjectName("aiCaseScore")
            big = QFont(name.font())
            big.setBold(True)
            big.setPointSizeF(big.pointSizeF() * 1.2)
            name.setFont(big)
            scale = case_score_text(score)
            if scale:
                grid.addWidget(name, row, 0)
                self._add_scale(score, scale, row)
            else:  # an old cached result: no thresholds, the percentage alone
                grid.addWidget(name, row, 0, 1, 2)
            self._add_badge(score.operating_point, row)
            row += 1
        # A heatmap finding of a scored label repeats that score: the row above says it.
        findings = [f for f in result.findings if f.box_xyxy_px is not None
                    or f.heatmap_key is None or f.label not in scored]
        shown = sorted((f for f in findings if f.operating_point is not None),
                       key=lambda f: f.score, reverse=True)
        below = sorted((f for f in findings if f.operating_point is None),
                       key=lambda f: f.score, reverse=True)
        if shown or below:
            caption = QLabel(self.tr("Findings"), self.results)
            caption.setStyleSheet(f"color: {self._colours.muted};")
            grid.addWidget(caption, row, 0, 1, 3)
            row += 1
        for finding in shown:
            self._add_finding(finding, row)
            row += 1
        if below:
            more = QLabel(self.tr("%n more below the operating points", "", len(below)),
                          self.results)
            more.setObjectName("aiFindingsBelow")
            more.setStyleSheet(f"color: {self._colours.muted};")
            more.setIndent(8)
            more.setToolTip("\n".join(f"{display_label(f.label)} {format_percent(f.score)}"
                                      for f in below))
            grid.addWidget(more, row, 0, 1, 3)
            row += 1
        if row == 0:
            grid.addWidget(QLabel(self.tr("No findings"), self.results), 0, 0, 1, 3)
        self.results.show()

    def _add_scale(self, score: CaseScore, text: str, row: int) -> None:
        """The band ("positive") or 1–10 score ("7/10") beside the percentage."""
        label = QLabel(text, self.results)
        label.setObjectName("aiScoreScale")
        found = score_band(score)
        weight = "bold" if found == "positive" or score.scale_cuts else "normal"
        colour = self._colours.muted if found == "likely_normal" else self._colours.amber_text
        label.setStyleSheet(f"QLabel {{ color: {colour}; font-weight: {weight}; }}")
        label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if score.thresholds is not None:
            locale = QLocale()
            label.setToolTip(
                self.tr("Thresholds of this model version: high sensitivity %1, "
                        "high specificity %2")
                .replace("%1", locale.toString(score.thresholds[0], "f", 3))
                .replace("%2", locale.toString(score.thresholds[1], "f", 3)))
        self.results_grid.addWidget(label, row, 1)

    def _add_finding(self, finding: Finding, row: int) -> None:
        label = QLabel(display_label(finding.label), self.results)
        label.setObjectName("aiFinding")
        label.setIndent(8)
        self.results_grid.addWidget(label, row, 0)
        if finding.box_xyxy_px is not None:
            score = QLabel(format_percent(finding.score), self.results)
            score.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.results_grid.addWidget(score, row, 1)
        elif finding.heatmap_key is not None:
            kind = QLabel(self.tr("heatmap"), self.results)
            kind.setStyleSheet(f"color: {self._colours.muted};")
            kind.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.results_grid.addWidget(kind, row, 1)
        self._add_badge(finding.operating_point, row)

    def _add_badge(self, point: OperatingPointName | None, row: int) -> None:
        if point is None:
            return
        if point == "high_specificity":
            badge = QLabel(self.tr("High specificity"), self.results)
            badge.setObjectName("badgeHighSpecificity")
            badge.setToolTip(self.tr("Meets the high-specificity operating point"))
            style = f"background: {AMBER}; color: #1a1a1a; border: 1px solid {AMBER};"
        else:
            badge = QLabel(self.tr("High sensitivity"), self.results)
            badge.setObjectName("badgeHighSensitivity")
            badge.setToolTip(self.tr("Meets only the high-sensitivity operating point"))
            style = f"color: {self._colours.amber_text}; border: 1px solid {AMBER};"
        badge.setStyleSheet(f"QLabel {{ {style} border-radius: 3px; padding: 0 4px; }}")
        self.results_grid.addWidget(badge, row, 2, Qt.AlignmentFlag.AlignRight)


class AiPanel(QDockWidget):
    """Results of the local AI models for the image on screen, and the AI overlay controls."""

    overlay_style_changed = Signal(object)  # OverlayStyle
    run_requested = Signal()
    cancel_requested = Signal()
    card_requested = Signal(str)  # model id

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("AI second reader"), parent)
        self.setObjectName("aiPanel")
        self._colours = _Colours(self.palette())
        self._cards: dict[str, ModelCard] = {}
        self._busy = False
        self._blinded = False
        self.notice = self.tr("AI second reader — research use only, not for clinical use.")
        body = QWidget(self)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)

        self.research_label = QLabel(self.tr("Research use only — not for clinical use"), body)
        self.research_label.setObjectName("aiResearchNotice")
        self.research_label.setWordWrap(True)
        self.research_label.setToolTip(self.notice)
        self.research_label.setStyleSheet(
            f"QLabel {{ border-left: 3px solid {AMBER}; padding: 3px 6px;"
            f" background: rgba(255, 176, 0, 40); font-weight: bold; }}")
        layout.addWidget(self.research_label)

        self.message_label = QLabel(body)
        self.message_label.setObjectName("emptyState")
        self.message_label.setWordWrap(True)
        self.message_label.setStyleSheet(f"color: {self._colours.muted};")
        layout.addWidget(self.message_label)

        self.blinded_label = QLabel(body)
        self.blinded_label.setObjectName("aiBlinded")
        self.blinded_label.setWordWrap(True)
        self.blinded_label.setStyleSheet(
            f"QLabel {{ border: 1px solid {self._colours.border}; border-radius: 4px;"
            " padding: 8px; font-weight: bold; }")
        self.blinded_label.hide()
        layout.addWidget(self.blinded_label)

        self._cards_box = QWidget()
        self._cards_layout = QVBoxLayout(self._cards_box)
        self._cards_layout.setContentsMargins(0, 0, 0, 0)
        self._cards_layout.setSpacing(6)
        self._cards_layout.addStretch(1)
        scroll = QScrollArea(body)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self._cards_box)
        self._scroll = scroll
        layout.addWidget(scroll, 1)

        layout.addWidget(self._build_controls(body))
        self.setWidget(body)
        self.set_models([])

    def _build_controls(self, parent: QWidget) -> QWidget:
        box = QFrame(parent)
        box.setObjectName("aiControls")
        box.setFrameShape(QFrame.Shape.NoFrame)
        grid = QGridLayout(box)
        grid.setContentsMargins(0, 4, 0, 0)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(4)
        line = QFrame(box)
        line.setFrameShape(QFrame.Shape.HLine)
        line.setStyleSheet(f"color: {self._colours.border};")
        grid.addWidget(line, 0, 0, 1, 3)

        self.overlays_check = QCheckBox(self.tr("Show AI overlays"), box)
        self.overlays_check.setChecked(True)
        self.overlays_check.setToolTip(self.tr("Key: A"))
        grid.addWidget(self.overlays_check, 1, 0, 1, 3)

        names = {"inferno": self.tr("Inferno"), "turbo": self.tr("Turbo")}
        self.colormap_combo = QComboBox(box)
        for name in COLORMAPS:
            self.colormap_combo.addItem(names.get(name, name.capitalize()), name)
        grid.addWidget(QLabel(self.tr("Heatmap"), box), 2, 0)
        grid.addWidget(self.colormap_combo, 2, 1, 1, 2)

        self.opacity_slider = QSlider(Qt.Orientation.Horizontal, box)
        self.opacity_slider.setRange(*OPACITY_RANGE)
        self.opacity_value = QLabel(box)
        grid.addWidget(QLabel(self.tr("Opacity"), box), 3, 0)
        grid.addWidget(self.opacity_slider, 3, 1)
        grid.addWidget(self.opacity_value, 3, 2)

        self.threshold_slider = QSlider(Qt.Orientation.Horizontal, box)
        self.threshold_slider.setRange(0, 95)
        self.threshold_slider.setToolTip(
            self.tr("Heatmap values under the threshold are not drawn"))
        self.threshold_value = QLabel(box)
        grid.addWidget(QLabel(self.tr("Threshold"), box), 4, 0)
        grid.addWidget(self.threshold_slider, 4, 1)
        grid.addWidget(self.threshold_value, 4, 2)
        for value_label in (self.opacity_value, self.threshold_value):
            value_label.setMinimumWidth(value_label.fontMetrics().horizontalAdvance("0,00 %"))
            value_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        grid.setColumnStretch(1, 1)

        self.run_button = QPushButton(box)
        self.run_button.setObjectName("aiRunButton")
        self.run_button.clicked.connect(self._on_run_clicked)
        grid.addWidget(self.run_button, 5, 0, 1, 3)

        self._apply_style(OverlayStyle())
        self.set_busy(False)
        self.overlays_check.toggled.connect(self._on_controls_changed)
        self.colormap_combo.currentIndexChanged.connect(self._on_controls_changed)
        self.opacity_slider.valueChanged.connect(self._on_controls_changed)
        self.threshold_slider.valueChanged.connect(self._on_controls_changed)
        return box

    # -- models and results --------------------------------------------------------------

    def set_models(self, entries: Sequence[ModelEntryLike]) -> None:
        """One card per model (in the given order); a disabled model shows its problems."""
        for card in self._cards.values():
            card.hide()
            card.deleteLater()
        self._cards.clear()
        for entry in entries:
            manifest = entry.manifest
            card = self._add_card(entry.id, manifest.name if manifest else entry.id,
                                  manifest.version if manifest else "",
                                  entry.card_path.is_file())
            if not entry.valid:
                card.set_state("disabled", self._problems_text(entry.problems))
                card.status_label.setToolTip("\n".join(entry.problems))
        self._update_run_button()
        self._show_message("" if entries else self.tr("No AI model is installed."))

    def clear(self, message: str | None = None) -> None:
        """Forget the shown results (no study, or nothing the models can analyse)."""
        for card in self._cards.values():
            if card.state != "disabled":
                card.set_state("idle")
        self._show_message(message or "")

    def show_running(self, model_id: str) -> None:
        self._card(model_id).set_state("running")
        self._show_message("")

    def show_result(self, result: AnalysisResult) -> None:
        """Done (scores, findings), or not applicable with the reason."""
        self._card(result.model_id, result.model_version).show_result(result)
        self._show_message("")

    def show_failed(self, model_id: str, reason: str) -> None:
        """The model could not run on this image (e.g. ``ModelUnavailable``)."""
        self._card(model_id).set_state("failed", reason)

    def set_busy(self, busy: bool) -> None:
        """Run ↔ Cancel. Becoming busy queues idle models; stopping un-queues the leftovers."""
        self._busy = busy
        for card in self._cards.values():
            if busy and card.state == "idle":
                card.set_state("waiting")
            elif not busy and card.state in ("waiting", "running"):
                card.set_state("idle")
        self.run_button.setText(self.tr("Cancel") if busy else self.tr("Run AI"))
        self._update_run_button()

    @property
    def busy(self) -> bool:
        return self._busy

    def set_blinded(self, blinded: bool, ready: bool) -> None:
        """Withhold the results until the first reading is signed (blinded first read).

        While blinded the cards (still updated underneath) are hidden, the panel says
        whether results are waiting (``ready``), and the overlay controls are disabled;
        Run / Cancel stay usable.
        """
        self._blinded = blinded
        self.blinded_label.setText(
            self.tr("AI results ready — sign your reading to see them") if ready else
            self.tr("AI is reading in the background — sign your reading to see its results"))
        self.blinded_label.setVisible(blinded)
        self._scroll.setVisible(not blinded)
        for control in (self.overlays_check, self.colormap_combo, self.opacity_slider,
                        self.threshold_slider):
            control.setEnabled(not blinded)
        self.message_label.setVisible(not blinded and bool(self.message_label.text()))

    @property
    def blinded(self) -> bool:
        return self._blinded

    def model_card(self, model_id: str) -> ModelCard | None:
        return self._cards.get(model_id)

    # -- overlay style -------------------------------------------------------------------

    def overlay_style(self) -> OverlayStyle:
        return OverlayStyle(
            visible=self.overlays_check.isChecked(),
            colormap=str(self.colormap_combo.currentData()),
            opacity=self.opacity_slider.value() / 100.0,
            threshold=self.threshold_slider.value() / 100.0)

    def set_overlay_style(self, style: OverlayStyle) -> None:
        """Show ``style`` (e.g. restored from the settings) without emitting a change."""
        self._apply_style(style)

    def set_overlays_visible(self, visible: bool) -> None:
        """Follow the viewer's toggle key without echoing a change back."""
        self._apply_style(replace(self.overlay_style(), visible=visible))

    def _apply_style(self, style: OverlayStyle) -> None:
        controls = (self.overlays_check, self.colormap_combo, self.opacity_slider,
                    self.threshold_slider)
        for control in controls:
            control.blockSignals(True)
        try:
            self.overlays_check.setChecked(style.visible)
            index = self.colormap_combo.findData(style.colormap)
            self.colormap_combo.setCurrentIndex(max(index, 0))
            self.opacity_slider.setValue(round(style.opacity * 100))
            self.threshold_slider.setValue(round(style.threshold * 100))
        finally:
            for control in controls:
                control.blockSignals(False)
        self._update_value_labels()

    def _update_value_labels(self) -> None:
        locale = QLocale()
        self.opacity_value.setText(f"{locale.toString(self.opacity_slider.value())}{NBSP}%")
        self.threshold_value.setText(locale.toString(self.threshold_slider.value() / 100.0,
                                                     "f", 2))

    def _on_controls_changed(self) -> None:
        self._update_value_labels()
        self.overlay_style_changed.emit(self.overlay_style())

    # -- helpers -------------------------------------------------------------------------

    def _update_run_button(self) -> None:
        """Cancel is always possible; Run needs a model that is not disabled."""
        self.run_button.setEnabled(
            self._busy or any(card.state != "disabled" for card in self._cards.values()))

    def _on_run_clicked(self) -> None:
        if self._busy:
            self.cancel_requested.emit()
        else:
            self.run_requested.emit()

    def _card(self, model_id: str, version: str = "") -> ModelCard:
        """The model's card; a result for a model not listed gets a card of its own."""
        card = self._cards.get(model_id)
        return card if card is not None else self._add_card(model_id, model_id, version, False)

    def _add_card(self, model_id: str, name: str, version: str, has_card: bool) -> ModelCard:
        card = ModelCard(model_id, name, version, has_card, self._colours, self._cards_box)
        card.card_button.clicked.connect(lambda: self.card_requested.emit(model_id))
        self._cards_layout.insertWidget(self._cards_layout.count() - 1, card)
        self._cards[model_id] = card
        return card

    def _problems_text(self, problems: Sequence[str]) -> str:
        if not problems:
            return self.tr("unknown problem")
        if len(problems) == 1:
            return problems[0]
        return problems[0] + " " + self.tr("(+%n more)", "", len(problems) - 1)

    def _show_message(self, text: str) -> None:
        self.message_label.setText(text)
        self.message_label.setVisible(bool(text) and not self._blinded)
