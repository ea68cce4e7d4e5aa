"""The "My reading" dock: the radiologist's own reading of the open study.

From top to bottom: a state line (draft autosaved / signed, by whom, which version),
the study kind's assessment (chest: Normal / Abnormal; bone: fracture present or
absent per image; mammography: BI-RADS and density per breast), the marks drawn on
the images (label, confidence, delete; a click shows the mark), the free text, and
Sign / Amend. Every change goes through the :class:`ReadingController` (undoable,
saved at once); the panel only shows what the controller holds.

Keys (actions of the main window, also in the tooltips): U normal ("unremarkable"),
Shift+U abnormal, Ctrl+Return sign; drawing tools P, B, E, G, S; Esc back to
window/level. N / Shift+N walk through the concordance.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from functools import partial

from PySide6.QtCore import QCoreApplication, QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDockWidget,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.reading_session import ReadingController
from reading.model import Assessment, BreastAssessment, Mark, Reading
from reading.vocabulary import BIRADS_CATEGORIES, BREASTS, CONFIDENCES, DENSITIES, MARK_LABELS

SIGN_KEY = "Ctrl+Return"  # on the window's Reading > Sign action
READER_CYAN = "#00e5ff"  # viewer.overlays.CYAN: the reader's own marks


def _t(text: str) -> str:
    return QCoreApplication.translate("ReadingLabels", text)


def label_text(label: str) -> str:
    """A vocabulary label (stored in English) as the reader sees it, translated."""
    names = {
        "nodule_mass": _t("Nodule/mass"), "consolidation": _t("Consolidation"),
        "effusion": _t("Effusion"), "pneumothorax": _t("Pneumothorax"),
        "cardiomegaly": _t("Cardiomegaly"), "other": _t("Other"),
        "fracture": _t("Fracture"), "dislocation": _t("Dislocation"),
        "mass": _t("Mass"), "calcifications": _t("Calcifications"),
        "architectural_distortion": _t("Architectural distortion"),
        "asymmetry": _t("Asymmetry"),
    }
    return names.get(label, label.replace("_", " ").capitalize())


def confidence_text(confidence: str | None) -> str:
    names = {None: _t("—"), "possible": _t("Possible"), "probable": _t("Probable"),
             "definite": _t("Definite")}
    return names.get(confidence, confidence or "")


def shape_text(shape: str) -> str:
    names = {"point": _t("Point"), "box": _t("Box"), "ellipse": _t("Ellipse"),
             "polygon": _t("Polygon")}
    return names.get(shape, shape)


def _local_time(iso: str | None, fmt: str) -> str:
    if not iso:
        return ""
    try:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).astimezone().strftime(fmt)
    except ValueError:
        return iso


class ReadingPanel(QDockWidget):
    """The open study's reading (see the module docstring)."""

    mark_activated = Signal(str)  # mark id: show it on the view
    default_label_changed = Signal(str)

    def __init__(self, controller: ReadingController, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("My reading"), parent)
        self.setObjectName("readingPanel")
        self.controller = controller
        self._kind: str | None = None
        self._saved_at = ""
        self._last_label: dict[str, str] = {}  # per kind: the label of the last new mark
        body = QWidget(self)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)

        self.state_label = QLabel(body)
        self.state_label.setObjectName("readingState")
        self.state_label.setWordWrap(True)
        layout.addWidget(self.state_label)

        self.assessment_box = QFrame(body)
        self.assessment_layout = QGridLayout(self.assessment_box)
        self.assessment_layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.assessment_box)

        labels_row = QHBoxLayout()
        self.marks_caption = QLabel(self.tr("Marks"), body)
        labels_row.addWidget(self.marks_caption, 1)
        labels_row.addWidget(QLabel(self.tr("New marks:"), body))
        self.default_label_combo = QComboBox(body)
        self.default_label_combo.setObjectName("defaultLabel")
        self.default_label_combo.setToolTip(self.tr(
            "Label given to the next mark you draw (P point, B box, E ellipse, G polygon, "
            "S select and move, Delete removes the selected mark, Esc back to window/level)"))
        self.default_label_combo.activated.connect(self._on_default_label)
        labels_row.addWidget(self.default_label_combo)
        layout.addLayout(labels_row)

        self.marks_table = QTableWidget(0, 4, body)
        self.marks_table.setObjectName("readingMarks")
        self.marks_table.setHorizontalHeaderLabels(
            [self.tr("Mark"), self.tr("Label"), self.tr("Confidence"), ""])
        header = self.marks_table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        self.marks_table.verticalHeader().hide()
        self.marks_table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.marks_table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.marks_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.marks_table.cellClicked.connect(self._on_mark_clicked)
        self.marks_table.setMinimumHeight(90)
        layout.addWidget(self.marks_table, 1)

        layout.addWidget(QLabel(self.tr("Comments"), body))
        self.text_edit = QPlainTextEdit(body)
        self.text_edit.setObjectName("readingText")
        self.text_edit.setPlaceholderText(self.tr("Free text (saved as you type)"))
        self.text_edit.setMaximumHeight(110)
        self.text_edit.textChanged.connect(self._on_text_changed)
        layout.addWidget(self.text_edit)

        buttons = QHBoxLayout()
        self.sign_button = QPushButton(self.tr("Sign"), body)
        self.sign_button.setObjectName("signButton")
        self.sign_button.setToolTip(self.tr("Sign this reading (Ctrl+Return); a signed "
                                            "reading can only be amended"))
        self.sign_button.clicked.connect(self.sign)
        self.amend_button = QPushButton(self.tr("Amend"), body)
        self.amend_button.setObjectName("amendButton")
        self.amend_button.setToolTip(self.tr("Correct a signed reading: a new version that "
                                             "points to the signed one"))
        self.amend_button.clicked.connect(self.controller.amend)
        buttons.addWidget(self.sign_button, 1)
        buttons.addWidget(self.amend_button)
        layout.addLayout(buttons)

        self.empty_label = QLabel(self.tr("Open a study to record your reading."), body)
        self.empty_label.setObjectName("emptyState")
        self.empty_label.setWordWrap(True)
        layout.addWidget(self.empty_label)
        self._content = [self.assessment_box, self.marks_caption, self.marks_table,
                         self.text_edit, self.sign_button, self.amend_button]
        self.setWidget(body)
        self.normal_button: QPushButton | None = None
        self.abnormal_button: QPushButton | None = None
        self._fracture_groups: dict[str, QButtonGroup] = {}
        self._breast_combos: dict[str, tuple[QComboBox, QComboBox]] = {}
        self._marks_shown: tuple[object, ...] = ()
        controller.reading_changed.connect(self.show_reading)
        self.show_reading(controller.reading)

    # -- what new marks get --------------------------------------------------------------

    @property
    def default_label(self) -> str:
        return str(self.default_label_combo.currentData() or "")

    def _on_default_label(self, _index: int) -> None:
        if self._kind is not None:
            self._last_label[self._kind] = self.default_label
        self.default_label_changed.emit(self.default_label)

    # -- showing the reading -------------------------------------------------------------

    def show_reading(self, reading: object) -> None:
        """Fill the panel from ``reading`` (None: no study, or no reading form for it)."""
        if not isinstance(reading, Reading):
            self._kind = None
            for widget in self._content:
                widget.setVisible(False)
            self.empty_label.setText(
                self.tr("This kind of study has no reading form yet (chest and bone "
                        "radiographs, mammography).") if self.controller.study_uid
                else self.tr("Open a study to record your reading."))
            self.empty_label.show()
            self.state_label.clear()
            self.default_label_combo.setEnabled(False)
            return
        self.empty_label.hide()
        for widget in self._content:
            widget.setVisible(True)
        if reading.kind != self._kind:
            self._kind = reading.kind
            self._build_assessment(reading)
            self._fill_default_labels(reading)
        editable = not reading.signed
        if editable:
            self._saved_at = datetime.now().strftime("%H:%M:%S")
        self._show_state(reading)
        self._show_assessment(reading)
        self._show_marks(reading)
        if self.text_edit.toPlainText() != reading.text and (
                not self.text_edit.hasFocus() or not editable):
            with QSignalBlocker(self.text_edit):
                self.text_edit.setPlainText(reading.text)
        self.text_edit.setReadOnly(not editable)
        self.assessment_box.setEnabled(editable)
        self.default_label_combo.setEnabled(editable)
        self.sign_button.setEnabled(editable)
        self.amend_button.setEnabled(reading.signed)

    def _show_state(self, reading: Reading) -> None:
        if reading.signed:
            text = self.tr("Signed %1 by %2, version %3").replace(
                "%1", _local_time(reading.signed_at, "%d/%m/%Y %H:%M")).replace(
                "%2", reading.reader).replace("%3", str(reading.version))
            style = "color: palette(text);"
        else:
            text = self.tr("Draft — autosaved %1").replace("%1", self._saved_at)
            if self.controller.ai_withheld:
                text += "\n" + self.tr("First read: the AI stays hidden until you sign.")
            elif reading.purpose == "final":
                text += "\n" + self.tr("AI revealed: accept or dismiss its findings, then "
                                       "sign the final reading.")
            elif reading.purpose == "amendment":
                text += "\n" + self.tr("Amendment of version %1.").replace(
                    "%1", str(max(reading.version - 1, 1)))
            style = f"border-left: 3px solid {READER_CYAN}; padding-left: 4px;"
        self.state_label.setText(text)
        self.state_label.setStyleSheet(f"QLabel {{ {style} }}")

    # -- assessment ----------------------------------------------------------------------

    def _clear_assessment(self) -> None:
        while self.assessment_layout.count():
            item = self.assessment_layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.normal_button = self.abnormal_button = None
        self._fracture_groups = {}
        self._breast_combos = {}

    def _choice(self, text: str, tip: str, slot: Callable[[], None]) -> QPushButton:
        button = QPushButton(text, self.assessment_box)
        button.setCheckable(True)
        button.setStyleSheet(f"QPushButton:checked {{ border: 2px solid {READER_CYAN};"
                             " font-weight: bold; }")
        button.setToolTip(tip)
        button.clicked.connect(slot)
        return button

    def _build_assessment(self, reading: Reading) -> None:
        self._clear_assessment()
        grid = self.assessment_layout
        if reading.kind == "cxr":
            self.normal_button = self._choice(
                self.tr("Normal"), self.tr("Normal chest radiograph (U)"),
                lambda: self.set_cxr("normal"))
            self.abnormal_button = self._choice(
                self.tr("Abnormal"), self.tr("Abnormal chest radiograph (Shift+U)"),
                lambda: self.set_cxr("abnormal"))
            self.normal_button.setObjectName("normalButton")
            self.abnormal_button.setObjectName("abnormalButton")
            grid.addWidget(self.normal_button, 0, 0)
            grid.addWidget(self.abnormal_button, 0, 1)
        elif reading.kind == "bone":
            images = self.controller.images
            uids = images.sop_order if images is not None else ()
            for row, uid in enumerate(uids):
                grid.addWidget(QLabel(self.tr("Image %1").replace("%1", str(row + 1)),
                                      self.assessment_box), row, 0)
                group = QButtonGroup(self.assessment_box)
                for col, (text, present) in enumerate(((self.tr("Fracture"), True),
                                                       (self.tr("No fracture"), False)), 1):
                    button = self._choice(text, text, partial(self.set_fracture, uid, present))
                    group.addButton(button, int(present))
                    grid.addWidget(button, row, col)
                self._fracture_groups[uid] = group
        elif reading.kind == "mammo":
            grid.addWidget(QLabel(self.tr("BI-RADS"), self.assessment_box), 0, 1)
            grid.addWidget(QLabel(self.tr("Density"), self.assessment_box), 0, 2)
            sides = {"R": self.tr("Right breast"), "L": self.tr("Left breast")}
            for row, side in enumerate(BREASTS, 1):
                grid.addWidget(QLabel(sides[side], self.assessment_box), row, 0)
                birads = QComboBox(self.assessment_box)
                birads.setObjectName(f"birads{side}")
                birads.addItem(_t("—"), None)
                for category in BIRADS_CATEGORIES:
                    birads.addItem(str(category), category)
                density = QComboBox(self.assessment_box)
                density.setObjectName(f"density{side}")
                density.addItem(_t("—"), None)
                for value in DENSITIES:
                    density.addItem(value, value)
                birads.activated.connect(lambda _i, s=side: self._on_breast(s))
                density.activated.connect(lambda _i, s=side: self._on_breast(s))
                grid.addWidget(birads, row, 1)
                grid.addWidget(density, row, 2)
                self._breast_combos[side] = (birads, density)

    def _show_assessment(self, reading: Reading) -> None:
        a = reading.assessment
        if self.normal_button is not None and self.abnormal_button is not None:
            self.normal_button.setChecked(a.cxr == "normal")
            self.abnormal_button.setChecked(a.cxr == "abnormal")
        for uid, group in self._fracture_groups.items():
            present = a.fracture_by_image.get(uid)
            for button in group.buttons():
                button.setChecked(present is not None and group.id(button) == int(present))
        for side, (birads, density) in self._breast_combos.items():
            breast = a.breasts.get(side, BreastAssessment())
            with QSignalBlocker(birads), QSignalBlocker(density):
                birads.setCurrentIndex(max(birads.findData(breast.birads), 0))
                density.setCurrentIndex(max(density.findData(breast.density), 0))

    def set_cxr(self, value: str) -> None:
        reading = self.controller.reading
        if reading is not None:
            self.controller.set_assessment(replace(reading.assessment, cxr=value))
            self._show_assessment(self.controller.reading or reading)

    def set_fracture(self, sop_instance_uid: str, present: bool) -> None:
        reading = self.controller.reading
        if reading is not None:
            images = {**reading.assessment.fracture_by_image, sop_instance_uid: present}
            self.controller.set_assessment(replace(reading.assessment,
                                                   fracture_by_image=images))
            self._show_assessment(self.controller.reading or reading)

    def _on_breast(self, side: str) -> None:
        reading = self.controller.reading
        if reading is None:
            return
        birads, density = self._breast_combos[side]
        breasts = {**reading.assessment.breasts,
                   side: BreastAssessment(birads.currentData(), density.currentData())}
        self.controller.set_assessment(Assessment(reading.assessment.cxr,
                                                  reading.assessment.fracture_by_image,
                                                  breasts))

    # -- marks ---------------------------------------------------------------------------

    def _fill_default_labels(self, reading: Reading) -> None:
        combo = self.default_label_combo
        with QSignalBlocker(combo):
            combo.clear()
            for label in MARK_LABELS[reading.kind]:
                combo.addItem(label_text(label), label)
            last = self._last_label.get(reading.kind)
            combo.setCurrentIndex(max(combo.findData(last), 0) if last else 0)

    def remember_label(self, label: str) -> None:
        """The label of the mark just drawn becomes the default for the next one."""
        if self._kind is None:
            return
        self._last_label[self._kind] = label
        index = self.default_label_combo.findData(label)
        if index >= 0:
            self.default_label_combo.setCurrentIndex(index)

    def _show_marks(self, reading: Reading) -> None:
        table = self.marks_table
        shown = (reading.reading_id, reading.marks, reading.signed)
        if shown == self._marks_shown:  # unchanged: keep the widgets (and an open combo)
            return
        self._marks_shown = shown
        selected = self.selected_mark_id()
        table.setRowCount(0)  # drops the old rows' widgets at once
        table.setRowCount(len(reading.marks))
        editable = not reading.signed
        for row, mark in enumerate(reading.marks):
            item = QTableWidgetItem(f"{row + 1} · {shape_text(mark.shape)}")
            item.setData(Qt.ItemDataRole.UserRole, mark.id)
            table.setItem(row, 0, item)
            table.setCellWidget(row, 1, self._label_combo(mark, reading, editable))
            table.setCellWidget(row, 2, self._confidence_combo(mark, editable))
            delete = QToolButton()
            delete.setText("✕")
            delete.setObjectName("deleteMark")
            delete.setToolTip(self.tr("Delete this mark (Delete)"))
            delete.setEnabled(editable)
            delete.clicked.connect(lambda _=False, i=mark.id: self.controller.delete_mark(i))
            table.setCellWidget(row, 3, delete)
            if mark.id == selected:
                table.selectRow(row)
        self.marks_caption.setText(self.tr("Marks (%1)").replace("%1", str(len(reading.marks))))

    def _label_combo(self, mark: Mark, reading: Reading, editable: bool) -> QComboBox:
        combo = QComboBox()
        for label in MARK_LABELS[reading.kind]:
            combo.addItem(label_text(label), label)
        combo.setCurrentIndex(max(combo.findData(mark.label), 0))
        combo.setEnabled(editable)
        combo.activated.connect(lambda _i, c=combo, i=mark.id:
                                self.controller.relabel(i, str(c.currentData())))
        return combo

    def _confidence_combo(self, mark: Mark, editable: bool) -> QComboBox:
        combo = QComboBox()
        for value in (None, *CONFIDENCES):
            combo.addItem(confidence_text(value), value)
        combo.setCurrentIndex(max(combo.findData(mark.confidence), 0))
        combo.setEnabled(editable)
        combo.activated.connect(lambda _i, c=combo, i=mark.id:
                                self.controller.set_confidence(i, c.currentData()))
        return combo

    def selected_mark_id(self) -> str | None:
        rows = self.marks_table.selectionModel().selectedRows()
        if not rows:
            return None
        item = self.marks_table.item(rows[0].row(), 0)
        return str(item.data(Qt.ItemDataRole.UserRole)) if item is not None else None

    def select_mark(self, mark_id: str | None) -> None:
        """Follow a selection made on the view."""
        table = self.marks_table
        with QSignalBlocker(table):
            table.clearSelection()
            for row in range(table.rowCount()):
                item = table.item(row, 0)
                if item is not None and item.data(Qt.ItemDataRole.UserRole) == mark_id:
                    table.selectRow(row)

    def _on_mark_clicked(self, row: int, _column: int) -> None:
        item = self.marks_table.item(row, 0)
        if item is not None:
            self.mark_activated.emit(str(item.data(Qt.ItemDataRole.UserRole)))

    # -- text and sign-off ---------------------------------------------------------------

    def _on_text_changed(self) -> None:
        self.controller.set_text(self.text_edit.toPlainText())

    def sign(self) -> None:
        self.controller.sign()
