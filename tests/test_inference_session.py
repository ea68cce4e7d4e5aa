"""Sessions (hash check, provider fallback, quiet logs) and the applicability rules."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest
from model_factory import base_manifest, heatmap_model, score_output

from inference import session as session_module
from inference.applicability import check_applicability
from inference.manifest import ModelManifest, parse_manifest
from inference.reasons import Reason
from inference.registry import ModelEntry, ModelRegistry
from inference.session import CPU, ModelUnavailable, open_session
from inference.source import ImageMeta

CUDA = "CUDAExecutionProvider"


def _entry(root: Path, model_id: str = "test_heatmap") -> ModelEntry:
    entry = ModelRegistry([root]).get(model_id)
    assert entry.valid, entry.problems
    return entry


@pytest.fixture()
def models(tmp_path: Path) -> Path:
    heatmap_model(tmp_path / "test_heatmap", size=32, gain=8.0, offset=0.5)
    return tmp_path


def test_session_runs_the_graph_on_the_cpu(models: Path) -> None:
    session = open_session(_entry(models))
    assert session.provider == CPU and session.notice == ""
    image = np.random.default_rng(1).random((1, 1, 32, 32), dtype=np.float32)
    out = session.run({"image": image})
    assert set(out) == {"logits", "cam"}
    np.testing.assert_array_equal(out["cam"], image)  # the identity heatmap
    assert out["logits"].shape == (1, 1)
    assert out["logits"][0, 0] == pytest.approx(8.0 * (image.mean() - 0.5), abs=1e-5)
    options = session.session.get_session_options()
    assert options.intra_op_num_threads == max(1, (os.cpu_count() or 2) - 1)
    session.warm_up()  # zeros of the graph's input shape


def test_tampered_bytes_are_refused_before_a_session_exists(
        models: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    entry = _entry(models)  # the registry saw the right bytes ...
    data = bytearray(entry.model_path.read_bytes())
    position = data.index(np.float32(8.0).tobytes())  # ... then the gain is changed, same size
    data[position:position + 4] = np.float32(9.0).tobytes()
    entry.model_path.write_bytes(bytes(data))
    created: list[Any] = []
    monkeypatch.setattr(ort, "InferenceSession", lambda *a, **k: created.append(a))
    with pytest.raises(ModelUnavailable) as caught:
        open_session(entry)
    assert "sha256" in caught.value.reason and "does not match" in caught.value.reason
    assert caught.value.model_id == "test_heatmap"
    assert created == []


def test_invalid_entry_gives_its_problems(models: Path) -> None:
    entry = _entry(models)
    broken = ModelEntry(entry.id, entry.folder, entry.manifest, ("artifact.file: gone",))
    with pytest.raises(ModelUnavailable, match=r"artifact\.file: gone"):
        open_session(broken)


def test_cuda_dropped_by_ort_falls_back_quietly_with_a_notice(
        models: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]) -> None:
    # Pretend this ORT build has CUDA: ORT is then really asked for it and drops it.
    monkeypatch.setattr(session_module, "available_providers", lambda: [CUDA, CPU])
    capfd.readouterr()
    session = open_session(_entry(models))
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")
    assert session.provider == CPU
    assert session.notice.startswith("CUDA unavailable (")
    assert session.notice.endswith("— running on the CPU")


def test_cuda_failure_reason_is_shown_and_cpu_used(
        models: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = ort.InferenceSession
    tried: list[list[str]] = []

    def fake(data: bytes, options: ort.SessionOptions, providers: list[str]) -> Any:
        tried.append(list(providers))
        if CUDA in providers:
            raise RuntimeError("CUDA driver version is insufficient\nmore detail")
        return real(data, options, providers=providers)

    monkeypatch.setattr(session_module, "available_providers", lambda: [CUDA, CPU])
    monkeypatch.setattr(ort, "InferenceSession", fake)
    session = open_session(_entry(models))
    assert tried == [[CUDA, CPU], [CPU]]
    assert session.provider == CPU
    assert session.notice == ("CUDA unavailable (CUDA driver version is insufficient) "
                              "— running on the CPU")
    # A preferred list (the user chose CPU) overrides the manifest: CUDA is not tried.
    tried.clear()
    assert open_session(_entry(models), preferred=[CPU]).notice == ""
    assert tried == [[CPU]]


# ---------------------------------------------------------------------- applicability


def _manifest(**applicability: Any) -> ModelManifest:
    data = base_manifest("chest", 32, [score_output()], body_parts=["CHEST"],
                         view_positions=["PA", "AP"])
    data["artifact"]["sha256"] = "a" * 64
    data["applicability"].update(applicability)
    return parse_manifest(data)


CHEST_PA = ImageMeta(source="x.dcm", modality="CR", body_part="CHEST", view_position="PA",
                     photometric="MONOCHROME1", image_type=("ORIGINAL", "PRIMARY"),
                     age_years=54.0)


@pytest.mark.parametrize(("changes", "reason"), [
    ({}, None),
    ({"modality": "CT"}, "modality CT; this model is for CR, DX"),
    ({"modality": ""}, "modality missing; this model is for CR, DX"),
    ({"modality": "dx"}, None),
    ({"body_part": "THORAX"}, None),
    ({"body_part": "poumon "}, None),
    ({"body_part": "HAND"}, "body part HAND; this model is for CHEST"),
    ({"body_part": ""}, None),  # unknown, not a mismatch
    ({"view_position": "LL"}, "view LL; this model is for PA, AP"),
    ({"view_position": "ap"}, None),
    ({"photometric": "RGB"}, "photometric RGB; this model is for MONOCHROME1, MONOCHROME2"),
    ({"age_years": None}, None),
])
def test_applicability_rules(changes: dict[str, Any], reason: str | None) -> None:
    assert _text(check_applicability(_manifest(), replace(CHEST_PA, **changes))) == reason


def _text(reason: Reason | None) -> str | None:
    return None if reason is None else str(reason)


def test_image_type_and_age_rules() -> None:
    manifest = _manifest(image_types=["ORIGINAL", "PRIMARY"], min_age_years=18,
                         max_age_years=90)
    assert check_applicability(manifest, CHEST_PA) is None
    derived = replace(CHEST_PA, image_type=("DERIVED", "PRIMARY"))
    assert _text(check_applicability(manifest, derived)) == (
        "image type DERIVED\\PRIMARY; this model is for ORIGINAL images")
    secondary = replace(CHEST_PA, image_type=("ORIGINAL", "SECONDARY"))
    assert _text(check_applicability(manifest, secondary)) == (
        "image type ORIGINAL\\SECONDARY; this model is for PRIMARY images")
    assert _text(check_applicability(manifest, replace(CHEST_PA, age_years=8.0))) == (
        "patient age 8 years; this model is for ages 18 and above")
    assert _text(check_applicability(manifest, replace(CHEST_PA, age_years=97.5))) == (
        "patient age 97.5 years; this model is for ages up to 90")


def test_pictures_have_nothing_to_refuse() -> None:
    picture = ImageMeta(source="x.jpg", photometric="RGB", is_dicom=False)
    assert check_applicability(_manifest(image_types=["ORIGINAL"], min_age_years=18),
                               picture) is None
