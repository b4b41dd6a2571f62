"""Fixtures for the MAVLink tests: free ports, a simulated vehicle on real loopback sockets, fast retry policies."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest

from pipeline.core.mission import Cmd, FenceCircle, FencePolygon, Frame, Mission, MissionItem
from pipeline.mavlink.protocol import RetryPolicy
from pipeline.mavlink.vehicle import SimVehicle, VehicleConfig
from pipeline.mavlink.vehicle_mission import MissionServerConfig


def free_port(kind: int) -> int:
    """A currently free loopback port for ``socket.SOCK_DGRAM`` or ``SOCK_STREAM``."""
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fast_vehicle_config(firmware: str = "ardupilot", **mission: object) -> VehicleConfig:
    """Vehicle config with short periods (ArduPilot's ~1 s boot refusal shortened to 0.3 s)."""
    server = MissionServerConfig(firmware=firmware, refuse_after_boot_s=0.3 if firmware == "ardupilot" else 0.0,
                                 rerequest_s=0.2, upload_timeout_s=4.0)
    return VehicleConfig(firmware=firmware, heartbeat_s=0.1, stream_hz=10.0, mission=replace(server, **mission))


@pytest.fixture
def policy() -> RetryPolicy:
    """Short timeouts, generous retries (for lossy links)."""
    return RetryPolicy(timeout_s=0.25, retries=12, busy_retries=5, busy_delay_s=0.2)


@pytest.fixture
def vehicle_factory() -> Iterator[Callable[..., tuple[SimVehicle, str]]]:
    """``make(transport="udp"|"tcp", config=None)`` -> (running vehicle, client URL); stopped at teardown."""
    started: list[SimVehicle] = []

    def make(transport: str = "udp", config: VehicleConfig | None = None) -> tuple[SimVehicle, str]:
        if transport == "udp":
            port = free_port(socket.SOCK_DGRAM)
            serve, client = f"udpin:127.0.0.1:{port}", f"udpout:127.0.0.1:{port}"
        else:
            port = free_port(socket.SOCK_STREAM)
            serve, client = f"tcpin:127.0.0.1:{port}", f"tcp:127.0.0.1:{port}"
        vehicle = SimVehicle(serve, config or fast_vehicle_config())
        vehicle.__enter__()
        started.append(vehicle)
        return vehicle, client

    yield make
    for vehicle in started:
        vehicle.stop()


def survey_mission(n_legs: int = 6) -> Mission:
    """A small survey near Shimanto: take-off, camera distance trigger, lawnmower legs, RTL, fence and rally."""
    lat0, lon0 = 33.2100, 133.1365
    items = [
        MissionItem(int(Cmd.NAV_TAKEOFF), int(Frame.GLOBAL_RELATIVE_ALT), alt=40.0),
        MissionItem(int(Cmd.DO_CHANGE_SPEED), int(Frame.MISSION), (1.0, 8.0, -1.0, 0.0)),
        MissionItem(int(Cmd.DO_SET_CAM_TRIGG_DIST), int(Frame.MISSION), (25.0, 0.0, 1.0, 0.0)),
    ]
    for leg in range(n_legs):
        lat = lat0 + leg * 0.0002
        lons = (lon0, lon0 + 0.002) if leg % 2 == 0 else (lon0 + 0.002, lon0)
        for lon in lons:
            items.append(MissionItem(int(Cmd.NAV_WAYPOINT), int(Frame.GLOBAL_RELATIVE_ALT_INT),
                                     (0.0, 2.0, 0.0, float("nan")), lat, lon, 40.0 + 0.25 * leg))
    items.append(MissionItem(int(Cmd.DO_SET_CAM_TRIGG_DIST), int(Frame.MISSION), (0.0, 0.0, 0.0, 0.0)))
    items.append(MissionItem(int(Cmd.NAV_RETURN_TO_LAUNCH), int(Frame.MISSION)))
    fence = FencePolygon(((33.205, 133.130), (33.215, 133.130), (33.215, 133.145), (33.205, 133.145)))
    return Mission(
        items=tuple(items),
        home=(33.2096, 133.1360, 210.0),
        fence_polygons=(fence,),
        fence_circles=(FenceCircle(33.2125, 133.1400, 30.0, inclusion=False),),  # clear of the legs
        rally=((33.2098, 133.1362, 30.0), (33.2120, 133.1390, 35.0)),
    )


@pytest.fixture
def survey() -> Mission:
    """:func:`survey_mission` with six legs."""
    return survey_mission()


@pytest.fixture
def fast_config() -> Callable[..., VehicleConfig]:
    """:func:`fast_vehicle_config` as a fixture (test modules cannot import conftest under importlib mode)."""
    return fast_vehicle_config


@pytest.fixture
def small_survey() -> Mission:
    """:func:`survey_mission` with two legs (9 items, 5 fence items, 2 rally points), for slow lossy links."""
    return survey_mission(2)
