"""The installer recipe (packaging/): the frozen entry point, and what the PyInstaller spec bundles.

The full build and the installed-package test are packaging/linux/build_deb.sh and test_deb.sh
(minutes, root); these checks are the fast part that can run with the suite.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any, ClassVar

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENTRY = ROOT / "packaging" / "tandem_entry.py"
CORPUS = ROOT.parent / "shared" / "datasets" / "dicom"


def test_entry_prints_the_version() -> None:
    proc = subprocess.run([sys.executable, str(ENTRY), "--version"], capture_output=True,
                          text=True, timeout=60, check=True)
    assert proc.stdout.strip() == f"tandem {metadata.version('tandem')}"


def test_entry_runs_the_decoder_worker_as_dash_m() -> None:
    """Frozen, imaging.isolation starts its workers as ``<tandem> -m imaging.isolation``:
    the entry must serve the worker protocol (pickled requests on stdin, replies on stdout)."""
    path = CORPUS / "pydicom-data" / "HTJ2K_08_RGB.dcm"  # HTJ2K: pylibjpeg-openjpeg only
    request = ("imaging.decode", "decode_here", (path, None))
    proc = subprocess.run([sys.executable, str(ENTRY), "-m", "imaging.isolation"],
                          input=pickle.dumps(request, protocol=5), capture_output=True,
                          timeout=60, check=True)
    status, pixels = pickle.loads(proc.stdout)
    assert status == "ok"
    assert pixels.decoder == "pydicom"
    assert pixels.array.shape == (1, 480, 640, 3)


class _Recorder:
    """Stands in for PyInstaller's build targets: keeps the arguments the spec passes."""

    calls: ClassVar[dict[str, dict[str, Any]]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.binaries: list[tuple[str, str, str]] = []
        self.datas: list[tuple[str, str, str]] = [
            (dest, src, "DATA") for src, dest in kwargs.get("datas", [])]
        self.pure: list[Any] = []
        self.scripts: list[Any] = []
        _Recorder.calls[type(self).__name__] = {"args": args, **kwargs}


def test_spec_bundles_models_samples_and_translations_where_the_code_looks() -> None:
    pytest.importorskip("PyInstaller")
    recorded = {name: type(name, (_Recorder,), {}) for name in ("Analysis", "PYZ", "EXE",
                                                                "COLLECT")}
    spec = ROOT / "packaging" / "tandem.spec"
    namespace: dict[str, Any] = {"SPECPATH": str(spec.parent), "__file__": str(spec), **recorded}
    exec(compile(spec.read_text(encoding="utf-8"), str(spec), "exec"), namespace)
    analysis = _Recorder.calls["Analysis"]
    bundled = {(Path(src).resolve(), Path(dest).as_posix()) for src, dest in analysis["datas"]}

    expected = [p for folder in ("onnx_models", "resources") for p in (ROOT / folder).rglob("*")
                if p.is_file() and "__pycache__" not in p.parts]
    expected += list((ROOT / "app" / "i18n").glob("*.qm"))
    missing = [p for p in expected
               if (p.resolve(), p.parent.relative_to(ROOT).as_posix()) not in bundled]
    assert not missing
    for model in ("cxr_normality", "fracture_boxes", "mammo_lesions"):
        assert (ROOT / "onnx_models" / model / "model.onnx").resolve() in {s for s, _ in bundled}
    # importlib.metadata inside the bundle: --version, pylibjpeg's entry points, tandem doctor.
    # (an editable install's metadata is tandem.egg-info when the repository is on sys.path)
    dist_infos = {dest for _, dest in bundled if dest.endswith((".dist-info", ".egg-info"))}
    for name in ("tandem", "pylibjpeg_openjpeg", "pylibjpeg_rle", "vtk", "pyside6_essentials"):
        assert any(d.lower().startswith(name) for d in dist_infos), name
    assert "imaging.isolation" in analysis["hiddenimports"]
