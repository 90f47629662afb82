"""mypy passes on convcost/, and every `type: ignore` that remains says why."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from .conftest import ROOT


def test_every_type_ignore_says_why() -> None:
    bare = []
    for path in sorted((ROOT / "convcost").rglob("*.py")):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if "type: ignore" in line and not re.search(r"# type: ignore\[[a-z,-]+\]  # \S", line):
                bare.append(f"{path.relative_to(ROOT)}:{n}")
    assert not bare, bare


@pytest.mark.slow
def test_mypy_passes() -> None:
    pytest.importorskip("mypy")
    done = subprocess.run([sys.executable, "-m", "mypy", "--no-error-summary"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:]


@pytest.mark.slow
def test_mypy_strict_passes_on_the_core() -> None:
    """Issue 24 item 4: the model, the analysis and the kinds type-check under --strict (kind fields
    declared with their types: `out: int = arg(pos_int)`), the modules they import taken as given."""
    pytest.importorskip("mypy")
    core = ["convcost/model", "convcost/analysis", "convcost/kinds"]
    done = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", "--no-error-summary", *core], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:]
