"""DICOM discovery, study database, decoding, pixel pipeline and geometry (no Qt, no VTK)."""

from imaging.transfer_syntaxes import register as _register_transfer_syntaxes

_register_transfer_syntaxes()
