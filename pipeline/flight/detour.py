"""Transit legs that go around no-fly zones (pure, projected metres).

A leg that would cross a zone is replaced by the shortest path through a
visibility graph whose nodes are the leg's ends and the vertices of each
zone's convex hull grown by ``clearance_m``; an edge exists when the straight
segment does not enter any zone. Dijkstra over that small graph gives the detour.
"""

from __future__ import annotations

import heapq
import math

from shapely.geometry import LineString, MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.prepared import prep

XY = tuple[float, float]


def _zones(keep_out: BaseGeometry) -> list[Polygon]:
    if isinstance(keep_out, Polygon):
        return [keep_out]
    if isinstance(keep_out, MultiPolygon):
        return list(keep_out.geoms)
    return [g for g in getattr(keep_out, "geoms", []) if isinstance(g, Polygon)]


def detour(p: XY, q: XY, keep_out: BaseGeometry | None, clearance_m: float = 2.0) -> list[XY]:
    """Points from ``p`` to ``q`` (both included) that avoid ``keep_out``.

    Returns ``[p, q]`` when the straight leg is clear or no way around exists
    (the checks then report the crossing).
    """
    if keep_out is None or keep_out.is_empty:
        return [p, q]
    inner = prep(keep_out.buffer(-0.01))
    if not inner.intersects(LineString([p, q])):
        return [p, q]
    nodes: list[XY] = [p, q]
    for zone in _zones(keep_out):
        hull = zone.convex_hull.buffer(clearance_m, join_style="mitre")
        nodes += [(float(x), float(y)) for x, y in list(hull.exterior.coords)[:-1]]

    def clear(a: XY, b: XY) -> bool:
        return not inner.intersects(LineString([a, b]))

    dist = {0: 0.0}
    prev: dict[int, int] = {}
    heap = [(0.0, 0)]
    done: set[int] = set()
    while heap:
        d, i = heapq.heappop(heap)
        if i in done:
            continue
        done.add(i)
        if i == 1:
            break
        for j in range(len(nodes)):
            if j in done or j == i:
                continue
            nd = d + math.dist(nodes[i], nodes[j])
            if nd < dist.get(j, math.inf) and clear(nodes[i], nodes[j]):
                dist[j], prev[j] = nd, i
                heapq.heappush(heap, (nd, j))
    if 1 not in prev:
        return [p, q]
    path = [1]
    while path[-1] != 0:
        path.append(prev[path[-1]])
    return [nodes[i] for i in reversed(path)]
