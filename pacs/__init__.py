"""DICOM networking with PACS and modalities (no Qt, no VTK)."""
