"""``shimanto mosaic``: registered in ``cli.COMMAND_GROUPS``."""

from __future__ import annotations

import os
from pathlib import Path

import typer

#: Environment variable read when ``--token`` is not given (keeps the token out of shell history and ps).
TOKEN_ENV = "SHIMANTO_NODEODM_TOKEN"


def register(app: typer.Typer) -> None:
    """Add ``mosaic`` to the root app."""

    @app.command("mosaic")
    def mosaic_command(
        captures: Path = typer.Argument(..., help="SD-card folder of MicaSense captures (IMG_XXXX_N.tif), recursive."),
        node: str = typer.Option(..., "--node", help="NodeODM or ClusterODM URL, e.g. http://127.0.0.1:3000."),
        out: Path = typer.Option(..., "--out", help="Output folder: orthophoto.tif, dsm.tif, mosaic.json."),
        token: str | None = typer.Option(None, "--token", help=f"Node token (default: ${TOKEN_ENV})."),
        panel: str | None = typer.Option(None, "--panel", help="Panel capture (IMG_XXXX or CaptureId); default: "
                                         "detected among the first and last captures."),
        ground_alt: float | None = typer.Option(None, "--ground-alt", help="Ground altitude, m (GPS datum), for "
                                                "the GSD; default: the panel capture's."),
        resolution_cm: float | None = typer.Option(None, "--resolution-cm",
                                                   help="Orthophoto resolution, cm/px (default: the flight's GSD)."),
        fast_orthophoto: bool = typer.Option(False, "--fast-orthophoto",
                                             help="ODM fast-orthophoto: no dense point cloud, no DSM."),
        strict: bool = typer.Option(False, "--strict", help="Refuse the set when any capture is bad "
                                    "(default: leave bad captures out with a warning naming them)."),
        upload_retries: int = typer.Option(10, "--upload-retries", help="Retries per image upload."),
        overwrite: bool = typer.Option(False, "--overwrite", help="Replace --out even if another program wrote it."),
    ) -> None:
        """Captures -> OpenDroneMap (NodeODM/ClusterODM API) -> orthophoto and DSM COGs; resumable, Ctrl-C cancels."""
        from pipeline.common.progress import make_progress
        from pipeline.errors import InputError
        from pipeline.ingest.mosaic.node import NodeSettings
        from pipeline.ingest.mosaic.precheck import MosaicRequest
        from pipeline.ingest.mosaic.run import run_mosaic

        if upload_retries < 0:
            raise InputError(f"--upload-retries {upload_retries} must be >= 0")
        request = MosaicRequest(panel=panel, ground_alt=ground_alt, resolution_cm=resolution_cm,
                                fast_orthophoto=fast_orthophoto, strict=strict)
        with make_progress(transient=True) as progress:
            tasks: dict[str, object] = {}

            def report(phase: str, percent: float) -> None:
                if phase not in tasks:
                    tasks[phase] = progress.add_task(phase, total=100)
                progress.update(tasks[phase], completed=percent)  # type: ignore[arg-type]

            result = run_mosaic(captures, node, out, token=token or os.environ.get(TOKEN_ENV, ""), request=request,
                                settings=NodeSettings(upload_retries=upload_retries), report=report,
                                overwrite=overwrite)
        for warning in result.warnings:
            typer.echo(f"warning: {warning}", err=True)
        typer.echo(f"task {result.task_uuid}{' (resumed)' if result.resumed else ''}")
        for path in (result.orthophoto, result.dsm, result.record):
            if path is not None:
                typer.echo(str(path))
