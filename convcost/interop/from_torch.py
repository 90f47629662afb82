"""A PyTorch model from the user's code: ``FILE.py:FACTORY`` or ``package.module:FACTORY`` → the
``nn.Module`` it builds, with what the user's code prints kept off stdout and what it raises as
one line. ``aten_ops.read`` gives its ops (``from_aten`` records them while the model runs once).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import io
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from torch import nn

from ..errors import ConvcostError


class _Stderr(io.TextIOBase):
    """The user's code's stdout: stderr, where a closed or missing one takes the text silently."""

    def __init__(self, target: Any) -> None:
        self.target = target

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        with contextlib.suppress(OSError, ValueError, AttributeError):  # closed: fd 2 gone, or sys.stderr None
            self.target.write(text)
        return len(text)

    def flush(self) -> None:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            self.target.flush()

    def fileno(self) -> int:
        return int(self.target.fileno()) if self.target is not None else super().fileno()

    def isatty(self) -> bool:
        return bool(self.target is not None and self.target.isatty())


@contextlib.contextmanager
def user_code() -> Iterator[None]:
    """Around the user's code (the model file, the factory, forward()): what it prints goes to
    stderr, so the YAML on stdout stays clean."""
    with contextlib.redirect_stdout(_Stderr(sys.stderr)):
        yield


def stopped(exc: BaseException, doing: str) -> str:
    """What the user's code raised or exited with (anything but KeyboardInterrupt), in words."""
    if isinstance(exc, SystemExit):
        return f"the model file exited (SystemExit {exc.code}) while {doing}"
    first = str(exc).splitlines()[0] if str(exc) else ""
    return f"{doing} raised {type(exc).__name__}{': ' + first if first else ''}"


def _run_file(path: Path) -> Any:
    """The module of a Python file, run as ``python FILE.py`` would (no arguments on sys.argv)."""
    spec = importlib.util.spec_from_file_location(f"convcost_import_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    saved = sys.argv
    sys.path.insert(0, str(path.resolve().parent))
    sys.argv = [str(path)]  # an argparse at the top of the file sees no arguments, not convcost's
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.pop(0)
        sys.argv = saved
    return module


def load_factory(target: str) -> nn.Module:
    """``path/to/file.py:factory`` or ``package.module:factory`` → the module it builds."""
    where, sep, attr = target.rpartition(":")
    if not sep or not where or not attr.isidentifier():
        raise ConvcostError(
            f"'{target}': expected FILE.py:FACTORY or package.module:FACTORY (a function or class that builds the nn.Module)"
        )
    doing = "importing the model file"
    try:
        with user_code():
            if where.endswith(".py") or "/" in where or "\\" in where:
                path = Path(where)
                if not path.is_file():
                    raise ConvcostError(f"{where}: no such Python file")
                module = _run_file(path)
            else:
                module = importlib.import_module(where)
            factory = getattr(module, attr, None)
            if factory is None or not callable(factory):
                raise ConvcostError(f"{where} has no callable '{attr}'")
            doing = "building the model"
            model = factory()
    except (ConvcostError, KeyboardInterrupt):
        raise
    except BaseException as exc:  # noqa: BLE001 — the user's code: whatever it raises or exits with is one line
        raise ConvcostError(f"{target}: {stopped(exc, doing)}") from None
    if not isinstance(model, nn.Module):
        raise ConvcostError(f"{target} returned {type(model).__name__}, not a torch.nn.Module")
    return model
