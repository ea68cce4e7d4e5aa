"""Compute proxies for the benchmark while Tandem's trained models do not exist yet.

A ResNet-18-sized convolutional network with random weights, built with ``onnx.helper``:
it costs what a real radiograph classifier costs (≈ 1.8 GFLOP at 224², 11 M weights at
width 64), so latency and the overhead of Tandem's pipeline around it are meaningful,
but its outputs are noise. Two heads: case score + class-activation heatmap (like
``cxr_normality``) and boxes + scores (like ``fracture_boxes``). The manifests follow
``tests/model_factory.py`` and are validated by the real registry.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from model_factory import OPSET, base_manifest, score_output, write_model


class _Graph:
    def __init__(self, seed: int = 0) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.rng = np.random.default_rng(seed)
        self.count = 0

    def name(self, stem: str) -> str:
        self.count += 1
        return f"{stem}{self.count}"

    def weight(self, shape: tuple[int, ...], fan_in: int) -> str:
        name = self.name("w")
        value = self.rng.standard_normal(shape).astype(np.float32) * np.float32(
            np.sqrt(2.0 / fan_in))
        self.inits.append(numpy_helper.from_array(value, name))
        return name

    def conv(self, x: str, c_in: int, c_out: int, k: int, stride: int, relu: bool = True) -> str:
        w = self.weight((c_out, c_in, k, k), c_in * k * k)
        b = self.name("b")
        self.inits.append(numpy_helper.from_array(np.zeros(c_out, np.float32), b))
        y = self.name("conv")
        self.nodes.append(helper.make_node("Conv", [x, w, b], [y], kernel_shape=[k, k],
                                           strides=[stride, stride], pads=[k // 2] * 4))
        if not relu:
            return y
        z = self.name("relu")
        self.nodes.append(helper.make_node("Relu", [y], [z]))
        return z

    def block(self, x: str, c_in: int, c_out: int, stride: int) -> str:
        """A ResNet basic block (two 3×3 convolutions and a shortcut)."""
        y = self.conv(x, c_in, c_out, 3, stride)
        y = self.conv(y, c_out, c_out, 3, 1, relu=False)
        shortcut = x if (stride == 1 and c_in == c_out) else self.conv(x, c_in, c_out, 1, stride,
                                                                        relu=False)
        s, r = self.name("add"), self.name("relu")
        self.nodes += [helper.make_node("Add", [y, shortcut], [s]),
                       helper.make_node("Relu", [s], [r])]
        return r

    def backbone(self, width: int) -> tuple[str, int]:
        x = self.conv("image", 1, width, 7, 2)
        pooled = self.name("pool")
        self.nodes.append(helper.make_node("MaxPool", [x], [pooled], kernel_shape=[3, 3],
                                           strides=[2, 2], pads=[1, 1, 1, 1]))
        x, channels = pooled, width
        for stage, out in enumerate([width, width * 2, width * 4, width * 8]):
            x = self.block(x, channels, out, 1 if stage == 0 else 2)
            x = self.block(x, out, out, 1)
            channels = out
        return x, channels

    def model(self, size: int, outputs: list[onnx.ValueInfoProto]) -> onnx.ModelProto:
        image = helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 1, size, size])
        graph = helper.make_graph(self.nodes, "proxy", [image], outputs, initializer=self.inits)
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])


def classifier_proxy(folder: Path, *, size: int = 384, width: int = 64) -> Path:
    """Score + heatmap (the shape of ``cxr_normality``)."""
    g = _Graph(seed=1)
    features, channels = g.backbone(width)
    g.nodes += [
        helper.make_node("GlobalAveragePool", [features], ["gap"]),
        helper.make_node("Flatten", ["gap"], ["flat"]),
        helper.make_node("Gemm", ["flat", g.weight((1, channels), channels), "fc_b"], ["logits"],
                         transB=1),
        helper.make_node("Conv", [features, g.weight((1, channels, 1, 1), channels)], ["cam_low"]),
        helper.make_node("Resize", ["cam_low", "", "cam_scales"], ["cam"], mode="linear"),
    ]
    stride = 32
    g.inits += [numpy_helper.from_array(np.zeros(1, np.float32), "fc_b"),
                numpy_helper.from_array(np.array([1, 1, stride, stride], np.float32),
                                        "cam_scales")]
    outs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 1]),
            helper.make_tensor_value_info("cam", TensorProto.FLOAT, [1, 1, size, size])]
    manifest = base_manifest("proxy_classifier", size, [
        score_output(),
        {"name": "cam", "kind": "heatmap", "for_label": "abnormal", "space": "model_input",
         "activation": "sigmoid", "value_range": [0.0, 1.0]},
    ], normalize=(0.5, 0.25))
    return write_model(folder, g.model(size, outs), manifest)


def detector_proxy(folder: Path, *, size: int = 512, width: int = 64, boxes: int = 100) -> Path:
    """Boxes + scores (the shape of ``fracture_boxes``): a dense head on the pooled features."""
    g = _Graph(seed=2)
    features, channels = g.backbone(width)
    g.nodes += [
        helper.make_node("GlobalAveragePool", [features], ["gap"]),
        helper.make_node("Flatten", ["gap"], ["flat"]),
        helper.make_node("Gemm", ["flat", g.weight((boxes * 4, channels), channels), "bb"],
                         ["box_raw"], transB=1),
        helper.make_node("Sigmoid", ["box_raw"], ["box_unit"]),
        helper.make_node("Reshape", ["box_unit", "box_shape"], ["boxes"]),
        helper.make_node("Gemm", ["flat", g.weight((boxes, channels), channels), "sb"],
                         ["score_raw"], transB=1),
        helper.make_node("Sigmoid", ["score_raw"], ["score_unit"]),
        helper.make_node("Reshape", ["score_unit", "score_shape"], ["box_scores"]),
    ]
    g.inits += [numpy_helper.from_array(np.zeros(boxes * 4, np.float32), "bb"),
                numpy_helper.from_array(np.zeros(boxes, np.float32), "sb"),
                numpy_helper.from_array(np.array([1, boxes, 4], np.int64), "box_shape"),
                numpy_helper.from_array(np.array([1, boxes, 1], np.int64), "score_shape")]
    outs = [helper.make_tensor_value_info("boxes", TensorProto.FLOAT, [1, boxes, 4]),
            helper.make_tensor_value_info("box_scores", TensorProto.FLOAT, [1, boxes, 1])]
    manifest = base_manifest("proxy_detector", size, [{
        "name": "boxes", "kind": "boxes", "format": "cxcywh", "space": "model_input",
        "normalized": True, "scores": "box_scores", "labels": ["fracture"],
        "activation": "none", "score_threshold": 0.05, "nms_iou": 0.5, "max_boxes": 20,
        "operating_points": {"high_sensitivity": {"threshold": 0.3, "sensitivity": 0.9},
                             "high_specificity": {"threshold": 0.7, "specificity": 0.9}},
    }], body_parts=[], normalize=(0.5, 0.25))
    return write_model(folder, g.model(size, outs), manifest)
