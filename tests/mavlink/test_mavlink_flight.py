"""Arming, mission start and telemetry against the simulated vehicle; the kinematic flight model."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import pytest

from pipeline.core.mission import Cmd, Frame, Mission, MissionItem
from pipeline.mavlink.client import GroundStation, upload_mission
from pipeline.mavlink.control import arm, start_mission
from pipeline.mavlink.errors import CommandRejectedError
from pipeline.mavlink.flightsim import CameraShot, FlightSim, Reached, offset_ne
from pipeline.mavlink.monitor import monitor
from pipeline.mavlink.wire import mission_to_wire


def test_failing_prearm_is_relayed_as_clear_error(vehicle_factory, fast_config, policy, small_survey):
    config = replace(fast_config("ardupilot"), prearm_failures=("GPS 1: Bad fix", "Battery 1 below minimum arming"))
    vehicle, url = vehicle_factory("udp", config)
    with GroundStation(url, policy, connect_timeout_s=5) as gcs:
        gcs.connect()
        upload_mission(gcs, small_survey)
        with pytest.raises(CommandRejectedError) as info:
            start_mission(gcs)
    message = str(info.value)
    assert "arming refused: MAV_RESULT_FAILED" in message
    assert "PreArm: GPS 1: Bad fix" in message and "PreArm: Battery 1 below minimum arming" in message
    assert not vehicle.armed


def test_ardupilot_refuses_to_arm_in_auto(vehicle_factory, fast_config, policy):
    _vehicle, url = vehicle_factory("tcp", fast_config("ardupilot"))
    with GroundStation(url, policy, connect_timeout_s=5) as gcs:
        gcs.connect()
        from pipeline.mavlink.control import set_mode

        set_mode(gcs, "AUTO")
        with pytest.raises(CommandRejectedError, match="Arm: Mode not armable"):
            arm(gcs)


def test_mission_start_without_mission_is_refused(vehicle_factory, fast_config, policy):
    _, url = vehicle_factory("udp", fast_config("px4"))
    with GroundStation(url, policy, connect_timeout_s=5) as gcs:
        gcs.connect()
        with pytest.raises(CommandRejectedError, match="no mission loaded"):
            start_mission(gcs)


@pytest.mark.parametrize("firmware", ["ardupilot", "px4"])
def test_monitor_sees_progress_and_camera_triggers(vehicle_factory, fast_config, policy, small_survey, firmware):
    config = replace(fast_config(firmware), time_scale=40.0, speed_m_s=12.0)
    _vehicle, url = vehicle_factory("udp", config)
    events: list[dict] = []
    with GroundStation(url, policy, connect_timeout_s=5) as gcs:
        gcs.connect()
        upload_mission(gcs, small_survey)
        report = start_mission(gcs)
        assert report.armed and report.mode in ("AUTO", "AUTO.MISSION")
        summary = monitor(url, 3.0, events.append, gcs=gcs)
    kinds = {e["event"] for e in events}
    assert {"position", "mission_current", "item_reached", "camera", "battery"} <= kinds
    first = 1 if firmware == "ardupilot" else 0
    nav_seqs = {first + i for i, item in enumerate(small_survey.items) if item.command in (16, 22, 20)}
    reached = summary.items_reached
    assert len(reached) >= 2 and reached == sorted(reached) and set(reached) <= nav_seqs
    assert summary.camera_triggers >= 5
    images = [e["image"] for e in events if e["event"] == "camera"]
    assert images == list(range(images[0], images[0] + len(images)))  # consecutive, none lost on loopback
    assert summary.battery is not None and summary.battery["remaining_pct"] < 100


def test_camera_shots_spaced_at_trigger_distance():
    home = (33.2096, 133.1360, 210.0)
    mission = Mission(items=(
        MissionItem(int(Cmd.NAV_TAKEOFF), int(Frame.GLOBAL_RELATIVE_ALT), alt=30.0),
        MissionItem(int(Cmd.DO_SET_CAM_TRIGG_DIST), int(Frame.MISSION), (20.0, 0, 0, 0)),
        MissionItem(int(Cmd.NAV_WAYPOINT), int(Frame.GLOBAL_RELATIVE_ALT), lat=33.2096, lon=133.1400, alt=30.0),
        MissionItem(int(Cmd.NAV_WAYPOINT), int(Frame.GLOBAL_RELATIVE_ALT), lat=33.2120, lon=133.1400, alt=30.0),
        MissionItem(int(Cmd.NAV_LAND), int(Frame.GLOBAL_RELATIVE_ALT)),
    ))
    sim = FlightSim(home, speed_m_s=10.0)
    sim.load(mission_to_wire(mission, "ardupilot"), 1)
    events = sim.start(1)
    for _ in range(2000):
        events += sim.step(0.5)
    shots = [e for e in events if isinstance(e, CameraShot)]
    gaps = [math.hypot(*offset_ne(a.lat, a.lon, b.lat, b.lon)) for a, b in itertools.pairwise(shots)]
    leg1 = math.hypot(*offset_ne(33.2096, 133.1360, 33.2096, 133.1400))
    leg2 = math.hypot(*offset_ne(33.2096, 133.1400, 33.2120, 133.1400))
    assert len(shots) == int((leg1 + leg2) // 20.0)
    assert all(g == pytest.approx(20.0, rel=0.01) for g in gaps if g > 19.0)  # corner shots cut the diagonal
    assert [e.seq for e in events if isinstance(e, Reached)] == [1, 3, 4, 5]
    assert sim.complete and sim.rel_alt == pytest.approx(0.0)
