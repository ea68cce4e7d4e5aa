"""Real radiographs from the shared data sets' pictures, written as DICOM files for tests.

The AI tests need DICOM inputs (what the viewer opens) made of real pixels (what the
models were trained on). 8-bit files carry a LINEAR_EXACT window centred at 127.5 and
255 wide, which maps stored values onto grey levels exactly as the picture's own
full-range window does, so a DICOM and its JPEG must give the same model score.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnxruntime as ort
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID, ExplicitVRLittleEndian, generate_uid

from inference.manifest import ModelManifest, ScoreOutput
from inference.postprocess import calibrated_probabilities

SOP_CLASSES = {
    "DX": UID("1.2.840.10008.5.1.4.1.1.1.1"),  # Digital X-Ray Image - For Presentation
    "MG": UID("1.2.840.10008.5.1.4.1.1.1.2"),  # Digital Mammography X-Ray - For Presentation
}


def dicom_from_picture(picture: Path, path: Path, *, body_part: str, modality: str = "DX",
                       view: str = "", laterality: str = "", twelve_bit: bool = False,
                       monochrome1: bool = False, spacing_mm: float | None = None,
                       orientation: Sequence[str] = (), patient: str = "TEST^RADIOGRAPH"
                       ) -> Path:
    """Write ``picture`` (8-bit grey) as a one-image DICOM file at ``path``.

    ``twelve_bit`` stores the values ×16 in 12 bits (window 2048/4096), as detectors do;
    ``monochrome1`` stores them inverted with MONOCHROME1, so the display is unchanged.
    """
    grey = np.asarray(Image.open(picture).convert("L"), dtype=np.uint8)
    stored: np.ndarray = 255 - grey if monochrome1 else grey
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SOP_CLASSES[modality]
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.PatientName, ds.PatientID, ds.PatientSex = patient, "AI-" + picture.stem, "O"
    ds.PatientBirthDate, ds.StudyDate, ds.StudyTime = "19700101", "20250312", "101500"
    ds.AccessionNumber, ds.StudyID, ds.SeriesNumber, ds.InstanceNumber = "", "1", 1, 1
    ds.StudyDescription = f"{body_part} {view}".strip()
    ds.Modality, ds.PresentationIntentType = modality, "FOR PRESENTATION"
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.BodyPartExamined, ds.ViewPosition, ds.ImageLaterality = body_part, view, laterality
    if orientation:
        ds.PatientOrientation = list(orientation)
    if spacing_mm is not None:
        ds.ImagerPixelSpacing = [spacing_mm, spacing_mm]
    ds.Rows, ds.Columns = stored.shape
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME1" if monochrome1 else "MONOCHROME2"
    if twelve_bit:
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
        ds.WindowCenter, ds.WindowWidth = 2048, 4096
        ds.PixelData = (stored.astype(np.uint16) * 16).tobytes()
    else:
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
        ds.WindowCenter, ds.WindowWidth, ds.VOILUTFunction = 127.5, 255, "LINEAR_EXACT"
        ds.PixelData = stored.tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path


def training_score(manifest: ModelManifest, session: ort.InferenceSession,
                   grey: np.ndarray) -> float:
    """Training's view of a model: the prepared grey square, normalised, through ONNX
    Runtime, then the manifest's activation and calibration (first score label)."""
    norm = manifest.input.preprocess.normalize
    tensor = ((grey - np.float32(norm.mean)) / np.float32(norm.std))[None, None]
    out = next(o for o in manifest.outputs if isinstance(o, ScoreOutput))
    logits = session.run([out.name], {manifest.input.name: tensor.astype(np.float32)})[0]
    return float(calibrated_probabilities(logits.reshape(-1), out.activation,
                                          out.calibration)[0])
