"""``fly upload`` checks the plan before sending anything, accepts warnings only by name, and has its own exit code
for a read-back that differs (the simulated vehicle stores items as ArduPilot does)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from pipeline.core.mission import Cmd, Frame, Mission, MissionItem
from pipeline.flight.qgc import write_plan

FAST = ["--timeout", "0.25", "--retries", "12", "--connect-timeout", "5"]
HOME = (33.2096, 133.1360, 210.0)


def _mission(alt: float = 40.0, far_lat: float = 33.2110, extra: tuple[MissionItem, ...] = ()) -> Mission:
    rel = int(Frame.GLOBAL_RELATIVE_ALT)
    return Mission(items=(
        MissionItem(int(Cmd.NAV_TAKEOFF), rel, lat=HOME[0], lon=HOME[1], alt=40.0),
        MissionItem(int(Cmd.NAV_WAYPOINT), rel, lat=33.2100, lon=133.1365, alt=alt),
        *extra,
        MissionItem(int(Cmd.NAV_WAYPOINT), rel, lat=far_lat, lon=133.1365, alt=40.0),
        MissionItem(int(Cmd.NAV_RETURN_TO_LAUNCH), int(Frame.MISSION)),
    ), home=HOME)


def test_item_above_150m_agl_exits_3_before_any_mission_count(vehicle_factory, fast_config, run_cli, tmp_path,
                                                               capsys):
    vehicle, url = vehicle_factory("udp", fast_config("ardupilot"))
    plan = write_plan(_mission(alt=180.0), tmp_path / "high.plan")
    rc = run_cli(["fly", "upload", str(plan), "--connect", url, *FAST])
    err = capsys.readouterr().err
    assert rc == 3, err
    assert "agl-limit" in err and "upload refused" in err
    assert vehicle.received["MISSION_COUNT"] == 0 and len(vehicle.server.mission()) == 1


def test_warning_needs_accept_by_name(vehicle_factory, fast_config, run_cli, tmp_path, capsys):
    vehicle, url = vehicle_factory("udp", fast_config("ardupilot"))
    plan = write_plan(_mission(far_lat=33.2160), tmp_path / "far.plan")  # ~710 m from home: VLOS warning
    rc = run_cli(["fly", "upload", str(plan), "--connect", url, *FAST])
    err = capsys.readouterr().err
    assert rc == 3 and "--accept vlos-distance" in err
    assert vehicle.received["MISSION_COUNT"] == 0
    assert run_cli(["fly", "upload", str(plan), "--connect", url, "--accept", "no-such", *FAST]) == 2
    assert "not a warning code" in capsys.readouterr().err
    rc = run_cli(["fly", "upload", str(plan), "--connect", url, "--accept", "vlos-distance", *FAST])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "verified 4 mission item(s)" in out and vehicle.received["MISSION_COUNT"] >= 1


def test_readback_mismatch_has_its_own_exit_code_and_names_the_field(vehicle_factory, fast_config, run_cli,
                                                                      tmp_path, capsys):
    # ArduPilot keeps DO_DIGICAM_CONTROL's shooting command (x) in a uint8_t: 300 is read back as 44.
    digicam = MissionItem(int(Cmd.DO_DIGICAM_CONTROL), int(Frame.MISSION), (1.0, 0.0, 0.0, 0.0), lat=300.0)
    plan = write_plan(_mission(extra=(digicam,)), tmp_path / "cam.plan")
    _, url = vehicle_factory("udp", replace(fast_config("ardupilot")))
    rc = run_cli(["fly", "upload", str(plan), "--connect", url, *FAST])
    err = capsys.readouterr().err
    assert rc == 7, err
    assert "mission item 3 DO_DIGICAM_CONTROL: param5 (x) 300 became 44" in err


def test_unlisted_sortie_file_is_refused(vehicle_factory, fast_config, run_cli, tmp_path, capsys):
    vehicle, url = vehicle_factory("udp", fast_config("ardupilot"))
    for name in ("s.plan", "s.sortie-1.plan", "s.sortie-2.plan", "s.sortie-3.plan"):
        write_plan(_mission(), tmp_path / name)
    (tmp_path / "s.manifest.json").write_text(json.dumps(
        {"manifest": 1, "plan": "s", "sorties": 2, "files": ["s.plan", "s.sortie-1.plan", "s.sortie-2.plan"]}))
    rc = run_cli(["fly", "upload", str(tmp_path / "s.sortie-3.plan"), "--connect", url, *FAST])
    err = capsys.readouterr().err
    assert rc == 2 and "not part of the current plan 's'" in err and "s.sortie-2.plan" in err
    assert vehicle.received["MISSION_COUNT"] == 0
    (tmp_path / "s.manifest.json").unlink()
    assert run_cli(["fly", "upload", str(tmp_path / "s.sortie-1.plan"), "--connect", url, *FAST]) == 2
    assert "without s.manifest.json" in capsys.readouterr().err
    assert run_cli(["fly", "upload", str(tmp_path / "s.plan"), "--connect", url, *FAST]) == 0


def test_plan_check_says_what_was_taken_as_home(shared_dir: Path, run_cli, capsys):
    folder = shared_dir / "data" / "flight-plans"
    assert run_cli(["plan", "check", str(folder / "mavsdk" / "mission_planner_sample.txt")]) == 0
    out = capsys.readouterr().out
    assert "4 items" in out and "home: none: row 0 (line 2) is command 22" in out
    assert run_cli(["plan", "check", str(folder / "ardupilot" / "copter_mission_CHIAI.txt")]) == 0
    assert "home: 23.4578220, 120.2760080, 19.50 m AMSL (row 0 of the QGC WPL file" in capsys.readouterr().out


def test_fly_start_waits_for_prearm_with_progress_showing_only_the_refusals_messages(
        vehicle_factory, fast_config, run_cli, tmp_path, capsys):
    # pre-arm checks fail for the first 1.5 s after boot, as a cold ArduCopter does for some tens of seconds
    vehicle, url = vehicle_factory("udp", replace(fast_config("ardupilot"), prearm_ready_after_s=1.5))
    plan = write_plan(_mission(), tmp_path / "m.plan")
    assert run_cli(["fly", "upload", str(plan), "--connect", url, *FAST]) == 0
    vehicle.boot = __import__("time").monotonic()  # restart the pre-arm clock now that the mission is on board
    vehicle._text(6, "EKF3 IMU0 initialised")  # unrelated chatter must not be shown as a reason
    capsys.readouterr()
    rc = run_cli(["fly", "start", "--connect", url, "--wait-ready", "20", *FAST])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert "waiting for pre-arm checks" in captured.err and "PreArm: GPS 1: Bad fix" in captured.err
    assert "EKF3 IMU0 initialised" not in captured.err
    assert "mission started" in captured.out and "vehicle home 33.2096000, 133.1360000, 210.00 m AMSL" in captured.out
    assert run_cli(["fly", "start", "--connect", url, "--wait-ready", "-1", *FAST]) == 2


def test_amsl_heights_are_checked_against_the_vehicles_home_altitude(vehicle_factory, fast_config, run_cli,
                                                                     tmp_path, capsys):
    # The plan's home is at 0 m AMSL (no DEM when planned); the vehicle's home is 210 m AMSL.
    vehicle, url = vehicle_factory("udp", fast_config("ardupilot"))
    amsl = int(Frame.GLOBAL)

    def plan(alt: float, name: str) -> Path:
        mission = replace(_mission(), home=(HOME[0], HOME[1], 0.0), items=(
            MissionItem(int(Cmd.NAV_TAKEOFF), int(Frame.GLOBAL_RELATIVE_ALT), lat=HOME[0], lon=HOME[1], alt=40.0),
            MissionItem(int(Cmd.NAV_WAYPOINT), amsl, lat=33.2100, lon=133.1365, alt=alt),
            MissionItem(int(Cmd.NAV_RETURN_TO_LAUNCH), int(Frame.MISSION))))
        return write_plan(mission, tmp_path / name)

    rc = run_cli(["fly", "upload", str(plan(400.0, "high.plan")), "--connect", url, *FAST])
    err = capsys.readouterr().err
    assert rc == 3 and "agl-limit" in err and "vehicle's home altitude" in err and "190.0 m" in err
    assert vehicle.received["MISSION_COUNT"] == 0
    assert run_cli(["fly", "upload", str(plan(300.0, "ok.plan")), "--connect", url, *FAST]) == 0  # 90 m AGL
    assert "verified 3 mission item(s)" in capsys.readouterr().out
