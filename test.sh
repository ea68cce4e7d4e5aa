#!/usr/bin/env bash
# Set up if needed, then run every check: ruff, mypy, import-linter, pytest (GUI tests under Xvfb).
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh
export QT_QPA_PLATFORM="${QT_QPA_PLATFORM:-xcb}"
.venv/bin/ruff check .
.venv/bin/mypy
.venv/bin/lint-imports
if [ -z "${DISPLAY:-}" ]; then
  exec xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/pytest -q "$@"
fi
exec .venv/bin/pytest -q "$@"
