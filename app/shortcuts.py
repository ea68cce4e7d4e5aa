"""The keyboard shortcuts radiologists know from RadiAnt, Weasis and OsiriX, in one table.

Viewer shortcuts act on the active viewport and are bound to the viewport area
(``Qt.WidgetWithChildrenShortcut``), so arrow keys still move through the study
browser when it has the focus.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QKeySequence


@dataclass(frozen=True)
class Shortcut:
    command: str
    keys: tuple[str, ...]


# command -> keys (QKeySequence portable text). Preset keys 1..9 are added by the window.
VIEWER_SHORTCUTS: tuple[Shortcut, ...] = (
    Shortcut("previous_image", ("Up", "Left")),
    Shortcut("next_image", ("Down", "Right")),
    Shortcut("first_image", ("Home",)),
    Shortcut("last_image", ("End",)),
    Shortcut("previous_series", ("PgUp", "Shift+Tab")),
    Shortcut("next_series", ("PgDown", "Tab")),
    Shortcut("invert", ("I",)),
    Shortcut("reset", ("R",)),
    Shortcut("fit", ("F",)),
    Shortcut("one_to_one", ("0",)),
    Shortcut("maximise", ("M",)),
    Shortcut("dicom_overlays", ("O",)),
)

PRESET_KEYS = tuple(str(n) for n in range(1, 10))


def key_sequences(command: str) -> list[QKeySequence]:
    for shortcut in VIEWER_SHORTCUTS:
        if shortcut.command == command:
            return [QKeySequence(k) for k in shortcut.keys]
    raise KeyError(command)
