"""De-identification (PS3.15 Basic Profile + options) on the real DICOM corpus.

One module-scoped run de-identifies every indexed file (duplicated instances go to a second
run with the same secret); the tests check each output against Table E.1-1, a hard list of
key attributes, the bytes of the file, UID consistency, the pixel data and dciodvfy.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import shutil
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence as DicomSequence

from app.cli_deidentify import add_deidentify_parser, run_deidentify
from imaging.deid_table import PROFILE
from imaging.deidentify import BURNED_IN, DeidOptions, FileOutcome, UidMap, deidentify_files
from imaging.header import read_header

CORPUS = Path(__file__).parents[2] / "shared" / "datasets" / "dicom"
# index.csv error kinds a de-identifier must refuse: the file cannot be read as a complete
# instance. Series-level and decode-level errors (not_a_volume, corrupt_pixel_data, a transfer
# syntax Tandem cannot decode...) do not stop an export: the header is de-identified and the
# pixel bytes copied as they are.
REFUSED = {"not_dicom", "empty_file", "empty_dataset", "truncated", "pixel_data_truncated",
           "image_too_large", "no_pixel_data", "invalid_number_of_frames"}
NOT_EXPORTABLE = {"pydicom/meta_missing_tsyntax.dcm": "no SOP Class UID"}
HARD_LIST = ["PatientName", "PatientID", "PatientBirthDate", "OtherPatientIDs",
             "OtherPatientNames", "AccessionNumber", "InstitutionName", "InstitutionAddress",
             "ReferringPhysicianName", "PerformingPhysicianName", "OperatorsName", "StudyID",
             "StudyDate", "StudyTime", "SeriesDate", "AcquisitionDate", "ContentDate",
             "DeviceSerialNumber", "StationName", "PatientAddress", "StudyDescription",
             "SeriesDescription", "PatientAge", "PatientSex", "PatientWeight"]
NAMES_AND_IDS = ["PatientName", "PatientID", "OtherPatientIDs", "AccessionNumber",
                 "InstitutionName", "ReferringPhysicianName", "OperatorsName",
                 "PerformingPhysicianName", "StationName", "DeviceSerialNumber", "StudyID"]
PIXEL_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # odd values in the corpus


def _read(path: Path) -> Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(path, force=True)


@dataclass
class Run:
    uid_map: UidMap
    outcomes: dict[Path, FileOutcome]
    first_round_duplicates: int
    seconds: float


def _rows() -> list[dict[str, str]]:
    with (CORPUS / "index.csv").open(newline="") as f:
        return list(csv.DictReader(f))


def _run_all(paths: list[Path], out: Path, options: DeidOptions, uid_map: UidMap) -> Run:
    """De-identify ``paths``; instances repeated in the corpus go to further runs (same key)."""
    outcomes: dict[Path, FileOutcome] = {}
    pending, round_, duplicates, seconds = paths, 0, -1, 0.0
    while pending:
        summary = deidentify_files(pending, out / str(round_), options, uid_map)
        seconds += summary.seconds
        repeat = [o.source for o in summary.outcomes
                  if o.error is not None and o.error.kind == "duplicate_instance"]
        duplicates = len(repeat) if duplicates < 0 else duplicates
        outcomes.update({o.source: o for o in summary.outcomes if o.source not in repeat})
        pending, round_ = repeat, round_ + 1
    return Run(uid_map, outcomes, duplicates, seconds)


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    paths = [CORPUS / r["path"] for r in _rows()]
    return _run_all(paths, tmp_path_factory.mktemp("deid"), DeidOptions(), UidMap(b"test-key"))


def _written(run: Run) -> list[FileOutcome]:
    return [o for o in run.outcomes.values() if o.output is not None]


def _empty(value: object) -> bool:
    return value is None or value == "" or value == b"" or (
        isinstance(value, list | MultiValue | DicomSequence) and len(value) == 0)


def _values(value: object) -> list[str]:
    items = value if isinstance(value, list | MultiValue) else [value]
    return [str(v) for v in items if v is not None and str(v) != ""]


def test_every_indexed_file_is_written_or_refused_with_its_reason(corpus_run: Run) -> None:
    for row in _rows():
        path = CORPUS / row["path"]
        outcome = corpus_run.outcomes[path]
        kind = row["expected"].removeprefix("error:")
        if kind in REFUSED or "DICOMDIR" in row["path"] or row["path"] in NOT_EXPORTABLE:
            assert outcome.error is not None and outcome.output is None, row["path"]
            assert str(path) in str(outcome.error)  # names the file and says why
            assert outcome.error.message
        else:
            assert outcome.error is None and outcome.output is not None, (row["path"], outcome)
    written = len(_written(corpus_run))
    assert written >= 110
    assert corpus_run.first_round_duplicates > 0  # CT_small and its crafted copies
    print(f"\n{written} files de-identified in {corpus_run.seconds:.2f} s "
          f"({written / corpus_run.seconds:.0f} files/s)")


def _check_profile(orig: Dataset, out: Dataset, uid_map: UidMap, where: str) -> None:
    """Every Table E.1-1 attribute of ``orig`` got its Basic Profile action in ``out``."""
    for elem in orig:
        tag, got = elem.tag, out.get(elem.tag)
        at = f"{where}/{elem.keyword or tag}"
        if tag.is_private or (tag.group & 0xFF00) in (0x5000, 0x6000):
            assert got is None, at
            continue
        rule = PROFILE.get(int(tag))
        if rule is None:
            if elem.VR == "SQ" and got is not None:
                _check_items(elem.value, got.value, uid_map, at)
            continue
        action = rule.action
        if elem.keyword in ("PatientName", "PatientID"):
            assert str(got.value).startswith("ANON-"), at
        elif action == "X":
            assert got is None, at
        elif action in ("Z", "X/Z"):
            assert got is None or _empty(got.value), at
        elif elem.VR == "UI":
            assert got is not None and _values(got.value) == [
                uid_map.uid(v) for v in _values(elem.value)], at
        elif elem.VR == "SQ":
            assert got is not None, at
            _check_items(elem.value, got.value, uid_map, at)
        elif not _empty(elem.value):  # D-family: a dummy replaces the value
            assert got is None or _empty(got.value) or got.value != elem.value, at


def _check_items(orig: DicomSequence, out: DicomSequence, uid_map: UidMap, where: str) -> None:
    assert len(out) == len(orig), where
    for i, (a, b) in enumerate(zip(orig, out, strict=True)):
        _check_profile(a, b, uid_map, f"{where}[{i}]")


def _bytes_outside_kept_text(path: Path, ds: Dataset) -> bytes:
    """The file's bytes less the pixel data and less the text of attributes the profile does
    not name (they are kept by design: e.g. a Sequence Name that repeats the patient's name
    in one test file)."""
    data = path.read_bytes()
    for keyword in PIXEL_KEYWORDS:
        if keyword in ds:
            data = data.replace(ds[keyword].value, b"")
    for elem in ds.iterall():
        if int(elem.tag) not in PROFILE and isinstance(elem.value, str) and elem.value:
            data = data.replace(elem.value.encode(), b"")
    return data


def _distinctive(value: str) -> bool:
    """Long enough to be searched for in a file's bytes without matching by chance."""
    return len(value) >= 4 and (re.search(r"[A-Za-z]", value) is not None
                                or (len(value) >= 6 and len(set(value)) >= 3))


