"""Issue 22 (reliability round 3), items 2, 3, 5, 10, 12, 14, 15 and issue 23 item 5: outputs write
what they are pointed at (files keep their mode, new ones follow the umask, devices, FIFOs and
/dev/stdout are written through, links followed), a closed or ASCII-only standard output, outputs
that would replace one another, SIGTERM during a write, and YAML tags on values they cannot read."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from convcost.cli import run
from convcost.errors import ConvcostError

from ..conftest import LAYERS, ROOT

MODEL = str(LAYERS / "mobilenet_v1.yaml")
CLI = [sys.executable, "-c", "from convcost.cli import entry; entry()"]
ONNX = ROOT / "examples" / "import" / "resnet18.onnx"


def one_line_error(code: int, err: str, *words: str) -> None:
    assert code == 2 and err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err, err
    assert all(w in err for w in words), err


def test_an_overwritten_file_keeps_its_mode_and_a_new_one_follows_the_umask(tmp_path: Path) -> None:
    kept = tmp_path / "kept.json"
    kept.write_text("old")
    kept.chmod(0o640)
    assert run(["analyze", MODEL, "-f", "json", "-o", str(kept)]) == 0
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640 and kept.read_text().startswith("{")
    for mask, mode in ((0o022, 0o644), (0o077, 0o600), (0o002, 0o664)):
        old = os.umask(mask)
        try:
            new = tmp_path / f"new-{mask:o}.json"
            assert run(["schema", "-o", str(new)]) == 0
        finally:
            os.umask(old)
        assert stat.S_IMODE(new.stat().st_mode) == mode, (oct(mask), oct(new.stat().st_mode))


def test_a_symlink_is_followed_and_kept(tmp_path: Path) -> None:
    target = tmp_path / "real.json"
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target.name)
    assert run(["schema", "-o", str(link)]) == 0
    assert link.is_symlink() and target.read_text().startswith("{")


def test_a_fifo_is_written_through_not_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    assert run(["analyze", MODEL, "-f", "json", "-o", str(fifo)]) == 0
    reader.join(10)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode) and got and got[0].startswith(b"{")


def test_dev_null_stays_a_device() -> None:
    """As root, `-o /dev/null` used to turn the machine's /dev/null into a root-only regular file."""
    if not stat.S_ISCHR(os.stat("/dev/null").st_mode):
        pytest.skip("/dev/null is not a character device here")
    for args in (["analyze", MODEL, "-o", "/dev/null"], ["schema", "-o", "/dev/null"], ["analyze", MODEL, "-f", "csv", "-o", "/dev/null"]):
        assert run(args) == 0
        assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


