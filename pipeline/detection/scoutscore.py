"""How good are a prediction's scouting points against labelled disease? (pure shapely, metres)

The figures of issue 14's "done when", for one survey or pooled over several:

* ``points_near_disease``: listed points within ``near_m`` (2 m) of labelled disease — a walk
  that finds something.
* ``patches_reached``: labelled patches of at least ``min_patch_m2`` (10 m²) with a listed point
  within ``reach_m`` (5 m) — disease a grower is sent to.
* ``sliver_points``: points within ``edge_m`` of their field's boundary and farther than
  ``near_m`` from labelled disease — an edge effect listed as disease.
* ``diseased_fields_flagged``: fields whose labelled disease passes the field flag rule
  (largest patch ≥ ``flag_min_area_m2`` and all disease ≥ ``flag_min_fraction`` of the field,
  as :func:`metrics.flag_fields`) that have at least one listed point.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields

import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry


@dataclass(frozen=True)
class ScoutScore:
    """Counts behind the scouting-point figures (add them to pool surveys)."""

    points: int = 0
    points_near_disease: int = 0
    sliver_points: int = 0
    patches: int = 0
    patches_reached: int = 0
    diseased_fields: int = 0
    diseased_fields_flagged: int = 0
    fields_with_points: int = 0
    max_points_per_field: int = 0

    def __add__(self, other: ScoutScore) -> ScoutScore:
        out = {f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        out["max_points_per_field"] = max(self.max_points_per_field, other.max_points_per_field)
        return ScoutScore(**out)

    def rates(self) -> dict[str, float]:
        """Shares (0–1) of the "done when" figures."""
        return {"points_near_disease": self.points_near_disease / max(self.points, 1),
                "patches_reached": self.patches_reached / max(self.patches, 1),
                "diseased_fields_flagged": self.diseased_fields_flagged / max(self.diseased_fields, 1)}


def score_points(
    points: Sequence[tuple[str, Point]],
    labels: Sequence[tuple[str, BaseGeometry]],
    field_geoms: Mapping[str, BaseGeometry],
    near_m: float = 2.0,
    reach_m: float = 5.0,
    min_patch_m2: float = 10.0,
    edge_m: float = 1.0,
    flag_min_area_m2: float = 10.0,
    flag_min_fraction: float = 0.01,
) -> ScoutScore:
    """Score one survey's listed points.

    Args:
        points: ``(field_id, metric point)`` of every listed scouting point.
        labels: ``(field_id, metric polygon)`` of every labelled disease patch.
        field_geoms: ``field_id → metric polygon``.
    """
    disease = shapely.union_all([g for _, g in labels]) if labels else shapely.Polygon()
    near = sum(1 for _, p in points if not disease.is_empty and p.distance(disease) <= near_m)
    slivers = sum(1 for fid, p in points
                  if fid in field_geoms and p.distance(field_geoms[fid].boundary) <= edge_m
                  and (disease.is_empty or p.distance(disease) > near_m))
    big = [g for _, g in labels if g.area >= min_patch_m2]
    reached = sum(1 for g in big if any(p.distance(g) <= reach_m for _, p in points))
    per_field: dict[str, list[BaseGeometry]] = {}
    for fid, g in labels:
        per_field.setdefault(fid, []).append(g)
    with_points = {fid for fid, _ in points}
    diseased = []
    for fid, geoms in per_field.items():
        if fid not in field_geoms:
            continue
        inside = [g.intersection(field_geoms[fid]) for g in geoms]
        total = float(shapely.union_all(inside).area)
        if max(g.area for g in inside) >= flag_min_area_m2 and total >= flag_min_fraction * field_geoms[fid].area:
            diseased.append(fid)
    counts: dict[str, int] = {}
    for fid, _ in points:
        counts[fid] = counts.get(fid, 0) + 1
    return ScoutScore(points=len(points), points_near_disease=near, sliver_points=slivers, patches=len(big),
                      patches_reached=reached, diseased_fields=len(diseased),
                      diseased_fields_flagged=sum(1 for fid in diseased if fid in with_points),
                      fields_with_points=len(with_points), max_points_per_field=max(counts.values(), default=0))
