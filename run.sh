#!/usr/bin/env bash
# Set up Tandem (first run only does the work) and open the bundled example study.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "No display found: starting Tandem on a virtual screen (Xvfb)."
  exec xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/tandem "${@:-resources/example_study}"
fi
exec .venv/bin/tandem "${@:-resources/example_study}"
