#!/usr/bin/env bash
# Install Tandem's .deb in a clean Debian 12 (bookworm) minbase chroot and run it from there:
# no venv, no repository, only what `apt-get install ./tandem.deb` brings.
#
#   sudo packaging/linux/test_deb.sh [path/to/tandem_X_amd64.deb]
#
# Checks, from the installed copy (as an ordinary user "practice"):
#   - every ELF file Tandem needs resolves its shared libraries (ldd) -> the Depends are complete
#   - tandem --version (cold and warm start timed), tandem models --json (3 models usable)
#   - tandem inspect on the bundled example study, and inspect --decode on JPEG 2000, HTJ2K,
#     JPEG-LS, RLE, JPEG baseline and JPEG lossless files of the test corpus (frozen codecs,
#     pylibjpeg entry points, GDCM) against the corpus' expected verdicts
#   - tandem analyze on a chest radiograph (first run timed)
#   - the GUI starts on an Xvfb display (the host's Xvfb, socket shared into the chroot)
#     with screenshots in build/packaging/test/: gui_first_run.png (the first-run window) and
#     gui_main_window.png (the workstation with the example study, after "Later")
#   - tandem doctor --self-test: each model runs on its bundled sample, no problem reported
# Needs root (chroot, mounts), debootstrap, Xvfb, xwininfo (x11-utils), xdotool, ImageMagick
# `import`, python3, network
# access to deb.debian.org (the chroot's apt fetches the Depends). The debootstrap download
# and the bootstrapped base are cached under build/packaging/, so a second run is fast.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
WORK="$ROOT/build/packaging"
DEB=${1:-$(ls -t "$WORK"/tandem_*_amd64.deb 2>/dev/null | head -1)}
[ -f "$DEB" ] || { echo "no .deb given and none in $WORK (run build_deb.sh)" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "run as root (chroot and mounts)" >&2; exit 1; }
MIRROR=http://deb.debian.org/debian
TARBALL="$WORK/bookworm-minbase.tgz"   # debootstrap's package download
BASE="$WORK/bookworm-base.tar"          # the bootstrapped chroot, before Tandem
CHROOT="$WORK/chroot"
APT_CACHE="$WORK/apt-archives"
RESULTS="$WORK/test"
DATASETS="$ROOT/../shared/datasets"
CXR="$DATASETS/cxr/tb_normal/images/CHNCXR_0004_0.jpg"
CODEC_FILES="pydicom/MR_small_jp2klossless.dcm pydicom/693_J2KI.dcm pydicom-data/HTJ2K_08_RGB.dcm
  pydicom/MR_small_jpeg_ls_lossless.dcm pydicom/JPEGLSNearLossless_16.dcm pydicom/MR_small_RLE.dcm
  pydicom/SC_rgb_rle.dcm pydicom/SC_rgb_jpeg_dcmtk.dcm pydicom/JPEG-lossy.dcm pydicom-data/JPEG-LL.dcm"
