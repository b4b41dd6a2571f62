"""``shimanto fly``: upload, download, start and monitor missions over MAVLink; run a simulated vehicle."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import typer
from pymavlink.dialects.v20 import ardupilotmega as mav2

from pipeline.common.cli_options import params_option
from pipeline.errors import InputError, unknown_name
from pipeline.mavlink.client import (
    FIRMWARE_CHOICES,
    GroundStation,
    UploadReport,
    download_mission,
    read_home,
    upload_mission,
)
from pipeline.mavlink.protocol import RetryPolicy

_OUT_WRITERS = (".plan", ".waypoints", ".txt")

CONNECT_HELP = (
    "pymavlink connection URL: udpin:0.0.0.0:14550 (listen), udpout:HOST:PORT, tcp:HOST:PORT, tcpin:HOST:PORT"
)


def _firmware(value: str) -> str:
    if value not in FIRMWARE_CHOICES:
        raise unknown_name("firmware", value, FIRMWARE_CHOICES)
    return value


def _policy(timeout: float, retries: int) -> RetryPolicy:
    problems = [f"--timeout {timeout} must be > 0"] * (timeout <= 0) + [f"--retries {retries} must be >= 0"] * (
        retries < 0
    )
    if problems:
        raise InputError("; ".join(problems))
    return RetryPolicy(timeout_s=timeout, retries=retries)


def command_label(command: int) -> str:
    """``16 -> "NAV_WAYPOINT"``."""
    entry = mav2.enums["MAV_CMD"].get(int(command))
    name = entry.name if entry is not None and entry.name else f"CMD_{command}"
    return name.removeprefix("MAV_CMD_")


def verification_lines(report: UploadReport) -> list[str]:
    """Per-item verification summary printed by ``fly upload``."""
    lines = []
    for list_name, checks in report.checks.items():
        for check in checks:
            status = "ok" if check.ok else "MISMATCH: " + "; ".join(check.problems)
            lines.append(f"{list_name:7s} {check.index + 1:4d}  {command_label(check.command):28s} {status}")
    counts = ", ".join(f"{len(c)} {name}" for name, c in report.checks.items())
    home = report.vehicle_home
    home_txt = f"; vehicle home {home.lat:.7f}, {home.lon:.7f}, {home.alt:.1f} m" if home is not None else ""
    lines.append(f"verified {counts} item(s) on the {report.firmware} vehicle{home_txt}")
    return lines


def home_comparison(planned: tuple[float, float, float] | None, vehicle: tuple[float, float, float] | None) -> str:
    """One line comparing the plan's home with the vehicle's (HOME_POSITION); relative altitudes fly from the latter."""
    if vehicle is None:
        return "vehicle home: not set yet (no position fix); relative altitudes will count from where it arms"
    text = f"vehicle home {vehicle[0]:.7f}, {vehicle[1]:.7f}, {vehicle[2]:.2f} m AMSL"
    if planned is not None and abs(planned[2] - vehicle[2]) > 1.0:
        text += (f" (the plan's home altitude is {planned[2]:.2f} m AMSL: relative altitudes count from the "
                 "vehicle's)")
    return text


def register(app: typer.Typer) -> None:
    """Add the ``fly`` group."""
    fly = typer.Typer(help="Fly missions over MAVLink: upload (verified), download, start, monitor; sim-vehicle.",
                      no_args_is_help=True)
    app.add_typer(fly, name="fly")

    connect_opt = typer.Option(..., "--connect", help=CONNECT_HELP)
    firmware_opt = typer.Option("auto", "--firmware", help="auto (from HEARTBEAT), ardupilot or px4.")
    timeout_opt = typer.Option(1.5, "--timeout", help="Seconds of silence before a re-send.")
    retries_opt = typer.Option(5, "--retries", help="Consecutive silent periods before giving up.")
    wait_opt = typer.Option(10.0, "--connect-timeout", help="Seconds to wait for the vehicle's HEARTBEAT.")

    @fly.command("upload")
    def upload_cmd(
        plan: Path = typer.Argument(..., help="QGC .plan or QGC WPL 110 mission file."),
        connect: str = connect_opt,
        firmware: str = firmware_opt,
        timeout: float = timeout_opt,
        retries: int = retries_opt,
        connect_timeout: float = wait_opt,
        dem: Path | None = typer.Option(None, "--dem", help="DEM GeoTIFF for heights above ground in the checks."),
        no_fly: Path | None = typer.Option(None, "--no-fly", help="GeoJSON/KML of no-fly polygons for the checks."),
        max_distance_m: float | None = typer.Option(None, "--max-distance-m", help="Hard VLOS limit from home, m."),
        date: str | None = typer.Option(None, "--date", help="Flight date YYYY-MM-DD (daylight check)."),
        start: str | None = typer.Option(None, "--start", help="Take-off time HH:MM local (daylight check)."),
        accept: list[str] = typer.Option([], "--accept", help="Accept a checked warning by its code (repeatable): "
                                         "agl-unknown, imaging-window, vlos-distance."),
        params: Path | None = params_option(),
    ) -> None:
        """Check the plan as 'plan check' does, then upload mission (+ geofence, rally), read back and verify.

        A hard limit (150 m above ground, no-fly zone, daylight...) refuses the upload (exit 3) before anything is
        sent; a warning must be accepted with --accept CODE.
        """
        from pipeline.common.cli_options import read_params
        from pipeline.config import section
        from pipeline.flight.config import FlightParams
        from pipeline.flight.manifest import check_listed
        from pipeline.flight.preflight import (
            check_accept_names,
            check_settings,
            parse_date,
            parse_time,
            plan_issues,
            refuse_unless_cleared,
        )
        from pipeline.flight.qgc import read_mission_file

        check_accept_names(accept)
        check_listed(plan)
        mission = read_mission_file(plan)
        cfg = section(FlightParams, read_params(params).get("flight"), "flight")
        settings = check_settings(cfg, max_distance_m, parse_date(date), parse_time(start))
        issues = plan_issues(mission, settings, dem, no_fly)
        for issue in issues:
            if issue.severity != "error":
                typer.echo(f"{issue.severity}: [{issue.code}] {issue.message}", err=True)
        # heights that need the home altitude (AMSL items, plan home at 0 m) are settled with the vehicle's home
        refuse_unless_cleared(issues, (*accept, "agl-unknown"), "upload")
        with GroundStation(connect, _policy(timeout, retries), connect_timeout) as gcs:
            gcs.connect(_firmware(firmware))
            vehicle_home = read_home(gcs, 2.0)
            if vehicle_home is not None and (mission.home is None or abs(mission.home[2] - vehicle_home[2]) > 1.0):
                lat, lon = mission.home[:2] if mission.home is not None else vehicle_home[:2]
                issues = plan_issues(replace(mission, home=(lat, lon, vehicle_home[2])), settings, dem, no_fly)
            refuse_unless_cleared(issues, accept, "upload (heights checked against the vehicle's home altitude)"
                                  if vehicle_home is not None else "upload")
            report = upload_mission(gcs, mission)
        for line in verification_lines(report):
            typer.echo(line)
        typer.echo(home_comparison(mission.home, vehicle_home))

    @fly.command("download")
    def download_cmd(
        connect: str = connect_opt,
        out: Path = typer.Option(..., "--out", help="Output mission file: .plan (QGC) or .waypoints (QGC WPL 110)."),
        firmware: str = firmware_opt,
        timeout: float = timeout_opt,
        retries: int = retries_opt,
        connect_timeout: float = wait_opt,
    ) -> None:
        """Read the vehicle's mission, geofence and rally points into a file (written atomically)."""
        from pipeline.flight.qgc import write_plan, write_waypoints

        if out.suffix.lower() not in _OUT_WRITERS:
            raise InputError(f"--out {str(out)!r}: unsupported extension; expected one of {', '.join(_OUT_WRITERS)}")
        with GroundStation(connect, _policy(timeout, retries), connect_timeout) as gcs:
            gcs.connect(_firmware(firmware))
            mission = download_mission(gcs)
        writer = write_plan if out.suffix.lower() == ".plan" else write_waypoints
        writer(mission, out)
        typer.echo(f"downloaded {len(mission.items)} mission item(s), {len(mission.fence_polygons)} fence polygon(s), "
                   f"{len(mission.fence_circles)} fence circle(s), {len(mission.rally)} rally point(s) -> {out}")

    @fly.command("start")
    def start_cmd(
        connect: str = connect_opt,
        mode: str = typer.Option("AUTO", "--mode", help="Mode the mission runs in (AUTO; PX4: AUTO.MISSION)."),
        firmware: str = firmware_opt,
        timeout: float = timeout_opt,
        retries: int = retries_opt,
        connect_timeout: float = wait_opt,
        wait_ready: float = typer.Option(60.0, "--wait-ready", help="Seconds to keep retrying while pre-arm checks "
                                         "fail (GPS, EKF settling after power-on); 0 = fail on the first refusal."),
    ) -> None:
        """Arm (waiting for pre-arm checks, with progress) and start the uploaded mission."""
        from pipeline.mavlink.control import start_mission

        if wait_ready < 0:
            raise InputError(f"--wait-ready {wait_ready} must be >= 0 seconds")
        with GroundStation(connect, _policy(timeout, retries), connect_timeout) as gcs:
            gcs.connect(_firmware(firmware))
            report = start_mission(gcs, mode, wait_ready_s=wait_ready, progress=lambda t: typer.echo(t, err=True))
            vehicle_home = read_home(gcs, 2.0)
        typer.echo(f"armed in {report.arm_mode}; mission started; vehicle now in {report.mode} "
                   f"({'armed' if report.armed else 'disarmed'})")
        if vehicle_home is not None:
            typer.echo(f"vehicle home {vehicle_home[0]:.7f}, {vehicle_home[1]:.7f}, {vehicle_home[2]:.2f} m AMSL")

    @fly.command("monitor")
    def monitor_cmd(
        connect: str = typer.Option(..., "--connect", help=CONNECT_HELP + ", or a .tlog file to replay."),
        duration: float | None = typer.Option(None, "--duration", help="Seconds to watch (log time for a .tlog; "
                                              "live default 10 s, log default to the end)."),
        as_json: bool = typer.Option(False, "--json", help="One JSON object per line, summary last."),
        connect_timeout: float = wait_opt,
        until_landed: bool = typer.Option(False, "--until-landed", help="Stop when the vehicle disarms after its "
                                          "flight (end of the mission); --duration stays the upper bound."),
    ) -> None:
        """Show position, mission progress, camera triggers and battery (live or from a .tlog)."""
        from pipeline.mavlink.monitor import monitor

        if duration is not None and duration <= 0:
            raise InputError(f"--duration {duration} must be > 0 seconds")
        last_print: dict[str, float] = {}

        def show(event: dict[str, Any]) -> None:
            kind = event["event"]
            throttle = {"position": 1.0, "battery": 5.0, "heartbeat": 5.0, "mission_current": 1.0}.get(kind, 0.0)
            if event["t"] - last_print.get(kind, -1e9) < throttle:
                return
            last_print[kind] = event["t"]
            if as_json:
                typer.echo(json.dumps(event))
            else:
                fields = " ".join(f"{k}={v}" for k, v in event.items() if k not in ("t", "event"))
                typer.echo(f"{event['t']:8.2f}s {kind:15s} {fields}")

        gcs = None
        if connect.startswith(("udpin:", "udpout:", "udp:", "tcp:", "tcpin:")):
            gcs = GroundStation(connect, connect_timeout_s=connect_timeout)
            gcs.connect()
        try:
            summary = monitor(connect, duration, show, gcs, until_landed=until_landed)
        finally:
            if gcs is not None:
                gcs.close()
        if as_json:
            typer.echo(json.dumps(summary.as_dict()))
        else:
            for key, value in summary.as_dict().items():
                if key != "event":
                    typer.echo(f"{key}: {value}")

    @fly.command("sim-vehicle")
    def sim_vehicle_cmd(
        listen: str = typer.Option("udpin:127.0.0.1:14550", "--listen", help="URL the simulated vehicle serves "
                                   "(udpin:HOST:PORT or tcpin:HOST:PORT)."),
        firmware: str = typer.Option("ardupilot", "--firmware", help="Behave as ardupilot or px4."),
        time_scale: float = typer.Option(1.0, "--time-scale", help="Simulated seconds per real second (flight)."),
        speed: float = typer.Option(10.0, "--speed", help="Cruise speed, m/s."),
        prearm_delay: float = typer.Option(0.0, "--prearm-delay", help="Seconds after boot before pre-arm checks "
                                           "pass (a real ArduCopter takes ~40 s)."),
        duration: float | None = typer.Option(None, "--duration", help="Exit after this many seconds."),
    ) -> None:
        """Run a SIMULATED autopilot (not hardware): real MAVLink 2 mission protocol, arming, flight, camera.

        Behaves as ArduPilot (or PX4) does on the mission protocol, so 'fly upload/start/monitor' can be tried
        without a vehicle, e.g. 'shimanto fly sim-vehicle --listen udpin:127.0.0.1:14550' then
        'shimanto fly upload PLAN --connect udpout:127.0.0.1:14550'.
        """
        from pipeline.mavlink.vehicle import SimVehicle, VehicleConfig
        from pipeline.mavlink.wire import check_firmware

        config = VehicleConfig(firmware=check_firmware(firmware), time_scale=time_scale, speed_m_s=speed,
                               prearm_ready_after_s=prearm_delay)
        with SimVehicle(listen, config):
            typer.echo(f"simulated {firmware} vehicle (not real hardware) serving {listen}; Ctrl-C to stop", err=True)
            end = time.monotonic() + duration if duration is not None else None
            try:
                while end is None or time.monotonic() < end:
                    time.sleep(0.2)
            except KeyboardInterrupt:
                typer.echo("stopped", err=True)
