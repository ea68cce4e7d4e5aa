"""Which files does Tandem decode, compared with pydicom, GDCM and SimpleITK alone?

Run: ``.venv/bin/python benchmarks/decode_coverage.py [--json out.json]``

Every file with pixel data in the shared corpus (``../shared/datasets/dicom``)
and in pydicom's bundled ``data/test_files`` is decoded four ways, each in a
worker process with a per-file timeout (a crashing codec cannot stop the run):
Tandem (``imaging.decode.decode_frames``), pydicom alone (``dcmread`` +
``pixel_array``), GDCM alone (``gdcm.ImageReader``) and SimpleITK alone
(``sitk.ReadImage``). Prints the fraction each decodes, every file some
baseline decodes but Tandem does not, and every shape disagreement.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from imaging.errors import DicomFileError  # noqa: E402
from imaging.isolation import DecoderPool  # noqa: E402

CORPUS = REPO.parent / "shared" / "datasets" / "dicom"
DECODERS = ("tandem", "pydicom", "gdcm", "simpleitk")
TIMEOUT_S = 60.0


# --- probes: run inside the worker processes; each returns the decoded array's shape


def probe_tandem(path: str) -> tuple[int, ...]:
    from imaging.decode import decode_frames

    return tuple(decode_frames(Path(path), isolated=False).array.shape)


def probe_pydicom(path: str) -> tuple[int, ...]:
    import pydicom

    ds = pydicom.dcmread(path, force=True)
    array = ds.pixel_array
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    return tuple(array.shape) if frames > 1 else (1, *array.shape)


def probe_gdcm(path: str) -> tuple[int, ...]:
    import gdcm

    gdcm.Trace.WarningOff()
    gdcm.Trace.ErrorOff()
    reader = gdcm.ImageReader()
    reader.SetFileName(path)
    if not reader.Read():
        raise RuntimeError("gdcm.ImageReader cannot read it")
    image = reader.GetImage()
    dims = [int(d) for d in image.GetDimensions()]
    samples = int(image.GetPixelFormat().GetSamplesPerPixel())
    buffer = image.GetBuffer()  # decodes
    if not buffer or len(buffer) < image.GetBufferLength():
        raise RuntimeError("gdcm returned no pixels")
    frames = dims[2] if len(dims) > 2 else 1
    return (frames, dims[1], dims[0]) + ((samples,) if samples > 1 else ())


def probe_simpleitk(path: str) -> tuple[int, ...]:
    import SimpleITK as sitk

    image = sitk.ReadImage(path)
    shape = tuple(sitk.GetArrayFromImage(image).shape)
    samples = image.GetNumberOfComponentsPerPixel()
    spatial = shape[:-1] if samples > 1 else shape
    if len(spatial) == 2:
        shape = (1, *shape)
    return shape


# --- driver


def has_pixel_data(path: Path) -> bool:
    import pydicom

    try:
        ds = pydicom.dcmread(path, force=True, stop_before_pixels=False, defer_size=1024)
    except Exception:
        return False
    return any(tag in ds for tag in (0x7FE00010, 0x7FE00008, 0x7FE00009))


def corpus_files() -> list[tuple[str, Path]]:
    import pydicom.data

    pydicom_files = Path(pydicom.data.__file__).parent / "test_files"
    found = []
    for label, root in (("shared", CORPUS), ("pydicom-bundled", pydicom_files)):
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            if has_pixel_data(path):
                found.append((f"{label}/{path.relative_to(root)}", path))
    return found


def run_probe(pool: DecoderPool, decoder: str, path: Path) -> dict[str, Any]:
    start = time.perf_counter()
    try:
        shape = pool.call(__name__ if __name__ != "__main__" else "benchmarks.decode_coverage",
                          f"probe_{decoder}", str(path), timeout=TIMEOUT_S)
        result: dict[str, Any] = {"ok": True, "shape": list(shape)}
    except DicomFileError as exc:
        result = {"ok": False, "error": f"{exc.kind}: {exc.message}"}
    except Exception as exc:
        result = {"ok": False, "error": f"{type(exc).__name__}: {' '.join(str(exc).split())}"}
    result["seconds"] = round(time.perf_counter() - start, 4)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="write per-file results here")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)

    files = corpus_files()
    pool = DecoderPool(workers=args.workers, timeout=TIMEOUT_S)
    started = time.perf_counter()
    try:
        with ThreadPoolExecutor(max_workers=args.workers) as threads:
            jobs = {(name, decoder): threads.submit(run_probe, pool, decoder, path)
                    for name, path in files for decoder in DECODERS}
            results = {name: {d: jobs[name, d].result() for d in DECODERS} for name, _ in files}
    finally:
        pool.close()
    elapsed = time.perf_counter() - started

    total = len(files)
    print(f"{total} files with pixel data ({sum(n.startswith('shared/') for n in results)} "
          f"shared corpus, {sum(n.startswith('pydicom-bundled/') for n in results)} pydicom "
          f"bundled); {elapsed:.1f} s with {args.workers} workers\n")
    print(f"{'decoder':<10} {'decoded':>8} {'fraction':>9} {'sum of times (s)':>17}")
    for decoder in DECODERS:
        ok = sum(r[decoder]["ok"] for r in results.values())
        seconds = sum(r[decoder]["seconds"] for r in results.values())
        print(f"{decoder:<10} {ok:>8} {ok / total:>9.1%} {seconds:>17.2f}")

    missed = {n: r for n, r in results.items()
              if not r["tandem"]["ok"] and any(r[d]["ok"] for d in DECODERS[1:])}
    print(f"\nDecoded by a baseline but not by Tandem: {len(missed)}")
    for name, r in missed.items():
        by = ", ".join(d for d in DECODERS[1:] if r[d]["ok"])
        print(f"  {name}  (by {by})  Tandem: {r['tandem']['error'][:140]}")

    mismatched = {n: r for n, r in results.items() if r["tandem"]["ok"] and any(
        r[d]["ok"] and r[d]["shape"] != r["tandem"]["shape"] for d in DECODERS[1:])}
    print(f"\nShape disagreements with Tandem: {len(mismatched)}")
    for name, r in mismatched.items():
        shapes = ", ".join(f"{d} {tuple(r[d]['shape'])}" for d in DECODERS if r[d]["ok"])
        print(f"  {name}: {shapes}")

    refused = {n: r["tandem"]["error"] for n, r in results.items() if not r["tandem"]["ok"]}
    print(f"\nRefused by Tandem: {len(refused)}")
    for name, error in refused.items():
        print(f"  {name}: {error[:140]}")

    if args.json:
        args.json.write_text(json.dumps({"elapsed_s": elapsed, "files": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
