"""Hostile and unusual inputs (issue: reliability, round 2): every case is one located line and
exit 2, or a clean answer, in bounded time and under a memory cap — never a traceback or a hang.

The CLI cases run as real processes with a 1.5 GiB address-space limit and a time limit, as a CI
runner would meet them in a pull request."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import convcost
from convcost.errors import ConvcostError

from ..conftest import LAYERS as LAYER_FILES

CAP = int(1.5 * 2**30)
CLI = [sys.executable, "-c", "from convcost.cli import entry; entry()"]


def capped() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (CAP, CAP))


def cli(*args: str, timeout: float = 20) -> tuple[int, str, str, float]:
    start = time.perf_counter()
    done = subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout, preexec_fn=capped)
    return done.returncode, done.stdout, done.stderr, time.perf_counter() - start


def refused(path: Path, *words: str, seconds: float = 5) -> str:
    code, _, err, took = cli("analyze", str(path))
    assert code == 2 and "Traceback" not in err and err.count("\n") == 1, err
    assert err.startswith(f"error: {path}:"), err  # located: file:line:col
    assert all(w in err for w in words), err
    assert took < seconds, took
    return err


EXPANSIONS = {
    "empty_repeat": "input: [3, 8, 8]\nlayers:\n  - repeat: {times: 100000000, layers: []}\n  - relu\n",
    "identity_repeat": "input: [3, 8, 8]\nlayers:\n  - repeat: {times: 100000000, layers: [residual: {body: []}]}\n",
    "doubling_blocks": "input: [3, 8, 8]\nblocks:\n  b0: {layers: [relu]}\n"
    + "".join(f"  b{i}: {{layers: [b{i - 1}, b{i - 1}]}}\n" for i in range(1, 60))
    + "layers: [b59]\n",
    "doubling_identity_blocks": "input: [3, 8, 8]\nblocks:\n  b0: {layers: []}\n"
    + "".join(f"  b{i}: {{layers: [residual: {{body: [b{i - 1}]}}, residual: {{body: [b{i - 1}]}}]}}\n" for i in range(1, 60))
    + "layers: [b59]\n",
    "aliased_concats": "input: [3, 8, 8]\nlayers:\n  - concat: &c0 [[]]\n"
    + "".join(f"  - concat: &c{i} [[{{concat: *c{i - 1}}}], [{{concat: *c{i - 1}}}]]\n" for i in range(1, 40)),
}


@pytest.mark.parametrize("name", sorted(EXPANSIONS))
@pytest.mark.slow
def test_expansion_work_is_bounded_before_expanding(name: str, tmp_path: Path) -> None:
    path = tmp_path / f"{name}.yaml"
    path.write_text(EXPANSIONS[name])
    refused(path, "refusing", seconds=3)


def test_merge_keys_stay_linear_and_keep_yaml_semantics(monkeypatch: pytest.MonkeyPatch) -> None:
    from convcost.yamlio import read as yamlio

    # earlier mappings in a merge list win over later ones; explicit keys win over merged ones.
    # (PyYAML 6.0.4 deduplicates merged keys itself; 6.0.3, still installed by some indexes, does not)
    data = yamlio.parse_yaml("a: &a {x: 1, y: 2}\nb: &b {x: 3, z: 4}\nc: {<<: [*a, *b], y: 9}\n")
    assert data["c"] == {"x": 1, "z": 4, "y": 9}
    # 60 anchors each merging the previous one twice: 2^60 merged keys if duplicates were kept
    monkeypatch.setattr(yamlio, "MAX_YAML_VALUES", 1000)
    text = "m0: &a0 {out: 4, kernel: 1}\n" + "".join(f"m{i}: &a{i} {{<<: [*a{i - 1}, *a{i - 1}]}}\n" for i in range(1, 60))
    assert yamlio.parse_yaml(text)["m59"] == {"out": 4, "kernel": 1}


@pytest.mark.slow
def test_aliases_and_merge_keys_that_multiply(tmp_path: Path) -> None:
    merges = tmp_path / "merges.yaml"
    merges.write_text("input: [3, 8, 8]\nlayers:\n  - conv: &a0 {out: 4, kernel: 1}\n"
                      + "".join(f"  - conv: &a{i} {{<<: [*a{i - 1}, *a{i - 1}]}}\n" for i in range(1, 40)))  # fmt: skip
    code, out, err, took = cli("analyze", str(merges), "-f", "json")
    assert code == 0 and took < 5 and len(json.loads(out)["layers"]) == 40
    lists = tmp_path / "lists.yaml"  # a 2^40-element nested alias inside a block's layer, substituted per use
    lists.write_text("input: [3, 8, 8]\nblocks:\n  b:\n    params: {c: 4}\n    layers:\n      - conv:\n          out: $c\n          kernel: 1\n"
                     "          name: &l0 [x]\n" + "".join(f"          n{i}: &l{i} [*l{i - 1}, *l{i - 1}]\n" for i in range(1, 40))
                     + "layers: [repeat: {times: 100, layers: [b: {c: 4}]}]\n")  # fmt: skip
    refused(lists, "expected a string")


@pytest.mark.slow
def test_deep_nesting_is_refused_cleanly(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("input: [3, 8, 8]\nblocks:\n  b0: {layers: [relu]}\n" + "".join(f"  b{i}: {{layers: [b{i - 1}]}}\n" for i in range(1, 400))
                    + "layers: [b399]\n")  # fmt: skip
    refused(path, "nested more than 100 deep")
    fine = tmp_path / "fine.yaml"
    fine.write_text("input: [3, 8, 8]\nblocks:\n  b0: {layers: [relu]}\n" + "".join(f"  b{i}: {{layers: [b{i - 1}]}}\n" for i in range(1, 60))
                    + "layers: [b59]\n")  # fmt: skip
    assert [r.kind for r in convcost.analyze(convcost.load(fine)).layers] == ["relu"]


@pytest.mark.slow
@pytest.mark.parametrize(("text", "size"), [
    ("input: [3, 100000000000]\nlayers: [conv: {out: 1, kernel: 3, stride: 100000000000}]\n", [3]),
    ("input: [3, 1000000000000]\nlayers: [conv: {out: 1, kernel: 1000000000000}]\n", [10**12]),
    ("input: [3, 10000000000]\nlayers: [" + ", ".join(["conv: {out: 1, kernel: 3, dilation: 1000000000}"] * 3) + "]\n",
     [2 * 10**9 + 1, 4 * 10**9 + 1, 6 * 10**9 + 1]),
    ("input: [3, 8, 8]\nlayers: [upsample: {scale: 100000000}, conv: {out: 1, kernel: 3}]\n", [1, 2]),
])  # fmt: skip
def test_huge_sizes_stay_cheap(text: str, size: list[int], tmp_path: Path) -> None:
    """Fields past 2^20 offsets switch to the closed form (sizes exact for plain convs, coverage
    not computed, one warning); the dilated run still knows it grids (by the HDC closed form)."""
    path = tmp_path / "huge.yaml"
    path.write_text(text)
    code, out, err, took = cli("analyze", str(path), "-f", "json")
    assert code == 0 and took < 5, err
    data = json.loads(out)
    assert [layer["rf"]["size"][0] for layer in data["layers"]] == size
    if size != [3]:
        assert data["totals"]["coverage"] is None and "closed form" in data["warnings"][0]
    if len(size) == 3:
        assert any("gridding" in w and "some of 6000000001" in w for w in data["warnings"])
    assert cli("analyze", str(path))[0] == 0  # the table too (huge counts in SI)


def test_closed_form_gridding_criterion_equals_the_footprint() -> None:
    import itertools

    from convcost.analysis import hdc
    from convcost.model.runs import _contiguous

    for n in (1, 2, 3):
        for rates in itertools.product(range(1, 9), repeat=n):
            for kernel in (3, 5):
                holes = 0 in hdc.footprint_paths(rates, kernel)
                assert _contiguous([(kernel, r) for r in rates]) is not holes, (rates, kernel)


@pytest.mark.slow
@pytest.mark.parametrize(("text", "said"), [
    ("input: [3, 8, 8]\nlayers:\n  - conv: {out: " + "9" * 5000 + ", kernel: 1}\n", "integer of more than 4300 digits"),
    ("input: [3, 8, 8]\nlayers:\n  - conv: {out: '" + "9" * 5000 + "K', kernel: 1}\n", "expected a positive integer"),
    ("input: [3, 8, 8]\nlayers:\n  - conv: {out: !!int '" + "9" * 5000 + "', kernel: 1}\n", "integer of more than 4300 digits"),
    ("input: [3, 8, 8]\nlayers:\n  - conv: {out: 1000000000000000000000, kernel: 1}\n", "at most 10^18"),
    ("input: [3, 8, 8]\nlayers:\n  - conv: {out: !!bool 'yes', kernel: 1}\n", "found true"),
    ("input: [3, 8, 8]\nlayers: !!set {relu: null}\n", "the tag !!set is not used by convcost"),
    ("input: [3, 8, 8]\nlayers: !!omap [{a: 1}]\n", "the tag !!omap is not used by convcost"),
    ("!!omap [{input: [3, 8, 8]}]\n", "!!omap"),
    ("!!int '" + "9" * 5000 + "'\n", "digits"),
    ("input: [3, 8, 8]\nlayers:\n  - repeat: {times: 3, layers: []}\n", "expands to no layers"),
    ("input: [3, 8, 8]\nlayers: [\"re\\nlu\"]\n", "unknown layer kind 're\\nlu'"),
])  # fmt: skip
def test_numbers_tags_and_odd_documents(text: str, said: str, tmp_path: Path) -> None:
    path = tmp_path / "odd.yaml"
    path.write_text(text)
    refused(path, said)


@pytest.mark.slow
def test_names_are_data_in_every_format(tmp_path: Path) -> None:
    path = tmp_path / "names.yaml"
    path.write_text(
        'input: [3, 8, 8]\nlayers:\n  - conv: {out: 4, kernel: 3, name: "[/]"}\n  - conv: {out: 4, kernel: 3, name: "a\\nb\\x1b[31m"}\n'
    )
    for fmt in ("table", "json", "csv", "markdown"):
        code, out, err, _ = cli("analyze", str(path), "-f", fmt)
        assert code == 0 and not err, err
    table = cli("analyze", str(path))[1]
    assert "[/]" in table and "a\\nb\\x1b[31m" in table and "\x1b" not in table


@pytest.mark.slow
def test_endless_and_huge_files_are_refused_early(tmp_path: Path) -> None:
    for device in ("/dev/zero", "/dev/urandom"):
        code, _, err, took = cli("analyze", device)
        assert code == 2 and took < 5 and "larger than 4 MiB" in err
    big = tmp_path / "big.yaml"
    big.write_text("input: [3, 8, 8]\nlayers:\n" + "  - relu\n" * 600_000)
    code, _, err, took = cli("analyze", str(big))
    assert code == 2 and took < 3 and "larger than 4 MiB" in err


@pytest.mark.slow
@pytest.mark.parametrize(("args", "said"), [
    (["hdc-check", "²"], "expected positive integers"),
    (["hdc-check", "9" * 5000], "expected positive integers"),
    (["hdc-check", ",".join(["1"] * 10_000)], "at most 256 rates"),
    (["check", "M", "--max-params", "9" * 5000], "--max-params: expected a count"),
    (["check", "M", "--max-params", "1", "--baseline", "git:--output=x"], "is not a git revision"),
    (["compare", "M", "-r", "grouped:" + "9" * 50], "--rewrite: expected grouped:N"),
    (["analyze", "M", "--execute", "--threads", "100000"], "--threads"),
    (["analyze", "M", "--execute", "--batch", "1000000000"], "lower --batch"),
])  # fmt: skip
def test_option_values(args: list[str], said: str, tmp_path: Path) -> None:
    model = tmp_path / "m.yaml"
    model.write_text("input: [3, 8, 8]\nlayers: [conv: {out: 4, kernel: 3}]\n")
    code, _, err, took = cli(*[str(model) if a == "M" else a for a in args], timeout=30)
    assert code == 2 and took < 10 and err.count("\n") == 1 and said in err and "Traceback" not in err, err
    assert not (tmp_path / "x").exists()


@pytest.mark.slow
def test_unwritable_stdout_is_one_line() -> None:
    with open("/dev/full", "w") as full:
        done = subprocess.run([*CLI, "analyze", str(LAYER_FILES / "resnet50.yaml")], stdout=full,
                              stderr=subprocess.PIPE, text=True, timeout=30)  # fmt: skip
    assert done.returncode == 2 and done.stderr == "error: cannot write the output: No space left on device\n"


@pytest.mark.slow
def test_compare_with_different_inputs_says_so(tmp_path: Path) -> None:
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("input: [3, 8, 8]\nlayers: [conv: {out: 4, kernel: 3}]\n")
    b.write_text("input: [3, 16, 16]\nlayers: [conv: {out: 4, kernel: 3}]\n")
    code, out, _, _ = cli("compare", str(a), str(b))
    assert code == 0 and "note: b takes input 3×16×16, the standard 3×8×8" in out


@pytest.mark.slow
def test_emit_yaml_writes_nothing_when_the_command_fails(tmp_path: Path) -> None:
    model = tmp_path / "m.yaml"
    model.write_text("input: [3, 8, 8]\nlayers: [conv: {out: 4, kernel: 3}]\n")
    out = tmp_path / "emitted"
    code, _, err, _ = cli("compare", str(model), "--emit-yaml", str(out), "--execute", "--batch", "1000000000")
    assert code == 2 and "lower --batch" in err and not out.exists()


LAYERS = st.sampled_from(["relu", "gap", "bn", "flatten", "conv: {out: 4, kernel: 3}", "conv: {out: 2, kernel: 1, stride: 2}",
                          "dwconv: {kernel: 3, padding: 1}", "maxpool: {kernel: 2}", "linear: {out: 3}", "upsample: {scale: 2}",
                          "residual: {body: [relu]}", "concat: [[], [relu]]", "repeat: {times: 3, layers: [relu]}",
                          "conv: {out: 4, kernel: 3, dilation: 2, padding: 2}", "se: {reduction: 2}", '"re lu"',
                          "conv: {out: 9999999999999999999999, kernel: 1}", "avgpool: {kernel: 3, ceil_mode: true}"])  # fmt: skip
NAMES = st.text(min_size=1, max_size=12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(LAYERS, min_size=1, max_size=8), st.lists(st.integers(1, 40), min_size=2, max_size=4), NAMES)
def test_any_stack_is_an_answer_or_one_located_error(layers: list[str], shape: list[int], name: str) -> None:
    """Generated stacks, shapes and names: the API answers or raises ConvcostError, and every
    renderer draws the answer (names are data, never markup)."""
    text = f"input: {shape}\nlayers:\n" + "".join(f"  - {layer}\n" for layer in layers) + f"name: {json.dumps(name)}\n"
    try:
        stack = convcost.loads(text)
        report = convcost.analyze(stack)
    except ConvcostError as exc:
        assert "\n" not in str(exc)
        return
    import io

    from rich.console import Console

    from convcost.render import machine, table

    for width in (60, 200):
        buffer = io.StringIO()
        Console(file=buffer, width=width).print(table.report_table(report, width))
        assert max(len(line) for line in buffer.getvalue().splitlines()) <= width
    machine.report_csv(report)
    machine.report_markdown(report)
    json.loads(machine.to_json(machine.report_dict(report)))


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(["--batch", "--repeat", "--warmup", "--threads", "--seed"]), st.text(max_size=30))
def test_any_option_value_is_an_answer_or_exit_2(option: str, value: str) -> None:
    from convcost.cli import run

    model = str(LAYER_FILES / "seed_separable.yaml")
    code = run(["analyze", model, "--execute", "--repeat", "1", option, value] if option != "--repeat" else ["analyze", model, "--execute",
               option, value])  # fmt: skip
    assert code in (0, 2)
