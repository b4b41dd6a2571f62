"""Pure protocol machines, wire encoding, verification and the vehicle-side server (no sockets)."""

from __future__ import annotations

import math

import pytest

from pipeline.core.mission import Cmd, Frame, Mission, MissionItem
from pipeline.mavlink.errors import LinkTimeoutError, MissionRejectedError
from pipeline.mavlink.protocol import (
    Ack,
    Count,
    DownloadMachine,
    ItemReceived,
    ItemRequest,
    RetryPolicy,
    SendAck,
    SendCount,
    SendItem,
    SendRequest,
    UploadMachine,
)
from pipeline.mavlink.vehicle_mission import (
    CountReceived,
    ListRequested,
    MissionServerConfig,
    StatusText,
    VehicleMissionServer,
)
from pipeline.mavlink.verify import compare_items
from pipeline.mavlink.wire import (
    MissionResult,
    fence_from_items,
    fence_to_items,
    from_wire,
    mission_from_wire,
    mission_to_wire,
)

POLICY = RetryPolicy(timeout_s=1.0, retries=2, busy_retries=1, busy_delay_s=1.0)
WP = MissionItem(int(Cmd.NAV_WAYPOINT), int(Frame.GLOBAL_RELATIVE_ALT_INT), lat=33.21, lon=133.13, alt=40.0)


def _wire(n: int = 3) -> list:
    return mission_to_wire(Mission(items=(WP,) * (n - 1)), "ardupilot")


def test_upload_answers_legacy_requests_and_ignores_duplicate_nacks():
    machine = UploadMachine(_wire(3), 0, POLICY)
    assert machine.start(0.0) == [SendCount(3, 0)]
    assert machine.handle(ItemRequest(0, 0, legacy=True), 0.1) == [SendItem(machine.items[0])]
    assert machine.handle(ItemRequest(0, 0, legacy=True), 0.2) == [SendItem(machine.items[0])]  # re-request
    assert machine.handle(Ack(int(MissionResult.INVALID_SEQUENCE), 0), 0.3) == []  # duplicate answered
    assert machine.handle(Ack(int(MissionResult.ACCEPTED), 0), 0.3) == [] and not machine.done  # stale accept
    machine.handle(ItemRequest(2, 0), 0.4)  # out of order is served too
    machine.handle(ItemRequest(1, 0), 0.5)
    assert machine.handle(Ack(int(MissionResult.ACCEPTED), 1), 0.6) == [] and not machine.done  # other type
    machine.handle(Ack(int(MissionResult.ACCEPTED), 0), 0.7)
    assert machine.done


def test_upload_retries_boot_refusal_then_reports_no_space():
    machine = UploadMachine(_wire(2), 0, POLICY)
    machine.start(0.0)
    assert machine.handle(Ack(int(MissionResult.NO_SPACE), 0), 0.1) == []
    assert machine.tick(0.5) == []
    assert machine.tick(1.2) == [SendCount(2, 0)]
    with pytest.raises(MissionRejectedError) as info:
        machine.handle(Ack(int(MissionResult.NO_SPACE), 0), 1.3)
    assert info.value.result_name == "MAV_MISSION_NO_SPACE" and "NO_SPACE" in str(info.value)
    assert not machine.done


def test_upload_fails_on_denied_and_on_silence():
    machine = UploadMachine(_wire(2), 0, POLICY)
    machine.start(0.0)
    machine.handle(ItemRequest(0, 0), 0.1)
    with pytest.raises(MissionRejectedError, match="MAV_MISSION_DENIED"):
        machine.handle(Ack(int(MissionResult.DENIED), 0), 0.2)
    silent = UploadMachine(_wire(2), 0, POLICY)
    silent.start(0.0)
    assert silent.tick(1.1) == [SendCount(2, 0)]
    assert silent.tick(2.2) == [SendCount(2, 0)]
    with pytest.raises(LinkTimeoutError, match="2 retries"):
        silent.tick(3.3)


def test_upload_restarts_when_final_ack_is_lost():
    machine = UploadMachine(_wire(2), 0, RetryPolicy(timeout_s=1.0, retries=5))
    machine.start(0.0)
    machine.handle(ItemRequest(0, 0), 0.1)
    machine.handle(ItemRequest(1, 0), 0.2)
    assert machine.tick(1.3) == [SendItem(machine.items[1])]  # first: re-send the last item
    assert machine.tick(2.4) == [SendCount(2, 0)]  # then restart from the count
    machine.handle(ItemRequest(0, 0), 2.5)
    machine.handle(ItemRequest(1, 0), 2.6)
    machine.handle(Ack(0, 0), 2.7)
    assert machine.done


