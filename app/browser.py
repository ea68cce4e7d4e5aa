"""Study browser: patients → studies → series tree, and the selected study's series as thumbnails.

Double-click a series (tree or thumbnail) to open it; drag it onto a viewport.
The tree is updated in place (:meth:`StudyBrowser.set_catalog`), so refreshing it
while an import runs keeps the user's selection, expansion and scroll position.
The "Reading" column shows each study's reading status and AI triage flag
(:meth:`StudyBrowser.set_reading_statuses`); "Discordant first" moves the studies
whose reading disagrees with the AI (and their patients) to the top.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from PySide6.QtCore import QDate, QLocale, QMimeData, QSize, Qt, Signal
from PySide6.QtGui import QAction, QBrush, QColor, QDrag, QFont, QIcon, QImage, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QSplitter,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.catalog import (
    PatientRow,
    SeriesRow,
    StudyRow,
    display_name,
    parse_dicom_date,
    reading_rank,
)
from app.concordance_panel import role_colour

SERIES_MIME = "application/x-tandem-series"
THUMB_SIZE = 128
_KIND = Qt.ItemDataRole.UserRole
_UID = Qt.ItemDataRole.UserRole + 1
_SEQ = Qt.ItemDataRole.UserRole + 2  # creation order: the order kept when nothing is sorted
_RANK = Qt.ItemDataRole.UserRole + 3  # 0: sorts first (discordant, when asked)
COL_NAME, COL_DATE, COL_MODALITY, COL_IMAGES, COL_READING = range(5)


def format_dicom_date(value: str) -> str:
    """A DICOM date in the current locale's short format (raw text when malformed)."""
    parsed = parse_dicom_date(value)
    if parsed is None:
        return value
    locale = QLocale()
    pattern = locale.dateFormat(QLocale.FormatType.ShortFormat)
    if "yyyy" not in pattern:  # two-digit years are ambiguous for birth dates
        pattern = pattern.replace("yy", "yyyy")
    return locale.toString(QDate(parsed.year, parsed.month, parsed.day), pattern)


def series_mime(series_uid: str) -> QMimeData:
    mime = QMimeData()
    mime.setData(SERIES_MIME, series_uid.encode("ascii", "replace"))
    mime.setText(series_uid)
    return mime


def series_uid_from_mime(mime: QMimeData) -> str | None:
    if not mime.hasFormat(SERIES_MIME):
        return None
    return bytes(mime.data(SERIES_MIME).data()).decode("ascii", "replace") or None


class _TreeItem(QTreeWidgetItem):
    """A row that sorts by its rank, then by creation order (whatever column is asked)."""

    def __lt__(self, other: QTreeWidgetItem) -> bool:
        return _sort_key(self) < _sort_key(other)


def _sort_key(item: QTreeWidgetItem) -> tuple[int, int]:
    rank, seq = item.data(0, _RANK), item.data(0, _SEQ)
    return (1 if rank is None else int(rank), 0 if seq is None else int(seq))


class _SeriesTree(QTreeWidget):
    """Tree whose series rows can be dragged to a viewport."""

    def startDrag(self, supportedActions: Qt.DropAction) -> None:
        item = self.currentItem()
        if item is None or item.data(0, _KIND) != "series":
            return
        drag = QDrag(self)
        drag.setMimeData(series_mime(str(item.data(0, _UID))))
        drag.exec(Qt.DropAction.CopyAction)


class _ThumbnailList(QListWidget):
    def startDrag(self, supportedActions: Qt.DropAction) -> None:
        item = self.currentItem()
        if item is None:
            return
        drag = QDrag(self)
        drag.setMimeData(series_mime(str(item.data(_UID))))
        icon = item.icon()
        if not icon.isNull():
            drag.setPixmap(icon.pixmap(64, 64))
        drag.exec(Qt.DropAction.CopyAction)


