"""What ``tandem doctor`` and the first-run window check: versions, GPU, data, models, PACS.

No Qt here: :func:`gather` returns a plain :class:`DoctorReport` (JSON-ready with
``to_dict()``) and :func:`run_self_test` runs every model on its bundled sample, so the
CLI and the GUI show the same facts. Nothing here writes into the data folder: the
study database is opened read-only, a missing one is "not created yet".
"""

from __future__ import annotations

import platform
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from imaging import paths
from imaging.db import SCHEMA_VERSION as STUDY_SCHEMA_VERSION
from inference.ood import site_calibration_dir, site_calibration_status
from inference.registry import ModelEntry, ModelRegistry, default_roots, sha256_of

SAMPLES_DIR = Path(__file__).resolve().parents[1] / "resources" / "samples"
SAMPLE_SUFFIXES = (".png", ".jpg", ".jpeg")
LOW_DISK_BYTES = 1 << 30  # below 1 GiB free, an import or a PACS retrieve may fail
_NVIDIA_SMI_TIMEOUT_S = 5.0
_LIBRARIES = {  # shown name -> distribution names to try, in order
    "PySide6": ("PySide6-Essentials", "PySide6"),
    "VTK": ("vtk",),
    "pydicom": ("pydicom",),
    "pynetdicom": ("pynetdicom",),
    "onnxruntime": ("onnxruntime", "onnxruntime-gpu", "onnxruntime-directml"),
    "numpy": ("numpy",),
    "SimpleITK": ("SimpleITK",),
}
_STUDY_TABLES = {"patients": "patients", "studies": "studies", "series": "series",
                 "instances": "instances", "errors": "files_with_errors"}

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class ModelCheck:
    id: str
    version: str | None
    folder: str
    sha256_expected: str | None
    sha256_actual: str | None
    usable: bool
    problems: tuple[str, ...]
    site_calibration: dict[str, Any] | None = None  # inference.ood.site_calibration_status


@dataclass
class DoctorReport:
    """Every fact ``tandem doctor`` prints; ``problems`` empty means healthy."""

    tandem: str
    python: str
    os: str
    libraries: dict[str, str]
    providers: list[str]
    gpu: dict[str, Any]
    data: dict[str, Any]
    database: dict[str, Any]
    models: list[ModelCheck]
    pacs: dict[str, Any]
    logs: dict[str, Any]
    problems: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["healthy"] = self.healthy
        return data


@dataclass(frozen=True)
class SelfTestResult:
    """One model run on its bundled sample: score, timings, provider, or why it did not run."""

    model_id: str
    sample: str  # file name in resources/samples ("" when the model has none)
    ok: bool
    label: str = ""
    score: float | None = None  # the first case-level probability
    load_ms: float = 0.0  # session creation and one warm-up run
    run_ms: float = 0.0  # decode + preprocess + inference + postprocess of the sample
    provider: str = ""
    message: str = ""  # why it did not run; "" when ok


# -- gathering ----------------------------------------------------------------------------------

def tandem_version() -> str:
    try:
        return metadata.version("tandem")
    except metadata.PackageNotFoundError:
        return "unknown"


def library_versions() -> dict[str, str]:
    """Installed versions of the libraries Tandem stands on (from package metadata, so
    nothing heavy is imported); "missing" when a library is not installed."""
    found = {}
    for shown, names in _LIBRARIES.items():
        found[shown] = "missing"
        for name in names:
            try:
                found[shown] = metadata.version(name)
                break
            except metadata.PackageNotFoundError:
                continue
    return found


def available_providers() -> list[str]:
    try:
        import onnxruntime as ort
    except ImportError:
        return []
    return list(ort.get_available_providers())