def test_profile_actions_and_key_attributes_on_every_output(corpus_run: Run) -> None:
    checked = 0
    for outcome in _written(corpus_run):
        assert outcome.output is not None
        orig, out = _read(outcome.source), _read(outcome.output)
        _check_profile(orig, out, corpus_run.uid_map, outcome.source.name)
        for keyword in HARD_LIST:  # independent of the table
            if _empty(orig.get(keyword)):
                continue
            value = out.get(keyword)
            if keyword in ("PatientName", "PatientID"):
                assert re.fullmatch(r"ANON-[0-9A-F]{10}", str(value)), (outcome.source, keyword)
            else:
                assert _empty(value) or value != orig.get(keyword), (outcome.source, keyword)
                checked += 1
        text = _bytes_outside_kept_text(outcome.output, out)
        for keyword in NAMES_AND_IDS:
            for value in _values(orig.get(keyword)):
                for part in {value, *re.split(r"[\^=]", value)}:
                    if _distinctive(part.strip()):
                        assert part.strip().encode() not in text, (outcome.source, keyword)
        assert out.PatientIdentityRemoved == "YES"
        assert [i.CodeValue for i in out.DeidentificationMethodCodeSequence] == ["113100"]
        assert not any(e.tag.is_private for e in out.iterall())
    assert checked > 100


