"""`convcost calibrate`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .app import app
from .console import fail, guarded
from .options import Backend, Device


@app.command()
@guarded
def calibrate(
    backend: Annotated[Backend, typer.Option(help="The backend to measure: numpy or torch.")] = Backend.numpy,
    device: Annotated[Device, typer.Option(help="cpu, cuda (torch only) or auto.")] = Device.cpu,
    name: Annotated[
        Optional[str], typer.Option(help="Save as this profile name. \\[default: this-BACKEND-DEVICE]", show_default=False)
    ] = None,  # fmt: skip
    batch: Annotated[int, typer.Option(min=1, max=4096, help="Batch size of the calibration layers, in samples.")] = 1,
    seconds: Annotated[float, typer.Option(min=0.5, max=3600, help="Time to spend measuring, in seconds (about).")] = 20.0,
    output: Annotated[
        Optional[Path],
        typer.Option(
            "--output", "-o", help="Write the profile (YAML) to FILE instead of the config directory.", dir_okay=False, show_default=False
        ),
    ] = None,  # fmt: skip
) -> None:
    """Measure this machine (matmul throughput, memory bandwidth, each layer class's efficiency) and save it as a device profile."""
    import re

    from ..backends.execute import backend as make_backend
    from ..device.calibrate import calibrate as measure
    from ..device.profiles import check_new_name, config_dir, to_data
    from ..output import atomic_writer
    from ..yamlio.read import dump

    if backend == Backend.numpy and device == Device.cuda:
        fail("--device cuda: the numpy backend runs on the CPU only; use --backend torch")
    runner = make_backend(backend.value, device.value)  # refuses a missing torch or GPU before any measuring
    label = name or f"this-{backend.value}-{runner.device}"
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", label):
        fail(f"--name {label!r}: use letters, digits, '.', '_' and '-' (it becomes a file name)")
    if output is None:
        check_new_name(label)  # a saved profile under a built-in's id could never be used
    profile = measure(label, backend.value, runner.device, batch, seconds, lambda line: typer.echo(line, err=True))
    target = output or config_dir() / f"{profile.id}.yaml"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with atomic_writer(target) as handle:
            handle.write(dump(to_data(profile), "# convcost device profile, measured by `convcost calibrate`\n"))
    except OSError as exc:
        fail(f"cannot write the profile {target}: {exc.strerror or exc}")
    typer.echo(f"saved {target}: use it with --device-profile {profile.id if output is None else target}")
