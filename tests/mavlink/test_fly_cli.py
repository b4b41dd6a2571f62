"""``shimanto fly ...`` end to end against the simulated vehicle on loopback sockets, and .tlog replay."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from pipeline.flight.qgc import read_mission_file, write_plan

PROJECT = Path(__file__).resolve().parents[2]
FAST = ["--timeout", "0.25", "--retries", "12", "--connect-timeout", "5"]


def test_fly_upload_verifies_every_item(vehicle_factory, fast_config, survey, run_cli, tmp_path, capsys):
    plan = write_plan(survey, tmp_path / "survey.plan")
    vehicle, url = vehicle_factory("udp", replace(fast_config("ardupilot"), mission=None))  # real 1 s boot refusal
    rc = run_cli(["fly", "upload", str(plan), "--connect", url, *FAST])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert f"verified {len(survey.items)} mission, 5 fence, 2 rally item(s) on the ardupilot vehicle" in out
    assert out.count(" ok\n") == len(survey.items) + 5 + 2
    assert len(vehicle.server.mission()) == len(survey.items) + 1


def test_fly_upload_nack_exits_non_zero(vehicle_factory, fast_config, survey, run_cli, tmp_path, capsys):
    plan = write_plan(survey, tmp_path / "survey.plan")
    _, url = vehicle_factory("tcp", fast_config("px4", max_items=3))
    rc = run_cli(["fly", "upload", str(plan), "--connect", url, *FAST])
    captured = capsys.readouterr()
    assert rc == 4
    assert "MAV_MISSION_NO_SPACE" in captured.err and "Only 3 items are supported" in captured.err
    assert "verified" not in captured.out


def test_fly_download_start_and_monitor(vehicle_factory, fast_config, small_survey, run_cli, tmp_path, capsys):
    _vehicle, url = vehicle_factory("udp", replace(fast_config("ardupilot"), time_scale=40.0))
    assert run_cli(["fly", "upload", str(write_plan(small_survey, tmp_path / "in.plan")), "--connect", url,
                    *FAST]) == 0
    out = tmp_path / "back.plan"
    assert run_cli(["fly", "download", "--connect", url, "--out", str(out), *FAST]) == 0
    back = read_mission_file(out)
    assert [i.command for i in back.items] == [i.command for i in small_survey.items]
    assert len(back.rally) == 2 and len(back.fence_polygons) == 1
    assert run_cli(["fly", "start", "--connect", url, *FAST]) == 0
    assert "mission started; vehicle now in AUTO (armed)" in capsys.readouterr().out
    assert run_cli(["fly", "monitor", "--connect", url, "--duration", "1.5", "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[-1]["event"] == "summary" and lines[-1]["camera_triggers"] > 0
    assert {"position", "camera"} <= {line["event"] for line in lines}


def test_fly_bad_inputs_are_clear_errors(run_cli, tmp_path, capsys):
    assert run_cli(["fly", "download", "--connect", "udpout:127.0.0.1:9", "--out", str(tmp_path / "x.kml")]) == 2
    assert "unsupported extension" in capsys.readouterr().err
    assert run_cli(["fly", "upload", str(tmp_path / "missing.plan"), "--connect", "udpout:127.0.0.1:9"]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert run_cli(["fly", "monitor", "--connect", str(tmp_path / "nope.tlog")]) == 2
    assert not list(tmp_path.iterdir())


def test_fly_monitor_replays_tlog(shared_dir, run_cli, capsys):
    tlog = shared_dir / "data" / "telemetry" / "vtol.tlog"
    assert run_cli(["fly", "monitor", "--connect", str(tlog), "--json"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    summary = lines[-1]
    assert summary["messages"] == 23894 and 200 < summary["duration_s"] < 215
    assert summary["last_position"]["lat"] < -35 and summary["last_position"]["lon"] > 149  # Canberra SITL field
    assert "QLOITER" in summary["modes"] and summary["status_texts"] > 0
    assert run_cli(["fly", "monitor", "--connect", str(tlog), "--duration", "30", "--json"]) == 0
    part = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert 29 < part["duration_s"] <= 30 and part["messages"] < summary["messages"]


def test_sim_vehicle_process_serves_fly_upload(small_survey, run_cli, tmp_path, capsys):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, str(PROJECT / "cli.py"), "fly", "sim-vehicle", "--listen", f"tcpin:127.0.0.1:{port}",
         "--firmware", "px4", "--duration", "20"],
        cwd=PROJECT, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stderr is not None
        assert "simulated px4 vehicle (not real hardware)" in proc.stderr.readline()
        plan = write_plan(small_survey, tmp_path / "in.plan")
        rc = run_cli(["fly", "upload", str(plan), "--connect", f"tcp:127.0.0.1:{port}", *FAST])
        assert rc == 0 and "on the px4 vehicle" in capsys.readouterr().out
    finally:
        proc.terminate()
        proc.wait(timeout=10)
