"""Entry point of the frozen (PyInstaller) Tandem: ``app.cli:main``, plus ``-m MODULE``.

A frozen executable has no Python interpreter to run ``python -m ...``, yet
:mod:`imaging.isolation` starts its decoder workers as ``sys.executable -m
imaging.isolation``. In the frozen copy ``sys.executable`` is this program, so it
answers ``-m MODULE`` by running that bundled module as ``__main__`` (only
modules frozen into the bundle can be run; nothing is read from disk).
"""

from __future__ import annotations

import runpy
import sys


def _main() -> int:
    if len(sys.argv) >= 3 and sys.argv[1] == "-m":
        module = sys.argv[2]
        sys.argv = [sys.argv[0], *sys.argv[3:]]
        runpy.run_module(module, run_name="__main__", alter_sys=True)
        return 0
    from app.cli import main

    return main()


if __name__ == "__main__":
    sys.exit(_main())
