"""Model sources from DICOM (through imaging) and from PNG/JPEG (Pillow), bad files included."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from imaging.header import read_header
from imaging.loader import load_image
from inference.source import (
    SourceError,
    SourceImage,
    age_years,
    load_sources,
    source_from_picture,
    source_from_stack,
)

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"
DICOM = SHARED / "dicom"
CR_MONOCHROME1 = DICOM / "pydicom" / "dicomdirtests" / "77654033" / "CR1" / "6154"
RGB_2FRAMES = DICOM / "pydicom" / "SC_rgb_rle_2frame.dcm"
MIAS_JPEG = SHARED / "mammo" / "mini_mias" / "images" / "mdb002.jpg"


def only(items: list[SourceImage | SourceError]) -> SourceImage:
    assert len(items) == 1 and isinstance(items[0], SourceImage), items
    return items[0]


def test_monochrome1_dicom_keeps_modality_values_and_header_meta() -> None:
    source = only(list(load_sources([CR_MONOCHROME1])))
    stack = load_image(read_header(CR_MONOCHROME1))
    np.testing.assert_array_equal(source.values, stack.values[0])
    assert source.values.dtype == np.float32 and source.size == (16, 16)
    assert source.monochrome1 and source.windows == stack.windows
    meta = source.meta
    assert meta.is_dicom and meta.source == str(CR_MONOCHROME1)
    assert (meta.modality, meta.body_part, meta.view_position) == ("CR", "CSPINE", "LL")
    assert meta.photometric == "MONOCHROME1" and meta.image_type == ("DERIVED", "PRIMARY")
    assert meta.sop_instance_uid == stack.slices[0].sop_instance_uid and meta.frame == 0
    assert meta.age_years == 47.0  # Patient's Age 047Y, no birth date
    assert source.decode_ms > 0


def test_age_from_birth_and_study_dates() -> None:
    # RG3_J2KI: born 1979-04-08, study 2004-08-26, no Patient's Age.
    header = read_header(DICOM / "pydicom-data" / "RG3_J2KI.dcm")
    assert age_years(header) == pytest.approx(25.38, abs=0.01)


def test_colour_dicom_becomes_luminance_one_source_per_instance() -> None:
    source = only(list(load_sources([RGB_2FRAMES])))  # 2 frames: frame 0 only
    rgb = load_image(read_header(RGB_2FRAMES)).values[0].astype(np.float64)
    expected = rgb @ [0.299, 0.587, 0.114]
    np.testing.assert_allclose(source.values, expected, atol=1e-3)
    assert source.meta.photometric == "RGB" and not source.monochrome1
    (window,) = source.windows  # identity over 8 bits
    np.testing.assert_allclose(window.apply(np.array([0.0, 127.5, 255.0])), [0, 0.5, 1])


def test_source_from_stack_index() -> None:
    stack = load_image(read_header(CR_MONOCHROME1))
    assert source_from_stack(stack, 0).meta.sop_instance_uid == stack.header.sop_instance_uid
    with pytest.raises(IndexError):
        source_from_stack(stack, 1)


def test_pictures_8_and_16_bit_grey_and_colour(tmp_path: Path) -> None:
    jpeg = source_from_picture(MIAS_JPEG)
    reference = np.asarray(Image.open(MIAS_JPEG), dtype=np.float32)
    np.testing.assert_array_equal(jpeg.values, reference)
    assert not jpeg.meta.is_dicom and jpeg.meta.photometric == "MONOCHROME2"
    assert jpeg.meta.modality == "" and jpeg.decode_ms > 0 and not jpeg.monochrome1
    np.testing.assert_allclose(jpeg.windows[0].apply(np.array([0.0, 255.0])), [0, 1])

    sixteen = tmp_path / "sixteen.png"
    Image.fromarray((reference * 257).astype(np.uint16)).save(sixteen)
    png16 = source_from_picture(sixteen)
    np.testing.assert_array_equal(png16.values, reference * 257)
    np.testing.assert_allclose(png16.windows[0].apply(png16.values), reference / 255, atol=1e-6)

    colour = np.stack([reference, reference * 0.5, 255 - reference], axis=-1).astype(np.uint8)
    rgb_path = tmp_path / "colour.png"
    Image.fromarray(colour).save(rgb_path)
    rgb = source_from_picture(rgb_path)
    assert rgb.meta.photometric == "RGB"
    luma = np.asarray(Image.fromarray(colour).convert("L"), dtype=np.float32)
    assert np.abs(rgb.values - luma).max() <= 0.5 + 1e-3  # Pillow rounds to uint8
    grey_rgb = tmp_path / "grey_as_rgb.png"  # a grey image stored as RGB is still grey
    Image.fromarray(reference.astype(np.uint8)).convert("RGB").save(grey_rgb)
    as_rgb = source_from_picture(grey_rgb)
    assert as_rgb.meta.photometric == "MONOCHROME2"
    np.testing.assert_allclose(as_rgb.values, reference, atol=1e-3)


def test_bad_pictures_name_the_file(tmp_path: Path) -> None:
    truncated = tmp_path / "cut.jpg"
    truncated.write_bytes(MIAS_JPEG.read_bytes()[:2000])
    text = tmp_path / "notes.png"
    text.write_text("not a picture")
    for path in (truncated, text, tmp_path / "missing.png"):
        with pytest.raises(SourceError) as caught:
            source_from_picture(path)
        assert caught.value.path == path and caught.value.reason
        assert str(path) in str(caught.value)


def test_load_sources_goes_on_after_bad_files(tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    shutil.copy(CR_MONOCHROME1, folder / "cr.dcm")
    shutil.copy(MIAS_JPEG, folder / "mammo.jpg")
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    results = list(load_sources([DICOM / "bad", folder, tmp_path / "nowhere.dcm"]))
    errors = {Path(r.path).name: r.reason for r in results if isinstance(r, SourceError)}
    images = {Path(r.meta.source).name for r in results if isinstance(r, SourceImage)}
    assert {"cr.dcm", "mammo.jpg"} <= images
    assert "zero_bytes.dcm" in errors and "empty" in errors["zero_bytes.dcm"]
    assert "truncated_in_pixeldata.dcm" in errors  # header fine, pixels short: decode error
    assert "gigantic_declared_dimensions.dcm" in errors
    assert "broken.png" in errors and "nowhere.dcm" in errors
    assert all(reason for reason in errors.values())
