"""The camera figures of each QGroundControl Survey item in a ``.plan``, as QGC's Survey screen shows them.

For every ``ComplexItem`` of type ``survey``: GSD, image footprint, lane spacing, trigger
distance (QGC ``CameraCalc``, via :func:`~pipeline.flight.camcalc.grid_geometry`, when the
item has a camera spec; the stored ``AdjustedFootprint*`` otherwise, e.g. a manual camera),
the number of lanes (``VisualTransectPoints``: 4 points per transect with a turnaround,
else 2) and of photos by QGC's rule
(``SurveyComplexItem::_recalcCameraShots``: ``ceil(length / trigger distance)`` per transect,
or over the whole path when the camera also triggers in the turnarounds), next to the
``CameraShots`` QGC stored in the file.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from pyproj import Geod

from pipeline.flight.camcalc import grid_geometry
from pipeline.flight.cameras import Camera

_GEOD = Geod(ellps="WGS84")
_SPEC_KEYS = ("SensorWidth", "SensorHeight", "ImageWidth", "ImageHeight", "FocalLength")


def _metres(a: list[float], b: list[float]) -> float:
    return float(_GEOD.inv(a[1], a[0], b[1], b[0])[2])


def survey_figures(doc: dict[str, Any]) -> dict[str, Any]:
    """Figures of one survey ``ComplexItem`` (see the module doc); lengths in metres, GSD in cm/px."""
    transect = doc.get("TransectStyleComplexItem") or {}
    calc = transect.get("CameraCalc") or {}
    figures: dict[str, Any] = {"camera": calc.get("CameraName"), "angle_deg_qgc": doc.get("angle"),
                               "distance_to_surface_m": calc.get("DistanceToSurface")}
    if all(k in calc for k in _SPEC_KEYS) and calc.get("DistanceToSurface"):
        camera = Camera(name="plan", title=str(calc.get("CameraName")), sensor_width_mm=float(calc["SensorWidth"]),
                        sensor_height_mm=float(calc["SensorHeight"]), image_width_px=int(calc["ImageWidth"]),
                        image_height_px=int(calc["ImageHeight"]), focal_length_mm=float(calc["FocalLength"]),
                        min_trigger_interval_s=1.0)
        geo = grid_geometry(camera, float(calc.get("FrontalOverlap", 0)) / 100.0,
                            float(calc.get("SideOverlap", 0)) / 100.0, altitude_m=float(calc["DistanceToSurface"]),
                            orientation="landscape" if calc.get("Landscape", True) else "portrait")
        figures.update(gsd_cm=geo.gsd_cm, footprint_side_m=geo.footprint_side_m,
                       footprint_front_m=geo.footprint_front_m, lane_spacing_m=geo.lane_spacing_m,
                       trigger_distance_m=geo.trigger_distance_m)
    else:
        figures.update(gsd_cm=None, footprint_side_m=None, footprint_front_m=None,
                       lane_spacing_m=calc.get("AdjustedFootprintSide"),
                       trigger_distance_m=calc.get("AdjustedFootprintFrontal"))
    points = transect.get("VisualTransectPoints") or []
    per_lane = 4 if float(transect.get("TurnAroundDistance") or 0) > 0 else 2  # turnaround points included
    lanes = [points[i:i + per_lane] for i in range(0, len(points) - per_lane + 1, per_lane)]
    pairs = [(lane[1], lane[2]) if per_lane == 4 else (lane[0], lane[1]) for lane in lanes]
    figures["lanes"] = len(lanes)
    trigger = figures["trigger_distance_m"]
    if trigger:
        if transect.get("CameraTriggerInTurnAround", True):
            total = sum(_metres(points[i], points[i + 1]) for i in range(len(points) - 1))
            figures["photos"] = math.ceil(total / float(trigger))
        else:
            figures["photos"] = sum(math.ceil(_metres(a, b) / float(trigger)) for a, b in pairs)
    else:
        figures["photos"] = None
    figures["photos_stored_by_qgc"] = transect.get("CameraShots")
    return figures


def plan_survey_figures(path: Path) -> list[dict[str, Any]]:
    """Figures of every survey item of a QGC ``.plan`` (empty for other files)."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return []
    items = ((doc.get("mission") or {}).get("items") or []) if isinstance(doc, dict) else []
    return [survey_figures(item) for item in items
            if isinstance(item, dict) and item.get("type") == "ComplexItem" and item.get("complexItemType") == "survey"]


def figures_line(n: int, f: dict[str, Any]) -> str:
    """One line of figures for ``plan check``."""
    def num(key: str, unit: str, digits: int = 2) -> str:
        value = f.get(key)
        return "n/a" if value is None else f"{float(value):.{digits}f} {unit}"

    footprint = ("n/a" if f.get("footprint_side_m") is None
                 else f"{f['footprint_side_m']:.2f} x {f['footprint_front_m']:.2f} m (side x front)")
    return (f"survey {n} ({f.get('camera')}): distance {num('distance_to_surface_m', 'm', 1)}, GSD "
            f"{num('gsd_cm', 'cm/px', 3)}, footprint {footprint}, lane spacing {num('lane_spacing_m', 'm')}, "
            f"trigger distance {num('trigger_distance_m', 'm')}, {f['lanes']} lanes, {f['photos']} photos "
            f"(QGC stored {f.get('photos_stored_by_qgc')}), angle {f.get('angle_deg_qgc')}°")
