"""CLI of the flight stage: ``shimanto plan survey`` and ``shimanto plan check``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import typer

from pipeline.common.cli_options import params_option, read_params
from pipeline.config import section
from pipeline.errors import InputError, SafetyLimitError
from pipeline.flight.battery import Battery
from pipeline.flight.checks import CheckSettings, Issue, check_mission, has_errors
from pipeline.flight.config import FlightParams
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


def _parse_date(text: str | None, option: str = "--date") -> dt.date | None:
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{option} {text!r} is not a date; use YYYY-MM-DD, e.g. 2026-07-01") from None


def _parse_time(text: str | None) -> dt.time | None:
    if text is None:
        return None
    try:
        return dt.time.fromisoformat(text)
    except ValueError:
        raise InputError(f"--start {text!r} is not a clock time; use HH:MM local time, e.g. 10:30") from None


def _parse_angle(text: str) -> float | None:
    if text == "auto":
        return None
    try:
        return float(text) % 180.0
    except ValueError:
        raise InputError(f"--angle {text!r} is neither 'auto' nor degrees; e.g. --angle 45") from None


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
        front_overlap: float = typer.Option(0.75, "--front-overlap", help="Front overlap fraction."),
        side_overlap: float = typer.Option(0.70, "--side-overlap", help="Side overlap fraction."),
        orientation: str = typer.Option("landscape", "--orientation", help="Camera: landscape or portrait."),
        dem: Path | None = typer.Option(None, "--dem", help="DEM GeoTIFF for terrain following (any CRS/unit)."),
        home: str | None = typer.Option(None, "--home", help="Take-off point LAT,LON."),
        angle: str = typer.Option("auto", "--angle", help="Grid angle: auto or degrees CCW from east."),
        speed: float | None = typer.Option(None, "--speed", help="Ground speed m/s (default: fastest allowed)."),
        no_fly: Path | None = typer.Option(None, "--no-fly", help="GeoJSON/KML of no-fly polygons."),
        max_distance_m: float | None = typer.Option(None, "--max-distance-m", help="Hard VLOS limit from home, m."),
        date: str | None = typer.Option(None, "--date", help="Flight date YYYY-MM-DD (sun checks)."),
        start: str | None = typer.Option(None, "--start", help="Take-off time HH:MM local (daylight check)."),
        altitude_frame: str = typer.Option("auto", "--altitude-frame", help="auto, amsl, terrain or relative."),
        params: Path | None = params_option(),
    ) -> None:
        """Plan a multispectral survey grid over BOUNDARY and write NAME.plan/.waypoints/.geojson/.summary.json."""
        from pipeline.flight.boundary import read_boundary, read_no_fly
        from pipeline.flight.cameras import resolve_camera
        from pipeline.flight.outputs import write_survey_outputs
        from pipeline.flight.planner import SurveyRequest, plan_survey
        from pipeline.flight.terrain import load_dem

        cfg = section(FlightParams, read_params(params).get("flight"), "flight")
        req = SurveyRequest(
            camera=resolve_camera(camera), front_overlap=front_overlap, side_overlap=side_overlap,
            altitude_m=altitude, gsd_cm=gsd_cm, orientation=orientation, angle_deg=_parse_angle(angle),
            speed_m_s=speed, home=_parse_home(home), max_speed_m_s=cfg.max_speed_m_s, exposure_s=cfg.exposure_s,
            max_blur_px=cfg.max_blur_px, turnaround_m=cfg.turnaround_m, terrain_tolerance_m=cfg.terrain_tolerance_m,
            altitude_frame=altitude_frame, no_fly_margin_m=cfg.no_fly_margin_m,
            kinematics=Kinematics(cfg.max_speed_m_s, cfg.climb_m_s, cfg.accel_m_s2, cfg.yaw_s),
            battery=Battery(cfg.battery_endurance_s, cfg.battery_reserve),
            checks=CheckSettings(cfg.max_agl_m, max_distance_m or cfg.max_distance_m, max_distance_m is not None,
                                 cfg.min_sun_elevation_deg, _parse_date(date), _parse_time(start)),
        )
        plan = plan_survey(read_boundary(boundary), req, load_dem(dem) if dem else None,
                           read_no_fly(no_fly) if no_fly else ())
        if has_errors(list(plan.issues)):
            _print_issues([i for i in plan.issues if i.severity != "error"])
            _refuse(plan.issues)
        written = write_survey_outputs(plan, out, name)
        s = plan.summary
        typer.echo(f"{name}: {s['altitude_agl_m']} m AGL, GSD {s['gsd_cm']} cm/px ({s['camera_orientation']}), "
                   f"lanes {s['lane_spacing_m']} m, trigger {s['trigger_distance_m']} m, {s['photo_count']} photos, "
                   f"{s['flight_distance_m'] / 1000:.2f} km, {s['flight_time_s'] / 60:.1f} min, "
                   f"{len(s['sorties'])} sortie(s), AGL {s['agl_min_m']}-{s['agl_max_m']} m")
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
        from pipeline.flight.boundary import read_no_fly
        from pipeline.flight.qgc import read_mission_file
        from pipeline.flight.terrain import load_dem

        cfg = section(FlightParams, read_params(params).get("flight"), "flight")
        mission = read_mission_file(file)
        settings = CheckSettings(cfg.max_agl_m, max_distance_m or cfg.max_distance_m, max_distance_m is not None,
                                 cfg.min_sun_elevation_deg, _parse_date(date), _parse_time(start))
        issues = check_mission(mission, settings, load_dem(dem) if dem else None,
                               read_no_fly(no_fly) if no_fly else ())
        typer.echo(f"{file}: {len(mission.items)} items, {len(issues)} issue(s)")
        _print_issues([i for i in issues if i.severity != "error"])
        if has_errors(issues):
            _refuse(issues)

    return app


def register(app: typer.Typer) -> None:
    """Add the ``plan`` group to the root app."""
    app.add_typer(build_plan_app(), name="plan")
