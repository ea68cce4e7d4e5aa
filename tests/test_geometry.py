"""Slice order, stack geometry and orientation letters on real corpus series."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pydicom
import pytest

from imaging.geometry import (
    edge_letters,
    orientation_letters,
    sort_headers,
    stack_geometry,
)
from imaging.header import InstanceHeader, read_header

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "dicom"


def headers_in(folder: str) -> list[InstanceHeader]:
    return [read_header(p) for p in sorted((CORPUS / folder).iterdir()) if p.is_file()]


def independent_letters(vector: np.ndarray, threshold: float = 0.2) -> str:
    """Reference: letter of each axis by sign, biggest component first, small ones dropped."""
    names = [("L", "R"), ("P", "A"), ("H", "F")]
    ranked = sorted(range(3), key=lambda i: -abs(vector[i]))
    out = [names[i][0 if vector[i] > 0 else 1] for i in ranked if abs(vector[i]) >= threshold]
    return "".join(out)


def test_ct_slices_sorted_along_normal_and_spaced_by_position() -> None:
    headers = sort_headers(headers_in("dcmqi/ct-3slice"))
    # Instance 1 is the most cranial slice: the stack follows the scanner's order (head to
    # feet), so its normal points to the feet (-z) and the direction stays consistent.
    assert [h.instance_number for h in headers] == [1, 2, 3]
    geometry = stack_geometry(headers)
    assert geometry.spacing == pytest.approx((0.810547, 0.810547, 1.0), abs=1e-6)
    assert geometry.origin == pytest.approx((-235.199997, -226.800003, -126.690002))
    assert np.allclose(geometry.direction, np.diag([1.0, 1.0, -1.0]))
    assert geometry.calibrated and geometry.spacing_source == "PixelSpacing"
    assert geometry.tilt_degrees == pytest.approx(0.0)
    # The affine sends slice index k to the k-th position.
    for k, h in enumerate(headers):
        assert h.image_position is not None
        assert geometry.affine() @ np.array([0, 0, k, 1]) == pytest.approx((*h.image_position, 1))


def test_oblique_mr_step_comes_from_positions_not_thickness() -> None:
    headers = sort_headers(headers_in("dicom2nifti/valid/hitachi/anatomical/001"))
    geometry = stack_geometry(headers)
    ds = [pydicom.dcmread(h.path, stop_before_pixels=True) for h in headers]
    iop = np.array(ds[0].ImageOrientationPatient, float)
    normal = np.cross(iop[:3], iop[3:])
    normal /= np.linalg.norm(normal)
    depths = sorted(float(np.dot(normal, np.array(d.ImagePositionPatient, float))) for d in ds)
    assert geometry.spacing[2] == pytest.approx(float(np.median(np.diff(depths))), abs=1e-6)
    assert geometry.spacing[2] == pytest.approx(4.0, abs=0.01)
    assert np.allclose(geometry.direction[:, 0], iop[:3])
    assert np.allclose(geometry.direction[:, 1], iop[3:])


def test_non_square_pixels_map_to_x_and_y() -> None:
    headers = sort_headers(headers_in("dicom2nifti/valid/generic/anatomical/002_non_isotropic"))
    # PixelSpacing is (between rows, between columns) = (4.0, 6.4): x (along a row) is 6.4.
    assert stack_geometry(headers).spacing[:2] == pytest.approx((6.39995861, 4.0))


def test_imager_pixel_spacing_is_flagged_uncalibrated() -> None:
    cr = read_header(CORPUS / "pydicom/dicomdirtests/77654033/CR1/6154")
    geometry = stack_geometry([cr])
    assert geometry.spacing[:2] == (0.1, 0.1)
    assert not geometry.calibrated and geometry.spacing_source == "ImagerPixelSpacing"
    warning = geometry.spacing_warning()
    assert warning is not None and "detector" in warning.message
    # Mammography file with both: PixelSpacing wins.
    mg = read_header(CORPUS / "mammo/MG_Explicit_Little.dcm")
    assert stack_geometry([mg]).spacing_source == "PixelSpacing"
    bare = stack_geometry([replace(mg, pixel_spacing=None, imager_pixel_spacing=None)])
    assert bare.spacing[:2] == (1.0, 1.0) and bare.spacing_source == "none"


def test_enhanced_multiframe_uses_frame_positions_and_follows_their_order() -> None:
    ct = read_header(CORPUS / "dcmqi/ct-3slice/01.dcm")
    frames = tuple((0.0, 0.0, 10.0 - 2.5 * i) for i in range(4))  # stored head-first
    multi = replace(ct, number_of_frames=4, frame_positions=frames, image_position=frames[0])
    geometry = stack_geometry([multi])
    assert geometry.spacing[2] == pytest.approx(2.5)
    assert geometry.normal == pytest.approx((0.0, 0.0, -1.0))  # flipped to match frame order
    assert geometry.origin == frames[0]
    for k in range(4):
        assert geometry.affine() @ np.array([0, 0, k, 1]) == pytest.approx((*frames[k], 1))


def test_axial_edge_letters() -> None:
    edges = edge_letters((1, 0, 0, 0, 1, 0))
    assert edges == {"right": "L", "left": "R", "bottom": "P", "top": "A"}
    assert orientation_letters((0, 0, 1)) == "H" and orientation_letters((0, 0, -1)) == "F"


def test_double_oblique_hitachi_letters() -> None:
    h = headers_in("dicom2nifti/valid/hitachi/anatomical/001")[0]
    # IOP row (0.6088, 0.7907, 0.0637): mostly posterior, then left; col (-0.1428, 0.1882,
    # -0.9717): mostly feet.
    assert edge_letters(h.image_orientation or ()) == {
        "right": "PL", "left": "AR", "bottom": "F", "top": "H"}
    row = np.array(h.image_orientation[:3])  # type: ignore[index]
    assert orientation_letters(row) == independent_letters(row)


def test_oblique_mr700_letters_match_independent_computation() -> None:
    headers = headers_in("pydicom/dicomdirtests/98892003/MR700")
    seen = set()
    for h in headers:
        iop = np.array(h.image_orientation, float)
        for vector in (iop[:3], -iop[:3], iop[3:], -iop[3:]):
            assert orientation_letters(vector) == independent_letters(vector)
        seen.add(orientation_letters(iop[:3]))
    assert len(seen) >= 3  # the projections really rotate (L, LP, PL...)


def test_sort_without_positions_uses_instance_number() -> None:
    ct = read_header(CORPUS / "dcmqi/ct-3slice/01.dcm")
    shuffled = [replace(ct, image_position=None, instance_number=n, path=Path(f"/x/{n}"))
                for n in (3, None, 1, 2)]
    assert [h.instance_number for h in sort_headers(shuffled)] == [1, 2, 3, None]
