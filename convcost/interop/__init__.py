"""Other formats: torch.fx and ONNX readers (op tables), the nesting of their graphs, PyTorch export."""
