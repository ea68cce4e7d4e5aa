"""Right-hand docks: "My reading" (filled by a later issue) and "AI second reader"."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QLabel, QVBoxLayout, QWidget

from app.ai_panel import AiPanel

__all__ = ["AiPanel", "ReadingPanel"]


def _empty_state(parent: QWidget, text: str) -> QWidget:
    body = QWidget(parent)
    layout = QVBoxLayout(body)
    label = QLabel(text, body)
    label.setWordWrap(True)
    label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
    label.setObjectName("emptyState")
    layout.addWidget(label)
    layout.addStretch(1)
    return body


class ReadingPanel(QDockWidget):
    """The radiologist's own reading of the open study."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("My reading"), parent)
        self.setObjectName("readingPanel")
        self.setWidget(
            _empty_state(self, self.tr("Open a study to record your reading."))
        )
