"""Manifest validation: one mutation of a valid manifest per rule, and the exported schema."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from model_factory import base_manifest, score_output

from inference.manifest import (
    ManifestError,
    ScoreOutput,
    load_manifest,
    manifest_schema,
    parse_manifest,
)
from inference.manifest_schema import EXPORT_COMMAND, SCHEMA_PATH, schema_text

Manifest = dict[str, Any]


def heatmap_manifest() -> Manifest:
    """Score + heatmap + mask + embedding: every output kind but boxes."""
    return base_manifest("cxr_test", 64, [
        score_output(),
        {"name": "cam", "kind": "heatmap", "for_label": "abnormal", "activation": "sigmoid",
         "value_range": [0.0, 1.0]},
        {"name": "lungs", "kind": "mask", "labels": ["left", "right"], "mode": "probabilities",
         "activation": "sigmoid"},
        {"name": "embedding", "kind": "embedding"},
    ], body_parts=("CHEST",), view_positions=("PA", "AP"))


def boxes_manifest() -> Manifest:
    return base_manifest("fracture_test", 64, [{
        "name": "boxes", "kind": "boxes", "format": "cxcywh", "normalized": True,
        "scores": "box_scores", "labels": ["fracture", "dislocation"], "activation": "sigmoid",
        "score_threshold": 0.05, "nms_iou": 0.5, "max_boxes": 20,
        "operating_points": {"high_sensitivity": {"threshold": 0.3, "sensitivity": 0.9},
                             "high_specificity": {"threshold": 0.7, "specificity": 0.9}},
    }])


def _set(path: str, value: Any, base: Callable[[], Manifest] = heatmap_manifest
         ) -> Callable[[], Manifest]:
    """A valid manifest with the value at ``path`` ("outputs.0.labels") replaced."""
    def build() -> Manifest:
        manifest = base()
        *parents, last = path.split(".")
        node: Any = manifest
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        node[int(last) if isinstance(node, list) else last] = value
        return manifest
    return build


def _edit(change: Callable[[Manifest], None], base: Callable[[], Manifest] = heatmap_manifest
          ) -> Callable[[], Manifest]:
    def build() -> Manifest:
        manifest = base()
        change(manifest)
        return manifest
    return build


def _add_output(output: dict[str, Any]) -> Callable[[Manifest], None]:
    return lambda m: m["outputs"].append(output)


_POINTS = {"high_sensitivity": {"threshold": 0.3}, "high_specificity": {"threshold": 0.7}}
_SECOND_SCORE = {"name": "logits2", "kind": "score", "labels": ["abnormal"],
                 "operating_points": _POINTS}

# (rule, mutation, field path, message fragment)
RULES: list[tuple[str, Callable[[], Manifest], str, str]] = [
    ("id pattern", _set("id", "CXR-1"), "id", "is not a model id"),
    ("version", _set("version", "1.0"), "version", "is not a version like '1.2.0'"),
    ("research status", _set("status", "approved"), "status", "research use only"),
    ("unknown field", _set("outputs.0.colour", "red"), "outputs[0].colour",
     "Extra inputs are not permitted"),
    ("artifact file name", _set("artifact.file", "../model.onnx"), "artifact.file",
     "must be a file name inside the model folder"),
    ("card file name", _set("training.card", "/etc/passwd"), "training.card",
     "must be a file name inside the model folder"),
    ("unknown provider", _set("execution_providers", ["CUDAProvider", "CPUExecutionProvider"]),
     "execution_providers[0]", "unknown execution provider 'CUDAProvider'"),
    ("cpu fallback last", _set("execution_providers", ["CPUExecutionProvider",
                                                       "CUDAExecutionProvider"]),
     "execution_providers", "must end with 'CPUExecutionProvider'"),
    ("dicom code strings", _set("applicability.view_positions", ["PA", "lateral"]),
     "applicability.view_positions[1]", "'lateral' is not a DICOM code string"),
    ("age range", _edit(lambda m: m["applicability"].update(min_age_years=18, max_age_years=5)),
     "applicability.min_age_years", "18.0 is above max_age_years 5.0"),
    ("ood needs an embedding", _set("applicability.ood", {
        "method": "embedding_mahalanobis", "output": "cam", "threshold": 3.0}),
     "applicability.ood.output", "'cam' is not an embedding output"),
    ("one input", _edit(lambda m: m["inputs"].append(copy.deepcopy(m["inputs"][0]))),
     "inputs", "at most 1 item"),
    ("batch of one", _set("inputs.0.shape", [4, 1, 64, 64]), "inputs[0].shape[0]",
     "one image is fed at a time"),
    ("channels", _set("inputs.0.shape", [1, 4, 64, 64]), "inputs[0].shape[1]",
     "4 channels; a radiograph input has 1 or 3"),
    ("shape vs recipe size", _set("inputs.0.preprocess.size", 128), "inputs[0].shape",
     "64x64 does not match preprocess.size 128"),
    ("known recipe", _set("inputs.0.preprocess.recipe", "ct_window_v1"),
     "inputs[0].preprocess.recipe", "'xray_letterbox_v1' or 'mammo_breast_crop_v1'"),
    ("input dtype", _set("inputs.0.dtype", "uint8"), "inputs[0].dtype",
     "'float32' or 'float16'"),
    ("normalize std", _set("inputs.0.preprocess.normalize.std", 0), "inputs[0].preprocess"
     ".normalize.std", "greater than 0"),
    ("finite numbers", _set("inputs.0.preprocess.normalize.mean", float("nan")),
     "inputs[0].preprocess.normalize.mean", "finite number"),
    ("temperature needs logits", _set("outputs.0.activation", "none", _set(
        "outputs.0.calibration", {"method": "temperature", "temperature": 1.5})),
     "outputs[0].calibration.method", "activation must be 'sigmoid' or 'softmax'"),
    ("platt is binary", _edit(lambda m: m["outputs"][0].update(
        labels=["normal", "abnormal"], activation="softmax",
        calibration={"method": "platt", "a": 1.0, "b": 0.0})),
     "outputs[0].calibration.method", "activation must be 'sigmoid'"),
    ("calibration parameters", _set("outputs.0.calibration", {"method": "platt", "a": 1.0}),
     "outputs[0].calibration.b", "platt calibration needs 'b'"),
    ("unused calibration parameter", _set("outputs.0.calibration", {"method": "none",
                                                                    "temperature": 2.0}),
     "outputs[0].calibration.temperature", "not used by 'none' calibration"),
    ("isotonic increasing", _set("outputs.0.calibration", {
        "method": "isotonic", "x": [0.0, 0.5, 0.5], "y": [0.0, 0.4, 0.9]}),
     "outputs[0].calibration.x", "strictly increasing"),
    ("isotonic probabilities", _set("outputs.0.calibration", {
        "method": "isotonic", "x": [0.0, 1.5], "y": [0.0, 1.0]}),
     "outputs[0].calibration.x[1]", "less than or equal to 1"),
    ("softmax needs two labels", _set("outputs.0.activation", "softmax"),
     "outputs[0].activation", "softmax needs at least 2 labels"),
    ("score labels unique", _set("outputs.0.labels", ["abnormal", "abnormal"]),
     "outputs[0].labels[1]", "'abnormal' appears twice"),
    ("threshold in [0, 1]", _set("outputs.0.operating_points.high_specificity.threshold", 1.2),
     "outputs[0].operating_points.high_specificity.threshold", "less than or equal to 1"),
    ("operating points ordered", _set("outputs.0.operating_points.high_sensitivity.threshold",
                                      0.9),
     "outputs[0].operating_points.high_specificity.threshold",
     "0.7 is below the high_sensitivity threshold 0.9"),
    ("per-label points: known labels", _set("outputs.0.operating_points", {
        "abnormal": _POINTS, "nodule": _POINTS}),
     "outputs[0].operating_points.nodule", "unknown label 'nodule'"),
    ("per-label points: every label", _edit(lambda m: m["outputs"][0].update(
        labels=["abnormal", "effusion"], operating_points={"abnormal": _POINTS})),
     "outputs[0].operating_points", "no operating points for label 'effusion'"),
    ("score label in one output", _edit(_add_output(_SECOND_SCORE)),
     "outputs[4].labels[0]", "'abnormal' is already a label of outputs[0]"),
    ("output names unique", _set("outputs.3.name", "cam"), "outputs[3].name",
     "'cam' is already outputs[1].name"),
    ("heatmap label known", _set("outputs.1.for_label", "nodule"), "outputs[1].for_label",
     "unknown label 'nodule' (score labels: abnormal)"),
    ("one heatmap per label", _edit(_add_output({"name": "cam2", "kind": "heatmap",
                                                 "for_label": "abnormal"})),
     "outputs[4].for_label", "'abnormal' already has a heatmap: outputs[1]"),
    ("heatmap range", _set("outputs.1.value_range", [1.0, 1.0]), "outputs[1].value_range",
     "low end 1.0 must be below high end 1.0"),
    ("mask labels unique", _set("outputs.2.labels", ["left", "left"]), "outputs[2].labels[1]",
     "'left' appears twice"),
    ("label map activation", _set("outputs.2.mode", "label_map"), "outputs[2].activation",
     "a label map holds class indices"),
    ("mask softmax labels", _edit(lambda m: m["outputs"][2].update(labels=["lung"],
                                                                  activation="softmax")),
     "outputs[2].activation", "softmax needs at least 2 labels"),
    ("heatmap label is a score label", _edit(_add_output(
        {"name": "cam", "kind": "heatmap", "for_label": "fracture"}), boxes_manifest),
     "outputs[1].for_label", "unknown label 'fracture' (score labels: none)"),
    ("unknown output kind", _set("outputs.3.kind", "text"), "outputs[3]",
     "does not match any of the expected tags"),
    ("box labels unique", _set("outputs.0.labels", ["fracture", "fracture"], boxes_manifest),
     "outputs[0].labels[1]", "'fracture' appears twice"),
    ("box scores not an output", _set("outputs.0.scores", "boxes", boxes_manifest),
     "outputs[0].scores", "'boxes' is already outputs[0].name"),
    ("box points above score threshold", _set("outputs.0.score_threshold", 0.4, boxes_manifest),
     "outputs[0].operating_points.high_sensitivity.threshold", "below score_threshold 0.4"),
    ("box format", _set("outputs.0.format", "xywh", boxes_manifest), "outputs[0].format",
     "'xyxy' or 'cxcywh'"),
]


@pytest.mark.parametrize("build", [heatmap_manifest, boxes_manifest])
def test_base_manifests_are_valid(build: Callable[[], Manifest]) -> None:
    manifest = parse_manifest(build())
    assert manifest.input.shape == [1, 1, 64, 64]


@pytest.mark.parametrize(("mutate", "path", "fragment"),
                         [pytest.param(m, p, f, id=rule) for rule, m, p, f in RULES])
def test_each_rule_names_its_field(mutate: Callable[[], Manifest], path: str,
                                   fragment: str) -> None:
    with pytest.raises(ManifestError) as caught:
        parse_manifest(mutate(), "models/x/manifest.json")
    problems = caught.value.problems
    # Exactly the broken field is reported, with its path, and nothing else.
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{path}: "), problems
    assert fragment in problems[0], problems
    assert str(caught.value).startswith(f"{Path('models/x/manifest.json')}: {path}: ")


def test_rules_are_distinct() -> None:
    assert len({rule for rule, *_ in RULES}) == len(RULES) >= 15
    assert len({(path, fragment) for _, _, path, fragment in RULES}) == len(RULES)


def test_no_score_or_boxes_output() -> None:
    manifest = base_manifest("embed_only", 64, [{"name": "embedding", "kind": "embedding"}])
    with pytest.raises(ManifestError) as caught:
        parse_manifest(manifest)
    assert caught.value.problems == ["outputs: needs a 'score' or a 'boxes' output"]


def test_every_problem_is_reported_at_once() -> None:
    manifest = heatmap_manifest()
    manifest["version"] = "one"
    manifest["inputs"][0]["shape"] = [1, 2, 64, 64]
    manifest["outputs"][1]["for_label"] = "nodule"  # cross-field rule: needs valid outputs
    with pytest.raises(ManifestError) as caught:
        parse_manifest(manifest)
    paths = [p.split(": ")[0] for p in caught.value.problems]
    assert paths == ["version", "inputs[0].shape[1]"]
    manifest["version"] = "1.0.0"
    manifest["inputs"][0]["shape"] = [1, 1, 64, 64]
    manifest["applicability"]["modalities"] = ["CR", "dx"]
    manifest["execution_providers"] = ["CPUExecutionProvider", "CPUExecutionProvider"]
    with pytest.raises(ManifestError) as caught:
        parse_manifest(manifest)
    paths = [p.split(": ")[0] for p in caught.value.problems]
    assert paths == ["applicability.modalities[1]", "execution_providers[1]"]


def test_per_label_operating_points() -> None:
    manifest = heatmap_manifest()
    manifest["outputs"][0].update(labels=["abnormal", "effusion"], operating_points={
        "abnormal": _POINTS,
        "effusion": {"high_sensitivity": {"threshold": 0.1},
                     "high_specificity": {"threshold": 0.5}},
    })
    score = parse_manifest(manifest).outputs[0]
    assert isinstance(score, ScoreOutput)
    effusion, abnormal = score.points_for("effusion"), score.points_for("abnormal")
    assert effusion is not None and effusion.high_sensitivity.threshold == 0.1
    assert abnormal is not None and abnormal.high_specificity.threshold == 0.7
    assert score.points_for("nodule") is None


def test_graph_output_names_include_box_scores() -> None:
    assert parse_manifest(boxes_manifest()).graph_output_names() == ["boxes", "box_scores"]
    assert parse_manifest(heatmap_manifest()).graph_output_names() == [
        "logits", "cam", "lungs", "embedding"]


def test_load_manifest_file_problems(tmp_path: Path) -> None:
    with pytest.raises(ManifestError) as caught:
        load_manifest(tmp_path / "manifest.json")
    assert caught.value.problems == ["manifest file is missing"]
    broken = tmp_path / "broken.json"
    broken.write_text('{"id": "x",', encoding="utf-8")
    with pytest.raises(ManifestError) as caught:
        load_manifest(broken)
    assert caught.value.path == broken
    assert caught.value.problems[0].startswith("not readable JSON: ")
    good = tmp_path / "good.json"
    good.write_text(json.dumps(heatmap_manifest()), encoding="utf-8")
    assert load_manifest(good).id == "cxr_test"


# --------------------------------------------------------------------------- the schema


def test_exported_schema_is_current() -> None:
    exported = SCHEMA_PATH.read_text(encoding="utf-8") if SCHEMA_PATH.is_file() else "{}"
    assert json.loads(exported) == manifest_schema(), (
        f"{SCHEMA_PATH} is out of date: run `{EXPORT_COMMAND}` and commit the file")
    assert exported == schema_text(), f"formatting drifted: run `{EXPORT_COMMAND}`"


def _schema_errors(value: Any, schema: dict[str, Any], root: dict[str, Any],
                   path: str = "$") -> list[str]:
    """The JSON Schema subset pydantic emits (jsonschema is not a dependency)."""
    if "$ref" in schema:
        return _schema_errors(value, root["$defs"][schema["$ref"].split("/")[-1]], root, path)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            matches = sum(not _schema_errors(value, s, root, path) for s in schema[key])
            ok = matches == 1 if key == "oneOf" else matches >= 1
            return [] if ok else [f"{path}: matches {matches} branches of {key}"]
    if "const" in schema and value != schema["const"]:
        return [f"{path}: not {schema['const']!r}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{path}: not one of {schema['enum']}"]
    types: dict[str, type | tuple[type, ...]] = {
        "object": dict, "array": list, "string": str, "boolean": bool, "integer": int,
        "number": (int, float), "null": type(None)}
    kind = schema.get("type")
    if kind and (not isinstance(value, types[kind])
                 or (kind in ("integer", "number") and isinstance(value, bool))):
        return [f"{path}: not of type {kind}"]
    errors = []
    if kind == "object":
        props = schema.get("properties", {})
        errors += [f"{path}.{k}: required" for k in schema.get("required", []) if k not in value]
        extra = schema.get("additionalProperties", True)
        for k, v in value.items():
            if k in props:
                errors += _schema_errors(v, props[k], root, f"{path}.{k}")
            elif extra is False:
                errors.append(f"{path}.{k}: not allowed")
            elif isinstance(extra, dict):
                errors += _schema_errors(v, extra, root, f"{path}.{k}")
    elif kind == "array":
        prefix = schema.get("prefixItems", [])
        if not schema.get("minItems", 0) <= len(value) <= schema.get("maxItems", len(value)):
            errors.append(f"{path}: {len(value)} items")
        for i, item in enumerate(value):
            sub = prefix[i] if i < len(prefix) else schema.get("items", {})
            errors += _schema_errors(item, sub, root, f"{path}[{i}]")
    elif kind == "string" and "pattern" in schema and not re.search(schema["pattern"], value):
        errors.append(f"{path}: does not match {schema['pattern']}")
    elif kind in ("integer", "number"):
        if value < schema.get("minimum", value) or value > schema.get("maximum", value):
            errors.append(f"{path}: out of range")
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            errors.append(f"{path}: out of range")
    return errors


def test_schema_accepts_the_factory_manifests() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    per_label = heatmap_manifest()
    per_label["outputs"][0]["operating_points"] = {"abnormal": _POINTS}
    for manifest in (heatmap_manifest(), boxes_manifest(), per_label):
        assert _schema_errors(manifest, schema, schema) == []


@pytest.mark.parametrize(("path", "value", "error"), [
    ("outputs.0.colour", "red", "$.outputs[0]: matches 0 branches"),
    ("inputs.0.preprocess.recipe", "ct_window_v1", "$.inputs[0].preprocess.recipe: not one"),
    ("id", "CXR-1", "$.id: does not match"),
    ("outputs.0.operating_points.high_sensitivity.threshold", 2, "$.outputs[0]: matches 0"),
])
def test_schema_rejects_what_pydantic_rejects(path: str, value: Any, error: str) -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    manifest = _set(path, value)()
    with pytest.raises(ManifestError):
        parse_manifest(manifest)
    errors = _schema_errors(manifest, schema, schema)
    assert any(e.startswith(error) for e in errors), errors