def nvidia_gpus() -> list[str] | None:
    """``name, driver, memory`` per NVIDIA GPU from nvidia-smi; None when it is not installed."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return None
    try:
        done = subprocess.run(
            [exe, "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
            capture_output=True, text=True, timeout=_NVIDIA_SMI_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return [f"nvidia-smi failed ({type(exc).__name__})"]
    if done.returncode != 0:
        return [f"nvidia-smi failed: {(done.stderr or done.stdout).strip()[:200]}"]
    return [line.strip() for line in done.stdout.splitlines() if line.strip()]


def provider_in_use(registry: ModelRegistry) -> tuple[str, str]:
    """(provider, notice) of a real session of the first usable model: what will run the
    models on this PC, after any GPU fallback. ("", reason) when no model can start."""
    from inference.session import ModelUnavailable, open_session

    usable = registry.usable()
    if not usable:
        return "", "no usable model"
    try:
        session = open_session(usable[0])
    except ModelUnavailable as exc:
        return "", exc.reason
    return session.provider, session.notice


def gpu_facts(registry: ModelRegistry, providers: Sequence[str]) -> dict[str, Any]:
    used, notice = provider_in_use(registry)
    return {
        "nvidia_smi": nvidia_gpus(),
        "cuda_provider": "CUDAExecutionProvider" in providers,
        "tensorrt_provider": "TensorrtExecutionProvider" in providers,
        "directml_provider": "DmlExecutionProvider" in providers,
        "provider_used": used,
        "notice": notice,
    }


def data_facts(folder: Path) -> dict[str, Any]:
    existing = folder
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    try:
        free: int | None = shutil.disk_usage(existing).free
    except OSError:
        free = None
    writable = existing.is_dir() and _writable(existing)
    return {"path": str(folder), "exists": folder.is_dir(), "free_bytes": free,
            "writable": writable}


def _writable(folder: Path) -> bool:
    import os

    return os.access(folder, os.W_OK | os.X_OK)


def database_facts(path: Path) -> dict[str, Any]:
    """Health of the study database, read-only: quick_check, foreign keys, counts, and the
    reading audit chain. ``problems`` lists what is wrong."""
    facts: dict[str, Any] = {"path": str(path), "exists": path.is_file(), "quick_check": None,
                             "counts": {}, "audit": None, "problems": []}
    if not path.is_file():
        return facts
    problems: list[str] = facts["problems"]
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
    except sqlite3.Error as exc:
        problems.append(f"database {path}: cannot be opened ({exc})")
        return facts
    try:
        check = "\n".join(str(r[0]) for r in conn.execute("PRAGMA quick_check"))
        facts["quick_check"] = check
        if check != "ok":
            problems.append(f"database {path}: quick_check failed: {check[:300]}")
        broken = conn.execute("PRAGMA foreign_key_check").fetchall()
        if broken:
            problems.append(f"database {path}: {len(broken)} rows break a foreign key")
        tables = {r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        facts["counts"] = {name: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                           for name, table in _STUDY_TABLES.items() if table in tables}
        if "schema_version" in tables:
            version = conn.execute("SELECT max(version) FROM schema_version").fetchone()[0]
            facts["schema_version"] = version
            if version is not None and version > STUDY_SCHEMA_VERSION:
                problems.append(f"database {path}: schema {version} is newer than this "
                                f"Tandem ({STUDY_SCHEMA_VERSION})")
        has_audit = "reading_audit" in tables
    except sqlite3.DatabaseError as exc:
        problems.append(f"database {path}: unreadable ({exc})")
        return facts
    finally:
        conn.close()
    if has_audit:
        facts["audit"] = _audit_facts(path, problems)
    return facts


def _audit_facts(path: Path, problems: list[str]) -> dict[str, Any]:
    from reading.store import ReadingStore

    try:
        with ReadingStore(path) as store:
            broken = store.verify_audit()
            events = len(store.audit())
    except (sqlite3.Error, RuntimeError) as exc:
        problems.append(f"reading audit: cannot be verified ({exc})")
        return {"events": None, "intact": False}
    problems.extend(f"reading audit: {p}" for p in broken)
    return {"events": events, "intact": not broken}


def model_checks(registry: ModelRegistry) -> list[ModelCheck]:
    """Each model folder as the registry judged it, with the file's actual sha256."""
    checks = []
    for entry in registry.entries():
        manifest = entry.manifest
        actual: str | None = None
        if entry.model_path.is_file():
            try:
                actual = sha256_of(entry.model_path)
            except OSError:
                actual = None
        expected = manifest.artifact.sha256 if manifest else None
        checks.append(ModelCheck(
            entry.id, manifest.version if manifest else None, str(entry.folder), expected,
            actual, entry.valid, entry.problems,
            site_calibration_status(site_calibration_dir(), entry.id, expected)))
    return checks


def _model_problems(checks: Sequence[ModelCheck]) -> list[str]:
    """A copy only shadowed by another folder of the same id is fine; any other problem is
    reported, and so is having no usable model at all."""
    problems = []
    for check in checks:
        real = [p for p in check.problems if not p.startswith("shadowed by ")]
        if real:
            problems.append(f"model {check.id} ({check.folder}): " + "; ".join(real))
        site = check.site_calibration
        if site and site["problem"]:
            problems.append(f"model {check.id}: site calibration {site['file']}: "
                            f"{site['problem']}")
    if not any(c.usable for c in checks):
        problems.append("no usable AI model")
    return problems


def pacs_facts(data_folder: Path) -> dict[str, Any]:
    from pacs.errors import NodeConfigError
    from pacs.nodes import NODES_FILE, NodeStore

    store = NodeStore(data_folder / NODES_FILE)
    try:
        config = store.load()
    except NodeConfigError as exc:
        return {"config": str(store.path), "error": exc.message}
    return {"config": str(store.path), "local_ae_title": config.local.ae_title,
            "local_port": config.local.port, "nodes": len(config.nodes),
            "node_names": [n.name for n in config.nodes]}


