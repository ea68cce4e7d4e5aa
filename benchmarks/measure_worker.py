"""Run ONE measurement in this fresh process and print its result as one JSON line.

``bench_viewer_load.py`` starts this script once per method and repetition, so
that each peak-memory figure belongs to that method alone (imports, caches and
freed-but-kept memory of another method cannot pollute it). Usage::

    python benchmarks/measure_worker.py METHOD '{"files": [...], ...}'

The result has ``seconds`` (the timed part only: imports, window creation and
warm-up are outside), ``rss_before``/``peak_rss`` in bytes (peak over the timed
part when the kernel lets us reset the high-water mark, else over the process),
and method-specific ``extra`` figures. A measurement that cannot run prints
``{"unavailable": "<why>"}``.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # Tandem's packages, before they are installed

Result = dict[str, Any]


class Unavailable(Exception):
    """The Tandem module a measurement needs is missing or does not fit the contract."""


# ---------------------------------------------------------------- memory


def _status_kib(field: str, pid: int | str = "self") -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak(pid: int | str = "self") -> bool:
    """Reset the kernel's peak-RSS mark (Linux ≥ 4.0) so the peak covers only what follows."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _children() -> list[int]:
    import psutil

    return [c.pid for c in psutil.Process().children(recursive=True)]


class PeakMemory:
    """Resident memory before a block and its peak during it, in bytes.

    Tandem decodes compressed files in worker processes: their growth counts too.
    ``child_peak`` is the sum of each child's peak minus its resident memory before
    the block (a child started inside the block counts whole). Summing peaks can
    only overstate the simultaneous total.
    """

    def __enter__(self) -> PeakMemory:
        self.children_before: dict[int, int] = {}
        for pid in _children():
            _reset_peak(pid)
            self.children_before[pid] = (_status_kib("VmRSS", pid) or 0) * 1024
        self.scoped = _reset_peak()
        self.before = (_status_kib("VmRSS") or 0) * 1024
        return self

    def __exit__(self, *exc: object) -> None:
        hwm = _status_kib("VmHWM") if self.scoped else None
        if hwm is None:  # no /proc: peak over the whole process (ru_maxrss is KiB on Linux)
            hwm = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        self.child_peak = 0
        for pid in _children():
            child_hwm = (_status_kib("VmHWM", pid) or 0) * 1024
            self.child_peak += max(0, child_hwm - self.children_before.get(pid, 0))
        self.peak = hwm * 1024 + self.child_peak


def timed(fn: Callable[[], Any]) -> tuple[Any, float, PeakMemory]:
    with PeakMemory() as mem:
        start = time.perf_counter()
        value = fn()
        seconds = time.perf_counter() - start
    return value, seconds, mem


def _result(seconds: float, mem: PeakMemory, **extra: Any) -> Result:
    return {"seconds": seconds, "rss_before": mem.before, "peak_rss": mem.peak,
            "peak_scoped": mem.scoped, "child_peak": mem.child_peak, "extra": extra}


# ---------------------------------------------------------------- indexing


def _walk(folders: Sequence[str]) -> list[Path]:
    found: list[Path] = []
    for folder in folders:
        for root, _dirs, names in os.walk(folder):
            found.extend(Path(root) / n for n in sorted(names))
    return found


def index_pydicom(args: Result) -> Result:
    import pydicom

    def run() -> tuple[int, int]:
        ok = bad = 0
        for path in _walk(args["folders"]):
            try:
                pydicom.dcmread(path, stop_before_pixels=True)
                ok += 1
            except Exception:
                bad += 1
        return ok, bad

    (ok, bad), seconds, mem = timed(run)
    return _result(seconds, mem, files=ok + bad, readable=ok, unreadable=bad)


def index_tandem_discover(args: Result) -> Result:
    try:
        from imaging.discover import discover
    except ImportError as exc:
        raise Unavailable(f"imaging.discover: {exc}") from exc
    report, seconds, mem = timed(lambda: discover([Path(f) for f in args["folders"]]))
    files = len(report.files)
    ok = sum(1 for f in report.files if f.status == "ok")
    return _result(seconds, mem, files=files, readable=ok, unreadable=files - ok,
                   series=len(report.series))


def index_tandem_import(args: Result) -> Result:
    """import_paths into a new database; TANDEM_DATA_DIR is a fresh temporary folder."""
    try:
        from imaging.db import StudyDatabase
        from imaging.importer import import_paths
    except ImportError as exc:
        raise Unavailable(f"imaging.importer: {exc}") from exc
    paths = [Path(f) for f in args["folders"]]
    db = StudyDatabase()
    report, seconds, mem = timed(lambda: import_paths(db, paths, copy=args["copy"]))
    db.close()
    return _result(seconds, mem, files=report.found, readable=report.new,
                   unreadable=len(report.errors), ignored=report.ignored,
                   duplicates=report.duplicates, series=len(report.series))


# ---------------------------------------------------------------- full volume


def _slice_sums(volume: Any) -> list[float]:
    """A cheap fingerprint of each slice (every 7th pixel), to compare methods' outputs."""
    return [float(v) for v in volume[:, ::7, ::7].sum(axis=(1, 2), dtype="float64")]


