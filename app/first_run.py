"""The first-run window: data folder, Tandem's DICOM identity and one PACS node, GPU check,
and a self-test that runs every AI model on its bundled sample with the timings.

Shown by the GUI at the first start (``Settings.first_run_done``) and from the menu later.
Slow work (C-ECHO, the self-test) runs in :class:`app.workers.Task` on the thread pool;
the facts come from :mod:`app.diagnostics`, as for ``tandem doctor``.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.diagnostics import SelfTestResult, available_providers, run_self_test
from app.settings import Settings
from app.workers import Task, TaskRunner
from imaging import paths
from inference.registry import ModelRegistry
from pacs.errors import NodeConfigError
from pacs.nodes import NODES_FILE, LocalAE, NodeStore, PacsNode

_PROVIDER_NAMES = {"CUDAExecutionProvider": "CUDA (NVIDIA)",
                   "TensorrtExecutionProvider": "TensorRT (NVIDIA)",
                   "DmlExecutionProvider": "DirectML", "CPUExecutionProvider": "CPU"}


def _fill(text: str, *values: object) -> str:
    """Qt-style ``%1``, ``%2`` placeholders (translators may reorder them)."""
    for n, value in reversed(list(enumerate(values, 1))):
        text = text.replace(f"%{n}", str(value))
    return text


def _provider_name(provider: str) -> str:
    return _PROVIDER_NAMES.get(provider, provider.removesuffix("ExecutionProvider"))


class FirstRunDialog(QDialog):
    """Setup in one window; Finish stores the settings and the PACS configuration."""

    def __init__(self, settings: Settings | None = None, *,
                 registry: ModelRegistry | None = None, pool: QThreadPool | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings if settings is not None else Settings()
        self._registry = registry
        self._runner = TaskRunner(pool, self)
        self.self_test_results: list[SelfTestResult] = []
        self.echo_message = ""
        self.setWindowTitle(self.tr("Tandem — first start"))
        self.setMinimumWidth(720)
        store = NodeStore(paths.data_dir() / NODES_FILE)
        try:
            config = store.load()
            local, first_node = config.local, (config.nodes[0] if config.nodes else None)
        except NodeConfigError:
            local, first_node = LocalAE(), None

        layout = QVBoxLayout(self)
        intro = QLabel(self.tr("Check these settings once; you can change them later from the "
                               "Tools menu. The AI models are for research use only."))
        intro.setWordWrap(True)
        layout.addWidget(intro)
        layout.addWidget(self._data_box())
        layout.addWidget(self._dicom_box(local, first_node))
        layout.addWidget(self._gpu_box())
        layout.addWidget(self._self_test_box())
        self.buttons = QDialogButtonBox()
        self.finish_button = self.buttons.addButton(self.tr("Finish"),
                                                    QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(self.tr("Later"), QDialogButtonBox.ButtonRole.RejectRole)
        self.buttons.accepted.connect(self.finish)
        self.buttons.rejected.connect(self.reject)
        self.error_label = QLabel()
        self.error_label.setStyleSheet("color: #c62828")
        self.error_label.setWordWrap(True)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)

    # -- sections ----------------------------------------------------------------------------

    def _data_box(self) -> QGroupBox:
        box = QGroupBox(self.tr("Data folder (studies database, copies, logs)"))
        row = QHBoxLayout(box)
        self.data_edit = QLineEdit(str(paths.data_dir()))
        self.data_edit.setReadOnly(True)
        change = QPushButton(self.tr("Change…"))
        change.clicked.connect(self._choose_data_folder)
        row.addWidget(self.data_edit, 1)
        row.addWidget(change)
        return box

    def _dicom_box(self, local: LocalAE, node: PacsNode | None) -> QGroupBox:
        box = QGroupBox(self.tr("DICOM network"))
        form = QFormLayout(box)
        self.local_ae_edit = QLineEdit(local.ae_title)
        self.local_port_spin = QSpinBox()
        self.local_port_spin.setRange(1, 65535)
        self.local_port_spin.setValue(local.port)
        own = QHBoxLayout()
        own.addWidget(self.local_ae_edit, 1)
        own.addWidget(QLabel(self.tr("port")))
        own.addWidget(self.local_port_spin)
        form.addRow(self.tr("Tandem's AE title"), own)
        self.node_name_edit = QLineEdit(node.name if node else "")
        self.node_name_edit.setPlaceholderText(self.tr("optional, e.g. PACS"))
        self.node_ae_edit = QLineEdit(node.ae_title if node else "")
        self.node_host_edit = QLineEdit(node.host if node else "")
        self.node_host_edit.setPlaceholderText(self.tr("host name or IP address"))
        self.node_port_spin = QSpinBox()
        self.node_port_spin.setRange(1, 65535)
        self.node_port_spin.setValue(node.port if node else 104)
        form.addRow(self.tr("PACS name"), self.node_name_edit)
        remote = QHBoxLayout()
        remote.addWidget(self.node_ae_edit)
        remote.addWidget(QLabel(self.tr("host")))
        remote.addWidget(self.node_host_edit, 1)
        remote.addWidget(QLabel(self.tr("port")))
        remote.addWidget(self.node_port_spin)
        form.addRow(self.tr("PACS AE title"), remote)
        test_row = QHBoxLayout()
        self.echo_button = QPushButton(self.tr("Test connection"))
        self.echo_button.clicked.connect(self.test_connection)
        self.echo_label = QLabel()
        self.echo_label.setWordWrap(True)
        test_row.addWidget(self.echo_button)
        test_row.addWidget(self.echo_label, 1)
        form.addRow(test_row)
        return box

    def _gpu_box(self) -> QGroupBox:
        box = QGroupBox(self.tr("AI acceleration"))
        form = QFormLayout(box)
        found = [_provider_name(p) for p in available_providers()
                 if p != "AzureExecutionProvider"]
        self.providers_label = QLabel(", ".join(found) or self.tr("none: ONNX Runtime is "
                                                                  "missing"))
        self.used_label = QLabel(self.tr("known after the self-test"))
        form.addRow(self.tr("Providers found"), self.providers_label)
        form.addRow(self.tr("Used for the models"), self.used_label)
        return box

    def _self_test_box(self) -> QGroupBox:
        box = QGroupBox(self.tr("Self-test of the AI models"))
        column = QVBoxLayout(box)
        self.self_test_button = QPushButton(self.tr("Run the self-test"))
        self.self_test_button.clicked.connect(self.start_self_test)
        self.self_test_status = QLabel(self.tr("Each model runs once on its bundled sample "
                                               "image."))
        self.self_test_status.setWordWrap(True)
        top = QHBoxLayout()
        top.addWidget(self.self_test_button)
        top.addWidget(self.self_test_status, 1)
        column.addLayout(top)
        headers = [self.tr("Model"), self.tr("Result"), self.tr("Score"), self.tr("Start (ms)"),
                   self.tr("Run (ms)"), self.tr("Runs on")]
        self.table = QTableWidget(0, len(headers))
        self.table.setHorizontalHeaderLabels(headers)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setMinimumHeight(140)
        column.addWidget(self.table)
        return box

    # -- actions -----------------------------------------------------------------------------

    def _choose_data_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Tandem's data folder"),
                                                  self.data_edit.text())
        if folder:
            self.data_edit.setText(folder)

    def _node(self) -> PacsNode | None:
        """The PACS node typed in, None when the name is empty; raises NodeConfigError."""
        name = self.node_name_edit.text().strip()
        if not name:
            return None
        return PacsNode(name, self.node_ae_edit.text(), self.node_host_edit.text(),
                        self.node_port_spin.value())

    def test_connection(self) -> None:
        from pacs.dimse import echo

        try:
            node = self._node()
            local = LocalAE(self.local_ae_edit.text(), self.local_port_spin.value())
        except NodeConfigError as exc:
            self._show_echo(False, exc.message)
            return
        if node is None:
            self._show_echo(False, self.tr("Enter the PACS name, AE title, host and port first."))
            return
        self.echo_button.setEnabled(False)
        self.echo_label.setText(self.tr("Testing…"))
        task = Task(echo, node, calling_ae=local.ae_title, with_progress=False)
        task.signals.succeeded.connect(self._on_echo)
        task.signals.failed.connect(lambda message: self._show_echo(False, message))
        self._runner.start(task)

    def _on_echo(self, result: object) -> None:
        ok = bool(getattr(result, "ok", False))
        if ok:
            text = _fill(self.tr("Connection OK (%1 ms)"), f"{getattr(result, 'ms', 0.0):.0f}")
        else:
            text = _fill(self.tr("Connection failed: %1"), getattr(result, "message", ""))
        self._show_echo(ok, text)

    def _show_echo(self, ok: bool, text: str) -> None:
        self.echo_button.setEnabled(True)
        self.echo_message = text
        self.echo_label.setStyleSheet("color: #2e7d32" if ok else "color: #c62828")
        self.echo_label.setText(text)

    @property
    def busy(self) -> bool:
        return self._runner.busy

    def start_self_test(self) -> None:
        self.self_test_button.setEnabled(False)
        self.self_test_status.setText(self.tr("Running…"))
        task = Task(run_self_test, self._registry)
        task.signals.progress.connect(self._on_self_test_progress)
        task.signals.succeeded.connect(self._on_self_test_done)
        task.signals.failed.connect(self._on_self_test_failed)
        self._runner.start(task)

    def _on_self_test_progress(self, done: int, total: int, model_id: str) -> None:
        if model_id:
            self.self_test_status.setText(_fill(self.tr("Running %1 (%2 of %3)…"), model_id,
                                                done + 1, total))

    def _on_self_test_failed(self, message: str) -> None:
        self.self_test_button.setEnabled(True)
        self.self_test_status.setText(_fill(self.tr("The self-test failed: %1"), message))

    def _on_self_test_done(self, results: object) -> None:
        self.self_test_button.setEnabled(True)
        self.self_test_results = [r for r in results if isinstance(r, SelfTestResult)] \
            if isinstance(results, list) else []
        self.table.setRowCount(len(self.self_test_results))
        for row, r in enumerate(self.self_test_results):
            cells = [r.model_id,
                     self.tr("OK") if r.ok else _fill(self.tr("Failed: %1"), r.message),
                     f"{r.label} {r.score:.3f}" if r.score is not None else "—",
                     f"{r.load_ms:.0f}", f"{r.run_ms:.0f}",
                     _provider_name(r.provider) if r.provider else "—"]
            for column, text in enumerate(cells):
                self.table.setItem(row, column, QTableWidgetItem(text))
        passed = sum(r.ok for r in self.self_test_results)
        self.self_test_status.setText(_fill(self.tr("%1 of %2 models passed."), passed,
                                            len(self.self_test_results)))
        used = sorted({_provider_name(r.provider) for r in self.self_test_results if r.provider})
        self.used_label.setText(", ".join(used) or self.tr("no model could run"))

    def finish(self) -> None:
        """Store the data folder, Tandem's AE, the node (if any) and ``first_run_done``."""
        folder = Path(self.data_edit.text()).expanduser()
        try:
            local = LocalAE(self.local_ae_edit.text(), self.local_port_spin.value())
            node = self._node()
            folder.mkdir(parents=True, exist_ok=True)
            store = NodeStore(folder / NODES_FILE)
            store.set_local(local)
            if node is not None:
                store.add(node, replace=True)
        except NodeConfigError as exc:
            self.error_label.setText(exc.message)
            return
        except OSError as exc:
            self.error_label.setText(_fill(self.tr("Cannot write to %1 (%2)"), folder,
                                           exc.strerror or exc))
            return
        if folder != paths.data_dir():
            self.settings.data_folder = str(folder)
        self.settings.first_run_done = True
        self.settings.sync()
        self.accept()

    def done(self, result: int) -> None:
        """Qt's close path: wait for the workers first (their signals target this window)."""
        self._runner.wait(30000)
        super().done(result)
