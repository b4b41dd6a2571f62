"""CLI of the flight stage: ``shimanto plan survey`` and ``shimanto plan check``."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import typer

from pipeline.common.cli_options import params_option, read_params
from pipeline.config import section
from pipeline.errors import InputError, SafetyLimitError
from pipeline.flight.battery import Battery
from pipeline.flight.camcalc import parse_overlap
from pipeline.flight.checks import CheckSettings, Issue, has_errors
from pipeline.flight.config import FlightParams
from pipeline.flight.flight_time import COPTER_PARAM_NAMES, CopterParams
from pipeline.flight.preflight import parse_date as _parse_date
from pipeline.flight.preflight import parse_time as _parse_time
from pipeline.flight.route import Kinematics


def _parse_home(text: str | None) -> tuple[float, float] | None:
    if text is None:
        return None
    try:
        lat, lon = (float(v) for v in text.split(","))
    except ValueError:
        raise InputError(f"--home {text!r} is not LAT,LON; use decimal degrees, e.g. 33.2012,133.1391") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InputError(f"--home {text!r} is out of range; latitude first, e.g. 33.2012,133.1391")
    return lat, lon


def _parse_angle(text: str) -> float | None:
    if text == "auto":
        return None
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"--angle {text!r} is neither 'auto' nor degrees clockwise from true north (QGC's "
                         "Survey angle); e.g. --angle 45") from None
    if not math.isfinite(value):
        raise InputError(f"--angle {text!r} is not a finite angle; e.g. --angle 45")
    return value % 180.0


def _parse_copter_params(items: list[str]) -> dict[str, float]:
    values: dict[str, float] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not sep or name.strip().upper() not in COPTER_PARAM_NAMES or not math.isfinite(value):
            raise InputError(f"--copter-param {item!r} is not NAME=VALUE with NAME one of "
                             f"{', '.join(COPTER_PARAM_NAMES)} (ArduPilot units, e.g. WPNAV_SPEED_UP=250)")
        values[name.strip().upper()] = value
    return values


def _print_issues(issues: list[Issue] | tuple[Issue, ...]) -> None:
    for issue in issues:
        typer.echo(f"{issue.severity}: [{issue.code}] {issue.message}", err=issue.severity == "error")


def _refuse(issues: list[Issue] | tuple[Issue, ...]) -> None:
    errors = [i for i in issues if i.severity == "error"]
    raise SafetyLimitError(f"{len(errors)} hard limit(s) broken, nothing written: "
                           + " | ".join(f"[{i.code}] {i.message}" for i in errors))


def build_plan_app() -> typer.Typer:
    """The ``plan`` command group."""
    app = typer.Typer(help="Survey flight planning (QGroundControl .plan, QGC WPL 110) and plan checks.",
                      no_args_is_help=True)

    @app.command("survey")
    def survey_command(
        boundary: Path = typer.Argument(..., help="Field boundary (GeoJSON or KML; holes and exclusions allowed)."),
        camera: str = typer.Option(..., "--camera", help="Camera name (rededge-mx, altum-pt...) or a YAML/JSON file."),
        out: Path = typer.Option(..., "--out", help="Output folder."),
        name: str = typer.Option("survey", "--name", help="Base name of the output files."),
        gsd_cm: float | None = typer.Option(None, "--gsd-cm", help="Ground sample distance, cm/px."),
        altitude: float | None = typer.Option(None, "--altitude", help="Height above ground, m."),
        front_overlap: str = typer.Option("75", "--front-overlap", help="Front overlap: 75, 75% or 0.75 "
                                          "(a value above 1 is a percent)."),
        side_overlap: str = typer.Option("70", "--side-overlap", help="Side overlap: 70, 70% or 0.70."),
        orientation: str = typer.Option("landscape", "--orientation", help="Camera: landscape or portrait."),
        dem: Path | None = typer.Option(None, "--dem", help="DEM GeoTIFF for terrain following (any CRS/unit)."),
        home: str | None = typer.Option(None, "--home", help="Take-off point LAT,LON."),
        angle: str = typer.Option("auto", "--angle", help="Grid angle as in QGroundControl's Survey: auto, or "
                                  "the transect direction in degrees clockwise from true north (90 = east-west)."),
        speed: float | None = typer.Option(None, "--speed", help="Ground speed m/s (default: fastest allowed)."),
        no_fly: Path | None = typer.Option(None, "--no-fly", help="GeoJSON/KML of no-fly polygons."),
        max_distance_m: float | None = typer.Option(None, "--max-distance-m", help="Hard VLOS limit from home, m."),
        date: str | None = typer.Option(None, "--date", help="Flight date YYYY-MM-DD (sun checks)."),
        start: str | None = typer.Option(None, "--start", help="Take-off time HH:MM local (daylight check)."),
        altitude_frame: str = typer.Option("auto", "--altitude-frame", help="auto, amsl, terrain or relative."),
        copter_param: list[str] = typer.Option([], "--copter-param", help="ArduCopter parameter for the flight-time "
                                               "phases as on the vehicle, NAME=VALUE in ArduPilot units, repeatable "
                                               "(e.g. WPNAV_SPEED_UP=300, RTL_ALT=3000, LAND_SPEED=50)."),
        params: Path | None = params_option(),
    ) -> None:
        """Plan a multispectral survey grid over BOUNDARY and write NAME.plan/.waypoints/.geojson/.summary.json."""
        from pipeline.flight.boundary import read_boundary, read_no_fly
        from pipeline.flight.cameras import resolve_camera
        from pipeline.flight.outputs import write_survey_outputs
        from pipeline.flight.planner import SurveyRequest, plan_survey
        from pipeline.flight.terrain import load_dem

        cfg = section(FlightParams, read_params(params).get("flight"), "flight")
        front, front_how = parse_overlap(front_overlap, "--front-overlap")
        side, side_how = parse_overlap(side_overlap, "--side-overlap")
        req = SurveyRequest(
            camera=resolve_camera(camera), front_overlap=front, side_overlap=side,
            altitude_m=altitude, gsd_cm=gsd_cm, orientation=orientation, angle_deg=_parse_angle(angle),
            speed_m_s=speed, home=_parse_home(home), max_speed_m_s=cfg.max_speed_m_s, exposure_s=cfg.exposure_s,
            max_blur_px=cfg.max_blur_px, turnaround_m=cfg.turnaround_m, terrain_tolerance_m=cfg.terrain_tolerance_m,
            altitude_frame=altitude_frame, no_fly_margin_m=cfg.no_fly_margin_m,
            kinematics=Kinematics(cfg.max_speed_m_s, cfg.climb_m_s, cfg.accel_m_s2, cfg.yaw_s),
            copter=CopterParams.from_ardupilot(_parse_copter_params(copter_param)),
            battery=Battery(cfg.battery_endurance_s, cfg.battery_reserve),
            checks=CheckSettings(cfg.max_agl_m, max_distance_m or cfg.max_distance_m, max_distance_m is not None,
                                 cfg.min_sun_elevation_deg, _parse_date(date), _parse_time(start)),
        )
        plan = plan_survey(read_boundary(boundary), req, load_dem(dem) if dem else None,
                           read_no_fly(no_fly) if no_fly else ())
        plan = replace(plan, summary={**plan.summary, "overlaps_understood": {"front": front_how, "side": side_how}})
        if has_errors(list(plan.issues)):
            _print_issues([i for i in plan.issues if i.severity != "error"])
            _refuse(plan.issues)
        written = write_survey_outputs(plan, out, name)
        s = plan.summary
        typer.echo(f"{name}: {s['altitude_agl_m']} m AGL, GSD {s['gsd_cm']} cm/px ({s['camera_orientation']}), "
                   f"lanes {s['lane_spacing_m']} m, trigger {s['trigger_distance_m']} m, {s['photo_count']} photos, "
                   f"{s['flight_distance_m'] / 1000:.2f} km, {s['flight_time_s'] / 60:.1f} min, "
                   f"{len(s['sorties'])} sortie(s), AGL {s['agl_min_m']}-{s['agl_max_m']} m")
        angles = ", ".join(f"{field} {value:g}°" for field, value in s["grid_angle_deg_qgc"].items())
        typer.echo(f"grid angle (QGC Survey angle, clockwise from true north): {angles}")
        phases = ", ".join(f"{k} {v:g} s" for k, v in s["flight_phases_s"].items())
        typer.echo(f"flight time {s['flight_time_s']:g} s lift-off to touchdown: {phases}")
        typer.echo(f"overlaps: front {front_how}, side {side_how}")
        _print_issues(plan.issues)
        for path in written:
            typer.echo(f"wrote {path}")

    @app.command("check")
    def check_command(
        file: Path = typer.Argument(..., help="Mission file (.plan or QGC WPL 110)."),
        dem: Path | None = typer.Option(None, "--dem", help="DEM GeoTIFF for heights above ground."),
        no_fly: Path | None = typer.Option(None, "--no-fly", help="GeoJSON/KML of no-fly polygons."),
        max_distance_m: float | None = typer.Option(None, "--max-distance-m", help="Hard VLOS limit from home, m."),
        date: str | None = typer.Option(None, "--date", help="Flight date YYYY-MM-DD (sun checks)."),
        start: str | None = typer.Option(None, "--start", help="Take-off time HH:MM local (daylight check)."),
        params: Path | None = params_option(),
    ) -> None:
        """Run every check on an existing plan and print all issues (exit 3 on a hard violation)."""
        from pipeline.flight.preflight import check_settings, home_line, plan_issues
        from pipeline.flight.qgc import read_mission_file
        from pipeline.flight.survey_figures import figures_line, plan_survey_figures

        cfg = section(FlightParams, read_params(params).get("flight"), "flight")
        mission = read_mission_file(file)
        settings = check_settings(cfg, max_distance_m, _parse_date(date), _parse_time(start))
        issues = plan_issues(mission, settings, dem, no_fly)
        typer.echo(f"{file}: {len(mission.items)} items, {len(issues)} issue(s)")
        typer.echo(home_line(mission))
        for n, figures in enumerate(plan_survey_figures(file), start=1):
            typer.echo(figures_line(n, figures))
        _print_issues([i for i in issues if i.severity != "error"])
        if has_errors(issues):
            _refuse(issues)

    return app


def register(app: typer.Typer) -> None:
    """Add the ``plan`` group to the root app."""
    app.add_typer(build_plan_app(), name="plan")