class StudyBrowser(QWidget):
    """Left panel of the main window."""

    series_activated = Signal(str)  # series instance UID (double-click)
    study_selected = Signal(str)  # study instance UID
    thumbnails_wanted = Signal(list)  # series UIDs whose thumbnails are not known yet

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tree = _SeriesTree(self)
        self.tree.setObjectName("studyTree")
        self.tree.setColumnCount(5)
        self.tree.setHeaderLabels(
            [self.tr("Patient / study / series"), self.tr("Date"), self.tr("Modality"),
             self.tr("Images"), self.tr("Reading")]
        )
        self.tree.setAlternatingRowColors(True)
        self.tree.setUniformRowHeights(True)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setColumnWidth(COL_NAME, 220)
        self.tree.setColumnWidth(COL_DATE, 82)
        self.tree.setColumnWidth(COL_MODALITY, 56)
        self.tree.setColumnWidth(COL_IMAGES, 44)
        self.tree.setColumnWidth(COL_READING, 150)
        self.tree.itemDoubleClicked.connect(self._on_tree_double_clicked)
        self.tree.currentItemChanged.connect(self._on_current_changed)

        self.thumbnails = _ThumbnailList(self)
        self.thumbnails.setObjectName("seriesThumbnails")
        self.thumbnails.setViewMode(QListWidget.ViewMode.IconMode)
        self.thumbnails.setIconSize(QSize(THUMB_SIZE, THUMB_SIZE))
        self.thumbnails.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.thumbnails.setMovement(QListWidget.Movement.Static)
        self.thumbnails.setWordWrap(True)
        self.thumbnails.setSpacing(4)
        self.thumbnails.setDragEnabled(True)
        self.thumbnails.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.thumbnails.itemDoubleClicked.connect(self._on_thumbnail_double_clicked)

        # Checkable, in the tree's context menu and as a small toggle above it.
        self.discordant_first_action = QAction(self.tr("Discordant first"), self)
        self.discordant_first_action.setCheckable(True)
        self.discordant_first_action.setToolTip(
            self.tr("Show the studies whose reading disagrees with the AI first"))
        self.discordant_first_action.toggled.connect(self._sort)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.tree.addAction(self.discordant_first_action)
        self.discordant_first_button = QToolButton(self)
        self.discordant_first_button.setObjectName("discordantFirst")
        self.discordant_first_button.setDefaultAction(self.discordant_first_action)
        self.discordant_first_button.setAutoRaise(True)
        self.discordant_first_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)

        tree_box = QWidget(self)
        tree_layout = QVBoxLayout(tree_box)
        tree_layout.setContentsMargins(0, 0, 0, 0)
        tree_layout.setSpacing(0)
        toggles = QHBoxLayout()
        toggles.setContentsMargins(2, 0, 2, 0)
        toggles.addStretch(1)
        toggles.addWidget(self.discordant_first_button)
        tree_layout.addLayout(toggles)
        tree_layout.addWidget(self.tree)

        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(tree_box)
        splitter.addWidget(self.thumbnails)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

        self._items: dict[tuple[str, str], QTreeWidgetItem] = {}
        self._studies: dict[str, StudyRow] = {}
        self._series: dict[str, SeriesRow] = {}
        self._thumbs: dict[str, QPixmap] = {}
        self._warnings: dict[str, tuple[str, ...]] = {}
        self._shown_study: str | None = None
        self._statuses: dict[str, str] = {}
        self._ai_flags: dict[str, str] = {}
        self._statuses_known = False  # before the first call, the column stays empty
        self._next_seq = 0

    # -- content ---------------------------------------------------------------------------

    def set_catalog(self, patients: Sequence[PatientRow]) -> None:
        """Show ``patients``, adding and updating rows in place (selection is kept)."""
        self.tree.setUpdatesEnabled(False)
        try:
            for patient in patients:
                p_item = self._upsert(None, ("patient", patient.key), self._patient_texts(patient))
                for study in patient.studies:
                    self._studies[study.study_uid] = study
                    s_item = self._upsert(p_item, ("study", study.study_uid),
                                          self._study_texts(study))
                    for series in study.series:
                        self._series[series.series_uid] = series
                        self._upsert(s_item, ("series", series.series_uid),
                                     self._series_texts(series),
                                     self._warnings.get(series.series_uid, ()))
            self._sort()
            if self.tree.currentItem() is None and self.tree.topLevelItemCount():
                self._select_first_study()
        finally:
            self.tree.setUpdatesEnabled(True)
        if self._shown_study is not None and self._shown_study in self._studies:
            self._show_thumbnails(self._studies[self._shown_study])

    def set_reading_statuses(self, statuses: Mapping[str, str],
                             ai_flags: Mapping[str, str]) -> None:
        """Each study's reading status and AI flag (studies not listed: unread, no flag).

        ``statuses`` values: unread, ai_running, in_progress, read, discordant, amended;
        ``ai_flags`` value "likely_normal" shows "AI: likely normal" — a triage hint,
        never a report. Rows are updated in place; selection and expansion are kept.
        """
        self._statuses = dict(statuses)
        self._ai_flags = dict(ai_flags)
        self._statuses_known = True
        for uid in self._studies:
            item = self._items.get(("study", uid))
            if item is not None:
                self._show_reading(item, uid)
        self._sort()

    def reading_text(self, study_uid: str) -> str:
        """What the "Reading" column says for ``study_uid``."""
        item = self._items.get(("study", study_uid))
        return item.text(COL_READING) if item is not None else ""

    def study_order(self) -> list[str]:
        """Study UIDs in the order the tree shows them (patients top to bottom)."""
        order: list[str] = []
        for p in range(self.tree.topLevelItemCount()):
            patient = self.tree.topLevelItem(p)
            children = (patient.child(s) for s in range(patient.childCount())) if patient else ()
            order += [str(child.data(0, _UID)) for child in children if child is not None]
        return order

    def current_study_uid(self) -> str | None:
        return self._shown_study

    def study_uids(self) -> list[str]:
        return list(self._studies)

    def series_row(self, series_uid: str) -> SeriesRow | None:
        return self._series.get(series_uid)

    def study_row(self, study_uid: str) -> StudyRow | None:
        return self._studies.get(study_uid)

    def first_series_uid(self) -> str | None:
        """The first series (in display order) of the first study, if any."""
        for study in self._studies.values():
            if study.series:
                return study.series[0].series_uid
        return None

    def select_series(self, series_uid: str) -> None:
        item = self._items.get(("series", series_uid))
        if item is not None:
            self.tree.setCurrentItem(item)

    def set_series_warnings(self, warnings: dict[str, tuple[str, ...]]) -> None:
        """Flag series whose geometry or content needs the reader's attention (⚠ + tooltip)."""
        self._warnings.update(warnings)
        for uid, messages in warnings.items():
            item = self._items.get(("series", uid))
            row = self._series.get(uid)
            if item is not None and row is not None:
                self._upsert(None, ("series", uid), self._series_texts(row), messages)
        if self._shown_study is not None and self._shown_study in self._studies:
            self._show_thumbnails(self._studies[self._shown_study])

    def series_warnings(self, series_uid: str) -> tuple[str, ...]:
        return self._warnings.get(series_uid, ())

    def set_thumbnail(self, series_uid: str, image: QImage) -> None:
        """A thumbnail finished rendering (called on the UI thread)."""
        if image.isNull():
            return
        pixmap = QPixmap.fromImage(image)
        self._thumbs[series_uid] = pixmap
        for row in range(self.thumbnails.count()):
            item = self.thumbnails.item(row)
            if item.data(_UID) == series_uid:
                item.setIcon(QIcon(pixmap))

    # -- internals -------------------------------------------------------------------------

    def _patient_texts(self, p: PatientRow) -> list[str]:
        name = display_name(p.name) or self.tr("(no name)")
        label = f"{name} — {p.patient_id}" if p.patient_id else name
        return [label, format_dicom_date(p.birth_date), "", "", ""]

    def _study_texts(self, s: StudyRow) -> list[str]:
        desc = s.description or self.tr("(no description)")
        if s.accession:
            desc += " — " + self.tr("Acc. %1").replace("%1", s.accession)
        return [desc, format_dicom_date(s.date), s.modalities, str(s.image_count),
                self._reading_texts(s.study_uid)]

    def _series_texts(self, s: SeriesRow) -> list[str]:
        number = f"#{s.number} " if s.number is not None else ""
        label = " — ".join(t for t in (f"{number}{s.modality}".strip(), s.description) if t)
        return [label or self.tr("(no description)"), "", s.modality, str(s.image_count), ""]

    def _upsert(self, parent: QTreeWidgetItem | None, key: tuple[str, str], texts: list[str],
                warnings: Iterable[str] = ()) -> QTreeWidgetItem:
        item = self._items.get(key)
        if item is None:
            item = _TreeItem(texts)
            item.setData(0, _KIND, key[0])
            item.setData(0, _UID, key[1])
            item.setData(0, _SEQ, self._next_seq)
            self._next_seq += 1
            if key[0] == "series":
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsDragEnabled)
            if parent is None:
                self.tree.addTopLevelItem(item)
                item.setExpanded(True)
            else:
                parent.addChild(item)
                if key[0] == "study":
                    item.setExpanded(True)
            self._items[key] = item
        else:
            for column, text in enumerate(texts):
                if item.text(column) != text:
                    item.setText(column, text)
        warning_text = "\n".join(warnings)
        item.setToolTip(COL_NAME, "\n".join(t for t in (texts[0], warning_text) if t))
        if warning_text:
            item.setText(COL_NAME, "⚠ " + texts[0])
        if key[0] == "study":
            self._show_reading(item, key[1])
        return item

    def _status_texts(self) -> dict[str, str]:
        return {"unread": self.tr("unread"), "ai_running": self.tr("AI running"),
                "in_progress": self.tr("in progress"), "read": self.tr("read"),
                "discordant": self.tr("discordant"), "amended": self.tr("amended")}

    def _reading_texts(self, study_uid: str) -> str:
        if not self._statuses_known:
            return ""
        status = self._statuses.get(study_uid, "unread")
        text = self._status_texts().get(status, status)
        if self._ai_flags.get(study_uid) == "likely_normal":
            text += " · " + self.tr("AI: likely normal")
        return text

    def _show_reading(self, item: QTreeWidgetItem, study_uid: str) -> None:
        """The study row's reading cell: text, colour (discordant), italics (amended)."""
        text = self._reading_texts(study_uid)
        if item.text(COL_READING) != text:
            item.setText(COL_READING, text)
        status = self._statuses.get(study_uid, "unread")
        font = QFont(self.tree.font())
        font.setBold(status == "discordant")
        font.setItalic(status == "amended")
        item.setFont(COL_READING, font)
        if status == "discordant":
            item.setForeground(COL_READING, QBrush(QColor(role_colour("ai_only",
                                                                      self.palette()))))
        else:
            item.setForeground(COL_READING, QBrush())
        tip = {"discordant": self.tr("Your reading and the AI disagree: see the concordance"),
               "amended": self.tr("The signed reading was amended")}.get(status, "")
        if self._ai_flags.get(study_uid) == "likely_normal":
            tip = "\n".join(t for t in (tip, self.tr(
                "The AI score is under the model's high-sensitivity threshold: a triage "
                "hint, not a report")) if t)
        item.setToolTip(COL_READING, tip)

    def _sort(self) -> None:
        """Discordant studies (and their patients) first when asked; else creation order."""
        first = self.discordant_first_action.isChecked()
        for (kind, uid), item in self._items.items():
            if kind == "study":
                item.setData(0, _RANK, reading_rank(self._statuses.get(uid), first))
        for (kind, _uid), item in self._items.items():
            if kind == "patient":
                children = (item.child(i) for i in range(item.childCount()))
                ranks = [_sort_key(child)[0] for child in children if child is not None]
                item.setData(0, _RANK, min(ranks, default=1))
        self.tree.sortItems(COL_NAME, Qt.SortOrder.AscendingOrder)

    def _select_first_study(self) -> None:
        patient = self.tree.topLevelItem(0)
        study = patient.child(0) if patient is not None else None
        if study is not None:
            self.tree.setCurrentItem(study)

    def _study_of(self, item: QTreeWidgetItem | None) -> str | None:
        while item is not None and item.data(0, _KIND) != "study":
            item = item.parent()
        if item is None:
            return None
        return str(item.data(0, _UID))

    def _on_current_changed(self, current: QTreeWidgetItem | None, _prev: object) -> None:
        if current is not None and current.data(0, _KIND) == "patient" and current.childCount():
            current = current.child(0)
        study_uid = self._study_of(current)
        if study_uid is None or study_uid not in self._studies:
            return
        if study_uid != self._shown_study:
            self._shown_study = study_uid
            self._show_thumbnails(self._studies[study_uid])
            self.study_selected.emit(study_uid)

    def _show_thumbnails(self, study: StudyRow) -> None:
        wanted: list[str] = []
        existing = {self.thumbnails.item(r).data(_UID): r for r in range(self.thumbnails.count())}
        if set(existing) - {s.series_uid for s in study.series}:
            self.thumbnails.clear()
            existing = {}
        for series in study.series:
            number = f"#{series.number} " if series.number is not None else ""
            caption = (f"{number}{series.modality} {series.description}".strip()
                       + "\n" + self.tr("%n image(s)", "", series.image_count))
            if series.series_uid in existing:
                item = self.thumbnails.item(existing[series.series_uid])
                item.setText(caption)
            else:
                item = QListWidgetItem(caption)
                item.setData(_UID, series.series_uid)
                item.setSizeHint(QSize(THUMB_SIZE + 16, THUMB_SIZE + 44))
                item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
                self.thumbnails.addItem(item)
            item.setToolTip("\n".join(self._warnings.get(series.series_uid, ())))
            pixmap = self._thumbs.get(series.series_uid)
            if pixmap is not None:
                item.setIcon(QIcon(pixmap))
            else:
                wanted.append(series.series_uid)
        if wanted:
            self.thumbnails_wanted.emit(wanted)

    def _on_tree_double_clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        kind = item.data(0, _KIND)
        if kind == "series":
            self.series_activated.emit(str(item.data(0, _UID)))
        elif kind == "study":
            study = self._studies.get(str(item.data(0, _UID)))
            if study is not None and study.series:
                self.series_activated.emit(study.series[0].series_uid)

    def _on_thumbnail_double_clicked(self, item: QListWidgetItem) -> None:
        self.series_activated.emit(str(item.data(_UID)))
