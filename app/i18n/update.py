"""Regenerate ``tandem_fr.ts`` from the sources and compile it to ``tandem_fr.qm``.

Run ``python -m app.i18n.update`` after changing visible strings, then translate
the new entries (Qt Linguist: ``pyside6-linguist app/i18n/tandem_fr.ts``) and run
it again to compile. Uses the ``pyside6-lupdate``/``pyside6-lrelease`` tools that
ship with PySide6 (found next to the Python interpreter, else on PATH).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from app.i18n import I18N_DIR

APP_DIR = I18N_DIR.parent
LANGUAGES = ("fr",)


def _tool(name: str) -> str:
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} not found: install PySide6 (it ships the Qt translation tools)")
    return found


def sources() -> list[Path]:
    """Python files with visible strings (the CLI prints English/JSON, not translated)."""
    return sorted(p for p in APP_DIR.rglob("*.py") if "i18n" not in p.parts)


def main() -> int:
    for language in LANGUAGES:
        ts = I18N_DIR / f"tandem_{language}.ts"
        files = [str(p) for p in sources()]
        subprocess.run(
            [_tool("pyside6-lupdate"), "-no-obsolete", "-locations", "none", *files,
             "-ts", str(ts)],
            check=True,
        )
        qm = ts.with_suffix(".qm")
        subprocess.run([_tool("pyside6-lrelease"), str(ts), "-qm", str(qm)], check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