def test_uids_are_remapped_consistently_across_files_and_sequences(corpus_run: Run) -> None:
    seen: dict[str, dict[str, str]] = {}
    for outcome in _written(corpus_run):
        assert outcome.output is not None
        orig, out = _read(outcome.source), _read(outcome.output)
        for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID",
                        "FrameOfReferenceUID"):
            if keyword not in orig:
                continue
            new = str(out[keyword].value)
            assert new.startswith("2.25.") and len(new) <= 64
            assert new == corpus_run.uid_map.uid(str(orig[keyword].value))
            seen.setdefault(keyword, {})
            assert seen[keyword].setdefault(str(orig[keyword].value), new) == new
        assert out.file_meta.MediaStorageSOPInstanceUID == out.SOPInstanceUID
        assert out.SOPClassUID == orig.SOPClassUID
        study = str(out.get("StudyInstanceUID", "no-study-uid"))
        series = str(out.get("SeriesInstanceUID", "no-series-uid"))
        assert outcome.output.parts[-3:] == (study, series, f"{out.SOPInstanceUID}.dcm")
        refs = [e.value for e in orig.iterall() if e.keyword == "ReferencedSOPInstanceUID"]
        new_refs = [e.value for e in out.iterall() if e.keyword == "ReferencedSOPInstanceUID"]
        assert new_refs == [corpus_run.uid_map.uid(r) for r in refs]
    # series grouping kept: distinct originals stay distinct, one new UID per original
    for mapping in seen.values():
        assert len(set(mapping.values())) == len(mapping)
    assert len(seen["SeriesInstanceUID"]) > 20
    other = UidMap(b"another run")
    assert other.uid("1.2.3") != corpus_run.uid_map.uid("1.2.3")
    assert UidMap(b"test-key").uid("1.2.3") == corpus_run.uid_map.uid("1.2.3")


def test_pixel_data_bytes_and_transfer_syntax_unchanged(corpus_run: Run) -> None:
    compared = 0
    for outcome in _written(corpus_run):
        assert outcome.output is not None
        orig, out = _read(outcome.source), _read(outcome.output)
        for keyword in PIXEL_KEYWORDS:
            if keyword in orig:
                assert out[keyword].value == orig[keyword].value, outcome.source
                compared += 1
        meta_ts = orig.file_meta.get("TransferSyntaxUID") if hasattr(orig, "file_meta") else None
        if meta_ts:
            assert out.file_meta.TransferSyntaxUID == meta_ts, outcome.source
        else:  # no File Meta: the encoding pydicom found is kept
            assert out.original_encoding == orig.original_encoding, outcome.source
    assert compared >= 100


def _dciodvfy_errors(path: Path) -> set[str] | None:
    result = subprocess.run(["dciodvfy", "-new", str(path)], capture_output=True, text=True,
                            timeout=30)
    lines = (result.stdout + result.stderr).splitlines()
    if any("Dicom dataset read failed" in line for line in lines):
        return None  # dciodvfy cannot read it (deflate, overlong Pixel Data): nothing to compare
    return {re.sub(r"<[^>]*>", "<>", line) for line in lines if line.startswith("Error")}


@pytest.mark.skipif(shutil.which("dciodvfy") is None, reason="dicom3tools not installed")
def test_dciodvfy_finds_no_new_error(corpus_run: Run) -> None:
    compared = 0
    for outcome in _written(corpus_run):
        assert outcome.output is not None
        before = _dciodvfy_errors(outcome.source)
        if before is None:
            continue
        after = _dciodvfy_errors(outcome.output)
        assert after is not None, outcome.output
        assert after <= before, (outcome.source, after - before)
        compared += 1
    assert compared >= 100


