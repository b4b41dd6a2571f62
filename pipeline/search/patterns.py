"""IAMSAR search patterns as pure geometry in a projected CRS (metres).

Area patterns (IAMSAR Manual Vol. II, ch. 5):

* ``parallel`` — parallel track / sweep search (PS): legs parallel to the area's
  **long** side (fewest turns), spaced S apart.
* ``creeping-line`` — creeping line search (CS): legs parallel to the area's
  **short** side, so the search creeps along the long axis (for a riverside
  strip: across the river, advancing along it — where a person swept away is
  most likely near the river axis and downstream).

Datum patterns around a last known position:

* ``expanding-square`` (SS): legs S, S, 2S, 2S, 3S, ... turning 90 deg right.
* ``sector`` (VS): 9 legs of radius R with 120 deg right turns (radials 60 deg
  apart); extra copies rotated by 60/k deg until the gap at R is <= S.

An area is searched row by row: row ``i`` is the line ``v = c_i`` in a frame
whose ``u`` axis runs along the tracks; its legs span the ``u`` extent of the
area inside the swath strip ``|v - c_i| <= swath/2``, so the rectangular
footprints cover every point of the area when ``S <= swath``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from shapely.affinity import rotate, translate
from shapely.geometry import LineString, Polygon, box
from shapely.geometry.base import BaseGeometry

Point = tuple[float, float]


@dataclass(frozen=True)
class TrackFrame:
    """A rotated frame: ``u`` along the tracks at ``angle_deg`` (counter-clockwise from east), ``v`` across."""

    angle_deg: float
    origin: Point

    def to_local(self, x: float, y: float) -> Point:
        """World (easting, northing) to (u, v)."""
        a = math.radians(self.angle_deg)
        dx, dy = x - self.origin[0], y - self.origin[1]
        return (dx * math.cos(a) + dy * math.sin(a), -dx * math.sin(a) + dy * math.cos(a))

    def to_world(self, u: float, v: float) -> Point:
        """(u, v) back to world (easting, northing)."""
        a = math.radians(self.angle_deg)
        return (self.origin[0] + u * math.cos(a) - v * math.sin(a), self.origin[1] + u * math.sin(a) + v * math.cos(a))

    def geometry_to_local(self, geom: BaseGeometry) -> BaseGeometry:
        """Transform a shapely geometry into the local frame."""
        moved = translate(geom, -self.origin[0], -self.origin[1])
        return rotate(moved, -self.angle_deg, origin=(0.0, 0.0))

    def geometry_to_world(self, geom: BaseGeometry) -> BaseGeometry:
        """Transform a shapely geometry from the local frame back to the world."""
        return translate(rotate(geom, self.angle_deg, origin=(0.0, 0.0)), self.origin[0], self.origin[1])


@dataclass(frozen=True)
class Row:
    """One track line: cross-track offset ``v`` and the along-track intervals flown on it."""

    v: float
    intervals: tuple[tuple[float, float], ...]

    @property
    def length(self) -> float:
        """Sum of the interval lengths, m."""
        return sum(b - a for a, b in self.intervals)


@dataclass(frozen=True)
class SearchPath:
    """A flight path in world coordinates.

    Attributes:
        points: Vertices (easting, northing), m.
        searching: One flag per segment: True when the segment is a search leg.
    """

    points: tuple[Point, ...]
    searching: tuple[bool, ...]

    @property
    def length_m(self) -> float:
        """Total path length, m."""
        return sum(math.dist(a, b) for a, b in zip(self.points, self.points[1:], strict=False))

    @property
    def turns(self) -> int:
        """Number of vertices where the vehicle changes direction (excludes both ends)."""
        return max(len(self.points) - 2, 0)

    def legs(self) -> list[LineString]:
        """The search legs as line strings (world coordinates)."""
        return [
            LineString([a, b])
            for (a, b), flag in zip(zip(self.points, self.points[1:], strict=False), self.searching, strict=False)
            if flag and a != b
        ]


def long_axis_angle(area: Polygon) -> float:
    """Angle (deg, counter-clockwise from east) of the long side of the area's minimum rotated rectangle."""
    rect = area.minimum_rotated_rectangle
    coords = list(rect.exterior.coords) if isinstance(rect, Polygon) else list(area.exterior.coords)
    (x0, y0), (x1, y1), (x2, y2) = coords[0], coords[1], coords[2]
    side_a, side_b = math.dist((x0, y0), (x1, y1)), math.dist((x1, y1), (x2, y2))
    dx, dy = (x1 - x0, y1 - y0) if side_a >= side_b else (x2 - x1, y2 - y1)
    return math.degrees(math.atan2(dy, dx)) % 180.0


def row_offsets(vmin: float, vmax: float, spacing: float) -> list[float]:
    """Cross-track offsets of ``ceil(width / S)`` rows centred on ``[vmin, vmax]`` (at least one)."""
    width = vmax - vmin
    n = max(1, math.ceil(width / spacing - 1e-9))
    first = vmin + (width - (n - 1) * spacing) / 2.0
    return [first + i * spacing for i in range(n)]


