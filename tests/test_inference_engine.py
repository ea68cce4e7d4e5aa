"""AnalysisEngine end to end on tiny generated models: results, cache, OOD, failures, cancel."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from model_factory import base_manifest, heatmap_model, score_output, slow_model, write_model
from onnx import TensorProto, helper, numpy_helper

from inference import engine as engine_module
from inference.cache import ResultCache
from inference.engine import AnalysisCancelled, AnalysisEngine
from inference.preprocess import prepare
from inference.registry import ModelRegistry
from inference.session import CPU, ModelSession
from inference.source import ImageMeta, SourceImage

ROWS, COLS = 40, 60


def _source(values: np.ndarray | None = None, **meta: Any) -> SourceImage:
    if values is None:  # brightness rises left to right: x / (cols - 1) after min-max
        values = np.tile(np.linspace(0.0, 1000.0, COLS, dtype=np.float32), (ROWS, 1))
    fields: dict[str, Any] = {"source": "/data/chest.dcm", "sop_instance_uid": "1.2.3.4",
                              "modality": "CR", "photometric": "MONOCHROME2"}
    fields.update(meta)
    return SourceImage(values, (), False, ImageMeta(**fields), decode_ms=12.5)


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every session creation the engine asks for."""
    created: list[str] = []
    real = engine_module.open_session

    def counted(entry: Any, preferred: Any = None) -> ModelSession:
        created.append(entry.id)
        return real(entry, preferred)

    monkeypatch.setattr(engine_module, "open_session", counted)
    return created


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    heatmap_model(tmp_path / "models" / "test_heatmap", size=32, gain=8.0, offset=0.5)
    return tmp_path / "models"


