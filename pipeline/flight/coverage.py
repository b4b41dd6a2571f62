"""Photo positions and footprints derived from mission items alone.

Camera model (ArduPilot ``DO_SET_CAM_TRIGG_DIST``, ``AP_Mission::start_command_camera``
and ``AP_Camera_Backend``): with ``param1 = d > 0`` the camera fires every ``d`` metres
travelled; ``param3 = 1`` also fires once immediately. ``param1 = 0`` stops triggering
(with ``param3 = 1``: one last photo, which ArduPilot does not take when it comes within
:data:`MERGE_M` of the previous shot: the servo shutter of that shot is still held, as
observed in ArduCopter SITL). A DO command takes effect where the previous NAV waypoint
is reached.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pyproj import CRS, Transformer
from shapely.geometry import Polygon
from shapely.ops import unary_union

from pipeline.core.mission import Cmd, Mission

#: An immediate shot this close (m) after the previous one is not taken (see the module doc).
MERGE_M = 1.0


@dataclass(frozen=True)
class Photo:
    """One photo: centre (x, y) in the projected CRS and the heading of travel (radians from +x)."""

    x: float
    y: float
    heading_rad: float


def photos_from_mission(mission: Mission, crs: CRS) -> list[Photo]:
    """Photo centres of ``mission`` in ``crs`` (projected, metres), from its items alone."""
    fwd = Transformer.from_crs(CRS.from_epsg(4326), crs, always_xy=True)
    photos: list[Photo] = []
    here: tuple[float, float] | None = None
    heading = 0.0
    spacing = 0.0
    travelled = 0.0
    for item in mission.items:
        if item.command == int(Cmd.DO_SET_CAM_TRIGG_DIST):
            spacing = float(item.params[0])
            merged = bool(photos) and here is not None and math.dist((photos[-1].x, photos[-1].y), here) < MERGE_M
            if here is not None and item.params[2] == 1.0 and not merged:
                photos.append(Photo(here[0], here[1], heading))
            travelled = 0.0
            continue
        if not item.is_nav or (item.lat == 0.0 and item.lon == 0.0):
            continue
        x, y = fwd.transform(item.lon, item.lat)
        if here is not None:
            leg = math.dist(here, (x, y))
            if leg > 1e-9:
                heading = math.atan2(y - here[1], x - here[0])
                if spacing > 0:
                    s = spacing - travelled
                    while s <= leg + 1e-9:
                        f = s / leg
                        photos.append(Photo(here[0] + (x - here[0]) * f, here[1] + (y - here[1]) * f, heading))
                        s += spacing
                    travelled = leg - (s - spacing)
        here = (x, y)
    return photos


def footprint_polygon(photo: Photo, side_m: float, front_m: float) -> Polygon:
    """The ground rectangle of one photo: ``front_m`` along the heading, ``side_m`` across."""
    c, s = math.cos(photo.heading_rad), math.sin(photo.heading_rad)
    hf, hs = front_m / 2.0, side_m / 2.0
    corners = [(hf, hs), (-hf, hs), (-hf, -hs), (hf, -hs)]
    return Polygon([(photo.x + a * c - b * s, photo.y + a * s + b * c) for a, b in corners])


def coverage_fraction(area: Polygon, photos: list[Photo], side_m: float, front_m: float) -> float:
    """Share of ``area`` (0-1) inside at least one photo footprint."""
    if area.area <= 0:
        return 1.0
    if not photos:
        return 0.0
    covered = unary_union([footprint_polygon(p, side_m, front_m) for p in photos])
    return float(area.intersection(covered).area / area.area)


def segment_photos(segments: list[tuple[tuple[float, float], tuple[float, float]]], spacing_m: float) -> list[Photo]:
    """Photos of straight transects flown with distance triggering: at the start, every ``spacing_m``, at the end."""
    photos: list[Photo] = []
    for (x0, y0), (x1, y1) in segments:
        length = math.dist((x0, y0), (x1, y1))
        heading = math.atan2(y1 - y0, x1 - x0) if length > 1e-9 else 0.0
        n = int(length // spacing_m) if spacing_m > 0 else 0
        for k in range(n + 1):
            f = k * spacing_m / length if length > 1e-9 else 0.0
            photos.append(Photo(x0 + (x1 - x0) * f, y0 + (y1 - y0) * f, heading))
        if length > 1e-9:
            photos.append(Photo(x1, y1, heading))
    return photos
