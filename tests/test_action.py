"""The CI guard as written: action.yml's structure, its steps run here as GitHub would run them (bash,
the inputs through env), the README's workflow, and a baseline revision the clone lacks."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from convcost.cli import run

from .conftest import ROOT

ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
STEPS = {step.get("name", step.get("uses")): step for step in ACTION["runs"]["steps"]}
BASH = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c"]  # what `shell: bash` runs on GitHub's runners


def expression(text: str, inputs: dict[str, str], action_path: Path) -> str:
    """``${{ … }}`` as GitHub evaluates the ones action.yml uses: inputs.NAME (its default when
    not given), github.action_path, and ``a || b`` (the first that is not empty)."""

    def value(match: re.Match[str]) -> str:
        for operand in (o.strip() for o in match.group(1).split("||")):
            if operand == "github.action_path":
                found = str(action_path)
            else:
                assert operand.startswith("inputs."), operand
                key = operand.removeprefix("inputs.")
                found = inputs.get(key, ACTION["inputs"][key].get("default", ""))
            if found:
                return found
        return ""

    return re.sub(r"\$\{\{(.*?)\}\}", value, text)


def run_step(name: str, inputs: dict[str, str], path_first: Path, action_path: Path = ROOT) -> subprocess.CompletedProcess[str]:
    """The step's script through bash, in the repository root, with its env evaluated."""
    step = STEPS[name]
    assert step["shell"] == "bash" and "${{" not in step["run"], "inputs reach the script through env, never as shell code"
    env = {**os.environ, "PATH": f"{path_first}{os.pathsep}{os.environ['PATH']}"}
    env.update({key: expression(str(v), inputs, action_path) for key, v in step.get("env", {}).items()})
    return subprocess.run([*BASH, step["run"]], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture
def this_convcost(tmp_path: Path) -> Path:
    """A bin folder whose `convcost` is this checkout's, run by this interpreter."""
    folder = tmp_path / "bin"
    folder.mkdir()
    script = folder / "convcost"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m convcost "$@"\n')
    script.chmod(0o755)
    return folder


def test_the_action_is_composite_with_its_inputs() -> None:
    assert ACTION["runs"]["using"] == "composite" and ACTION["name"] and ACTION["description"]
    inputs = ACTION["inputs"]
    assert set(inputs) == {"models", "python-version", "args", "version"}
    assert inputs["models"]["required"] is True and inputs["python-version"]["default"] == "3.11"
    assert inputs["args"]["default"] == "" and inputs["version"]["default"] == ""
    setup, install, check = ACTION["runs"]["steps"]
    assert setup["uses"] == "actions/setup-python@v5" and setup["with"]["python-version"] == "${{ inputs.python-version }}"
    assert install["run"].startswith("python -m pip install ") and '"$CONVCOST_PACKAGE"' in install["run"]
    assert install["env"]["CONVCOST_PACKAGE"] == "${{ inputs.version || github.action_path }}"
    assert re.fullmatch(r"convcost check -f github \$CONVCOST_MODELS \$CONVCOST_ARGS", check["run"].strip())
    assert check["env"] == {"CONVCOST_MODELS": "${{ inputs.models }}", "CONVCOST_ARGS": "${{ inputs.args }}"}
    assert all(step.get("shell") == "bash" for step in (install, check))  # a composite action's run steps must say it


def test_the_install_step_installs_the_actions_own_checkout_unless_told() -> None:
    step = STEPS["Install convcost"]["env"]["CONVCOST_PACKAGE"]
    assert expression(step, {}, Path("/runner/_actions/o/convcost/v1")) == "/runner/_actions/o/convcost/v1"
    assert expression(step, {"version": "convcost==0.1.0"}, ROOT) == "convcost==0.1.0"


def test_the_check_step_fails_over_budget_with_annotations(this_convcost: Path) -> None:
    done = run_step("convcost check", {"models": "layers/mobilenet_v1.yaml", "args": "--max-params 4M"}, this_convcost)
    assert done.returncode == 1, done.stderr
    assert done.stdout.startswith("::error file=layers/mobilenet_v1.yaml,line=1,title=convcost params::mobilenet_v1: params is 4.23M")


def test_the_check_step_expands_globs_and_passes(this_convcost: Path) -> None:
    done = run_step("convcost check", {"models": "layers/mobilenet_v1*.yaml layers/resnet18.yaml", "args": "--max-params 12M"},
                    this_convcost)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    notices = [line for line in done.stdout.splitlines() if line.startswith("::notice ")]
    assert [re.search(r"file=([^,]+)", n).group(1) for n in notices] == [  # type: ignore[union-attr]  # every notice names its file
        "layers/mobilenet_v1.yaml", "layers/mobilenet_v1_050.yaml", "layers/resnet18.yaml"]  # fmt: skip
    assert "::error" not in done.stdout


def test_the_check_step_with_a_glob_that_matches_nothing_fails(this_convcost: Path) -> None:
    done = run_step("convcost check", {"models": "no-such-folder/*.yaml"}, this_convcost)
    assert done.returncode == 2 and "no-such-folder/*.yaml" in done.stdout + done.stderr


def test_an_input_is_data_not_shell_code(this_convcost: Path, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    done = run_step("convcost check", {"models": "layers/seed_separable.yaml", "args": f"--max-params 1M; touch {marker}"}, this_convcost)
    assert not marker.exists() and done.returncode == 2  # `1M;` is refused as a count: the `touch` never runs


def _readme_workflow() -> dict[str, Any]:
    readme = (ROOT / "README.md").read_text()
    (block,) = [b for b in re.findall(r"```yaml\n(.*?)```", readme, re.S) if "uses: ./" in b]
    return yaml.safe_load(block)  # type: ignore[no-any-return]  # a workflow is a mapping


def test_the_readme_workflow_fetches_the_history_and_uses_the_action() -> None:
    workflow = _readme_workflow()
    assert "pull_request" in (workflow.get("on") or workflow.get(True))  # PyYAML reads a bare `on:` key as True
    (job,) = workflow["jobs"].values()
    checkout, guard = job["steps"]
    assert checkout["uses"] == "actions/checkout@v4" and checkout["with"]["fetch-depth"] == 0
    assert guard["uses"] == "./" and set(guard["with"]) <= set(ACTION["inputs"]) and "models" in guard["with"]
    assert "--baseline git:origin/main" in guard["with"]["args"]
    readme = (ROOT / "README.md").read_text()
    assert "git+https://example.org" not in readme  # no placeholder install URL left in the Actions section


def git(folder: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@t"}
    return subprocess.run(["git", "-C", str(folder), *args], check=True, capture_output=True, text=True, env=env).stdout


MODEL = "input: [3, 32, 32]\nbudget: {params: 10K}\nlayers: [conv: {out: 16, kernel: 3}]\n"


def test_a_baseline_the_clone_lacks_says_what_to_fetch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    git(tmp_path, "init", "-q", "-b", "main")
    model = tmp_path / "net.yaml"
    model.write_text(MODEL)
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "first")
    assert run(["check", str(model), "--baseline", "git:origin/main"]) == 2
    out, err = capsys.readouterr()
    assert err == (f"error: {model}: --baseline git:origin/main: this clone has no origin/main; fetch it (git fetch origin main, "
                   "or actions/checkout with fetch-depth: 0)\n")  # fmt: skip
    # a full hash that is not here is refused too, not read as "the file is new at that revision"
    assert run(["check", str(model), "--baseline", "git:" + "0123456789abcdef" * 2 + "01234567"]) == 2
    assert "this clone has no 0123456789abcdef" in capsys.readouterr().err
    assert run(["check", str(model), "--baseline", "git:main"]) == 0  # a ref it has: checked against it
    assert "1 of 1 within budget" in capsys.readouterr().out


def test_a_shallow_clone_is_told_to_unshallow_and_then_works(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A pull request's default checkout: one commit deep, so HEAD~1 is not there until fetched."""
    origin = tmp_path / "origin"
    origin.mkdir()
    git(origin, "init", "-q", "-b", "main")
    (origin / "net.yaml").write_text(MODEL)
    git(origin, "add", "-A")
    git(origin, "commit", "-qm", "first")
    (origin / "net.yaml").write_text(MODEL.replace("out: 16", "out: 32"))
    git(origin, "commit", "-qam", "wider")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{origin}", str(clone)], check=True, capture_output=True)
    model = clone / "net.yaml"
    assert run(["check", str(model), "--baseline", "git:HEAD~1"]) == 2
    assert "this clone has no HEAD~1; fetch it (git fetch --unshallow in a shallow clone" in capsys.readouterr().err
    git(clone, "fetch", "-q", "--unshallow")
    assert run(["check", str(model), "--baseline", "git:HEAD~1"]) == 1  # params doubled over HEAD~1
    assert "what grew" in capsys.readouterr().out


@pytest.mark.slow
def test_the_install_and_check_steps_for_real(tmp_path: Path) -> None:
    """The install step as written, into a fresh environment, from a copy of this checkout as the
    action's path (what `uses:` downloads); then the check step runs the convcost it installed."""
    action_path = tmp_path / "action"
    action_path.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE", "action.yml"):
        shutil.copy(ROOT / name, action_path / name)
    shutil.copytree(ROOT / "convcost", action_path / "convcost", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=300)
    installed = run_step("Install convcost", {}, venv / "bin", action_path)
    assert installed.returncode == 0, installed.stdout[-2000:] + installed.stderr[-2000:]
    where = subprocess.run([*BASH, "command -v convcost"], env={**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"},
                           capture_output=True, text=True)  # fmt: skip
    assert where.stdout.strip() == str(venv / "bin" / "convcost")
    done = run_step("convcost check", {"models": "layers/mobilenet_v1.yaml", "args": "--max-params 4M"}, venv / "bin", action_path)
    assert done.returncode == 1 and done.stdout.startswith("::error file=layers/mobilenet_v1.yaml"), done.stdout + done.stderr
