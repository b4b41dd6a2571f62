"""The I/O seam of the domain core: the only module of :mod:`pipeline.core` that touches files.

* :func:`read_fields` / :func:`write_fields`: a field layer (GeoJSON) ↔ :class:`~pipeline.core.fields.FieldSet`,
  by the one rule of :mod:`pipeline.core.fields`, whichever command reads it.
* :func:`open_survey`, :func:`read_survey_meta`: the survey-folder contract (:mod:`pipeline.core.survey`).
* :func:`load_flight_fields`: a survey folder's flight, scene CRS, fields and metadata in one object.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from pyproj import CRS

from pipeline.common.geo import JGD2011_UTM53N, read_geojson_features, write_geojson_features
from pipeline.core.fields import FieldSet, fields_from_features, fields_to_features
from pipeline.core.flight import Flight, flight_of
from pipeline.core.survey import FIELDS_NAME, LABELS_NAME, SCENE_NAME, SurveyFolder
from pipeline.errors import InputError, SceneNotFoundError


def read_fields(path: Path | str, *, require_crop: bool = False) -> FieldSet:
    """Read a field layer (GeoJSON FeatureCollection; WGS84 or a legacy ``crs`` member).

    Raises:
        SceneNotFoundError: the file does not exist.
        InputError: not GeoJSON, or any feature breaks the rule of :mod:`pipeline.core.fields`
            (every problem listed).
    """
    features, crs = read_geojson_features(path)
    return fields_from_features(features, crs, source=str(path), require_crop=require_crop)


def write_fields(path: Path | str, fields: FieldSet) -> Path:
    """Write a field layer as WGS84 GeoJSON, atomically (inverse of :func:`read_fields`)."""
    return write_geojson_features(path, fields_to_features(fields))


def open_survey(path: Path | str, need_labels: bool = False) -> SurveyFolder:
    """Check that ``path`` is a survey folder and return it.

    Raises:
        SceneNotFoundError: the folder, its scene or its fields (or labels when ``need_labels``) are missing.
    """
    root = Path(path)
    if not root.is_dir():
        raise SceneNotFoundError(
            f"survey folder {str(root)!r} does not exist; create one with 'shimanto simulate survey --out {root}'"
        )
    survey = SurveyFolder(root)
    required = [survey.scene, survey.fields] + ([survey.labels] if need_labels else [])
    missing = [p.name for p in required if not p.is_file()]
    if missing:
        raise SceneNotFoundError(
            f"survey folder {str(root)!r} lacks {', '.join(missing)}; a survey folder needs "
            f"{SCENE_NAME}, {FIELDS_NAME}" + (f" and {LABELS_NAME}" if need_labels else "")
        )
    return survey


def read_survey_meta(survey: SurveyFolder) -> dict[str, Any]:
    """The parsed ``survey.json`` (empty when absent).

    Raises:
        InputError: the file is not a JSON object.
    """
    if not survey.meta_path.is_file():
        return {}
    try:
        data = json.loads(survey.meta_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{str(survey.meta_path)!r} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise InputError(f"{str(survey.meta_path)!r} must hold a JSON object")
    return data


def scene_crs(survey: SurveyFolder) -> CRS:
    """The CRS of ``scene.tif`` (EPSG:6690, JGD2011 UTM 53N, when the file carries none)."""
    import rasterio

    with rasterio.open(survey.scene) as src:
        return CRS.from_user_input(src.crs) if src.crs else JGD2011_UTM53N


@dataclass(frozen=True)
class FlightFields:
    """A flight read for reporting and publishing: the flight, its scene CRS, its fields in that CRS
    and its ``survey.json``."""

    flight: Flight
    crs: CRS
    fields: FieldSet
    meta: Mapping[str, Any]

    @property
    def survey(self) -> SurveyFolder:
        return self.flight.survey

    @property
    def date(self) -> Any:
        return self.flight.date


def load_flight_fields(path: Path | str, *, require_crop: bool = True) -> FlightFields:
    """Open a survey folder, date its flight and read its fields in the scene's CRS.

    Raises:
        SceneNotFoundError: the folder or a required file is missing.
        InputError: the fields break the rule of :mod:`pipeline.core.fields`, or the flight has no date.
    """
    survey = open_survey(path)
    meta = read_survey_meta(survey)
    crs = scene_crs(survey)
    fields = read_fields(survey.fields, require_crop=require_crop).to_crs(crs)
    flight = flight_of(survey.root, meta, str(survey.meta_path))
    return FlightFields(flight, crs, fields, MappingProxyType(meta))
