"""The pattern registry: pattern name -> generator that lays out one sector per drone.

Every generator takes a :class:`LayoutRequest` (projected metres) and returns
one :class:`SectorLayout` per drone. Area patterns split the area's rows among
the drones with balanced flight time (:func:`pipeline.search.timing.balanced_groups`);
datum patterns give every drone the same pattern rotated (IAMSAR: a second unit
flies the pattern rotated 45 deg for a square, 30 deg for a sector), so their
tracks interleave and together close the gaps between radials.
"""

from __future__ import annotations

import contextlib
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from shapely.geometry import LineString, Polygon, box
from shapely.geometry import Point as ShapelyPoint
from shapely.geometry.base import BaseGeometry

from pipeline.errors import InputError, unknown_name
from pipeline.search.patterns import (
    Point,
    Row,
    SearchPath,
    TrackFrame,
    area_rows,
    expanding_square,
    lawnmower,
    long_axis_angle,
    sector_copies_needed,
    sector_search,
)
from pipeline.search.timing import TimeModel, balanced_groups, path_time_s


@dataclass(frozen=True)
class LayoutRequest:
    """Inputs of a pattern generator (projected CRS, metres).

    Attributes:
        area: Search area polygon.
        datum: Last known position (datum patterns), defaults to the area centroid upstream.
        launches: Take-off/landing points: one shared by every drone, or one per drone
            (each sector then gets the launch point that minimises the total transit).
        spacing_m: Track spacing S.
        swath_m: Footprint width across track.
        height_m: Search height above ground.
        drones: Number of drones.
        radius_m: Datum patterns: radius to search (None = reach the whole area).
        model: Flight time model.
    """

    area: Polygon
    datum: Point
    launches: tuple[Point, ...]
    spacing_m: float
    swath_m: float
    height_m: float
    drones: int
    radius_m: float | None
    model: TimeModel


@dataclass(frozen=True)
class SectorLayout:
    """One drone's share: the region it searches, its path and its launch point (world coordinates)."""

    index: int
    region: BaseGeometry
    path: SearchPath
    launch: Point


def _rows_time(req: LayoutRequest, frame: TrackFrame, rows: Sequence[Row]) -> float:
    """Flight time of ``rows`` from the best of the launch points."""
    return min(path_time_s(lawnmower(rows, frame, p), p, req.height_m, req.model) for p in req.launches)


def _assign_launches(req: LayoutRequest, cost: Callable[[int, int], float], n: int) -> list[int]:
    """Launch index per sector: all 0 for one launch, else the permutation with the least total time."""
    if len(req.launches) == 1:
        return [0] * n
    table = [[cost(i, j) for j in range(len(req.launches))] for i in range(n)]

    def score(perm: tuple[int, ...]) -> tuple[float, float]:
        times = [table[i][j] for i, j in enumerate(perm)]
        return (max(times), sum(times))

    best = min(itertools.permutations(range(len(req.launches)), n), key=score, default=None)  # first of equals
    assert best is not None
    return list(best)


def _finish(req: LayoutRequest, frame: TrackFrame, groups: list[tuple[BaseGeometry, list[Row]]]) -> list[SectorLayout]:
    """Sectors from (region, rows) groups, each flown from its assigned launch point."""

    def cost(i: int, j: int) -> float:
        launch = req.launches[j]
        return path_time_s(lawnmower(groups[i][1], frame, launch), launch, req.height_m, req.model)

    chosen = _assign_launches(req, cost, len(groups))
    return [
        SectorLayout(i, region, lawnmower(rows, frame, req.launches[chosen[i]]), req.launches[chosen[i]])
        for i, (region, rows) in enumerate(groups)
    ]


def _row_split(req: LayoutRequest, frame: TrackFrame, local: BaseGeometry) -> list[SectorLayout]:
    """Whole rows dealt out in contiguous groups (cuts parallel to the tracks)."""
    rows = area_rows(local, req.spacing_m, req.swath_m, merge_gap=2.0 * req.spacing_m)
    groups = balanced_groups(len(rows), req.drones, lambda a, b: _rows_time(req, frame, rows[a:b]))
    umin, vmin, umax, vmax = local.bounds
    out: list[tuple[BaseGeometry, list[Row]]] = []
    for a, b in groups:
        low = vmin - req.swath_m if a == 0 else (rows[a - 1].v + rows[a].v) / 2.0
        high = vmax + req.swath_m if b == len(rows) else (rows[b - 1].v + rows[b].v) / 2.0
        band = frame.geometry_to_world(box(umin - 10.0, low, umax + 10.0, high))
        out.append((req.area.intersection(band), list(rows[a:b])))
    return _finish(req, frame, out)


