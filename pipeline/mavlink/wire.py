"""Mission items as they travel on the wire (MISSION_ITEM_INT fields) and their mapping to the mission model.

Pure functions only. ``x``/``y`` (param5/param6) are int32 and their meaning depends
on the frame, as the MAVLink definition of MISSION_ITEM_INT says ("PARAM5 / local: x
position in meters * 1e4, global: latitude in degrees * 10^7") and as QGroundControl
(``PlanManager::_handleMissionRequest``: ``frame == MAV_FRAME_MISSION ? param5 : param5 * 1e7``)
and MAVSDK (``MissionImport::set_int32``) send them:

* ``MAV_FRAME_MISSION`` (2): the plain integer value of param5/param6 (truncated toward zero,
  as MAVSDK's ``static_cast<int32_t>``), e.g. DO_DIGICAM_CONTROL's shooting command ``x = 1``;
  ArduPilot reads it back unscaled (``AP_Mission::mavlink_int_to_mission_cmd``:
  ``digicam_control.shooting_cmd = packet.x``);
* every other frame: degrees x 1e7, rounded (MAVSDK ``std::round(val * 1e7)``).

Altitude ``z`` travels as float32 metres, params as float32. ``current`` is 1 on wire
seq 0 of each list and 0 elsewhere, as QGroundControl sets it (``missionRequestSeq == 0``).

Conventions handled here:

* ArduPilot: wire seq 0 of the MISSION list is home (the vehicle overwrites it),
  so uploads carry a home placeholder at seq 0 and downloads drop it.
* PX4: no home item; wire seq 0 is ``Mission.items[0]``.
* Geofence (mission_type FENCE) and rally points (RALLY) never carry home.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import IntEnum

from pymavlink.dialects.v20 import ardupilotmega as mav2

from pipeline.core.mission import Cmd, FenceCircle, FencePolygon, Frame, Mission, MissionItem
from pipeline.errors import InputError, unknown_name
from pipeline.mavlink.verify import has_position

#: Degrees to the int32 wire unit (1e-7 degree).
DEG_E7 = 1e7


class MissionType(IntEnum):
    """MAV_MISSION_TYPE values."""

    MISSION = 0
    FENCE = 1
    RALLY = 2
    ALL = 255


class MissionResult(IntEnum):
    """MAV_MISSION_RESULT values the stage reasons about (others are named via the dialect)."""

    ACCEPTED = 0
    ERROR = 1
    UNSUPPORTED_FRAME = 2
    UNSUPPORTED = 3
    NO_SPACE = 4
    INVALID = 5
    INVALID_SEQUENCE = 13
    DENIED = 14
    OPERATION_CANCELLED = 15


#: HEARTBEAT.autopilot value -> firmware name.
AUTOPILOT_FIRMWARE: dict[int, str] = {
    int(mav2.MAV_AUTOPILOT_ARDUPILOTMEGA): "ardupilot",
    int(mav2.MAV_AUTOPILOT_PX4): "px4",
}
#: Firmware name -> whether wire seq 0 of the MISSION list is home.
FIRMWARE_HOME_AT_SEQ0: dict[str, bool] = {"ardupilot": True, "px4": False}


def check_firmware(firmware: str) -> str:
    """Return ``firmware`` if known, else raise an :class:`~pipeline.errors.UnknownNameError`."""
    if firmware not in FIRMWARE_HOME_AT_SEQ0:
        raise unknown_name("firmware", firmware, tuple(FIRMWARE_HOME_AT_SEQ0))
    return firmware


def result_name(result: int) -> str:
    """Name of a MAV_MISSION_RESULT value, e.g. ``4 -> "MAV_MISSION_NO_SPACE"``."""
    entry = mav2.enums["MAV_MISSION_RESULT"].get(int(result))
    return entry.name if entry is not None and entry.name else f"MAV_MISSION_RESULT({result})"


def result_description(result: int) -> str:
    """Human description of a MAV_MISSION_RESULT value from the MAVLink definitions."""
    entry = mav2.enums["MAV_MISSION_RESULT"].get(int(result))
    return (entry.description or "").strip() if entry is not None else ""


@dataclass(frozen=True)
class WireItem:
    """One MISSION_ITEM_INT as sent or received (``x``/``y`` in 1e-7 degree, ``z`` metres)."""

    seq: int
    frame: int
    command: int
    param1: float = 0.0
    param2: float = 0.0
    param3: float = 0.0
    param4: float = 0.0
    x: int = 0
    y: int = 0
    z: float = 0.0
    autocontinue: int = 1
    current: int = 0
    mission_type: int = int(MissionType.MISSION)


def _int32(value: float) -> int:
    if math.isnan(value):
        return 0
    return max(-(2**31), min(2**31 - 1, int(value)))


def encode_xy(frame: int, param5: float, param6: float) -> tuple[int, int]:
    """MISSION_ITEM_INT ``(x, y)`` of param5/param6 in ``frame`` (see the module doc)."""
    if int(frame) == int(Frame.MISSION):
        return _int32(param5), _int32(param6)
    return (0 if math.isnan(param5) else round(param5 * DEG_E7)), (0 if math.isnan(param6) else round(param6 * DEG_E7))


def decode_xy(frame: int, x: int, y: int) -> tuple[float, float]:
    """Inverse of :func:`encode_xy`: param5/param6 of a received MISSION_ITEM_INT."""
    if int(frame) == int(Frame.MISSION):
        return float(x), float(y)
    return x / DEG_E7, y / DEG_E7


def to_wire(item: MissionItem, seq: int, mission_type: int = int(MissionType.MISSION)) -> WireItem:
    """Encode a model item at wire position ``seq`` (``current`` = 1 at seq 0, as QGC)."""
    p1, p2, p3, p4 = item.params
    x, y = encode_xy(item.frame, item.lat, item.lon)
    return WireItem(
        seq=seq,
        frame=int(item.frame),
        command=int(item.command),
        param1=p1,
        param2=p2,
        param3=p3,
        param4=p4,
        x=x,
        y=y,
        z=float(item.alt),
        autocontinue=1 if item.autocontinue else 0,
        current=1 if seq == 0 else 0,
        mission_type=mission_type,
    )


def from_wire(item: WireItem) -> MissionItem:
    """Decode a wire item into the model (drops seq/current/mission_type); x/y per frame."""
    lat, lon = decode_xy(item.frame, item.x, item.y)
    return MissionItem(
        command=item.command,
        frame=item.frame,
        params=(item.param1, item.param2, item.param3, item.param4),
        lat=lat,
        lon=lon,
        alt=item.z,
        autocontinue=bool(item.autocontinue),
    )


def home_placeholder(mission: Mission) -> WireItem:
    """ArduPilot's seq 0: a waypoint at the planned home (AMSL), or zeros; the vehicle overwrites it."""
    lat, lon, alt = mission.home if mission.home is not None else (0.0, 0.0, 0.0)
    return to_wire(MissionItem(int(Cmd.NAV_WAYPOINT), int(Frame.GLOBAL), lat=lat, lon=lon, alt=alt), 0)