def log_facts(data_folder: Path) -> dict[str, Any]:
    from app.logs import CRASH_DIR, LOG_DIR, LOG_FILE, crash_reports

    log_file = data_folder / LOG_DIR / LOG_FILE
    crashes = crash_reports(data_folder)
    return {"folder": str(data_folder / LOG_DIR),
            "log_bytes": log_file.stat().st_size if log_file.is_file() else 0,
            "crash_folder": str(data_folder / CRASH_DIR),
            "crash_reports": len(crashes),
            "newest_crash_report": str(crashes[-1]) if crashes else None}


def gather(models_dir: Path | None = None) -> DoctorReport:
    """Every check; the models of :func:`inference.registry.default_roots` (``models_dir``
    searched first when given)."""
    data_folder = paths.data_dir()
    registry = ModelRegistry([*([models_dir] if models_dir else []), *default_roots()])
    providers = available_providers()
    data = data_facts(data_folder)
    database = database_facts(paths.database_path())
    models = model_checks(registry)
    pacs = pacs_facts(data_folder)
    report = DoctorReport(
        tandem=tandem_version(),
        python=f"{platform.python_version()} ({platform.python_implementation()}, "
               f"{sys.executable})",
        os=platform.platform(), libraries=library_versions(), providers=providers,
        gpu=gpu_facts(registry, providers), data=data, database=database, models=models,
        pacs=pacs, logs=log_facts(data_folder))
    problems = report.problems
    missing = [name for name, version in report.libraries.items() if version == "missing"]
    if missing:
        problems.append(f"libraries missing: {', '.join(missing)}")
    if not providers:
        problems.append("ONNX Runtime is not installed or offers no execution provider")
    if not data["writable"]:
        problems.append(f"data folder {data_folder} is not writable")
    if data["free_bytes"] is not None and data["free_bytes"] < LOW_DISK_BYTES:
        problems.append(f"data folder {data_folder}: only {data['free_bytes'] // (1 << 20)} "
                        "MiB free")
    problems.extend(database["problems"])
    problems.extend(_model_problems(models))
    if "error" in pacs:
        problems.append(f"PACS configuration: {pacs['error']}")
    return report


# -- self-test ----------------------------------------------------------------------------------

def sample_for(model_id: str, folder: Path = SAMPLES_DIR) -> Path | None:
    """The bundled sample image of ``model_id`` (``<folder>/<model_id>.png|jpg``), if any."""
    for suffix in SAMPLE_SUFFIXES:
        candidate = folder / f"{model_id}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def run_self_test(registry: ModelRegistry | None = None, *, samples: Path = SAMPLES_DIR,
                  progress: Progress | None = None,
                  cancel: Any = None) -> list[SelfTestResult]:
    """Run each model (one result per model id, disabled ones included) on its sample.

    ``load_ms`` is the session start plus a warm-up run, ``run_ms`` the analysis of the
    sample itself (what a radiologist waits for once Tandem is started). Never raises for
    a broken model or sample: the result says why. ``cancel`` (``is_set()``) stops between
    models.
    """
    from inference.engine import AnalysisEngine

    registry = registry if registry is not None else ModelRegistry.default()
    engine = AnalysisEngine(registry)
    winners: dict[str, ModelEntry] = {}
    for entry in registry.entries():
        winners.setdefault(entry.id, entry)
    results = []
    for index, (model_id, entry) in enumerate(winners.items()):
        if cancel is not None and cancel.is_set():
            break
        if progress is not None:
            progress(index, len(winners), model_id)
        results.append(_self_test_one(engine, entry, samples))
    if progress is not None:
        progress(len(results), len(winners), "")
    return results


def _self_test_one(engine: Any, entry: ModelEntry, samples: Path) -> SelfTestResult:
    from inference.session import ModelUnavailable
    from inference.source import SourceError, source_from_picture

    sample = sample_for(entry.id, samples)
    name = sample.name if sample else ""
    if not entry.valid:
        return SelfTestResult(entry.id, name, False,
                              message="; ".join(entry.problems) or "no valid manifest")
    if sample is None:
        return SelfTestResult(entry.id, "", False, message=f"no sample image in {samples}")
    start = time.perf_counter()
    try:
        engine.warm_up(entry.id)
    except ModelUnavailable as exc:
        return SelfTestResult(entry.id, name, False, message=exc.reason)
    load_ms = (time.perf_counter() - start) * 1000
    start = time.perf_counter()
    try:
        source = source_from_picture(sample)
    except SourceError as exc:
        return SelfTestResult(entry.id, name, False, load_ms=load_ms, message=exc.reason)
    result = engine.analyze(source, entry.id)
    run_ms = (time.perf_counter() - start) * 1000
    if not result.applicable or result.reason or not result.case_scores:
        return SelfTestResult(entry.id, name, False, load_ms=load_ms, run_ms=run_ms,
                              provider=result.provider,
                              message=result.reason or "the model gave no score")
    top = result.case_scores[0]
    return SelfTestResult(entry.id, name, True, top.label, float(top.probability), load_ms,
                          run_ms, result.provider)