def test_heatmap_model_end_to_end(root: Path) -> None:
    engine = AnalysisEngine(ModelRegistry([root]))
    assert engine.session_provider("test_heatmap") is None
    source = _source()
    result = engine.analyze(source, "test_heatmap")
    assert result.applicable and result.reason == ""
    assert (result.model_id, result.model_version, result.frame) == ("test_heatmap", "0.0.1", 0)
    assert result.image_size == (ROWS, COLS) and result.provider == CPU
    assert set(result.timings_ms) == {"decode", "preprocess", "infer", "postprocess"}
    assert result.timings_ms["decode"] == 12.5
    # The score follows the mean of the model input (letterbox padding included).
    manifest = ModelRegistry([root]).get("test_heatmap").manifest
    assert manifest is not None
    tensor = prepare(source, manifest.input).tensor
    expected = 1.0 / (1.0 + np.exp(-8.0 * (float(tensor.mean()) - 0.5)))
    [score] = result.case_scores
    assert score.probability == pytest.approx(expected, abs=1e-5)
    # The identity heatmap comes back over the original pixels: the left-to-right ramp.
    [heatmap] = result.heatmaps
    assert heatmap.values is not None and heatmap.values.shape == (ROWS, COLS)
    ramp = np.linspace(0.0, 1.0, COLS)
    assert np.abs(heatmap.values[ROWS // 2, 2:-2] - ramp[2:-2]).max() < 0.05
    assert [f.heatmap_key for f in result.findings] == [heatmap.key]
    assert heatmap.key.startswith("test_heatmap-1.2.3.4-f0")
    assert engine.session_provider("test_heatmap") == CPU


def test_cache_hit_needs_no_session_and_a_corrupt_entry_is_a_miss(
        root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    created = _counting(monkeypatch)
    cache = ResultCache(tmp_path / "cache")
    first = AnalysisEngine(ModelRegistry([root]), cache=cache).analyze(_source(), "test_heatmap")
    assert created == ["test_heatmap"]
    moved = _source(source="/elsewhere/same.dcm")  # same SOP instance, another path
    second = AnalysisEngine(ModelRegistry([root]), cache=cache).analyze(moved, "test_heatmap")
    assert created == ["test_heatmap"]  # a fresh engine, and still no session
    assert set(second.timings_ms) == {"decode", "cache_read"}
    assert second.source == "/elsewhere/same.dcm"
    assert second.case_scores == first.case_scores and second.findings == first.findings
    assert second.heatmaps[0].values is not None and first.heatmaps[0].values is not None
    np.testing.assert_array_equal(second.heatmaps[0].values, first.heatmaps[0].values)

    [json_file] = (tmp_path / "cache").rglob("*.json")
    json_file.write_text('{"model_id": "test_heat', encoding="utf-8")
    third = AnalysisEngine(ModelRegistry([root]), cache=cache).analyze(_source(), "test_heatmap")
    assert created == ["test_heatmap"] * 2 and "infer" in third.timings_ms
    assert cache.get("1.2.3.4", 0, first.sha256) is not None  # rewritten whole
    [npz_file] = (tmp_path / "cache").rglob("*.npz")
    npz_file.write_bytes(b"PK\x03\x04 truncated")
    assert cache.get("1.2.3.4", 0, first.sha256) is None
    # Pictures have no stable identity: never cached.
    picture = _source(source="/data/x.png", sop_instance_uid="", is_dicom=False)
    AnalysisEngine(ModelRegistry([root]), cache=cache).analyze(picture, "test_heatmap")
    assert len(list((tmp_path / "cache").rglob("*.json"))) == 1


def test_refusals_and_failures_never_raise(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    created = _counting(monkeypatch)
    engine = AnalysisEngine(ModelRegistry([root]))
    ct = engine.analyze(_source(modality="CT"), "test_heatmap")
    assert not ct.applicable and ct.reason == "modality CT; this model is for CR, DX"
    assert created == [] and ct.case_scores == ()

    def broken(*_: Any) -> Any:
        raise ValueError("the tensor is not square\nsecond line")

    monkeypatch.setattr(engine_module, "prepare", broken)
    failed = engine.analyze(_source(), "test_heatmap")
    assert failed.applicable and failed.reason == "failed: ValueError: the tensor is not square"
    assert failed.provider == CPU and failed.case_scores == ()

    with pytest.raises(KeyError):
        engine.analyze(_source(), "no_such_model")


def test_a_tampered_model_is_reported_not_raised(root: Path) -> None:
    model = root / "test_heatmap" / "model.onnx"
    data = bytearray(model.read_bytes())
    data[-1] ^= 0xFF
    model.write_bytes(bytes(data))
    engine = AnalysisEngine(ModelRegistry([root]))
    result = engine.analyze(_source(), "test_heatmap")
    assert not result.applicable
    assert result.reason.startswith("model unavailable: ") and "sha256 mismatch" in result.reason
    assert engine.analyze_all(_source()) == []  # only valid models by default
    assert [r.reason for r in engine.analyze_all(_source(), ["test_heatmap"])] == [result.reason]


def _ood_model(folder: Path, threshold: float, background: bool = False) -> Path:
    """Embedding = (mean, max) of the input; the training statistics say (0.5, 0.9) ± 0.1;
    with ``background``, the relative method and a background at (0, 0) ± 0.2."""
    size = 16
    nodes = [
        helper.make_node("ReduceMean", ["image"], ["m"], axes=[1, 2, 3], keepdims=0),
        helper.make_node("ReduceMax", ["image"], ["x"], axes=[1, 2, 3], keepdims=0),
        helper.make_node("Concat", ["m", "x"], ["mx"], axis=0),
        helper.make_node("Reshape", ["mx", "shape_1x2"], ["embedding"]),
        helper.make_node("Reshape", ["m", "shape_1x1"], ["logits"]),
    ]
    inits = [numpy_helper.from_array(np.array([1, 2], dtype=np.int64), "shape_1x2"),
             numpy_helper.from_array(np.array([1, 1], dtype=np.int64), "shape_1x1")]
    graph = helper.make_graph(
        nodes, "ood", [helper.make_tensor_value_info("image", TensorProto.FLOAT,
                                                     [1, 1, size, size])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 1]),
         helper.make_tensor_value_info("embedding", TensorProto.FLOAT, [1, 2])],
        initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    manifest = base_manifest("test_ood", size, [score_output(),
                                                {"name": "embedding", "kind": "embedding"}])
    method = "embedding_relative_mahalanobis" if background else "embedding_mahalanobis"
    manifest["applicability"]["ood"] = {"method": method, "output": "embedding",
                                        "threshold": threshold}
    write_model(folder, model, manifest)
    stats = {"mean": np.array([0.5, 0.9]), "inv_cov": np.eye(2) * 100.0}
    if background:
        stats |= {"background_mean": np.zeros(2), "background_inv_cov": np.eye(2) * 25.0}
    np.savez(folder / "ood_stats.npz", **stats)
    return folder


def test_ood_check_refuses_images_unlike_the_training_data(tmp_path: Path) -> None:
    _ood_model(tmp_path / "test_ood", threshold=3.0)
    registry = ModelRegistry([tmp_path])
    engine = AnalysisEngine(registry)
    spec = registry.get("test_ood").manifest.input  # type: ignore[union-attr]
    values = np.random.default_rng(3).normal(0.5, 0.15, (32, 32)).astype(np.float32)
    for image, inside in ((np.clip(values, 0, 1) * 1000, True), (values * 0 + 7.0, False)):
        source = _source(image)
        tensor = prepare(source, spec).tensor
        delta = np.array([tensor.mean(), tensor.max()]) - [0.5, 0.9]
        distance = float(np.sqrt(delta @ (np.eye(2) * 100.0) @ delta))
        assert (distance <= 3.0) == inside
        result = engine.analyze(source, "test_ood")
        if inside:
            assert result.applicable and result.reason == "" and result.case_scores
        else:  # a flat image: min-max gives 0 everywhere, embedding (0, 0)
            assert not result.applicable and result.case_scores == ()
            assert result.reason == (f"image unlike the training data (distance "
                                     f"{distance:.2f} > threshold 3)")
            assert result.provider == CPU and "infer" in result.timings_ms


def test_relative_ood_check_refuses_images_nearer_the_background(tmp_path: Path) -> None:
    """Score = distance to training − distance to background: a flat image (embedding (0, 0),
    the background's centre) scores 10.3 − 0 and is refused at threshold 3; the image near the
    training mean scores about 0.6 − 5.2 < 0 and passes."""
    _ood_model(tmp_path / "test_ood", threshold=3.0, background=True)
    engine = AnalysisEngine(ModelRegistry([tmp_path]))
    values = np.random.default_rng(3).normal(0.5, 0.15, (32, 32)).astype(np.float32)
    assert engine.analyze(_source(np.clip(values, 0, 1) * 1000), "test_ood").applicable
    flat = engine.analyze(_source(values * 0 + 7.0), "test_ood")
    assert not flat.applicable
    assert flat.reason == "image unlike the training data (distance 10.30 > threshold 3)"

    with np.load(tmp_path / "test_ood" / "ood_stats.npz") as stats:  # background missing
        np.savez(tmp_path / "test_ood" / "ood_stats.npz", mean=stats["mean"],
                 inv_cov=stats["inv_cov"])
    broken = AnalysisEngine(ModelRegistry([tmp_path])).analyze(_source(values), "test_ood")
    assert not broken.applicable and "ood_stats.npz unreadable" in broken.reason


def test_cancel_stops_a_running_model_promptly(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    slow_model(tmp_path / "test_slow", size=16)
    created = _counting(monkeypatch)
    engine = AnalysisEngine(ModelRegistry([tmp_path]))
    token = threading.Event()
    token.set()
    with pytest.raises(AnalysisCancelled):
        engine.analyze(_source(), "test_slow", cancel=token)
    assert created == []  # cancelled before any work
    token.clear()
    started = time.perf_counter()
    engine.warm_up("test_slow")  # session created and run once on zeros
    full_run = time.perf_counter() - started
    assert full_run > 0.4, "the slow model must outlast the cancel delay"
    set_at: list[float] = []

    def cancel_soon() -> None:
        time.sleep(0.15)
        set_at.append(time.perf_counter())
        token.set()

    threading.Thread(target=cancel_soon, daemon=True).start()
    with pytest.raises(AnalysisCancelled):
        engine.analyze(_source(), "test_slow", cancel=token)
    latency = time.perf_counter() - set_at[0]
    assert latency < 0.5, f"cancel took {latency:.3f} s (a full run takes {full_run:.2f} s)"
    # The session survives a cancelled run.
    assert engine.analyze(_source(), "test_slow").case_scores
    assert created == ["test_slow"]


def test_result_round_trips_through_json(root: Path) -> None:
    result = AnalysisEngine(ModelRegistry([root])).analyze(_source(), "test_heatmap")
    again = type(result).from_dict(result.to_dict())  # JSON rounds timings to 1 µs
    assert replace(again, timings_ms={}) == replace(result, timings_ms={})
    assert again.timings_ms == pytest.approx(result.timings_ms, abs=1e-3)


def test_threads_share_one_lazily_created_session(root: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    created = _counting(monkeypatch)
    engine = AnalysisEngine(ModelRegistry([root]))
    start = threading.Barrier(4)
    results: list[float] = []

    def work() -> None:
        start.wait()
        results.append(engine.analyze(_source(), "test_heatmap").case_scores[0].probability)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert created == ["test_heatmap"]
    assert len(results) == 4 and len(set(results)) == 1
