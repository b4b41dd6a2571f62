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
        params: Path | None = params_option(),
    ) -> None:
        """Japanese PDF report per grower: field maps, areas to check, scouting points with QR codes."""
        from pipeline.outputs.report import make_reports

        cfg = _config(params).report
        paths = make_reports(survey, indices, predictions, out, cfg, grower=grower, history=history)
        for path in paths:
            typer.echo(str(path))

    @app.command("publish")
    def publish_command(
        surveys: list[Path] = typer.Argument(..., help="One or more survey folders (one flight each)."),
        out: Path = typer.Option(..., "--out", help="Folder for the static STAC catalogue, CSV and index.html."),
        indices: list[Path] = typer.Option([], "--indices", help="Indices folder per survey, in the same order."),
        predictions: list[Path] = typer.Option([], "--predictions", help="Predictions folder per survey, same order."),
        coarsen_m: float | None = typer.Option(None, "--coarsen-m", help="Snap field geometry to this grid (m)."),
        params: Path | None = params_option(),
    ) -> None:
        """Open data: STAC catalogue with COGs, anonymous field statistics CSV (394122), offline index.html."""
        from pipeline.outputs.opendata import publish

        cfg = _config(params).opendata
        paths = publish(surveys, out, cfg, indices=indices, predictions=predictions, coarsen_m=coarsen_m)
        for path in paths:
            typer.echo(str(path))
