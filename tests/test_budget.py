"""`convcost check`: every exit code and format, baselines (files and a real git repo), pre-commit."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from convcost.cli import app

from .conftest import LAYERS, ROOT

runner = CliRunner()
MOBILENET = str(LAYERS / "mobilenet_v1.yaml")

BUDGETED = """\
name: small
input: [3, 32, 32]
budget:
  params: 700
  macs: 2M
  peak_memory: 64KiB
  min_rf: 5
  no_gridding: true
layers:
  - conv: {out: 8, kernel: 3, padding: 1, bias: false}
  - conv: {out: 8, kernel: 3, padding: 2, dilation: 2, bias: false}
"""


def test_within_budget_exits_0_with_headroom() -> None:
    result = runner.invoke(
        app,
        ["check", MOBILENET, "--max-params", "5M", "--max-macs", "600M", "--max-peak-memory", "64MiB", "--min-rf", "200", "--no-gridding"],
    )
    assert result.exit_code == 0, result.output
    assert "+15.4%" in result.stdout and "1 of 1 within budget" in result.stdout  # (5M − 4,231,976) / 5M


def test_yaml_budget_and_every_check(write_yaml) -> None:  # type: ignore[no-untyped-def]
    path = write_yaml(BUDGETED)
    result = runner.invoke(app, ["check", str(path), "-f", "json"])
    data = json.loads(result.stdout)
    checks = {c["name"]: c for c in data["checks"]}
    assert result.exit_code == 1 and data["ok"] is False
    assert checks["params"] == {"name": "params", "limit": 700, "value": 3 * 8 * 9 + 8 * 8 * 9, "ok": False}
    assert checks["macs"]["value"] == 32 * 32 * (8 * 27 + 8 * 72) and checks["macs"]["ok"] is True
    assert checks["peak_memory"]["limit"] == 65536
    assert checks["min_rf"]["value"] == 7 and checks["min_rf"]["ok"] is True
    assert checks["gridding"]["ok"] is True  # 1,2 does not grid
    # flags override the file
    assert runner.invoke(app, ["check", str(path), "--max-params", "1M"]).exit_code == 0


def test_gridding_budget_fails(write_yaml) -> None:  # type: ignore[no-untyped-def]
    path = write_yaml(
        "input: [3, 64, 64]\nbudget: {no_gridding: true}\nlayers: [conv: {out: 4, kernel: 3, dilation: 2}, conv: {out: 4, kernel: 3, dilation: 2}]\n"
    )
    result = runner.invoke(app, ["check", str(path), "-f", "json"])
    assert result.exit_code == 1 and json.loads(result.stdout)["checks"] == [{"name": "gridding", "limit": 0, "value": 1, "ok": False}]


def test_many_files_one_summary() -> None:
    result = runner.invoke(app, ["check", *map(str, sorted(LAYERS.glob("*.yaml"))), "--max-params", "30M", "-f", "json"])
    data = json.loads(result.stdout)
    import convcost

    over = {s.name for s in map(convcost.load, sorted(LAYERS.glob("*.yaml"))) if convcost.analyze(s).totals.params > 30_000_000}
    assert result.exit_code == 1 and "vgg16" in over  # 138M
    assert not data["ok"] and {m["model"] for m in data["models"] if not m["ok"]} == over
    table = runner.invoke(app, ["check", *map(str, sorted(LAYERS.glob("*.yaml"))), "--max-params", "30M"])
    assert "over: " in table.stdout and "vgg16" in table.stdout


def test_formats_markdown_csv_github(write_yaml) -> None:  # type: ignore[no-untyped-def]
    path = write_yaml(BUDGETED)
    md = runner.invoke(app, ["check", str(path), "-f", "markdown"]).stdout
    assert "### ❌ small" in md and "| params |" in md and "FAIL" in md
    rows = runner.invoke(app, ["check", str(path), "-f", "csv"]).stdout.splitlines()
    assert rows[0] == "model,check,limit,value,ok" and rows[1] == "small,params,700,792,False"
    gh = runner.invoke(app, ["check", str(path), "-f", "github"]).stdout
    assert gh.startswith(f"::error file={path},line=4,title=convcost params::small: params is ")  # the `params: 1K` line
    ok = runner.invoke(app, ["check", MOBILENET, "--max-params", "5M", "-f", "github"]).stdout
    assert ok.startswith(f"::notice file={MOBILENET}")


@pytest.mark.parametrize(
    ("flag", "value"), [("--max-params", "5Q"), ("--max-peak-memory", "12 parsecs"), ("--min-rf", "-1"), ("--max-increase", "lots")]
)
def test_malformed_limits_exit_2(flag: str, value: str) -> None:
    result = runner.invoke(app, ["check", MOBILENET, flag, value] + (["--baseline", MOBILENET] if flag == "--max-increase" else []))
    assert result.exit_code == 2 and result.stderr.startswith(f"error: {flag}: "), result.output


def test_malformed_yaml_budget_exit_2(write_yaml) -> None:  # type: ignore[no-untyped-def]
    path = write_yaml("input: [3, 8, 8]\nbudget:\n  params: many\nlayers: [relu]\n")
    result = runner.invoke(app, ["check", str(path)])
    assert (
        result.exit_code == 2
        and result.stderr.strip() == f"error: {path}:3:11: budget.params: expected a count such as 5, 4.5M or 600K, found 'many'"
    )
    path = write_yaml("input: [3, 8, 8]\nbudget:\n  parms: 1M\nlayers: [relu]\n")
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 2 and "did you mean 'params'" in result.stderr


def test_baseline_file_and_max_increase(write_yaml, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    old = write_yaml("input: [3, 32, 32]\nlayers: [conv: {out: 100, kernel: 3}, conv: {out: 10, kernel: 1}]\n", "old.yaml")
    new = write_yaml("input: [3, 32, 32]\nlayers: [conv: {out: 104, kernel: 3}, conv: {out: 10, kernel: 1}]\n", "new.yaml")
    grew = runner.invoke(app, ["check", str(new), "--baseline", str(old), "-f", "json"])
    data = json.loads(grew.stdout)
    assert grew.exit_code == 1
    assert [g["path"] for g in data["growth"]] == ["layers[0]", "layers[1]"]
    assert data["growth"][0]["params"] == [100 * 28, 104 * 28]
    allowed = runner.invoke(app, ["check", str(new), "--baseline", str(old), "--max-increase", "5%"])
    assert allowed.exit_code == 0, allowed.output  # params grew 4.0 %, MACs less
    assert "what grew" in allowed.stdout


def git(folder: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    return subprocess.run(["git", "-C", str(folder), *args], check=True, capture_output=True, text=True, env=env).stdout


def test_baseline_at_a_git_revision(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "models").mkdir(parents=True)
    git(repo, "init", "-q")
    model = repo / "models" / "net.yaml"
    model.write_text("input: [3, 32, 32]\nlayers: [conv: {out: 16, kernel: 3}]\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "first")
    model.write_text("input: [3, 32, 32]\nlayers: [conv: {out: 32, kernel: 3}]\n")
    result = runner.invoke(app, ["check", str(model), "--baseline", "git:HEAD", "--max-increase", "10%", "-f", "json"])
    data = json.loads(result.stdout)
    assert result.exit_code == 1 and data["growth"][0]["params"] == [16 * 28, 32 * 28]
    git(repo, "commit", "-qam", "second")
    assert runner.invoke(app, ["check", str(model), "--baseline", "git:HEAD"]).exit_code == 0
    assert runner.invoke(app, ["check", str(model), "--baseline", "git:HEAD~1"]).exit_code == 1
    fresh = repo / "models" / "new.yaml"
    fresh.write_text("input: [3, 8, 8]\nlayers: [relu]\n")
    result = runner.invoke(app, ["check", str(fresh), "--baseline", "git:HEAD"])
    assert result.exit_code == 0 and "no baseline" in result.stdout
    bad = runner.invoke(app, ["check", str(model), "--baseline", "git:no-such-ref"])
    assert bad.exit_code == 2 and bad.stderr.startswith(f"error: {model}: --baseline git:no-such-ref:")


@pytest.mark.skipif(shutil.which("pre-commit") is None and not os.environ.get("CI"), reason="pre-commit is not installed")
@pytest.mark.slow
def test_pre_commit_hook_for_real(tmp_path: Path) -> None:
    """`pre-commit try-repo` installs this project into its own environment and runs the hook."""
    if not (ROOT / ".git").exists():
        pytest.skip("the project is not a git checkout")
    repo = tmp_path / "user"
    (repo / "models").mkdir(parents=True)
    git(repo, "init", "-q")
    (repo / "models" / "ok.yaml").write_text("input: [3, 8, 8]\nbudget: {params: 1K}\nlayers: [conv: {out: 2, kernel: 3}]\n")
    (repo / "models" / "big.yaml").write_text("input: [3, 8, 8]\nbudget: {params: 10}\nlayers: [conv: {out: 2, kernel: 3}]\n")
    (repo / "ci.yaml").write_text("on: [push]\njobs: {}\n")  # not a model, outside models/: the hook never sees it
    git(repo, "add", "-A")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache")}
    cmd = [sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), "convcost-check", "--files"]
    passed = subprocess.run([*cmd, "models/ok.yaml", "ci.yaml"], cwd=repo, capture_output=True, text=True, env=env, timeout=900)
    assert passed.returncode == 0 and "Passed" in passed.stdout, passed.stdout + passed.stderr
    skipped = subprocess.run([*cmd, "ci.yaml"], cwd=repo, capture_output=True, text=True, env=env, timeout=900)
    assert skipped.returncode == 0 and "no files to check" in skipped.stdout, skipped.stdout
    failed = subprocess.run([*cmd, "models/big.yaml"], cwd=repo, capture_output=True, text=True, env=env, timeout=900)
    assert failed.returncode == 1 and "FAIL" in failed.stdout, failed.stdout
