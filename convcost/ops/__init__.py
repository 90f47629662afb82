"""Leaves that kinds/ use to run: numpy kernels (``numpy_ops``) and torch building blocks
(``torch_modules``). They import numpy or torch, never the rest of convcost."""
