"""CLI of the simulate stage: ``shimanto simulate survey`` (``simulate season`` is added by batch)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

from pipeline.common.cli_options import overwrite_option, params_option, read_params
from pipeline.config import section
from pipeline.core.io import read_survey_meta
from pipeline.errors import InputError
from pipeline.simulate.config import SimulateConfig


def parse_date(text: str, option: str = "--date") -> dt.date:
    """ISO date or :class:`InputError` naming the option."""
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{option} {text!r} is not an ISO date; use YYYY-MM-DD, e.g. 2026-07-01") from None


def parse_time(text: str, option: str = "--time") -> dt.time:
    """``HH:MM`` clock time or :class:`InputError` naming the option."""
    try:
        return dt.time.fromisoformat(text)
    except ValueError:
        raise InputError(f"{option} {text!r} is not a clock time; use HH:MM (local JST), e.g. 10:30") from None


def build_simulate_app() -> typer.Typer:
    """The ``simulate`` command group (other stages may add commands to it, e.g. ``season``)."""
    app = typer.Typer(help="Physics-based (PROSAIL) synthetic multispectral surveys.", no_args_is_help=True)

    @app.command("survey")
    def survey_command(
        out: Path = typer.Option(..., "--out", help="Survey folder (new, empty or an earlier simulated survey)."),
        overwrite: bool = overwrite_option(),
        seed: int = typer.Option(0, "--seed", help="Per-flight seed (noise); also the layout seed by default."),
        hectares: float | None = typer.Option(None, "--hectares", help="Footprint area in ha (default 4)."),
        gsd_cm: float | None = typer.Option(None, "--gsd-cm", help="Ground sample distance in cm (default 10)."),
        date: str | None = typer.Option(None, "--date", help="Flight date YYYY-MM-DD (default 2026-07-01)."),
        time: str | None = typer.Option(None, "--time", help="Flight time HH:MM JST (default 10:30)."),
        layout_seed: int | None = typer.Option(None, "--layout-seed", help="Seed of fields and disease origins."),
        days_after_planting: float | None = typer.Option(None, "--days-after-planting",
                                                         help="Override every field's days after planting."),
        disease_progress: float | None = typer.Option(None, "--disease-progress",
                                                      help="0 none, 1 nominal, >1 further spread."),
        params: Path | None = params_option(),
    ) -> None:
        """Simulate one survey: scene.tif (5-band COG), fields/labels GeoJSON and survey.json."""
        from pipeline.simulate.survey import SurveySpec, simulate_survey  # PROSAIL: the [sim] extra

        cfg = section(SimulateConfig, read_params(params).get("simulate"), "simulate")
        spec = SurveySpec(
            seed=seed,
            hectares=cfg.hectares if hectares is None else hectares,
            gsd_cm=cfg.gsd_cm if gsd_cm is None else gsd_cm,
            date=parse_date(date or cfg.date),
            local_time=parse_time(time or cfg.time),
            layout_seed=layout_seed,
            days_after_planting=days_after_planting,
            disease_progress=cfg.disease_progress if disease_progress is None else disease_progress,
            sensor=cfg.sensor,
        )
        folder = simulate_survey(out, spec, overwrite=overwrite)
        meta = read_survey_meta(folder)
        typer.echo(f"wrote {folder.root}/ ({meta['raster_shape'][0]}x{meta['raster_shape'][1]} px, "
                   f"{len(meta['days_after_planting'])} fields, sun zenith {meta['sun']['zenith_deg']} deg)")

    @app.command("season")
    def season_command(
        out: Path = typer.Option(..., "--out", help="Root folder; flights go to <area>_<YYYYMMDD>_<sensor>/."),
        flights: int = typer.Option(6, "--flights", help="Number of flights over the season (>= 2)."),
        seed: int = typer.Option(0, "--seed", help="Season seed: fixes the fields and disease origins."),
        area: str = typer.Option("kubokawa", "--area", help="Area name used in the flight folder names."),
        start: str = typer.Option("2026-06-01", "--start", help="Date of the first flight, YYYY-MM-DD."),
        interval_days: int = typer.Option(7, "--interval-days", help="Days between flights."),
        hectares: float = typer.Option(2.0, "--hectares", help="Footprint area in ha."),
        gsd_cm: float = typer.Option(10.0, "--gsd-cm", help="Ground sample distance in cm."),
    ) -> None:
        """Simulate a season of flights over the same fields (crops grow, disease spreads from its first patches)."""
        from pipeline.simulate.season import SeasonSpec, simulate_season

        season = SeasonSpec(seed=seed, flights=flights, area=area, start=parse_date(start, "--start"),
                            interval_days=interval_days, hectares=hectares, gsd_cm=gsd_cm)
        written = simulate_season(out, season)
        typer.echo(f"wrote {len(written)} flights under {out}/: " + ", ".join(p.name for p in written))

    return app


def register(app: typer.Typer) -> None:
    """Add the ``simulate`` group to the root app."""
    app.add_typer(build_simulate_app(), name="simulate")
