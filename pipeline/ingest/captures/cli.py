"""``shimanto ingest captures``: registered on the ``ingest`` group by :func:`register_captures`."""

from __future__ import annotations

from pathlib import Path

import typer

from pipeline.errors import InputError


def _floats(text: str | None, option: str) -> tuple[float, ...] | None:
    if text is None:
        return None
    try:
        return tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise InputError(f"{option} {text!r} is not a comma-separated list of numbers, e.g. 0.67,0.69,0.68,0.61,0.67")\
            from None


def register_captures(group: typer.Typer) -> None:
    """Add the ``captures`` command to the ``ingest`` Typer group."""

    @group.command("captures")
    def captures(
        directory: Path = typer.Argument(..., help="Folder of raw MicaSense captures (IMG_XXXX_N.tif), recursive."),
        out: Path = typer.Option(..., "--out", help="Output folder: reflectance stacks, captures.geojson/.csv."),
        panel: str | None = typer.Option(
            None, "--panel", help="Capture (IMG_XXXX or CaptureId) showing the reflectance panel; default: auto-detect."
        ),
        panel_reflectance: str | None = typer.Option(
            None, "--panel-reflectance", help="Panel reflectance, bands 1-5 (default RP02-1603036-SC: 0.67,0.69,...)."
        ),
        dls: bool = typer.Option(False, "--dls", help="Calibrate with the DLS: reflectance = pi*L/E_DLS."),
        ground_alt: float | None = typer.Option(
            None, "--ground-alt", help="Ground altitude, m (GPS datum), for footprints; default: the panel capture's."
        ),
        report_table: bool = typer.Option(False, "--report", help="Print the calibration table (calibration.json)."),
    ) -> None:
        """Raw MicaSense captures -> aligned 5-band reflectance GeoTIFFs, footprints and a CSV summary."""
        from pipeline.ingest.captures.run import CapturesOptions, check_report, run_captures

        options = CapturesOptions(
            panel=panel,
            panel_reflectance=_floats(panel_reflectance, "--panel-reflectance"),
            dls=dls,
            ground_alt=ground_alt,
        )
        report = run_captures(directory, out, options)
        if report_table:
            from pipeline.ingest.captures.calibration_record import report_lines

            for line in report_lines(report.calibration):
                typer.echo(line)
        for warning in report.warnings:
            typer.echo(f"warning: {warning}", err=True)
        for result in report.written:
            typer.echo(f"{result.label}: {result.row['calibration']} -> {result.path}")
        typer.echo(f"{len(report.written)} of {len(report.results)} capture(s) written; summary {out / 'captures.csv'}")
        check_report(report)
