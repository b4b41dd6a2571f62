"""Survey grid angles as QGroundControl users think of them, and the planner's projected-grid angle.

QGroundControl's Survey ``angle`` (``SurveyComplexItem``, "Angle") is the direction of the
transects in degrees clockwise from true north (0 = north-south lanes, 90 = east-west), taken
on a local tangent plane (``convertGeoToNed``). The planner works in a projected CRS (UTM),
whose grid north differs from true north by the grid convergence (about 1° at Shimanto in
zone 53N). Conversions go through the geodesic, so the convergence is exact:

* :func:`grid_angle_deg`: QGC angle → lane direction in the projected CRS, degrees
  counter-clockwise from the grid's +x (east) axis;
* :func:`qgc_angle_deg`: the inverse, normalised to [0, 180) since lanes run both ways.
"""

from __future__ import annotations

import math

from pyproj import CRS, Geod, Transformer
from shapely.geometry import Polygon

from pipeline.common.geo import WGS84
from pipeline.flight.grid import QgcLines

_GEOD = Geod(ellps="WGS84")
_STEP_M = 100.0


def grid_angle_deg(qgc_deg: float, crs: CRS, lon: float, lat: float) -> float:
    """Lane direction in ``crs`` (degrees CCW from grid east) of QGC angle ``qgc_deg`` at ``(lon, lat)``."""
    lon2, lat2, _ = _GEOD.fwd(lon, lat, qgc_deg, _STEP_M)
    fwd = Transformer.from_crs(WGS84, crs, always_xy=True)
    x1, y1 = fwd.transform(lon, lat)
    x2, y2 = fwd.transform(lon2, lat2)
    return math.degrees(math.atan2(y2 - y1, x2 - x1)) % 360.0


def qgc_angle_deg(grid_deg: float, crs: CRS, x: float, y: float) -> float:
    """QGC angle (clockwise from true north, in [0, 180)) of lanes running ``grid_deg`` CCW from grid east
    at ``(x, y)``."""
    inv = Transformer.from_crs(crs, WGS84, always_xy=True)
    lon1, lat1 = inv.transform(x, y)
    lon2, lat2 = inv.transform(x + _STEP_M * math.cos(math.radians(grid_deg)),
                               y + _STEP_M * math.sin(math.radians(grid_deg)))
    azimuth, _, _ = _GEOD.inv(lon1, lat1, lon2, lat2)
    return float(azimuth % 180.0)


def qgc_lines(field_lonlat: Polygon, crs: CRS) -> QgcLines:
    """QGC Survey's line placement for ``field_lonlat`` (WGS84 lon/lat) mapped into ``crs``.

    QGC converts the polygon to a local tangent plane at its first vertex (``convertGeoToNed``,
    GeographicLib ``LocalCartesian``; here an ellipsoidal orthographic projection, equal to
    within millimetres over a field), takes the bounding box and puts its lines at offsets
    ``−w/2 + k·spacing`` from the box centre, ``w = max(width, height) + 2000`` m.
    """
    lon0, lat0 = field_lonlat.exterior.coords[0][:2]
    tangent = CRS.from_proj4(f"+proj=ortho +lat_0={lat0} +lon_0={lon0} +ellps=WGS84 +units=m")
    to_tangent = Transformer.from_crs(WGS84, tangent, always_xy=True)
    xs, ys = zip(*(to_tangent.transform(x, y) for x, y in list(field_lonlat.exterior.coords)[:-1]), strict=True)
    cx, cy = (min(xs) + max(xs)) / 2.0, (min(ys) + max(ys)) / 2.0
    half = (max(max(xs) - min(xs), max(ys) - min(ys)) + 2000.0) / 2.0
    lon_c, lat_c = Transformer.from_crs(tangent, WGS84, always_xy=True).transform(cx, cy)
    x, y = Transformer.from_crs(WGS84, crs, always_xy=True).transform(lon_c, lat_c)
    return QgcLines((float(x), float(y)), half)
