#!/usr/bin/env bash
# Build Tandem's self-contained Linux bundle (PyInstaller onedir) and a Debian package of it.
#
#   packaging/linux/build_deb.sh            # bundle + .deb
#   SKIP_BUNDLE=1 packaging/linux/build_deb.sh   # reuse build/dist/tandem (repackage only)
#
# Output (all under build/, which git ignores):
#   build/dist/tandem/                the onedir bundle (tandem + _internal/)
#   build/packaging/tandem_<version>_amd64.deb
# The package installs the bundle to /opt/tandem, links /usr/bin/tandem to it and adds a
# desktop entry. Needs: the project's .venv with pyinstaller, dpkg-deb (Debian/Ubuntu).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
PY="$ROOT/.venv/bin/python"
OUT="$ROOT/build/packaging"
DIST="$ROOT/build/dist"
mkdir -p "$OUT"

VERSION=$("$PY" -c "from importlib.metadata import version; print(version('tandem'))")
ARCH=$(dpkg --print-architecture)
DEB="$OUT/tandem_${VERSION}_${ARCH}.deb"

# What the bundle does not carry: PyInstaller bundles the build machine's X11/xcb, fontconfig,
# freetype, dbus... libraries, but never the OpenGL stack (libGL/libEGL must match the machine's
# driver), nor fontconfig's configuration and a font. The list was found by installing the
# package in a clean Debian 12 minbase chroot: test_deb.sh checks every bundled library with ldd
# and starts the GUI (Mesa software rendering there; a GPU driver replaces it on a real PC);
# VTK dlopens libXcursor for its cursor shapes (ldd cannot see that one).
DEPENDS="libc6 (>= 2.36), libgl1, libegl1, libglx-mesa0, libgl1-mesa-dri, libxcursor1, fontconfig-config,
 fonts-dejavu-core"
# zstd (default): ~30 s for ~220 MB; DEB_COMPRESSION=xz: ~170 MB but ~9 min on 2 cores.
COMPRESSION=${DEB_COMPRESSION:-zstd}
case "$COMPRESSION" in
  zstd) ZARGS="-Zzstd -z9" ;;
  xz) ZARGS="-Zxz -z6" ;;
  *) echo "DEB_COMPRESSION must be zstd or xz" >&2; exit 1 ;;
esac

if [ "${SKIP_BUNDLE:-0}" != 1 ]; then
  echo "== PyInstaller (onedir) -> $DIST/tandem"
  start=$(date +%s)
  "$ROOT/.venv/bin/pyinstaller" --noconfirm --clean --log-level WARN \
    --distpath "$DIST" --workpath "$ROOT/build/pyinstaller" packaging/tandem.spec
  echo "   built in $(( $(date +%s) - start )) s"
fi
[ -x "$DIST/tandem/tandem" ] || { echo "no bundle at $DIST/tandem" >&2; exit 1; }

echo "== .deb -> $DEB"
STAGE="$OUT/deb-root"
rm -rf "$STAGE"
mkdir -p "$STAGE/DEBIAN" "$STAGE/opt" "$STAGE/usr/bin" "$STAGE/usr/share/applications" \
         "$STAGE/usr/share/icons/hicolor/scalable/apps" "$STAGE/usr/share/doc/tandem"
cp -a "$DIST/tandem" "$STAGE/opt/tandem"
ln -s /opt/tandem/tandem "$STAGE/usr/bin/tandem"
install -m 644 packaging/linux/tandem.desktop "$STAGE/usr/share/applications/tandem.desktop"
install -m 644 packaging/linux/tandem.svg "$STAGE/usr/share/icons/hicolor/scalable/apps/tandem.svg"
install -m 644 LICENSE "$STAGE/usr/share/doc/tandem/copyright"
# dpkg wants directories 755 and files not group/world-writable.
chmod -R u+rwX,go+rX,go-w "$STAGE"

INSTALLED_KB=$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
cat > "$STAGE/DEBIAN/control" <<EOF
Package: tandem
Version: $VERSION
Architecture: $ARCH
Maintainer: Tandem project <tandem@localhost>
Installed-Size: $INSTALLED_KB
Depends: $(echo $DEPENDS)
Section: science
Priority: optional
Homepage: https://example.invalid/tandem
Description: radiology workstation with a local AI second reader (research use only)
 Tandem reads DICOM studies (CD, folders, PACS), shows them with VTK, and runs
 local AI models (ONNX Runtime, CPU) as a second reader beside the radiologist.
 Self-contained: Python, Qt, VTK, ONNX Runtime and the models are inside
 /opt/tandem. User data lives in ~/.local/share/Tandem.
EOF

dpkg-deb --root-owner-group $ZARGS --build "$STAGE" "$DEB" >/dev/null
rm -rf "$STAGE"
echo "   bundle:    $(du -sh "$DIST/tandem" | cut -f1)  ($DIST/tandem)"
echo "   .deb:      $(du -h "$DEB" | cut -f1)  ($DEB)"
echo "   installed: $((INSTALLED_KB / 1024)) MiB"
