"""Which models are installed, and which of them can be trusted to run.

A model folder is ``<root>/<id>/`` holding ``manifest.json``, the ONNX file it names and
its model card. The registry checks each folder against its manifest — the bytes (size,
sha256), the graph (input name, dtype and shape, every output the manifest reads, opset)
and the card — and a folder that fails any check is kept as a *disabled* entry whose
``problems`` say why, so the GUI and ``tandem models`` can show it. One broken model
never hides the others.

Roots are searched in order; when two roots hold the same id the first wins and the
later folder is listed as a disabled entry "shadowed by" the first.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import onnx
from onnx import TensorProto

from imaging.paths import data_dir
from inference.manifest import ManifestError, ModelManifest, load_manifest

MODELS_DIR_ENV = "TANDEM_MODELS_DIR"
MANIFEST_NAME = "manifest.json"
_CHUNK = 1 << 20
_DTYPES = {"float32": TensorProto.FLOAT, "float16": TensorProto.FLOAT16}

Dim = int | str | None  # fixed size, symbolic name, or unknown


@dataclass(frozen=True)
class ModelEntry:
    """One model folder; usable only when ``problems`` is empty.

    ``manifest`` is set whenever ``manifest.json`` itself is valid, even if the files
    beside it are not (so a disabled model still shows its name and version).
    """

    id: str
    folder: Path
    manifest: ModelManifest | None
    problems: tuple[str, ...]

    @property
    def valid(self) -> bool:
        return self.manifest is not None and not self.problems

    @property
    def model_path(self) -> Path:
        return self.folder / (self.manifest.artifact.file if self.manifest else "model.onnx")

    @property
    def card_path(self) -> Path:
        return self.folder / (self.manifest.training.card if self.manifest else "MODEL_CARD.md")


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks (models can be large)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class _Graph:
    """What the registry needs from an ONNX file (or why it could not be read)."""

    error: str = ""
    inputs: tuple[tuple[str, int, tuple[Dim, ...]], ...] = ()  # name, element type, dims
    outputs: tuple[str, ...] = ()
    opset: int | None = None  # of the default ("ai.onnx") domain


def _read_graph(path: Path) -> _Graph:
    try:
        # Only the graph: weights stored as external data are not needed here.
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # protobuf and onnx raise assorted types on corrupt files
        return _Graph(error=f"not a readable ONNX model ({type(exc).__name__}: {exc})")
    graph = model.graph
    if not graph.input or not graph.output:
        return _Graph(error="not an ONNX model: the graph has no inputs or no outputs")
    weights = {init.name for init in graph.initializer}
    inputs = []
    for value in graph.input:
        if value.name in weights:
            continue  # old IR versions list initializers as inputs too
        tensor = value.type.tensor_type
        dims: tuple[Dim, ...] = tuple(
            d.dim_value if d.HasField("dim_value") else (d.dim_param or None)
            for d in tensor.shape.dim)
        inputs.append((value.name, tensor.elem_type, dims))
    opsets = [o.version for o in model.opset_import if o.domain in ("", "ai.onnx")]
    return _Graph(inputs=tuple(inputs), outputs=tuple(o.name for o in graph.output),
                  opset=opsets[0] if opsets else None)


def _graph_problems(manifest: ModelManifest, graph: _Graph, file_name: str) -> list[str]:
    if graph.error:
        return [f"{file_name}: {graph.error}"]
    problems = []
    spec = manifest.input
    found = {name: (dtype, dims) for name, dtype, dims in graph.inputs}
    if spec.name not in found:
        problems.append(f"inputs[0].name: the graph has no input {spec.name!r} "
                        f"(graph inputs: {', '.join(found)})")
    else:
        dtype, dims = found[spec.name]
        if dtype != _DTYPES[spec.dtype]:
            problems.append(f"inputs[0].dtype: manifest says {spec.dtype}, graph input "
                            f"{spec.name!r} is {TensorProto.DataType.Name(dtype).lower()}")
        if not _shape_fits(spec.shape, dims):
            shown = [d if d is not None else "?" for d in dims]
            problems.append(f"inputs[0].shape: manifest says {spec.shape}, graph input "
                            f"{spec.name!r} is {shown}")
    extra = [name for name in found if name != spec.name]
    if extra:
        problems.append(f"inputs: the graph also needs {', '.join(map(repr, extra))}, "
                        "which the manifest does not feed")
    missing = [name for name in manifest.graph_output_names() if name not in graph.outputs]
    if missing:
        problems.append(f"outputs: the graph has no output {', '.join(map(repr, missing))} "
                        f"(graph outputs: {', '.join(graph.outputs)})")
    if graph.opset != manifest.artifact.opset:
        problems.append(f"artifact.opset: manifest says {manifest.artifact.opset}, "
                        f"the model imports opset {graph.opset}")
    return problems


def _shape_fits(manifest_shape: Sequence[int], dims: Sequence[Dim]) -> bool:
    """Fixed graph dims must equal the manifest's; symbolic or unknown dims accept any size.

    A manifest batch of -1 (dynamic) also accepts a graph fixed at 1: one image is fed.
    """
    if len(manifest_shape) != len(dims):
        return False
    for axis, (want, have) in enumerate(zip(manifest_shape, dims, strict=True)):
        if not isinstance(have, int):
            continue
        if have != want and not (axis == 0 and want == -1 and have == 1):
            return False
    return True


class ModelRegistry:
    """The models found under ``roots`` (first root wins on duplicate ids)."""

    def __init__(self, roots: Sequence[Path]) -> None:
        self.roots = tuple(Path(r) for r in roots)
        # (path, size, mtime_ns) -> facts, so refresh() does not re-read unchanged files.
        self._hashes: dict[tuple[str, int, int], str] = {}
        self._graphs: dict[tuple[str, int, int], _Graph] = {}
        self._entries: list[ModelEntry] = []
        self.refresh()

    @classmethod
    def default(cls) -> ModelRegistry:
        """The models of :func:`default_roots`."""
        return cls(default_roots())

    def entries(self) -> list[ModelEntry]:
        """Every model folder, disabled ones included, sorted by id (winner first)."""
        return list(self._entries)

    def get(self, model_id: str) -> ModelEntry:
        """The entry that answers to ``model_id``; raises ``KeyError``."""
        for entry in self._entries:
            if entry.id == model_id:
                return entry
        raise KeyError(model_id)

    def usable(self) -> list[ModelEntry]:
        return [e for e in self._entries if e.valid]

    def refresh(self) -> None:
        """Re-scan the roots (unchanged model files are not re-hashed)."""
        found: list[ModelEntry] = []
        winners: dict[str, Path] = {}
        for root in self.roots:
            for folder in _model_folders(root):
                entry = self._check(folder)
                if entry.id in winners:
                    entry = ModelEntry(entry.id, folder, entry.manifest, (
                        f"shadowed by {winners[entry.id]} (same id in an earlier models folder)",
                        *entry.problems))
                else:
                    winners[entry.id] = folder
                found.append(entry)
        # Stable sort: for one id, the winner (earlier root) stays first.
        self._entries = sorted(found, key=lambda e: e.id)

    def _check(self, folder: Path) -> ModelEntry:
        try:
            manifest = load_manifest(folder / MANIFEST_NAME)
        except ManifestError as exc:
            return ModelEntry(folder.name, folder, None,
                              tuple(f"{MANIFEST_NAME}: {p}" for p in exc.problems))
        problems = []
        if manifest.id != folder.name:
            problems.append(f"id: manifest id {manifest.id!r} does not match its folder "
                            f"name {folder.name!r}")
        problems += self._artifact_problems(manifest, folder)
        card = folder / manifest.training.card
        if not card.is_file():
            problems.append(f"training.card: {card.name} is missing")
        ood = manifest.applicability.ood
        if ood is not None and not (folder / ood.stats_file).is_file():
            problems.append(f"applicability.ood.stats_file: {ood.stats_file} is missing")
        return ModelEntry(folder.name, folder, manifest, tuple(problems))

    def _artifact_problems(self, manifest: ModelManifest, folder: Path) -> list[str]:
        artifact = manifest.artifact
        path = folder / artifact.file
        try:
            stat = path.stat()
        except FileNotFoundError:
            return [f"artifact.file: {artifact.file} is missing"]
        except OSError as exc:
            return [f"artifact.file: {artifact.file} is not readable ({exc.strerror})"]
        if not path.is_file():
            return [f"artifact.file: {artifact.file} is not a file"]
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        problems = []
        if stat.st_size != artifact.size_bytes:
            problems.append(f"size mismatch: manifest says {artifact.size_bytes} bytes, "
                            f"{artifact.file} is {stat.st_size} bytes")
        else:
            try:
                digest = self._hashes.get(key) or sha256_of(path)
            except OSError as exc:
                return [f"artifact.file: {artifact.file} is not readable ({exc.strerror})"]
            self._hashes[key] = digest
            if digest != artifact.sha256:
                problems.append(f"sha256 mismatch: manifest says {artifact.sha256[:12]}…, "
                                f"file is {digest[:12]}…")
        graph = self._graphs.get(key)
        if graph is None:
            graph = self._graphs[key] = _read_graph(path)
        return problems + _graph_problems(manifest, graph, artifact.file)


def _model_folders(root: Path) -> list[Path]:
    """Sub-folders of ``root`` that look like models (a manifest or an ONNX file inside).

    A folder with an ONNX file but no manifest is still listed, so it shows up as
    "manifest.json is missing" rather than silently not at all.
    """
    try:
        children = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    except OSError:
        return []
    return [p for p in children
            if (p / MANIFEST_NAME).exists() or any(p.glob("*.onnx"))]


def default_roots() -> list[Path]:
    """Bundled ``onnx_models/``, then ``$TANDEM_MODELS_DIR``, then the user data folder
    (those that exist), in search order."""
    roots = [Path(__file__).resolve().parents[1] / "onnx_models"]
    override = os.environ.get(MODELS_DIR_ENV, "").strip()
    if override:
        roots.append(Path(override).expanduser())
    roots.append(data_dir() / "models")
    return [r for r in roots if r.is_dir()]
