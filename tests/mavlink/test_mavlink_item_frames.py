"""MISSION_ITEM_INT x/y per frame and ``current``, checked against the vehicle's own (ArduPilot-style) decoder.

The simulated vehicle reads the pymavlink message fields itself
(:mod:`pipeline.mavlink.vehicle_store`), never the ground side's encoder, so a
scaling mistake on either side shows up as a refused or altered item.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from pymavlink.dialects.v20 import ardupilotmega as mav2

from pipeline.core.mission import Cmd, Frame, Mission, MissionItem
from pipeline.mavlink.client import GroundStation, download_mission, upload_mission
from pipeline.mavlink.errors import MissionRejectedError
from pipeline.mavlink.flightsim import CameraShot, FlightSim
from pipeline.mavlink.link import encode_action
from pipeline.mavlink.protocol import SendItem
from pipeline.mavlink.vehicle_store import ardupilot_store, received_item, shooting_command
from pipeline.mavlink.wire import MissionType, WireItem, from_wire, mission_to_wire, to_wire

HOME = (33.2096, 133.1360, 210.0)
#: DO_DIGICAM_CONTROL as QGC writes it: param1 session 1, param5 shooting command 1 (MAV_FRAME_MISSION).
DIGICAM = MissionItem(int(Cmd.DO_DIGICAM_CONTROL), int(Frame.MISSION), (1.0, 0.0, 0.0, 0.0), lat=1.0, lon=0.0)


def _camera_mission() -> Mission:
    return Mission(items=(
        MissionItem(int(Cmd.NAV_TAKEOFF), int(Frame.GLOBAL_RELATIVE_ALT), alt=30.0),
        MissionItem(int(Cmd.NAV_WAYPOINT), int(Frame.GLOBAL_RELATIVE_ALT_INT), lat=33.2100, lon=133.1365, alt=30.0),
        DIGICAM,
        MissionItem(int(Cmd.NAV_WAYPOINT), int(Frame.GLOBAL_RELATIVE_ALT_INT), lat=33.2104, lon=133.1365, alt=30.0),
        MissionItem(int(Cmd.NAV_RETURN_TO_LAUNCH), int(Frame.MISSION)),
    ), home=HOME)


def _parse(msg: object) -> object:
    """Pack a message to bytes and decode it with a fresh pymavlink parser (what the other end sees)."""
    packer = mav2.MAVLink(None, srcSystem=255, srcComponent=190)
    data = msg.pack(packer)  # type: ignore[attr-defined]
    parser = mav2.MAVLink(None)
    parser.robust_parsing = True
    decoded = parser.parse_buffer(data)
    assert decoded and len(decoded) == 1
    return decoded[0]


def test_digicam_goes_out_with_x_1_not_scaled():
    item = to_wire(DIGICAM, 3)
    assert (item.frame, item.x, item.y, item.current) == (2, 1, 0, 0)
    msg = _parse(encode_action(SendItem(item), 1, 1))
    assert msg.get_type() == "MISSION_ITEM_INT" and msg.x == 1 and msg.y == 0 and msg.frame == 2
    assert shooting_command(received_item(msg)) == 1


def test_global_frames_scale_by_1e7_and_current_marks_seq0():
    wire = mission_to_wire(_camera_mission(), "ardupilot")
    assert [w.current for w in wire] == [1, 0, 0, 0, 0, 0]  # QGC: current = (seq == 0)
    assert (wire[0].x, wire[0].y, wire[0].frame) == (332096000, 1331360000, 0)
    assert (wire[2].x, wire[2].y) == (332100000, 1331365000)
    back = from_wire(wire[3])
    assert (back.lat, back.lon) == (1.0, 0.0)


def test_legacy_mission_item_is_decoded_as_ardupilot_does():
    """AP_Mission::mission_item_to_mission_item_int: DIGICAM x copied, every other command x * 1e7."""
    digicam = mav2.MAVLink_mission_item_message(1, 1, 3, 2, 203, 0, 1, 1, 0, 0, 0, 1.0, 0.0, 0.0, 0)
    waypoint = mav2.MAVLink_mission_item_message(1, 1, 4, 3, 16, 0, 1, 0, 0, 0, 0, 33.21, 133.1365, 30.0, 0)
    assert received_item(_parse(digicam)).x == 1
    wp = received_item(_parse(waypoint))
    assert abs(wp.x - 332100000) <= 40 and abs(wp.y - 1331365000) <= 160  # float32 degrees on the wire
    legacy = _parse(encode_action(SendItem(to_wire(DIGICAM, 3), legacy=True), 1, 1))
    assert legacy.x == pytest.approx(1.0) and received_item(legacy).x == 1


def test_vehicle_stores_what_ardupilot_stores():
    scaled = ardupilot_store(WireItem(3, 2, 203, 1.0, x=10_000_000))  # the old, scaled encoding
    assert isinstance(scaled, WireItem) and shooting_command(scaled) == 128  # uint8_t keeps the low byte
    bad_lat = ardupilot_store(WireItem(1, 6, 16, x=950_000_000, y=1_331_365_000, z=30.0))
    assert bad_lat == int(mav2.MAV_MISSION_INVALID_PARAM5_X)
    alt = ardupilot_store(WireItem(1, 6, 16, x=332_100_000, y=1_331_365_000, z=41.37))
    assert isinstance(alt, WireItem) and alt.z == pytest.approx(41.37)


def test_digicam_round_trips_through_the_loopback_vehicle(vehicle_factory, fast_config, policy):
    vehicle, url = vehicle_factory("udp", fast_config("ardupilot"))
    mission = _camera_mission()
    with GroundStation(url, policy, connect_timeout_s=5) as gcs:
        gcs.connect()
        report = upload_mission(gcs, mission)
        back = download_mission(gcs)
    assert report.ok
    stored = vehicle.server.mission()[3]
    assert stored.command == 203 and stored.x == 1 and shooting_command(stored) == 1
    assert back.items[2].frame == int(Frame.MISSION) and back.items[2].lat == 1.0  # read back with frame 0, x = 1
    sim = FlightSim(HOME, 10.0)
    sim.load(vehicle.server.mission(), 1)
    events = sim.start(1)
    for _ in range(200):
        events += sim.step(1.0)
    assert sum(isinstance(e, CameraShot) for e in events) == 1


def test_out_of_range_latitude_is_refused_like_ardupilot(vehicle_factory, fast_config, policy):
    vehicle, url = vehicle_factory("udp", fast_config("ardupilot"))
    bad = [WireItem(0, 0, 16), WireItem(1, 6, 16, x=950_000_000, y=1_331_365_000, z=30.0)]
    with GroundStation(url, policy, connect_timeout_s=5) as gcs:
        gcs.connect()
        with pytest.raises(MissionRejectedError) as info:
            gcs.upload_list(bad, int(MissionType.MISSION))
    assert info.value.result_name == "MAV_MISSION_INVALID_PARAM5_X"
    assert len(vehicle.server.mission()) == 1  # nothing stored but home


def test_readback_is_compared_as_ardupilot_stores_items():
    from pipeline.mavlink.verify import item_problems

    sent = MissionItem(int(Cmd.NAV_WAYPOINT), int(Frame.GLOBAL_RELATIVE_ALT), (0.0, 2.0, 0.0, float("nan")),
                       33.21, 133.1365, 40.0)
    stored = MissionItem(int(Cmd.NAV_WAYPOINT), int(Frame.GLOBAL_RELATIVE_ALT), (0.0, 0.0, 0.0, 0.0),
                         33.21, 133.1365, 40.0)
    assert item_problems(sent, stored, "ardupilot") == ()  # ArduCopter keeps only a waypoint's delay
    assert item_problems(sent, stored) == ("param2 2 became 0", "param4 nan became 0")
    assert item_problems(replace(sent, params=(3.0, 0, 0, 0)), stored, "ardupilot") == ("param1 3 became 0",)
    vertex = MissionItem(5001, int(Frame.GLOBAL), (4.0, 0, 0, 0), 33.2, 133.1)
    assert item_problems(vertex, replace(vertex, autocontinue=False), "ardupilot") == ()
    rtl = MissionItem(int(Cmd.NAV_RETURN_TO_LAUNCH), int(Frame.GLOBAL_INT), lat=47.3, lon=8.5)
    assert item_problems(rtl, MissionItem(int(Cmd.NAV_RETURN_TO_LAUNCH), 0), "ardupilot") == ()
