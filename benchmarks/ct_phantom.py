"""Generate (and cache) a synthetic but realistic 512×512×N CT series for the benchmarks.

The phantom is a chest-like HU volume (body ellipse with a fat rim, two lungs that
grow and shrink along z, spine, ribs, sternum, table, Gaussian noise) written as
int16 stored values with RescaleIntercept -1024, one file per slice, with the
headers a CT scanner writes (one study/series, ImagePositionPatient stepping 1 mm,
axial ImageOrientationPatient, PixelSpacing). The same slices are written in two
transfer syntaxes; GDCM transcodes the uncompressed files to JPEG Lossless
(Process 14, SV1: 1.2.840.10008.1.2.4.70), which pydicom cannot encode.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    CTImageStorage,
    ExplicitVRLittleEndian,
    JPEGLosslessSV1,
    generate_uid,
)

ROWS = COLUMNS = 512
PIXEL_SPACING_MM = 0.7  # 358 mm field of view: an adult chest
SLICE_STEP_MM = 1.0
RESCALE_INTERCEPT = -1024
# Bump when the phantom or headers change, so stale caches are not reused.
PHANTOM_VERSION = 1
DEFAULT_CACHE = Path(tempfile.gettempdir()) / "tandem-bench-cache"

SYNTAXES = {"explicit_le": ExplicitVRLittleEndian, "jpeg_lossless": JPEGLosslessSV1}


@dataclass(frozen=True)
class PhantomSeries:
    """One generated series on disk: its folder, files in slice order and transfer syntax."""

    name: str
    folder: Path
    files: tuple[Path, ...]
    transfer_syntax: str

    @property
    def bytes_on_disk(self) -> int:
        return sum(f.stat().st_size for f in self.files)


def hu_slice(index: int, count: int) -> np.ndarray:
    """HU values (int16, rows × cols) of slice ``index`` of ``count``; deterministic."""
    y, x = np.mgrid[0:ROWS, 0:COLUMNS].astype(np.float32)
    cx, cy = COLUMNS / 2, ROWS / 2 + 10
    t = index / max(count - 1, 1)  # 0 = apex (top), 1 = abdomen
    hu = np.full((ROWS, COLUMNS), -1000.0, dtype=np.float32)  # air
    body = ((x - cx) / 230) ** 2 + ((y - cy) / 170) ** 2
    hu[body <= 1.0] = -100.0  # subcutaneous fat
    hu[body <= 0.85] = 40.0  # soft tissue / muscle
    # Lungs: largest mid-chest, vanishing towards the abdomen.
    lung_scale = max(0.0, np.sin(np.pi * min(t * 1.3, 1.0)))
    if lung_scale > 0.05:
        for side in (-1, 1):
            lung = ((x - cx - side * 95) / (70 * lung_scale + 1)) ** 2 + (
                (y - cy + 5) / (120 * lung_scale + 1)
            ) ** 2
            hu[lung <= 1.0] = -850.0
            vessel = ((x - cx - side * 80) / 6) ** 2 + ((y - cy - 20 + 40 * t) / 6) ** 2
            hu[vessel <= 1.0] = 60.0
    heart = ((x - cx + 25) / 75) ** 2 + ((y - cy + 10) / 60) ** 2
    if 0.25 < t < 0.65:
        hu[heart <= 1.0] = 45.0
    hu[((x - cx) / 25) ** 2 + ((y - cy + 40) / 22) ** 2 <= 1.0] = 50.0  # aorta
    # Bones: vertebral body, cortex and spinous process; ribs on the ellipse; sternum.
    hu[((x - cx) / 28) ** 2 + ((y - cy - 110) / 24) ** 2 <= 1.0] = 700.0
    hu[((x - cx) / 18) ** 2 + ((y - cy - 110) / 15) ** 2 <= 1.0] = 250.0
    hu[(np.abs(x - cx) < 7) & (y > cy + 130) & (y < cy + 160)] = 600.0
    hu[((x - cx) / 14) ** 2 + ((y - cy + 150) / 8) ** 2 <= 1.0] = 500.0
    if index % 24 < 10:  # ribs come and go along z
        rib_band = (body > 0.70) & (body < 0.78) & (y < cy + 120)
        hu[rib_band] = 900.0
    hu[(y > cy + 190) & (y < cy + 200) & (np.abs(x - cx) < 240)] = 200.0  # table
    rng = np.random.default_rng(1000 + index)
    hu += rng.normal(0.0, 12.0, size=hu.shape).astype(np.float32)
    return np.clip(np.rint(hu), -1024, 3071).astype(np.int16)


def _dataset(index: int, count: int, series_uid: str, study_uid: str, frame_uid: str,
             syntax_name: str) -> Dataset:
    sop_uid = generate_uid(entropy_srcs=["tandem-bench", syntax_name, str(count), str(index)])
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.SOPClassUID = CTImageStorage
    ds.SOPInstanceUID = sop_uid
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = "20261123"
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = "090000"
    ds.AccessionNumber = "BENCH0001"
    ds.Modality = "CT"
    ds.Manufacturer = "Tandem benchmark phantom"
    ds.StudyDescription = "CT THORAX (synthetic phantom)"
    ds.SeriesDescription = f"Phantom 1 mm {syntax_name}"
    ds.PatientName = "Phantom^Benchmark"
    ds.PatientID = "BENCH-PHANTOM"
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = "O"
    ds.BodyPartExamined = "CHEST"
    ds.SliceThickness = SLICE_STEP_MM
    ds.KVP = 120
    ds.PatientPosition = "HFS"
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.StudyID = "1"
    ds.SeriesNumber = 2 if syntax_name == "jpeg_lossless" else 1
    ds.AcquisitionNumber = 1
    ds.InstanceNumber = index + 1
    half = PIXEL_SPACING_MM * (COLUMNS - 1) / 2
    # Head first supine, scanned from the apex down: z decreases by 1 mm per slice.
    ds.ImagePositionPatient = [-half, -half, -SLICE_STEP_MM * index]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.FrameOfReferenceUID = frame_uid
    ds.PositionReferenceIndicator = ""
    ds.SliceLocation = -SLICE_STEP_MM * index
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = ROWS, COLUMNS
    ds.PixelSpacing = [PIXEL_SPACING_MM, PIXEL_SPACING_MM]
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 16, 15
    ds.PixelRepresentation = 1
    ds.WindowCenter, ds.WindowWidth = [40, -600], [400, 1500]
    ds.RescaleIntercept = RESCALE_INTERCEPT
    ds.RescaleSlope = 1
    ds.RescaleType = "HU"
    stored = hu_slice(index, count).astype(np.int32) - RESCALE_INTERCEPT
    ds.PixelData = stored.astype("<i2").tobytes()
    return ds


def _write_uncompressed(folder: Path, count: int, study_uid: str, frame_uid: str) -> None:
    series_uid = generate_uid(entropy_srcs=["tandem-bench-series", "explicit_le", str(count)])
    for i in range(count):
        ds = _dataset(i, count, series_uid, study_uid, frame_uid, "explicit_le")
        ds.save_as(folder / f"CT{i + 1:05d}.dcm", enforce_file_format=True)


def _transcode_jpeg_lossless(source: Path, folder: Path, count: int) -> None:
    """Rewrite each uncompressed file as JPEG Lossless SV1 with GDCM (new series/SOP UIDs)."""
    import gdcm  # imported here: only generation needs it

    series_uid = generate_uid(entropy_srcs=["tandem-bench-series", "jpeg_lossless", str(count)])
    for i in range(count):
        tmp = folder / f"tmp{i + 1:05d}.dcm"
        ds = pydicom.dcmread(source / f"CT{i + 1:05d}.dcm")
        ds.SeriesInstanceUID = series_uid
        ds.SeriesNumber = 2
        ds.SeriesDescription = "Phantom 1 mm jpeg_lossless"
        ds.SOPInstanceUID = generate_uid(
            entropy_srcs=["tandem-bench", "jpeg_lossless", str(count), str(i)])
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.save_as(tmp, enforce_file_format=True)
        reader = gdcm.ImageReader()
        reader.SetFileName(str(tmp))
        if not reader.Read():
            raise RuntimeError(f"GDCM cannot read {tmp}")
        change = gdcm.ImageChangeTransferSyntax()
        change.SetTransferSyntax(gdcm.TransferSyntax(gdcm.TransferSyntax.JPEGLosslessProcess14_1))
        change.SetInput(reader.GetImage())
        if not change.Change():
            raise RuntimeError(f"GDCM cannot encode {tmp} as JPEG Lossless")
        writer = gdcm.ImageWriter()
        writer.SetFileName(str(folder / f"CT{i + 1:05d}.dcm"))
        writer.SetFile(reader.GetFile())
        writer.SetImage(change.GetOutput())
        if not writer.Write():
            raise RuntimeError(f"GDCM cannot write {folder / f'CT{i + 1:05d}.dcm'}")
        tmp.unlink()


def _check_lossless(original: Path, encoded: Path) -> None:
    """The JPEG file must decode to exactly the uncompressed pixels (first, middle, last)."""
    a = pydicom.dcmread(original).pixel_array
    ds = pydicom.dcmread(encoded)
    if str(ds.file_meta.TransferSyntaxUID) != JPEGLosslessSV1:
        raise RuntimeError(f"{encoded}: transfer syntax is {ds.file_meta.TransferSyntaxUID}")
    if not np.array_equal(a, ds.pixel_array):
        raise RuntimeError(f"{encoded}: JPEG Lossless round trip changed the pixels")


def phantom_series(count: int, cache: Path = DEFAULT_CACHE,
                   log: bool = True) -> dict[str, PhantomSeries]:
    """The two series of ``count`` slices, generated on first use and then reused from ``cache``."""
    root = cache / f"ct_{ROWS}x{COLUMNS}x{count}_v{PHANTOM_VERSION}"
    done = root / "COMPLETE"
    if not done.exists():
        if root.exists():
            shutil.rmtree(root)
        folders = {name: root / name for name in SYNTAXES}
        for folder in folders.values():
            folder.mkdir(parents=True)
        study_uid = generate_uid(entropy_srcs=["tandem-bench-study", str(count)])
        frame_uid = generate_uid(entropy_srcs=["tandem-bench-frame", str(count)])
        if log:
            print(f"generating {count} CT slices under {root} (cached for later runs)...",
                  flush=True)
        _write_uncompressed(folders["explicit_le"], count, study_uid, frame_uid)
        _transcode_jpeg_lossless(folders["explicit_le"], folders["jpeg_lossless"], count)
        for i in sorted({0, count // 2, count - 1}):
            name = f"CT{i + 1:05d}.dcm"
            _check_lossless(folders["explicit_le"] / name, folders["jpeg_lossless"] / name)
        done.write_text("ok\n")
    return {
        name: PhantomSeries(name, root / name, tuple(sorted((root / name).glob("CT*.dcm"))), uid)
        for name, uid in SYNTAXES.items()
    }
