"""Errors raised by the PACS layer: one readable sentence that names the node and the reason."""

from __future__ import annotations


class PacsError(Exception):
    """A DICOM network operation failed (connection, association, status, timeout)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NodeConfigError(PacsError):
    """A PACS node or Tandem's own network settings are invalid or cannot be saved."""
