"""Pure lawnmower (boustrophedon) grid generation over a projected polygon.

Everything here works in metres in a projected CRS; no I/O. The grid angle
``angle_deg`` is the direction of the transects measured counter-clockwise
from east (0 = east-west lanes, 90 = north-south lanes).

How lanes are placed: the area is rotated so that lanes run along x; lanes are
``spacing`` apart and centred on the area's extent across them. Lane *k* is
responsible for the band ``|y − y_k| ≤ spacing/2``; its segments are the x-
extents of the area inside that band, so every part of the area lies in some
band and is photographed (concave parts and holes wider than one band split a
lane into several segments: no transect crosses such a hole). ``keep_out``
polygons (no-fly zones) are cut out of the lane lines strictly.

With ``qgc_lines`` the lanes are placed as QGroundControl's Survey places them
(``SurveyComplexItem::_rebuildTransectsPhase1WorkerSinglePolygon``): lines ``spacing`` apart at
offsets ``−w/2 + k·spacing`` from the centre of the polygon's bounding box in QGC's local
tangent plane, ``w = max(box width, box height) + 2000`` m; fewer than two lines crossing the
area give one transect through the box centre. That is QGC's lane count over the same polygon
(``⌊H/spacing⌋`` or one more, by the phase), where centred lanes give ``⌈H/spacing⌉``. Each
lane still covers its band (the outermost lanes theirs out to the area's edge: the strip of up
to one spacing beyond the outer line is inside the photos' footprint for side overlaps of 50 %
and more), so a transect may run a little beyond QGC's line-polygon crossing where the
boundary slants, and concave gaps, holes and ``keep_out`` are not flown over.

Segments are ordered cell by cell: from one segment the route steps to an
overlapping segment on the next lane (alternating direction); when none is
left it jumps to the nearest unvisited segment.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from shapely import affinity
from shapely.geometry import LineString, Point, box
from shapely.geometry.base import BaseGeometry

XY = tuple[float, float]


@dataclass(frozen=True)
class Segment:
    """One photographed transect, possibly with turnaround extensions.

    Attributes:
        start: Where the camera starts triggering (x, y) metres.
        end: Where it stops.
        lead_in: Turnaround point before ``start`` (equal to ``start`` when none).
        lead_out: Turnaround point after ``end``.
    """

    start: XY
    end: XY
    lead_in: XY
    lead_out: XY

    @property
    def length_m(self) -> float:
        """Photographed length in metres."""
        return math.dist(self.start, self.end)


def _merge(intervals: list[tuple[float, float]], gap: float) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for a, b in sorted(intervals):
        if merged and a <= merged[-1][1] + gap:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def _subtract(intervals: list[tuple[float, float]], cuts: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out = intervals
    for c0, c1 in cuts:
        nxt: list[tuple[float, float]] = []
        for a, b in out:
            if c1 <= a or c0 >= b:
                nxt.append((a, b))
                continue
            if a < c0:
                nxt.append((a, c0))
            if c1 < b:
                nxt.append((c1, b))
        out = nxt
    return out


def _x_extents(geom: BaseGeometry, polygonal: bool = True) -> list[tuple[float, float]]:
    """x-ranges of the parts of ``geom`` (only parts with area when ``polygonal``)."""
    parts = getattr(geom, "geoms", [geom])
    return [(p.bounds[0], p.bounds[2]) for p in parts if not p.is_empty and (p.area > 0 or not polygonal)]


@dataclass(frozen=True)
class QgcLines:
    """Where QGroundControl's Survey puts its lines, in the area's projected CRS.

    Attributes:
        centre: Centre of the polygon's bounding box in QGC's tangent plane, mapped to the projected CRS.
        half_width_m: ``(max(box width, box height) + 2000) / 2`` of that box, m.
    """

    centre: XY
    half_width_m: float


def _qgc_lane_ys(miny: float, maxy: float, centre_y: float, half_width: float, spacing: float) -> list[float]:
    """Rotated-frame y of QGC's lines crossing ``(miny, maxy)``.

    QGC's offset ``o_k = −w/2 + k·s`` from the box centre ``c`` lies at ``y = c + w/2 − k·s`` here.
    """
    ys = []
    k = max(0, math.floor((centre_y + half_width - maxy) / spacing))
    while True:
        y = centre_y + half_width - k * spacing
        if y <= miny or k * spacing >= 2 * half_width:
            break
        if y < maxy:
            ys.append(y)
        k += 1
    return sorted(ys)


def lane_intervals(
    area: BaseGeometry, spacing: float, keep_out: BaseGeometry | None = None, qgc_centre_y: float | None = None,
    qgc_half_width: float = 0.0,
) -> list[tuple[float, list[tuple[float, float]]]]:
    """Lanes of an area whose lanes already run along x: ``[(y, [(x0, x1), ...]), ...]``.

    Args:
        area: Polygon/MultiPolygon in metres, already rotated (lanes along x).
        spacing: Lane spacing in metres (> 0).
        keep_out: Areas no lane may cross (already rotated), or ``None``.
        qgc_centre_y: Rotated-frame y of QGC's box centre: lanes on QGC's lines (see the module doc).
        qgc_half_width: QGC's ``w/2`` for those lines, m.
    """
    if spacing <= 0:
        raise ValueError(f"lane spacing must be positive, got {spacing}")
    minx, miny, maxx, maxy = area.bounds
    if qgc_centre_y is not None:
        ys = _qgc_lane_ys(miny, maxy, qgc_centre_y, qgc_half_width, spacing)
        if len(ys) < 2:  # QGC: one transect through the centre
            ys = [qgc_centre_y if miny < qgc_centre_y < maxy else (miny + maxy) / 2]
    else:
        n = max(1, math.ceil((maxy - miny) / spacing - 1e-9))
        y0 = (miny + maxy) / 2 - (n - 1) * spacing / 2
        ys = [y0 + k * spacing for k in range(n)]
    lanes = []
    for k, y in enumerate(ys):
        low = miny - 1 if k == 0 else y - spacing / 2
        high = maxy + 1 if k == len(ys) - 1 else y + spacing / 2
        piece = area.intersection(box(minx - 1, low, maxx + 1, high))
        intervals = _merge(_x_extents(piece), gap=0.0)
        if keep_out is not None and not keep_out.is_empty:
            hit = keep_out.intersection(LineString([(minx - 1, y), (maxx + 1, y)]))
            intervals = _subtract(intervals, _merge(_x_extents(hit, polygonal=False), gap=0.0))
        lanes.append((y, intervals))
    return lanes


def _gap(here: XY, y: float, interval: tuple[float, float]) -> float:
    return min(math.dist(here, (interval[0], y)), math.dist(here, (interval[1], y)))


def _order(lanes: list[tuple[float, list[tuple[float, float]]]], reverse_lanes: bool, leftward: bool
           ) -> list[tuple[XY, XY]]:
    todo = {(k, j) for k, (_, ivs) in enumerate(lanes) for j in range(len(ivs))}
    if not todo:
        return []
    step = -1 if reverse_lanes else 1
    k = max(k for k, _ in todo) if reverse_lanes else min(k for k, _ in todo)
    first = [jj for kk, jj in todo if kk == k]
    j = max(first, key=lambda jj: lanes[k][1][jj][1]) if leftward else min(first, key=lambda jj: lanes[k][1][jj][0])
    left_to_right = not leftward
    route: list[tuple[XY, XY]] = []
    while True:
        todo.discard((k, j))
        y = lanes[k][0]
        a, b = lanes[k][1][j]
        seg = ((a, y), (b, y)) if left_to_right else ((b, y), (a, y))
        route.append(seg)
        if not todo:
            return route
        here = seg[1]
        nxt = None
        for s in (step, -step):
            cands = [(kk, jj) for kk, jj in todo
                     if kk == k + s and lanes[kk][1][jj][0] <= b and lanes[kk][1][jj][1] >= a]
            if cands:
                nxt = min(cands, key=lambda c: abs(lanes[c[0]][1][c[1]][1 if left_to_right else 0] - here[0]))
                step = s
                break
        if nxt is not None:
            k, j = nxt
            left_to_right = not left_to_right
            continue

        k, j = min(todo, key=lambda c: _gap(here, lanes[c[0]][0], lanes[c[0]][1][c[1]]))
        x0, x1 = lanes[k][1][j]
        left_to_right = math.dist(here, (x0, lanes[k][0])) <= math.dist(here, (x1, lanes[k][0]))


def lawnmower(
    area: BaseGeometry,
    spacing: float,
    angle_deg: float,
    start_near: XY | None = None,
    turnaround_m: float = 0.0,
    keep_out: BaseGeometry | None = None,
    qgc_lines: QgcLines | None = None,
) -> list[Segment]:
    """Ordered transects covering ``area`` (projected metres).

    Args:
        area: Polygon or MultiPolygon to cover (holes allowed), metres.
        spacing: Lane spacing, metres.
        angle_deg: Lane direction, degrees counter-clockwise from east.
        start_near: The route starts at the corner nearest this point (e.g. home);
            ``None`` starts at the lowest lane's left end.
        turnaround_m: Straight run-in/run-out added at both ends of a transect
            (not added where it would enter ``keep_out``).
        keep_out: Polygons no transect or turnaround may enter.
        qgc_lines: Place the lanes on QGroundControl's lines (see the module doc); ``None``: band rule.

    Returns:
        Segments in flying order, in the input coordinates.
    """
    origin = area.centroid
    rot = affinity.rotate(area, -angle_deg, origin=origin)
    rot_keep = affinity.rotate(keep_out, -angle_deg, origin=origin) if keep_out is not None else None
    if qgc_lines is not None:
        centre = affinity.rotate(Point(qgc_lines.centre), -angle_deg, origin=origin)
        lanes = lane_intervals(rot, spacing, rot_keep, float(centre.y), qgc_lines.half_width_m)
    else:
        lanes = lane_intervals(rot, spacing, rot_keep)
    start_rot = None
    if start_near is not None:
        p = affinity.rotate(Point(start_near), -angle_deg, origin=origin)
        start_rot = (p.x, p.y)
    options = [_order(lanes, rev, left) for rev in (False, True) for left in (False, True)]
    options = [o for o in options if o]
    if not options:
        return []
    route = min(options, key=lambda r: math.dist(r[0][0], start_rot)) if start_rot else options[0]
    theta = math.radians(angle_deg)
    cos_t, sin_t = math.cos(theta), math.sin(theta)
    ox, oy = origin.x, origin.y

    def back(x: float, y: float) -> XY:
        dx, dy = x - ox, y - oy
        return (ox + dx * cos_t - dy * sin_t, oy + dx * sin_t + dy * cos_t)

    segments = []
    for (x0, y0), (x1, y1) in route:
        sign = 1.0 if x1 >= x0 else -1.0
        lead_in, lead_out = (x0 - sign * turnaround_m, y0), (x1 + sign * turnaround_m, y1)
        if rot_keep is not None and turnaround_m > 0:
            if LineString([lead_in, (x0, y0)]).intersects(rot_keep):
                lead_in = (x0, y0)
            if LineString([(x1, y1), lead_out]).intersects(rot_keep):
                lead_out = (x1, y1)
        segments.append(Segment(back(x0, y0), back(x1, y1), back(*lead_in), back(*lead_out)))
    return segments


def route_points(segments: list[Segment]) -> list[XY]:
    """The flown polyline through all segments (lead-in, start, end, lead-out each)."""
    pts: list[XY] = []
    for s in segments:
        for p in (s.lead_in, s.start, s.end, s.lead_out):
            if not pts or math.dist(pts[-1], p) > 1e-6:
                pts.append(p)
    return pts
