"""CLI of the ingest stage: ``shimanto indices`` and ``shimanto ingest captures`` (from the captures sub-package)."""

from __future__ import annotations

from pathlib import Path

import typer

from pipeline.common.cli_options import overwrite_option, params_option, read_params
from pipeline.config import section
from pipeline.ingest.captures.cli import register_captures


def _split(text: str | None) -> list[str] | None:
    return [t.strip() for t in text.split(",") if t.strip()] if text else None


def register(app: typer.Typer) -> None:
    """Add ``indices`` and the ``ingest`` group (``ingest captures``, from the captures sub-package) to the root app."""
    group = typer.Typer(help="Ingest raw sensor data (MicaSense captures to reflectance).", no_args_is_help=True)
    register_captures(group)
    app.add_typer(group, name="ingest")

    @app.command("indices")
    def indices_command(
        scene: str = typer.Argument(..., help="Multi-band GeoTIFF, folder of per-band GeoTIFFs, or a glob of them."),
        sensor: str = typer.Option(..., "--sensor", help="Sensor: rededge-mx, rededge-p, altum-pt, p4m, m3m, rgb, "
                                   "p4rtk, m3e, or a sensor YAML/JSON file (bands, scale, nodata)."),
        out: Path = typer.Option(..., "--out", help="Output folder (created; must be new, empty or a previous run)."),
        overwrite: bool = overwrite_option(),
        indices: str | None = typer.Option(
            None, "--indices", help="Comma-separated: ndvi,ndre,gndvi,savi,osavi,evi2,cire,cigreen,mcari,mtci or any "
            "Awesome Spectral Indices name (gli, ngrdi; spyndex:NAME) (default: params ingest.indices)."),
        scale: float | None = typer.Option(
            None, "--scale", help="DIVISOR: reflectance = sample / DIVISOR (e.g. 10000). Not GDAL's multiplier: "
            "a file's own GDAL scale/offset metadata is applied without --scale."),
        fields: Path | None = typer.Option(None, "--fields", help="GeoJSON field polygons for per-field statistics."),
        bands: str | None = typer.Option(None, "--bands", help="Band names in file order, e.g. blue,green,red,nir."),
        stress_threshold: str | None = typer.Option(
            None, "--stress-threshold", help="Stress thresholds, e.g. ndvi=0.5,ndre=0.2 (share of field below)."),
        workers: int | None = typer.Option(None, "--workers", help="Threads (default: all CPUs)."),
        compress: str | None = typer.Option(None, "--compress", help="COG compression: ZSTD (default), DEFLATE..."),
        params: Path | None = params_option(),
    ) -> None:
        """Compute vegetation index COGs (and per-field statistics with --fields) from an orthomosaic."""
        from pipeline.ingest.api import IngestConfig, parse_thresholds, run_indices

        config = section(IngestConfig, read_params(params).get("ingest"), "ingest")
        result = run_indices(
            scene, sensor, out, indices=_split(indices), scale=scale, fields=fields, bands=_split(bands),
            thresholds=parse_thresholds(stress_threshold), config=config, workers=workers, compress=compress,
            overwrite=overwrite,
        )
        for warning in result.warnings:
            typer.echo(f"warning: {warning}", err=True)
        for path in [*result.rasters.values(), *result.stats, result.manifest]:
            typer.echo(str(path))
