"""Shared test fixtures: where the shared corpus lives, and a private Tandem data folder."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # training/ is not an installed package (its helpers are torch-free)
    sys.path.insert(0, str(REPO))
SHARED = REPO.parent / "shared" / "datasets"
DICOM_CORPUS = SHARED / "dicom"


@pytest.fixture(autouse=True)
def _private_data_dir(tmp_path_factory: pytest.TempPathFactory,
                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Never let a test touch the real user's database or settings."""
    monkeypatch.setenv("TANDEM_DATA_DIR", str(tmp_path_factory.mktemp("tandem-data")))


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not DICOM_CORPUS.is_dir():
        pytest.fail(f"shared DICOM corpus missing at {DICOM_CORPUS} "
                    "(CI has ../shared beside the repo)")
    return DICOM_CORPUS


# -- tests of a bundled model (the test module names it in MODEL_ID) ----------------------------

def _model_id(request: pytest.FixtureRequest) -> str:
    model_id = getattr(request.module, "MODEL_ID", None)
    if not isinstance(model_id, str):
        pytest.fail(f"{request.module.__name__} uses a bundled-model fixture without MODEL_ID")
    return model_id


@pytest.fixture(scope="module")
def entry(request: pytest.FixtureRequest):  # -> inference.registry.ModelEntry
    """The bundled model ``MODEL_ID`` as the registry sees it (valid or with its problems)."""
    from inference.registry import ModelRegistry

    return ModelRegistry([REPO / "onnx_models"]).get(_model_id(request))


@pytest.fixture(scope="module")
def manifest(entry):  # -> inference.manifest.ModelManifest
    assert entry.manifest is not None, entry.problems
    return entry.manifest


@pytest.fixture(scope="module")
def engine():  # -> inference.engine.AnalysisEngine over the bundled models
    from inference.engine import AnalysisEngine
    from inference.registry import ModelRegistry

    return AnalysisEngine(ModelRegistry([REPO / "onnx_models"]))


@pytest.fixture(scope="module")
def session(entry):  # -> a bare onnxruntime.InferenceSession of the bundled model
    import onnxruntime as ort

    return ort.InferenceSession(str(entry.model_path), providers=["CPUExecutionProvider"])


@pytest.fixture(scope="module")
def tandem_port() -> int:
    """A free loopback port for Tandem's storage SCP in a module's PACS tests."""
    from orthanc import free_port

    return free_port()
