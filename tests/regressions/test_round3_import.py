"""convcost import on hostile sources (issue: reliability, round 3, items 4, 5, 6, 8 and 13): every
case is one line `error: ...` naming the file (and the node), exit 2, in bounded time and memory —
or a clean import where the source is fine. The CLI cases run as real processes under a 1.5 GiB
address-space cap, as tests/regressions/test_round2_hostile.py runs them."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

onnx = pytest.importorskip("onnx")
torch = pytest.importorskip("torch")
import numpy as np  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from torch import nn  # noqa: E402

from convcost.analysis.report import analyze  # noqa: E402
from convcost.errors import ConvcostError  # noqa: E402
from convcost.interop import aten_ops, from_torch  # noqa: E402
from convcost.interop.read import read_source, to_yaml  # noqa: E402
from convcost.yamlio.spec import loads  # noqa: E402

CAP = int(1.5 * 2**30)
CLI = [sys.executable, "-c", "from convcost.cli import entry; entry()"]


def capped() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (CAP, CAP))


def cli(*args: str, timeout: float = 15) -> tuple[int, str, str, float]:
    start = time.perf_counter()
    done = subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout, preexec_fn=capped)
    return done.returncode, done.stdout, done.stderr, time.perf_counter() - start


def refused(source: str, *words: str, args: tuple[str, ...] = (), seconds: float = 10) -> str:
    code, out, err, took = cli("import", source, *args)
    assert code == 2 and out == "" and "Traceback" not in err and err.count("\n") == 1, err
    assert err.startswith(f"error: {source}: "), err
    assert all(w in err for w in words), err
    assert took < seconds, took
    return err


def imported(source: str, *args: str, seconds: float = 10) -> dict:
    code, out, err, took = cli("import", source, *args)
    assert code == 0 and "Traceback" not in err, err
    assert took < seconds, took
    return yaml.safe_load(out)


def in_process(source: str, shape: tuple[int, ...] | None = None) -> str:
    ops, name, _ = read_source(source, shape, False)
    return to_yaml(ops, name, "", origin=source)


def save(path: Path, nodes: list, inputs: list, output: str, initializers: list = ()) -> str:
    graph = helper.make_graph(nodes, "g", inputs, [helper.make_tensor_value_info(output, TensorProto.FLOAT, None)], list(initializers))
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    return str(path)


def image(name: str = "x", shape: tuple[int, ...] = (1, 4, 8, 8)) -> object:
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape))


def conv_file(path: Path, weight: list[int], *, group: int = 1, x: tuple[int, ...] = (1, 4, 8, 8), name: str = "/conv1/Conv") -> str:
    w = numpy_helper.from_array(np.zeros(weight, dtype=np.float32), "w")
    return save(path, [helper.make_node("Conv", ["x", "w"], ["y"], name=name, group=group)], [image(shape=x)], "y", [w])


def relu_with(path: Path, extra: list) -> str:
    """x → Relu → y, and ``extra`` nodes (dead shape arithmetic) beside it."""
    return save(path, [helper.make_node("Relu", ["x"], ["y"], name="/relu/Relu"), *extra], [image()], "y")


def varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        out.append(low | (0x80 if value else 0))
        if not value:
            return bytes(out)


def sparse_gemm(path: Path, weight_bytes: int) -> int:
    """An ONNX file of a Flatten → Gemm whose weight's raw data (``weight_bytes``, a hole in a
    sparse file) is embedded in the file: a large model made in no time. Returns its outputs."""
    out = weight_bytes // 4 // 256
    nodes = [helper.make_node("Flatten", ["x"], ["f"], name="/flatten/Flatten"),
             helper.make_node("Gemm", ["f", "w"], ["y"], name="/fc/Gemm", transB=1)]  # fmt: skip
    graph = helper.make_graph(nodes, "g", [image(shape=(1, 4, 8, 8))], [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    head = onnx.ModelProto()
    head.CopyFrom(model)
    head.ClearField("graph")
    tensor = onnx.TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[out, 256]).SerializeToString()
    tensor += b"\x4a" + varint(out * 256 * 4)  # raw_data (field 9), its bytes to follow
    tensor_size = len(tensor) + out * 256 * 4
    graph_bytes = graph.SerializeToString() + b"\x2a" + varint(tensor_size)  # initializer (field 5)
    with open(path, "wb") as file:
        file.write(head.SerializeToString() + b"\x3a" + varint(len(graph_bytes) + tensor_size) + graph_bytes + tensor)
        file.truncate(file.tell() + out * 256 * 4)
    return out


# ---- item 4: ONNX files are read in bounded time and memory -------------------------------------


@pytest.mark.slow
def test_devices_and_fifos_are_refused_without_reading(tmp_path: Path) -> None:
    zero = tmp_path / "zero.onnx"
    zero.symlink_to("/dev/zero")
    refused(str(zero), "not a regular file")
    fifo = tmp_path / "fifo.onnx"
    os.mkfifo(fifo)
    refused(str(fifo), "not a regular file")  # not waited on: nobody writes it


@pytest.mark.slow
def test_files_over_protobufs_limit_are_refused_by_size(tmp_path: Path) -> None:
    huge = tmp_path / "huge.onnx"
    with open(huge, "wb") as file:
        file.truncate(3 * 2**30)  # sparse: no disk
    refused(str(huge), "3,221,225,472 bytes", "at most 2 GiB")


@pytest.mark.slow
def test_a_large_model_with_embedded_weights_stays_within_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.onnx"
    out = sparse_gemm(path, int(1.25 * 2**30))  # weights near the cap: never read
    assert path.stat().st_size > 1.25 * 2**30
    data = imported(str(path))
    assert data["layers"][-1] == {"linear": {"name": "fc", "out": out, "bias": False}}


def test_the_weights_data_is_skipped_and_the_rest_is_what_onnx_reads(tmp_path: Path) -> None:
    from convcost.interop import from_onnx, onnx_file

    big = numpy_helper.from_array(np.ones((8, 4, 3, 3), dtype=np.float32), "w")  # 1,152 bytes of data: kept whole
    bigger = numpy_helper.from_array(np.ones((64, 8, 3, 3), dtype=np.float32), "w2")  # walked into, its data skipped
    small = numpy_helper.from_array(np.array([1, -1], dtype=np.int64), "shape")
    value = numpy_helper.from_array(np.ones((4096,), dtype=np.float32), "c")
    nodes = [helper.make_node("Conv", ["x", "w"], ["h"], name="/c1/Conv"), helper.make_node("Conv", ["h", "w2"], ["h2"], name="/c2/Conv"),
             helper.make_node("Constant", [], ["k"], value=value), helper.make_node("Reshape", ["h2", "shape"], ["y"], name="/r/Reshape")]  # fmt: skip
    path = save(tmp_path / "m.onnx", nodes, [image()], "y", [big, bigger, small])
    mine = onnx_file.load(path)
    theirs = onnx.load(path, load_external_data=False)
    assert not mine.graph.initializer[1].raw_data and not mine.graph.node[2].attribute[0].t.raw_data  # never read
    for model in (mine, theirs):
        from_onnx._drop_weight_data(model)
        for node in model.graph.node:
            for attr in node.attribute:
                if attr.t.dims:
                    attr.t.ClearField("raw_data")
                    attr.t.ClearField("data_location")
                    attr.t.ClearField("external_data")
    assert mine == theirs


def test_a_file_that_is_not_protobuf_is_refused_at_its_first_bad_byte(tmp_path: Path) -> None:
    text = tmp_path / "notes.onnx"
    text.write_text("# not a model\n" * 1000)
    with pytest.raises(ConvcostError, match=r"notes.onnx: not an ONNX model \(byte 0: "):
        in_process(str(text))
    cut = tmp_path / "cut.onnx"
    whole = Path(conv_file(tmp_path / "whole.onnx", [4, 4, 3, 3])).read_bytes()
    cut.write_bytes(whole[: len(whole) - 7])
    with pytest.raises(ConvcostError, match=r"cut.onnx: not an ONNX model"):
        in_process(str(cut))


# ---- item 5: nesting is bounded ------------------------------------------------------------------


def nested(path: Path, depth: int, op: str = "Add") -> str:
    """Residuals (or concats) nested ``depth`` deep: N(x) = x + N(relu(x)), N(x) = relu(x) at 0."""
    nodes: list = []

    def build(x: str, k: int) -> str:
        r = f"r{len(nodes)}"
        nodes.append(helper.make_node("Relu", [x], [r], name=f"/{r}/Relu"))
        if k == 0:
            return r
        inner, out = build(r, k - 1), f"a{len(nodes)}"
        nodes.append(helper.make_node(op, [x, inner], [out], name=f"/{out}/{op}", **({"axis": 1} if op == "Concat" else {})))
        return out

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 3 * depth + 100))
    return save(path, nodes, [image(shape=(1, 1, 4, 4))], build("x", depth))


@pytest.mark.parametrize("depth", [150, 1200])
def test_deep_nesting_is_refused_with_the_limit(depth: int, tmp_path: Path) -> None:
    path = nested(tmp_path / "deep.onnx", depth)
    with pytest.raises(ConvcostError, match=r"deep.onnx: Add '.*': residuals and concats nested more than 40 deep"):
        in_process(path)


def test_nesting_up_to_the_limit_is_written(tmp_path: Path) -> None:
    for op in ("Add", "Concat"):
        report = analyze(loads(in_process(nested(tmp_path / f"{op}.onnx", 40, op))))
        assert report.layers[-1].output == ((41 if op == "Concat" else 1), 4, 4)
        with pytest.raises(ConvcostError, match="nested more than 40 deep"):
            in_process(nested(tmp_path / f"{op}41.onnx", 41, op))


@pytest.mark.slow
def test_deep_nesting_is_one_line_on_the_command_line(tmp_path: Path) -> None:
    refused(nested(tmp_path / "deep.onnx", 1200), "nested more than 40 deep", "refusing")


# ---- item 6: shape folding is bounded ------------------------------------------------------------


def doubling(tmp_path: Path) -> str:
    """8 constants doubled by 30 Concats of themselves: 2^33 elements (64 GiB) if folded."""
    nodes = [helper.make_node("Constant", [], ["c0"], value=numpy_helper.from_array(np.arange(8, dtype=np.int64)))]
    nodes += [helper.make_node("Concat", [f"c{i - 1}", f"c{i - 1}"], [f"c{i}"], axis=0) for i in range(1, 31)]
    return relu_with(tmp_path / "doubling.onnx", nodes)


def broadcast(tmp_path: Path) -> str:
    """A 16 KB constant broadcast to a 2048³ cube (64 GiB) in shape arithmetic."""

    def const(name: str, value: list[int]) -> object:
        return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(np.array(value, dtype=np.int64)))

    nodes = [const("a", list(range(2048))), const("ax12", [1, 2]), const("ax0", [0]), const("shape", [1, 2048, 1]),
             helper.make_node("Unsqueeze", ["a", "ax12"], ["col"]), helper.make_node("Unsqueeze", ["a", "ax0"], ["row"]),
             helper.make_node("Mul", ["col", "row"], ["square"]), helper.make_node("Reshape", ["a", "shape"], ["mid"]),
             helper.make_node("Add", ["square", "mid"], ["cube"])]  # fmt: skip
    return relu_with(tmp_path / "broadcast.onnx", nodes)


def declared(tmp_path: Path) -> str:
    """A Constant that says it holds 2^40 floats (and holds none)."""
    value = onnx.TensorProto(data_type=TensorProto.FLOAT, dims=[2**20, 2**20])
    return relu_with(
        tmp_path / "declared.onnx", [helper.make_node("Constant", [], ["h"], value=value), helper.make_node("Shape", ["h"], ["s"])]
    )


@pytest.mark.slow
@pytest.mark.parametrize("build", [doubling, broadcast, declared])
def test_big_constant_arithmetic_is_not_folded(build: object, tmp_path: Path) -> None:
    data = imported(build(tmp_path))  # type: ignore[operator]  # one of the builders above
    assert data["layers"] == [{"relu": {"name": "relu"}}]


def test_a_huge_declared_constant_is_not_read(tmp_path: Path) -> None:
    assert yaml.safe_load(in_process(declared(tmp_path)))["layers"] == [{"relu": {"name": "relu"}}]


# ---- item 8: the user's factory cannot exit, hijack stdout or raise past the importer -------------

MODEL_FILE = """
import sys
import torch
from torch import nn