def mission_to_wire(mission: Mission, firmware: str) -> list[WireItem]:
    """The MISSION list to upload: home placeholder first for ArduPilot, items as-is for PX4."""
    offset = 1 if FIRMWARE_HOME_AT_SEQ0[check_firmware(firmware)] else 0
    wire = [home_placeholder(mission)] if offset else []
    wire.extend(to_wire(item, seq + offset) for seq, item in enumerate(mission.items))
    return wire


def ardupilot_readback(item: WireItem) -> WireItem:
    """Undo ArduPilot's read-back frame for commands without a position.

    ``AP_Mission::mission_cmd_to_mavlink_int`` fills x/y of such commands with their
    plain values (DO_DIGICAM_CONTROL: ``packet.x = shooting_cmd``) but leaves the frame
    at 0 (GLOBAL); the values mean what they mean in ``MAV_FRAME_MISSION``, so the item
    is decoded in that frame.
    """
    if item.frame == int(Frame.GLOBAL) and not has_position(item.command):
        return replace(item, frame=int(Frame.MISSION))
    return item


def mission_from_wire(items: Sequence[WireItem], firmware: str) -> tuple[tuple[MissionItem, ...], MissionItem | None]:
    """Split a downloaded MISSION list into ``(items, home)``; ``home`` is None for PX4."""
    if FIRMWARE_HOME_AT_SEQ0[check_firmware(firmware)] and items:
        return tuple(from_wire(ardupilot_readback(w)) for w in items[1:]), from_wire(items[0])
    return tuple(from_wire(w) for w in items), None


