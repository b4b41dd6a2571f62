"""Flight-time estimates and the split of an area's rows among drones with balanced time.

Time model (multirotor, video search)::

    t = (d_transit_out + d_path + d_transit_back) / v + n_turns * t_turn + 2 * H / v_climb

where ``d_transit_*`` is the straight line between the launch point and the
path's ends, ``t_turn`` the time lost braking and accelerating at a vertex, and
the last term the climb to and descent from the search height ``H``.

Split: the rows (whole tracks) are cut into ``N`` contiguous groups, found by
dynamic programming over the cut positions to minimise the longest sector time
(ties: the largest shortest time), with each group's time computed from its
actual boustrophedon path including transit from the launch point. The
remaining imbalance (``max / min``) comes from whole rows being indivisible.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pipeline.errors import InputError
from pipeline.search.patterns import Point, SearchPath


@dataclass(frozen=True)
class TimeModel:
    """Speeds and overheads of the time estimate.

    Attributes:
        speed_m_s: Search (and transit) ground speed.
        turn_s: Time lost per path vertex.
        climb_m_s: Vertical speed for climb and descent.
        endurance_s: Usable flight time of one battery (with reserve).
    """

    speed_m_s: float
    turn_s: float
    climb_m_s: float
    endurance_s: float

    def problems(self) -> list[str]:
        """Every invalid field, as messages."""
        out = []
        for name in ("speed_m_s", "climb_m_s", "endurance_s"):
            if getattr(self, name) <= 0:
                out.append(f"{name}={getattr(self, name):g} must be positive")
        if self.turn_s < 0:
            out.append(f"turn_s={self.turn_s:g} must be >= 0")
        return out


def path_time_s(path: SearchPath, launch: Point, height_m: float, model: TimeModel) -> float:
    """Estimated time (s) from take-off at ``launch`` through ``path`` and back, landing included."""
    if not path.points:
        return 0.0
    transit = math.dist(launch, path.points[0]) + math.dist(path.points[-1], launch)
    turns = path.turns + 2
    return (transit + path.length_m) / model.speed_m_s + turns * model.turn_s + 2.0 * height_m / model.climb_m_s


@dataclass(frozen=True)
class Sortie:
    """One battery's share of a path: points ``[first_point, last_point]`` inclusive."""

    first_point: int
    last_point: int
    time_s: float


def _point_along(a: Point, b: Point, f: float) -> Point:
    return (a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f)


def split_sorties(
    path: SearchPath, launch: Point, height_m: float, model: TimeModel, min_piece_m: float = 20.0
) -> tuple[SearchPath, list[Sortie]]:
    """Cut ``path`` into sorties that each fit one battery, transit and climb included.

    A sortie ends where flying on would leave too little time to fly straight
    back to ``launch``; when that happens inside a segment a vertex is inserted
    there (found by bisection), so the next sortie resumes at a waypoint.
    Only a segment that cannot be started at all (launch too far) is kept
    whole, over the endurance; its time shows it.

    Returns:
        The path with the inserted vertices and its sorties.
    """
    pts, flags = list(path.points), list(path.searching)
    v, fixed = model.speed_m_s, 2.0 * height_m / model.climb_m_s + 2.0 * model.turn_s
    sorties: list[Sortie] = []
    start = 0
    while len(pts) > 1:
        elapsed = fixed + math.dist(launch, pts[start]) / v
        k = start
        while k < len(pts) - 1:
            seg_len = math.dist(pts[k], pts[k + 1])
            if elapsed + seg_len / v + model.turn_s + math.dist(pts[k + 1], launch) / v <= model.endurance_s:
                elapsed += seg_len / v + model.turn_s
                k += 1
                continue
            lo, hi = 0.0, 1.0
            for _ in range(30):
                mid = (lo + hi) / 2.0
                p = _point_along(pts[k], pts[k + 1], mid)
                if elapsed + mid * seg_len / v + model.turn_s + math.dist(p, launch) / v <= model.endurance_s:
                    lo = mid
                else:
                    hi = mid
            if lo * seg_len >= min_piece_m and (1.0 - lo) * seg_len >= min_piece_m:
                pts.insert(k + 1, _point_along(pts[k], pts[k + 1], lo))
                flags.insert(k, flags[k])
                elapsed += lo * seg_len / v + model.turn_s
                k += 1
            elif k == start:
                elapsed += seg_len / v + model.turn_s
                k += 1
            break
        sorties.append(Sortie(start, k, elapsed + math.dist(pts[k], launch) / v))
        if k >= len(pts) - 1:
            break
        start = k
    if not sorties:
        sorties.append(Sortie(0, 0, fixed + 2 * math.dist(launch, pts[0]) / v if pts else 0.0))
    return SearchPath(tuple(pts), tuple(flags)), sorties


def balanced_groups(n_items: int, n_groups: int, group_time: Callable[[int, int], float]) -> list[tuple[int, int]]:
    """Cut ``range(n_items)`` into ``n_groups`` contiguous ``[a, b)`` groups minimising the longest time.

    Args:
        n_items: Number of rows.
        n_groups: Number of drones; must be <= ``n_items``.
        group_time: Time of rows ``[a, b)`` flown by one drone.

    Raises:
        InputError: more drones than rows.
    """
    if n_groups < 1:
        raise InputError(f"--drones {n_groups} must be at least 1")
    if n_groups > n_items:
        raise InputError(
            f"{n_groups} drones for an area of only {n_items} track(s); use at most {n_items} drones or a larger area"
        )
    cache: dict[tuple[int, int], float] = {}

    def cost(a: int, b: int) -> float:
        if (a, b) not in cache:
            cache[(a, b)] = group_time(a, b)
        return cache[(a, b)]

    # best[k][j]: (max time, -min time, cuts) for rows[:j] in k groups
    Best = tuple[float, float, tuple[int, ...]]
    best: list[dict[int, Best]] = [{0: (0.0, -math.inf, ())}]
    for k in range(1, n_groups + 1):
        layer: dict[int, Best] = {}
        for j in range(k, n_items - (n_groups - k) + 1):
            candidate: Best | None = None
            for i, (mx, neg_mn, cuts) in best[k - 1].items():
                if i >= j:
                    continue
                t = cost(i, j)
                entry = (max(mx, t), max(neg_mn, -t), (*cuts, j))
                if candidate is None or entry[:2] < candidate[:2]:
                    candidate = entry
            if candidate is not None:
                layer[j] = candidate
        best.append(layer)
    cuts = best[n_groups][n_items][2]
    starts = (0, *cuts[:-1])
    return list(zip(starts, cuts, strict=True))


def imbalance(times: Sequence[float]) -> float:
    """``max / min`` of sector times (1.0 = perfectly balanced)."""
    return max(times) / min(times) if times and min(times) > 0 else math.inf
