"""How fast Tandem indexes a folder, shows a CT's first image, loads its volume and scrolls.

Each Tandem figure is compared with a baseline measured in the same run (a plain
pydicom loop, SimpleITK's ImageSeriesReader, a bare vtkImageActor); each
measurement runs in its own subprocess so that its peak memory is its own.
Run from the repository root::

    .venv/bin/python benchmarks/bench_viewer_load.py [--slices 600] [--quick] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ct_phantom import DEFAULT_CACHE, PhantomSeries, phantom_series

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CORPUS = REPO.parent / "shared" / "datasets" / "dicom"
WORKER = HERE / "measure_worker.py"
MIB = 1024 * 1024
WINDOW_SIZE = 512

Result = dict[str, Any]


def run_worker(method: str, args: Result, env: dict[str, str] | None = None,
               timeout: float = 900) -> Result:
    """One measurement in a fresh interpreter; its last ``RESULT`` line is the answer."""
    proc = subprocess.run(
        [sys.executable, str(WORKER), method, json.dumps(args)],
        capture_output=True, text=True, timeout=timeout, env=env, check=False,
    )
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("RESULT "):
            result: Result = json.loads(line[len("RESULT "):])
            return result
    tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
    return {"unavailable": f"worker exited with {proc.returncode}: {tail[:200]}"}


Plan = dict[str, tuple[str, Result]]  # label -> (worker method, its arguments)


def run_once(method: str, args: Result) -> Result:
    """One run; ``fresh_data_dir`` in ``args`` gives it an empty Tandem data folder."""
    if not args.get("fresh_data_dir"):
        return run_worker(method, args)
    tmp = tempfile.mkdtemp(prefix="tandem-bench-data-")
    try:
        return run_worker(method, args, env={**os.environ, "TANDEM_DATA_DIR": tmp})
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run_plan(plan: Plan, repeats: int) -> Result:
    """Run every method ``repeats`` times, round-robin, so that a burst of load elsewhere on
    the machine hits all methods alike; per method: the median run, the largest peak."""
    runs: dict[str, list[Result]] = {label: [] for label in plan}
    failed: dict[str, Result] = {}
    for _ in range(repeats):
        for label, (method, args) in plan.items():
            if label in failed:
                continue
            result = run_once(method, args)
            if "unavailable" in result:
                failed[label] = result
            else:
                runs[label].append(result)
    out: Result = {}
    for label, results in runs.items():
        if label in failed:
            out[label] = failed[label]
            continue
        ordered = sorted(results, key=lambda r: r["seconds"])
        median = dict(ordered[(len(ordered) - 1) // 2])  # a real run: its phases add up
        median["runs_s"] = [r["seconds"] for r in results]
        if "peak_rss" in median:
            median["peak_delta"] = max(r["peak_rss"] - r["rss_before"] for r in results)
        out[label] = median
    return out


def warm_page_cache(files: list[Path]) -> None:
    """Read every file once, so all methods see the same (warm) OS cache."""
    for f in files:
        with f.open("rb") as fh:
            while fh.read(1 << 20):
                pass


# ---------------------------------------------------------------- measurements


def measure_indexing(series: dict[str, PhantomSeries], repeats: int) -> Result:
    folders = {"phantom explicit_le": [str(series["explicit_le"].folder)],
               "test corpus (mixed, incl. broken)": [str(CORPUS)]}
    out: Result = {}
    for label, paths in folders.items():
        if not Path(paths[0]).is_dir():
            out[label] = {"unavailable": f"{paths[0]} not found"}
            continue
        args: Result = {"folders": paths}
        out[label] = run_plan({
            "pydicom dcmread(stop_before_pixels) loop": ("index_pydicom", args),
            "Tandem discover": ("index_tandem_discover", args),
            "Tandem import_paths, in place (temp DB)": (
                "index_tandem_import", {**args, "copy": False, "fresh_data_dir": True}),
            "Tandem import_paths, copy=True (temp DB)": (
                "index_tandem_import", {**args, "copy": True, "fresh_data_dir": True}),
        }, repeats)
    return out


def measure_loading(ps: PhantomSeries, repeats: int) -> Result:
    files = [str(f) for f in ps.files]
    args = {"files": files, "size": WINDOW_SIZE}
    return {
        "first image": run_plan({
            "pydicom dcmread+pixel_array": ("first_pydicom", args),
            "pydicom + bare vtkImageActor render": ("first_pydicom_vtk", args),
            "Tandem load_image + SliceView render": ("first_tandem", args),
            "Tandem, same with decoder pool warm": ("first_tandem", {**args, "warm_pool": True}),
        }, repeats),
        "full volume": run_plan({
            "SimpleITK ImageSeriesReader (float32)": ("volume_simpleitk", args),
            "pydicom loop + np.stack (float32 HU)": ("volume_pydicom", args),
            "Tandem load_stack": ("volume_tandem", args),
        }, repeats),
    }


def measure_scrolling(ps: PhantomSeries, frames: int, repeats: int) -> Result:
    args = {"files": [str(f) for f in ps.files], "size": WINDOW_SIZE, "frames": frames}
    return run_plan({
        "bare VTK vtkImageActor (display extent)": ("scroll_vtk", args),
        "Tandem SliceView set_index": ("scroll_tandem", args),
    }, repeats)


# ---------------------------------------------------------------- table


def _fmt_ratio(tandem: Result, base: Result) -> str:
    if "unavailable" in tandem or "unavailable" in base or not base.get("seconds"):
        return "-"
    return f"{tandem['seconds'] / base['seconds']:.2f}"


def _spread(r: Result) -> str:
    """(slowest − fastest) ÷ median over the runs: how much the machine's load moved things."""
    runs = r.get("runs_s") or []
    if len(runs) < 2 or not r["seconds"]:
        return ""
    return f"{100 * (max(runs) - min(runs)) / r['seconds']:.0f}%"


