"""Model manifests, registry and ONNX Runtime sessions (no Qt, no VTK)."""
