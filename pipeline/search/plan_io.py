"""Files of a search plan: the area reader and the writers of ``DIR``.

``DIR`` receives, per sector ``sN``: ``sN.plan`` (QGroundControl),
``sN.waypoints`` (QGC WPL 110) and ``sN.json`` (summary); for the whole
search: ``search.geojson`` (area, sectors, tracks, datum, launch; WGS84) and
``plan.json`` (every figure; what ``search board`` reads). Everything is
computed before the first file is written, and each file is written atomically.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shapely.geometry import LineString, Polygon
from shapely.geometry import Point as ShapelyPoint
from shapely.ops import unary_union
from shapely.validation import explain_validity

from pipeline.common.atomic import atomic_dir, atomic_write_json
from pipeline.common.geo import WGS84, read_geojson_features, reproject_geometry, write_geojson_features
from pipeline.errors import InputError
from pipeline.flight.qgc import write_plan, write_waypoints
from pipeline.search.layout import get_pattern
from pipeline.search.optics import JAPAN_MAX_AGL_M, get_target
from pipeline.search.planner import ITEMS_BEFORE_WAYPOINTS, SearchPlan, SectorPlan

PLAN_SUMMARY = "plan.json"
SEARCH_GEOJSON = "search.geojson"


def read_area(path: Path | str) -> tuple[Polygon, str]:
    """The search area polygon (WGS84) of a GeoJSON file and its name (``name`` property or file stem).

    Several polygon features are merged; they must touch or overlap.

    Raises:
        InputError: no polygon, or polygons that do not form one area.
    """
    features, crs = read_geojson_features(path)
    polygons = [g for g, _ in features if g.geom_type in ("Polygon", "MultiPolygon")]
    if not polygons:
        raise InputError(f"{str(path)!r} holds no polygon; expected the search area as a GeoJSON polygon")
    problems = [f"feature {i}: {explain_validity(g)}" for i, g in enumerate(polygons) if not g.is_valid]
    if problems:
        raise InputError(
            f"{str(path)!r}: the area polygon is invalid ({'; '.join(problems)}); remove self-intersections in QGIS"
            " (Vector > Geometry Tools > Fix Geometries)"
        )
    area = polygons[0] if len(polygons) == 1 else unary_union(polygons)
    if crs != WGS84:
        area = reproject_geometry(area, crs, WGS84)
    if not isinstance(area, Polygon):
        raise InputError(
            f"{str(path)!r}: the polygons form {area.geom_type}, not one area; plan each part separately"
        )
    names = [str(p["name"]) for g, p in features if p.get("name")]
    return area, names[0] if names else Path(path).stem


def _sortie_rows(sector: SectorPlan) -> list[dict[str, Any]]:
    first_seq = ITEMS_BEFORE_WAYPOINTS + 1  # wire seq: 0 = home, 1 = take-off, 2 = speed, 3 = first waypoint
    return [
        {
            "sortie": i + 1,
            "resume_at_seq": s.first_point + first_seq,
            "last_seq": s.last_point + first_seq,
            "time_min": round(s.time_s / 60.0, 1),
        }
        for i, s in enumerate(sector.sorties)
    ]


def sector_summary(plan: SearchPlan, sector: SectorPlan) -> dict[str, Any]:
    """The summary document of one sector (``sN.json``)."""
    g = plan.geometry
    return {
        "sector": sector.sector_id,
        "name": sector.name,
        "drone": sector.drone,
        "colour": sector.colour,
        "pattern": plan.request.pattern,
        "camera": plan.request.camera,
        "target": plan.request.target,
        "height_agl_m": round(g.height_agl_m, 1),
        "height_agl_range_m": [round(sector.agl_range_m[0], 1), round(sector.agl_range_m[1], 1)],
        "launch": _lat_lon(plan, sector.launch),
        "launch_ground_m": None if sector.launch_ground_m is None else round(sector.launch_ground_m, 1),
        "track_spacing_m": round(g.spacing_m, 1),
        "length_km": round(sector.length_m / 1000.0, 2),
        "time_min": round(sector.time_s / 60.0, 1),
        "batteries": len(sector.sorties),
        "every_sortie_fits_battery": all(s.time_s <= plan.endurance_s + 1e-6 for s in sector.sorties),
        "sorties": _sortie_rows(sector),
        "coverage_pct": round(100.0 * sector.coverage, 2),
        "region_ha": round(sector.region.area / 1e4, 2),
        "waypoints": len(sector.waypoints),
        "files": {"plan": f"{sector.sector_id}.plan", "waypoints": f"{sector.sector_id}.waypoints"},
    }


def _lat_lon(plan: SearchPlan, point: tuple[float, float]) -> list[float]:
    p = reproject_geometry(ShapelyPoint(*point), plan.crs, WGS84)
    return [round(p.y, 7), round(p.x, 7)]


def plan_summary(plan: SearchPlan) -> dict[str, Any]:
    """The whole-search summary (``plan.json``)."""
    g, req = plan.geometry, plan.request
    target = get_target(req.target)
    datum = _lat_lon(plan, plan.datum)
    return {
        "area_name": req.area_name,
        "area_ha": round(plan.area.area / 1e4, 2),
        "pattern": req.pattern,
        "pattern_kind": get_pattern(req.pattern).kind,
        "drones": req.drones,
        "camera": req.camera,
        "camera_kind": plan.camera_kind,
        "target": req.target,
        "detection": {
            "critical_dimension_m": target.critical_dimension_m,
            "pixels_required": target.pixels_for(plan.camera_kind),
            "pixels_on_target": round(g.pixels_on_target, 2),
            "source": target.source,
        },
        "height_agl_m": round(g.height_agl_m, 1),
        "height_limited_by": g.height_limited_by,
        "max_legal_agl_m": JAPAN_MAX_AGL_M,
        "gsd_cm": round(100.0 * g.gsd_m, 2),
        "swath_m": round(g.swath_m, 1),
        "track_spacing_m": round(g.spacing_m, 1),
        "terrain": plan.terrain,
        "crs": plan.crs.to_string(),
        "datum": datum,
        "launches": [_lat_lon(plan, p) for p in plan.launches],
        "coverage_pct": round(100.0 * plan.coverage, 2),
        "time_min": [round(s.time_s / 60.0, 1) for s in plan.sectors],
        "imbalance_max_over_min": round(plan.imbalance, 3),
        "sectors": [sector_summary(plan, s) for s in plan.sectors],
    }


def search_features(plan: SearchPlan) -> list[tuple[Any, dict[str, Any]]]:
    """GeoJSON features (projected geometries) of ``search.geojson``."""
    pattern = plan.request.pattern
    feats: list[tuple[Any, dict[str, Any]]] = [(plan.area, {"role": "area", "name": plan.request.area_name})]
    for s in plan.sectors:
        common = {"sector": s.sector_id, "name": s.name, "drone": s.drone, "pattern": pattern, "colour": s.colour}
        feats.append((s.region, {"role": "sector", **common}))
        feats.append((LineString(s.path.points), {"role": "track", **common}))
        transit = [(s.launch, s.path.points[0]), (s.path.points[-1], s.launch)]
        for a, b in transit:
            if a != b:
                feats.append((LineString([a, b]), {"role": "transit", **common}))
    if get_pattern(pattern).kind == "datum" or plan.request.datum is not None:
        feats.append((ShapelyPoint(*plan.datum), {"role": "datum", "name": "datum"}))
    for launch in dict.fromkeys(s.launch for s in plan.sectors):
        users = [s.sector_id for s in plan.sectors if s.launch == launch]
        feats.append((ShapelyPoint(*launch), {"role": "launch", "name": "launch", "sectors": users}))
    return feats


def write_search_plan(plan: SearchPlan, out_dir: Path | str, overwrite: bool = False) -> list[Path]:
    """Write every file of ``plan`` as the folder ``out_dir``; return them.

    The folder is written whole (:func:`~pipeline.common.atomic.atomic_dir`): a re-plan with fewer drones leaves
    no sector file of the earlier plan where a pilot could load it; a folder ``search plan`` did not write is
    refused unless ``overwrite``.
    """
    out = Path(out_dir)
    summary = plan_summary(plan)
    names: list[str] = []
    with atomic_dir(out, "search plan", overwrite) as tmp:
        for sector, doc in zip(plan.sectors, summary["sectors"], strict=True):
            names.append(write_plan(sector.mission, tmp / f"{sector.sector_id}.plan").name)
            names.append(write_waypoints(sector.mission, tmp / f"{sector.sector_id}.waypoints").name)
            names.append(atomic_write_json(tmp / f"{sector.sector_id}.json", doc).name)
        names.append(write_geojson_features(tmp / SEARCH_GEOJSON, search_features(plan), crs=plan.crs).name)
        names.append(atomic_write_json(tmp / PLAN_SUMMARY, summary).name)
    return [out / name for name in names]
