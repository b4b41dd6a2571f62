"""Compare an uploaded mission with the one read back, by meaning rather than raw encoding.

Tolerances follow the wire encoding: latitude/longitude travel as int32 1e-7
degree (``|Δ| <= 1e-7`` degree plus rounding), altitude as float32 metres
(``|Δ| <= 0.01`` m), params as float32 (relative ``1e-6``; NaN equals NaN).

Frames are compared by class because a vehicle may answer with an equivalent
frame: ArduPilot returns ``GLOBAL_RELATIVE_ALT_INT`` (6) as ``GLOBAL_RELATIVE_ALT`` (3)
and DO_ commands and RTL with frame 0. The frame of items without a position is
therefore not compared, nor is their altitude (z) or, for RTL, x/y.

ArduPilot keeps only some params of each command (``AP_Mission::mavlink_int_to_mission_cmd``;
ArduCopter reads back 0 for the others, e.g. a waypoint's acceptance radius or a NaN yaw) and
no ``autocontinue`` for fence and rally points. Uploaded to ArduCopter SITL, QGroundControl's
own sample plans come back that way, so for ``firmware="ardupilot"`` only the params in
:data:`ARDUPILOT_KEPT_PARAMS` are compared (every param of a command not listed there).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.core.mission import Cmd, MissionItem

#: MAV_CMD -> params (1-4) ArduCopter stores and reads back (AP_Mission.cpp, copter build; checked on SITL 4.7).
ARDUPILOT_KEPT_PARAMS: dict[int, tuple[int, ...]] = {
    16: (1,), 17: (), 18: (1,), 19: (1,), 20: (), 21: (1,), 22: (1,), 31: (2,), 82: (1,),  # NAV
    177: (1, 2), 178: (1, 2, 3), 179: (1,), 201: (), 203: (1, 2, 3, 4), 205: (1, 2, 3), 206: (1, 3),  # DO
    5001: (1,), 5002: (1,), 5003: (1,), 5004: (1,), 5100: (),  # fence and rally
}
#: Commands of lists whose ``autocontinue`` ArduPilot does not store (fence vertices/circles, rally points).
NO_AUTOCONTINUE = frozenset({5001, 5002, 5003, 5004, 5100})
LATLON_TOL_DEG = 1e-7
ALT_TOL_M = 0.01
PARAM_REL_TOL = 1e-6

#: MAV_FRAME -> altitude reference class; frames in one class mean the same thing.
FRAME_CLASS: dict[int, str] = {
    0: "amsl",
    5: "amsl",
    3: "relative",
    6: "relative",
    10: "terrain",
    11: "terrain",
}


@dataclass(frozen=True)
class ItemCheck:
    """Verification of one item: ``index`` in the uploaded list (0 = first real item)."""

    index: int
    command: int
    problems: tuple[str, ...]

    @property
    def ok(self) -> bool:
        """True when the read-back item means the same as the uploaded one."""
        return not self.problems


def has_position(command: int) -> bool:
    """True for commands whose x/y/z are a position (NAV commands except RTL; fence and rally items)."""
    if command >= int(Cmd.NAV_FENCE_POLYGON_VERTEX_INCLUSION):
        return True
    return (command < 80 and command != int(Cmd.NAV_RETURN_TO_LAUNCH)) or command in (82, 84, 85)


def _param_equal(a: float, b: float) -> bool:
    if math.isnan(a) and math.isnan(b):
        return True
    return abs(a - b) <= PARAM_REL_TOL * max(1.0, abs(a), abs(b))


def item_problems(sent: MissionItem, got: MissionItem, firmware: str = "generic") -> tuple[str, ...]:
    """Every difference in meaning between ``sent`` and ``got`` (empty when equivalent; see the module doc)."""
    problems: list[str] = []
    if sent.command != got.command:
        problems.append(f"command {sent.command} became {got.command}")
        return tuple(problems)
    if has_position(sent.command):
        sent_cls = FRAME_CLASS.get(sent.frame, str(sent.frame))
        got_cls = FRAME_CLASS.get(got.frame, str(got.frame))
        if sent_cls != got_cls:
            problems.append(f"frame {sent.frame} ({sent_cls}) became {got.frame} ({got_cls})")
    ardupilot = firmware == "ardupilot"
    positioned = has_position(sent.command)
    if positioned:
        for name, a, b in (("lat", sent.lat, got.lat), ("lon", sent.lon, got.lon)):
            if abs(round(a * 1e7) - round(b * 1e7)) > 1:
                problems.append(f"{name} {a:.7f} became {b:.7f} (tolerance {LATLON_TOL_DEG:g} deg)")
    elif sent.command != int(Cmd.NAV_RETURN_TO_LAUNCH):  # MAV_FRAME_MISSION values: plain integers on the wire
        for name, a, b in (("param5 (x)", sent.lat, got.lat), ("param6 (y)", sent.lon, got.lon)):
            if _plain_int(a) != _plain_int(b):
                problems.append(f"{name} {a:g} became {b:g}")
    if positioned and abs(sent.alt - got.alt) > ALT_TOL_M:
        problems.append(f"alt {sent.alt:.2f} m became {got.alt:.2f} m (tolerance {ALT_TOL_M} m)")
    kept = ARDUPILOT_KEPT_PARAMS.get(sent.command, (1, 2, 3, 4)) if ardupilot else (1, 2, 3, 4)
    for number, (a, b) in enumerate(zip(sent.params, got.params, strict=True), start=1):
        if number in kept and not _param_equal(a, b):
            problems.append(f"param{number} {a:g} became {b:g}")
    if sent.autocontinue != got.autocontinue and not (ardupilot and sent.command in NO_AUTOCONTINUE):
        problems.append(f"autocontinue {sent.autocontinue} became {got.autocontinue}")
    return tuple(problems)


def _plain_int(value: float) -> int:
    return 0 if math.isnan(value) else int(value)


def compare_items(sent: Sequence[MissionItem], got: Sequence[MissionItem], firmware: str = "generic"
                  ) -> list[ItemCheck]:
    """Check item by item; a length mismatch adds one failing check per missing or extra item."""
    checks = [ItemCheck(i, s.command, item_problems(s, g, firmware))
              for i, (s, g) in enumerate(zip(sent, got, strict=False))]
    for i in range(len(got), len(sent)):
        checks.append(ItemCheck(i, sent[i].command, ("missing on the vehicle",)))
    for i in range(len(sent), len(got)):
        checks.append(ItemCheck(i, got[i].command, ("extra item on the vehicle",)))
    return checks
