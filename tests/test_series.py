"""Series grouping and geometry warnings on the dicom2nifti failing/valid series and the
DICOMDIR test study."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from imaging.header import InstanceHeader, read_header
from imaging.series import SeriesCandidate, group_patients, group_series

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "dicom"

GEOMETRY_KINDS = {"gantry_tilt", "not_a_volume", "too_few_slices", "inconsistent_slice_increment",
                  "inconsistent_orientation", "multiple_acquisitions_4d", "no_pixel_data",
                  "mixed_dimensions"}


def headers_in(folder: str) -> list[InstanceHeader]:
    return [read_header(p) for p in sorted((CORPUS / folder).iterdir()) if p.is_file()]


def kinds(candidate: SeriesCandidate) -> set[str]:
    return {w.kind for w in candidate.warnings}


@pytest.mark.parametrize(("folder", "kind"), [
    ("dicom2nifti/failing/gantrytilting/001", "gantry_tilt"),
    ("dicom2nifti/failing/notavolume/001", "not_a_volume"),
    ("dicom2nifti/failing/slicecount/001", "too_few_slices"),
    ("dicom2nifti/failing/sliceincrement/001", "inconsistent_slice_increment"),
    ("dicom2nifti/failing/sliceincrement/002", "inconsistent_slice_increment"),
    ("dicom2nifti/failing/sliceorientation/001", "inconsistent_orientation"),
])
def test_failing_series_are_flagged(folder: str, kind: str) -> None:
    candidates = group_series(headers_in(folder))
    assert candidates and all(kind in kinds(c) for c in candidates)
    assert all(len(w.message) > 40 for c in candidates for w in c.warnings)  # sentences


@pytest.mark.parametrize("folder", [
    "dicom2nifti/valid/hitachi/anatomical/001",
    "dicom2nifti/valid/generic/anatomical/002_non_isotropic",
    "dcmqi/ct-3slice",
    "pydicom/dicomdirtests/98892001/CT5N",
])
def test_valid_volumes_have_no_geometry_warning(folder: str) -> None:
    (candidate,) = group_series(headers_in(folder))
    assert not kinds(candidate) & GEOMETRY_KINDS, candidate.warnings
    assert candidate.is_volume and candidate.part == 0
    assert candidate.image_count == len(candidate.instances) >= 3


@pytest.mark.parametrize("folder", [
    "pydicom/dicomdirtests/77654033/CR1", "pydicom/dicomdirtests/77654033/CR2",
    "pydicom/dicomdirtests/98892003/MR700",  # rotating MIP: projections, not slices
    "pydicom/dicomdirtests/98892001/CT2N",  # two scouts in two planes
    "pydicom/dicomdirtests/98892003/MR2",  # tri-planar pilot
])
def test_radiographs_projections_and_localizers_get_no_volume_warning(folder: str) -> None:
    for candidate in group_series(headers_in(folder)):
        assert not kinds(candidate) & GEOMETRY_KINDS, candidate.warnings
        assert not candidate.is_volume


def test_localizers_are_named() -> None:
    (scout,) = group_series(headers_in("pydicom/dicomdirtests/98892001/CT2N"))
    assert kinds(scout) == {"localizer"}


def test_gantry_tilt_gives_the_angle() -> None:
    (candidate,) = group_series(headers_in("dicom2nifti/failing/gantrytilting/001"))
    tilt = next(w for w in candidate.warnings if w.kind == "gantry_tilt")
    # IOP column cosine (0, 0.9703, -0.2419): the plane is tilted by asin(0.2419) = 14.0°.
    assert "14.0°" in tilt.message
    assert candidate.geometry is not None and candidate.geometry.tilt_degrees == pytest.approx(
        14.0, abs=0.05)


def test_missing_slice_is_located() -> None:
    (candidate,) = group_series(headers_in("dicom2nifti/failing/sliceincrement/001"))
    (warning,) = [w for w in candidate.warnings if w.kind == "inconsistent_slice_increment"]
    assert "about 1 missing between 28.1 and 38.1 mm" in warning.message
    assert candidate.spacing is not None and candidate.spacing[2] == pytest.approx(5.0)


def test_two_orientations_are_split_into_two_stacks() -> None:
    candidates = group_series(headers_in("dicom2nifti/failing/sliceorientation/001"))
    assert len(candidates) == 2
    assert {c.part for c in candidates} == {1, 2} and len({c.key for c in candidates}) == 2
    assert {c.part_label for c in candidates} == {"sagittal", "axial"}
    for c in candidates:
        assert len({h.image_orientation for h in c.instances}) == 1
        assert len(c.instances) == 2


def test_same_position_repeats_are_not_a_volume() -> None:
    (candidate,) = group_series(headers_in("dicom2nifti/failing/notavolume/001"))
    assert not candidate.is_volume and len(candidate.instances) == 4
    assert "same position (61.5 mm" in candidate.warnings[0].message


def test_time_points_at_the_same_positions_are_split_4d() -> None:
    base = headers_in("dcmqi/ct-3slice")
    repeated = [replace(h, temporal_position=t, sop_instance_uid=f"{h.sop_instance_uid}.{t}",
                        path=h.path.with_name(f"{t}-{h.path.name}"))
                for t in (1, 2) for h in base]
    candidates = group_series(repeated)
    assert len(candidates) == 2
    for t, c in enumerate(candidates, start=1):
        assert "multiple_acquisitions_4d" in kinds(c)
        assert {h.temporal_position for h in c.instances} == {t}
        assert c.is_volume and c.part_label == f"temporal position {t}"


def test_mixed_sizes_and_duplicate_files() -> None:
    base = headers_in("dcmqi/ct-3slice")
    odd = replace(base[0], rows=256, columns=256, sop_instance_uid="1.2.3.4",
                  path=Path("/x/odd.dcm"))
    copy = replace(base[1], path=Path("/x/copy.dcm"))
    candidates = group_series([*base, odd, copy])
    assert [c.image_count for c in candidates] == [3, 1]
    assert all({"mixed_dimensions", "duplicate_instances"} <= kinds(c) for c in candidates)


def test_missing_slices_in_dicomdir_ct_are_reported() -> None:
    # Instances 18, 180, 181, 182 of "Routine Brain": 160 slices are absent from the media.
    (candidate,) = group_series(headers_in("pydicom/dicomdirtests/77654033/CT2"))
    assert "inconsistent_slice_increment" in kinds(candidate)


def test_non_image_series_says_so() -> None:
    (sr,) = group_series([read_header(CORPUS / "pydicom/test-SR.dcm")])
    assert kinds(sr) == {"no_pixel_data"} and sr.image_count == 0 and sr.spacing is None


def test_patients_and_studies_for_the_browser() -> None:
    root = CORPUS / "pydicom/dicomdirtests"
    headers = [read_header(p) for p in sorted(root.glob("[0-9]*/*/*"))]
    patients = group_patients(group_series(headers))
    by_id = {p.patient_id: p for p in patients}
    assert set(by_id) == {"77654033", "98890234"}
    archibald = by_id["77654033"]
    assert archibald.patient_name == "Doe^Archibald"
    assert [s.study_date for s in archibald.studies] == ["20010101", "19950903"]  # newest first
    assert [len(s.series) for s in archibald.studies] == [3, 1]
    assert [c.number for c in archibald.studies[0].series] == [1, 2, 3]
    assert archibald.studies[0].modalities == ("CR",)
