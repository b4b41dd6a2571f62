"""QGroundControl ``.plan`` files (JSON, ``fileType: "Plan"``, version 1, mission version 2).

Writing produces SimpleItems only (QGC loads and edits them). Reading also
expands complex items (Survey/CorridorScan generated items, StructureScan)
through :mod:`pipeline.flight.complex_items`.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from pipeline.common.atomic import atomic_write_json
from pipeline.core.mission import FenceCircle, FencePolygon, Frame, Mission, MissionItem
from pipeline.flight.complex_items import expand_complex_item
from pipeline.flight.errors import MissionFileError
from pipeline.flight.simple_items import float_or_nan as _float
from pipeline.flight.simple_items import parse_simple_item

#: MAV_AUTOPILOT values QGC writes as ``firmwareType``.
FIRMWARE_TYPES = {"ardupilot": 3, "px4": 12, "generic": 0}
#: MAV_TYPE values QGC writes as ``vehicleType``.
VEHICLE_TYPES = {"multirotor": 2, "fixedwing": 1, "vtol": 22}
#: Every MAV_TYPE read back as a vehicle kind (others count as multirotor).
VEHICLE_KINDS = {1: "fixedwing", **{t: "vtol" for t in range(19, 26)}}
#: QGC ``AltitudeMode`` per MAV_FRAME (1 relative, 2 absolute, 4 terrain frame).
ALTITUDE_MODES = {int(Frame.GLOBAL_RELATIVE_ALT): 1, int(Frame.GLOBAL): 2, int(Frame.GLOBAL_TERRAIN_ALT): 4}


def _num(value: float) -> float | None:
    return None if math.isnan(value) else value


def simple_item_dict(item: MissionItem, jump_id: int) -> dict[str, Any]:
    """The QGC ``SimpleItem`` JSON of one mission item."""
    doc: dict[str, Any] = {
        "autoContinue": item.autocontinue,
        "command": int(item.command),
        "doJumpId": jump_id,
        "frame": int(item.frame),
        "params": [_num(p) for p in item.params] + [item.lat, item.lon, _num(item.alt)],
        "type": "SimpleItem",
    }
    if item.is_nav:
        doc.update({"AMSLAltAboveTerrain": None, "Altitude": _num(item.alt),
                    "AltitudeMode": ALTITUDE_MODES.get(int(item.frame), 1)})
    return doc


def plan_dict(mission: Mission) -> dict[str, Any]:
    """The complete QGC plan document of ``mission``."""
    home = list(mission.home) if mission.home else [0.0, 0.0, 0.0]
    fence_polys = [{"inclusion": p.inclusion, "polygon": [list(v) for v in p.vertices], "version": 1}
                   for p in mission.fence_polygons]
    fence_circles = [{"circle": {"center": [c.lat, c.lon], "radius": c.radius_m}, "inclusion": c.inclusion,
                      "version": 1} for c in mission.fence_circles]
    return {
        "fileType": "Plan",
        "geoFence": {"circles": fence_circles, "polygons": fence_polys, "version": 2},
        "groundStation": "QGroundControl",
        "mission": {
            "cruiseSpeed": mission.cruise_speed_m_s,
            "firmwareType": FIRMWARE_TYPES.get(mission.firmware, 0),
            "globalPlanAltitudeMode": 1,
            "hoverSpeed": mission.cruise_speed_m_s,
            "items": [simple_item_dict(item, i) for i, item in enumerate(mission.items, start=1)],
            "plannedHomePosition": home,
            "vehicleType": VEHICLE_TYPES.get(mission.vehicle, 2),
            "version": 2,
        },
        "rallyPoints": {"points": [list(p) for p in mission.rally], "version": 2},
        "version": 1,
    }


def write_plan(mission: Mission, path: Path | str) -> Path:
    """Write ``mission`` as a QGroundControl ``.plan`` file, atomically; return the path."""
    return atomic_write_json(path, plan_dict(mission), indent=4)


def _fence(doc: Any, source: str) -> tuple[tuple[FencePolygon, ...], tuple[FenceCircle, ...]]:
    if not isinstance(doc, dict):
        return (), ()
    try:
        if int(doc.get("version", 2)) == 1:  # old form: one inclusion polygon
            verts = tuple((float(a), float(b)) for a, b in doc.get("polygon", []))
            return ((FencePolygon(verts, True),) if verts else ()), ()
        polys = tuple(FencePolygon(tuple((float(a), float(b)) for a, b in p["polygon"]), bool(p["inclusion"]))
                      for p in doc.get("polygons", []))
        circles = tuple(FenceCircle(float(c["circle"]["center"][0]), float(c["circle"]["center"][1]),
                                    float(c["circle"]["radius"]), bool(c["inclusion"])) for c in doc.get("circles", []))
    except (KeyError, TypeError, ValueError) as exc:
        raise MissionFileError(f"{source}: malformed geoFence ({exc!r})") from exc
    return polys, circles


def parse_plan(doc: Any, source: str = "<plan>") -> Mission:
    """Turn a parsed QGC plan document into a :class:`Mission`.

    Raises:
        MissionFileError: not a plan, unsupported versions, no mission, malformed items.
    """
    if not isinstance(doc, dict) or doc.get("fileType") != "Plan":
        raise MissionFileError(f"{source}: not a QGroundControl plan (fileType must be 'Plan')")
    if doc.get("version") != 1:
        raise MissionFileError(f"{source}: plan file version {doc.get('version')!r} is not supported; expected 1")
    mission = doc.get("mission")
    if not isinstance(mission, dict):
        raise MissionFileError(f"{source}: the plan has no 'mission' section; nothing to fly")
    if mission.get("version") != 2:
        raise MissionFileError(f"{source}: mission version {mission.get('version')!r} is not supported; expected 2")
    raw_items = mission.get("items")
    if not isinstance(raw_items, list):
        raise MissionFileError(f"{source}: mission has no 'items' list")
    items: list[MissionItem] = []
    for i, raw in enumerate(raw_items):
        where = f"{source}: mission item {i}"
        kind = raw.get("type") if isinstance(raw, dict) else None
        if kind == "SimpleItem":
            items.append(parse_simple_item(raw, where))
        elif kind == "ComplexItem":
            items.extend(expand_complex_item(raw, where))
        else:
            raise MissionFileError(f"{where}: unknown item type {kind!r}; expected SimpleItem or ComplexItem")
    home_raw = mission.get("plannedHomePosition")
    home = None
    if isinstance(home_raw, list) and len(home_raw) >= 2 and (home_raw[0] or home_raw[1]):
        home = (float(home_raw[0]), float(home_raw[1]), _float(home_raw[2] if len(home_raw) > 2 else 0.0, 0.0))
    polys, circles = _fence(doc.get("geoFence"), source)
    rally_doc = doc.get("rallyPoints") or {}
    rally = tuple((float(p[0]), float(p[1]), float(p[2])) for p in rally_doc.get("points", []))
    firmware = {v: k for k, v in FIRMWARE_TYPES.items()}.get(int(mission.get("firmwareType", 0)), "generic")
    vehicle = VEHICLE_KINDS.get(int(mission.get("vehicleType", 2)), "multirotor")
    speed = mission.get("hoverSpeed" if vehicle == "multirotor" else "cruiseSpeed") or 5.0
    home_source = ("plannedHomePosition of the plan" if home is not None
                   else "none: the plan's plannedHomePosition is missing or 0, 0")
    return Mission(tuple(items), home, polys, circles, rally, vehicle, firmware, float(speed), home_source)


def read_plan(path: Path | str) -> Mission:
    """Read a QGroundControl ``.plan`` file (see :func:`parse_plan`)."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MissionFileError(f"{path}: not valid JSON ({exc}); expected a QGroundControl .plan file") from exc
    return parse_plan(doc, str(path))
