"""The model manifest: what a model is for, how to feed it and how to read its outputs.

Every model in ``onnx_models/<id>/`` ships a ``manifest.json`` validated by
:class:`ModelManifest`. Validation is strict (unknown fields and non-finite numbers
are errors) and every problem is reported with its field path, e.g.
``outputs[1].for_label: unknown label 'nodule'``, so a broken manifest disables
only its own model with a reason a person can act on.

The JSON Schema (:func:`manifest_schema`) is exported to ``onnx_models/manifest.schema.json``
by ``python -m inference.manifest_schema``; a test checks the export is current.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

RESEARCH_STATUS = "research use only — not for clinical use"
KNOWN_PROVIDERS = (
    "TensorrtExecutionProvider",
    "CUDAExecutionProvider",
    "DmlExecutionProvider",
    "OpenVINOExecutionProvider",
    "CoreMLExecutionProvider",
    "CPUExecutionProvider",
)
RECIPES = ("xray_letterbox_v1", "mammo_breast_crop_v1")
SCHEMA_URI = "https://json-schema.org/draft/2020-12/schema"

_ID_PATTERN = r"^[a-z][a-z0-9_]{1,63}$"
_VERSION_PATTERN = r"^\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$"
# A DICOM code string (CS): what a Modality / BodyPartExamined / ViewPosition holds.
_CODE_PATTERN = r"^[A-Z0-9_ ]{1,16}$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class ManifestError(Exception):
    """A manifest that cannot be used; ``problems`` are "field.path: reason" lines."""

    def __init__(self, path: Path | str, problems: list[str]) -> None:
        self.path = Path(path)
        self.problems = problems
        super().__init__(f"{self.path}: " + "; ".join(problems))


class _Problems(ValueError):
    """Every problem one validator found, each at a path relative to the object it checks.

    :func:`validation_problems` joins these paths to pydantic's location, so a
    cross-field rule still names the exact field (``outputs[2].for_label``).
    """

    def __init__(self, problems: Sequence[tuple[str, str]]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(f"{p}: {m}" if p else m for p, m in problems))


def _raise_if(problems: Sequence[tuple[str, str]]) -> None:
    if problems:
        raise _Problems(problems)


def _duplicates(values: list[str], what: str) -> list[tuple[str, str]]:
    """``("what[i]", "'v' appears twice")`` for every repeat of an earlier value."""
    seen: dict[str, int] = {}
    problems = []
    for i, value in enumerate(values):
        if value in seen:
            problems.append((f"{what}[{i}]",
                             f"{value!r} appears twice (first at index {seen[value]})"))
        seen.setdefault(value, i)
    return problems


def _file_name(value: str) -> str:
    if "/" in value or "\\" in value or value in {"", ".", ".."}:
        raise ValueError(f"must be a file name inside the model folder, not {value!r}")
    return value


# --------------------------------------------------------------------------- identity


class Artifact(_Strict):
    file: str = "model.onnx"
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    opset: Annotated[int, Field(ge=7)]
    size_bytes: Annotated[int, Field(ge=0)]

    @field_validator("file")
    @classmethod
    def _plain_file_name(cls, value: str) -> str:
        return _file_name(value)


class Training(_Strict):
    datasets: Annotated[list[str], Field(min_length=1)]
    card: str = "MODEL_CARD.md"
    metrics: dict[str, float | list[float]] = {}

    @field_validator("card")
    @classmethod
    def _plain_file_name(cls, value: str) -> str:
        return _file_name(value)


# --------------------------------------------------------------------------- applicability


class OodCheck(_Strict):
    """Out-of-distribution check on an embedding output.

    ``embedding_mahalanobis``: the Mahalanobis distance to the training embeddings.
    ``embedding_relative_mahalanobis``: that distance minus the distance to a *background*
    (the training embeddings pooled with other kinds of images: chest, bone, mammograms), so
    an image is refused when it is much closer to the other kinds than to the training data
    (Ren et al. 2021, "A simple fix to Mahalanobis distance for near-OOD detection").
    """

    method: Literal["embedding_mahalanobis", "embedding_relative_mahalanobis"]
    output: str
    threshold: Annotated[float, Field(gt=0)]
    # mean and inv_cov (and, for the relative method, background_mean, background_inv_cov)
    stats_file: str = "ood_stats.npz"

    @field_validator("stats_file")
    @classmethod
    def _plain_file_name(cls, value: str) -> str:
        return _file_name(value)


class Applicability(_Strict):
    """Which images the model was made for; empty lists mean "any"."""

    modalities: Annotated[list[str], Field(min_length=1)]
    body_parts: list[str] = []
    view_positions: list[str] = []
    photometric: list[str] = ["MONOCHROME1", "MONOCHROME2"]
    image_types: list[str] = []  # e.g. ["ORIGINAL"]: refuse DERIVED / SECONDARY captures
    min_age_years: Annotated[float, Field(ge=0)] | None = None
    max_age_years: Annotated[float, Field(ge=0)] | None = None
    ood: OodCheck | None = None

    @field_validator("modalities", "body_parts", "view_positions", "photometric", "image_types")
    @classmethod
    def _dicom_codes(cls, values: list[str]) -> list[str]:
        # Compared with DICOM header values, which are upper-case code strings: a typo such as
        # "Chest" or "p.a." would make the model silently refuse every image.
        _raise_if([(f"[{i}]", f"{v!r} is not a DICOM code string (upper-case letters, "
                              "digits, '_' or space; at most 16 characters)")
                   for i, v in enumerate(values) if not re.fullmatch(_CODE_PATTERN, v)])
        return values

    @model_validator(mode="after")
    def _age_range(self) -> Applicability:
        lo, hi = self.min_age_years, self.max_age_years
        if lo is not None and hi is not None and lo > hi:
            raise _Problems([("min_age_years", f"{lo} is above max_age_years {hi}")])
        return self


# --------------------------------------------------------------------------- inputs


class Normalize(_Strict):
    mean: float
    std: Annotated[float, Field(gt=0)]


class Preprocess(_Strict):
    """A named, versioned recipe (``inference.preprocess``) and its parameters."""

    recipe: Literal["xray_letterbox_v1", "mammo_breast_crop_v1"]
    size: Annotated[int, Field(ge=8, le=4096)]
    window: Literal["dicom_voi_or_minmax", "minmax"] = "dicom_voi_or_minmax"
    invert_monochrome1: bool = True
    normalize: Normalize = Normalize(mean=0.0, std=1.0)


class InputSpec(_Strict):
    name: Annotated[str, Field(min_length=1)]
    shape: Annotated[list[int], Field(min_length=4, max_length=4)]  # N, C, H, W; N may be -1
    # Both recipes make float grey levels in [0, 1] (then normalised): any float type fits.
    dtype: Literal["float32", "float16"] = "float32"
    preprocess: Preprocess

    @model_validator(mode="after")
    def _shape_matches_recipe(self) -> InputSpec:
        batch, channels, height, width = self.shape
        problems = []
        if batch not in (1, -1):
            problems.append(("shape[0]", f"batch {batch}: one image is fed at a time "
                                         "(1, or -1 for a dynamic batch)"))
        if channels not in (1, 3):
            problems.append(("shape[1]", f"{channels} channels; a radiograph input has 1 or 3"))
        size = self.preprocess.size
        if (height, width) != (size, size):
            problems.append(("shape", f"{height}x{width} does not match preprocess.size {size}"))
        _raise_if(problems)
        return self


# --------------------------------------------------------------------------- outputs

_Probability = Annotated[float, Field(ge=0, le=1)]


class Calibration(_Strict):
    """Maps the activated output to a calibrated probability (chosen on validation data)."""

    method: Literal["none", "temperature", "platt", "isotonic"] = "none"
    temperature: Annotated[float, Field(gt=0)] | None = None  # logit / T, then the activation
    a: float | None = None  # platt: sigmoid(a * logit + b)
    b: float | None = None
    x: list[_Probability] | None = None  # isotonic: increasing probabilities in ...
    y: list[_Probability] | None = None  # ... and calibrated probabilities out (linear between)

    @model_validator(mode="after")
    def _parameters_for_method(self) -> Calibration:
        needs = {"none": (), "temperature": ("temperature",), "platt": ("a", "b"),
                 "isotonic": ("x", "y")}[self.method]
        problems = []
        for name in ("temperature", "a", "b", "x", "y"):
            given = getattr(self, name) is not None
            if name in needs and not given:
                problems.append((name, f"{self.method} calibration needs {name!r}"))
            elif name not in needs and given:
                problems.append((name, f"not used by {self.method!r} calibration"))
        if self.method == "isotonic" and self.x is not None and self.y is not None:
            if len(self.x) != len(self.y) or len(self.x) < 2:
                problems.append(("y", "isotonic calibration needs 'x' and 'y' of the same "
                                      f"length ≥ 2 (x has {len(self.x)}, y has {len(self.y)})"))
            if any(b <= a for a, b in zip(self.x, self.x[1:], strict=False)):
                problems.append(("x", "isotonic 'x' must be strictly increasing"))
            if any(b < a for a, b in zip(self.y, self.y[1:], strict=False)):
                problems.append(("y", "isotonic 'y' must be non-decreasing"))
        _raise_if(problems)
        return self


class OperatingPoint(_Strict):
    threshold: _Probability  # on the calibrated probability
    sensitivity: _Probability | None = None
    specificity: _Probability | None = None


class OperatingPoints(_Strict):
    high_sensitivity: OperatingPoint
    high_specificity: OperatingPoint

    @model_validator(mode="after")
    def _ordered(self) -> OperatingPoints:
        if self.high_specificity.threshold < self.high_sensitivity.threshold:
            raise _Problems([(
                "high_specificity.threshold",
                f"{self.high_specificity.threshold} is below the high_sensitivity threshold "
                f"{self.high_sensitivity.threshold}")])
        return self


def _points_shape(value: Any) -> str:
    """One set for every label, or a dict keyed by label (tags skipped in error paths)."""
    if isinstance(value, OperatingPoints) or (
            isinstance(value, dict) and {"high_sensitivity", "high_specificity"} & value.keys()):
        return "<shared>"
    return "<per label>"


class ScoreOutput(_Strict):
    """Case-level scores, one per label."""

    name: Annotated[str, Field(min_length=1)]
    kind: Literal["score"]
    labels: Annotated[list[str], Field(min_length=1)]
    activation: Literal["sigmoid", "softmax", "none"] = "sigmoid"
    calibration: Calibration = Calibration()
    # One set for every label, or one set per label (keys are labels).
    operating_points: Annotated[
        Annotated[OperatingPoints, Tag("<shared>")]
        | Annotated[dict[str, OperatingPoints], Tag("<per label>")],
        Discriminator(_points_shape)]
    # Optional 1–10 scale (as mammography CAD shows): 9 strictly increasing calibrated
    # probabilities; score k covers [cut[k-2], cut[k-1]) (1 below the first, 10 from the last).
    scale_1_10: Annotated[list[Annotated[float, Field(gt=0, lt=1)]],
                          Field(min_length=9, max_length=9)] | None = None

    def points_for(self, label: str) -> OperatingPoints | None:
        if isinstance(self.operating_points, OperatingPoints):
            return self.operating_points
        return self.operating_points.get(label)

    @model_validator(mode="after")
    def _labels(self) -> ScoreOutput:
        problems = _duplicates(self.labels, "labels")
        if isinstance(self.operating_points, dict):
            problems += [(f"operating_points.{key}", f"unknown label {key!r}")
                         for key in self.operating_points if key not in self.labels]
            problems += [("operating_points", f"no operating points for label {label!r}")
                         for label in self.labels if label not in self.operating_points]
        if self.activation == "softmax" and len(self.labels) < 2:
            problems.append(("activation", "softmax needs at least 2 labels "
                                           "(use 'sigmoid' for a single label)"))
        cuts = self.scale_1_10 or []
        problems += [(f"scale_1_10[{i + 1}]", f"{b} is not above the previous cut {a}: the 9 "
                                              "cuts must be strictly increasing")
                     for i, (a, b) in enumerate(pairwise(cuts)) if b <= a]
        method = self.calibration.method
        if method == "temperature" and self.activation == "none":
            problems.append(("calibration.method", "temperature calibration divides logits: "
                                                   "activation must be 'sigmoid' or 'softmax'"))
        if method == "platt" and self.activation != "sigmoid":
            problems.append(("calibration.method", "platt calibration maps one logit per label: "
                                                   "activation must be 'sigmoid'"))
        _raise_if(problems)
        return self


class HeatmapOutput(_Strict):
    """A map over the model input for one label; mapped back to image pixels exactly."""

    name: Annotated[str, Field(min_length=1)]
    kind: Literal["heatmap"]
    for_label: str
    space: Literal["model_input"] = "model_input"
    activation: Literal["sigmoid", "none", "minmax"] = "none"
    value_range: tuple[float, float] = (0.0, 1.0)  # after the activation: what the colormap spans

    @model_validator(mode="after")
    def _range(self) -> HeatmapOutput:
        lo, hi = self.value_range
        if not lo < hi:
            raise _Problems([("value_range", f"low end {lo} must be below high end {hi}")])
        return self


class BoxesOutput(_Strict):
    """Boxes ``(1, N, 4)`` in ``name``; their scores in ``scores``: ``(1, N)`` or ``(1, N, C)``."""

    name: Annotated[str, Field(min_length=1)]
    kind: Literal["boxes"]
    format: Literal["xyxy", "cxcywh"] = "xyxy"
    space: Literal["model_input"] = "model_input"
    normalized: bool = False  # True: coordinates in [0, 1] of the model input
    scores: Annotated[str, Field(min_length=1)]  # name of the graph output holding the scores
    labels: Annotated[list[str], Field(min_length=1)]  # one per score column
    activation: Literal["sigmoid", "none"] = "none"
    score_threshold: _Probability = 0.05
    nms_iou: Annotated[float, Field(gt=0, le=1)] = 0.5
    max_boxes: Annotated[int, Field(ge=1)] = 20
    operating_points: OperatingPoints

    @model_validator(mode="after")
    def _labels_and_points(self) -> BoxesOutput:
        problems = _duplicates(self.labels, "labels")
        point = self.operating_points.high_sensitivity
        if point.threshold < self.score_threshold:
            problems.append(("operating_points.high_sensitivity.threshold",
                             f"{point.threshold} is below score_threshold {self.score_threshold}: "
                             "those boxes are dropped before any operating point"))
        _raise_if(problems)
        return self


class MaskOutput(_Strict):
    """A segmentation over the model input: a label map or per-label probabilities."""

    name: Annotated[str, Field(min_length=1)]
    kind: Literal["mask"]
    labels: Annotated[list[str], Field(min_length=1)]
    mode: Literal["label_map", "probabilities"] = "probabilities"
    space: Literal["model_input"] = "model_input"
    activation: Literal["sigmoid", "softmax", "none"] = "none"

    @model_validator(mode="after")
    def _labels(self) -> MaskOutput:
        problems = _duplicates(self.labels, "labels")
        if self.mode == "label_map" and self.activation != "none":
            problems.append(("activation", "a label map holds class indices: "
                                           "activation must be 'none'"))
        if self.activation == "softmax" and len(self.labels) < 2:
            problems.append(("activation", "softmax needs at least 2 labels "
                                           "(use 'sigmoid' for a single label)"))
        _raise_if(problems)
        return self


class EmbeddingOutput(_Strict):
    name: Annotated[str, Field(min_length=1)]
    kind: Literal["embedding"]


Output = Annotated[
    ScoreOutput | HeatmapOutput | BoxesOutput | MaskOutput | EmbeddingOutput,
    Field(discriminator="kind"),
]


# --------------------------------------------------------------------------- the manifest


class ModelManifest(_Strict):
    id: Annotated[str, Field(json_schema_extra={"pattern": _ID_PATTERN})]
    name: Annotated[str, Field(min_length=1)]
    version: Annotated[str, Field(json_schema_extra={"pattern": _VERSION_PATTERN})]
    status: str
    intended_use: Annotated[str, Field(min_length=10)]
    artifact: Artifact
    training: Training
    applicability: Applicability
    execution_providers: Annotated[list[str], Field(min_length=1)]
    inputs: Annotated[list[InputSpec], Field(min_length=1, max_length=1)]
    outputs: Annotated[list[Output], Field(min_length=1)]

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not re.fullmatch(_ID_PATTERN, value):
            raise ValueError(f"{value!r} is not a model id: 2 to 64 lower-case letters, digits "
                             "or '_', starting with a letter (it is also the folder name)")
        return value

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        if not re.fullmatch(_VERSION_PATTERN, value):
            raise ValueError(f"{value!r} is not a version like '1.2.0' or '1.2.0-rc.1'")
        return value

    @field_validator("status")
    @classmethod
    def _research_status(cls, value: str) -> str:
        if "research use only" not in value.lower():
            raise ValueError(f"must say {RESEARCH_STATUS!r}")
        return value

    @field_validator("execution_providers")
    @classmethod
    def _providers(cls, value: list[str]) -> list[str]:
        problems = [(f"[{i}]", f"unknown execution provider {name!r}")
                    for i, name in enumerate(value) if name not in KNOWN_PROVIDERS]
        problems += _duplicates(value, "")
        if value[-1] != "CPUExecutionProvider":
            problems.append(("", "must end with 'CPUExecutionProvider' "
                                 "(the fallback every PC has)"))
        _raise_if(problems)
        return value

    @model_validator(mode="after")
    def _cross_references(self) -> ModelManifest:
        problems: list[tuple[str, str]] = []
        # Every graph output the manifest reads has one meaning.
        used: dict[str, str] = {}
        for i, out in enumerate(self.outputs):
            if out.name in used:
                problems.append((f"outputs[{i}].name", f"{out.name!r} is already {used[out.name]}"))
            used.setdefault(out.name, f"outputs[{i}].name")
        for i, out in enumerate(self.outputs):
            if isinstance(out, BoxesOutput):
                if out.scores in used:
                    problems.append((f"outputs[{i}].scores",
                                     f"{out.scores!r} is already {used[out.scores]}"))
                used.setdefault(out.scores, f"outputs[{i}].scores")
        # Case-score labels are unique; heatmaps hang off them, one per label.
        score_labels: dict[str, int] = {}
        for i, out in enumerate(self.outputs):
            if isinstance(out, ScoreOutput):
                for j, label in enumerate(out.labels):
                    if label in score_labels and score_labels[label] != i:
                        problems.append((f"outputs[{i}].labels[{j}]", f"{label!r} is already a "
                                         f"label of outputs[{score_labels[label]}]"))
                    score_labels.setdefault(label, i)
        heatmap_of: dict[str, int] = {}
        for i, out in enumerate(self.outputs):
            if not isinstance(out, HeatmapOutput):
                continue
            if out.for_label not in score_labels:
                known = ", ".join(sorted(score_labels)) or "none"
                problems.append((f"outputs[{i}].for_label", f"unknown label {out.for_label!r} "
                                 f"(score labels: {known})"))
            elif out.for_label in heatmap_of:
                problems.append((f"outputs[{i}].for_label", f"{out.for_label!r} already has a "
                                 f"heatmap: outputs[{heatmap_of[out.for_label]}]"))
            heatmap_of.setdefault(out.for_label, i)
        ood = self.applicability.ood
        embeddings = {o.name for o in self.outputs if isinstance(o, EmbeddingOutput)}
        if ood is not None and ood.output not in embeddings:
            problems.append(("applicability.ood.output",
                             f"{ood.output!r} is not an embedding output"))
        if not any(isinstance(o, ScoreOutput | BoxesOutput) for o in self.outputs):
            problems.append(("outputs", "needs a 'score' or a 'boxes' output"))
        _raise_if(problems)
        return self

    @property
    def input(self) -> InputSpec:
        return self.inputs[0]

    def graph_output_names(self) -> list[str]:
        """Every ONNX graph output the manifest reads (box scores included)."""
        names = [o.name for o in self.outputs]
        names += [o.scores for o in self.outputs if isinstance(o, BoxesOutput)]
        return names


def validation_problems(error: ValidationError) -> list[str]:
    """Pydantic errors as "outputs[1].for_label: message" lines."""
    problems = []
    for item in error.errors():
        path = _location(item["loc"])
        cause = item.get("ctx", {}).get("error")
        if isinstance(cause, _Problems):
            for relative, message in cause.problems:
                full = _join(path, relative)
                problems.append(f"{full}: {message}" if full else message)
            continue
        message = str(item["msg"]).removeprefix("Value error, ")
        problems.append(f"{path}: {message}" if path else message)
    return problems


def _join(path: str, relative: str) -> str:
    if not path or not relative or relative.startswith("["):
        return path + relative
    return f"{path}.{relative}"


def _location(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part in {"score", "heatmap", "boxes", "mask", "embedding"} and text.endswith("]"):
            continue  # the discriminator's tag adds nothing to the path
        elif re.fullmatch(r"<.*>|[A-Za-z_]+\[.*\]|function-after\[.*\]", part):
            continue  # union tags and pydantic's validator names
        else:
            text = _join(text, part)
    return text


def parse_manifest(data: Any, path: Path | str = "manifest.json") -> ModelManifest:
    """Validate already-loaded JSON; raises :class:`ManifestError` listing every problem."""
    try:
        return ModelManifest.model_validate(data)
    except ValidationError as exc:
        raise ManifestError(path, validation_problems(exc)) from None


def load_manifest(path: Path | str) -> ModelManifest:
    """Read and validate ``manifest.json``; raises :class:`ManifestError`."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(path, ["manifest file is missing"]) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(path, [f"not readable JSON: {exc}"]) from None
    return parse_manifest(data, path)


def manifest_schema() -> dict[str, Any]:
    """The JSON Schema exported to ``onnx_models/manifest.schema.json``."""
    return {"$schema": SCHEMA_URI, **ModelManifest.model_json_schema()}
