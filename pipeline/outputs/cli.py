"""CLI commands of the outputs stage: ``shimanto report`` and ``shimanto publish``."""

from __future__ import annotations

from pathlib import Path

import typer

from pipeline.common.cli_options import params_option, read_params
from pipeline.config import section
from pipeline.outputs.config import OutputsConfig


def _config(params: Path | None) -> OutputsConfig:
    return section(OutputsConfig, read_params(params).get("outputs"), "outputs")


def register(app: typer.Typer) -> None:
    """Add ``report`` and ``publish`` to the root app."""

    @app.command("report")
    def report_command(
        survey: Path = typer.Argument(..., help="Survey folder (scene.tif, fields.geojson, survey.json)."),
        indices: Path = typer.Option(..., "--indices", help="Folder with <index>.tif maps (shimanto indices)."),
        predictions: Path = typer.Option(..., "--predictions", help="Folder with hotspots.geojson (shimanto predict)."),
        out: Path = typer.Option(..., "--out", help="Folder for the PDFs, KML, GeoJSON and map PNGs."),
        grower: str | None = typer.Option(None, "--grower", help="Only this grower (name as in fields.geojson)."),
        history: list[Path] = typer.Option([], "--history", help="Earlier report folder(s) to compare with."),
        overwrite: bool = typer.Option(False, "--overwrite", help="Write into --out even when it holds files "
                                       "'shimanto report' did not write (nothing there is deleted)."),
        params: Path | None = params_option(),
    ) -> None:
        """Japanese PDF report per grower: field maps, areas to check, scouting points with QR codes."""
        from pipeline.outputs.report import make_reports

        cfg = _config(params).report
        paths = make_reports(survey, indices, predictions, out, cfg, grower=grower, history=history,
                             overwrite=overwrite)
        for path in paths:
            typer.echo(str(path))

    @app.command("opendata-serve")
    def opendata_serve_command(
        folder: Path = typer.Argument(..., help="A folder written by 'shimanto publish'."),
        port: int = typer.Option(8000, "--port", help="TCP port (0 picks a free one)."),
        bind: str = typer.Option("127.0.0.1", "--bind", help="Address to listen on (default: this machine only)."),
    ) -> None:
        """Serve an open-data folder over HTTP with range requests, so its map works (Ctrl+C stops)."""
        from pipeline.errors import InputError
        from pipeline.outputs.serve import make_server

        if not (folder / "index.html").is_file():
            raise InputError(f"{str(folder)!r} holds no index.html; give a folder written by 'shimanto publish'")
        try:
            server = make_server(folder, bind, port)
        except OSError as exc:
            raise InputError(f"cannot listen on {bind}:{port} ({exc.strerror}); give another --port or --bind") \
                from exc
        typer.echo(f"serving {folder} at http://{bind}:{server.server_address[1]}/index.html (Ctrl+C stops)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()

    @app.command("publish")
    def publish_command(
        surveys: list[Path] = typer.Argument(..., help="One or more survey folders (one flight each)."),
        out: Path = typer.Option(..., "--out", help="Folder for the static STAC catalogue, CSV and index.html."),
        indices: list[Path] = typer.Option([], "--indices", help="Indices folder per survey, in the same order."),
        predictions: list[Path] = typer.Option([], "--predictions", help="Predictions folder per survey, same order."),
        coarsen_m: float | None = typer.Option(None, "--coarsen-m", help="Snap field geometry to this grid (m)."),
        overwrite: bool = typer.Option(False, "--overwrite", help="Replace --out even if another command wrote it."),
        params: Path | None = params_option(),
    ) -> None:
        """Open data: STAC catalogue with COGs, anonymous field statistics CSV (394122), index.html with a map.

        Field IDs are anonymised with this installation's key, created on first use in
        ~/.config/shimanto/opendata.key (0600; override with SHIMANTO_OPENDATA_KEY_FILE).
        """
        from pipeline.outputs.opendata import publish

        cfg = _config(params).opendata
        paths = publish(surveys, out, cfg, indices=indices, predictions=predictions, coarsen_m=coarsen_m,
                        overwrite=overwrite)
        for path in paths:
            typer.echo(str(path))