def area_rows(area_local: BaseGeometry, spacing: float, swath: float, merge_gap: float) -> list[Row]:
    """Rows covering ``area_local`` (already in the track frame).

    Each row's intervals are the ``u`` extents of the area inside the strip
    ``|v - c| <= swath / 2``; intervals separated by less than ``merge_gap`` are
    merged (flying across a small gap beats an extra turn).
    """
    umin, vmin, umax, vmax = area_local.bounds
    rows = []
    for v in row_offsets(vmin, vmax, spacing):
        piece = area_local.intersection(box(umin - 1.0, v - swath / 2.0, umax + 1.0, v + swath / 2.0))
        parts = getattr(piece, "geoms", [piece])
        spans = sorted((g.bounds[0], g.bounds[2]) for g in parts if not g.is_empty and g.area > 0)
        merged: list[list[float]] = []
        for a, b in spans:
            if merged and a - merged[-1][1] <= merge_gap:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        if merged:
            rows.append(Row(v, tuple((a, b) for a, b in merged)))
    return rows


def order_rows(rows: Sequence[Row], start_from_top: bool, start_reversed: bool) -> list[tuple[Point, Point]]:
    """Boustrophedon order of the rows' legs in the local frame: ``[(start, end), ...]``."""
    ordered = list(reversed(rows)) if start_from_top else list(rows)
    legs: list[tuple[Point, Point]] = []
    for i, row in enumerate(ordered):
        backwards = (i % 2 == 1) != start_reversed
        spans = list(reversed(row.intervals)) if backwards else list(row.intervals)
        for a, b in spans:
            legs.append(((b, row.v), (a, row.v)) if backwards else ((a, row.v), (b, row.v)))
    return legs


def lawnmower(rows: Sequence[Row], frame: TrackFrame, launch: Point) -> SearchPath:
    """Fly ``rows`` back and forth, starting at the corner that minimises transit from and back to ``launch``."""
    best: tuple[float, list[tuple[Point, Point]]] | None = None
    for top in (False, True):
        for rev in (False, True):
            legs = order_rows(rows, top, rev)
            first, last = frame.to_world(*legs[0][0]), frame.to_world(*legs[-1][1])
            cost = math.dist(launch, first) + math.dist(last, launch)
            if best is None or cost < best[0] - 1e-9:
                best = (cost, legs)
    assert best is not None
    points: list[Point] = []
    searching: list[bool] = []
    for start, end in best[1]:
        if points:
            searching.append(False)
        points.extend([frame.to_world(*start), frame.to_world(*end)])
        searching.append(True)
    return SearchPath(tuple(points), tuple(searching))


def _walk(start: Point, moves: Sequence[tuple[float, float]]) -> SearchPath:
    """Path from ``start`` along ``(bearing_deg_from_north, length_m)`` moves, all searching."""
    points = [start]
    for bearing, length in moves:
        b = math.radians(bearing)
        x, y = points[-1]
        points.append((x + length * math.sin(b), y + length * math.cos(b)))
    return SearchPath(tuple(points), tuple(True for _ in moves))


def expanding_square(datum: Point, spacing: float, radius: float, first_bearing: float = 0.0) -> SearchPath:
    """Expanding square (SS) from ``datum`` until a square of half-side ``radius`` is swept.

    Legs are S, S, 2S, 2S, ..., nS, nS, nS with ``n = ceil(2R / S) + 1``; each turn is 90 deg right.
    """
    n = math.ceil(2.0 * radius / spacing) + 1
    lengths = [((i // 2) + 1) * spacing for i in range(2 * n)] + [n * spacing]
    return _walk(datum, [((first_bearing + 90.0 * i) % 360.0, L) for i, L in enumerate(lengths)])


def sector_copies_needed(spacing: float, radius: float) -> int:
    """Rotated sector patterns so that radials at ``radius`` are at most ``spacing`` apart."""
    if spacing >= radius:
        return 1
    step = math.degrees(2.0 * math.asin(min(1.0, spacing / (2.0 * radius))))
    return max(1, math.ceil(60.0 / step))


def sector_search(datum: Point, radius: float, bearings: Sequence[float]) -> SearchPath:
    """Sector search (VS): one 9-leg pattern of radius ``radius`` per first-leg bearing, all back at ``datum``.

    Legs (right turns of 120 deg): R out, R cross, 2R through datum, R cross, 2R, R cross, R home.
    """
    moves: list[tuple[float, float]] = []
    for b0 in bearings:
        lengths = (radius, radius, 2 * radius, radius, 2 * radius, radius, radius)
        moves.extend(((b0 + 120.0 * i) % 360.0, L) for i, L in enumerate(lengths))
    return _walk(datum, moves)