def volume_pydicom(args: Result) -> Result:
    """Plain loop: dcmread + pixel_array, np.stack, modality LUT to float32 HU (Tandem's output)."""
    import numpy as np
    import pydicom

    def run() -> Any:
        first = None
        arrays = []
        for f in args["files"]:
            ds = pydicom.dcmread(f)
            if first is None:
                first = ds
            arrays.append(ds.pixel_array)
        assert first is not None
        volume = np.stack(arrays).astype(np.float32)
        volume *= float(first.RescaleSlope)
        volume += float(first.RescaleIntercept)
        return volume

    volume, seconds, mem = timed(run)
    return _result(seconds, mem, shape=list(volume.shape), dtype=str(volume.dtype),
                   slice_sums=_slice_sums(volume))


def volume_simpleitk(args: Result) -> Result:
    import SimpleITK as sitk

    def run() -> Any:
        reader = sitk.ImageSeriesReader()
        reader.SetFileNames(list(args["files"]))
        reader.SetOutputPixelType(sitk.sitkFloat32)
        image = reader.Execute()
        return image, sitk.GetArrayViewFromImage(image)

    (_image, volume), seconds, mem = timed(run)
    return _result(seconds, mem, shape=list(volume.shape), dtype=str(volume.dtype),
                   slice_sums=_slice_sums(volume))


def _tandem_headers(files: Sequence[str]) -> tuple[list[Any], float]:
    from imaging.header import read_header

    start = time.perf_counter()
    headers = [read_header(Path(f)) for f in files]
    return headers, time.perf_counter() - start


def _tandem_loader() -> Any:
    try:
        from imaging import loader
    except ImportError as exc:
        raise Unavailable(f"imaging.loader: {exc}") from exc
    return loader


def volume_tandem(args: Result) -> Result:
    loader = _tandem_loader()
    headers, header_seconds = _tandem_headers(args["files"])
    stack, seconds, mem = timed(lambda: loader.load_stack(headers))
    values = stack.values
    return _result(seconds, mem, header_seconds=header_seconds, shape=list(values.shape),
                   dtype=str(values.dtype), slice_sums=_slice_sums(values))


# ---------------------------------------------------------------- first image


def first_pydicom(args: Result) -> Result:
    import pydicom

    def run() -> Any:
        return pydicom.dcmread(args["files"][0]).pixel_array

    pixels, seconds, mem = timed(run)
    return _result(seconds, mem, shape=list(pixels.shape))


def _render_window(size: int) -> Any:
    """An offscreen window set up as Tandem's, with one renderer, already rendered once."""
    import vtkmodules.vtkRenderingOpenGL2 as gl
    from vtkmodules.vtkRenderingCore import vtkRenderer, vtkRenderWindow

    # Without a display, EGL directly (the generic factory would try X first).
    use_egl = not os.environ.get("DISPLAY") and hasattr(gl, "vtkEGLRenderWindow")
    window = gl.vtkEGLRenderWindow() if use_egl else vtkRenderWindow()
    window.SetOffScreenRendering(1)
    window.SetSize(size, size)
    window.SetMultiSamples(0)
    window.AddRenderer(vtkRenderer())
    window.Render()
    return window


def _bare_actor(volume: Any, window: Any, center: float, width: float) -> Any:
    """Bare-VTK baseline: vtkImageData of the whole volume shown by one vtkImageActor.

    The VTK array borrows ``volume``'s memory: the caller keeps ``volume`` alive.
    """
    from vtkmodules.util.numpy_support import numpy_to_vtk
    from vtkmodules.vtkCommonDataModel import vtkImageData
    from vtkmodules.vtkRenderingCore import vtkImageActor

    n, rows, cols = volume.shape
    image = vtkImageData()
    image.SetDimensions(cols, rows, n)
    image.SetSpacing(0.7, 0.7, 1.0)
    scalars = numpy_to_vtk(volume.reshape(-1), deep=False)
    image.GetPointData().SetScalars(scalars)
    actor = vtkImageActor()
    actor.GetMapper().SetInputData(image)
    actor.GetProperty().SetColorWindow(width)
    actor.GetProperty().SetColorLevel(center)
    actor.SetDisplayExtent(0, cols - 1, 0, rows - 1, 0, 0)
    renderer = window.GetRenderers().GetFirstRenderer()
    renderer.AddActor(actor)
    renderer.GetActiveCamera().ParallelProjectionOn()
    # Frame the whole volume, so that no slice falls outside the clipping range.
    renderer.ResetCamera(image.GetBounds())
    renderer.GetActiveCamera().SetParallelScale(rows * 0.7 / 2)  # fit the height, as Tandem does
    return actor


def first_pydicom_vtk(args: Result) -> Result:
    """Baseline on screen: pydicom decode + HU + bare vtkImageActor render."""
    import numpy as np
    import pydicom

    window = _render_window(args["size"])

    def run() -> Any:
        ds = pydicom.dcmread(args["files"][0])
        hu = ds.pixel_array.astype(np.float32) * float(ds.RescaleSlope) + float(
            ds.RescaleIntercept)
        _bare_actor(hu[np.newaxis], window, 40.0, 400.0)
        window.Render()
        window.WaitForCompletion()
        return hu

    _hu, seconds, mem = timed(run)
    return _result(seconds, mem)


