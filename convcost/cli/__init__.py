"""The command line (typer): parse options, call the API, pick a renderer, map the result to an
exit code — one module per command (``cli/analyze.py`` …), the shared options in ``options``,
errors, progress and encodings in ``console``.

Start-up is kept lean: every module beyond typer is imported inside the command that needs it.
typer is pinned below 0.29, whose option parsing imports pydantic on every run (~100 ms).
"""

from __future__ import annotations

import sys

import typer

from ..errors import ExitCode
from .app import app
from .console import _ascii_fallback, _terminated

# Each module registers its command on import; --help lists them in this order.
# isort: off
from . import analyze, compare, hdc, check, fit, report, kinds, profiles, zoo, calibrate, imports, export, schema  # noqa: F401, E402
# isort: on


def run(argv: list[str] | None = None) -> int:
    """Run the CLI; usage errors are one line (``error: …``) with exit 2. Returns the exit code."""
    try:
        from typer._click.exceptions import ClickException  # typer ≥ 0.26 vendors click
    except ImportError:  # pragma: no cover
        from click.exceptions import ClickException  # type: ignore[no-redef,assignment]  # typer < 0.26 used click's own

    command = typer.main.get_command(app)
    try:
        code = command.main(args=argv, prog_name="convcost", standalone_mode=False)
    except ClickException as exc:
        if type(exc).__name__ == "NoArgsIsHelpError":  # plain `convcost`: the help was the answer
            sys.stderr.write(exc.format_message() + "\n")
            return 0
        hint = exc.ctx.command_path if getattr(exc, "ctx", None) else "convcost"  # type: ignore[attr-defined]  # click sets ctx on errors raised in a context
        sys.stderr.write(f"error: {exc.format_message()} (see '{hint} --help')\n")
        return int(exc.exit_code)
    except typer.Abort:
        return 130
    except KeyboardInterrupt:
        return 130
    return int(code or 0)


def entry() -> None:
    """Console-script entry point."""
    import codecs
    import signal

    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), _terminated)
    codecs.register_error("convcost-ascii", _ascii_fallback)
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="convcost-ascii")
    sys.exit(run())


__all__ = ["ExitCode", "app", "entry", "run"]
