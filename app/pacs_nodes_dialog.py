"""PACS > Nodes…: the configured PACS nodes, Tandem's own AE title/port, and "Test connection";
and the "Send to PACS" dialog (:func:`send_files_to_node`).

Nodes are kept by :class:`pacs.nodes.NodeStore`; its validation rules are the only ones (the
form builds a :class:`~pacs.nodes.PacsNode` and shows a translated sentence per faulty field).
The C-ECHO and the C-STOREs run on the thread pool; the dialogs only show their outcome.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.pacs_workers import echo_node, send_files
from app.workers import Task, TaskRunner
from pacs.dimse import EchoResult, StoreOutcome
from pacs.errors import NodeConfigError
from pacs.nodes import LocalAE, NodeStore, PacsNode, validate_ae_title

OK_STYLE = "color: #2e9d4a;"
ERROR_STYLE = "color: #d04040;"


def _field_is_valid(**values: object) -> bool:
    """Whether these fields pass PacsNode's own checks (the others filled with valid values)."""
    fields: dict[str, object] = {"name": "n", "ae_title": "A", "host": "h", "port": 1}
    fields.update(values)
    try:
        PacsNode(**fields)  # type: ignore[arg-type]
    except NodeConfigError:
        return False
    return True


class NodesDialog(QDialog):
    """List, add, edit and remove PACS nodes; set Tandem's own AE title and port."""

    nodes_changed = Signal()
    local_changed = Signal(object)  # the new LocalAE

    def __init__(self, store: NodeStore | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pacsNodesDialog")
        self.setWindowTitle(self.tr("PACS nodes"))
        self.store = store if store is not None else NodeStore()
        self.runner = TaskRunner(parent=self)
        self._editing: str | None = None  # name of the node shown in the form, None = new
        self._echo_task: Task | None = None

        self.node_list = QListWidget(self)
        self.node_list.currentItemChanged.connect(self._on_node_selected)
        self.new_button = QPushButton(self.tr("&New node"), self)
        self.new_button.clicked.connect(self.new_node)
        self.remove_button = QPushButton(self.tr("&Remove"), self)
        self.remove_button.clicked.connect(self.remove_node)
        left = QVBoxLayout()
        left.addWidget(self.node_list)
        buttons = QHBoxLayout()
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.remove_button)
        left.addLayout(buttons)

        self.name_edit = QLineEdit(self)
        self.ae_edit = QLineEdit(self)
        self.ae_edit.setMaxLength(16)
        self.host_edit = QLineEdit(self)
        self.host_edit.setPlaceholderText(self.tr("pacs.example.local or 192.168.1.10"))
        self.port_spin = QSpinBox(self)
        self.port_spin.setRange(1, 65535)
        self.port_spin.setValue(104)
        self.tls_box = QCheckBox(self.tr("DICOM over TLS"), self)
        self.ca_edit = QLineEdit(self)
        self.ca_edit.setPlaceholderText(self.tr("the practice's certificate authority (PEM); "
                                                "empty: the system's"))
        self.ca_button = QPushButton(self.tr("Choose…"), self)
        self.ca_button.clicked.connect(self._choose_ca)
        self.tls_box.toggled.connect(self.ca_edit.setEnabled)
        self.tls_box.toggled.connect(self.ca_button.setEnabled)
        ca_row = QHBoxLayout()
        ca_row.addWidget(self.ca_edit, 1)
        ca_row.addWidget(self.ca_button)
        self.dicomweb_edit = QLineEdit(self)
        self.dicomweb_edit.setPlaceholderText(self.tr("optional, e.g. https://pacs/dicom-web"))
        form = QFormLayout()
        form.addRow(self.tr("Name:"), self.name_edit)
        form.addRow(self.tr("AE title:"), self.ae_edit)
        form.addRow(self.tr("Host:"), self.host_edit)
        form.addRow(self.tr("Port:"), self.port_spin)
        form.addRow("", self.tls_box)
        form.addRow(self.tr("TLS authority:"), ca_row)
        form.addRow(self.tr("DICOMweb URL:"), self.dicomweb_edit)
        self.save_button = QPushButton(self.tr("&Save node"), self)
        self.save_button.clicked.connect(self.save_node)
        self.test_button = QPushButton(self.tr("&Test connection"), self)
        self.test_button.clicked.connect(self.test_connection)
        actions = QHBoxLayout()
        actions.addWidget(self.test_button)
        actions.addStretch(1)
        actions.addWidget(self.save_button)
        self.message = QLabel(self)
        self.message.setObjectName("nodeMessage")
        self.message.setWordWrap(True)
        self.echo_label = QLabel(self)
        self.echo_label.setObjectName("echoResult")
        self.echo_label.setWordWrap(True)
        right = QVBoxLayout()
        right.addLayout(form)
        right.addLayout(actions)
        right.addWidget(self.message)
        right.addWidget(self.echo_label)
        right.addStretch(1)

        local_box = QGroupBox(self.tr("This workstation (Tandem)"), self)
        self.local_ae_edit = QLineEdit(local_box)
        self.local_ae_edit.setMaxLength(16)
        self.local_port_spin = QSpinBox(local_box)
        self.local_port_spin.setRange(1, 65535)
        self.local_save_button = QPushButton(self.tr("Save"), local_box)
        self.local_save_button.clicked.connect(self.save_local)
        self.local_message = QLabel(local_box)
        self.local_message.setWordWrap(True)
        local_form = QFormLayout(local_box)
        local_form.addRow(self.tr("AE title:"), self.local_ae_edit)
        local_form.addRow(self.tr("Port (receiving):"), self.local_port_spin)
        hint = QLabel(self.tr("Declare this AE title, this computer's address and this port "
                              "on the PACS so that it can send studies here (C-MOVE)."),
                      local_box)
        hint.setWordWrap(True)
        local_form.addRow(hint)
        local_form.addRow(self.local_message, self.local_save_button)

        top = QHBoxLayout()
        top.addLayout(left, 1)
        top.addLayout(right, 2)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(local_box)
        layout.addWidget(close)
        self.resize(720, 480)
        self.reload()

    # -- nodes -------------------------------------------------------------------------------

    def reload(self, select: str | None = None) -> None:
        """Re-read the configuration file into the list and the local AE fields."""
        try:
            config = self.store.load()
        except NodeConfigError as exc:
            self._say(self.tr("Cannot read the PACS configuration: %1").replace("%1",
                                                                                exc.message))
            return
        self.node_list.blockSignals(True)
        self.node_list.clear()
        for node in config.nodes:
            item = QListWidgetItem(f"{node.name}  ({node.ae_title}@{node.host}:{node.port})")
            item.setData(Qt.ItemDataRole.UserRole, node.name)
            self.node_list.addItem(item)
        self.node_list.blockSignals(False)
        self.local_ae_edit.setText(config.local.ae_title)
        self.local_port_spin.setValue(config.local.port)
        names = [n.name for n in config.nodes]
        wanted = select if select in names else (names[0] if names else None)
        if wanted is None:
            self.new_node()
        else:
            self.node_list.setCurrentRow(names.index(wanted))

    def _on_node_selected(self, item: QListWidgetItem | None, _previous: object) -> None:
        if item is None:
            return
        name = str(item.data(Qt.ItemDataRole.UserRole))
        node = next((n for n in self.store.nodes() if n.name == name), None)
        if node is None:
            return
        self._editing = node.name
        self._fill(node.name, node.ae_title, node.host, node.port, node.tls,
                   node.dicomweb_url or "", node.tls_ca_file or "")

    def _fill(self, name: str, ae: str, host: str, port: int, tls: bool, url: str,
              ca_file: str = "") -> None:
        self.name_edit.setText(name)
        self.ae_edit.setText(ae)
        self.host_edit.setText(host)
        self.port_spin.setValue(port)
        self.tls_box.setChecked(tls)
        self.ca_edit.setText(ca_file)
        self.ca_edit.setEnabled(tls)
        self.ca_button.setEnabled(tls)
        self.dicomweb_edit.setText(url)
        self.echo_label.clear()
        self._say("")

    def _choose_ca(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("The practice's certificate authority"), self.ca_edit.text(),
            self.tr("Certificates (*.pem *.crt *.cer);;All files (*)"))
        if path:
            self.ca_edit.setText(path)

    def new_node(self) -> None:
        """Empty form for a node to add."""
        self.node_list.blockSignals(True)
        self.node_list.clearSelection()
        self.node_list.setCurrentRow(-1)
        self.node_list.blockSignals(False)
        self._editing = None
        self._fill("", "", "", 104, False, "")
        self.name_edit.setFocus()

    def form_node(self) -> PacsNode | None:
        """The node the form describes, or None (and the reasons shown, translated)."""
        url = self.dicomweb_edit.text().strip() or None
        tls = self.tls_box.isChecked()
        ca_file = self.ca_edit.text().strip() if tls else ""
        if ca_file and not Path(ca_file).is_file():
            self._say(self.tr("The certificate authority file %1 does not exist.")
                      .replace("%1", ca_file), error=True)
            return None
        try:
            return PacsNode(self.name_edit.text(), self.ae_edit.text(), self.host_edit.text(),
                            self.port_spin.value(), tls, url, tls_ca_file=ca_file or None)
        except NodeConfigError as exc:
            self._say(self._invalid_fields_text(url) or exc.message, error=True)
            return None

    def _invalid_fields_text(self, url: str | None) -> str:
        problems = []
        if not _field_is_valid(name=self.name_edit.text()):
            problems.append(self.tr("The name must be 1 to 64 printable characters."))
        if not _field_is_valid(ae_title=self.ae_edit.text()):
            problems.append(self.tr("The AE title must be 1 to 16 characters of plain ASCII "
                                    "(no backslash)."))
        if not _field_is_valid(host=self.host_edit.text()):
            problems.append(self.tr("The host must be a computer name or an IP address, "
                                    "without spaces."))
        if not _field_is_valid(dicomweb_url=url):
            problems.append(self.tr("The DICOMweb URL must start with http:// or https://."))
        return "\n".join(problems)

    def save_node(self) -> bool:
        node = self.form_node()
        if node is None:
            return False
        names = [n.name for n in self.store.nodes()]
        if node.name != self._editing and node.name in names:
            self._say(self.tr("A node named “%1” already exists.").replace("%1", node.name),
                      error=True)
            return False
        try:
            self.store.add(node, replace=node.name == self._editing)
            if self._editing is not None and self._editing != node.name:
                self.store.remove(self._editing)
        except NodeConfigError as exc:
            self._say(self.tr("Cannot save the PACS configuration: %1").replace("%1",
                                                                                exc.message),
                      error=True)
            return False
        self.reload(select=node.name)
        self._say(self.tr("Node “%1” saved.").replace("%1", node.name))
        self.nodes_changed.emit()
        return True

    def remove_node(self) -> None:
        if self._editing is None:
            return
        name = self._editing
        try:
            self.store.remove(name)
        except NodeConfigError as exc:
            self._say(self.tr("Cannot save the PACS configuration: %1").replace("%1",
                                                                                exc.message),
                      error=True)
            return
        self.reload()
        self._say(self.tr("Node “%1” removed.").replace("%1", name))
        self.nodes_changed.emit()

    # -- test connection ---------------------------------------------------------------------

    def test_connection(self) -> Task | None:
        """C-ECHO the node as the form describes it (saved or not), in the background."""
        node = self.form_node()
        if node is None:
            return None
        self._say("")
        self.echo_label.setStyleSheet("")
        self.echo_label.setText(self.tr("Testing the connection to %1…").replace(
            "%1", node.name))
        self.test_button.setEnabled(False)
        task = Task(echo_node, node, self._calling_ae(), with_progress=False)
        task.signals.succeeded.connect(self._on_echo)
        task.signals.failed.connect(self._on_echo_failed)
        self._echo_task = task
        self.runner.start(task)
        return task

    def _calling_ae(self) -> str:
        try:
            return self.store.local().ae_title
        except NodeConfigError:
            return LocalAE().ae_title

    def _on_echo(self, result: object) -> None:
        self.test_button.setEnabled(True)
        self._echo_task = None
        if not isinstance(result, EchoResult):
            return
        ms = f"{result.ms:.0f}"
        if result.ok:
            self.echo_label.setStyleSheet(OK_STYLE)
            self.echo_label.setText(self.tr("Connection OK (C-ECHO in %1 ms).").replace("%1", ms))
        else:
            self.echo_label.setStyleSheet(ERROR_STYLE)
            self.echo_label.setText(self.tr("Connection failed after %1 ms: %2")
                                    .replace("%1", ms).replace("%2", result.message))

    def _on_echo_failed(self, message: str) -> None:
        self.test_button.setEnabled(True)
        self._echo_task = None
        self.echo_label.setStyleSheet(ERROR_STYLE)
        self.echo_label.setText(self.tr("Connection failed: %1").replace("%1", message))

    @property
    def testing(self) -> bool:
        return self._echo_task is not None

    # -- local AE ----------------------------------------------------------------------------

    def save_local(self) -> bool:
        try:
            validate_ae_title(self.local_ae_edit.text())
        except NodeConfigError:
            self.local_message.setStyleSheet(ERROR_STYLE)
            self.local_message.setText(self.tr("The AE title must be 1 to 16 characters of "
                                               "plain ASCII (no backslash)."))
            return False
        try:
            local = LocalAE(self.local_ae_edit.text(), self.local_port_spin.value())
            self.store.set_local(local)
        except NodeConfigError as exc:
            self.local_message.setStyleSheet(ERROR_STYLE)
            self.local_message.setText(self.tr("Cannot save the PACS configuration: %1")
                                       .replace("%1", exc.message))
            return False
        self.local_message.setStyleSheet(OK_STYLE)
        self.local_message.setText(self.tr("Saved."))
        self.local_changed.emit(local)
        return True

    def _say(self, text: str, *, error: bool = False) -> None:
        self.message.setStyleSheet(ERROR_STYLE if error else "")
        self.message.setText(text)


