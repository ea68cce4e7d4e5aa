"""Pixel decoding over the whole shared corpus, and the isolation of crash-prone decoders."""

from __future__ import annotations

import csv
import threading
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk

from imaging import errors
from imaging.decode import DecodedPixels, decode_frames, decode_here
from imaging.errors import DicomFileError
from imaging.header import read_header
from imaging.isolation import DecoderPool

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "dicom"
ROWS = list(csv.DictReader((CORPUS / "index.csv").open(encoding="utf-8")))
PIXEL_ERRORS = {errors.IMAGE_TOO_LARGE, errors.PIXEL_DATA_TRUNCATED, errors.CORRUPT_PIXEL_DATA,
                errors.UNSUPPORTED_TRANSFER_SYNTAX}
# Expected warnings that come from the pixel data (others belong to the header or the series).
DECODE_WARNINGS = {"nonconformant_jpeg", "nonconformant_j2k_codestream", "excess_pixel_padding",
                   "pixel_representation_mismatch", "element_length_exceeds_file"}


@pytest.fixture(scope="module")
def pool() -> Iterator[DecoderPool]:
    decoders = DecoderPool(workers=2, timeout=30)
    yield decoders
    decoders.close()


@pytest.mark.timeout(30)
@pytest.mark.parametrize("row", ROWS, ids=[r["path"] for r in ROWS])
def test_every_corpus_file_decodes_or_is_refused_for_its_reason(row: dict[str, str]) -> None:
    path = CORPUS / row["path"]
    status, _, kind = row["expected"].partition(":")
    try:
        header = read_header(path)
    except DicomFileError as exc:  # not an image file at all: the header reader says why
        assert status == "error" and exc.kind == kind
        with pytest.raises(DicomFileError):
            decode_frames(path)
        return
    if not header.is_image:  # DICOMDIR, SR, RT plan, image-less stubs
        assert status != "error" or kind == errors.NO_PIXEL_DATA
        if status == "warning":
            assert kind in {w.kind for w in header.warnings} or header.is_dicomdir
        with pytest.raises(DicomFileError) as refused:
            decode_frames(path)
        assert refused.value.path == path
        return
    if status == "error" and kind in PIXEL_ERRORS:
        with pytest.raises(DicomFileError) as refused:
            decode_frames(path)
        assert refused.value.kind == kind, refused.value
        assert refused.value.path == path and refused.value.message
        return
    decoded = decode_frames(path)
    frames, rows, cols = int(row["frames"]), int(row["rows"]), int(row["cols"])
    samples = header.samples_per_pixel
    expected_shape = (frames, rows, cols) + ((samples,) if samples > 1 else ())
    assert decoded.array.shape == expected_shape
    assert decoded.array.dtype.isnative
    if status == "warning" and kind in DECODE_WARNINGS:
        assert kind in {w.kind for w in decoded.warnings} | {w.kind for w in header.warnings}
    if status == "ok":
        assert not {w.kind for w in decoded.warnings} & DECODE_WARNINGS - {"excess_pixel_padding"}


def test_mr_small_variants_decode_to_identical_arrays() -> None:
    reference = decode_frames(CORPUS / "pydicom" / "MR_small.dcm").array
    assert reference.shape == (1, 64, 64) and reference.dtype == np.int16
    for name in ("MR_small_RLE.dcm", "MR_small_jp2klossless.dcm", "MR_small_jpeg_ls_lossless.dcm",
                 "MR_small_bigendian.dcm", "MR_small_implicit.dcm", "MR_small_padded.dcm"):
        np.testing.assert_array_equal(decode_frames(CORPUS / "pydicom" / name).array, reference,
                                      err_msg=name)


def test_ct_small_stored_values_match_simpleitk() -> None:
    path = CORPUS / "pydicom" / "CT_small.dcm"
    decoded = decode_frames(path)
    assert decoded.array[0, 0, 0] == 175 and decoded.array[0, 64, 64] == 1928
    # SimpleITK returns modality values (rescale intercept -1024): same pixels, shifted.
    hu = sitk.GetArrayFromImage(sitk.ReadImage(str(path)))
    np.testing.assert_array_equal(decoded.array.astype(np.int32) - 1024, hu)


@pytest.mark.parametrize("name", ["wg04/MR4_JPLY", "pydicom/JPEG-lossy.dcm"])
def test_nonconformant_jpeg_decodes_through_gdcm_with_a_warning(name: str) -> None:
    decoded = decode_frames(CORPUS / name)
    assert decoded.decoder == "gdcm"
    assert "nonconformant_jpeg" in {w.kind for w in decoded.warnings}
    assert 0 < decoded.array.max() <= 4095  # 12-bit data


def test_conformant_12bit_jpeg_has_no_warning_and_matches_the_lossy_copy() -> None:
    conformant = decode_frames(CORPUS / "pydicom" / "JPGExtended.dcm")
    lossy = decode_frames(CORPUS / "pydicom" / "JPEG-lossy.dcm")
    assert conformant.warnings == ()
    np.testing.assert_array_equal(conformant.array, lossy.array)  # same codestream, fixed SOS