def _slab(req: LayoutRequest, frame: TrackFrame, local: BaseGeometry, u0: float, u1: float
          ) -> tuple[BaseGeometry, list[Row]] | None:
    """The part of the area with ``u0 <= u <= u1`` (world) and its rows (None when empty)."""
    _, vmin, _, vmax = local.bounds
    piece = local.intersection(box(u0, vmin - 1.0, u1, vmax + 1.0))
    if piece.is_empty or piece.area <= 1.0:
        return None
    rows = area_rows(piece, req.spacing_m, req.swath_m, merge_gap=2.0 * req.spacing_m)
    return (frame.geometry_to_world(piece), rows) if rows else None


def _slab_time(req: LayoutRequest, frame: TrackFrame, slab: tuple[BaseGeometry, list[Row]] | None) -> float:
    return 0.0 if slab is None else _rows_time(req, frame, slab[1])


def _cross_split(req: LayoutRequest, frame: TrackFrame, local: BaseGeometry, steps: int = 12) -> list[SectorLayout]:
    """Cuts across the tracks at positions found by bisection on the target sector time.

    For a target ``T`` each cut is pushed as far along the tracks as keeps its
    sector within ``T``; ``T`` is bisected until the last sector fits too.
    """
    umin, _, umax, _ = local.bounds
    lo_t, hi_t = 0.0, _slab_time(req, frame, _slab(req, frame, local, umin, umax))
    best: list[float] | None = None
    for _ in range(steps):
        target = (lo_t + hi_t) / 2.0
        cuts = [umin]
        for _k in range(req.drones - 1):
            lo_u, hi_u = cuts[-1], umax
            for _j in range(steps):
                mid = (lo_u + hi_u) / 2.0
                if _slab_time(req, frame, _slab(req, frame, local, cuts[-1], mid)) <= target:
                    lo_u = mid
                else:
                    hi_u = mid
            cuts.append(lo_u)
        if _slab_time(req, frame, _slab(req, frame, local, cuts[-1], umax)) <= target:
            hi_t, best = target, cuts
        else:
            lo_t = target
    if best is None:
        best = [umin + (umax - umin) * k / req.drones for k in range(req.drones)]
    bounds = [*best, umax]
    groups = []
    for index in range(req.drones):
        slab = _slab(req, frame, local, bounds[index], bounds[index + 1])
        if slab is None:
            return []
        groups.append(slab)
    return _finish(req, frame, groups)


def _area_layout(req: LayoutRequest, angle_deg: float) -> list[SectorLayout]:
    """Split the area both ways (whole rows; cuts across the tracks) and keep the shorter longest sector."""
    centroid = req.area.centroid
    frame = TrackFrame(angle_deg, (centroid.x, centroid.y))
    local = frame.geometry_to_local(req.area)
    if req.drones == 1:
        return _row_split(req, frame, local)
    candidates = []
    with contextlib.suppress(InputError):  # fewer rows than drones: only cuts across the tracks can work
        candidates.append(_row_split(req, frame, local))
    across = _cross_split(req, frame, local)
    if across:
        candidates.append(across)
    if not candidates:
        raise InputError(f"cannot split the area into {req.drones} sectors; use fewer drones or a larger area")

    def score(layout: list[SectorLayout]) -> tuple[float, float]:
        times = [path_time_s(s.path, s.launch, req.height_m, req.model) for s in layout]
        return (max(times), -min(times))

    return min(candidates, key=score)


def parallel_track(req: LayoutRequest) -> list[SectorLayout]:
    """Parallel track search: legs along the area's long side."""
    return _area_layout(req, long_axis_angle(req.area))


def creeping_line(req: LayoutRequest) -> list[SectorLayout]:
    """Creeping line search: legs along the area's short side, advancing along its long axis."""
    return _area_layout(req, (long_axis_angle(req.area) + 90.0) % 180.0)