def _rich_identity_copy(folder: Path) -> tuple[Path, Path]:
    """CT_small with a full set of identifying values, and a second image of that patient."""
    ds = _read(CORPUS / "pydicom" / "CT_small.dcm")
    ds.PatientName = "Dupont^Jeanne^Marie"
    ds.PatientID = "FR-PAT-778899"
    ds.PatientBirthDate = "19561103"
    ds.OtherPatientIDs = "NIR-2561103123456"
    ds.AccessionNumber = "ACC-2024-000123"
    ds.InstitutionName = "Cabinet de Radiologie Lumiere"
    ds.InstitutionAddress = "12 rue Lumiere, Lyon"
    ds.ReferringPhysicianName = "Martin^Paul"
    ds.OperatorsName = "Leroy^Sophie"
    ds.DeviceSerialNumber = "SN-4455667"
    ds.StudyDescription = "Scanner thorax Dupont FR-PAT-778899"
    ds.PatientSex, ds.PatientAge, ds.PatientWeight = "F", "067Y", "61"
    ds.StudyDate, ds.SeriesDate, ds.ContentDate = "20240315", "20240315", "20240316"
    ds.add_new(0x00091010, "LO", "private Dupont")
    person = Dataset()
    person.PersonName = "Dupont^Jeanne"
    ref = Dataset()
    ref.ReferencedSOPClassUID = ds.SOPClassUID
    ref.ReferencedSOPInstanceUID = "1.2.826.0.1.3680043.2.1125.999.2"
    ds.ReferencedImageSequence = DicomSequence([ref])
    ds.ContentSequence = DicomSequence([person])
    first = folder / "first.dcm"
    ds.save_as(first)
    ds.SOPInstanceUID = "1.2.826.0.1.3680043.2.1125.999.2"
    ds.StudyDate = "20240316"
    ds.BurnedInAnnotation = "YES"
    second = folder / "second.dcm"
    ds.save_as(second)
    return first, second


def test_identifying_values_are_gone_and_references_follow(tmp_path: Path) -> None:
    first, second = _rich_identity_copy(tmp_path)
    summary = deidentify_files([first, second], tmp_path / "out", DeidOptions(), UidMap())
    assert not summary.failed
    outs = [_read(o.output) for o in summary.written if o.output is not None]
    for outcome in summary.written:
        assert outcome.output is not None
        data = outcome.output.read_bytes()
        for secret in ("Dupont", "Jeanne", "FR-PAT-778899", "19561103", "NIR-2561103123456",
                       "ACC-2024-000123", "Lumiere", "Martin", "Leroy", "SN-4455667",
                       "private", "20240315", "20240316"):
            assert secret.encode() not in data, secret
    assert outs[0].PatientName == outs[1].PatientName  # same patient, same pseudonym
    assert outs[0].ReferencedImageSequence[0].ReferencedSOPInstanceUID == outs[1].SOPInstanceUID
    assert outs[0].ContentSequence[0].PersonName != "Dupont^Jeanne"
    burned = [w for o in summary.written for w in o.warnings if w.kind == BURNED_IN]
    assert len(burned) == 1 and "second.dcm" in burned[0].message
    assert "NOT cleaned" in burned[0].message


def test_options_retain_what_they_say(tmp_path: Path) -> None:
    first, second = _rich_identity_copy(tmp_path)
    options = DeidOptions(dates="keep", keep_patient_characteristics=True,
                          keep_device_identity=True, keep_institution_identity=True,
                          clean_descriptors=True, keep_uids=True)
    summary = deidentify_files([first], tmp_path / "keep", options, UidMap())
    out = _read(summary.written[0].output)  # type: ignore[arg-type]
    orig = _read(first)
    for keyword in ("StudyDate", "SeriesDate", "ContentDate", "PatientSex", "PatientAge",
                    "PatientWeight", "DeviceSerialNumber", "InstitutionName",
                    "InstitutionAddress", "StudyInstanceUID", "SOPInstanceUID"):
        assert out[keyword].value == orig[keyword].value, keyword
    assert out.StudyDescription == "Scanner thorax * *"  # kept, the patient's name/ID masked
    assert out.PatientBirthDate == "" and str(out.PatientName).startswith("ANON-")
    codes = {i.CodeValue for i in out.DeidentificationMethodCodeSequence}
    assert codes == {"113100", "113105", "113106", "113108", "113109", "113110", "113112"}
    assert out.LongitudinalTemporalInformationModified == "UNMODIFIED"

    shifted = deidentify_files([first, second], tmp_path / "shift", DeidOptions(dates="shift"),
                               UidMap())
    a, b = (_read(o.output) for o in shifted.written if o.output is not None)
    assert _day_gap(a.StudyDate, b.StudyDate) == 1  # one patient: the interval is kept
    assert _day_gap(a.StudyDate, a.ContentDate) == 1
    assert 365 <= _day_gap(a.StudyDate, "20240315") <= 3650
    assert a.LongitudinalTemporalInformationModified == "MODIFIED"
    assert "113107" in {i.CodeValue for i in a.DeidentificationMethodCodeSequence}
    assert a.PatientSex == "" and "InstitutionAddress" not in a

    named = deidentify_files([first], tmp_path / "named",
                             DeidOptions(patient_name="ETUDE^001", patient_id="E001"), UidMap())
    out = _read(named.written[0].output)  # type: ignore[arg-type]
    assert (out.PatientName, out.PatientID) == ("ETUDE^001", "E001")


