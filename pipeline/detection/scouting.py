"""Hotspots → scouting points: the few places per field worth a walk.

Pure (shapely geometries in the scene's projected CRS, metres); :func:`select_points`
is the whole step, in this order:

1. **Boundary slivers dropped.** Levees, paths and the crop's edge row make thin, elongated
   false "disease" along a field's outline. A hotspot is a sliver when at least
   ``edge_share`` of its area lies within ``max(edge_m, edge_px · GSD)`` of the field boundary
   *and* it is thin — mean width ``2·A/P`` (area over half the perimeter; exact for a long strip)
   at most ``max(sliver_width_m, sliver_width_px · GSD)`` — or elongated (long/short side of its
   minimum rotated rectangle ≥ ``sliver_elongation``). Round patches touching the edge are kept.
   The 1 m band matches the simulator's levee effect (canopy vigour ``1 − 0.2·exp(−d / 1.5 m)``);
   on four unseen surveys no hotspot overlapping labelled disease had half its area in it.
2. **Neighbours merged.** Best hotspot first (area × probability), its walk point becomes a
   stop, and every other hotspot of the field within ``merge_m`` of that point (walking distance:
   seen from the same stop) joins it (:func:`_stops`). A stop's expected diseased area is its
   members' summed area, its probability their area-weighted mean probability, its class that of
   its largest member.
3. **Ranked and capped.** Candidates with an expected area under ``min_area_m2`` or a probability
   under ``min_probability`` are dropped;
   the rest are ranked by expected diseased area × probability (m² of expected disease) and
   the first ``max_points`` per field are listed; the others are counted in the summary.

The point to walk to is the pole of inaccessibility (``shapely.ops.polylabel``) of the stop's
first (best) hotspot: the spot deepest inside the patch, so a few metres of GNSS error still land
inside it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry
from shapely.ops import polylabel

from pipeline.core.scouting import ScoutingPoint

#: A hotspot as the detection stage produces it: metric polygon and its properties
#: (``class``, ``field_id``, ``area_m2``, ``mean_probability``).
HotspotIn = tuple[BaseGeometry, Mapping[str, Any]]


@dataclass(frozen=True)
class ScoutingRules:
    """Settings of :func:`select_points` (``detection.scouting`` in params.yaml).

    Attributes:
        edge_px: Width (pixels) of the band along the field boundary where levee/edge effects live ...
        edge_m: ... and at least this many metres.
        edge_share: Share of a hotspot's area inside that band above which it may be a sliver.
        sliver_width_px: Mean width ``2A/P`` (pixels) at or under which an edge hotspot is a sliver ...
        sliver_width_m: ... or at most this many metres.
        sliver_elongation: Rotated-rectangle aspect ratio at or over which an edge hotspot is a sliver.
        merge_m: Hotspots closer than this (metres) become one point.
        min_area_m2: Points with a smaller expected diseased area are not listed.
        min_probability: Points with a lower (calibrated) probability are not listed.
        max_points: Points listed per field (the rest are counted).
    """

    edge_px: float = 3.0
    edge_m: float = 1.0
    edge_share: float = 0.5
    sliver_width_px: float = 4.0
    sliver_width_m: float = 0.6
    sliver_elongation: float = 3.0
    merge_m: float = 5.0
    min_area_m2: float = 2.0
    min_probability: float = 0.0
    max_points: int = 4

    def __post_init__(self) -> None:
        problems = [f"{k}={getattr(self, k)} must be positive" for k in
                    ("edge_px", "sliver_width_px", "sliver_elongation", "merge_m", "max_points")
                    if getattr(self, k) <= 0]
        if not 0.0 < self.edge_share <= 1.0:
            problems.append(f"edge_share={self.edge_share} must be in (0, 1]")
        if problems:
            raise ValueError("; ".join(problems))


@dataclass(frozen=True)
class FieldScouting:
    """What happened to one field's hotspots."""

    hotspots: int = 0
    slivers: int = 0
    candidates: int = 0
    listed: int = 0

    @property
    def not_listed(self) -> int:
        """Candidates beyond ``max_points`` or under ``min_area_m2`` (summarised as a count)."""
        return self.candidates - self.listed


@dataclass(frozen=True)
class ScoutingResult:
    """Listed points (by field, then rank) and per-field counts."""

    points: tuple[ScoutingPoint, ...]
    fields: Mapping[str, FieldScouting] = field(default_factory=dict)

    def summary(self) -> dict[str, dict[str, int]]:
        """``field_id → {hotspots, slivers, candidates, listed, not_listed}`` (JSON-ready)."""
        return {fid: {"hotspots": f.hotspots, "slivers": f.slivers, "candidates": f.candidates,
                      "listed": f.listed, "not_listed": f.not_listed} for fid, f in sorted(self.fields.items())}


def mean_width_m(geom: BaseGeometry) -> float:
    """Mean width ``2·A/P`` (metres): a w × L strip (L ≫ w) gives ≈ w, a disc of radius r gives r."""
    return 2.0 * float(geom.area) / max(float(geom.length), 1e-9)


def elongation(geom: BaseGeometry) -> float:
    """Long / short side of the minimum rotated rectangle (1 for a square, large for a strip)."""
    rect = shapely.minimum_rotated_rectangle(geom)
    coords = list(rect.exterior.coords) if hasattr(rect, "exterior") else []
    if len(coords) < 4:
        return float("inf")
    a = Point(coords[0]).distance(Point(coords[1]))
    b = Point(coords[1]).distance(Point(coords[2]))
    return max(a, b) / max(min(a, b), 1e-9)