@pytest.mark.slow
def test_dev_stdout_gets_the_report() -> None:
    done = subprocess.run([*CLI, "analyze", MODEL, "-f", "json", "-o", "/dev/stdout"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("{") and '"mobilenet_v1"' in done.stdout, done.stderr


def test_directories_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "dir.yaml"
    folder.mkdir()
    from convcost.output import atomic_writer

    with pytest.raises(ConvcostError, match="is a directory"), atomic_writer(folder) as handle:
        handle.write("x")


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [["analyze", MODEL], ["analyze", MODEL, "-f", "json"], ["schema"], ["hdc-check", "1,2,5", "-f", "csv"], ["export", MODEL],
     ["import", str(ONNX)]],
    ids=lambda a: "-".join(a[:1] + a[2:3]),
)  # fmt: skip
def test_a_closed_standard_output_is_one_line(args: list[str]) -> None:
    if args[0] in ("export", "import"):
        pytest.importorskip("torch" if args[0] == "export" else "onnx")
    done = subprocess.run([*CLI, *args], capture_output=False, stdout=None, stderr=subprocess.PIPE, text=True, timeout=60,
                          preexec_fn=lambda: os.close(1))  # fmt: skip
    one_line_error(done.returncode, done.stderr, "standard output is closed")


@pytest.mark.slow
def test_an_ascii_standard_output_still_gets_valid_yaml_from_import() -> None:
    pytest.importorskip("onnx")
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    done = subprocess.run([*CLI, "import", str(ONNX), "--name", "résnet-18 ☃"], capture_output=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    from convcost.yamlio.spec import loads

    assert loads(done.stdout.decode("utf-8")).name == "résnet-18 ☃"


def test_a_newline_in_the_source_path_cannot_add_yaml_keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("onnx")
    evil = tmp_path / "m\nbudget: {params: 1}\nx.onnx"
    evil.write_bytes(ONNX.read_bytes())
    out = tmp_path / "m.yaml"
    assert run(["import", str(evil), "-o", str(out)]) == 0
    from convcost.yamlio.spec import load

    assert load(out).budget.limits == {} and out.read_text().startswith("# Imported by convcost from ")


def test_outputs_that_would_replace_one_another_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("matplotlib")
    plot = tmp_path / "p.png"
    one_line_error(run(["analyze", MODEL, "-p", "t4", "--plot", str(plot), "-o", str(tmp_path / "." / "p.png")]), capsys.readouterr().err,
                   "--plot", "also the --output")  # fmt: skip
    assert not plot.exists()
    model = tmp_path / "net.yaml"
    model.write_text((LAYERS / "factorize_5x5.yaml").read_text())
    would = tmp_path / "out" / "net.factorize.yaml"
    one_line_error(run(["compare", str(model), "-r", "factorize", "--emit-yaml", str(tmp_path / "out"), "-o", str(would)]),
                   capsys.readouterr().err, "--emit-yaml", "--output")  # fmt: skip
    assert not would.exists()


def test_sigterm_during_a_write_removes_the_temporary_file(tmp_path: Path) -> None:
    from convcost import cli
    from convcost.output import atomic_writer

    target = tmp_path / "report.txt"
    target.write_text("old")
    previous = signal.signal(signal.SIGTERM, cli._terminated)
    try:
        with pytest.raises(SystemExit) as exited, atomic_writer(target) as handle:
            handle.write("half")
            os.kill(os.getpid(), signal.SIGTERM)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert exited.value.code == 128 + signal.SIGTERM
    assert target.read_text() == "old" and sorted(p.name for p in tmp_path.iterdir()) == ["report.txt"]


@pytest.mark.slow
def test_sigterm_sets_the_handler_in_a_real_process(tmp_path: Path) -> None:
    code = "import signal; from convcost import cli; cli.run = lambda: print(signal.getsignal(signal.SIGTERM).__name__) or 0; cli.entry()"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "_terminated", done.stderr


@pytest.mark.parametrize(
    ("value", "said"),
    [("bias: !!bool maybe", "!!bool cannot read 'maybe'"), ("bias: !!timestamp nope", "!!timestamp"), ("groups: !!int abc", "abc")],
)
def test_scalar_tags_on_values_they_cannot_read(value: str, said: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(f"input: [3, 8, 8]\nlayers:\n  - conv: {{out: 4, kernel: 3, {value}}}\n")
    one_line_error(run(["analyze", str(path)]), capsys.readouterr().err, f"{path}:3:", said)


@pytest.mark.parametrize(("value", "said"), [("!!seq relu", "!!seq needs a list"), ("!!map [relu]", "!!map needs a mapping")])
def test_collection_tags_on_other_shapes(value: str, said: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(f"input: [3, 8, 8]\nlayers: {value}\n")
    one_line_error(run(["analyze", str(path)]), capsys.readouterr().err, f"{path}:2:9", said)


def test_writing_yaml_nested_too_deeply_is_one_error() -> None:
    from convcost.yamlio.read import dump

    data: list[object] = []
    for _ in range(20_000):
        data = [{"residual": {"body": data}}]
    with pytest.raises(ConvcostError, match="nested too deeply"):
        dump({"layers": data})


@pytest.mark.slow
def test_a_concat_of_100000_branches_is_quick(tmp_path: Path) -> None:
    """Issue 22 item 7: the table of a 10⁵-branch concat took 29–90 s (rich split one Text of every
    line one line at a time, copying the rest each time); now each line is its own segment."""
    import time

    path = tmp_path / "wide.yaml"
    path.write_text("input: [1, 4, 4]\nlayers:\n  - concat: [" + ", ".join(["[relu]"] * 100_000) + "]\n")
    start = time.perf_counter()
    done = subprocess.run([*CLI, "analyze", str(path)], capture_output=True, text=True, timeout=60)
    took = time.perf_counter() - start
    assert done.returncode == 0 and done.stdout.count("\n") > 100_000, done.stderr
    assert took < 20, took


def test_laid_out_lines_render_one_segment_per_line() -> None:
    """The laid-out table is not one Text (whose line splitting is quadratic in the rows)."""
    from io import StringIO

    from rich.console import Console

    from convcost.render.fit import Column, Lines, fit

    rows = [[f"layer{i}", str(i)] for i in range(3)]
    table = fit([Column("layer", right=False), Column("n")], rows, None).table
    assert isinstance(table, Lines)
    out = StringIO()
    Console(file=out, width=200, no_color=True).print(table)
    assert out.getvalue().splitlines() == ["layer   n", "─────────", "layer0  0", "layer1  1", "layer2  2"]


def test_a_model_name_never_reaches_the_terminal_raw(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Item 3 (names on the terminal): a written `name:` with escape codes or a newline is refused
    where it is written; a file's stem used as the name is shown escaped, in every format."""
    path = tmp_path / "m.yaml"
    path.write_text('name: "evil\\e[31mRED\\nsecond"\ninput: [3, 8, 8]\nlayers: [relu]\n')
    one_line_error(run(["analyze", str(path)]), capsys.readouterr().err, f"{path}:1:7", "printable", "\\x1b")
    odd = tmp_path / "a\x1b[31mb.yaml"
    odd.write_text("input: [3, 8, 8]\nlayers: [relu]\n")
    for fmt in ("table", "markdown", "csv", "json"):
        assert run(["analyze", str(odd), "-f", fmt]) == 0
        out = capsys.readouterr().out
        shown = json.loads(out)["model"] if fmt == "json" else out
        assert "\x1b" not in out and "a\\x1b[31mb" in shown, fmt
