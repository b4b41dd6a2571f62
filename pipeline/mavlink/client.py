"""Ground-station side of a vehicle link: connect, identify the firmware, and run mission transfers.

:class:`GroundStation` owns the I/O loop; the protocol logic lives in the pure
machines of :mod:`pipeline.mavlink.protocol`. High-level helpers upload a whole
:class:`~pipeline.core.mission.Mission` (mission, fence, rally), read it back
and verify it item by item before reporting success.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from pymavlink.dialects.v20 import ardupilotmega as mav2

from pipeline.core.mission import Mission, MissionItem
from pipeline.errors import LinkError
from pipeline.mavlink.errors import MissionRejectedError, VerificationError
from pipeline.mavlink.link import MavConnection, decode_event, encode_action, gcs_heartbeat
from pipeline.mavlink.protocol import ClearMachine, DownloadMachine, Machine, RetryPolicy, UploadMachine, type_name
from pipeline.mavlink.verify import ItemCheck, compare_items
from pipeline.mavlink.wire import (
    AUTOPILOT_FIRMWARE,
    MissionType,
    WireItem,
    check_firmware,
    fence_from_items,
    fence_to_items,
    from_wire,
    mission_from_wire,
    mission_to_wire,
    plain_wire,
    rally_from_items,
    rally_to_items,
)

log = logging.getLogger(__name__)
GCS_HEARTBEAT_PERIOD_S = 1.0
FIRMWARE_CHOICES = ("auto", "ardupilot", "px4")


@dataclass(frozen=True)
class VehicleInfo:
    """What the vehicle's HEARTBEAT says about it."""

    system_id: int
    component_id: int
    firmware: str
    autopilot: int
    mav_type: int


