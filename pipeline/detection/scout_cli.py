"""CLI of field scouting: ``shimanto scout export`` and ``shimanto scout import``."""

from __future__ import annotations

from pathlib import Path

import typer


def register(app: typer.Typer) -> None:
    """Add the ``scout`` command group to the root app."""
    scout = typer.Typer(help="Scouting points to field apps (QField, ODK, KoboToolbox) and observations back.",
                        no_args_is_help=True)
    app.add_typer(scout, name="scout")

    @scout.command("export")
    def export_command(
        predictions: Path = typer.Argument(..., help="'shimanto predict' output folder (scouting_points.geojson)."),
        out: Path = typer.Option(..., "--out", help="Folder for <flight>_scouting.gpkg and <flight>_scouting.csv."),
    ) -> None:
        """Write the flight's scouting points as a GeoPackage layer (QField) and a CSV (ODK/KoboToolbox)."""
        from pipeline.detection.fieldwork import export_points

        for path in export_points(predictions, out):
            typer.echo(str(path))

    @scout.command("import")
    def import_command(
        file: Path = typer.Argument(..., help="The edited .gpkg or .csv from 'shimanto scout export'."),
        flight: Path = typer.Option(..., "--flight", help="The flight's survey folder (observations go there)."),
    ) -> None:
        """Check every row and store the observations with the flight (all or nothing)."""
        from pipeline.detection.fieldwork import import_observations

        path, count, skipped = import_observations(file, flight)
        typer.echo(f"{count} observation(s) stored in {path} ({skipped} row(s) not visited, skipped)")
