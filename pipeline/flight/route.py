"""Flight-time model and automatic grid-angle choice (pure).

Time of a polyline flown by a multirotor::

    t = Σ_legs max(horizontal_m / v, |Δz| / v_climb)  +  n_turns · t_turn

where a *turn* is a vertex whose heading changes by more than 15°, and
``t_turn = v / a + t_yaw`` is the time lost stopping and re-accelerating at
acceleration ``a`` plus turning on the spot. The automatic grid angle
minimises the time of ``home → transects → home``: fewer, longer lanes win.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from shapely.geometry.base import BaseGeometry

from pipeline.flight.grid import XY, QgcLines, Segment, lawnmower, route_points

TURN_THRESHOLD_DEG = 15.0


@dataclass(frozen=True)
class Kinematics:
    """A multirotor's speeds for time estimates.

    Attributes:
        speed_m_s: Cruise ground speed, m/s.
        climb_m_s: Vertical speed, m/s.
        accel_m_s2: Horizontal acceleration, m/s².
        yaw_s: Extra time spent turning at a corner, s.
    """

    speed_m_s: float = 8.0
    climb_m_s: float = 3.0
    accel_m_s2: float = 2.0
    yaw_s: float = 2.0

    @property
    def turn_s(self) -> float:
        """Time lost at one turn, ``v/a + t_yaw`` seconds."""
        return self.speed_m_s / self.accel_m_s2 + self.yaw_s


def _heading_change(a: Sequence[float], b: Sequence[float], c: Sequence[float]) -> float:
    h1 = math.atan2(b[1] - a[1], b[0] - a[0])
    h2 = math.atan2(c[1] - b[1], c[0] - b[0])
    d = abs(h2 - h1) % (2 * math.pi)
    return math.degrees(min(d, 2 * math.pi - d))


def path_time_s(points: Sequence[Sequence[float]], kin: Kinematics) -> float:
    """Flight time along ``points`` ((x, y) or (x, y, z) metres), see the module formula."""
    total = 0.0
    for i in range(1, len(points)):
        p, q = points[i - 1], points[i]
        horiz = math.dist(p[:2], q[:2])
        dz = abs(q[2] - p[2]) if len(p) > 2 and len(q) > 2 else 0.0
        total += max(horiz / kin.speed_m_s, dz / kin.climb_m_s)
        turning = i + 1 < len(points) and math.dist(q[:2], points[i + 1][:2]) > 1e-6 and horiz > 1e-6
        if turning and _heading_change(p, q, points[i + 1]) > TURN_THRESHOLD_DEG:
            total += kin.turn_s
    return total


def path_length_m(points: Sequence[Sequence[float]]) -> float:
    """Horizontal length of a polyline in metres."""
    return sum(math.dist(points[i - 1][:2], points[i][:2]) for i in range(1, len(points)))


def survey_time_s(segments: list[Segment], home: XY | None, kin: Kinematics) -> float:
    """Time of ``home → segments → home`` (without home when ``None``)."""
    pts = route_points(segments)
    if home is not None:
        pts = [home, *pts, home]
    return path_time_s(pts, kin)


def candidate_angles(area: BaseGeometry, step_deg: float = 5.0) -> list[float]:
    """Angles to try: a regular fan plus the directions of the convex hull's edges."""
    angles = {round(a, 3) for a in _frange(0.0, 180.0, step_deg)}
    hull = area.convex_hull
    coords = list(getattr(hull, "exterior", hull).coords) if hull.geom_type == "Polygon" else []
    for (x0, y0), (x1, y1) in itertools.pairwise(coords):
        if math.dist((x0, y0), (x1, y1)) > 1e-6:
            angles.add(round(math.degrees(math.atan2(y1 - y0, x1 - x0)) % 180.0, 3))
    return sorted(angles)


def _frange(start: float, stop: float, step: float) -> list[float]:
    return [start + i * step for i in range(math.ceil((stop - start) / step))]


def best_angle(
    area: BaseGeometry,
    spacing: float,
    kin: Kinematics,
    home: XY | None = None,
    turnaround_m: float = 0.0,
    keep_out: BaseGeometry | None = None,
    step_deg: float = 5.0,
    qgc_lines: QgcLines | None = None,
    route_time_s: Callable[[list[XY]], float] | None = None,
) -> tuple[float, float]:
    """The grid angle (degrees from east, in [0, 180)) with the shortest flight time, and that time.

    Tries :func:`candidate_angles`, then refines ±``step_deg`` around the best in 1° steps. With
    ``route_time_s`` (time of the transect points in flying order, home excluded) that model
    replaces :func:`survey_time_s`, so the planner can rank angles by the flight time it reports.
    """

    def cost(angle: float) -> float:
        segs = lawnmower(area, spacing, angle, home, turnaround_m, keep_out, qgc_lines)
        if not segs:
            return math.inf
        return route_time_s(route_points(segs)) if route_time_s is not None else survey_time_s(segs, home, kin)

    scored = {a: cost(a) for a in candidate_angles(area, step_deg)}
    best = min(scored, key=lambda a: scored[a])
    for d in range(-int(step_deg) + 1, int(step_deg)):
        a = round((best + d) % 180.0, 3)
        if a not in scored:
            scored[a] = cost(a)
    best = min(scored, key=lambda a: (scored[a], a))
    return best, scored[best]