@dataclass
class GroundStation:
    """A ground station on one link (see :class:`~pipeline.mavlink.link.MavConnection` for URLs).

    Attributes:
        url: pymavlink connection URL.
        policy: Timeouts and retries for mission transfers.
        connect_timeout_s: How long to wait for the vehicle's first HEARTBEAT.
    """

    url: str
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    connect_timeout_s: float = 10.0
    link: MavConnection | None = None
    vehicle: VehicleInfo | None = None
    status_texts: list[str] = field(default_factory=list)
    last_heartbeat: Any = None
    _next_gcs_heartbeat: float = 0.0

    def __enter__(self) -> GroundStation:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the link."""
        if self.link is not None:
            self.link.close()
            self.link = None

    def connect(self, firmware: str = "auto") -> VehicleInfo:
        """Open the link, announce ourselves and wait for the vehicle's HEARTBEAT.

        Args:
            firmware: ``"auto"`` (from HEARTBEAT.autopilot), ``"ardupilot"`` or ``"px4"``.

        Raises:
            LinkError: No vehicle heartbeat within ``connect_timeout_s``, or firmware unknown.
        """
        if firmware != "auto":
            check_firmware(firmware)
        self.link = MavConnection(self.url)
        end = time.monotonic() + self.connect_timeout_s
        while time.monotonic() < end:
            msg = self.recv(min(0.2, max(0.0, end - time.monotonic())))
            if msg is None or msg.get_type() != "HEARTBEAT" or msg.type == mav2.MAV_TYPE_GCS:
                continue
            detected = AUTOPILOT_FIRMWARE.get(int(msg.autopilot))
            chosen = detected if firmware == "auto" else firmware
            if chosen is None:
                raise LinkError(
                    f"vehicle at {self.url!r} reports autopilot {msg.autopilot}, neither ArduPilot (3) nor PX4 (12); "
                    "pass --firmware ardupilot or --firmware px4"
                )
            self.vehicle = VehicleInfo(msg.get_srcSystem(), msg.get_srcComponent(), chosen, msg.autopilot, msg.type)
            log.info("connected to system %d (%s)", self.vehicle.system_id, chosen)
            return self.vehicle
        self.close()
        raise LinkError(
            f"no HEARTBEAT from a vehicle on {self.url!r} within {self.connect_timeout_s:g} s; check that the vehicle "
            "is powered and the URL is right (udpin:0.0.0.0:14550 to listen, udpout:HOST:PORT or tcp:HOST:PORT to call)"
        )

    def send(self, msg: Any) -> None:
        """Send one message on the link."""
        if self.link is None:
            raise LinkError("not connected; call connect() first")
        self.link.send(msg)

    def recv(self, timeout: float) -> Any | None:
        """Next message (keeps our own HEARTBEAT going and records STATUSTEXT)."""
        if self.link is None:
            raise LinkError("not connected; call connect() first")
        now = time.monotonic()
        if now >= self._next_gcs_heartbeat:
            self.link.send(gcs_heartbeat())
            self._next_gcs_heartbeat = now + GCS_HEARTBEAT_PERIOD_S
        msg = self.link.recv(min(timeout, max(0.0, self._next_gcs_heartbeat - now)))
        if msg is None:
            return None
        if self.vehicle is not None and msg.get_srcSystem() != self.vehicle.system_id:
            return None
        kind = msg.get_type()
        if kind == "STATUSTEXT":
            self.status_texts.append(str(msg.text))
            del self.status_texts[:-50]
        elif kind == "HEARTBEAT" and msg.type != mav2.MAV_TYPE_GCS:
            self.last_heartbeat = msg
        return msg

    def _targets(self) -> tuple[int, int]:
        if self.vehicle is None:
            raise LinkError("not connected; call connect() first")
        return self.vehicle.system_id, self.vehicle.component_id

    def run(self, machine: Machine) -> None:
        """Drive a protocol machine to completion; NACKs name any STATUSTEXT the vehicle sent meanwhile."""
        target = self._targets()
        first_text = len(self.status_texts)
        try:
            for action in machine.start(time.monotonic()):
                self.send(encode_action(action, *target))
            while not machine.done:
                msg = self.recv(max(0.0, machine.deadline - time.monotonic()))
                now = time.monotonic()
                event = decode_event(msg) if msg is not None else None
                if event is not None and getattr(msg, "target_system", 255) in (0, self.link_system_id):
                    actions = machine.handle(event, now)
                else:
                    actions = machine.tick(now)
                for action in actions:
                    self.send(encode_action(action, *target))
        except LinkError as exc:
            said = [t for t in self.status_texts[first_text:] if t]
            if said:
                exc.args = (f"{exc.args[0]}; vehicle said: " + " | ".join(dict.fromkeys(said)),)
            raise

    @property
    def link_system_id(self) -> int:
        """Our own MAVLink system id."""
        return int(self.link.mav.srcSystem) if self.link is not None else 255

    def upload_list(self, items: list[WireItem], mission_type: int) -> None:
        """Upload one list (wire items with seq already set)."""
        self.run(UploadMachine(items, mission_type, self.policy))

    def download_list(self, mission_type: int) -> list[WireItem]:
        """Download one list."""
        machine = DownloadMachine(mission_type, self.policy)
        self.run(machine)
        return machine.items

    def clear_list(self, mission_type: int) -> None:
        """Delete one list on the vehicle."""
        self.run(ClearMachine(mission_type, self.policy))


@dataclass(frozen=True)
class UploadReport:
    """Per-list verification of an upload. ``checks`` maps ``"mission"|"fence"|"rally"`` to item checks."""

    firmware: str
    checks: dict[str, list[ItemCheck]]
    vehicle_home: MissionItem | None

    @property
    def ok(self) -> bool:
        """True when every read-back item matched."""
        return all(c.ok for checks in self.checks.values() for c in checks)


def _lists_of(mission: Mission, firmware: str) -> list[tuple[int, list[MissionItem], list[WireItem]]]:
    lists = [(int(MissionType.MISSION), list(mission.items), mission_to_wire(mission, firmware))]
    fence = fence_to_items(mission.fence_polygons, mission.fence_circles)
    if fence:
        lists.append((int(MissionType.FENCE), fence, plain_wire(fence, int(MissionType.FENCE))))
    rally = rally_to_items(mission.rally)
    if rally:
        lists.append((int(MissionType.RALLY), rally, plain_wire(rally, int(MissionType.RALLY))))
    return lists


def upload_mission(gcs: GroundStation, mission: Mission) -> UploadReport:
    """Upload mission (+ fence and rally when present), read every list back and compare.

    Returns:
        The report; only returned when every item verified.

    Raises:
        MissionRejectedError: The vehicle NACKed a transfer (message names the MAV_MISSION_RESULT).
        LinkTimeoutError: The vehicle stopped answering.
        VerificationError: The read-back differs (exit 7); the message lists every differing item and field.
    """
    if gcs.vehicle is None:
        raise LinkError("not connected; call connect() first")
    firmware = gcs.vehicle.firmware
    checks: dict[str, list[ItemCheck]] = {}
    home: MissionItem | None = None
    for mission_type, sent, wire in _lists_of(mission, firmware):
        gcs.upload_list(wire, mission_type)
        got_wire = gcs.download_list(mission_type)
        if mission_type == MissionType.MISSION:
            got, home = mission_from_wire(got_wire, firmware)
        else:
            got = tuple(from_wire(w) for w in got_wire)
        checks[type_name(mission_type)] = compare_items(sent, got, firmware)
    report = UploadReport(firmware, checks, home)
    if not report.ok:
        diffs = tuple((name, c.index + 1, command_name(c.command), c.problems)
                      for name, items in checks.items() for c in items if not c.ok)
        bad = [f"{name} item {n} {label}: " + "; ".join(problems) for name, n, label, problems in diffs]
        raise VerificationError(f"the vehicle accepted the upload but reads back {len(diffs)} differing item(s): "
                                + " | ".join(bad) + "; upload again, and check the vehicle's firmware if it "
                                "persists", diffs)
    return report


def command_name(command: int) -> str:
    """``16 -> "NAV_WAYPOINT"`` (MAV_CMD name from the MAVLink definitions)."""
    entry = mav2.enums["MAV_CMD"].get(int(command))
    name = entry.name if entry is not None and entry.name else f"CMD_{command}"
    return str(name).removeprefix("MAV_CMD_")


def download_mission(gcs: GroundStation, *, with_fence: bool = True, with_rally: bool = True) -> Mission:
    """Read the vehicle's mission (and fence/rally where the vehicle supports them) into a :class:`Mission`."""
    if gcs.vehicle is None:
        raise LinkError("not connected; call connect() first")
    firmware = gcs.vehicle.firmware
    items, home_item = mission_from_wire(gcs.download_list(int(MissionType.MISSION)), firmware)
    polygons: tuple[Any, ...] = ()
    circles: tuple[Any, ...] = ()
    rally: tuple[tuple[float, float, float], ...] = ()
    try:
        if with_fence:
            polygons, circles = fence_from_items([from_wire(w) for w in gcs.download_list(int(MissionType.FENCE))])
        if with_rally:
            rally = rally_from_items([from_wire(w) for w in gcs.download_list(int(MissionType.RALLY))])
    except MissionRejectedError as exc:  # vehicle without fence/rally support
        log.warning("%s; continuing without it", exc)
    home = (home_item.lat, home_item.lon, home_item.alt) if home_item is not None else None
    return Mission(items=items, home=home, fence_polygons=polygons, fence_circles=circles, rally=rally,
                   firmware=firmware)


def read_home(gcs: GroundStation, wait_s: float = 3.0) -> tuple[float, float, float] | None:
    """The vehicle's home ``(lat, lon, alt_amsl_m)`` from HOME_POSITION (asked for with MAV_CMD_REQUEST_MESSAGE),
    or None when it has none yet (no position fix) or does not answer within ``wait_s``."""
    if gcs.vehicle is None:
        raise LinkError("not connected; call connect() first")
    msg_id = float(mav2.MAVLINK_MSG_ID_HOME_POSITION)
    end = time.monotonic() + wait_s
    next_ask = 0.0
    while time.monotonic() < end:
        if time.monotonic() >= next_ask:
            gcs.send(mav2.MAVLink_command_long_message(gcs.vehicle.system_id, gcs.vehicle.component_id,
                                                       int(mav2.MAV_CMD_REQUEST_MESSAGE), 0, msg_id,
                                                       0, 0, 0, 0, 0, 0))
            next_ask = time.monotonic() + 1.0
        msg = gcs.recv(0.2)
        if msg is not None and msg.get_type() == "HOME_POSITION" and (msg.latitude or msg.longitude):
            return msg.latitude / 1e7, msg.longitude / 1e7, msg.altitude / 1000.0
    return None
