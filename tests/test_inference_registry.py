"""The model registry on real model folders written by tests/model_factory.py."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import onnx
import pytest
from model_factory import boxes_model, heatmap_model, write_model

import inference.registry as registry_module
from inference.registry import MODELS_DIR_ENV, ModelRegistry, sha256_of

BOXES = [[4.0, 4.0, 20.0, 30.0]]
SCORES = [[0.9]]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A models folder holding two valid models."""
    models = tmp_path / "models"
    heatmap_model(models / "test_heatmap")
    boxes_model(models / "test_boxes", BOXES, SCORES)
    return models


def _edit_manifest(folder: Path, change: Callable[[dict[str, Any]], None]) -> None:
    path = folder / "manifest.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data), encoding="utf-8")


def _only_problem(registry: ModelRegistry, model_id: str) -> str:
    entry = registry.get(model_id)
    assert not entry.valid
    assert len(entry.problems) == 1, entry.problems
    # The other model in the same root is untouched.
    other = "test_boxes" if model_id == "test_heatmap" else "test_heatmap"
    assert registry.get(other).valid
    return entry.problems[0]


def test_valid_models_are_usable(root: Path) -> None:
    registry = ModelRegistry([root])
    assert [e.id for e in registry.entries()] == ["test_boxes", "test_heatmap"]
    assert [e.id for e in registry.usable()] == ["test_boxes", "test_heatmap"]
    entry = registry.get("test_heatmap")
    assert entry.problems == () and entry.valid
    assert entry.manifest is not None and entry.manifest.id == "test_heatmap"
    assert entry.folder == root / "test_heatmap"
    assert entry.model_path == root / "test_heatmap" / "model.onnx"
    assert entry.card_path.read_text(encoding="utf-8").startswith("# Test model")
    assert sha256_of(entry.model_path) == entry.manifest.artifact.sha256
    with pytest.raises(KeyError):
        registry.get("nonexistent")


def test_sha256_of_matches_hashlib_across_chunks(tmp_path: Path) -> None:
    path = tmp_path / "big.bin"
    data = os.urandom((1 << 20) * 2 + 123)  # spans three 1 MiB chunks
    path.write_bytes(data)
    assert sha256_of(path) == hashlib.sha256(data).hexdigest()


def test_tampered_byte_disables_only_that_model(root: Path) -> None:
    model = root / "test_boxes" / "model.onnx"
    expected = json.loads((root / "test_boxes" / "manifest.json").read_text())["artifact"]
    data = bytearray(model.read_bytes())
    data[-5] ^= 0xFF
    model.write_bytes(bytes(data))
    actual = hashlib.sha256(data).hexdigest()
    registry = ModelRegistry([root])
    entry = registry.get("test_boxes")
    assert not entry.valid and entry.manifest is not None
    assert entry.problems[0] == (f"sha256 mismatch: manifest says {expected['sha256'][:12]}…, "
                                 f"file is {actual[:12]}…")
    assert [e.id for e in registry.usable()] == ["test_heatmap"]


