"""PACS > Query / retrieve (Ctrl+Shift+Q): search a node's studies and bring one into Tandem.

Search is a STUDY-level C-FIND and Retrieve a C-MOVE (to Tandem's storage SCP: the running
listener when there is one) or a C-GET; both run on the thread pool, with a progress bar and
Cancel for the retrieve. When a retrieve ends, :attr:`PacsQueryPanel.study_retrieved` tells the
main window to refresh its study browser, as an import does.
"""

from __future__ import annotations

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.browser import format_dicom_date
from app.catalog import display_name
from app.listener_service import ListenerService
from app.pacs_workers import find_studies, retrieve
from app.workers import Task, TaskRunner
from imaging.db import StudyDatabase
from pacs.dimse import FindMatch, FindQuery, RetrieveResult
from pacs.errors import NodeConfigError
from pacs.nodes import LocalAE, NodeStore, PacsNode

QUERY_SHORTCUT = "Ctrl+Shift+Q"
MODALITIES = ("", "CR", "DX", "MG", "CT", "MR", "US", "XA", "RF", "NM", "PT", "OT")
COLUMNS = 7  # date, patient, ID, modalities, description, series, images
_UID = Qt.ItemDataRole.UserRole


class PacsQueryPanel(QWidget):
    """Node chooser, filters, results table, retrieve with progress and Cancel."""

    study_retrieved = Signal(str)  # study instance UID (some or all of its images arrived)
    search_done = Signal(int)  # number of matches
    retrieve_done = Signal(object)  # RetrieveResult, or None after a failure

    def __init__(self, db: StudyDatabase, store: NodeStore | None = None, *,
                 listener: ListenerService | None = None, listen_host: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pacsQueryPanel")
        self.db = db
        self.store = store if store is not None else NodeStore()
        self.listener = listener
        self.listen_host = listen_host  # where a C-MOVE without the listener listens
        self.runner = TaskRunner(parent=self)
        self.matches: list[FindMatch] = []
        self._search_task: Task | None = None
        self._retrieve_task: Task | None = None

        self.node_combo = QComboBox(self)
        self.node_combo.setObjectName("pacsNode")
        self.patient_name = QLineEdit(self)
        self.patient_name.setPlaceholderText(self.tr("DOE* (wildcards * and ?)"))
        self.patient_name.setToolTip(self.tr("Family name first; a name without a wildcard "
                                             "matches every name that starts with it."))
        self.patient_id = QLineEdit(self)
        self.accession = QLineEdit(self)
        self.modality = QComboBox(self)
        self.modality.setEditable(True)
        for code in MODALITIES:
            self.modality.addItem(code or self.tr("Any"), code)
        self.date_box = QCheckBox(self.tr("Between"), self)
        self.date_from = QDateEdit(QDate.currentDate(), self)
        self.date_to = QDateEdit(QDate.currentDate(), self)
        for edit in (self.date_from, self.date_to):
            edit.setCalendarPopup(True)
            edit.setEnabled(False)
        self.date_box.toggled.connect(self.date_from.setEnabled)
        self.date_box.toggled.connect(self.date_to.setEnabled)
        self.today_button = QPushButton(self.tr("Today"), self)
        self.today_button.clicked.connect(lambda: self.set_days(0))
        self.week_button = QPushButton(self.tr("7 days"), self)
        self.week_button.clicked.connect(lambda: self.set_days(6))
        self.any_date_button = QPushButton(self.tr("Any date"), self)
        self.any_date_button.clicked.connect(lambda: self.date_box.setChecked(False))
        dates = QHBoxLayout()
        dates.addWidget(self.date_box)
        dates.addWidget(self.date_from)
        dates.addWidget(QLabel(self.tr("and"), self))
        dates.addWidget(self.date_to)
        quick = QHBoxLayout()
        for button in (self.today_button, self.week_button, self.any_date_button):
            quick.addWidget(button)
        quick.addStretch(1)
        self.search_button = QPushButton(self.tr("&Search"), self)
        self.search_button.clicked.connect(self.search)
        for line in (self.patient_name, self.patient_id, self.accession):
            line.returnPressed.connect(self.search)
        form = QFormLayout()
        form.addRow(self.tr("PACS:"), self.node_combo)
        form.addRow(self.tr("Patient name:"), self.patient_name)
        form.addRow(self.tr("Patient ID:"), self.patient_id)
        form.addRow(self.tr("Study date:"), dates)
        form.addRow("", quick)
        form.addRow(self.tr("Modality:"), self.modality)
        form.addRow(self.tr("Accession number:"), self.accession)

        self.table = QTableWidget(0, COLUMNS, self)
        self.table.setObjectName("pacsResults")
        self.table.setHorizontalHeaderLabels([
            self.tr("Date"), self.tr("Patient"), self.tr("ID"), self.tr("Modalities"),
            self.tr("Description"), self.tr("Series"), self.tr("Images")])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)  # description
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.itemDoubleClicked.connect(lambda _item: self.retrieve_selected())

        self.method_combo = QComboBox(self)
        self.method_combo.setObjectName("retrieveMethod")
        self.method_combo.addItem(self.tr("C-MOVE (to Tandem's listener)"), "move")
        self.method_combo.addItem(self.tr("C-GET"), "get")
        self.method_combo.addItem(self.tr("WADO-RS (DICOMweb)"), "wado")
        self.retrieve_button = QPushButton(self.tr("&Retrieve"), self)
        self.retrieve_button.clicked.connect(self.retrieve_selected)
        self.cancel_button = QPushButton(self.tr("Cancel"), self)
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar(self)
        self.progress.setTextVisible(True)
        self.status = QLabel(self)
        self.status.setObjectName("pacsStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        retrieve_row = QHBoxLayout()
        retrieve_row.addWidget(self.method_combo)
        retrieve_row.addWidget(self.retrieve_button)
        retrieve_row.addWidget(self.progress, 1)
        retrieve_row.addWidget(self.cancel_button)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.search_button, 0, Qt.AlignmentFlag.AlignRight)
        layout.addWidget(self.table, 1)
        layout.addLayout(retrieve_row)
        layout.addWidget(self.status)
        self.reload_nodes()

    # -- nodes and filters -------------------------------------------------------------------

    def reload_nodes(self) -> None:
        """Re-read the configured nodes into the chooser (after PACS > Nodes… changed them)."""
        current = self.node_combo.currentData()
        self.node_combo.clear()
        try:
            nodes = self.store.nodes()
        except NodeConfigError as exc:
            nodes = ()
            self._say(self.tr("Cannot read the PACS configuration: %1").replace("%1",
                                                                                exc.message))
        for node in nodes:
            self.node_combo.addItem(f"{node.name} ({node.ae_title})", node.name)
        if current is not None and self.node_combo.findData(current) >= 0:
            self.node_combo.setCurrentIndex(self.node_combo.findData(current))
        if not nodes and not self.status.text():
            self._say(self.tr("No PACS node is configured: add one in PACS > Nodes…"))
        self._update_buttons()

    def select_node(self, name: str) -> None:
        index = self.node_combo.findData(name)
        if index >= 0:
            self.node_combo.setCurrentIndex(index)

    def current_node(self) -> PacsNode | None:
        name = self.node_combo.currentData()
        try:
            return next((n for n in self.store.nodes() if n.name == name), None)
        except NodeConfigError:
            return None

    def set_days(self, days_back: int) -> None:
        """Quick date filters: today (0), the last 7 days (6 days back to today)."""
        today = QDate.currentDate()
        self.date_box.setChecked(True)
        self.date_from.setDate(today.addDays(-days_back))
        self.date_to.setDate(today)

    def query(self) -> FindQuery:
        """The C-FIND filters the form describes."""
        name = self.patient_name.text().strip()
        if name and not any(c in name for c in "*?"):
            name += "*"
        modality = self.modality.currentText().strip()
        if modality == self.modality.itemText(0):  # "Any"
            modality = ""
        date_from = date_to = ""
        if self.date_box.isChecked():
            date_from = self.date_from.date().toString("yyyyMMdd")
            date_to = self.date_to.date().toString("yyyyMMdd")
        return FindQuery(patient_id=self.patient_id.text().strip(), patient_name=name,
                         date_from=date_from, date_to=date_to, modality=modality.upper(),
                         accession_number=self.accession.text().strip())

    def _local(self) -> LocalAE:
        if self.listener is not None and self.listener.local is not None:
            return self.listener.local
        try:
            return self.store.local()
        except NodeConfigError:
            return LocalAE()

    # -- search ------------------------------------------------------------------------------

    def search(self) -> Task | None:
        node = self.current_node()
        if node is None or self._search_task is not None:
            return None
        task = Task(find_studies, node, self.query(), self._local().ae_title,
                    with_progress=False)
        task.signals.succeeded.connect(self._on_found)
        task.signals.failed.connect(self._on_search_failed)
        self._search_task = task
        self._say(self.tr("Searching %1…").replace("%1", node.name))
        self._update_buttons()
        self.runner.start(task)
        return task

    @property
    def searching(self) -> bool:
        return self._search_task is not None

    def _on_found(self, matches: object) -> None:
        self._search_task = None
        self.matches = [m for m in matches if isinstance(m, FindMatch)] \
            if isinstance(matches, list) else []
        self.table.setRowCount(0)
        self.table.setSortingEnabled(False)
        for row, match in enumerate(self.matches):
            self.table.insertRow(row)
            texts = (format_dicom_date(match.study_date), display_name(match.patient_name),
                     match.patient_id, "/".join(match.modalities), match.study_description,
                     "" if match.series is None else str(match.series),
                     "" if match.instances is None else str(match.instances))
            for column, text in enumerate(texts):
                item = QTableWidgetItem(text)
                item.setData(_UID, match.study_instance_uid)
                if column >= 5:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, column, item)
        if self.matches:
            self.table.selectRow(0)
        self._say(self.tr("%n study(ies) found.", "", len(self.matches)))
        self._update_buttons()
        self.search_done.emit(len(self.matches))

    def _on_search_failed(self, message: str) -> None:
        self._search_task = None
        self.table.setRowCount(0)
        self.matches = []
        self._say(self.tr("Search failed: %1").replace("%1", message), error=True)
        self._update_buttons()
        self.search_done.emit(-1)

    # -- retrieve ----------------------------------------------------------------------------

    def selected_study_uid(self) -> str | None:
        items = self.table.selectedItems()
        return str(items[0].data(_UID)) if items else None

    def retrieve_selected(self) -> Task | None:
        """Retrieve the selected study by the chosen method, in the background."""
        node, uid = self.current_node(), self.selected_study_uid()
        if node is None or uid is None or self._retrieve_task is not None:
            return None
        method = str(self.method_combo.currentData())
        if method == "wado" and not node.dicomweb_url:
            self._say(self.tr("Node “%1” has no DICOMweb URL: choose C-MOVE or C-GET, or add "
                              "the URL in PACS > Nodes…").replace("%1", node.name), error=True)
            return None
        server = self.listener.server if self.listener is not None else None
        task = Task(retrieve, node, uid, self.db, method=method, local=self._local(),
                    server=server, listen_host=self.listen_host)
        task.signals.progress.connect(self._on_progress)
        task.signals.succeeded.connect(self._on_retrieved)
        task.signals.failed.connect(self._on_retrieve_failed)
        self._retrieve_task = task
        self.progress.setRange(0, 0)
        self.progress.setFormat("")
        self._say(self.tr("Retrieving from %1…").replace("%1", node.name))
        self._update_buttons()
        self.runner.start(task)
        return task

    def cancel(self) -> None:
        if self._retrieve_task is not None:
            self._retrieve_task.cancel.set()
            self._say(self.tr("Cancelling…"))
            self.cancel_button.setEnabled(False)

    @property
    def retrieving(self) -> bool:
        return self._retrieve_task is not None

    def _on_progress(self, done: int, total: int, _label: str) -> None:
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(min(done, total))
            self.progress.setFormat(self.tr("%1 / %2").replace("%1", str(done))
                                    .replace("%2", str(total)))

    def _on_retrieved(self, result: object) -> None:
        self._retrieve_task = None
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        if not isinstance(result, RetrieveResult):
            return
        received = result.received or result.completed
        self.progress.setFormat(self.tr("%1 / %2").replace("%1", str(received))
                                .replace("%2", str(received + result.failed)))
        if result.cancelled:
            text = self.tr("Retrieve cancelled: %n image(s) received.", "", received)
        elif result.failed:
            text = self.tr("Retrieved %1 image(s); the PACS could not send %2.").replace(
                "%1", str(received)).replace("%2", str(result.failed))
        else:
            text = self.tr("Retrieved %n image(s) in %1 s.", "", received).replace(
                "%1", self.locale().toString(result.elapsed_s, "f", 1))
        self._say(text, error=bool(result.failed))
        self._update_buttons()
        if received:
            self.study_retrieved.emit(result.study_instance_uid)
        self.retrieve_done.emit(result)

    def _on_retrieve_failed(self, message: str) -> None:
        self._retrieve_task = None
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self._say(self.tr("Retrieve failed: %1").replace("%1", message), error=True)
        self._update_buttons()
        self.retrieve_done.emit(None)

    # -- misc --------------------------------------------------------------------------------

    def _update_buttons(self) -> None:
        has_node = self.node_combo.count() > 0
        self.search_button.setEnabled(has_node and self._search_task is None)
        self.retrieve_button.setEnabled(has_node and self._retrieve_task is None
                                        and bool(self.table.selectedItems()))
        self.cancel_button.setEnabled(self._retrieve_task is not None)

    def _say(self, text: str, *, error: bool = False) -> None:
        self.status.setStyleSheet("color: #d04040;" if error else "")
        self.status.setText(text)

    def shutdown(self) -> None:
        """Cancel what runs (the window is closing)."""
        self.runner.cancel_all()
