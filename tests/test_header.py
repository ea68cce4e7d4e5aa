"""Header reading over the whole corpus: verdicts as in index.csv, silence, no pixel reads."""

from __future__ import annotations

import contextlib
import csv
import logging
import time
import warnings
from pathlib import Path

import pytest

from imaging.errors import DicomFileError
from imaging.header import read_header

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "dicom"

# Verdicts the header alone must give; the others (pixel_data_truncated, nonconformant_jpeg,
# series-level kinds...) belong to the decoder or to series grouping: the header reads fine.
HEADER_ERRORS = {"not_dicom", "empty_file", "empty_dataset", "truncated", "no_pixel_data",
                 "invalid_number_of_frames"}
HEADER_WARNINGS = {"no_file_meta", "no_preamble", "missing_transfer_syntax", "non_image",
                   "element_length_exceeds_file", "invalid_sequence_encoding"}


def index_rows() -> list[dict[str, str]]:
    with (CORPUS / "index.csv").open(newline="") as fp:
        return list(csv.DictReader(fp))


def test_every_indexed_file_gets_its_header_verdict() -> None:
    wrong = []
    for row in index_rows():
        status, _, kind = row["expected"].partition(":")
        path = CORPUS / row["path"]
        try:
            header = read_header(path)
        except DicomFileError as exc:
            assert exc.path == path and exc.message
            if not (status == "error" and exc.kind == kind):
                wrong.append(f"{row['path']}: {exc.kind} ({exc.message}), expected {kind}")
            continue
        found = {w.kind for w in header.warnings}
        if status == "error" and kind in HEADER_ERRORS:
            wrong.append(f"{row['path']}: read fine, expected error {kind}")
        elif kind in HEADER_WARNINGS and kind not in found:
            wrong.append(f"{row['path']}: warnings {found}, expected {kind}")
        elif row["expected"] == "ok" and found:
            wrong.append(f"{row['path']}: unexpected warnings {header.warnings}")
    assert not wrong, "\n".join(wrong)


def test_reading_the_corpus_prints_nothing_and_is_fast(
    capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="pydicom")
    files = sorted(p for p in CORPUS.rglob("*") if p.is_file())
    start = time.perf_counter()
    with warnings.catch_warnings(record=True) as escaped:
        warnings.simplefilter("always")
        for path in files:
            with contextlib.suppress(DicomFileError):
                read_header(path)
    elapsed = time.perf_counter() - start
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")
    assert not escaped, [str(w.message) for w in escaped]
    assert not [r for r in caplog.records if r.name.startswith("pydicom")]
    assert elapsed < 3.0, f"{len(files)} headers took {elapsed:.2f} s"


def test_header_only_even_for_absurd_pixel_data() -> None:
    gigantic = read_header(CORPUS / "bad/gigantic_declared_dimensions.dcm")
    assert (gigantic.rows, gigantic.columns, gigantic.number_of_frames) == (65535, 65535, 100000)
    assert gigantic.declared_pixel_bytes > 800 * 10**12 and gigantic.has_pixel_data
    huge = read_header(CORPUS / "bad/huge_pixeldata_length.dcm")
    (warning,) = [w for w in huge.warnings if w.kind == "element_length_exceeds_file"]
    assert str(0xFFFFFFF0) in warning.message


def test_truncated_pixel_data_is_left_to_the_decoder() -> None:
    header = read_header(CORPUS / "pydicom-data/emri_small_jpeg_2k_lossless_too_short.dcm")
    assert header.has_pixel_data and header.number_of_frames == 10 and header.modality == "MR"


@pytest.mark.parametrize("cut", [200, 333, 700, 1500, 3001, 6000])
def test_header_cut_anywhere_is_truncated(tmp_path: Path, cut: int) -> None:
    data = (CORPUS / "pydicom/CT_small.dcm").read_bytes()
    path = tmp_path / "cut.dcm"
    path.write_bytes(data[:cut])
    with pytest.raises(DicomFileError) as info:
        read_header(path)
    assert info.value.kind == "truncated", info.value.message


def test_images_without_pixel_data_are_refused_documents_are_not() -> None:
    stub = next((CORPUS / "pydicom/dicomdirtests/TINY_ALPHA").rglob("IM000000"))
    with pytest.raises(DicomFileError) as info:
        read_header(stub)  # CT Image Storage without Rows, Columns or Pixel Data
    assert info.value.kind == "no_pixel_data"
    sr = read_header(CORPUS / "pydicom/test-SR.dcm")
    assert not sr.is_image and [w.kind for w in sr.warnings] == ["non_image"]


def test_enhanced_and_classic_geometry_fields() -> None:
    hitachi = read_header(CORPUS / "dicom2nifti/valid/hitachi/anatomical/001/001.dcm")
    assert hitachi.image_orientation is not None and len(hitachi.image_orientation) == 6
    assert hitachi.pixel_spacing == (2.34375, 2.34375)
    seg = read_header(CORPUS / "pydicom/liver_1frame.dcm")
    # Three per-frame groups for one frame cannot place frames: ignored, not guessed.
    assert seg.number_of_frames == 1 and seg.frame_positions == ()


def test_fast_value_decoding_matches_pydicom_on_the_whole_corpus(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """read_header decodes common values from the raw bytes for speed; it must give
    exactly what pydicom's own conversion gives (values and warnings), file by file."""
    from imaging import header as header_module
    from imaging.errors import DicomFileError

    def outcome(path: Path) -> object:
        try:
            return read_header(path)
        except DicomFileError as exc:
            return (exc.kind, exc.message)

    files = sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.suffix not in
                   (".csv", ".md", ".py", ".txt"))
    fast = {p: outcome(p) for p in files}
    monkeypatch.setattr(header_module._Getter, "_fast",
                        lambda self, keyword: header_module._SLOW)
    slow = {p: outcome(p) for p in files}
    assert len(files) > 200
    assert [p for p in files if fast[p] != slow[p]] == []
