"""Results already computed, so reopening a study shows its AI findings at once.

One entry per (SOP Instance UID, frame, model sha256): ``<folder>/<sha256[:16]>/<name>.json``
(:meth:`AnalysisResult.to_dict`) and, when the result has heatmaps, ``<name>.npz`` beside it.
Both are written to a temporary file and renamed (``os.replace``), the arrays first, so a
reader sees a complete entry or none. An entry that cannot be read back in full (corrupt,
truncated, written by another version) is a miss; the next :meth:`ResultCache.put` replaces it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import numpy as np

from imaging.paths import data_dir
from inference.results import AnalysisResult

CACHE_DIR_NAME = "ai_results"
_SAFE_UID = re.compile(r"^[0-9.]{1,64}$")


def default_cache_folder() -> Path:
    return data_dir() / CACHE_DIR_NAME


class ResultCache:
    """A folder of cached :class:`AnalysisResult` (DICOM images only: they have a stable UID)."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = Path(folder) if folder is not None else default_cache_folder()

    def get(self, sop_instance_uid: str, frame: int, sha256: str) -> AnalysisResult | None:
        """The cached result with its heatmap values, or None (absent or unreadable)."""
        if not sop_instance_uid:
            return None
        base = self._base(sop_instance_uid, frame, sha256)
        try:
            result = AnalysisResult.from_dict(json.loads(base.with_suffix(".json").read_text(
                encoding="utf-8")))
            if (result.sop_instance_uid, result.frame, result.sha256) != (
                    sop_instance_uid, frame, sha256):
                return None
            if not result.heatmaps:
                return result
            with np.load(base.with_suffix(".npz"), allow_pickle=False) as archive:
                arrays = {key: archive[key] for key in archive.files}
        except (OSError, ValueError, KeyError, TypeError, IndexError, EOFError,
                zipfile.BadZipFile):
            return None  # JSONDecodeError is a ValueError
        if any(h.key not in arrays or arrays[h.key].ndim != 2 for h in result.heatmaps):
            return None
        return result.with_heatmap_values(arrays)

    def put(self, result: AnalysisResult) -> None:
        """Store ``result`` (a no-op for images without a SOP Instance UID)."""
        if not result.sop_instance_uid or not result.sha256:
            return
        base = self._base(result.sop_instance_uid, result.frame, result.sha256)
        base.parent.mkdir(parents=True, exist_ok=True)
        arrays = {h.key: np.asarray(h.values, dtype=np.float32)
                  for h in result.heatmaps if h.values is not None}
        if arrays:
            _write_atomic(base.with_suffix(".npz"), lambda f: _save_arrays(f, arrays))
        text = json.dumps(result.to_dict(), ensure_ascii=False).encode("utf-8")
        _write_atomic(base.with_suffix(".json"), lambda f: f.write(text))

    def _base(self, uid: str, frame: int, sha256: str) -> Path:
        # UIDs are digits and dots; anything else (a broken file) is hashed into a safe name.
        name = uid if _SAFE_UID.match(uid) else hashlib.sha1(uid.encode()).hexdigest()
        return self.folder / sha256[:16] / f"{name}_{frame}"


def _save_arrays(file: BinaryIO, arrays: dict[str, np.ndarray]) -> None:
    np.savez_compressed(file, allow_pickle=False, **arrays)


def _write_atomic(path: Path, write: Callable[[BinaryIO], object]) -> None:
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