def test_refresh_rehashes_only_changed_files(root: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    hashed: list[Path] = []

    def counting(path: Path) -> str:
        hashed.append(path)
        return sha256_of(path)

    monkeypatch.setattr(registry_module, "sha256_of", counting)
    registry = ModelRegistry([root])
    assert len(hashed) == 2
    registry.refresh()
    assert len(hashed) == 2 and len(registry.usable()) == 2
    # Tamper with one file (same size, later mtime): refresh notices it.
    model = root / "test_heatmap" / "model.onnx"
    data = bytearray(model.read_bytes())
    data[-5] ^= 0xFF
    model.write_bytes(bytes(data))
    stat = model.stat()
    os.utime(model, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    registry.refresh()
    assert hashed[2:] == [model]
    assert registry.get("test_heatmap").problems[0].startswith("sha256 mismatch")
    assert registry.get("test_boxes").valid


def test_missing_model_file(root: Path) -> None:
    (root / "test_heatmap" / "model.onnx").unlink()
    problem = _only_problem(ModelRegistry([root]), "test_heatmap")
    assert problem == "artifact.file: model.onnx is missing"


def test_size_mismatch(root: Path) -> None:
    model = root / "test_boxes" / "model.onnx"
    size = model.stat().st_size
    with model.open("ab") as handle:
        handle.write(b"\0\0\0")
    registry = ModelRegistry([root])
    problems = registry.get("test_boxes").problems
    # Trailing zeros also corrupt the protobuf: both facts are reported.
    assert problems[0] == (f"size mismatch: manifest says {size} bytes, "
                           f"model.onnx is {size + 3} bytes")
    assert problems[1].startswith("model.onnx: not a readable ONNX model")
    assert registry.get("test_heatmap").valid


def test_missing_model_card(root: Path) -> None:
    (root / "test_boxes" / "MODEL_CARD.md").unlink()
    problem = _only_problem(ModelRegistry([root]), "test_boxes")
    assert problem == "training.card: MODEL_CARD.md is missing"


def test_output_not_in_graph(root: Path) -> None:
    _edit_manifest(root / "test_heatmap",
                   lambda m: m["outputs"][1].update(name="saliency"))
    problem = _only_problem(ModelRegistry([root]), "test_heatmap")
    assert problem == "outputs: the graph has no output 'saliency' (graph outputs: logits, cam)"


def test_box_scores_output_not_in_graph(root: Path) -> None:
    _edit_manifest(root / "test_boxes", lambda m: m["outputs"][0].update(scores="scores"))
    problem = _only_problem(ModelRegistry([root]), "test_boxes")
    assert problem.startswith("outputs: the graph has no output 'scores'")


def test_wrong_input_shape(root: Path) -> None:
    def smaller(m: dict[str, Any]) -> None:
        m["inputs"][0]["shape"] = [1, 1, 32, 32]
        m["inputs"][0]["preprocess"]["size"] = 32

    _edit_manifest(root / "test_heatmap", smaller)
    problem = _only_problem(ModelRegistry([root]), "test_heatmap")
    assert problem == ("inputs[0].shape: manifest says [1, 1, 32, 32], "
                       "graph input 'image' is [1, 1, 64, 64]")


def test_wrong_input_name_and_dtype(root: Path) -> None:
    _edit_manifest(root / "test_heatmap", lambda m: m["inputs"][0].update(name="pixels"))
    _edit_manifest(root / "test_boxes", lambda m: m["inputs"][0].update(dtype="float16"))
    registry = ModelRegistry([root])
    assert registry.get("test_heatmap").problems == (
        "inputs[0].name: the graph has no input 'pixels' (graph inputs: image)",
        "inputs: the graph also needs 'image', which the manifest does not feed")
    assert registry.get("test_boxes").problems == (
        "inputs[0].dtype: manifest says float16, graph input 'image' is float",)


def test_symbolic_batch_dimension_is_accepted(tmp_path: Path) -> None:
    folder = heatmap_model(tmp_path / "src" / "test_heatmap")
    model = onnx.load(str(folder / "model.onnx"))
    model.graph.input[0].type.tensor_type.shape.dim[0].dim_param = "batch"
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    manifest["inputs"][0]["shape"] = [-1, 1, 64, 64]
    write_model(tmp_path / "models" / "test_heatmap", model, manifest)
    registry = ModelRegistry([tmp_path / "models"])
    assert registry.get("test_heatmap").problems == ()
    # A fixed graph dimension that disagrees is still caught.
    model.graph.input[0].type.tensor_type.shape.dim[1].dim_value = 3
    write_model(tmp_path / "models" / "test_heatmap", model, manifest)
    registry.refresh()
    assert registry.get("test_heatmap").problems == (
        "inputs[0].shape: manifest says [-1, 1, 64, 64], graph input 'image' is "
        "['batch', 3, 64, 64]",)


def test_opset_mismatch(root: Path) -> None:
    _edit_manifest(root / "test_boxes", lambda m: m["artifact"].update(opset=13))
    problem = _only_problem(ModelRegistry([root]), "test_boxes")
    assert problem == "artifact.opset: manifest says 13, the model imports opset 17"


def test_unreadable_onnx(root: Path) -> None:
    junk = b"this is not an ONNX model"
    (root / "test_boxes" / "model.onnx").write_bytes(junk)
    _edit_manifest(root / "test_boxes", lambda m: m["artifact"].update(
        sha256=hashlib.sha256(junk).hexdigest(), size_bytes=len(junk)))
    problem = _only_problem(ModelRegistry([root]), "test_boxes")
    assert problem.startswith("model.onnx: not a readable ONNX model (DecodeError")


def test_broken_json(root: Path) -> None:
    (root / "test_heatmap" / "manifest.json").write_text('{"id": "test_heatmap",',
                                                         encoding="utf-8")
    problem = _only_problem(ModelRegistry([root]), "test_heatmap")
    assert problem.startswith("manifest.json: not readable JSON: ")
    entry = ModelRegistry([root]).get("test_heatmap")
    assert entry.manifest is None and entry.model_path.name == "model.onnx"


def test_invalid_manifest_names_the_field(root: Path) -> None:
    _edit_manifest(root / "test_heatmap", lambda m: m["outputs"][1].update(for_label="nodule"))
    problem = _only_problem(ModelRegistry([root]), "test_heatmap")
    assert problem == ("manifest.json: outputs[1].for_label: unknown label 'nodule' "
                       "(score labels: abnormal)")


def test_id_must_match_folder(root: Path) -> None:
    (root / "test_heatmap").rename(root / "chest_model")
    registry = ModelRegistry([root])
    entry = registry.get("chest_model")
    assert entry.manifest is not None and entry.manifest.id == "test_heatmap"
    assert entry.problems == ("id: manifest id 'test_heatmap' does not match its folder "
                              "name 'chest_model'",)
    assert [e.id for e in registry.usable()] == ["test_boxes"]


def test_onnx_without_manifest_is_listed_other_folders_ignored(root: Path) -> None:
    (root / "test_boxes" / "manifest.json").unlink()
    (root / "notes").mkdir()
    (root / "notes" / "readme.txt").write_text("not a model", encoding="utf-8")
    (root / "manifest.schema.json").write_text("{}", encoding="utf-8")
    registry = ModelRegistry([root])
    assert [e.id for e in registry.entries()] == ["test_boxes", "test_heatmap"]
    assert registry.get("test_boxes").problems == ("manifest.json: manifest file is missing",)


def test_first_root_wins_and_later_is_shadowed(tmp_path: Path) -> None:
    first, second = tmp_path / "bundled", tmp_path / "user"
    heatmap_model(first / "test_heatmap", gain=2.0)
    heatmap_model(second / "test_heatmap", gain=5.0)
    boxes_model(second / "test_boxes", BOXES, SCORES)
    registry = ModelRegistry([first, second, tmp_path / "missing"])
    entries = registry.entries()
    assert [(e.id, e.folder) for e in entries] == [
        ("test_boxes", second / "test_boxes"), ("test_heatmap", first / "test_heatmap"),
        ("test_heatmap", second / "test_heatmap")]
    assert registry.get("test_heatmap").folder == first / "test_heatmap"
    assert entries[2].problems == (
        f"shadowed by {first / 'test_heatmap'} (same id in an earlier models folder)",)
    assert [e.folder for e in registry.usable()] == [second / "test_boxes",
                                                     first / "test_heatmap"]


def test_default_roots(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bundled = Path(registry_module.__file__).resolve().parents[1] / "onnx_models"
    monkeypatch.delenv(MODELS_DIR_ENV, raising=False)
    registry = ModelRegistry.default()
    # The conftest points TANDEM_DATA_DIR at an empty folder: only the bundled root is left.
    assert registry.roots == (bundled,)
    assert all(e.valid for e in registry.entries()), [e.problems for e in registry.entries()]
    extra = tmp_path / "extra"
    boxes_model(extra / "test_boxes", BOXES, SCORES)
    user = Path(os.environ["TANDEM_DATA_DIR"]) / "models"
    heatmap_model(user / "test_heatmap")
    monkeypatch.setenv(MODELS_DIR_ENV, str(extra))
    registry = ModelRegistry.default()
    assert registry.roots == (bundled, extra, user)
    assert {"test_boxes", "test_heatmap"} <= {e.id for e in registry.usable()}
