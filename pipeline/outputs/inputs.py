"""Reading the predictions and indices that reports and open data use: hotspots, index rasters, class names.

Fields and flights come from the domain core (:func:`pipeline.core.io.load_flight_fields`); hotspots are
returned with geometries in both WGS84 (for map apps and open data) and the scene's projected CRS (metres).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from pipeline.common.geo import read_geojson_features, reproject_geometry
from pipeline.errors import InputError, SceneNotFoundError

HOTSPOTS_NAME = "hotspots.geojson"
CLASSES_NAME = "classes.tif"
PROBABILITY_NAME = "probability.tif"


@dataclass(frozen=True)
class Hotspot:
    """A suspected disease area from the predictions stage.

    Attributes:
        cls: Class name (``blast``, ``brown_spot``...).
        crop: Crop of the field.
        field_id: The field it lies in.
        area_m2: Area in square metres.
        mean_probability: Mean model probability over the area (0-1).
        wgs84: Polygon in lon/lat degrees.
        metric: Polygon in the scene's projected CRS.
    """

    cls: str
    crop: str
    field_id: str
    area_m2: float
    mean_probability: float
    wgs84: BaseGeometry
    metric: BaseGeometry


def require_dir(path: Path | str, what: str, hint: str) -> Path:
    """Return ``path`` if it is a folder, else raise :class:`SceneNotFoundError` naming ``what``."""
    p = Path(path)
    if not p.is_dir():
        raise SceneNotFoundError(f"{what} folder {str(p)!r} does not exist; {hint}")
    return p


def _number(value: Any, default: float) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return default
    return out if math.isfinite(out) else default


def load_hotspots(predictions_dir: Path | str, crs: CRS) -> tuple[Hotspot, ...]:
    """Read ``hotspots.geojson`` from a predictions folder.

    Raises:
        SceneNotFoundError: the folder or the file is missing.
        InputError: a hotspot lacks ``class`` or ``field_id``.
    """
    pred = require_dir(predictions_dir, "predictions", "run 'shimanto predict' first or pass --predictions")
    path = pred / HOTSPOTS_NAME
    if not path.is_file():
        raise SceneNotFoundError(
            f"predictions folder {str(pred)!r} lacks {HOTSPOTS_NAME}; run 'shimanto predict' to create it"
        )
    feats, src_crs = read_geojson_features(path)
    out: list[Hotspot] = []
    problems: list[str] = []
    for i, (geom, props) in enumerate(feats):
        if not props.get("class") or props.get("field_id") is None:
            problems.append(f"feature {i} lacks 'class' or 'field_id'")
            continue
        wgs84 = reproject_geometry(geom, src_crs, "EPSG:4326")
        metric = reproject_geometry(wgs84, "EPSG:4326", crs)
        out.append(
            Hotspot(
                cls=str(props["class"]),
                crop=str(props.get("crop") or ""),
                field_id=str(props["field_id"]),
                area_m2=_number(props.get("area_m2"), float(metric.area)),
                mean_probability=min(1.0, max(0.0, _number(props.get("mean_probability"), 0.0))),
                wgs84=wgs84,
                metric=metric,
            )
        )
    if problems:
        raise InputError(f"{str(path)!r}: " + "; ".join(problems) + "; every hotspot needs class and field_id")
    return tuple(out)


def index_path(indices_dir: Path | str, index: str) -> Path | None:
    """``<indices_dir>/<index>.tif`` if it exists (case-insensitive name), else ``None``."""
    folder = Path(indices_dir)
    exact = folder / f"{index}.tif"
    if exact.is_file():
        return exact
    wanted = index.lower()
    matches = sorted(p for p in folder.glob("*.tif") if p.stem.lower() == wanted and not p.name.startswith("."))
    return matches[0] if matches else None


def available_indices(indices_dir: Path | str) -> tuple[str, ...]:
    """Names of the ``*.tif`` index maps in a folder (lower case, sorted)."""
    return tuple(sorted(p.stem.lower() for p in Path(indices_dir).glob("*.tif") if not p.name.startswith(".")))


def class_names_from_tags(tags: Mapping[str, str]) -> dict[int, str]:
    """Parse class names from ``classes.tif`` tags, tolerant of the common layouts.

    Accepted: ``CLASS_NAMES``/``class_names`` as a JSON list, JSON object ``{"0": "healthy"}`` or a
    comma-separated list; or one tag per class ``CLASS_0=healthy``.
    """
    import json

    for key in ("CLASS_NAMES", "class_names", "CLASSES", "classes"):
        if key in tags:
            raw = tags[key]
            try:
                doc = json.loads(raw)
            except json.JSONDecodeError:
                doc = [s.strip() for s in raw.split(",")]
            if isinstance(doc, dict):
                return {int(k): str(v) for k, v in doc.items()}
            if isinstance(doc, list):
                return {i: str(v) for i, v in enumerate(doc)}
    out: dict[int, str] = {}
    for key, value in tags.items():
        upper = key.upper()
        if upper.startswith("CLASS_") and upper[6:].isdigit():
            out[int(upper[6:])] = str(value)
    return out
