"""How ArduPilot decodes, stores and reads back a mission item: the simulated vehicle's own decoder.

Deliberately independent of the ground side's encoder (:mod:`pipeline.mavlink.wire`):
it reads the fields of the received pymavlink message, named as in the MAVLink XML
definition of ``MISSION_ITEM_INT``/``MISSION_ITEM``, and follows ArduPilot 4.x
``libraries/AP_Mission/AP_Mission.cpp``:

* ``mission_item_to_mission_item_int`` (legacy float ``MISSION_ITEM``): x/y are copied
  unscaled for ``DO_DIGICAM_CONTROL``/``DO_DIGICAM_CONFIGURE`` and multiplied by 1e7 for
  every other command;
* ``mavlink_int_to_mission_cmd``: commands stored *in location* (NAV commands with a
  position, ``DO_SET_ROI``, ``DO_SET_HOME``, fence and rally points) take x/y as latitude/
  longitude in 1e-7 degree, refused with ``MAV_MISSION_INVALID_PARAM5_X``/``PARAM6_Y`` when
  outside ±90°/±180°, and z in metres stored as whole centimetres;
  ``DO_DIGICAM_CONTROL`` stores session/zoom_pos/zoom_step/focus_lock from param1-4 and
  ``shooting_cmd = packet.x``, ``cmd_id = packet.y`` as 8-bit integers;
  ``DO_DIGICAM_CONFIGURE`` stores ``exposure_type = x``, ``cmd_id = y`` (8-bit),
  ``engine_cutoff_time = z``; ``DO_SET_CAM_TRIGG_DIST`` stores param1 (metres) and param3
  (trigger now, 8-bit); ``DO_CHANGE_SPEED`` stores param1 (8-bit speed type), param2, param3;
* ``mission_cmd_to_mavlink_int``: reads the stored fields back in the same places.

* params a copter build does not keep read back as 0 (a waypoint keeps only its delay,
  param1; a NaN yaw becomes 0), fence and rally points read back with ``autocontinue`` 0,
  as ArduCopter 4.7 SITL answers QGroundControl's sample plans.

Commands not listed in :data:`_COPTER_KEEPS` keep every field unchanged.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
from pymavlink.dialects.v20 import ardupilotmega as mav2

from pipeline.mavlink.wire import WireItem

#: MAV_CMD ids ArduPilot stores as a location (``AP_Mission::stored_in_location`` and NAV ids with a position).
LOCATION_COMMANDS = frozenset({16, 17, 18, 19, 21, 22, 30, 31, 82, 84, 85, 179, 195, 201,
                               5001, 5002, 5003, 5004, 5100})
DIGICAM_CONFIGURE = 202
DIGICAM_CONTROL = 203
CHANGE_SPEED = 178
CAM_TRIGG_DIST = 206
#: Commands whose x/y are plain integers even in the legacy float MISSION_ITEM.
_UNSCALED_XY = (DIGICAM_CONFIGURE, DIGICAM_CONTROL)
_MAX_LAT_E7 = 900_000_000
_MAX_LON_E7 = 1_800_000_000


#: Params (1-4) an ArduCopter build keeps per location command (the rest read back as 0).
_COPTER_KEEPS: dict[int, tuple[int, ...]] = {16: (1,), 82: (1,), 22: (1,), 21: (1,), 19: (1,), 18: (1,), 17: (),
                                             31: (2,), 179: (1,), 201: (), 5001: (1,), 5002: (1,), 5003: (1,),
                                             5004: (1,), 5100: ()}
_FENCE_RALLY = (5001, 5002, 5003, 5004, 5100)


def _kept(item: WireItem) -> WireItem:
    keep = _COPTER_KEEPS.get(item.command)
    if keep is None:
        return item
    values = [item.param1, item.param2, item.param3, item.param4]
    p1, p2, p3, p4 = (v if n in keep and not math.isnan(v) else 0.0 for n, v in enumerate(values, start=1))
    autocontinue = 0 if item.command in _FENCE_RALLY else item.autocontinue
    return replace(item, param1=p1, param2=p2, param3=p3, param4=p4, autocontinue=autocontinue)


def _u8(value: float) -> int:
    """C's conversion of a float or int32 to ``uint8_t`` (modulo 256; NaN as 0)."""
    return 0 if math.isnan(value) else int(value) & 0xFF


def _i8(value: float) -> int:
    byte = _u8(value)
    return byte - 256 if byte > 127 else byte


def received_item(msg: Any) -> WireItem:
    """The MISSION_ITEM_INT fields of a received ``MISSION_ITEM_INT`` or legacy ``MISSION_ITEM`` message."""
    command = int(msg.command)
    if msg.get_type() == "MISSION_ITEM":
        scale = 1.0 if command in _UNSCALED_XY else 1e7
        x, y = int(float(msg.x) * scale), int(float(msg.y) * scale)
    else:
        x, y = int(msg.x), int(msg.y)
    return WireItem(seq=int(msg.seq), frame=int(msg.frame), command=command, param1=float(msg.param1),
                    param2=float(msg.param2), param3=float(msg.param3), param4=float(msg.param4), x=x, y=y,
                    z=float(msg.z), autocontinue=int(msg.autocontinue), current=int(msg.current),
                    mission_type=int(getattr(msg, "mission_type", 0)))


def ardupilot_store(item: WireItem) -> WireItem | int:
    """The item as ArduPilot keeps (and later reads back) it, or the MAV_MISSION_RESULT refusing it."""
    cmd = item.command
    if cmd in LOCATION_COMMANDS:
        if abs(item.x) > _MAX_LAT_E7:
            return int(mav2.MAV_MISSION_INVALID_PARAM5_X)
        if abs(item.y) > _MAX_LON_E7:
            return int(mav2.MAV_MISSION_INVALID_PARAM6_Y)
        # ``location.alt = packet.z * 100.0f``: a float32 product truncated to int32 centimetres
        alt_cm = 0 if math.isnan(item.z) else int(np.float32(item.z) * np.float32(100.0))
        return _kept(replace(item, z=alt_cm / 100.0, current=0))
    if cmd == DIGICAM_CONTROL:
        return replace(item, param1=float(_u8(item.param1)), param2=float(_u8(item.param2)),
                       param3=float(_i8(item.param3)), param4=float(_u8(item.param4)), x=_u8(item.x),
                       y=_u8(item.y), z=0.0, current=0)
    if cmd == DIGICAM_CONFIGURE:
        return replace(item, x=_u8(item.x), y=_u8(item.y), current=0)
    if cmd == CAM_TRIGG_DIST:
        return replace(item, param2=0.0, param3=float(_u8(item.param3)), param4=0.0, x=0, y=0, z=0.0, current=0)
    if cmd == CHANGE_SPEED:
        return replace(item, param1=float(_u8(item.param1)), param4=0.0, x=0, y=0, z=0.0, current=0)
    return replace(item, current=0)


def is_location(item: WireItem) -> bool:
    """True when the vehicle treats x/y of ``item`` as latitude/longitude (1e-7 degree)."""
    return item.command in LOCATION_COMMANDS


def shooting_command(item: WireItem) -> int:
    """DO_DIGICAM_CONTROL's stored shooting command (1 = take a picture), read from x as ArduPilot does."""
    return _u8(item.x) if item.command == DIGICAM_CONTROL else 0
