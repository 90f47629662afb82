"""Writes resnet18.onnx beside this file: torchvision's ResNet-18 layout exported by torch.onnx
(batch norms kept, training=TRAINING), with the weights' data left out — convcost reads only
the graph and the weights' shapes, so the file stays a few kilobytes.

    python examples/import/make_onnx.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import onnx
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from torch_models import resnet18  # noqa: E402 — beside this file


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        full = Path(tmp) / "resnet18.onnx"
        # batch 2: batch norm in training mode needs more than one value per channel
        torch.onnx.export(resnet18().eval(), (torch.zeros(2, 3, 224, 224),), str(full), dynamo=False,
                          training=torch.onnx.TrainingMode.TRAINING, input_names=["image"], output_names=["logits"])  # fmt: skip
        model = onnx.load(str(full))
    for tensor in model.graph.initializer:  # keep name, type and dims; point the data at a file that is not shipped
        tensor.ClearField("raw_data")
        tensor.data_location = onnx.TensorProto.EXTERNAL
        del tensor.external_data[:]
        entry = tensor.external_data.add()
        entry.key, entry.value = "location", "resnet18.weights-not-shipped"
    onnx.save(model, str(HERE / "resnet18.onnx"))


if __name__ == "__main__":
    main()