def test_colour_is_rgb_and_palette_stays_indices() -> None:
    ybr = decode_frames(CORPUS / "pydicom" / "SC_rgb_jpeg_dcmtk.dcm")  # YBR_FULL JPEG
    rgb = decode_frames(CORPUS / "pydicom" / "SC_rgb_rle.dcm")  # lossless reference
    assert ybr.photometric == "RGB"
    np.testing.assert_allclose(ybr.array, rgb.array, atol=6)
    assert rgb.array[0, 5, 50].tolist() == [255, 0, 0]
    palette = decode_frames(CORPUS / "pydicom" / "examples_palette.dcm")
    assert palette.photometric == "PALETTE COLOR" and palette.array.ndim == 3


@pytest.mark.parametrize("name", ["pydicom/SC_rgb_jpeg_dcmtk.dcm",
                                  "pydicom-data/SC_ybr_full_uncompressed.dcm",
                                  "pydicom/J2K_pixelrep_mismatch.dcm",
                                  "pydicom-data/RG3_J2KI.dcm", "pydicom/liver_1frame.dcm",
                                  "pydicom-data/emri_small_RLE.dcm"])
def test_fallback_decoders_agree_with_pydicom(name: str) -> None:
    reference = decode_here(CORPUS / name, backend="pydicom")
    for backend in ("gdcm", "simpleitk"):
        try:
            other = decode_here(CORPUS / name, backend=backend)
        except DicomFileError:
            continue  # that backend cannot read it; agreement only where both decode
        assert other.decoder == backend and other.photometric == reference.photometric
        np.testing.assert_allclose(other.array, reference.array, atol=2, err_msg=backend)


def test_float_and_single_bit_pixels() -> None:
    floats = decode_frames(CORPUS / "pydicom-data" / "parametric_map_float.dcm").array
    assert floats.dtype == np.float32 and np.isfinite(floats).all() and floats.std() > 0
    seg = decode_frames(CORPUS / "pydicom" / "liver_1frame.dcm").array
    assert set(np.unique(seg).tolist()) == {0, 1}


@pytest.mark.parametrize("name", ["emri_small.dcm", "emri_small_RLE.dcm",
                                  "emri_small_jpeg_ls_lossless.dcm"])
def test_selected_frames_only(name: str) -> None:
    path = CORPUS / "pydicom-data" / name
    every = decode_frames(path).array
    some = decode_frames(path, frames=[7, 2])
    np.testing.assert_array_equal(some.array, every[[7, 2]])
    with pytest.raises(IndexError):
        decode_frames(path, frames=[10])


def test_size_is_checked_before_allocating() -> None:
    tracemalloc.start()
    try:
        with pytest.raises(DicomFileError) as huge:
            decode_frames(CORPUS / "bad" / "gigantic_declared_dimensions.dcm", isolated=False)
        decoded = decode_frames(CORPUS / "bad" / "huge_pixeldata_length.dcm", isolated=False)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert huge.value.kind == errors.IMAGE_TOO_LARGE and "GiB" in huge.value.message
    assert decoded.array.shape == (1, 128, 128)
    assert peak < 20 * 2**20  # the bogus 4 GiB Pixel Data length is never allocated


def test_deflated_image_frames_name_the_transfer_syntax() -> None:
    with pytest.raises(DicomFileError) as refused:
        decode_frames(CORPUS / "pydicom-data" / "liver_deflate.dcm")
    assert refused.value.kind == errors.UNSUPPORTED_TRANSFER_SYNTAX
    assert "1.2.840.10008.1.2.8.1" in refused.value.message


def test_crashed_and_hung_workers_are_reported_and_replaced(pool: DecoderPool) -> None:
    with pytest.raises(DicomFileError) as crashed:
        pool.call("os", "abort")
    assert crashed.value.kind == errors.DECODER_CRASHED
    with pytest.raises(DicomFileError) as hung:
        pool.call("time", "sleep", 30, timeout=1)
    assert hung.value.kind == errors.DECODER_TIMEOUT
    decoded = pool.decode(CORPUS / "pydicom" / "JPEG2000.dcm")
    assert decoded.array.shape == (1, 1024, 256)


def test_decode_many_from_a_thread_reports_every_file(pool: DecoderPool) -> None:
    names = ["pydicom/MR_small_RLE.dcm", "pydicom/MR_truncated.dcm", "wg04/CT2_JLSN",
             "pydicom/examples_ybr_color.dcm", "pydicom/JPEG2000-embedded-sequence-delimiter.dcm"]
    paths = [CORPUS / n for n in names]
    seen: list[tuple[int, int]] = []
    results: dict[Path, DecodedPixels | DicomFileError] = {}

    def run() -> None:  # the GUI calls it from a QThread: no main-thread assumption
        for path, result in pool.decode_many(paths, progress=lambda d, t: seen.append((d, t))):
            results[path] = result

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    assert set(results) == set(paths) and seen[-1] == (5, 5)
    assert isinstance(results[paths[0]], DecodedPixels)
    assert isinstance(results[paths[1]], DicomFileError)
    assert results[paths[1]].kind == errors.PIXEL_DATA_TRUNCATED  # type: ignore[union-attr]
    assert results[paths[4]].kind == errors.CORRUPT_PIXEL_DATA  # type: ignore[union-attr]
    cancelled = list(pool.decode_many(paths, cancel=lambda: True))
    assert cancelled == []