WIDTH = 4
print("imported the model file")


class Stop(BaseException):
    pass


class Exits(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, WIDTH, 3)

    def forward(self, x):
        sys.exit(3)


class Chatty(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, WIDTH, 3)

    def forward(self, x):
        print("running forward")
        return torch.relu(self.conv(x))


def chatty():
    print("building")
    return Chatty()


def quits():
    sys.exit(0)


def stops():
    raise Stop("stopped by the model")


def exits():
    return Exits()
"""


ARGPARSE = """
import argparse
parser = argparse.ArgumentParser()
parser.add_argument("--width", type=int, default=4)
WIDTH = parser.parse_args().width  # as `python model.py` sees it: no arguments
"""


@pytest.fixture
def model_file(tmp_path: Path) -> str:
    path = tmp_path / "model.py"
    path.write_text(MODEL_FILE)
    return str(path)


def test_an_argparse_in_the_model_file_sees_no_arguments(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "script.py"
    path.write_text(MODEL_FILE + ARGPARSE)
    assert isinstance(from_torch.load_factory(f"{path}:chatty"), nn.Module)
    assert sys.argv[0] != str(path) and capsys.readouterr().out == ""


@pytest.mark.parametrize(("factory", "said"), [
    ("quits", "the model file exited (SystemExit 0) while building the model"),
    ("stops", "building the model raised Stop: stopped by the model"),
])  # fmt: skip
def test_exits_and_base_exceptions_in_the_factory_are_one_line(factory: str, said: str, model_file: str) -> None:
    with pytest.raises(ConvcostError) as caught:
        from_torch.load_factory(f"{model_file}:{factory}")
    assert str(caught.value) == f"{model_file}:{factory}: {said}"


def test_exits_in_forward_are_one_line(model_file: str) -> None:
    with pytest.raises(
        ConvcostError, match=r"model.py:exits: the model file exited \(SystemExit 3\) while forward\(\) was running on a zero input"
    ):
        read_source(f"{model_file}:exits", (3, 8, 8), False)


def test_what_the_model_prints_goes_to_stderr(model_file: str, capsys: pytest.CaptureFixture[str]) -> None:
    ops, name, _ = read_source(f"{model_file}:chatty", (3, 8, 8), False)
    to_yaml(ops, name, "")
    out, err = capsys.readouterr()
    assert out == "" and "imported the model file\nbuilding\nrunning forward\n" in err


@pytest.mark.slow
def test_the_yaml_on_stdout_stays_clean(model_file: str) -> None:
    code, out, err, _ = cli("import", f"{model_file}:chatty", "-i", "3,8,8")
    assert code == 0 and "building" in err and "running forward" in err, err
    assert yaml.safe_load(out)["layers"][0]["conv"]["out"] == 4
    for factory, said in [("quits", "(SystemExit 0)"), ("stops", "raised Stop"), ("exits", "(SystemExit 3)")]:
        code, out, err, _ = cli("import", f"{model_file}:{factory}", "-i", "3,8,8")
        assert code == 2 and out == "" and "Traceback" not in err, err
        assert err.splitlines()[-1].startswith(f"error: {model_file}:{factory}: ") and said in err, err


# ---- item 13: bad values name the file and the node ----------------------------------------------


@pytest.mark.parametrize(("weight", "group", "x", "said"), [
    ([4, 4, 3, 3], 0, (1, 4, 8, 8), "groups: expected a positive integer, found 0"),
    ([0, 4, 3, 3], 1, (1, 4, 8, 8), "the model gives it the shape [0, 6, 6], which has no elements"),
    ([4, 4, 5, 5], 1, (1, 4, 3, 3), "the model gives it the shape [4, -1, -1], which has no elements"),
])  # fmt: skip
def test_invalid_values_name_the_file_and_the_node(weight: list[int], group: int, x: tuple[int, ...], said: str, tmp_path: Path) -> None:
    path = conv_file(tmp_path / "model.onnx", weight, group=group, x=x)
    with pytest.raises(ConvcostError) as caught:
        in_process(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: Conv 'conv1': {said}") and "the source model itself is invalid" in message, message
    assert "convcost bug" not in message


def test_reader_errors_name_the_file(tmp_path: Path) -> None:
    path = save(tmp_path / "m.onnx", [helper.make_node("Erf", ["x"], ["y"], name="/act/Erf")], [image()], "y")
    with pytest.raises(ConvcostError, match=rf"^{path}: Erf 'act' has no convcost kind"):
        in_process(path)


def test_a_node_named_by_slashes_only(tmp_path: Path) -> None:
    data = yaml.safe_load(in_process(conv_file(tmp_path / "m.onnx", [4, 4, 3, 3], name="/")))
    assert data["layers"] == [{"conv": {"name": "conv", "out": 4, "kernel": 3, "bias": False}}]


class Permuted(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv, self.fc = nn.Conv2d(3, 8, 3), nn.Linear(8, 16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.permute(self.conv(x), dims=(0, 2, 3, 1))
        return self.fc(x).permute(dims=(0, 3, 1, 2))


def test_permute_with_keyword_dims() -> None:
    report = analyze(loads(to_yaml(aten_ops.read(Permuted(), (3, 8, 8)), "m", "")))
    assert report.totals.params == sum(p.numel() for p in Permuted().parameters())
    assert report.layers[-1].output == (16, 6, 6)


def test_prints_go_nowhere_when_stderr_is_closed(
    model_file: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stderr", None)
    assert isinstance(from_torch.load_factory(f"{model_file}:chatty"), nn.Module)
    monkeypatch.undo()
    assert capsys.readouterr().out == ""


def test_shape_arithmetic_that_divides_by_zero_adds_no_warning_line(tmp_path: Path) -> None:
    """Issue 22 item 14: numpy's RuntimeWarning lines reached stderr while folding crafted shape
    arithmetic (an integer Div by 0, a float overflow)."""
    import warnings

    def const(name: str, value: object) -> object:
        return helper.make_node("Constant", [], [name], value=numpy_helper.from_array(np.array(value)))

    nodes = [helper.make_node("Shape", ["x"], ["s"]), const("zero", [0, 0, 0, 0]), helper.make_node("Div", ["s", "zero"], ["q"]),
             const("big", np.array([3e38], np.float32)), helper.make_node("Mul", ["big", "big"], ["inf"])]  # fmt: skip
    source = relu_with(tmp_path / "div0.onnx", nodes)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning fails the test
        assert yaml.safe_load(in_process(source))["layers"] == [{"relu": {"name": "relu"}}]
