"""Field geometry for scouting: where to walk, which direction, how far from the centre.

All functions take metric (projected) shapely geometries; no I/O.
"""

from __future__ import annotations

import math

from shapely.geometry import MultiPolygon, Point
from shapely.geometry.base import BaseGeometry
from shapely.ops import polylabel


def scouting_point(area: BaseGeometry) -> Point:
    """A point to walk to inside ``area``: its centroid when inside, else ``representative_point()``.

    The centroid of a crescent or ring can fall outside the area; the representative point is
    guaranteed to lie within it.
    """
    centroid = area.centroid
    return centroid if area.contains(centroid) else area.representative_point()


def bearing_deg(origin: Point, target: Point) -> float:
    """Bearing from ``origin`` to ``target`` in degrees clockwise from grid north (0-360).

    ``atan2(dx, dy)`` on projected easting/northing; grid north differs from true north by the
    meridian convergence (about 1.1° at Shimanto in UTM 53N), negligible for 8 compass words.
    """
    return math.degrees(math.atan2(target.x - origin.x, target.y - origin.y)) % 360.0


def equivalent_radius_m(field: BaseGeometry) -> float:
    """Radius of the circle with the field's area, ``sqrt(area / pi)`` (metres)."""
    return math.sqrt(max(field.area, 1e-9) / math.pi)


def inscribed_radius_m(field: BaseGeometry) -> float:
    """Radius of the largest circle inside the field (distance of its pole of inaccessibility to the edge)."""
    pole = polylabel(field, tolerance=max(0.1, equivalent_radius_m(field) / 50.0))
    return max(float(pole.distance(field.boundary)), 1e-9)


def relative_position(field: BaseGeometry, spot: Point) -> tuple[float, float, float]:
    """Where ``spot`` lies in ``field``.

    Returns:
        ``(bearing, centre_fraction, edge_depth)``: bearing from the centroid (degrees from north),
        distance from the centroid / equivalent radius, and distance to the field edge / inscribed
        radius (0 on the edge, 1 at the most central point).
    """
    field = field.buffer(0)
    if isinstance(field, MultiPolygon):
        field = max(field.geoms, key=lambda g: g.area)
    centre = field.centroid
    depth = spot.distance(field.boundary) / inscribed_radius_m(field)
    return bearing_deg(centre, spot), centre.distance(spot) / equivalent_radius_m(field), min(1.0, depth)


def nice_scale_length(width_m: float) -> float:
    """A round scale-bar length near a quarter of ``width_m`` (1, 2, 5 × 10^k metres)."""
    target = max(width_m / 4.0, 1e-6)
    power = 10 ** math.floor(math.log10(target))
    return max(m * power for m in (1, 2, 5) if m * power <= target) if target >= power else power
