"""Site calibration of a model's input check (``tandem models calibrate``, inference.ood).

A "new site" is simulated with real FracAtlas radiographs re-processed the way another
X-ray system would (strong unsharp masking, another gamma, a white collimation frame): the
fracture model's training check refuses such films, as it refuses the only real external
limb CR at hand (shared/datasets/dicom/pydicom-data/RG3_J2KI.dcm).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, SHARED
from PIL import Image, ImageFilter
from radiographs import dicom_from_picture

from app.cli import main as tandem
from inference.cache import ResultCache
from inference.engine import AnalysisEngine
from inference.ood import SiteCalibration, site_calibration_dir, site_calibration_path
from inference.registry import ModelRegistry
from inference.source import SourceImage, load_sources, source_from_picture

MODEL_ID = "fracture_boxes"
FRACATLAS = sorted((SHARED / "fracture" / "fracatlas" / "images").glob("*.jpg"))
CHEST = sorted((SHARED / "cxr" / "tb_normal" / "images").glob("*.jpg"))


def other_site(picture: Path, out: Path) -> Path:
    """``picture`` as another site's processing would show it."""
    grey = Image.open(picture).convert("L").filter(
        ImageFilter.UnsharpMask(radius=12, percent=180, threshold=0))
    values = (np.asarray(grey, dtype=np.float32) / 255) ** 0.6
    frame = int(0.06 * min(values.shape))
    values[:frame], values[-frame:], values[:, :frame], values[:, -frame:] = 1, 1, 1, 1
    path = out / picture.name
    Image.fromarray((values * 255).astype(np.uint8)).save(path, quality=90)
    return path


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """60 calibration films and 20 other films (disjoint) of the simulated site."""
    root = tmp_path_factory.mktemp("site")
    folders = {name: root / name for name in ("calibration", "check")}
    for folder in folders.values():
        folder.mkdir()
    chosen = FRACATLAS[::20]
    for picture in chosen[:60]:
        other_site(picture, folders["calibration"])
    for picture in chosen[60:80]:
        other_site(picture, folders["check"])
    return folders


def site_engine() -> AnalysisEngine:
    return AnalysisEngine(ModelRegistry([REPO / "onnx_models"]),
                          site_calibrations=site_calibration_dir())


def verdicts(engine: AnalysisEngine, folder: Path) -> list[tuple[bool, bool]]:
    """(applicable, site_calibrated) of the fracture model on each picture of ``folder``."""
    results = [engine.analyze(source_from_picture(p), MODEL_ID)
               for p in sorted(folder.glob("*.jpg"))]
    return [(r.applicable, r.site_calibrated) for r in results]