mkdir -p "$WORK" "$APT_CACHE" "$RESULTS"
rm -f "$RESULTS"/*

MOUNTS=()
XVFB_PID=""
GUI_PID=""
cleanup() {
  set +e
  [ -n "$GUI_PID" ] && kill -- "-$GUI_PID" 2>/dev/null
  [ -n "$XVFB_PID" ] && kill "$XVFB_PID" 2>/dev/null
  for ((i=${#MOUNTS[@]}-1; i>=0; i--)); do
    umount "${MOUNTS[i]}" 2>/dev/null || umount -l "${MOUNTS[i]}"
  done
}
trap cleanup EXIT
bind() { mkdir -p "$2"; mount --bind "$1" "$2"; MOUNTS+=("$2"); }
now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.2f}')"; }

# --- 1. a clean chroot (cached base) ---------------------------------------------------
if [ ! -f "$BASE" ]; then
  if [ ! -f "$TARBALL" ]; then
    echo "== debootstrap download -> $TARBALL"
    debootstrap --variant=minbase --make-tarball="$TARBALL" bookworm "$WORK/tarball-tmp" "$MIRROR"
    rm -rf "$WORK/tarball-tmp"
  fi
  echo "== debootstrap (from the cached download)"
  rm -rf "$CHROOT"
  debootstrap --variant=minbase --unpack-tarball="$TARBALL" bookworm "$CHROOT" "$MIRROR" \
    > "$WORK/debootstrap.log"
  tar -C "$CHROOT" -cf "$BASE" .
fi
echo "== fresh chroot from $BASE"
rm -rf "$CHROOT"
mkdir -p "$CHROOT"
tar -C "$CHROOT" -xf "$BASE"
cp /etc/resolv.conf "$CHROOT/etc/resolv.conf"
mount -t proc proc "$CHROOT/proc"; MOUNTS+=("$CHROOT/proc")
bind /dev "$CHROOT/dev"
bind /dev/pts "$CHROOT/dev/pts"
mount -t tmpfs tmpfs "$CHROOT/tmp"; MOUNTS+=("$CHROOT/tmp")
bind "$APT_CACHE" "$CHROOT/var/cache/apt/archives"
in_chroot() {
  chroot "$CHROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive "$@"
}
as_user() {
  chroot --userspec=practice:practice "$CHROOT" /usr/bin/env -i PATH=/usr/bin:/bin \
    HOME=/home/practice LANG=C.UTF-8 TANDEM_LANG=fr "$@"
}
in_chroot useradd -m -s /bin/sh practice

# --- 2. install the package with apt (Depends resolved from Debian) ----------------------
cp "$DEB" "$CHROOT/tmp/tandem.deb"
echo "== apt-get install ./tandem.deb"
in_chroot apt-get update -q >/dev/null
before=$(in_chroot dpkg-query -W -f '${Installed-Size}\n' | awk '{s+=$1} END {print s}')
in_chroot apt-get install -y -q --no-install-recommends \
  /tmp/tandem.deb > "$RESULTS/apt-install.log"
after=$(in_chroot dpkg-query -W -f '${Installed-Size}\n' | awk '{s+=$1} END {print s}')
added=$(grep -c '^Setting up' "$RESULTS/apt-install.log" || true)

echo "== shared libraries of the installed copy (ldd)"
# The bootloader puts _internal/ on the library path; auditwheel'd wheels find their *.libs
# folders through RPATH, which ldd does not follow from a library inside such a folder.
cat > "$CHROOT/tmp/ldd-check.sh" <<'EOF'
LIBS=/opt/tandem/_internal
for d in /opt/tandem/_internal/*.libs; do LIBS="$LIBS:$d"; done
find /opt/tandem -type f \( -name "*.so*" -o -name tandem \) | sort | while read -r f; do
  LD_LIBRARY_PATH="$LIBS" ldd "$f" 2>/dev/null | grep "not found" | sed "s|^|$f: |"
done
EOF
in_chroot sh /tmp/ldd-check.sh > "$RESULTS/ldd-missing.txt"
if [ -s "$RESULTS/ldd-missing.txt" ]; then
  echo "FAIL: libraries not found:"; cat "$RESULTS/ldd-missing.txt"; exit 1
fi

# --- 3. the command line, from the installed copy ----------------------------------------
mkdir -p "$CHROOT/home/practice/data"
cp "$CXR" "$CHROOT/home/practice/data/chest.jpg"
for f in $CODEC_FILES; do cp "$DATASETS/dicom/$f" "$CHROOT/home/practice/data/"; done
in_chroot chown -R practice:practice /home/practice/data

sync; cold_note="page cache dropped"
echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || cold_note="page cache NOT dropped (no permission)"
t0=$(now); as_user tandem --version > "$RESULTS/version.txt"; t1=$(now)
as_user tandem --version >/dev/null; t2=$(now)
echo "   $(cat "$RESULTS/version.txt")"
grep -Eq '^tandem [0-9]+\.[0-9]+' "$RESULTS/version.txt"

echo "== tandem models --json"
as_user tandem models --json > "$RESULTS/models.json"
python3 - "$RESULTS/models.json" <<'EOF'
import json, sys
models = json.load(open(sys.argv[1]))["models"]
ok = [m["id"] for m in models if m["valid"] and m["sha256_ok"] and m["providers"]]
print(f"   usable: {ok}")
assert len(ok) == 3, models
EOF

echo "== tandem doctor --self-test (each model on its bundled sample)"
as_user tandem doctor --self-test --json > "$RESULTS/doctor.json" || true
python3 - "$RESULTS/doctor.json" <<'EOF'
import json, sys
report = json.load(open(sys.argv[1]))
print(f"   libraries: {report['libraries']}")
for t in report["self_test"]:
    print(f"   {t['model_id']}: ok={t['ok']} {t['label']} {t['score'] or 0:.3f} on {t['provider']}"
          f" (load {t['load_ms']:.0f} ms, run {t['run_ms']:.0f} ms) {t['message']}")
print(f"   problems: {report['problems']}")
assert len(report["self_test"]) == 3 and all(t["ok"] for t in report["self_test"]), report
assert not report["problems"], report["problems"]
EOF

echo "== tandem inspect (bundled example study)"
EXAMPLE=/opt/tandem/_internal/resources/example_study
as_user tandem inspect "$EXAMPLE" --json > "$RESULTS/inspect.json"
python3 - "$RESULTS/inspect.json" <<'EOF'
import json, sys
out = json.load(open(sys.argv[1]))
files = out["files"]
print(f"   {len(files)} files, {len(out['series'])} series")
assert len(files) == 5 and all(f["status"] == "ok" for f in files), files
EOF

echo "== tandem inspect --decode (compressed transfer syntaxes)"
as_user sh -c 'tandem inspect --decode --json /home/practice/data/*.dcm' \
  > "$RESULTS/decode.json"
python3 - "$RESULTS/decode.json" "$DATASETS/dicom/index.csv" "$CODEC_FILES" <<'EOF'
# Verdicts as index.csv writes them: ok, warning:<kind>, error:<kind>.
import csv, json, sys
from pathlib import Path
chosen = sys.argv[3].split()
expected = {Path(r["path"]).name: r for r in csv.DictReader(open(sys.argv[2]))
            if r["path"] in chosen}
assert len(expected) == len(chosen), "codec files missing from index.csv"
bad = []
files = json.load(open(sys.argv[1]))["files"]
assert len(files) == len(chosen), files
for f in files:
    name = Path(f["path"]).name
    row = expected[name]
    if f["status"] == "error":
        got = f"error:{f['error_kind']}"
    elif f["warnings"]:
        got = "warning:" + f["warnings"][0]["kind"]
    else:
        got = "ok"
    decoder = (f.get("pixels") or {}).get("decoder")
    print(f"   {name:32s} {row['transfer_syntax']:24s} {got:30s} decoder={decoder}")
    if got != row["expected"] or (not got.startswith("error") and decoder is None):
        bad.append((name, row["expected"], got, decoder))
    # HTJ2K has one decoder: pylibjpeg-openjpeg, found through its entry point.
    if row["transfer_syntax"].startswith("1.2.840.10008.1.2.4.20") and decoder != "pydicom":
        bad.append((name, "HTJ2K through pylibjpeg entry points", decoder))
assert not bad, bad
EOF

echo "== tandem analyze (first run)"
t3=$(now)
as_user tandem analyze /home/practice/data/chest.jpg --json > "$RESULTS/analyze.json"
t4=$(now)
python3 - "$RESULTS/analyze.json" <<'EOF'
import json, sys
image = json.load(open(sys.argv[1]))["images"][0]
for r in image["results"]:
    scores = [f"{c['label']}={c['probability']:.3f}" for c in r["case_scores"]]
    print(f"   {r['model_id']}: applicable={r['applicable']} {r['provider']} {scores}"
          f" {r.get('reason', '')}")
cxr = [r for r in image["results"] if r["model_id"] == "cxr_normality"]
assert cxr and cxr[0]["applicable"] and cxr[0]["case_scores"], image
EOF

# --- 4. the GUI on Xvfb (host X server, socket shared into the chroot) -------------------
echo "== GUI under Xvfb"
DISPLAY_NUM=97
while [ -e "/tmp/.X11-unix/X$DISPLAY_NUM" ]; do DISPLAY_NUM=$((DISPLAY_NUM + 1)); done
Xvfb ":$DISPLAY_NUM" -screen 0 1600x1000x24 -nolisten tcp >"$RESULTS/xvfb.log" 2>&1 &
XVFB_PID=$!
for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X$DISPLAY_NUM" ] && break; sleep 0.1; done
bind /tmp/.X11-unix "$CHROOT/tmp/.X11-unix"
t5=$(now)
setsid chroot --userspec=practice:practice "$CHROOT" /usr/bin/env -i PATH=/usr/bin:/bin \
  HOME=/home/practice LANG=C.UTF-8 TANDEM_LANG=fr DISPLAY=":$DISPLAY_NUM" \
  tandem /opt/tandem/_internal/resources/example_study > "$RESULTS/gui.log" 2>&1 &
GUI_PID=$!
shown=""
for _ in $(seq 120); do
  if DISPLAY=":$DISPLAY_NUM" xwininfo -root -tree 2>/dev/null | grep -q '"Tandem'; then
    shown=$(now); break
  fi
  kill -0 "$GUI_PID" 2>/dev/null || break
  sleep 0.25
done
[ -n "$shown" ] || { echo "FAIL: no Tandem window"; cat "$RESULTS/gui.log"; exit 1; }
x() { DISPLAY=":$DISPLAY_NUM" "$@"; }
sleep 3
x import -window root "$RESULTS/gui_first_run.png"
# "Later" on the first-run window (Escape), then the main window with the example study.
dialog=$(x xdotool search --onlyvisible --name '^Tandem' | tail -1)
x xdotool windowfocus --sync "$dialog" key Escape
sleep 8
x import -window root "$RESULTS/gui_main_window.png"
kill -0 "$GUI_PID" || { echo "FAIL: the GUI exited"; cat "$RESULTS/gui.log"; exit 1; }
kill -- "-$GUI_PID"; wait "$GUI_PID" 2>/dev/null || true; GUI_PID=""
echo "   window after $(secs "$t5" "$shown") s; screenshots in $RESULTS:"
echo "   gui_first_run.png (first-run window), gui_main_window.png (after 'Later')"
if [ -s "$RESULTS/gui.log" ]; then echo "   GUI stderr:"; sed 's/^/     /' "$RESULTS/gui.log"; fi

# --- 5. numbers ---------------------------------------------------------------------------
echo "== summary"
echo "   .deb size:                $(du -h "$DEB" | cut -f1)  ($(basename "$DEB"))"
echo "   installed (Tandem):       $(du -sh "$CHROOT/opt/tandem" | cut -f1)"
echo "   installed with Depends:   $(( (after - before) / 1024 )) MiB, $added packages set up"
echo "   tandem --version:         $(secs "$t0" "$t1") s cold ($cold_note), $(secs "$t1" "$t2") s warm"
echo "   tandem analyze (1st run): $(secs "$t3" "$t4") s"
echo "   GUI window shown after:   $(secs "$t5" "$shown") s"
echo "PASS"
