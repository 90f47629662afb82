"""Baselines for `check --baseline`: another YAML file, or the same path at a git revision."""

from __future__ import annotations

import subprocess
from pathlib import Path

from ..errors import ConvcostError
from ..model.graph import Stack
from ..yamlio.spec import load


def load_baseline(spec: str, model: Path) -> tuple[Stack | None, str]:
    """(the baseline stack or None when the model is new at that revision, a label)."""
    if not spec.startswith("git:"):
        from ..zoo import resolve

        return load(resolve(spec)), spec
    ref = spec[4:]
    if not ref:
        raise ConvcostError("--baseline: expected git:REF (git:origin/main, git:HEAD~1), found 'git:'")
    if ref.startswith("-") or any(not ch.isprintable() for ch in ref):
        raise ConvcostError(f"--baseline: '{ref}' is not a git revision (a revision never starts with '-')")
    folder = str(model.resolve().parent)
    # the revision first: `git show MISSING:./file` of a full hash that is not here says the file is
    # "not in" it, which would read as a model new at that revision
    found = _git(folder, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if found.returncode == 1 and not found.stderr.strip():
        raise ConvcostError(
            f"--baseline {spec}: this clone has no {ref}; fetch it ({_fetch_hint(ref)}, or actions/checkout with fetch-depth: 0)"
        )
    if found.returncode != 0:
        raise ConvcostError(f"--baseline {spec}: {_last_line(found.stderr, 'git rev-parse failed')}")
    done = _git(folder, "show", f"{ref}:./{model.name}")
    label = f"{model.name} at {ref}"
    if done.returncode != 0:
        message = _last_line(done.stderr, "git show failed")
        if "exists on disk, but not in" in message or "does not exist in" in message:
            return None, label
        raise ConvcostError(f"--baseline {spec}: {message}")
    return load(f"{model}@{ref}", text=done.stdout), label


def _git(folder: str, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(["git", "-C", folder, *args], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConvcostError(f"--baseline: cannot run git: {exc}") from None


def _last_line(stderr: str, otherwise: str) -> str:
    return stderr.strip().splitlines()[-1] if stderr.strip() else otherwise


def _fetch_hint(ref: str) -> str:
    """How to get ``ref`` into a clone: ``git fetch origin main`` for origin/main."""
    remote, _, branch = ref.partition("/")
    if branch and remote == "origin":
        return f"git fetch origin {branch}"
    return "git fetch --unshallow in a shallow clone"
