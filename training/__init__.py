"""Training code for Tandem's own research models (not shipped with the application).

One command per model (``python -m training.<model_id>``) trains from ``../shared/datasets``
with a fixed seed and writes ``onnx_models/<model_id>/``. Only this package imports torch.
"""
