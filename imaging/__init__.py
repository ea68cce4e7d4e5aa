"""DICOM discovery, study database, decoding, pixel pipeline and geometry (no Qt, no VTK)."""
