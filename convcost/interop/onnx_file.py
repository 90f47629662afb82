"""Reading an ONNX file in bounded time and memory: the graph, without the weights' data.

Only regular files up to protobuf's own limit of 2 GiB are read. The file is walked field by
field (protobuf's wire format), seeking past the data of every large tensor — an initializer,
a Constant node's value, a subgraph's weights — which is kept as dims and marked external, as
``onnx.load(load_external_data=False)`` leaves a model with external weights. The graph itself
(nodes, shapes, small constants) is then parsed by protobuf: a 500 MB model costs the memory of
its few hundred KB of graph, and a file that is not protobuf is refused at its first bad byte.
"""

from __future__ import annotations

import os
import stat
from typing import Any, BinaryIO

import onnx
from google.protobuf.message import DecodeError

from ..errors import ConvcostError

MAX_FILE = 2**31  #: bytes: protobuf's limit for one message (larger models keep weights as external data)
MAX_KEPT = 2**27  #: bytes of graph besides the large tensors' data (128 MiB; a ResNet-50's is 29 KB)
MAX_FIELDS = 1_000_000  #: protobuf fields walked (nodes, large tensors' fields): about 2 s; a ResNet-50's are 622
WALK_DEPTH = 16  #: messages in messages walked into (subgraphs in subgraphs); deeper ones are kept whole
BIG = 4096  #: bytes of a message walked into; smaller ones are kept whole (a small tensor: shapes, axes)
DROPPED = "dropped-by-convcost"  #: the external location of a tensor whose data was not read

#: Messages walked, and their fields that hold messages which may hold weights.
_CHILDREN = {
    "ModelProto": {"graph": "GraphProto", "training_info": "TrainingInfoProto", "functions": "FunctionProto"},
    "TrainingInfoProto": {"initialization": "GraphProto", "algorithm": "GraphProto"},
    "FunctionProto": {"node": "NodeProto"},
    "GraphProto": {"node": "NodeProto", "initializer": "TensorProto", "sparse_initializer": "SparseTensorProto"},
    "NodeProto": {"attribute": "AttributeProto"},
    "AttributeProto": {
        "t": "TensorProto",
        "tensors": "TensorProto",
        "g": "GraphProto",
        "graphs": "GraphProto",
        "sparse_tensor": "SparseTensorProto",
        "sparse_tensors": "SparseTensorProto",
    },
    "SparseTensorProto": {"values": "TensorProto", "indices": "TensorProto"},
}
CHILDREN = {
    message: {getattr(onnx, message).DESCRIPTOR.fields_by_name[f].number: child for f, child in fields.items()}
    for message, fields in _CHILDREN.items()
}
_T = onnx.TensorProto.DESCRIPTOR.fields_by_name
DATA = {_T[f].number for f in ("float_data", "int32_data", "string_data", "int64_data", "raw_data", "double_data", "uint64_data")}
VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        if not value:
            out.append(low)
            return bytes(out)
        out.append(low | 0x80)


def _field(number: int, payload: bytes) -> bytes:
    return _varint(number << 3 | LENGTH) + _varint(len(payload)) + payload


#: What a tensor whose data was dropped gets: data_location EXTERNAL, external_data {location: DROPPED}.
EXTERNAL_MARK = (
    _varint(_T["data_location"].number << 3 | VARINT)
    + _varint(onnx.TensorProto.EXTERNAL)
    + _field(_T["external_data"].number, _field(1, b"location") + _field(2, DROPPED.encode()))
)


