"""The radiologist's own reading, comparison with the AI, reports (no Qt, no VTK)."""
