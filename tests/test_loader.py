"""Loading series into ImageStacks: order, modality values, colour, geometry, failures."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.pixels import pack_bits

from imaging import loader
from imaging.header import InstanceHeader, read_header
from imaging.loader import LoadCancelled, load_image, load_stack
from imaging.overlays import read_overlays

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "dicom"


def _headers(pattern: str) -> list[InstanceHeader]:
    paths = sorted(CORPUS.glob(pattern))
    assert paths, pattern
    return [read_header(p) for p in paths]


def _modality_values(path: Path) -> np.ndarray:
    ds = pydicom.dcmread(path)
    return ds.pixel_array * float(ds.get("RescaleSlope", 1)) + float(ds.get("RescaleIntercept", 0))


def test_ct_three_slices_volume_in_hu() -> None:
    headers = _headers("dcmqi/ct-3slice/*.dcm")
    calls: list[tuple[int, int]] = []
    stack = load_stack(list(reversed(headers)), progress=lambda d, t: calls.append((d, t)))
    assert stack.values.shape == (3, 512, 512) and stack.values.dtype == np.float32
    assert stack.is_volume and not stack.is_colour and not stack.invert
    assert stack.spacing[2] == pytest.approx(1.0, abs=1e-3)
    assert stack.spacing[:2] == pytest.approx((0.810547, 0.810547))
    # Slices follow the scanner's order, head to feet: 01 (z=-126.69), 02, 03.
    zs = [s.position[2] for s in stack.slices if s.position is not None]
    assert zs == sorted(zs, reverse=True) and zs[0] == pytest.approx(-126.69)
    for k, name in enumerate(["01.dcm", "02.dcm", "03.dcm"]):
        expected = _modality_values(CORPUS / "dcmqi/ct-3slice" / name)
        np.testing.assert_array_equal(stack.values[k], expected)
    assert stack.values[0, 256, 256] == 879 - 1024  # 01.dcm: stored 879, intercept -1024
    assert calls[-1] == (3, 3) and len(calls) == 3
    assert [(w.center, w.width) for w in stack.windows] == [(40.0, 400.0)]


def test_per_slice_rescale_differs() -> None:
    headers = _headers("dicom2nifti/valid/generic/anatomical/002_non_isotropic/*.dcm")
    stack = load_stack(headers)
    assert stack.values.shape == (4, 28, 64)
    by_uid = {h.sop_instance_uid: h.path for h in headers}
    slopes = set()
    for k, info in enumerate(stack.slices):
        path = by_uid[info.sop_instance_uid]
        slopes.add(float(pydicom.dcmread(path, stop_before_pixels=True).RescaleSlope))
        np.testing.assert_allclose(stack.values[k], _modality_values(path), rtol=1e-5)
    assert len(slopes) == 4


def test_ct_small_single_image() -> None:
    header = read_header(CORPUS / "pydicom/CT_small.dcm")
    stack = load_image(header)
    assert stack.values.shape == (1, 128, 128)
    assert stack.values[0, 64, 64] == 1928 - 1024
    assert stack.header is header and stack.windows == ()


def test_enhanced_mr_expands_frames() -> None:
    header = read_header(CORPUS / "pydicom-data/emri_small.dcm")
    stack = load_stack([header])
    assert stack.count == 10 and stack.values.shape == (10, 64, 64)
    assert [s.frame for s in stack.slices] == list(range(10))
    pixels = pydicom.dcmread(header.path).pixel_array
    np.testing.assert_array_equal(stack.values, pixels)
    one = load_image(header, frame=3)
    np.testing.assert_array_equal(one.values[0], pixels[3])
    assert one.slices[0].frame == 3


def test_monochrome1_cr_is_inverted() -> None:
    header = read_header(CORPUS / "pydicom/dicomdirtests/77654033/CR1/6154")
    stack = load_image(header)
    assert stack.invert
    ds = pydicom.dcmread(header.path)
    np.testing.assert_allclose(stack.values[0], ds.pixel_array * 0.684 + 200, rtol=1e-6)
    assert [(w.center, w.width) for w in stack.windows] == [(1600.0, 2800.0)]


def test_modality_and_voi_lut_files() -> None:
    mlut = load_image(read_header(CORPUS / "pydicom-data/mlut_18.dcm"))
    ds = pydicom.dcmread(CORPUS / "pydicom-data/mlut_18.dcm")
    table = np.asarray(ds.ModalityLUTSequence[0].LUTData)
    np.testing.assert_array_equal(mlut.values[0], table[ds.pixel_array.astype(int) + 2048])
    vlut = load_image(read_header(CORPUS / "pydicom-data/vlut_04.dcm"))
    assert len(vlut.windows) == 1 and vlut.windows[0].is_table


@pytest.mark.parametrize("rel", ["pydicom/examples_palette.dcm", "pydicom-data/OT-PAL-8-face.dcm"])
def test_palette_files_become_rgb(rel: str) -> None:
    stack = load_stack([read_header(CORPUS / rel)])
    assert stack.is_colour and stack.values.dtype == np.uint8 and stack.values.shape[-1] == 3
    rgb = stack.values[0].astype(int)
    assert ((rgb.max(-1) - rgb.min(-1)) > 30).mean() > 0.01  # real colours, not grey


@pytest.mark.parametrize(("rel", "shape"), [
    ("pydicom/examples_rgb_color.dcm", (1, 240, 320, 3)),
    ("pydicom/examples_ybr_color.dcm", (30, 240, 320, 3)),
    ("pydicom/SC_ybr_full_422_uncompressed.dcm", (1, 100, 100, 3)),
    ("pydicom/SC_rgb_rle_16bit.dcm", (1, 100, 100, 3)),
])
def test_colour_files_give_rgb(rel: str, shape: tuple[int, ...]) -> None:
    stack = load_stack([read_header(CORPUS / rel)])
    assert stack.values.shape == shape and stack.values.dtype == np.uint8
    assert stack.is_colour and stack.windows == ()
    assert stack.values.max() > 100


def test_broken_file_is_left_out_with_a_warning() -> None:
    good = read_header(CORPUS / "pydicom/CT_small.dcm")
    bad = read_header(CORPUS / "bad/truncated_in_pixeldata.dcm")
    stack = load_stack([good, bad])
    assert stack.count == 1
    assert stack.slices[0].sop_instance_uid == good.sop_instance_uid
    assert stack.values[0, 64, 64] == 904.0
    assert any(w.kind == "pixel_data_truncated" and "truncated_in_pixeldata" in w.message
               for w in stack.warnings)


def test_cancel() -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(LoadCancelled):
        load_stack(_headers("dcmqi/ct-3slice/*.dcm"), cancel=cancel)


def test_compressed_files_decode_in_parallel_workers() -> None:
    names = ["MR_small_RLE.dcm", "MR_small_jpeg_ls_lossless.dcm", "MR_small_jp2klossless.dcm"]
    headers = [read_header(CORPUS / "pydicom" / n) for n in names]
    stack = load_stack(headers)
    assert stack.count == 3
    expected = _modality_values(CORPUS / "pydicom/MR_small.dcm")
    for k in range(3):
        np.testing.assert_array_equal(stack.values[k], expected)


# ----------------------------------------------------------------- DICOM overlay planes (60xx)

OVERLAY_FILE = CORPUS / "pydicom/examples_overlay.dcm"


def test_overlay_planes_come_with_their_slice() -> None:
    header = read_header(OVERLAY_FILE)
    assert header.overlay_groups == (0x6000,)
    (expected,) = read_overlays(pydicom.dcmread(OVERLAY_FILE))
    for stack in (load_stack([header]), load_image(header)):
        assert len(stack.overlays) == stack.count == 1
        (plane,) = stack.overlays_at(0)
        assert (plane.group, plane.type, plane.first_frame) == (0x6000, "G", 0)
        assert plane.bitmap.shape == (stack.rows, stack.columns)
        np.testing.assert_array_equal(plane.bitmap, expected.bitmap)
        assert int(plane.bitmap.sum()) == 222


def test_files_without_overlay_groups_are_not_read_for_overlays(
        monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[Path] = []
    parsed: list[int] = []
    read_dataset, parse = loader._read_dataset, loader.read_overlays

    def counted_read(path: Path, tags: list[str] | list[int] | None = None) -> pydicom.Dataset:
        reads.append(path)
        return read_dataset(path, tags)

    def counted_parse(ds: pydicom.Dataset, found: list | None = None) -> list:
        parsed.append(1)
        return parse(ds, found)

    monkeypatch.setattr(loader, "_read_dataset", counted_read)
    monkeypatch.setattr(loader, "read_overlays", counted_parse)
    ct = _headers("dcmqi/ct-3slice/*.dcm")
    assert not any(h.overlay_groups for h in ct)
    stack = load_stack(ct)
    assert stack.overlays == () and stack.overlays_at(2) == () and not parsed
    assert len(reads) == 3  # the first file in full, the per-slice rescale of the two others
    # The same file, its header saying "no overlays": nothing is looked for.
    reads.clear()
    header = read_header(OVERLAY_FILE)
    assert load_stack([replace(header, overlay_groups=())]).overlays == () and not parsed
    # With overlays: parsed from the dataset already read for the display parameters.
    assert load_stack([header]).overlays_at(0) and len(parsed) == 1
    assert len(reads) == 2


def _with_overlay(source: Path, target: Path, *, number: int, frames: int, origin: int,
                  bitmaps: np.ndarray) -> InstanceHeader:
    """``source`` saved as ``target`` with one more overlay plane (group 6002)."""
    ds = pydicom.dcmread(source)
    ds.SOPInstanceUID = pydicom.uid.generate_uid()
    ds.InstanceNumber = number
    ds.add_new(0x60020010, "US", bitmaps.shape[1])
    ds.add_new(0x60020011, "US", bitmaps.shape[2])
    ds.add_new(0x60020015, "IS", frames)
    ds.add_new(0x60020040, "CS", "R")
    ds.add_new(0x60020050, "SS", [1, 1])
    ds.add_new(0x60020051, "US", origin)
    ds.add_new(0x60020100, "US", 1)
    ds.add_new(0x60020102, "US", 0)
    ds.add_new(0x60023000, "OW", pack_bits(bitmaps.ravel()))
    ds.save_as(target)
    return read_header(target)


def test_multiframe_overlay_goes_to_its_frames(tmp_path: Path) -> None:
    bitmaps = np.zeros((2, 64, 64), dtype=np.uint8)
    bitmaps[0, 10:20, 10:20] = 1  # image frame 4 (Image Frame Origin 4)
    bitmaps[1, 40:50, 5:60] = 1  # image frame 5
    header = _with_overlay(CORPUS / "pydicom-data/emri_small.dcm", tmp_path / "mf.dcm",
                           number=1, frames=2, origin=4, bitmaps=bitmaps)
    assert header.overlay_groups == (0x6002,)
    stack = load_stack([header])
    by_frame = {s.frame: stack.overlays_at(k) for k, s in enumerate(stack.slices)}
    assert [f for f, planes in by_frame.items() if planes] == [3, 4]
    for frame, expected in ((3, bitmaps[0]), (4, bitmaps[1])):
        (plane,) = by_frame[frame]
        assert plane.type == "R" and plane.first_frame == frame
        np.testing.assert_array_equal(plane.bitmap, expected.astype(bool))
    (single,) = load_image(header, frame=4).overlays_at(0)
    np.testing.assert_array_equal(single.bitmap, bitmaps[1].astype(bool))


def test_overlays_of_a_later_file_are_read_with_their_slice(tmp_path: Path) -> None:
    """Only the first file's dataset is read in full; the others' overlay tags on demand."""
    rows, cols = 300, 484
    marks = np.zeros((1, rows, cols), dtype=np.uint8)
    marks[0, 100:110, 200:300] = 1
    plain = pydicom.dcmread(OVERLAY_FILE)
    del plain[0x60000010:0x60010000]
    plain.save_as(tmp_path / "a.dcm")
    first = read_header(tmp_path / "a.dcm")
    second = _with_overlay(tmp_path / "a.dcm", tmp_path / "b.dcm", number=2, frames=1,
                           origin=1, bitmaps=marks)
    assert first.overlay_groups == () and second.overlay_groups == (0x6002,)
    stack = load_stack([second, replace(first, instance_number=1)])
    uids = [s.sop_instance_uid for s in stack.slices]
    k = uids.index(second.sop_instance_uid)
    assert stack.overlays_at(1 - k) == ()
    (plane,) = stack.overlays_at(k)
    np.testing.assert_array_equal(plane.bitmap, marks[0].astype(bool))
