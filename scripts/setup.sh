#!/usr/bin/env bash
# Set up Tandem on a fresh Debian 12 (or Ubuntu) machine: system libraries for
# Qt + VTK (Mesa software OpenGL, Xvfb for headless tests), then a virtual
# environment in .venv with Tandem installed in editable mode.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES="xvfb xauth libgl1-mesa-dri libegl1 libegl-mesa0 libgl1 libglx-mesa0 libosmesa6
  libxkbcommon-x11-0 libxkbcommon0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0
  libxcb-xinerama0 libxcb-randr0 libxcb-render-util0 libxcb-image0 libxcb-xkb1 libdbus-1-3
  libfontconfig1 libglib2.0-0 libxrender1 libxi6 fonts-dejavu-core python3-venv
  dicom3tools dcmtk orthanc orthanc-dicomweb"

missing=""
for p in $APT_PACKAGES; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  echo "Installing system packages:$missing"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
fi

PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[dev]"
echo "Tandem is installed in $(pwd)/.venv"