def _tandem_view(size: int) -> Any:
    """Tandem's own offscreen window with an empty SliceView, rendered once (the app is open)."""
    try:
        from viewer.offscreen import offscreen_render_window
        from viewer.slice_view import SliceView
    except ImportError as exc:
        raise Unavailable(f"viewer.slice_view: {exc}") from exc
    window = offscreen_render_window((size, size))
    view = SliceView(window)
    view.set_stack(None)
    view.render()
    return view


def _warm_decoder_pool(path: str) -> None:
    """The app's state once it has decoded one compressed image: worker processes running."""
    from imaging.decode import decode_frames

    decode_frames(Path(path), frames=[0], isolated=True)


def first_tandem(args: Result) -> Result:
    """read_header + load_image + SliceView.set_stack + render, in an open viewport."""
    loader = _tandem_loader()
    from imaging.header import read_header

    view = _tandem_view(args["size"])
    if args.get("warm_pool"):
        _warm_decoder_pool(args["files"][-1])
    phases: dict[str, float] = {}

    def run() -> None:
        t0 = time.perf_counter()
        header = read_header(Path(args["files"][0]))
        t1 = time.perf_counter()
        stack = loader.load_image(header)
        t2 = time.perf_counter()
        view.set_stack(stack)
        view.render()
        view.render_window.WaitForCompletion()
        t3 = time.perf_counter()
        phases.update(header=t1 - t0, load_image=t2 - t1, render=t3 - t2)

    _none, seconds, mem = timed(run)
    return _result(seconds, mem, **phases)


# ---------------------------------------------------------------- scrolling


def _frame_times(window: Any, show: Callable[[int], None], count: int) -> list[float]:
    for k in range(min(3, count)):  # warm-up: textures, shaders
        show(k)
        window.Render()
    window.WaitForCompletion()
    times = []
    for k in range(count):
        start = time.perf_counter()
        show(k)
        window.Render()
        window.WaitForCompletion()
        times.append(time.perf_counter() - start)
    return times


def _mean_grey(window: Any) -> float:
    """Mean of the last frame's pixels: proves that an image was drawn (0 = black)."""
    import numpy as np
    from vtkmodules.util.numpy_support import vtk_to_numpy
    from vtkmodules.vtkRenderingCore import vtkWindowToImageFilter

    grabber = vtkWindowToImageFilter()
    grabber.SetInput(window)
    grabber.ReadFrontBufferOff()
    grabber.Update()
    return float(np.mean(vtk_to_numpy(grabber.GetOutput().GetPointData().GetScalars())))


def _frames_result(times: list[float], window: Any) -> Result:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {"seconds": sum(times), "extra": {"frames": len(times),
            "median_ms": 1000 * statistics.median(times), "p95_ms": 1000 * p95,
            "max_ms": 1000 * ordered[-1], "last_frame_mean": _mean_grey(window)}}


def scroll_vtk(args: Result) -> Result:
    import numpy as np
    import pydicom

    volume = np.stack([pydicom.dcmread(f).pixel_array for f in args["files"]]).astype(np.float32)
    volume += -1024.0
    window = _render_window(args["size"])
    actor = _bare_actor(volume, window, 40.0, 400.0)
    cols, rows = volume.shape[2], volume.shape[1]

    def show(k: int) -> None:
        actor.SetDisplayExtent(0, cols - 1, 0, rows - 1, k, k)

    return _frames_result(_frame_times(window, show, args["frames"]), window)


def scroll_tandem(args: Result) -> Result:
    """SliceView.set_index + render; set_stack of the whole volume is timed apart."""
    loader = _tandem_loader()
    headers, _ = _tandem_headers(args["files"])
    stack = loader.load_stack(headers)
    view = _tandem_view(args["size"])
    _none, set_stack_seconds, mem = timed(lambda: view.set_stack(stack, index=0))
    window = view.render_window
    result = _frames_result(_frame_times(window, view.set_index, args["frames"]), window)
    result["extra"].update(set_stack_ms=1000 * set_stack_seconds,
                           set_stack_peak_delta=mem.peak - mem.before)
    return result


METHODS: dict[str, Callable[[Result], Result]] = {
    f.__name__: f for f in (
        index_pydicom, index_tandem_discover, index_tandem_import,
        volume_pydicom, volume_simpleitk, volume_tandem,
        first_pydicom, first_pydicom_vtk, first_tandem,
        scroll_vtk, scroll_tandem,
    )
}


def main(argv: Sequence[str]) -> int:
    method, args = argv[0], json.loads(argv[1])
    try:
        result = METHODS[method](args)
    except Unavailable as exc:
        result = {"unavailable": str(exc)}
    except Exception as exc:  # report, do not hide: the table shows the failure
        result = {"unavailable": f"failed: {type(exc).__name__}: {exc}"}
    print("RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