def _unavailable(label: str, r: Result) -> str:
    return f"  {label:<42} not available: {r['unavailable']}"


def print_indexing(section: Result) -> None:
    print("\n1. Indexing a folder (headers only)")
    print(f"  {'method':<42} {'files':>6} {'time s':>8} {'spread':>7} {'files/s':>9} "
          f"{'time ÷ pydicom':>15}")
    for folder, methods in section.items():
        print(f" [{folder}]")
        if "unavailable" in methods:
            print(_unavailable("all", methods))
            continue
        base = methods["pydicom dcmread(stop_before_pixels) loop"]
        for label, r in methods.items():
            if "unavailable" in r:
                print(_unavailable(label, r))
                continue
            files = r["extra"]["files"]
            ratio = _fmt_ratio(r, base) if label.startswith("Tandem") else ""
            print(f"  {label:<42} {files:>6} {r['seconds']:>8.2f} {_spread(r):>7} "
                  f"{files / r['seconds']:>9.0f} {ratio:>15}")


def _compare_slices(result: Result, reference: Result) -> str:
    """Do a method's slices hold the pydicom loop's values, and in which order?"""
    mine, ref = result["slice_sums"], reference["slice_sums"]
    shape = "x".join(str(n) for n in result["shape"])
    if mine == ref:
        return f"{shape}, values equal to the pydicom loop's, same slice order"
    if mine == ref[::-1]:
        return f"{shape}, values equal to the pydicom loop's, reverse slice order"
    return f"{shape}, values DIFFER from the pydicom loop's"


def print_loading(name: str, section: Result, volume_bytes: int) -> None:
    print(f"\n2. Loading [{name}]   volume float32 = {volume_bytes / MIB:.0f} MiB")
    print(f"  {'method':<42} {'time ms':>9} {'spread':>7} {'peak ΔRSS MiB':>14} "
          f"{'Δ/volume':>9} {'Tandem/this':>12}")
    for part, methods in section.items():
        print(f" [{part}]")
        tandem = next(r for label, r in methods.items() if label.startswith("Tandem"))
        reference: Result = next(
            (r for label, r in methods.items() if label.startswith("pydicom loop")),
            {"extra": {}})
        for label, r in methods.items():
            if "unavailable" in r:
                print(_unavailable(label, r))
                continue
            delta = r["peak_delta"] / MIB
            ratio = "" if label.startswith("Tandem") else _fmt_ratio(tandem, r)
            print(f"  {label:<42} {1000 * r['seconds']:>9.1f} {_spread(r):>7} {delta:>14.0f} "
                  f"{r['peak_delta'] / volume_bytes:>9.2f} {ratio:>12}")
            if "slice_sums" in r["extra"] and "slice_sums" in reference["extra"]:
                print(f"  {'':<4}({_compare_slices(r['extra'], reference['extra'])})")
            names = {"header": "read_header", "load_image": "load_image", "render":
                     "set_stack + render", "header_seconds": "read_header of every file, "
                     "before and not counted"}
            parts = [f"{names[k]} {1000 * v:.0f} ms" for k, v in r["extra"].items() if k in names]
            if parts:
                print(f"  {'':<4}({', '.join(parts)})")


