"""The pixel pipeline (modality LUT, VOI, presentation, palette) and overlays on real files.

Expected values are computed independently: straight from the header elements
with numpy, or with pydicom's own ``pydicom.pixels`` implementation.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.pixels import apply_color_lut, apply_voi, apply_windowing
from pydicom.sequence import Sequence
from pydicom.uid import ImplicitVRLittleEndian

from imaging.overlays import read_overlays
from imaging.pipeline import (
    LINEAR,
    LINEAR_EXACT,
    SIGMOID,
    DisplayParameters,
    ModalityLut,
    VoiWindow,
    apply_modality_lut,
    default_window,
    display_parameters,
    palette_to_rgb,
    presets_for_modality,
)

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "dicom"


def _read(rel: str, pixels: bool = True) -> Dataset:
    ds = pydicom.dcmread(CORPUS / rel, force=True, stop_before_pixels=not pixels)
    if "TransferSyntaxUID" not in ds.file_meta:  # ACR-NEMA style file: implicit VR LE
        ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian
    return ds


def test_ct_small_gives_hounsfield_units() -> None:
    ds = _read("pydicom/CT_small.dcm")
    stored = ds.pixel_array
    params = display_parameters(ds)
    hu = apply_modality_lut(stored, params.modality_lut)
    assert hu.dtype == np.float32
    assert (float(ds.RescaleSlope), float(ds.RescaleIntercept)) == (1.0, -1024.0)
    assert stored[64, 64] == 1928
    assert hu[64, 64] == 1928 * 1.0 - 1024.0 == 904.0
    np.testing.assert_array_equal(hu, stored * float(ds.RescaleSlope) + float(ds.RescaleIntercept))


def test_modality_lut_sequence_is_used_not_rescale() -> None:
    ds = _read("pydicom-data/mlut_18.dcm")
    stored = ds.pixel_array
    item = ds.ModalityLUTSequence[0]
    entries, first, bits = (int(v) for v in item.LUTDescriptor)
    assert (entries, first, bits) == (4096, -2048, 16)
    table = np.asarray(item.LUTData, dtype=np.float64)
    expected = table[np.clip(stored.astype(np.int64) - first, 0, entries - 1)]

    params = display_parameters(ds)
    assert params.modality_lut.lut is not None
    values = apply_modality_lut(stored, params.modality_lut)
    np.testing.assert_array_equal(values, expected)
    np.testing.assert_array_equal(values, pydicom.pixels.apply_modality_lut(stored, ds))
    # Not the identity a missing rescale would give: the LUT maps -2048..2047 to 0..65535.
    assert not np.array_equal(values, stored)
    assert values[256, 256] == table[stored[256, 256] + 2048]
    assert values.min() >= 0 and values.max() <= 65535


def test_voi_lut_sequence_window() -> None:
    ds = _read("pydicom-data/vlut_04.dcm")
    stored = ds.pixel_array
    params = display_parameters(ds)
    assert len(params.windows) == 1
    window = params.windows[0]
    assert window.is_table
    table = np.asarray(ds.VOILUTSequence[0].LUTData, dtype=np.float64)
    display = window.apply(apply_modality_lut(stored, params.modality_lut))
    assert display.dtype == np.float32
    np.testing.assert_allclose(display, table[stored] / 65535.0, atol=1e-6)
    np.testing.assert_allclose(display, apply_voi(stored, ds) / 65535.0, atol=1e-6)
    # Centre/width approximation of the table's ramp, so W/L dragging starts from it.
    assert (window.center, window.width) == (127.5, 255.0)
    dragged = window.with_center_width(100.0, 50.0)
    assert not dragged.is_table and dragged.function == LINEAR


def test_voi_lut_table_with_offset_and_plateaus() -> None:
    table = np.concatenate([np.zeros(10), np.linspace(0, 4095, 21), np.full(10, 4095)])
    window = VoiWindow.from_table(table.astype(np.float32), first_mapped=-20, bits=12)
    values = np.array([-100.0, -20.0, 0.0, 10.0, 500.0], dtype=np.float32)
    out = window.apply(values)
    np.testing.assert_allclose(out, [0.0, 0.0, 0.5, 1.0, 1.0], atol=1e-6)
    assert window.center == 0.0 and window.width == 20.0


def _windowing_ds(center: float, width: float, function: str) -> Dataset:
    ds = Dataset()
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsStored, ds.PixelRepresentation = 16, 0
    ds.WindowCenter, ds.WindowWidth, ds.VOILUTFunction = center, width, function
    return ds


@pytest.mark.parametrize("function", [LINEAR, LINEAR_EXACT, SIGMOID])
def test_window_functions_match_the_standard(function: str) -> None:
    values = np.linspace(-400, 600, 2001).astype(np.float32)
    window = VoiWindow(40.0, 400.0, function)
    ours = window.apply(values)
    assert ours.dtype == np.float32 and ours.min() >= 0 and ours.max() <= 1
    reference = apply_windowing(values.astype(np.float64), _windowing_ds(40, 400, function))
    np.testing.assert_allclose(ours, reference / 65535.0, atol=1e-5)


def test_sigmoid_math() -> None:
    window = VoiWindow(100.0, 50.0, SIGMOID)
    out = window.apply(np.array([100.0, 125.0, 75.0, 1e6, -1e6]))
    expected = [0.5, 1 / (1 + math.exp(-2)), 1 / (1 + math.exp(2)), 1.0, 0.0]
    np.testing.assert_allclose(out, expected, atol=1e-6)


def test_linear_window_edges() -> None:
    # C.11.2.1.2.1 with c=40, w=400: 0 at or below -160, 1 above 239.
    out = VoiWindow(40.0, 400.0).apply(np.array([-160.0, -159.5, 238.0, 239.5]))
    assert out[0] == 0.0 and 0 < out[1] < 0.01 and 0.99 < out[2] < 1 and out[3] == 1.0


def test_multiple_windows_with_names_and_function() -> None:
    ds = _read("pydicom/CT_small.dcm", pixels=False)
    ds.WindowCenter, ds.WindowWidth = [40, -600], [400, 1500]
    ds.WindowCenterWidthExplanation = ["MEDIASTINUM", "LUNG"]
    ds.VOILUTFunction = "SIGMOID"
    windows = display_parameters(ds).windows
    assert [(w.center, w.width, w.name, w.function) for w in windows] == [
        (40.0, 400.0, "MEDIASTINUM", SIGMOID), (-600.0, 1500.0, "LUNG", SIGMOID)]


def test_monochrome1_and_presentation_shape_invert() -> None:
    assert display_parameters(_read("pydicom-data/RG3_J2KI.dcm", pixels=False)).invert
    cr = display_parameters(_read("pydicom/dicomdirtests/77654033/CR1/6154", pixels=False))
    assert cr.invert and cr.photometric == "MONOCHROME1"
    mg = _read("mammo/MG_Explicit_Little.dcm", pixels=False)
    assert mg.PresentationLUTShape == "IDENTITY"
    assert not display_parameters(mg).invert
    mg.PresentationLUTShape = "INVERSE"
    assert display_parameters(mg).invert


def test_mammography_uses_the_file_window() -> None:
    ds = _read("mammo/MG_Explicit_Little.dcm")
    params = display_parameters(ds)
    values = apply_modality_lut(ds.pixel_array, params.modality_lut)
    window = default_window(values, params)
    assert (window.center, window.width) == (127.5, 256.0)
    presets = presets_for_modality("MG", window)
    assert [p.name for p in presets] == ["default"] and presets[0].center == 127.5


def test_auto_window_ignores_padding() -> None:
    rng = np.random.default_rng(0)
    values = rng.normal(40, 10, size=(64, 64)).astype(np.float32)
    values[:, :32] = -3024.0  # padding frame, stored -2000 with intercept -1024
    params = DisplayParameters(modality_lut=ModalityLut(intercept=-1024.0),
                               pixel_padding=(-2000.0, -2000.0))
    window = default_window(values, params)
    assert window.name == "auto"
    assert 30 < window.center < 50 and 40 < window.width < 80
    unpadded = default_window(values, DisplayParameters())
    assert unpadded.width > 3000


def test_ct_presets() -> None:
    presets = {p.name: (p.center, p.width) for p in presets_for_modality("CT")}
    assert presets == {"lung": (-600.0, 1500.0), "mediastinum": (40.0, 400.0),
                       "bone": (400.0, 1800.0), "brain": (40.0, 80.0)}
    assert presets_for_modality("CR") == []


def test_enhanced_per_frame_rescale() -> None:
    ds = _read("pydicom-data/emri_small.dcm", pixels=False)
    ds.SharedFunctionalGroupsSequence = Sequence([Dataset()])
    groups = []
    for i in range(3):
        transform = Dataset()
        transform.RescaleSlope, transform.RescaleIntercept, transform.RescaleType = 2, i, "US"
        group = Dataset()
        group.PixelValueTransformationSequence = Sequence([transform])
        groups.append(group)
    ds.PerFrameFunctionalGroupsSequence = Sequence(groups)
    params = display_parameters(ds)
    assert [params.modality_lut_for(i).intercept for i in range(3)] == [0.0, 1.0, 2.0]
    stored = np.array([[10]], dtype=np.uint16)
    assert apply_modality_lut(stored, params.modality_lut_for(2))[0, 0] == 22.0


@pytest.mark.parametrize("rel", ["pydicom/examples_palette.dcm",
                                 "pydicom-data/OT-PAL-8-face.dcm"])
def test_palette_becomes_rgb(rel: str) -> None:
    ds = _read(rel)
    params = display_parameters(ds)
    rgb = palette_to_rgb(ds.pixel_array, params)
    assert rgb.dtype == np.uint8 and rgb.shape == (*ds.pixel_array.shape, 3)
    reference = apply_color_lut(ds.pixel_array, ds) >> 8  # 16-bit entries, high byte
    np.testing.assert_array_equal(rgb, reference.astype(np.uint8))
    # Really colour: a good share of pixels are not grey, and the range is used.
    chroma = rgb.max(axis=-1).astype(int) - rgb.min(axis=-1)
    assert (chroma > 30).mean() > 0.01
    assert rgb.max() >= 200


def test_overlay_plane_aligned_to_image() -> None:
    ds = _read("pydicom/examples_overlay.dcm")
    planes = read_overlays(ds)
    assert len(planes) == 1
    plane = planes[0]
    assert plane.bitmap.shape == (ds.Rows, ds.Columns) == (300, 484)
    assert plane.bitmap.dtype == bool and plane.type == "G"
    assert plane.description == "Siemens MedCom Object Graphics"
    bits = np.unpackbits(np.frombuffer(ds[0x6000, 0x3000].value, np.uint8), bitorder="little")
    expected = bits[: 300 * 484].reshape(300, 484).astype(bool)
    np.testing.assert_array_equal(plane.bitmap, expected)
    assert plane.bitmap.sum() == 222
    assert plane.bitmap[36, 420] and not plane.bitmap[0, 0] and not plane.bitmap[150, 10]
    assert plane.bitmap_for_frame(0) is not None and plane.bitmap_for_frame(1) is None


def test_overlay_origin_is_one_based_and_cropped() -> None:
    ds = _read("pydicom/examples_overlay.dcm")
    reference = read_overlays(ds)[0].bitmap
    ds[0x6000, 0x0050].value = [11, 21]  # 10 rows down, 20 columns right
    shifted = read_overlays(ds)[0].bitmap
    assert shifted.shape == reference.shape
    np.testing.assert_array_equal(shifted[10:, 20:], reference[:-10, :-20])
    assert not shifted[:10].any() and not shifted[:, :20].any()


def test_broken_lut_is_a_warning_not_a_crash() -> None:
    ds = _read("pydicom-data/vlut_04.dcm", pixels=False)
    del ds.VOILUTSequence[0].LUTData
    params = display_parameters(ds)
    assert params.windows == ()
    assert any(w.kind == "invalid_attribute" for w in params.warnings)


def test_ct_without_a_window_opens_in_soft_tissue_not_an_auto_window() -> None:
    ds = _read("pydicom/CT_small.dcm")
    assert "WindowCenter" not in ds
    params = display_parameters(ds)
    values = apply_modality_lut(ds.pixel_array, params.modality_lut)
    window = default_window(values, params)
    assert (window.center, window.width) == (40.0, 400.0)
