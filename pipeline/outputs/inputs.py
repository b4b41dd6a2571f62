"""Reading the stage inputs: survey fields, hotspots, index rasters, flight metadata.

Everything is returned as frozen dataclasses with geometries in both WGS84 (for
maps apps and open data) and the scene's projected CRS (for metres).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import rasterio
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from pipeline.common.geo import JGD2011_UTM53N, read_geojson_features, reproject_geometry
from pipeline.common.survey import SurveyFolder, open_survey
from pipeline.errors import InputError, SceneNotFoundError

CROPS = ("rice", "ginger")
HOTSPOTS_NAME = "hotspots.geojson"
CLASSES_NAME = "classes.tif"
PROBABILITY_NAME = "probability.tif"


@dataclass(frozen=True)
class Field:
    """One field of a survey.

    Attributes:
        field_id: The survey's field identifier (never published as is).
        crop: ``rice`` or ``ginger``.
        grower: The grower's name (personal).
        open_data: Whether the grower agreed to open data publication.
        wgs84: Polygon in lon/lat degrees.
        metric: Polygon in the scene's projected CRS (metres).
        properties: All input properties (personal; never published).
    """

    field_id: str
    crop: str
    grower: str
    open_data: bool
    wgs84: BaseGeometry
    metric: BaseGeometry
    properties: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def area_m2(self) -> float:
        return float(self.metric.area)


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


@dataclass(frozen=True)
class Flight:
    """One survey flight: its fields, date and metadata."""

    survey: SurveyFolder
    date: dt.date
    crs: CRS
    fields: tuple[Field, ...]
    meta: Mapping[str, Any]


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes", "y", "はい"}
    return bool(value) if value is not None else True


def flight_date(meta: Mapping[str, Any], where: str) -> dt.date:
    """The flight date from ``survey.json``'s ``date`` (ISO date or datetime)."""
    raw = meta.get("date")
    if raw is None:
        raise InputError(f"{where}: survey.json has no 'date'; add the flight date as YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(str(raw)[:10])
    except ValueError:
        raise InputError(f"{where}: survey.json date {raw!r} is not an ISO date; expected YYYY-MM-DD") from None


def scene_crs(survey: SurveyFolder) -> CRS:
    """The projected CRS of ``scene.tif`` (EPSG:6690 when the file carries none)."""
    with rasterio.open(survey.scene) as src:
        return CRS.from_user_input(src.crs) if src.crs else JGD2011_UTM53N


def load_flight(path: Path | str) -> Flight:
    """Open a survey folder and read its fields.

    Raises:
        SceneNotFoundError: the folder or a required file is missing.
        InputError: a field lacks ``field_id``/``crop`` or names an unknown crop.
    """
    survey = open_survey(path)
    meta = survey.meta()
    crs = scene_crs(survey)
    feats, src_crs = read_geojson_features(survey.fields)
    problems: list[str] = []
    fields: list[Field] = []
    seen: set[str] = set()
    for i, (geom, props) in enumerate(feats):
        fid, crop = props.get("field_id"), props.get("crop")
        if fid is None or str(fid).strip() == "":
            problems.append(f"feature {i} has no field_id")
            continue
        if crop not in CROPS:
            problems.append(f"field {fid!r} has crop {crop!r}, expected one of {', '.join(CROPS)}")
            continue
        if str(fid) in seen:
            problems.append(f"field_id {fid!r} appears twice")
            continue
        seen.add(str(fid))
        wgs84 = reproject_geometry(geom, src_crs, "EPSG:4326")
        fields.append(
            Field(
                field_id=str(fid),
                crop=str(crop),
                grower=str(props.get("grower") or "").strip(),
                open_data=_as_bool(props.get("open_data", True)),
                wgs84=wgs84,
                metric=reproject_geometry(wgs84, "EPSG:4326", crs),
                properties=MappingProxyType(dict(props)),
            )
        )
    if problems:
        raise InputError(f"{str(survey.fields)!r}: " + "; ".join(problems) + "; fix the field attributes")
    return Flight(survey, flight_date(meta, str(survey.meta_path)), crs, tuple(fields), MappingProxyType(meta))


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
