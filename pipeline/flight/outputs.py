"""Writing a planned survey: ``NAME.plan``, ``NAME.waypoints``, ``NAME.geojson``, ``NAME.summary.json``.

Every file is written atomically; with more than one sortie each sortie also
gets ``NAME.sortie-K.plan`` and ``NAME.sortie-K.waypoints``. ``NAME.manifest.json``,
written last, lists the set (:mod:`pipeline.flight.manifest`); sortie files of an
earlier plan of the same name that the new set lacks are removed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shapely.geometry import LineString, Point
from shapely.geometry.base import BaseGeometry

from pipeline.common.atomic import atomic_write_json
from pipeline.common.geo import write_geojson_features
from pipeline.flight.coverage import footprint_polygon
from pipeline.flight.manifest import write_manifest
from pipeline.flight.planner import SurveyPlan
from pipeline.flight.qgc_plan import write_plan
from pipeline.flight.wpl import write_waypoints


def plan_features(plan: SurveyPlan) -> list[tuple[BaseGeometry, dict[str, Any]]]:
    """GeoJSON features in the plan's projected CRS: survey areas, photo centres, footprints."""
    feats: list[tuple[BaseGeometry, dict[str, Any]]] = [
        (area, {"kind": "survey_area", "index": i}) for i, area in enumerate(plan.areas_xy)
    ]
    g = plan.geometry
    for n, ph in enumerate(plan.photos):
        feats.append((Point(ph.x, ph.y), {"kind": "photo_centre", "photo": n + 1}))
        feats.append((footprint_polygon(ph, g.footprint_side_m, g.footprint_front_m),
                      {"kind": "footprint", "photo": n + 1}))
    return feats


def write_survey_outputs(plan: SurveyPlan, out_dir: Path | str, name: str) -> list[Path]:
    """Write all outputs of ``plan`` into ``out_dir``; return the paths written."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = [write_plan(plan.mission, out / f"{name}.plan"), write_waypoints(plan.mission, out / f"{name}.waypoints")]
    for k, sortie in enumerate(plan.sortie_missions, start=1):
        written.append(write_plan(sortie, out / f"{name}.sortie-{k}.plan"))
        written.append(write_waypoints(sortie, out / f"{name}.sortie-{k}.waypoints"))
    route = (LineString(plan.route_xy), {"kind": "flight_path"})  # projected; written as WGS84 below
    written.append(write_geojson_features(out / f"{name}.geojson", [route, *plan_features(plan)], plan.crs))
    written.append(atomic_write_json(out / f"{name}.summary.json", dict(plan.summary, name=name)))
    written.append(write_manifest(out, name, written, max(len(plan.sortie_missions), 1)))
    return written