class _Walker:
    """The file's bytes with large tensors' data left out (see the module's docstring)."""

    def __init__(self, file: BinaryIO, path: str) -> None:
        self.file, self.path, self.pos, self.start, self.fields, self.kept = file, path, 0, 0, 0, 0

    def bad(self, why: str) -> ConvcostError:
        return ConvcostError(f"{self.path}: not an ONNX model (byte {self.start:,}: {why})")

    def read(self, n: int) -> bytes:
        data = self.file.read(n)
        if len(data) != n:
            raise self.bad("the file ends inside a protobuf field")
        self.pos += n
        return data

    def skip(self, n: int) -> None:
        self.file.seek(n, os.SEEK_CUR)
        self.pos += n

    def varint(self) -> tuple[int, bytes]:
        raw = bytearray()
        while True:
            byte = self.read(1)
            raw += byte
            if not byte[0] & 0x80:
                break
            if len(raw) == 10:
                raise self.bad("a varint longer than 10 bytes")
        value = 0
        for i, b in enumerate(raw):
            value |= (b & 0x7F) << (7 * i)
        return value, bytes(raw)

    def keep(self, data: bytes) -> bytes:
        self.kept += len(data)
        if self.kept > MAX_KEPT:
            raise ConvcostError(f"{self.path}: more than {MAX_KEPT // 2**20} MiB of graph besides the weights' data "
                                "(nodes, shapes, attributes); convcost reads at most that much")  # fmt: skip
        return data

    def message(self, kind: str, end: int, depth: int) -> bytes:
        """The message of ``kind`` from here to ``end``, its large parts walked into."""
        children = CHILDREN.get(kind, {}) if depth < WALK_DEPTH else {}
        parts: list[bytes] = []
        dropped = False
        while self.pos < end:
            self.fields += 1
            if self.fields > MAX_FIELDS:
                raise ConvcostError(f"{self.path}: more than {MAX_FIELDS:,} protobuf fields outside the weights' data; "
                                    "convcost reads at most that many")  # fmt: skip
            self.start = self.pos
            tag, raw_tag = self.varint()
            number, wire = tag >> 3, tag & 7
            if number == 0 or wire not in (VARINT, FIXED64, LENGTH, FIXED32):
                raise self.bad(f"protobuf field {number} of wire type {wire}, which ONNX does not write")
            if wire == VARINT:
                parts.append(self.keep(raw_tag + self.varint()[1]))
                continue
            if wire != LENGTH:
                parts.append(self.keep(raw_tag + self.read(8 if wire == FIXED64 else 4)))
                continue
            size, raw_size = self.varint()
            if self.pos + size > end:
                raise self.bad(f"a field of {size:,} bytes that runs past its message's end")
            if kind == "TensorProto" and number in DATA:
                self.skip(size)  # a large tensor's data: only its dims count
                dropped = True
            elif number in children and size > BIG:
                sub = self.message(children[number], self.pos + size, depth + 1)
                parts.append(self.keep(raw_tag) + _varint(len(sub)) + sub)
            else:
                parts.append(self.keep(raw_tag + raw_size + self.read(size)))
        if self.pos != end:
            raise self.bad("a field that runs past its message's end")
        if dropped:
            parts.append(EXTERNAL_MARK)
        return b"".join(parts)


def _open(path: str) -> int:
    """A descriptor of ``path``, opened without blocking (a FIFO with no writer is refused, not waited on)."""
    try:
        return os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except FileNotFoundError:
        raise ConvcostError(f"{path}: no such file") from None
    except OSError as exc:
        raise ConvcostError(f"{path}: cannot read it ({exc.strerror or type(exc).__name__})") from None


def _size(info: os.stat_result, path: str) -> int:
    """The size of the regular file described by ``info``; refused: anything else, and files past MAX_FILE."""
    if not stat.S_ISREG(info.st_mode):
        what = "a directory" if stat.S_ISDIR(info.st_mode) else "not a regular file (a device, a FIFO or a socket)"
        raise ConvcostError(f"{path}: {what}; convcost reads an ONNX model from a regular file")
    if info.st_size > MAX_FILE:
        raise ConvcostError(f"{path}: {info.st_size:,} bytes; an ONNX file holds at most 2 GiB ({MAX_FILE:,} bytes, protobuf's "
                            "limit): save a larger model with its weights as external data")  # fmt: skip
    return info.st_size


def load(path: str) -> Any:
    """The ONNX model at ``path``, its large tensors' data not read (marked external)."""
    fd = _open(path)
    try:
        with os.fdopen(fd, "rb") as file:
            size = _size(os.fstat(file.fileno()), path)
            walker = _Walker(file, path)
            data = walker.read(size) if size <= BIG else walker.message("ModelProto", size, 0)
    except OSError as exc:
        raise ConvcostError(f"{path}: cannot read it ({exc.strerror or type(exc).__name__})") from None
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except DecodeError as exc:
        first = str(exc).splitlines()[0] if str(exc) else "DecodeError"
        raise ConvcostError(f"{path}: not an ONNX model (protobuf cannot parse it: {first})") from None
    return model