class SendDialog(QDialog):
    """Send a list of DICOM files to a chosen node (C-STORE), with per-file failures."""

    finished_sending = Signal(object)  # list[StoreOutcome]

    def __init__(self, paths: Sequence[Path], store: NodeStore | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pacsSendDialog")
        self.setWindowTitle(self.tr("Send to PACS"))
        self.paths = [Path(p) for p in paths]
        self.store = store if store is not None else NodeStore()
        self.runner = TaskRunner(parent=self)
        self._task: Task | None = None
        self.outcomes: list[StoreOutcome] = []

        self.node_combo = QComboBox(self)
        self.files_label = QLabel(self.tr("%n file(s) to send.", "", len(self.paths)), self)
        self.send_button = QPushButton(self.tr("&Send"), self)
        self.send_button.setDefault(True)
        self.send_button.clicked.connect(self.send)
        self.cancel_button = QPushButton(self.tr("Cancel"), self)
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, max(1, len(self.paths)))
        self.progress.setValue(0)
        self.summary = QLabel(self)
        self.summary.setObjectName("sendSummary")
        self.summary.setWordWrap(True)
        self.failures = QListWidget(self)
        self.failures.setObjectName("sendFailures")
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)

        form = QFormLayout()
        form.addRow(self.tr("Send to:"), self.node_combo)
        row = QHBoxLayout()
        row.addWidget(self.progress, 1)
        row.addWidget(self.send_button)
        row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.files_label)
        layout.addLayout(row)
        layout.addWidget(self.summary)
        layout.addWidget(self.failures)
        layout.addWidget(close)
        self.resize(560, 360)
        self._fill_nodes()

    def _fill_nodes(self) -> None:
        try:
            nodes = self.store.nodes()
        except NodeConfigError as exc:
            nodes = ()
            self.summary.setText(self.tr("Cannot read the PACS configuration: %1")
                                 .replace("%1", exc.message))
        for node in nodes:
            self.node_combo.addItem(f"{node.name} ({node.ae_title})", node.name)
        if not nodes and not self.summary.text():
            self.summary.setText(self.tr("No PACS node is configured: add one in "
                                         "PACS > Nodes…"))
        self.send_button.setEnabled(bool(nodes) and bool(self.paths))

    def select_node(self, name: str) -> None:
        index = self.node_combo.findData(name)
        if index >= 0:
            self.node_combo.setCurrentIndex(index)

    def send(self) -> Task | None:
        name = self.node_combo.currentData()
        node = next((n for n in self.store.nodes() if n.name == name), None)
        if node is None or self._task is not None:
            return None
        try:
            calling_ae = self.store.local().ae_title
        except NodeConfigError:
            calling_ae = LocalAE().ae_title
        self.failures.clear()
        self.progress.setValue(0)
        self.summary.setStyleSheet("")
        self.summary.setText(self.tr("Sending to %1…").replace("%1", node.name))
        task = Task(send_files, node, self.paths, calling_ae)
        task.signals.progress.connect(self._on_progress)
        task.signals.succeeded.connect(self._on_sent)
        task.signals.failed.connect(self._on_failed)
        self._task = task
        self.send_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.runner.start(task)
        return task

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel.set()
            self.cancel_button.setEnabled(False)

    @property
    def sending(self) -> bool:
        return self._task is not None

    def _on_progress(self, done: int, total: int, _label: str) -> None:
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(min(done, total))

    def _done(self) -> None:
        self._task = None
        self.send_button.setEnabled(True)
        self.cancel_button.setEnabled(False)

    def _on_sent(self, outcomes: object) -> None:
        self._done()
        self.outcomes = [o for o in outcomes if isinstance(o, StoreOutcome)] \
            if isinstance(outcomes, list) else []
        sent = sum(o.ok for o in self.outcomes)
        for outcome in self.outcomes:
            if not outcome.ok:
                self.failures.addItem(f"{outcome.path.name}: {outcome.message}")
        text = self.tr("%1 of %2 file(s) sent.").replace("%1", str(sent)).replace(
            "%2", str(len(self.paths)))
        if len(self.outcomes) < len(self.paths):
            text += " " + self.tr("Cancelled.")
        self.summary.setStyleSheet(OK_STYLE if sent == len(self.paths) else ERROR_STYLE)
        self.summary.setText(text)
        self.finished_sending.emit(self.outcomes)

    def _on_failed(self, message: str) -> None:
        self._done()
        self.summary.setStyleSheet(ERROR_STYLE)
        self.summary.setText(self.tr("Sending failed: %1").replace("%1", message))
        self.finished_sending.emit([])


def send_files_to_node(parent: QWidget | None, paths: Sequence[Path], *,
                       store: NodeStore | None = None) -> SendDialog:
    """Open the (non-modal) "Send to PACS" dialog for ``paths``; the user picks the node."""
    dialog = SendDialog(paths, store, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    dialog.raise_()
    return dialog

