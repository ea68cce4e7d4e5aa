#!/usr/bin/env bash
# CI's installer check: build the bundle and the .deb, then install it in a clean Debian 12
# chroot and run Tandem from there (packaging/linux/test_deb.sh). Needs root and Debian's
# package mirror; about 5 minutes on 2 cores from nothing, 2.5 with build/packaging's caches.
set -euo pipefail
cd "$(dirname "$0")/../.."
TOOLS="debootstrap xvfb x11-utils xdotool imagemagick dpkg-dev"
missing=""
for p in $TOOLS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
fi
[ -x .venv/bin/pyinstaller ] || .venv/bin/python -m pip install -q -e ".[dev]"
bash packaging/linux/build_deb.sh
bash packaging/linux/test_deb.sh