def fence_to_items(polygons: Sequence[FencePolygon], circles: Sequence[FenceCircle]) -> list[MissionItem]:
    """Geofence as FENCE mission items (MAVLink mission protocol, as ArduPilot 4.x and PX4 use it).

    Each polygon vertex is one ``NAV_FENCE_POLYGON_VERTEX_*`` item with param1 = vertex count;
    each circle one ``NAV_FENCE_CIRCLE_*`` item with param1 = radius (m).
    """
    items: list[MissionItem] = []
    for poly in polygons:
        if len(poly.vertices) < 3:
            raise InputError(f"geofence polygon has {len(poly.vertices)} vertices; expected at least 3")
        cmd = Cmd.NAV_FENCE_POLYGON_VERTEX_INCLUSION if poly.inclusion else Cmd.NAV_FENCE_POLYGON_VERTEX_EXCLUSION
        for lat, lon in poly.vertices:
            items.append(MissionItem(int(cmd), int(Frame.GLOBAL), (float(len(poly.vertices)), 0, 0, 0), lat, lon))
    for circle in circles:
        cmd = Cmd.NAV_FENCE_CIRCLE_INCLUSION if circle.inclusion else Cmd.NAV_FENCE_CIRCLE_EXCLUSION
        items.append(MissionItem(int(cmd), int(Frame.GLOBAL), (circle.radius_m, 0, 0, 0), circle.lat, circle.lon))
    return items


def fence_from_items(items: Sequence[MissionItem]) -> tuple[tuple[FencePolygon, ...], tuple[FenceCircle, ...]]:
    """Inverse of :func:`fence_to_items` (vertices grouped by their param1 count)."""
    polygons: list[FencePolygon] = []
    circles: list[FenceCircle] = []
    index = 0
    vertex_cmds = (int(Cmd.NAV_FENCE_POLYGON_VERTEX_INCLUSION), int(Cmd.NAV_FENCE_POLYGON_VERTEX_EXCLUSION))
    while index < len(items):
        item = items[index]
        if item.command in vertex_cmds:
            count = max(1, round(item.params[0]))
            group = items[index : index + count]
            polygons.append(
                FencePolygon(tuple((g.lat, g.lon) for g in group), item.command == vertex_cmds[0])
            )
            index += count
            continue
        if item.command in (int(Cmd.NAV_FENCE_CIRCLE_INCLUSION), int(Cmd.NAV_FENCE_CIRCLE_EXCLUSION)):
            inclusion = item.command == int(Cmd.NAV_FENCE_CIRCLE_INCLUSION)
            circles.append(FenceCircle(item.lat, item.lon, item.params[0], inclusion))
        index += 1
    return tuple(polygons), tuple(circles)


def rally_to_items(rally: Sequence[tuple[float, float, float]]) -> list[MissionItem]:
    """Rally points as RALLY mission items (``NAV_RALLY_POINT``, altitude relative to home)."""
    return [
        MissionItem(int(Cmd.NAV_RALLY_POINT), int(Frame.GLOBAL_RELATIVE_ALT), lat=lat, lon=lon, alt=alt)
        for lat, lon, alt in rally
    ]


def rally_from_items(items: Sequence[MissionItem]) -> tuple[tuple[float, float, float], ...]:
    """Inverse of :func:`rally_to_items`."""
    return tuple((i.lat, i.lon, i.alt) for i in items if i.command == int(Cmd.NAV_RALLY_POINT))


def plain_wire(items: Sequence[MissionItem], mission_type: int) -> list[WireItem]:
    """Encode items for a list without a home item (FENCE, RALLY)."""
    return [to_wire(item, seq, mission_type) for seq, item in enumerate(items)]