def calibrate(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict]:
    code = tandem(["models", "calibrate", MODEL_ID, *args, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_calibration_lets_in_the_sites_films_and_still_refuses_chest_films(
        site: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = verdicts(site_engine(), site["check"])
    assert sum(applicable for applicable, _ in before) <= 2, before  # the site shift is real

    code, report = calibrate(str(site["calibration"]), capsys=capsys)
    assert code == 0, report
    assert report["used"] == 60 and report["already_accepted"] <= 6
    assert report["median_training_distance"] > report["training_threshold"]
    assert site_calibration_path(site_calibration_dir(), MODEL_ID).is_file()

    engine = site_engine()
    after = verdicts(engine, site["check"])
    assert sum(applicable for applicable, _ in after) >= 18, after
    assert all(calibrated for applicable, calibrated in after if applicable and
               (applicable, False) not in before)
    # The calibration lets in no chest film (1 in 200 passes the training check itself).
    chest = [engine.analyze(source_from_picture(p), MODEL_ID) for p in CHEST[::10][:40]]
    assert not any(r.site_calibrated for r in chest)
    assert sum("unlike the training data" in r.reason for r in chest) >= 38

    # FracAtlas films as they are still pass the training check, not the site's.
    plain = [engine.analyze(source_from_picture(p), MODEL_ID) for p in FRACATLAS[1::40][:10]]
    assert sum(r.applicable and not r.site_calibrated for r in plain) >= 9

    code = tandem(["analyze", "--model", MODEL_ID, str(site["check"])])
    assert code == 0
    assert "accepted by this site's calibration" in capsys.readouterr().out

    assert tandem(["models", "--json"]) == 0
    listed = {m["id"]: m for m in json.loads(capsys.readouterr().out)["models"]}
    assert listed[MODEL_ID]["site_calibration"]["films"] == 60
    assert listed[MODEL_ID]["site_calibration"]["problem"] == ""
    assert listed["cxr_normality"]["site_calibration"] is None

    assert tandem(["models", "calibrate", MODEL_ID, "--remove"]) == 0
    assert not site_calibration_path(site_calibration_dir(), MODEL_ID).exists()
    assert verdicts(site_engine(), site["check"]) == before


def test_chest_films_are_skipped_and_too_few_films_refused(
        site: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, report = calibrate(*[str(p) for p in CHEST[:60:2]], str(site["check"]),
                             capsys=capsys)
    assert code == 1
    assert report["used"] == 20
    chest_skips = [s for s in report["skipped"] if "tb_normal" in s["file"]]
    assert len(chest_skips) == 30
    assert all("cxr_normality" in s["reason"] for s in chest_skips)
    assert "needs at least 50" in report["refused"]
    assert not site_calibration_path(site_calibration_dir(), MODEL_ID).exists()


def test_unreadable_files_and_other_body_parts_are_listed_and_skipped(
        site: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a picture")
    chest_dicom = dicom_from_picture(CHEST[0], tmp_path / "chest.dcm", body_part="CHEST")
    code, report = calibrate(str(site["calibration"]), str(broken), str(chest_dicom),
                             capsys=capsys)
    assert code == 0
    reasons = {Path(s["file"]).name: s["reason"] for s in report["skipped"]}
    assert set(reasons) == {"broken.jpg", "chest.dcm"}
    assert "body part CHEST" in reasons["chest.dcm"]


def test_a_calibration_of_another_model_version_or_unreadable_is_ignored(
        site: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert calibrate(str(site["calibration"]), capsys=capsys)[0] == 0
    path = site_calibration_path(site_calibration_dir(), MODEL_ID)
    current = SiteCalibration.from_npz(path)
    stale = SiteCalibration(MODEL_ID, "0" * 64, current.mean, current.inv_cov,
                            current.threshold, current.n_images, current.created)
    path.write_bytes(stale.to_npz())
    assert not any(applicable for applicable, _ in verdicts(site_engine(), site["check"])[:5])
    assert tandem(["models", "--json"]) == 0
    listed = {m["id"]: m for m in json.loads(capsys.readouterr().out)["models"]}
    assert "another version" in listed[MODEL_ID]["site_calibration"]["problem"]
    tandem(["doctor", "--json"])
    problems = json.loads(capsys.readouterr().out)["problems"]
    assert any(p.startswith(f"model {MODEL_ID}: site calibration") and "another version" in p
               for p in problems), problems

    path.write_bytes(b"garbage")
    results = [site_engine().analyze(source_from_picture(p), MODEL_ID)
               for p in sorted(site["check"].glob("*.jpg"))[:3]]
    assert all(not r.applicable and "unlike the training data" in r.reason for r in results)


def test_cached_refusals_do_not_outlive_a_new_calibration(
        site: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A DICOM refused as unlike the training data is analysed once the site is calibrated,
    although the first (refused) run went through the result cache."""
    film = next(iter(sorted(site["check"].glob("*.jpg"))))
    dicom = dicom_from_picture(film, tmp_path / "film.dcm", body_part="HAND")
    source = next(iter(load_sources([dicom])))
    assert isinstance(source, SourceImage), source
    cache = ResultCache(tmp_path / "cache")
    registry = ModelRegistry([REPO / "onnx_models"])
    engine = AnalysisEngine(registry, cache=cache, site_calibrations=site_calibration_dir())
    assert not engine.analyze(source, MODEL_ID).applicable
    assert calibrate(str(site["calibration"]), capsys=capsys)[0] == 0
    engine = AnalysisEngine(registry, cache=cache, site_calibrations=site_calibration_dir())
    result = engine.analyze(source, MODEL_ID)
    assert result.applicable and result.site_calibrated and result.case_scores
