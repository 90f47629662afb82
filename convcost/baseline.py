"""Baselines for `check --baseline`: another YAML file, or the same path at a git revision."""

from __future__ import annotations

import subprocess
from pathlib import Path

from .errors import ConvcostError
from .graph import Stack
from .spec import load


def load_baseline(spec: str, model: Path) -> tuple[Stack | None, str]:
    """(the baseline stack or None when the model is new at that revision, a label)."""
    if not spec.startswith("git:"):
        return load(spec), spec
    ref = spec[4:]
    if not ref:
        raise ConvcostError("--baseline: expected git:REF (git:origin/main, git:HEAD~1), found 'git:'")
    if ref.startswith("-") or any(not ch.isprintable() for ch in ref):
        raise ConvcostError(f"--baseline: '{ref}' is not a git revision (a revision never starts with '-')")
    folder = model.resolve().parent
    try:
        done = subprocess.run(["git", "-C", str(folder), "show", f"{ref}:./{model.name}"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConvcostError(f"--baseline: cannot run git: {exc}") from None
    label = f"{model.name} at {ref}"
    if done.returncode != 0:
        message = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "git show failed"
        if "exists on disk, but not in" in message or "does not exist in" in message:
            return None, label
        raise ConvcostError(f"--baseline {spec}: {message}")
    return load(f"{model}@{ref}", text=done.stdout), label
