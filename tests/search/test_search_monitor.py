"""``shimanto search monitor`` against simulated vehicles speaking real MAVLink 2 over loopback UDP.

The vehicles are the MAVLink stage's :class:`~pipeline.mavlink.vehicle.SimVehicle`
(a test double for the flight controller, not for the protocol). Sector s1's
mission is uploaded and started so that drone flies; s2's drone idles; s3 has
no link. The board page, served over HTTP, then shows the new telemetry.
"""

from __future__ import annotations

import functools
import json
import socket
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pipeline.errors import InputError
from pipeline.flight.qgc import read_plan
from pipeline.mavlink.client import GroundStation, upload_mission
from pipeline.mavlink.control import start_mission
from pipeline.mavlink.vehicle import SimVehicle, VehicleConfig
from pipeline.mavlink.vehicle_mission import MissionServerConfig
from pipeline.search.monitor import merge_telemetry, parse_connections, run_monitor, sector_status


def _udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def board_dir(run_cli, make_area, secret_file: Path, tmp_path: Path) -> Path:
    out = tmp_path / "plan"
    assert run_cli(["search", "plan", str(make_area()), "--out", str(out), "--drones", "3"]) == 0
    assert run_cli(["search", "board", str(out), "--stream-host", "127.0.0.1", "--secret-file", str(secret_file)]) == 0
    return out


def _vehicle(home: tuple[float, float, float]) -> tuple[SimVehicle, str]:
    port = _udp_port()
    config = VehicleConfig(home=home, heartbeat_s=0.2, stream_hz=10.0, time_scale=30.0, speed_m_s=12.0,
                           mission=MissionServerConfig(firmware="ardupilot", refuse_after_boot_s=0.0,
                                                       rerequest_s=0.2, upload_timeout_s=4.0))
    vehicle = SimVehicle(f"udpin:127.0.0.1:{port}", config)
    vehicle.__enter__()
    return vehicle, f"udpout:127.0.0.1:{port}"


def test_monitor_updates_the_board_from_live_mavlink(board_dir: Path, chromium, run_cli) -> None:
    mission = read_plan(board_dir / "s1.plan")
    assert mission.home is not None
    v1, url1 = _vehicle(mission.home)
    v2, url2 = _vehicle(mission.home)
    try:
        with GroundStation(url1, connect_timeout_s=5.0) as gcs:
            gcs.connect()
            upload_mission(gcs, mission)
            start_mission(gcs)
        board = run_monitor(board_dir, [f"s1={url1}", url2], duration_s=3.0, period_s=0.5)
        # the CLI front end on the same links (s3 this time), one second
        assert run_cli(["search", "monitor", str(board_dir), "--connect", f"s3={url2}", "--duration", "1.5"]) == 0
        assert json.loads((board_dir / "board.json").read_text())["sectors"][2]["status"] == "connected"
        (board_dir / "board.json").write_text(json.dumps(board))  # back to the state checked below
    finally:
        v1.stop()
        v2.stop()
    on_disk = json.loads((board_dir / "board.json").read_text())
    assert on_disk["updated_unix"] == board["updated_unix"]
    s1, s2, s3 = on_disk["sectors"]
    assert s1["status"] == "flying", s1
    assert s2["status"] == "connected", s2
    assert s3["status"] == "planned" and s3["telemetry"] is None
    t1 = s1["telemetry"]
    assert t1["mission_seq"] >= 1 and t1["alt_rel_m"] > 2.0 and 0 <= t1["battery_pct"] <= 100
    assert abs(t1["lat"] - mission.home[0]) < 0.02 and abs(t1["lon"] - mission.home[1]) < 0.02
    x, y = t1["xy"]
    assert 0 <= x <= on_disk["map"]["width"] and 0 <= y <= on_disk["map"]["height"]
    assert s2["telemetry"]["alt_rel_m"] == pytest.approx(0.0, abs=0.5)

    # the page rendered before the flight picks the telemetry up by polling board.json over http
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(board_dir))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        html_before = (board_dir / "board.html").read_text()
        assert '>flying<' not in html_before and 'id="tele-s1">no telemetry yet<' in html_before
        dom = chromium(f"http://127.0.0.1:{server.server_address[1]}/board.html", budget_ms=8000)
    finally:
        server.shutdown()
        server.server_close()
    assert 'id="status-s1" data-s="flying">flying<' in dom
    assert 'id="tele-s1">alt ' in dom
    assert 'id="drone-s1" visibility="visible"' in dom


def test_connection_specs_map_to_sectors() -> None:
    ids = ["s1", "s2", "s3"]
    assert parse_connections(["udpin:0.0.0.0:14551", "s3=tcp:10.0.0.3:5760", "udpin:0.0.0.0:14552"], ids) == [
        ("s1", "udpin:0.0.0.0:14551"), ("s3", "tcp:10.0.0.3:5760"), ("s2", "udpin:0.0.0.0:14552")]
    with pytest.raises(InputError) as err:
        parse_connections(["s9=udpin:0.0.0.0:1", "s1=udpin:0.0.0.0:2", "s1=udpin:0.0.0.0:3"], ids)
    assert "unknown sector 's9'" in str(err.value) and "two connections" in str(err.value)
    with pytest.raises(InputError, match="more connections than sectors"):
        parse_connections(["a:1", "b:2", "c:3", "d:4"], ids)


def test_status_from_state() -> None:
    assert sector_status(None, 100.0) == "planned"
    assert sector_status({"last_seen_unix": 99.0, "armed": False}, 100.0) == "connected"
    assert sector_status({"last_seen_unix": 99.0, "armed": True, "alt_rel_m": 0.5}, 100.0) == "armed"
    assert sector_status({"last_seen_unix": 99.0, "armed": True, "alt_rel_m": 30.0}, 100.0) == "flying"
    assert sector_status({"last_seen_unix": 90.0, "armed": True, "alt_rel_m": 30.0}, 100.0) == "link-lost"


def test_merge_keeps_user_text_and_links(board_dir: Path) -> None:
    board = json.loads((board_dir / "board.json").read_text())
    merged = merge_telemetry(board, {"s2": {"last_seen_unix": 10.0, "lat": 33.21, "lon": 133.13}}, 12.0)
    assert [s["links"] for s in merged["sectors"]] == [s["links"] for s in board["sectors"]]
    assert merged["sectors"][1]["status"] == "connected" and "xy" in merged["sectors"][1]["telemetry"]
    assert board["sectors"][1]["telemetry"] is None  # pure: the input is unchanged