def _day_gap(earlier: str, later: str) -> int:
    from datetime import date

    def parse(d: str) -> date:
        return date(int(d[:4]), int(d[4:6]), int(d[6:8]))

    return (parse(later) - parse(earlier)).days


def test_pseudonyms_follow_the_patient_across_files(corpus_run: Run) -> None:
    by_patient: dict[str, set[str]] = {}
    for outcome in _written(corpus_run):
        assert outcome.output is not None
        if "dicomdirtests" not in str(outcome.source):
            continue
        orig = _read(outcome.source)
        by_patient.setdefault(str(orig.PatientID), set()).add(
            str(_read(outcome.output).PatientName))
    assert len(by_patient) == 2  # Doe^Peter (24 files), Doe^Archibald (7 files)
    assert all(len(names) == 1 for names in by_patient.values())
    assert len({next(iter(n)) for n in by_patient.values()}) == 2


def test_burned_in_warning_for_ultrasound_and_secondary_capture(corpus_run: Run) -> None:
    def warned(name: str) -> bool:
        return any(w.kind == BURNED_IN for w in corpus_run.outcomes[CORPUS / name].warnings)

    assert warned("pydicom/examples_rgb_color.dcm")  # US, Burned In Annotation absent
    assert warned("wg04/MG1_JPLY")  # secondary capture
    assert not warned("pydicom/CT_small.dcm")
    assert not warned("mammo/MG_Explicit_Little.dcm")  # Burned In Annotation = NO


def _cli(args: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="tandem")
    add_deidentify_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["deidentify", *args])


def test_cli_writes_json_and_names_refused_files(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    rc = run_deidentify(_cli([str(CORPUS / "dcmqi" / "ct-3slice"),
                              str(CORPUS / "bad" / "zero_bytes.dcm"),
                              "--out", str(tmp_path / "out"), "--shift-dates", "--json"]))
    captured = capsys.readouterr()
    assert rc == 1
    summary = json.loads(captured.out)
    assert (summary["written"], summary["failed"]) == (3, 1)
    assert "zero_bytes.dcm" in captured.err
    assert "JANCT000" not in captured.out + captured.err and "99000" not in captured.err
    series = {Path(f["output"]).parent for f in summary["files"] if f["output"]}
    assert len(series) == 1  # the three slices stay one series
    assert run_deidentify(_cli([str(tmp_path / "missing"), "--out", str(tmp_path)])) == 2


def test_deidentified_corner_texts_hide_the_patient() -> None:
    from app.annotations import DeidentifiedFormatter
    from viewer.annotations import AnnotationContext, EnglishFormatter

    header = read_header(CORPUS / "pydicom" / "CT_small.dcm")
    ctx = AnnotationContext(header=header, index=0, count=1, position_mm=None,
                            window_center=40, window_width=400, window_name="", zoom=1.0,
                            inverted=False, spacing_calibrated=True)
    plain = EnglishFormatter().corners(ctx)
    assert "CompressedSamples" in plain.upper_left and "1CT1" in plain.upper_left
    texts = DeidentifiedFormatter(EnglishFormatter()).corners(ctx)
    shown = "\n".join((texts.upper_left, texts.upper_right, texts.lower_left, texts.lower_right))
    for hidden in ("CompressedSamples", "1CT1", "2004"):
        assert hidden not in shown
    assert "CT" in texts.upper_right and "Im 1/1" in texts.lower_left
    assert "W 400 L 40" in texts.lower_right
