"""The mission model shared by the planner, the QGC file readers/writers, MAVLink and search.

A :class:`Mission` is an ordered tuple of :class:`MissionItem` in MAVLink
terms (MISSION_ITEM_INT fields), plus an optional geofence and rally points.
Coordinates are WGS84 degrees; altitudes metres in the item's frame.

Sequence convention: ``items[0]`` is the first real item (take-off). The
ArduPilot convention (seq 0 = home) is applied only on the wire and in
``QGC WPL 110`` files, where row 0 is home.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any


class Frame(IntEnum):
    """MAV_FRAME values used in missions."""

    GLOBAL = 0  # altitude above mean sea level (AMSL)
    MISSION = 2  # command without position
    GLOBAL_RELATIVE_ALT = 3  # altitude above home
    GLOBAL_INT = 5
    GLOBAL_RELATIVE_ALT_INT = 6
    GLOBAL_TERRAIN_ALT = 10  # altitude above terrain
    GLOBAL_TERRAIN_ALT_INT = 11


class Cmd(IntEnum):
    """MAV_CMD values the pipeline writes (others are carried through unchanged)."""

    NAV_WAYPOINT = 16
    NAV_LOITER_UNLIM = 17
    NAV_LOITER_TURNS = 18
    NAV_LOITER_TIME = 19
    NAV_RETURN_TO_LAUNCH = 20
    NAV_LAND = 21
    NAV_TAKEOFF = 22
    NAV_SPLINE_WAYPOINT = 82
    DO_CHANGE_SPEED = 178
    DO_SET_HOME = 179
    DO_DIGICAM_CONTROL = 203
    DO_SET_CAM_TRIGG_DIST = 206
    DO_MOUNT_CONTROL = 205
    NAV_FENCE_POLYGON_VERTEX_INCLUSION = 5001
    NAV_FENCE_POLYGON_VERTEX_EXCLUSION = 5002
    NAV_FENCE_CIRCLE_INCLUSION = 5003
    NAV_FENCE_CIRCLE_EXCLUSION = 5004
    NAV_RALLY_POINT = 5100


@dataclass(frozen=True)
class MissionItem:
    """One mission item, field for field as in MAVLink MISSION_ITEM_INT.

    Attributes:
        command: MAV_CMD value.
        frame: MAV_FRAME value.
        params: param1..param4.
        lat: Latitude in degrees (x); 0 for items without position.
        lon: Longitude in degrees (y).
        alt: Altitude in metres (z), in ``frame``.
        autocontinue: Continue to next item automatically.
    """

    command: int
    frame: int = int(Frame.GLOBAL_RELATIVE_ALT)
    params: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    lat: float = 0.0
    lon: float = 0.0
    alt: float = 0.0
    autocontinue: bool = True

    @property
    def is_nav(self) -> bool:
        """True for NAV commands that carry a position (id < 95, or spline)."""
        return self.command < 95 and self.command != int(Cmd.NAV_RETURN_TO_LAUNCH)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (plain numbers; inverse of :meth:`from_dict`)."""
        return {"command": self.command, "frame": self.frame, "params": list(self.params), "lat": self.lat,
                "lon": self.lon, "alt": self.alt, "autocontinue": self.autocontinue}

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> MissionItem:
        """Inverse of :meth:`to_dict`."""
        p = tuple(float(v) for v in doc.get("params", (0.0, 0.0, 0.0, 0.0)))
        if len(p) != 4:
            raise ValueError(f"mission item params {list(p)} must be four numbers (param1..param4)")
        return cls(int(doc["command"]), int(doc.get("frame", Frame.GLOBAL_RELATIVE_ALT)), (p[0], p[1], p[2], p[3]),
                   float(doc.get("lat", 0.0)), float(doc.get("lon", 0.0)), float(doc.get("alt", 0.0)),
                   bool(doc.get("autocontinue", True)))


@dataclass(frozen=True)
class FencePolygon:
    """A geofence polygon: ``inclusion`` true keeps the vehicle inside."""

    vertices: tuple[tuple[float, float], ...]  # (lat, lon) degrees
    inclusion: bool = True


@dataclass(frozen=True)
class FenceCircle:
    """A circular geofence of ``radius_m`` around ``(lat, lon)``."""

    lat: float
    lon: float
    radius_m: float
    inclusion: bool = True


@dataclass(frozen=True)
class Mission:
    """A complete mission.

    Attributes:
        items: Mission items in order (no home item).
        home: ``(lat, lon, alt_amsl_m)`` planned home position, if known.
        fence_polygons: Geofence polygons.
        fence_circles: Geofence circles.
        rally: Rally points as ``(lat, lon, alt_m)``.
        vehicle: ``"multirotor"`` or ``"fixedwing"`` (QGC vehicle type).
        firmware: ``"ardupilot"`` or ``"px4"``.
        cruise_speed_m_s: Planned horizontal speed.
        home_source: What the file reader took as home (e.g. ``"row 0 of the QGC WPL file"``), for reports.
    """

    items: tuple[MissionItem, ...]
    home: tuple[float, float, float] | None = None
    fence_polygons: tuple[FencePolygon, ...] = field(default=())
    fence_circles: tuple[FenceCircle, ...] = field(default=())
    rally: tuple[tuple[float, float, float], ...] = field(default=())
    vehicle: str = "multirotor"
    firmware: str = "ardupilot"
    cruise_speed_m_s: float = 5.0
    home_source: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (inverse of :meth:`from_dict`); QGC and WPL files are written by
        :mod:`pipeline.flight`, this is the project's own lossless form."""
        return {
            "items": [i.to_dict() for i in self.items],
            "home": list(self.home) if self.home is not None else None,
            "fence_polygons": [{"vertices": [list(v) for v in f.vertices], "inclusion": f.inclusion}
                               for f in self.fence_polygons],
            "fence_circles": [{"lat": c.lat, "lon": c.lon, "radius_m": c.radius_m, "inclusion": c.inclusion}
                              for c in self.fence_circles],
            "rally": [list(r) for r in self.rally],
            "vehicle": self.vehicle, "firmware": self.firmware, "cruise_speed_m_s": self.cruise_speed_m_s,
            "home_source": self.home_source,
        }

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Mission:
        """Inverse of :meth:`to_dict`."""
        home = doc.get("home")
        return cls(
            items=tuple(MissionItem.from_dict(i) for i in doc.get("items", ())),
            home=(float(home[0]), float(home[1]), float(home[2])) if home else None,
            fence_polygons=tuple(FencePolygon(tuple((float(a), float(b)) for a, b in f["vertices"]),
                                              bool(f.get("inclusion", True))) for f in doc.get("fence_polygons", ())),
            fence_circles=tuple(FenceCircle(float(c["lat"]), float(c["lon"]), float(c["radius_m"]),
                                            bool(c.get("inclusion", True))) for c in doc.get("fence_circles", ())),
            rally=tuple((float(r[0]), float(r[1]), float(r[2])) for r in doc.get("rally", ())),
            vehicle=str(doc.get("vehicle", "multirotor")), firmware=str(doc.get("firmware", "ardupilot")),
            cruise_speed_m_s=float(doc.get("cruise_speed_m_s", 5.0)), home_source=str(doc.get("home_source", "")),
        )
