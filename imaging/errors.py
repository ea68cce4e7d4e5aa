"""Errors and warnings that name the file and the reason.

Every file Tandem touches gets a verdict. A failure is a :class:`DicomFileError`
carrying a machine-readable ``kind`` (the same vocabulary as the test corpus'
``index.csv``: ``not_dicom``, ``image_too_large``, ``pixel_data_truncated``...)
and a sentence a radiologist or the practice's IT person can read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


class DicomFileError(Exception):
    """A file could not be read or decoded; ``kind`` says why in one word."""

    def __init__(self, kind: str, message: str, path: Path | str | None = None) -> None:
        self.kind = kind
        self.message = message
        self.path = Path(path) if path is not None else None
        where = f"{self.path}: " if self.path is not None else ""
        super().__init__(f"{where}{message}")

    def with_path(self, path: Path | str) -> DicomFileError:
        """The same error, attached to ``path`` (decoders often do not know the file)."""
        return type(self)(self.kind, self.message, path)


@dataclass(frozen=True)
class Warning_:
    """A recoverable problem worth telling the user: ``kind`` + a readable sentence."""

    kind: str
    message: str

    def __str__(self) -> str:
        return self.message


def dedupe_warnings(items: Iterable[Warning_]) -> list[Warning_]:
    """``items`` without repeats (same kind and message), first occurrence kept."""
    return list(dict.fromkeys(items))


# Kinds used across the package (one place, so CLI/GUI/tests agree on spelling).
NOT_DICOM = "not_dicom"
EMPTY_FILE = "empty_file"
EMPTY_DATASET = "empty_dataset"
TRUNCATED = "truncated"
NO_PIXEL_DATA = "no_pixel_data"
IMAGE_TOO_LARGE = "image_too_large"
PIXEL_DATA_TRUNCATED = "pixel_data_truncated"
UNSUPPORTED_TRANSFER_SYNTAX = "unsupported_transfer_syntax"
CORRUPT_PIXEL_DATA = "corrupt_pixel_data"
INVALID_ATTRIBUTE = "invalid_attribute"
DECODER_CRASHED = "decoder_crashed"
DECODER_TIMEOUT = "decoder_timeout"
UNREADABLE = "unreadable"