def _datum_radius(req: LayoutRequest) -> float:
    if req.radius_m is not None:
        return req.radius_m
    return max(math.dist(req.datum, p) for p in req.area.exterior.coords)


def _datum_region(req: LayoutRequest, radius: float) -> BaseGeometry:
    return req.area.intersection(ShapelyPoint(req.datum).buffer(radius, 64))


def _datum_sectors(req: LayoutRequest, region: BaseGeometry, paths: list[SearchPath]) -> list[SectorLayout]:
    def cost(i: int, j: int) -> float:
        return path_time_s(paths[i], req.launches[j], req.height_m, req.model)

    chosen = _assign_launches(req, cost, len(paths))
    return [SectorLayout(i, region, p, req.launches[chosen[i]]) for i, p in enumerate(paths)]


def expanding_square_layout(req: LayoutRequest) -> list[SectorLayout]:
    """Expanding square: drone ``i`` starts with bearing ``i * 90 / N`` deg."""
    radius = _datum_radius(req)
    region = _datum_region(req, radius)
    paths = [expanding_square(req.datum, req.spacing_m, radius, first_bearing=i * 90.0 / req.drones)
             for i in range(req.drones)]
    return _datum_sectors(req, region, paths)


def sector_layout(req: LayoutRequest) -> list[SectorLayout]:
    """Sector search: ``k`` copies (rounded up to a multiple of N) rotated by ``60 / k`` deg, dealt out round-robin."""
    radius = _datum_radius(req)
    region = _datum_region(req, radius)
    copies = math.ceil(sector_copies_needed(req.spacing_m, radius) / req.drones) * req.drones
    step = 60.0 / copies
    paths = [sector_search(req.datum, radius, [j * step for j in range(i, copies, req.drones)])
             for i in range(req.drones)]
    return _datum_sectors(req, region, paths)


@dataclass(frozen=True)
class PatternSpec:
    """A registry entry: ``kind`` is ``area`` (coverage of a polygon) or ``datum`` (around a point)."""

    name: str
    kind: str
    description: str
    generate: Callable[[LayoutRequest], list[SectorLayout]]


PATTERNS: dict[str, PatternSpec] = {
    spec.name: spec
    for spec in (
        PatternSpec("parallel", "area", "parallel track (PS): legs along the area's long side", parallel_track),
        PatternSpec(
            "creeping-line",
            "area",
            "creeping line (CS): legs along the short side, creeping along the long axis (river)",
            creeping_line,
        ),
        PatternSpec("expanding-square", "datum", "expanding square (SS) around the datum", expanding_square_layout),
        PatternSpec("sector", "datum", "sector search (VS) around the datum", sector_layout),
    )
}


def get_pattern(name: str) -> PatternSpec:
    """The :class:`PatternSpec` called ``name``."""
    if name not in PATTERNS:
        raise unknown_name("search pattern", name, list(PATTERNS))
    return PATTERNS[name]


def leg_footprint(leg: LineString, swath_m: float, along_m: float) -> BaseGeometry:
    """Ground seen along one straight leg: the leg stretched by ``along/2`` at both ends, ``swath`` wide.

    The camera footprint (``swath`` across x ``along`` in the flight direction)
    is centred on the drone, so at each end of a leg it still reaches half a
    footprint length beyond the waypoint.
    """
    (x0, y0), (x1, y1) = leg.coords[0], leg.coords[-1]
    length = math.dist((x0, y0), (x1, y1))
    if length == 0:
        return LineString()
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    h = along_m / 2.0
    stretched = LineString([(x0 - ux * h, y0 - uy * h), (x1 + ux * h, y1 + uy * h)])
    return stretched.buffer(swath_m / 2.0, cap_style="flat")


def footprint_coverage(region: BaseGeometry, paths: list[SearchPath], swath_m: float, along_m: float = 0.0) -> float:
    """Fraction of ``region`` inside the union of the search legs' camera footprints.

    Args:
        region: Area that should be seen (projected).
        paths: The drones' paths.
        swath_m: Footprint width across the track.
        along_m: Footprint length along the track (0: count only the legs themselves).
    """
    from shapely.ops import unary_union

    if region.is_empty or region.area <= 0:
        return 0.0
    strips = [leg_footprint(leg, swath_m, along_m) for path in paths for leg in path.legs()]
    if not strips:
        return 0.0
    return float(region.intersection(unary_union(strips)).area / region.area)
