"""Other formats: readers of torch (ATen ops, recorded) and ONNX, their op tables, the nesting of their graphs, PyTorch export."""
