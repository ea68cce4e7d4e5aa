"""``tandem models``: every installed model, whether it can run here, and why not.

Each model's bytes are hashed again against its manifest (what a session would check),
and the execution providers listed are those both the manifest allows and this ONNX
Runtime build has.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.cli import print_json
from inference.manifest import RESEARCH_STATUS
from inference.ood import site_calibration_dir, site_calibration_status
from inference.registry import ModelEntry, ModelRegistry, default_roots, sha256_of
from inference.session import available_providers


def model_registry(models_dir: Path | None) -> ModelRegistry:
    """The default registry, with ``models_dir`` (if given) searched before its roots."""
    extra = [] if models_dir is None else [models_dir]
    return ModelRegistry([*extra, *default_roots()])


def run_models(*, as_json: bool, models_dir: Path | None = None) -> int:
    registry = model_registry(models_dir)
    have = available_providers()
    models = [_model_entry(entry, have) for entry in registry.entries()]
    result = {"status": RESEARCH_STATUS, "providers_available": have,
              "roots": [str(r) for r in registry.roots], "models": models}
    if as_json:
        print_json(result)
    else:
        _print_text(result)
    return 0


def _model_entry(entry: ModelEntry, have: list[str]) -> dict[str, Any]:
    manifest = entry.manifest
    sha_ok: bool | None = None
    if manifest is not None:
        try:
            sha_ok = sha256_of(entry.model_path) == manifest.artifact.sha256
        except OSError:
            sha_ok = False
    return {
        "id": entry.id,
        "name": manifest.name if manifest else None,
        "version": manifest.version if manifest else None,
        "folder": str(entry.folder),
        "valid": entry.valid,
        "problems": list(entry.problems),
        "sha256": manifest.artifact.sha256 if manifest else None,
        "sha256_ok": sha_ok,
        "providers": [p for p in manifest.execution_providers if p in have] if manifest else [],
        "status": manifest.status if manifest else RESEARCH_STATUS,
        "site_calibration": site_calibration_status(
            site_calibration_dir(), entry.id, manifest.artifact.sha256 if manifest else None),
    }


def _print_text(result: dict[str, Any]) -> None:
    print(f"Status: {result['status']}")
    print(f"ONNX Runtime providers: {', '.join(result['providers_available'])}")
    if not result["models"]:
        print("No models found in: " + ", ".join(result["roots"]))
    for m in result["models"]:
        if m["valid"]:
            sha = "sha256 ok" if m["sha256_ok"] else "sha256 MISMATCH"
            print(f"OK     {m['id']} {m['version']}  {m['name']}  "
                  f"[{', '.join(m['providers'])}]  {sha}")
            site = m["site_calibration"]
            if site and site["problem"]:
                print(f"       ! site calibration {site['file']}: {site['problem']}")
            elif site:
                print(f"       site calibration: {site['films']} films, {site['created']}")
        else:
            version = f" {m['version']}" if m["version"] else ""
            print(f"ERROR  {m['id']}{version}: disabled")
            for problem in m["problems"]:
                print(f"       ! {problem}")
