"""Planned surveys flown by a real ArduPilot: ArduCopter SITL from ../shared/peers/ardupilot-sitl.

For two planned surveys: ``fly upload`` (verified read-back), ``fly start`` (waits for the pre-arm
checks with progress), ``fly monitor --until-landed`` (a separate process, started before the
take-off), then CAMERA_FEEDBACK count within 2 % of the plan's ``photo_count``, lift-off to touchdown
by the vehicle's clock within 10 % of ``flight_time_s``, and the vehicle's home altitude (230 m)
read back. Speedup 10; the SITL process is stopped by its pid.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.testing.flight_fields import polygon_ll
from pipeline.testing.sitl import SITL_HOME, SitlCopter, copy_run_dir, prepared_run_dir, unusable_reason

PROJECT = Path(__file__).resolve().parents[2]
SITL_DIR = PROJECT.parent / "shared" / "peers" / "ardupilot-sitl"
BINARY = SITL_DIR / "arducopter"
DEFAULTS = (SITL_DIR / "copter.parm", SITL_DIR / "camera.parm")
FAST = ["--timeout", "1.5", "--retries", "8", "--connect-timeout", "30", "--firmware", "ardupilot"]

pytestmark = [pytest.mark.shared,
              pytest.mark.skipif(unusable_reason(BINARY) is not None, reason=str(unusable_reason(BINARY)))]

#: Two surveys near the SITL home: (name, shell in metres east/north of home, extra plan options).
SURVEYS = [
    ("rect", [(40, 30), (160, 30), (160, 110), (40, 110)], ["--altitude", "40"]),
    ("quad", [(-50, 40), (30, 50), (20, 115), (-60, 100)], ["--altitude", "35", "--front-overlap", "80",
                                                            "--angle", "30"]),
]


class _Drain(threading.Thread):
    """Holds SERIAL0 (the simulation runs only while a client is connected there) and discards its bytes."""

    def __init__(self, port: int) -> None:
        super().__init__(daemon=True)
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.settimeout(0.5)
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                if not self.sock.recv(65536):
                    return
            except TimeoutError:
                continue
            except OSError:
                return

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=2)
        self.sock.close()


@pytest.fixture(scope="module")
def sitl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SitlCopter]:
    prepared = prepared_run_dir(BINARY, DEFAULTS, tmp_path_factory.mktemp("sitl-prepared"))
    copter = SitlCopter(BINARY, DEFAULTS, copy_run_dir(prepared, tmp_path_factory.mktemp("sitl-run")))
    copter.start()
    drain = _Drain(copter.port)
    drain.start()
    try:
        yield copter
    finally:
        drain.stop()
        copter.stop()


def _boundary(path: Path, shell: list[tuple[float, float]]) -> Path:
    poly = polygon_ll(shell, origin=(SITL_HOME[0], SITL_HOME[1]))
    doc = {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": {"name": path.stem},
                                                      "geometry": poly.__geo_interface__}]}
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


@pytest.mark.slow  # two simulated flights, about 75 s at speedup 10
def test_planned_surveys_fly_as_planned_on_arducopter(sitl: SitlCopter, run_cli, tmp_path: Path, capsys) -> None:
    url1 = f"tcp:127.0.0.1:{sitl.port + 2}"  # SERIAL1: commands
    url2 = f"tcp:127.0.0.1:{sitl.port + 3}"  # SERIAL2: the monitor process
    home = f"{SITL_HOME[0]},{SITL_HOME[1]}"
    figures = []
    for name, shell, options in SURVEYS:
        boundary = _boundary(tmp_path / f"{name}.geojson", shell)
        out = tmp_path / name
        assert run_cli(["plan", "survey", str(boundary), "--camera", "rededge-mx", "--home", home, "--out", str(out),
                        "--name", name, *options]) == 0
        summary = json.loads((out / f"{name}.summary.json").read_text())
        capsys.readouterr()

        assert run_cli(["fly", "upload", str(out / f"{name}.plan"), "--connect", url1, *FAST]) == 0
        uploaded = capsys.readouterr().out
        assert f"verified {sum(1 for _ in _items(out / f'{name}.plan'))} mission item(s)" in uploaded

        monitor = subprocess.Popen(
            [sys.executable, str(PROJECT / "cli.py"), "fly", "monitor", "--connect", url2, "--until-landed",
             "--duration", "150", "--json", "--connect-timeout", "30"],
            cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert monitor.stdout is not None
            first = monitor.stdout.readline()  # the monitor hears the vehicle before the take-off
            assert first.startswith("{"), monitor.stderr.read() if monitor.stderr else first
            rc = run_cli(["fly", "start", "--connect", url1, "--wait-ready", "120", *FAST])
            started = capsys.readouterr()
            assert rc == 0, started.err
            stdout, stderr = monitor.communicate(timeout=160)
        finally:
            if monitor.poll() is None:
                monitor.kill()
                monitor.wait()
        assert monitor.returncode == 0, stderr
        flown = json.loads(stdout.strip().splitlines()[-1])
        home_line = re.search(r"vehicle home ([-\d.]+), ([-\d.]+), ([-\d.]+) m AMSL", started.out)
        assert home_line is not None, started.out
        lat, lon, alt = (float(v) for v in home_line.groups())
        assert (lat, lon, alt) == pytest.approx(SITL_HOME[:3], abs=0.5)  # 230 m from the vehicle, not the plan's 0
        assert all(line.startswith("waiting for pre-arm checks") for line in started.err.splitlines())
        figures.append((name, summary["photo_count"], flown["camera_triggers"], summary["flight_time_s"],
                        flown["airborne_s"]))
        assert abs(flown["camera_triggers"] - summary["photo_count"]) <= 0.02 * summary["photo_count"], figures
        assert abs(flown["airborne_s"] - summary["flight_time_s"]) <= 0.10 * summary["flight_time_s"], figures
    print("SITL figures (name, planned photos, CAMERA_FEEDBACK, planned s, flown s):", figures)


def _items(plan: Path) -> list[dict[str, object]]:
    return list(json.loads(plan.read_text())["mission"]["items"])


#: What ArduCopter answers to each shared mission file: verified, or refused with this MAV_MISSION_RESULT.
SHARED_FILE_OUTCOMES = {
    "ardupilot/CMAC-copter-navtest.txt": "ok",
    "ardupilot/KalaupapaCanyonRun_mission.txt": "ok",
    "ardupilot/MissionItemTypes_items.txt": "MAV_MISSION_UNSUPPORTED",  # plane items (NAV_ARC_WAYPOINT)
    "ardupilot/SplineTerrain_wp.txt": "ok",
    "ardupilot/Terrain_ap-terrain.txt": "ok",
    "ardupilot/copter_mission_CHIAI.txt": "ok",
    "ardupilot/copter_terrain_mission.txt": "ok",
    "mavsdk/mission_planner_sample.txt": "ok",
    "mavsdk/qgroundcontrol_sample.plan": "ok",
    "mavsdk/qgroundcontrol_sample_with_digicam_control.plan": "ok",
    "mavsdk/qgroundcontrol_sample_with_structured_scan.plan": "MAV_MISSION_INVALID_PARAM3",  # SET_CAMERA_MODE NaN
    "mavsdk/qgroundcontrol_sample_with_survey.plan": "MAV_MISSION_INVALID_PARAM3",
    "px4/multicopter_mission_geofence_avoid.plan": "ok",
    "qgroundcontrol/MissionPlanner.waypoints": "ok",
    "qgroundcontrol/SectionTest.plan": "ok",
    "qgroundcontrol/TerrainTest-ArduCopter.plan": "ok",
}


def test_every_shared_mission_file_verifies_on_arducopter_or_is_refused_by_it(sitl: SitlCopter) -> None:
    """Read-back by meaning as ArduCopter stores items (kept params, frames, no fence autocontinue)."""
    from pipeline.flight.qgc import read_mission_file
    from pipeline.mavlink.client import GroundStation, upload_mission
    from pipeline.mavlink.errors import MissionRejectedError
    from pipeline.mavlink.protocol import RetryPolicy

    folder = PROJECT.parent / "shared" / "data" / "flight-plans"
    outcomes = {}
    with GroundStation(f"tcp:127.0.0.1:{sitl.port + 2}", RetryPolicy(timeout_s=1.5, retries=8),
                       connect_timeout_s=30) as gcs:
        gcs.connect("ardupilot")
        for name in SHARED_FILE_OUTCOMES:
            try:
                report = upload_mission(gcs, read_mission_file(folder / name))
                outcomes[name] = "ok" if report.ok else "mismatch"
            except MissionRejectedError as exc:
                outcomes[name] = exc.result_name
    assert outcomes == SHARED_FILE_OUTCOMES
