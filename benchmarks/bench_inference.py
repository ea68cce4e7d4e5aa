"""AI engine benchmark: Tandem's pipeline around a model vs a bare ONNX Runtime session.

    .venv/bin/python benchmarks/bench_inference.py [--repeats 10] [--json out.json]

For every usable model (the bundled/installed ones, plus two ResNet-18-sized proxies
from ``proxy_models.py`` while trained models do not exist) and every input it applies
to, on every provider this ONNX Runtime offers (CPU; CUDA where present):

- **Tandem**: ``AnalysisEngine.analyze`` without a result cache: preprocess (window,
  letterbox, normalise) + ONNX Runtime + postprocess (calibration, NMS, heatmap mapped
  back to image pixels), median of ``--repeats``; the source decode is timed apart.
- **bare**: ``onnxruntime.InferenceSession.run`` on the already-prepared tensor, same
  model bytes, same provider and thread count, median of ``--repeats``.
- ratio = Tandem ÷ bare: what the product's pipeline costs on top of the network.

Then the UI stall: the longest gap of a 5 ms ``QTimer`` on the GUI thread while
``app.ai_runner.AiRunner`` runs the classifier proxy several times on the CR image,
against the same timer with nothing running (baseline, same run).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

DATA = ROOT.parent / "shared" / "datasets"
INPUTS = {
    "chest JPEG 512²": DATA / "cxr" / "tb_normal" / "images",
    "fracture JPEG": DATA / "fracture" / "fracatlas" / "images",
    "CR DICOM 1760² J2K": DATA / "dicom" / "pydicom-data" / "RG3_J2KI.dcm",
}


def _first_file(path: Path) -> Path:
    if path.is_file():
        return path
    return sorted(p for p in path.rglob("*") if p.suffix.lower() in {".jpg", ".png"})[0]


def _median_ms(run: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def _models_folder() -> Path:
    import proxy_models

    folder = Path(tempfile.gettempdir()) / "tandem-bench-cache" / "models"
    if not (folder / "proxy_classifier" / "manifest.json").exists():
        proxy_models.classifier_proxy(folder / "proxy_classifier")
    if not (folder / "proxy_detector" / "manifest.json").exists():
        proxy_models.detector_proxy(folder / "proxy_detector")
    return folder


def bench_models(repeats: int) -> list[dict[str, object]]:
    import onnxruntime as ort

    from inference.engine import AnalysisEngine
    from inference.preprocess import prepare
    from inference.registry import ModelRegistry, default_roots
    from inference.session import _session_options, available_providers
    from inference.source import SourceImage, load_sources

    registry = ModelRegistry([*default_roots(), _models_folder()])
    sources: dict[str, tuple[SourceImage, float]] = {}
    for name, path in INPUTS.items():
        file = _first_file(path)
        start = time.perf_counter()
        loaded = next(iter(load_sources([file])))
        decode_ms = (time.perf_counter() - start) * 1000.0
        if isinstance(loaded, SourceImage):
            sources[name] = (loaded, decode_ms)
        else:
            print(f"  input {name}: not available: {loaded}")
    rows: list[dict[str, object]] = []
    gpu = [p for p in ("CUDAExecutionProvider",) if p in available_providers()]
    for provider in [*gpu, "CPUExecutionProvider"]:
        engine = AnalysisEngine(registry, preferred_providers=[provider])
        for entry in registry.usable():
            assert entry.manifest is not None
            data = entry.model_path.read_bytes()
            bare = ort.InferenceSession(data, _session_options(), providers=[provider])
            for name, (source, decode_ms) in sources.items():
                first = engine.analyze(source, entry.id)
                if not first.applicable or first.reason:
                    continue
                tandem_ms = _median_ms(partial(engine.analyze, source, entry.id), repeats)
                stages = engine.analyze(source, entry.id).timings_ms
                feeds = {entry.manifest.input.name: prepare(source, entry.manifest.input).tensor}
                bare.run(None, feeds)
                bare_ms = _median_ms(partial(bare.run, None, feeds), repeats)
                rows.append({
                    "model": entry.id, "input": name, "provider": first.provider,
                    "image": "x".join(str(v) for v in source.size), "decode_ms": decode_ms,
                    "preprocess_ms": stages.get("preprocess", 0.0),
                    "infer_ms": stages.get("infer", 0.0),
                    "postprocess_ms": stages.get("postprocess", 0.0),
                    "tandem_ms": tandem_ms, "bare_ms": bare_ms, "ratio": tandem_ms / bare_ms,
                })
    return rows


def bench_stall(repeats: int) -> dict[str, float]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["TANDEM_MODELS_DIR"] = str(_models_folder())
    os.environ["TANDEM_DATA_DIR"] = tempfile.mkdtemp(prefix="tandem-bench-data-")
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from app.ai_runner import AiRunner, ImageRef
    from imaging.discover import discover
    from imaging.loader import load_image

    app = QApplication.instance() or QApplication([])
    dicom = discover([INPUTS["CR DICOM 1760² J2K"]]).files[0].header
    assert dicom is not None
    stack = load_image(dicom)  # the GUI analyses DICOM stacks

    def longest_gap(run: Callable[[QEventLoop], None]) -> float:
        clock, last, worst = QElapsedTimer(), [0], [0]
        clock.start()

        def tick() -> None:
            now = clock.elapsed()
            worst[0] = max(worst[0], now - last[0])
            last[0] = now

        timer = QTimer()
        timer.setInterval(5)
        timer.timeout.connect(tick)
        loop = QEventLoop()
        timer.start()
        last[0] = clock.elapsed()
        run(loop)
        loop.exec()
        timer.stop()
        return float(worst[0])

    idle = longest_gap(lambda loop: QTimer.singleShot(2000, loop.quit))
    runner = AiRunner()
    runner.finished.connect(lambda: None)
    results: list[object] = []
    runner.result.connect(results.append)
    engine_ids = ["proxy_classifier"]
    done = {"runs": 0}

    def start(loop: QEventLoop) -> None:
        def next_run() -> None:
            if done["runs"] >= repeats:
                loop.quit()
                return
            done["runs"] += 1
            # A new SOP Instance UID per run, so that every run infers (no cache hit).
            image = replace(stack, slices=(replace(stack.slices[0],
                                                   sop_instance_uid=f"2.25.{done['runs']}"),))
            runner.analyze([ImageRef(image, 0)], engine_ids)

        runner.finished.connect(next_run)
        next_run()

    busy = longest_gap(start)
    runner.shutdown()
    del app
    return {"idle_longest_gap_ms": idle, "inference_longest_gap_ms": busy,
            "analyses": float(len(results))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--json", type=Path)
    opts = parser.parse_args()
    import onnxruntime as ort

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.2f}; onnxruntime {ort.__version__}, "
          f"providers {ort.get_available_providers()}")
    rows = bench_models(opts.repeats)
    print(f"\n{'model':18} {'input':20} {'provider':10} {'decode':>7} {'prep':>7} {'infer':>7} "
          f"{'post':>7} {'Tandem':>8} {'bare':>8} {'ratio':>6}  (ms, median of {opts.repeats})")
    for r in rows:
        provider = str(r["provider"]).removesuffix("ExecutionProvider")
        print(f"{r['model']:18} {r['input']:20} {provider:10} "
              f"{r['decode_ms']:7.1f} {r['preprocess_ms']:7.1f} {r['infer_ms']:7.1f} "
              f"{r['postprocess_ms']:7.1f} {r['tandem_ms']:8.1f} {r['bare_ms']:8.1f} "
              f"{r['ratio']:6.2f}")
    stall = bench_stall(max(3, opts.repeats // 2))
    print(f"\nUI thread, longest gap of a 5 ms timer: {stall['inference_longest_gap_ms']:.0f} ms "
          f"while {stall['analyses']:.0f} analyses ran; {stall['idle_longest_gap_ms']:.0f} ms idle "
          "(baseline)")
    if opts.json:
        opts.json.write_text(json.dumps({"models": rows, "stall": stall}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