def print_scrolling(section: Result) -> None:
    print("\n3. Scrolling (set slice + Render, offscreen 512×512)")
    print(f"  {'method':<42} {'frames':>6} {'median ms':>10} {'p95 ms':>8} {'max ms':>8} "
          f"{'Tandem/this (median)':>21}")
    tandem = section["Tandem SliceView set_index"]
    for label, r in section.items():
        if "unavailable" in r:
            print(_unavailable(label, r))
            continue
        e = r["extra"]
        ratio = ""
        if not label.startswith("Tandem") and "unavailable" not in tandem:
            ratio = f"{tandem['extra']['median_ms'] / e['median_ms']:.2f}"
        print(f"  {label:<42} {e['frames']:>6} {e['median_ms']:>10.2f} {e['p95_ms']:>8.2f} "
              f"{e['max_ms']:>8.2f} {ratio:>21}")
        notes = [f"last frame mean grey {e['last_frame_mean']:.0f}/255"]
        if "set_stack_ms" in e:
            notes.append(f"set_stack(volume) before scrolling {e['set_stack_ms']:.0f} ms, "
                         f"peak ΔRSS {e['set_stack_peak_delta'] / MIB:.0f} MiB")
        print(f"  {'':<4}({'; '.join(notes)})")


def machine() -> str:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (f"{cpu}, {cores} cores, {platform.system()} {platform.release()}, "
            f"load average {_loadavg()}")


def _loadavg() -> str:
    """Other work on the machine skews timings: say how busy it was."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"


def versions() -> str:
    import numpy
    import pydicom
    import SimpleITK
    from vtkmodules.vtkCommonCore import vtkVersion

    return (f"Python {platform.python_version()}, numpy {numpy.__version__}, pydicom "
            f"{pydicom.__version__}, SimpleITK {SimpleITK.Version_VersionString()}, "
            f"VTK {vtkVersion.GetVTKVersion()}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--slices", type=int, default=600, help="CT slices (default 600)")
    parser.add_argument("--quick", action="store_true",
                        help="60 slices, one repetition: a smoke run in under a minute")
    parser.add_argument("--repeats", type=int, help="runs per measurement (default 3, quick 1)")
    parser.add_argument("--frames", type=int, help="slices scrolled (default: all)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE,
                        help=f"where the phantom series are kept (default {DEFAULT_CACHE})")
    parser.add_argument("--json", type=Path, help="also write all figures to this file")
    opts = parser.parse_args(argv)
    slices = 60 if opts.quick and opts.slices == 600 else opts.slices
    repeats = opts.repeats or (1 if opts.quick else 3)
    frames = min(opts.frames or slices, slices)

    started = time.perf_counter()
    series = phantom_series(slices, opts.cache)
    for ps in series.values():
        warm_page_cache(list(ps.files))
    volume_bytes = 512 * 512 * slices * 4

    results: Result = {
        "machine": machine(), "versions": versions(), "slices": slices, "repeats": repeats,
        "series": {n: {"folder": str(ps.folder), "transfer_syntax": ps.transfer_syntax,
                       "bytes": ps.bytes_on_disk} for n, ps in series.items()},
        "indexing": measure_indexing(series, repeats),
        "loading": {n: measure_loading(ps, repeats) for n, ps in series.items()},
        "scrolling": measure_scrolling(series["explicit_le"], frames, repeats),
    }

    print(f"\nTandem viewer-load benchmark: CT phantom 512×512×{slices}, int16, "
          f"median of {repeats} run(s), each method in its own process; files in the OS cache")
    print(f"machine: {results['machine']}\n{results['versions']}")
    for n, ps in series.items():
        print(f"  series {n}: {ps.transfer_syntax}, {ps.bytes_on_disk / MIB:.0f} MiB on disk")
    print_indexing(results["indexing"])
    for n, section in results["loading"].items():
        print_loading(n, section, volume_bytes)
    print_scrolling(results["scrolling"])
    print(f"\n(total {time.perf_counter() - started:.0f} s; spread = (slowest − fastest run) ÷ "
          f"median; load average at the end {_loadavg()})")
    if opts.json:
        opts.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