def test_upload_restarts_after_stale_request_and_lost_final_ack():
    machine = UploadMachine(_wire(2), 0, RetryPolicy(timeout_s=1.0, retries=5))
    machine.start(0.0)
    machine.handle(ItemRequest(0, 0), 0.1)
    machine.handle(ItemRequest(1, 0), 0.2)
    machine.handle(ItemRequest(0, 0), 0.3)  # a late duplicate of the first request
    assert machine.tick(1.4) == [SendItem(machine.items[0])]
    assert machine.tick(2.5) == [SendCount(2, 0)]
    assert machine.handle(Ack(0, 0), 2.6) == [] and not machine.done  # only an ack after a full re-send counts


def test_download_requests_in_order_and_acks():
    machine = DownloadMachine(0, POLICY)
    machine.start(0.0)
    assert machine.handle(Count(2, 0), 0.1) == [SendRequest(0, 0)]
    items = _wire(2)
    assert machine.handle(ItemReceived(items[1]), 0.2) == []  # out of order ignored
    assert machine.handle(ItemReceived(items[0]), 0.3) == [SendRequest(1, 0)]
    assert machine.tick(1.4) == [SendRequest(1, 0)]
    assert machine.handle(ItemReceived(items[1]), 1.5) == [SendAck(0, 0)]
    assert machine.done and machine.items == items


def test_verify_frames_by_meaning_and_tolerances():
    sent = [WP, MissionItem(int(Cmd.DO_SET_CAM_TRIGG_DIST), int(Frame.MISSION), (25.0, 0, 1, 0))]
    got = [
        MissionItem(int(Cmd.NAV_WAYPOINT), int(Frame.GLOBAL_RELATIVE_ALT), lat=33.21 + 4e-8, lon=133.13, alt=40.004),
        MissionItem(int(Cmd.DO_SET_CAM_TRIGG_DIST), 0, (25.0, 0, 1, 0)),
    ]
    assert all(c.ok for c in compare_items(sent, got))
    bad = [MissionItem(int(Cmd.NAV_WAYPOINT), int(Frame.GLOBAL), lat=33.2101, lon=133.13, alt=40.5)]
    checks = compare_items(sent, bad)
    problems = " ".join(checks[0].problems)
    assert "frame" in problems and "lat" in problems and "alt" in problems
    assert checks[1].problems == ("missing on the vehicle",)


def test_fence_items_round_trip(survey):
    mission = survey
    items = fence_to_items(mission.fence_polygons, mission.fence_circles)
    assert len(items) == 5 and items[0].params[0] == 4
    assert fence_from_items(items) == (mission.fence_polygons, mission.fence_circles)


def test_vehicle_server_behaves_like_ardupilot():
    home = (33.2096, 133.136, 210.0)
    server = VehicleMissionServer(MissionServerConfig(refuse_after_boot_s=1.0, rerequest_s=1.0), home, boot_time=0.0)
    refused = server.handle(CountReceived(3, 0), 0.5)
    assert refused == [SendAck(int(MissionResult.NO_SPACE), 0), StatusText(4, "Only 0 items are supported")]
    wire = _wire(3)
    assert server.handle(CountReceived(3, 0), 1.5) == [SendRequest(0, 0, legacy=True)]
    assert server.tick(2.0) == []
    assert server.tick(2.6) == [SendRequest(0, 0, legacy=True)]  # re-request after ~1 s
    assert server.handle(ItemReceived(wire[0]), 2.7) == [SendRequest(1, 0, legacy=True)]
    assert server.handle(ItemReceived(wire[0]), 2.8) == [SendAck(int(MissionResult.INVALID_SEQUENCE), 0)]
    server.handle(ItemReceived(wire[1]), 2.9)
    assert server.handle(ItemReceived(wire[2]), 3.0) == [SendAck(0, 0)]
    assert server.handle(ListRequested(0), 3.1) == [SendCount(3, 0)]
    home_item = server.handle(ItemRequest(0, 0), 3.2)[0]
    back = server.handle(ItemRequest(1, 0), 3.3)[0]
    assert isinstance(home_item, SendItem) and isinstance(back, SendItem)
    assert math.isclose(from_wire(home_item.item).lat, home[0]) and home_item.item.z == home[2]
    assert back.item.frame == int(Frame.GLOBAL_RELATIVE_ALT)  # 6 comes back as 3
    items, vehicle_home = mission_from_wire([home_item.item, back.item], "ardupilot")
    assert vehicle_home is not None and items[0].lat == pytest.approx(WP.lat)
