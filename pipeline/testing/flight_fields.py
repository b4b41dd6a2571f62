"""Synthetic field polygons (seeded) for tests, the benchmark and the examples.

Local coordinates are metres east/north of an origin on a tangent plane
(``1° lat = 111 320 m``, ``1° lon = 111 320 m · cos(lat0)``): plenty for
fields of a few hundred metres.
"""

from __future__ import annotations

import math

import numpy as np
from shapely.geometry import Polygon

#: Kubokawa, Shimanto town (lat, lon).
KUBOKAWA = (33.20, 133.14)
M_PER_DEG_LAT = 111_320.0


def local_to_lonlat(points: list[tuple[float, float]], origin: tuple[float, float] = KUBOKAWA
                    ) -> list[tuple[float, float]]:
    """Metres east/north of ``origin`` (lat, lon) to (lon, lat) degrees."""
    lat0, lon0 = origin
    m_per_deg_lon = M_PER_DEG_LAT * math.cos(math.radians(lat0))
    return [(lon0 + x / m_per_deg_lon, lat0 + y / M_PER_DEG_LAT) for x, y in points]


def polygon_ll(shell_m: list[tuple[float, float]], holes_m: list[list[tuple[float, float]]] | None = None,
               origin: tuple[float, float] = KUBOKAWA) -> Polygon:
    """A WGS84 (lon, lat) polygon from local metre coordinates."""
    return Polygon(local_to_lonlat(shell_m, origin), [local_to_lonlat(h, origin) for h in holes_m or []])


def irregular_field_m(rng: np.random.Generator, n_vertices: int = 9, r_min: float = 60.0, r_max: float = 250.0,
                      elongation: float = 2.5) -> Polygon:
    """A random star-shaped (often concave) field in local metres, stretched and rotated at random."""
    angles = np.sort(rng.uniform(0, 2 * math.pi, n_vertices))
    radii = rng.uniform(r_min, r_max, n_vertices)
    stretch = rng.uniform(1.0, elongation)
    theta = rng.uniform(0, math.pi)
    xs, ys = radii * np.cos(angles) * stretch, radii * np.sin(angles)
    c, s = math.cos(theta), math.sin(theta)
    pts = [(float(x * c - y * s), float(x * s + y * c)) for x, y in zip(xs, ys, strict=True)]
    poly = Polygon(pts)
    return poly if poly.is_valid else poly.convex_hull