def is_boundary_sliver(geom: BaseGeometry, field_geom: BaseGeometry, pixel_m: float, rules: ScoutingRules) -> bool:
    """Whether a hotspot is a thin or elongated component hugging the field boundary (step 1)."""
    if geom.area <= 0:
        return True
    band = field_geom.boundary.buffer(max(rules.edge_m, rules.edge_px * pixel_m))
    share = float(geom.intersection(band).area) / float(geom.area)
    if share < rules.edge_share:
        return False
    thin = max(rules.sliver_width_m, rules.sliver_width_px * pixel_m)
    return mean_width_m(geom) <= thin or elongation(geom) >= rules.sliver_elongation


def _stops(geoms: Sequence[BaseGeometry], scores: Sequence[float], merge_m: float
           ) -> list[tuple[Point, list[int]]]:
    """Greedy walking stops: the best remaining hotspot's walk point takes every hotspot within ``merge_m``.

    Hotspots are taken best score first; its :func:`walk_point` is the stop, and every remaining
    hotspot whose outline lies within ``merge_m`` of that point joins it (seen from where the
    grower stands). Unlike single-linkage clustering this never chains a row of patches into one
    stop far from most of them.
    """
    remaining = sorted(range(len(geoms)), key=lambda i: (-scores[i], i))
    tree = shapely.STRtree(list(geoms)) if geoms else None
    stops: list[tuple[Point, list[int]]] = []
    taken: set[int] = set()
    for i in remaining:
        if i in taken:
            continue
        point = walk_point(geoms[i])
        near = tree.query(point, predicate="dwithin", distance=merge_m).tolist() if tree is not None else []
        group = sorted({i, *(j for j in near if j not in taken)})
        taken.update(group)
        stops.append((point, group))
    return stops


def walk_point(geom: BaseGeometry) -> Point:
    """Pole of inaccessibility of the largest part of ``geom`` (the most interior spot)."""
    parts = list(getattr(geom, "geoms", [geom]))
    largest = max(parts, key=lambda g: g.area)
    return polylabel(largest, tolerance=0.05)


def select_points(
    hotspots: Sequence[HotspotIn],
    fields: Mapping[str, BaseGeometry],
    flight: str,
    pixel_m: float,
    to_lonlat: Callable[[Point], tuple[float, float]],
    rules: ScoutingRules | None = None,
) -> ScoutingResult:
    """Scouting points of one prediction (see module docstring).

    Args:
        hotspots: ``(metric polygon, properties)`` in ``hotspots.geojson`` order (their indices become
            :attr:`ScoutingPoint.hotspots`); hotspots with no known ``field_id`` are ignored.
        fields: ``field_id → metric polygon`` (same CRS as the hotspots).
        flight: Flight name (first part of every point ID).
        pixel_m: Ground sample distance of the class raster (metres); scales the pixel rules.
        to_lonlat: Metric point → ``(lon, lat)`` WGS84 degrees.
        rules: Settings (defaults: :class:`ScoutingRules`).
    """
    rules = rules or ScoutingRules()
    by_field: dict[str, list[int]] = {}
    for i, (_geom, props) in enumerate(hotspots):
        fid = props.get("field_id")
        if fid is not None and str(fid) in fields:
            by_field.setdefault(str(fid), []).append(i)
    points: list[ScoutingPoint] = []
    counts: dict[str, FieldScouting] = {}
    for fid in sorted(by_field):
        members = by_field[fid]
        kept = [i for i in members if not is_boundary_sliver(hotspots[i][0], fields[fid], pixel_m, rules)]
        geoms = [hotspots[i][0] for i in kept]
        probs = [float(hotspots[i][1]["mean_probability"]) for i in kept]
        candidates = []
        for point, local in _stops(geoms, [float(g.area) * p for g, p in zip(geoms, probs, strict=True)],
                                   rules.merge_m):
            group = [kept[j] for j in local]
            areas = [float(geoms[j].area) for j in local]
            area = sum(areas)
            prob = sum(a * probs[j] for a, j in zip(areas, local, strict=True)) / max(area, 1e-9)
            largest = group[max(range(len(group)), key=lambda k: areas[k])]
            candidates.append((prob, area, largest, group, point))
        listed = [c for c in candidates if c[1] >= rules.min_area_m2 and c[0] >= rules.min_probability]
        listed.sort(key=lambda c: (-c[0] * c[1], c[3][0]))
        for rank, (prob, area, largest, group, point) in enumerate(listed[: rules.max_points], start=1):
            lon, lat = to_lonlat(point)
            points.append(ScoutingPoint(flight=flight, field_id=fid, rank=rank,
                                        cls=str(hotspots[largest][1]["class"]), probability=round(prob, 4),
                                        area_m2=round(area, 2), lon=round(lon, 7), lat=round(lat, 7),
                                        hotspots=tuple(group)))
        counts[fid] = FieldScouting(hotspots=len(members), slivers=len(members) - len(kept),
                                    candidates=len(candidates), listed=min(len(listed), rules.max_points))
    return ScoutingResult(tuple(points), counts)
